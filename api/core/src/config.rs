//! Settings from `XUNCHA_*` variables. Every setting has a default that needs nothing
//! installed; a bad value stops the start with one line naming the variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

/// The whole configuration of one instance.
#[derive(Clone, Debug)]
pub struct Settings {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub database_max_connections: u32,
    /// `None`: run the embedded S3-protocol store over `data_dir/objects`.
    pub s3: Option<S3Settings>,
    pub s3_bucket: String,
    /// `None`: generated once and kept in `data_dir/jwt-secret`.
    pub jwt_secret: Option<SecretString>,
    /// The Ed25519 key that signs case histories (its 32-byte seed, base64); `None`:
    /// generated once and kept in `data_dir/evidence-signing-key`.
    pub evidence_signing_key: Option<SecretString>,
    pub timezone: chrono_tz::Tz,
    pub admin_password: Option<SecretString>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// A spent refresh token presented again this soon after it was spent gets a new pair
    /// (its answer was lost on the way to the phone); later, it revokes its sign-in.
    pub refresh_reuse_grace: Duration,
    /// How long a case filed without a photo waits for its first "before" photo before
    /// it reaches its assignee anyway.
    pub dispatch_wait: Duration,
    /// How long the grid's inspector (or the filer) has to verify a rectification before
    /// it is escalated to supervisors (核查时限).
    pub verify_within: Duration,
    /// The oldest client version (semantic) this server serves, as `GET /limits` states.
    pub oldest_client_version: String,
    /// Requests allowed from one client address (a whole district may share one).
    pub rate_limit_per_address: crate::limits::Rate,
    /// Requests allowed to one account, wherever they come from.
    pub rate_limit_per_account: crate::limits::Rate,
    /// Failed sign-ins from one address in 15 minutes before it is locked.
    pub signin_failures_per_address: i32,
    /// Where instances share their request counts; `None`: each counts in memory.
    pub redis_url: Option<SecretString>,
    /// Proxies whose `X-Forwarded-For` tells the client's address; empty: believe none.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub log_format: LogFormat,
    /// How long a request body may take: this grace, plus the time its bytes need at
    /// `body_min_bytes_per_second`, never more than `body_max`.
    pub body_grace: Duration,
    pub body_min_bytes_per_second: u32,
    pub body_max: Duration,
    /// Upload bytes held in memory at once across all requests; past it, 503.
    pub upload_buffer_bytes: u64,
    /// Password hashes (19 MiB each) computed at once; past it, 503.
    pub password_hash_concurrency: usize,
    /// Networks that webhooks may reach although they are not public (loopback, private…).
    pub webhook_allowed_networks: Vec<ipnet::IpNet>,
    /// Networks that Web Push endpoints may reach although they are not public. Apart from
    /// the webhooks' list: any signed-in user names a push endpoint, only admins a webhook.
    pub push_allowed_networks: Vec<ipnet::IpNet>,
    /// The address clients reach this service at, for documents that name it (Open311
    /// discovery); `None`: the request's `Host`.
    pub public_url: Option<String>,
    /// SQLite's `synchronous`: `full` (default) makes every acknowledged commit survive a
    /// power cut; `normal` is faster and may lose the last commits.
    pub sqlite_synchronous: SqliteDurability,
    /// The Web Push (VAPID) signing key, 32 bytes of a P-256 scalar; `None`: derived from
    /// the token signing secret, so instances sharing that secret share this key.
    pub vapid_private_key: Option<SecretString>,
    /// Who runs this server, for push services to contact (`mailto:` or `https:`).
    pub vapid_subject: String,
    /// The base tiles the web app's maps draw on; `None`: boundaries and cases on a plain
    /// background, which needs no internet.
    pub map_tiles: Option<MapTiles>,
}

/// Base map tiles (天地图, 高德 …): a Leaflet URL template and how to draw on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapTiles {
    /// `https://t{s}.tianditu.gov.cn/…{z}…{x}…{y}…` (`{-y}` for TMS rows, `{s}` a
    /// subdomain, `{r}` a retina suffix).
    pub url: String,
    /// The frame the tiles are drawn in: `Wgs84` (天地图, CGCS2000 being within
    /// centimetres of it) or `Gcj02` (高德, 腾讯), which the app shifts everything into.
    pub crs: crate::domain::Crs,
    /// Plain text shown in the map's corner (the provider's terms ask for it).
    pub attribution: String,
    /// What `{s}` takes, in turn (`["0", "1", …]`).
    pub subdomains: Vec<String>,
}

impl MapTiles {
    /// Every origin tiles come from (`https://t0.tianditu.gov.cn` …, one per subdomain when
    /// the host names `{s}`): what the pages' Content-Security-Policy lets images load from.
    pub fn origins(&self) -> Vec<String> {
        tile_origins(&self.url, &self.subdomains).unwrap_or_default()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqliteDurability {
    Full,
    Normal,
}

/// An external S3-compatible store (MinIO, Ceph, AWS S3 …).
#[derive(Clone, Debug)]
pub struct S3Settings {
    pub endpoint: String,
    /// Where phones reach the store, for the presigned URLs of direct uploads (the
    /// endpoint itself unless `XUNCHA_S3_PUBLIC_ENDPOINT` says otherwise).
    pub public_endpoint: String,
    pub region: String,
    pub access_key_id: SecretString,
    pub secret_access_key: SecretString,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// A setting that cannot be used, with the variable that holds it.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can configure an app without touching the
    /// process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let bind = parse_or(&get, "XUNCHA_BIND", "127.0.0.1:8080".parse().ok(), |v| {
            v.parse::<SocketAddr>()
                .map_err(|_| "expected an address such as 127.0.0.1:8080".to_owned())
        })?;
        let data_dir = PathBuf::from(get("XUNCHA_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = match get("XUNCHA_DATABASE_URL") {
            Some(url) if url.starts_with("sqlite:") || url.starts_with("postgres") => url,
            Some(_) => {
                return Err(ConfigError {
                    variable: "XUNCHA_DATABASE_URL",
                    problem: "expected a sqlite:// or postgres:// URL".into(),
                });
            }
            None => format!("sqlite://{}?mode=rwc", data_dir.join("xuncha.db").display()),
        };
        let database_max_connections =
            parse_or(&get, "XUNCHA_DATABASE_MAX_CONNECTIONS", Some(10), |v| {
                parse_in_range(v, 1, 1000)
            })?;

        let s3 = match get("XUNCHA_S3_ENDPOINT") {
            None => None,
            Some(endpoint) => {
                if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                    return Err(ConfigError {
                        variable: "XUNCHA_S3_ENDPOINT",
                        problem: "expected an http:// or https:// URL".into(),
                    });
                }
                let required = |variable: &'static str| {
                    get(variable).ok_or_else(|| ConfigError {
                        variable,
                        problem: "required when XUNCHA_S3_ENDPOINT is set".into(),
                    })
                };
                let public_endpoint = match get("XUNCHA_S3_PUBLIC_ENDPOINT") {
                    None => endpoint.clone(),
                    Some(public)
                        if public.starts_with("http://") || public.starts_with("https://") =>
                    {
                        public
                    }
                    Some(_) => {
                        return Err(ConfigError {
                            variable: "XUNCHA_S3_PUBLIC_ENDPOINT",
                            problem: "expected an http:// or https:// URL".into(),
                        });
                    }
                };
                Some(S3Settings {
                    endpoint,
                    public_endpoint,
                    region: get("XUNCHA_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
                    access_key_id: required("XUNCHA_S3_ACCESS_KEY_ID")?.into(),
                    secret_access_key: required("XUNCHA_S3_SECRET_ACCESS_KEY")?.into(),
                })
            }
        };
        let s3_bucket = get("XUNCHA_S3_BUCKET").unwrap_or_else(|| "xuncha".into());
        if !valid_bucket_name(&s3_bucket) {
            return Err(ConfigError {
                variable: "XUNCHA_S3_BUCKET",
                problem: "expected 3-63 lowercase letters, digits, '-' or '.'".into(),
            });
        }

        let jwt_secret = get("XUNCHA_JWT_SECRET");
        if jwt_secret.as_ref().is_some_and(|s| s.len() < 32) {
            return Err(ConfigError {
                variable: "XUNCHA_JWT_SECRET",
                problem: "must be at least 32 characters".into(),
            });
        }
        let evidence_signing_key = get("XUNCHA_EVIDENCE_SIGNING_KEY");
        if let Some(key) = &evidence_signing_key
            && let Err(problem) = crate::services::evidence::parse_seed(key)
        {
            return Err(ConfigError {
                variable: "XUNCHA_EVIDENCE_SIGNING_KEY",
                problem,
            });
        }
        let timezone = parse_or(
            &get,
            "XUNCHA_TIMEZONE",
            Some(chrono_tz::Asia::Shanghai),
            |v| {
                v.parse::<chrono_tz::Tz>()
                    .map_err(|_| "expected an IANA time zone such as Asia/Shanghai".to_owned())
            },
        )?;
        let admin_password = get("XUNCHA_ADMIN_PASSWORD");
        if let Some(password) = &admin_password {
            crate::domain::NewPassword::parse(password).map_err(|problem| ConfigError {
                variable: "XUNCHA_ADMIN_PASSWORD",
                problem: problem.en.into_owned(),
            })?;
        }
        let access_token_ttl = Duration::from_secs(parse_or(
            &get,
            "XUNCHA_ACCESS_TOKEN_TTL_SECONDS",
            Some(900),
            |v| parse_in_range(v, 30, 86_400),
        )?);
        let refresh_token_ttl = Duration::from_secs(
            86_400
                * parse_or(&get, "XUNCHA_REFRESH_TOKEN_TTL_DAYS", Some(30), |v| {
                    parse_in_range(v, 1, 365)
                })?,
        );
        let refresh_reuse_grace = Duration::from_secs(parse_or(
            &get,
            "XUNCHA_REFRESH_REUSE_GRACE_SECONDS",
            Some(60),
            |v| parse_in_range(v, 0, 600),
        )?);
        let dispatch_wait = Duration::from_secs(parse_or(
            &get,
            "XUNCHA_DISPATCH_WAIT_SECONDS",
            Some(600),
            |v| parse_in_range(v, 0, 86_400),
        )?);
        let verify_within = Duration::from_secs(
            3600 * parse_or(&get, "XUNCHA_VERIFY_WITHIN_HOURS", Some(24), |v| {
                parse_in_range(v, 1, 720)
            })?,
        );
        let oldest_client_version = parse_or(
            &get,
            "XUNCHA_OLDEST_CLIENT_VERSION",
            Some("1.0.0".to_owned()),
            |v| {
                let parts: Vec<&str> = v.split('.').collect();
                let numeric = parts.len() == 3
                    && parts.iter().all(|p| {
                        !p.is_empty() && p.len() <= 6 && p.bytes().all(|b| b.is_ascii_digit())
                    });
                numeric
                    .then(|| v.to_owned())
                    .ok_or_else(|| "expected a version such as 1.4.0".to_owned())
            },
        )?;
        let rate = |per_second: &'static str, burst: &'static str, defaults: (u32, u32)| {
            Ok::<_, ConfigError>(crate::limits::Rate {
                per_second: parse_or(&get, per_second, Some(defaults.0), |v| {
                    parse_in_range(v, 1, 1_000_000)
                })?,
                burst: parse_or(&get, burst, Some(defaults.1), |v| {
                    parse_in_range(v, 1, 1_000_000)
                })?,
            })
        };
        let rate_limit_per_address = rate(
            "XUNCHA_RATE_LIMIT_PER_SECOND",
            "XUNCHA_RATE_LIMIT_BURST",
            (500, 2000),
        )?;
        let rate_limit_per_account = rate(
            "XUNCHA_ACCOUNT_RATE_LIMIT_PER_SECOND",
            "XUNCHA_ACCOUNT_RATE_LIMIT_BURST",
            (20, 200),
        )?;
        let signin_failures_per_address =
            parse_or(&get, "XUNCHA_SIGNIN_FAILURES_PER_ADDRESS", Some(200), |v| {
                parse_in_range(v, 1, 1_000_000)
            })?;
        let redis_url = get("XUNCHA_REDIS_URL")
            .filter(|url| !url.trim().is_empty())
            .map(|url| SecretString::from(url.trim().to_owned()));
        if get("XUNCHA_TRUST_FORWARDED_FOR").is_some() {
            return Err(ConfigError {
                variable: "XUNCHA_TRUST_FORWARDED_FOR",
                problem: "replaced by XUNCHA_TRUSTED_PROXIES (the proxies' networks)".into(),
            });
        }
        let trusted_proxies = parse_or(&get, "XUNCHA_TRUSTED_PROXIES", Some(Vec::new()), |v| {
            parse_networks(v)
        })?;
        let log_format = parse_or(
            &get,
            "XUNCHA_LOG_FORMAT",
            Some(LogFormat::Text),
            |v| match v {
                "text" => Ok(LogFormat::Text),
                "json" => Ok(LogFormat::Json),
                _ => Err("expected text or json".to_owned()),
            },
        )?;

        let body_grace = Duration::from_secs(parse_or(
            &get,
            "XUNCHA_BODY_TIMEOUT_SECONDS",
            Some(30),
            |v| parse_in_range(v, 1, 3600),
        )?);
        let body_min_bytes_per_second =
            parse_or(&get, "XUNCHA_BODY_MIN_BYTES_PER_SECOND", Some(4096), |v| {
                parse_in_range(v, 1, 1 << 30)
            })?;
        let body_max =
            Duration::from_secs(parse_or(&get, "XUNCHA_BODY_MAX_SECONDS", Some(900), |v| {
                parse_in_range(v, 1, 86_400)
            })?);
        let upload_buffer_bytes = 1024
            * 1024
            // At least one upload of the largest size (9 × 20 MiB and its part headers).
            * parse_or(&get, "XUNCHA_UPLOAD_BUFFER_MIB", Some(256u64), |v| {
                parse_in_range(v, 192, 65_536)
            })?;
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let password_hash_concurrency =
            parse_or(&get, "XUNCHA_PASSWORD_HASH_CONCURRENCY", Some(cores), |v| {
                parse_in_range(v, 1, 256)
            })?;
        let webhook_allowed_networks = parse_or(
            &get,
            "XUNCHA_WEBHOOK_ALLOWED_NETWORKS",
            Some(Vec::new()),
            parse_networks,
        )?;
        let push_allowed_networks = parse_or(
            &get,
            "XUNCHA_PUSH_ALLOWED_NETWORKS",
            Some(Vec::new()),
            parse_networks,
        )?;
        let public_url = match get("XUNCHA_PUBLIC_URL") {
            None => None,
            Some(url) => {
                let parsed = url::Url::parse(url.trim()).ok().filter(|u| {
                    matches!(u.scheme(), "http" | "https")
                        && u.host().is_some()
                        && u.query().is_none()
                        && u.fragment().is_none()
                });
                if parsed.is_none() {
                    return Err(ConfigError {
                        variable: "XUNCHA_PUBLIC_URL",
                        problem: "expected an http:// or https:// URL such as https://xuncha.example.gov.cn".into(),
                    });
                }
                Some(url.trim().trim_end_matches('/').to_owned())
            }
        };
        let sqlite_synchronous = parse_or(
            &get,
            "XUNCHA_SQLITE_SYNCHRONOUS",
            Some(SqliteDurability::Full),
            |v| match v {
                "full" => Ok(SqliteDurability::Full),
                "normal" => Ok(SqliteDurability::Normal),
                _ => Err("expected full or normal".to_owned()),
            },
        )?;

        let vapid_private_key = match get("XUNCHA_VAPID_PRIVATE_KEY") {
            None => None,
            Some(raw) => {
                let key = raw.trim().to_owned();
                crate::services::push::vapid::parse_private_key(&key).map_err(|problem| {
                    ConfigError {
                        variable: "XUNCHA_VAPID_PRIVATE_KEY",
                        problem,
                    }
                })?;
                Some(SecretString::from(key))
            }
        };
        // Push services write to this address about a misbehaving sender; the public URL
        // names the city's deployment when nothing better is said.
        let default_subject = public_url
            .as_deref()
            .filter(|url| url.starts_with("https://"))
            .map_or_else(|| DEFAULT_VAPID_SUBJECT.to_owned(), str::to_owned);
        let vapid_subject = parse_or(&get, "XUNCHA_VAPID_SUBJECT", Some(default_subject), |v| {
            let allowed = (v.starts_with("mailto:") && v.len() > 7 && v.contains('@'))
                || url::Url::parse(v).is_ok_and(|u| u.scheme() == "https" && u.host().is_some());
            (allowed && v.len() <= 200 && !v.chars().any(|c| c.is_whitespace() || c.is_control()))
                .then(|| v.to_owned())
                .ok_or_else(|| {
                    "expected a mailto: address or an https: URL such as mailto:ops@example.gov.cn"
                        .to_owned()
                })
        })?;
        let map_tiles = parse_map_tiles(&get)?;

        Ok(Self {
            bind,
            data_dir,
            database_url,
            database_max_connections,
            s3,
            s3_bucket,
            jwt_secret: jwt_secret.map(SecretString::from),
            evidence_signing_key: evidence_signing_key.map(SecretString::from),
            timezone,
            admin_password: admin_password.map(SecretString::from),
            access_token_ttl,
            refresh_token_ttl,
            refresh_reuse_grace,
            dispatch_wait,
            verify_within,
            oldest_client_version,
            rate_limit_per_address,
            rate_limit_per_account,
            signin_failures_per_address,
            redis_url,
            trusted_proxies,
            log_format,
            body_grace,
            body_min_bytes_per_second,
            body_max,
            upload_buffer_bytes,
            password_hash_concurrency,
            webhook_allowed_networks,
            push_allowed_networks,
            public_url,
            sqlite_synchronous,
            vapid_private_key,
            vapid_subject,
            map_tiles,
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// The VAPID subject when neither `XUNCHA_VAPID_SUBJECT` nor an https `XUNCHA_PUBLIC_URL`
/// is set: a valid `mailto:` that reaches nobody, so set one in production.
pub const DEFAULT_VAPID_SUBJECT: &str = "mailto:xuncha-operator@example.com";

/// Leaflet's own default for `{s}`.
const DEFAULT_SUBDOMAINS: &str = "abc";

/// The tile settings: the template, then what goes with it. The others are read (and a bad
/// value refused) even without a template, so that a typo does not wait for the day the
/// tiles are switched on.
fn parse_map_tiles(get: &impl Fn(&str) -> Option<String>) -> Result<Option<MapTiles>, ConfigError> {
    let crs = parse_or(
        get,
        "XUNCHA_MAP_TILES_CRS",
        Some(crate::domain::Crs::Wgs84),
        |v| match v {
            "wgs84" => Ok(crate::domain::Crs::Wgs84),
            "gcj02" => Ok(crate::domain::Crs::Gcj02),
            _ => Err("expected wgs84 (天地图) or gcj02 (高德, 腾讯)".to_owned()),
        },
    )?;
    let subdomains = parse_or(get, "XUNCHA_MAP_SUBDOMAINS", Some(vec![]), parse_subdomains)?;
    let attribution = parse_or(get, "XUNCHA_MAP_ATTRIBUTION", Some(String::new()), |v| {
        (v.chars().count() <= 300 && !v.chars().any(char::is_control))
            .then(|| v.to_owned())
            .ok_or_else(|| "expected one line of text, at most 300 characters".to_owned())
    })?;
    let Some(raw) = get("XUNCHA_MAP_TILES") else {
        return Ok(None);
    };
    let url = raw.trim().to_owned();
    let subdomains = if subdomains.is_empty() {
        DEFAULT_SUBDOMAINS.chars().map(String::from).collect()
    } else {
        subdomains
    };
    check_tile_template(&url)
        .and_then(|()| tile_origins(&url, &subdomains).map(|_| ()))
        .map_err(|problem| ConfigError {
            variable: "XUNCHA_MAP_TILES",
            problem,
        })?;
    Ok(Some(MapTiles {
        url,
        crs,
        attribution,
        subdomains,
    }))
}

const TEMPLATE_EXAMPLE: &str = "expected an https:// (or http://) tile URL template with {z}, {x} and {y}, such as \
    https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY";

/// A template Leaflet can fill: http(s), one line, and only the placeholders it knows
/// (an unknown one makes Leaflet throw on every tile).
fn check_tile_template(url: &str) -> Result<(), String> {
    if !(url.starts_with("https://") || url.starts_with("http://"))
        || url.len() > 2000
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(TEMPLATE_EXAMPLE.to_owned());
    }
    let mut names = Vec::new();
    let mut rest = url;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            return Err(format!("an unclosed {{ in {url}"));
        };
        names.push(&rest[start + 1..start + len]);
        rest = &rest[start + len + 1..];
    }
    if rest.contains('}') {
        return Err(format!("an unopened }} in {url}"));
    }
    if let Some(unknown) = names
        .iter()
        .find(|n| !["s", "z", "x", "y", "-y", "r"].contains(n))
    {
        return Err(format!(
            "unknown placeholder {{{unknown}}}: the template may use {{s}} {{z}} {{x}} {{y}} {{-y}} {{r}}"
        ));
    }
    let has = |n: &str| names.contains(&n);
    if !(has("z") && has("x") && (has("y") || has("-y"))) {
        return Err(TEMPLATE_EXAMPLE.to_owned());
    }
    Ok(())
}

/// The origins a template's tiles come from, one per subdomain when its host names `{s}`.
fn tile_origins(url: &str, subdomains: &[String]) -> Result<Vec<String>, String> {
    let filled = |s: &str| {
        url.replace("{s}", s)
            .replace("{z}", "1")
            .replace("{x}", "1")
            .replace("{-y}", "1")
            .replace("{y}", "1")
            .replace("{r}", "")
    };
    let mut origins: Vec<String> = Vec::new();
    for s in subdomains {
        let parsed =
            url::Url::parse(&filled(s)).map_err(|e| format!("{e} in {url} (with {{s}} = {s})"))?;
        if parsed.host().is_none() || !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(TEMPLATE_EXAMPLE.to_owned());
        }
        let origin = parsed.origin().ascii_serialization();
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    Ok(origins)
}

/// `01234567` (each character one) or `t0,t1,t2` (comma-separated): host labels only.
fn parse_subdomains(raw: &str) -> Result<Vec<String>, String> {
    let parts: Vec<String> = if raw.contains(',') {
        raw.split(',').map(|p| p.trim().to_owned()).collect()
    } else {
        raw.chars().map(String::from).collect()
    };
    let label = |p: &String| {
        (1..=63).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if parts.is_empty() || parts.len() > 26 || !parts.iter().all(label) {
        return Err(
            "expected subdomains such as 01234567 (one per character) or t0,t1,t2 (at most 26)"
                .to_owned(),
        );
    }
    Ok(parts)
}

/// Networks such as `10.0.0.0/8,fd00::/8` (a bare address is its own network).
fn parse_networks(raw: &str) -> Result<Vec<ipnet::IpNet>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            n.parse::<ipnet::IpNet>()
                .or_else(|_| n.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("expected networks such as 10.0.0.0/8,fd00::/8; got {n}"))
        })
        .collect()
}

fn parse_or<T>(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: Option<T>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    match get(variable) {
        Some(raw) => parse(raw.trim()).map_err(|problem| ConfigError { variable, problem }),
        None => default.ok_or_else(|| ConfigError {
            variable,
            problem: "required".into(),
        }),
    }
}

fn parse_in_range<T>(raw: &str, min: T, max: T) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match raw.parse::<T>() {
        Ok(value) if value >= min && value <= max => Ok(value),
        _ => Err(format!("expected a whole number from {min} to {max}")),
    }
}

fn valid_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && !name.starts_with(['-', '.'])
        && !name.ends_with(['-', '.'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_need_nothing_installed() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert!(s.database_url.starts_with("sqlite://"));
        assert!(s.database_url.ends_with("xuncha.db?mode=rwc"));
        assert!(s.s3.is_none());
        assert_eq!(s.timezone, chrono_tz::Asia::Shanghai);
    }

    #[test]
    fn a_bad_setting_names_its_variable() {
        for (vars, variable) in [
            (vec![("XUNCHA_BIND", "nowhere")], "XUNCHA_BIND"),
            (
                vec![("XUNCHA_DATABASE_URL", "mysql://x")],
                "XUNCHA_DATABASE_URL",
            ),
            (vec![("XUNCHA_TIMEZONE", "Mars/Olympus")], "XUNCHA_TIMEZONE"),
            (vec![("XUNCHA_JWT_SECRET", "short")], "XUNCHA_JWT_SECRET"),
            (
                vec![("XUNCHA_S3_ENDPOINT", "http://127.0.0.1:9000")],
                "XUNCHA_S3_ACCESS_KEY_ID",
            ),
            (vec![("XUNCHA_S3_BUCKET", "Bad_Bucket")], "XUNCHA_S3_BUCKET"),
            (
                vec![("XUNCHA_ADMIN_PASSWORD", "abc")],
                "XUNCHA_ADMIN_PASSWORD",
            ),
            (
                vec![("XUNCHA_RATE_LIMIT_PER_SECOND", "0")],
                "XUNCHA_RATE_LIMIT_PER_SECOND",
            ),
            (
                vec![("XUNCHA_WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/33")],
                "XUNCHA_WEBHOOK_ALLOWED_NETWORKS",
            ),
            (
                vec![("XUNCHA_PUBLIC_URL", "ftp://example.org")],
                "XUNCHA_PUBLIC_URL",
            ),
            (
                vec![("XUNCHA_SQLITE_SYNCHRONOUS", "off")],
                "XUNCHA_SQLITE_SYNCHRONOUS",
            ),
            (
                vec![("XUNCHA_UPLOAD_BUFFER_MIB", "1")],
                "XUNCHA_UPLOAD_BUFFER_MIB",
            ),
            (
                vec![("XUNCHA_VAPID_SUBJECT", "ops@example.gov.cn")],
                "XUNCHA_VAPID_SUBJECT",
            ),
            (
                vec![("XUNCHA_VAPID_SUBJECT", "http://example.gov.cn")],
                "XUNCHA_VAPID_SUBJECT",
            ),
            (
                vec![("XUNCHA_VAPID_PRIVATE_KEY", "not-a-key")],
                "XUNCHA_VAPID_PRIVATE_KEY",
            ),
            (
                // 32 bytes, but above the curve's order: not a scalar.
                vec![(
                    "XUNCHA_VAPID_PRIVATE_KEY",
                    "__________________________________________8",
                )],
                "XUNCHA_VAPID_PRIVATE_KEY",
            ),
            (
                vec![(
                    "XUNCHA_MAP_TILES",
                    "ftp://tiles.example.org/{z}/{x}/{y}.png",
                )],
                "XUNCHA_MAP_TILES",
            ),
            (
                vec![("XUNCHA_MAP_TILES", "https://tiles.example.org/{z}/{x}.png")],
                "XUNCHA_MAP_TILES",
            ),
            (
                vec![(
                    "XUNCHA_MAP_TILES",
                    "https://tiles.example.org/{z}/{x}/{y}{ext}",
                )],
                "XUNCHA_MAP_TILES",
            ),
            (
                vec![(
                    "XUNCHA_MAP_TILES",
                    "https://tiles.example.org:99999/{z}/{x}/{y}.png",
                )],
                "XUNCHA_MAP_TILES",
            ),
            (
                vec![("XUNCHA_MAP_TILES_CRS", "bd09")],
                "XUNCHA_MAP_TILES_CRS",
            ),
            (
                vec![("XUNCHA_MAP_SUBDOMAINS", "a.b,c")],
                "XUNCHA_MAP_SUBDOMAINS",
            ),
            (
                vec![("XUNCHA_MAP_ATTRIBUTION", "line\nbreak")],
                "XUNCHA_MAP_ATTRIBUTION",
            ),
        ] {
            let err = settings(&vars).unwrap_err();
            assert_eq!(err.variable, variable, "{err}");
            assert!(err.to_string().starts_with(variable));
        }
    }

    #[test]
    fn map_tiles_name_the_origins_their_images_come_from() {
        assert!(settings(&[]).unwrap().map_tiles.is_none());
        let tiles = settings(&[
            (
                "XUNCHA_MAP_TILES",
                "https://t{s}.tianditu.gov.cn/vec_w/wmts?TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=k",
            ),
            ("XUNCHA_MAP_SUBDOMAINS", "012"),
            ("XUNCHA_MAP_ATTRIBUTION", "© 天地图"),
        ])
        .unwrap()
        .map_tiles
        .unwrap();
        assert_eq!(tiles.crs, crate::domain::Crs::Wgs84);
        assert_eq!(tiles.subdomains, ["0", "1", "2"]);
        assert_eq!(
            tiles.origins(),
            [
                "https://t0.tianditu.gov.cn",
                "https://t1.tianditu.gov.cn",
                "https://t2.tianditu.gov.cn"
            ]
        );
        let amap = settings(&[
            (
                "XUNCHA_MAP_TILES",
                "http://webrd0{s}.is.autonavi.com:8080/appmaptile?style=8&x={x}&y={y}&z={z}",
            ),
            ("XUNCHA_MAP_TILES_CRS", "gcj02"),
            ("XUNCHA_MAP_SUBDOMAINS", "1,2"),
        ])
        .unwrap()
        .map_tiles
        .unwrap();
        assert_eq!(amap.crs, crate::domain::Crs::Gcj02);
        assert_eq!(
            amap.origins(),
            [
                "http://webrd01.is.autonavi.com:8080",
                "http://webrd02.is.autonavi.com:8080"
            ]
        );
        // {s} in the path only: one origin; Leaflet's own subdomains by default.
        let one = settings(&[(
            "XUNCHA_MAP_TILES",
            "https://tiles.example.org/{s}/{z}/{x}/{-y}{r}.png",
        )])
        .unwrap()
        .map_tiles
        .unwrap();
        assert_eq!(one.subdomains, ["a", "b", "c"]);
        assert_eq!(one.origins(), ["https://tiles.example.org"]);
    }

    #[test]
    fn secrets_are_never_printed() {
        let s = settings(&[
            ("XUNCHA_S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("XUNCHA_S3_ACCESS_KEY_ID", "access-key-id-value"),
            ("XUNCHA_S3_SECRET_ACCESS_KEY", "secret-access-key-value"),
            (
                "XUNCHA_JWT_SECRET",
                "jwt-secret-value-that-is-long-enough-123",
            ),
            ("XUNCHA_ADMIN_PASSWORD", "admin-password-value"),
            (
                "XUNCHA_VAPID_PRIVATE_KEY",
                "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
            ),
        ])
        .unwrap();
        let printed = format!("{s:?} {s:#?}");
        for secret in [
            "access-key-id-value",
            "secret-access-key-value",
            "jwt-secret-value",
            "admin-password-value",
            "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
        ] {
            assert!(!printed.contains(secret), "{secret} printed: {printed}");
        }
        assert!(printed.contains("REDACTED"));
    }

    #[test]
    fn an_external_store_is_configuration_only() {
        let s = settings(&[
            ("XUNCHA_S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("XUNCHA_S3_ACCESS_KEY_ID", "minio"),
            ("XUNCHA_S3_SECRET_ACCESS_KEY", "minio123"),
            (
                "XUNCHA_DATABASE_URL",
                "postgres://postgres@127.0.0.1/xuncha",
            ),
        ])
        .unwrap();
        let s3 = s.s3.unwrap();
        assert_eq!(s3.region, "us-east-1");
        assert!(!s.database_url.starts_with("sqlite"));
    }
}
