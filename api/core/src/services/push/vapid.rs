//! VAPID (RFC 8292): how a push service knows the messages for a subscription come from the
//! server the phone subscribed with. Each request carries `Authorization: vapid t=<ES256
//! JWT>, k=<public key>`, the JWT naming the push service's origin, an expiry and whom to
//! contact. The key pair is `XUNCHA_VAPID_PRIVATE_KEY`, or is derived from the token signing
//! secret, so that every instance sharing that secret signs with the same key (a phone
//! subscribed through one instance is reached by all).

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::EncodePrivateKey;
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::config::Settings;
use crate::services::push::{B64URL, b64url_decode};

/// How long a VAPID token is valid. RFC 8292 allows at most 24 hours; push services
/// refuse tokens that expire too far ahead.
pub const TOKEN_LIFETIME_SECS: i64 = 12 * 3600;

/// What the derivation of the key from the signing secret is bound to.
const DERIVATION_SALT: &[u8] = b"xuncha web push";
const DERIVATION_INFO: &[u8] = b"xuncha web push vapid key v1";

/// A VAPID key given as text: the base64url of a 32-byte P-256 scalar (the form
/// `web-push generate-vapid-keys` and most libraries print).
pub fn parse_private_key(raw: &str) -> Result<p256::SecretKey, String> {
    let bytes = b64url_decode(raw.trim())
        .ok_or_else(|| "expected the base64url of a 32-byte P-256 private key".to_owned())?;
    if bytes.len() != 32 {
        return Err(format!(
            "expected 32 bytes of a P-256 private key, got {}",
            bytes.len()
        ));
    }
    p256::SecretKey::from_slice(&bytes)
        .map_err(|_| "not a P-256 private key (zero, or not below the curve's order)".to_owned())
}

/// The key derived from the signing secret: HKDF-SHA256, expanded again with a counter in
/// the (vanishingly rare, about 2⁻³²) case that 32 bytes are not a valid scalar.
pub fn derive_private_key(signing_secret: &[u8]) -> p256::SecretKey {
    let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(Some(DERIVATION_SALT), signing_secret);
    let mut counter: u8 = 0;
    loop {
        let mut okm = [0u8; 32];
        let info = [DERIVATION_INFO, &[counter]].concat();
        // 32 bytes is far below HKDF-SHA256's limit of 255 × 32.
        if hkdf.expand(&info, &mut okm).is_ok()
            && let Ok(key) = p256::SecretKey::from_slice(&okm)
        {
            return key;
        }
        counter = counter.wrapping_add(1);
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    aud: &'a str,
    exp: i64,
    sub: &'a str,
}

/// This server's VAPID key pair and contact.
pub struct Vapid {
    encoding: EncodingKey,
    /// The uncompressed public point, base64url: the `k` of each request and the
    /// `applicationServerKey` phones subscribe with.
    public_key: String,
    subject: String,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid")
            .field("public_key", &self.public_key)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl Vapid {
    /// The configured key, or the one derived from `signing_secret`.
    pub fn new(settings: &Settings, signing_secret: &[u8]) -> Result<Self, String> {
        let secret = match &settings.vapid_private_key {
            Some(raw) => parse_private_key(raw.expose_secret())?,
            None => derive_private_key(signing_secret),
        };
        Self::from_key(&secret, settings.vapid_subject.clone())
    }

    pub fn from_key(secret: &p256::SecretKey, subject: String) -> Result<Self, String> {
        let der = secret
            .to_pkcs8_der()
            .map_err(|err| format!("encoding the VAPID key: {err}"))?;
        let point = secret.public_key().to_encoded_point(false);
        Ok(Self {
            encoding: EncodingKey::from_ec_der(der.as_bytes()),
            public_key: B64URL.encode(point.as_bytes()),
            subject,
        })
    }

    /// The base64url of the uncompressed public key.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The `Authorization` header for a request to `endpoint` at `now` (Unix seconds).
    pub fn authorization(&self, endpoint: &url::Url, now: i64) -> Result<String, String> {
        let audience = endpoint.origin().ascii_serialization();
        if audience == "null" {
            return Err(format!("{endpoint} has no origin"));
        }
        let claims = Claims {
            aud: &audience,
            exp: now + TOKEN_LIFETIME_SECS,
            sub: &self.subject,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &self.encoding)
            .map_err(|err| format!("signing the VAPID token: {err}"))?;
        Ok(format!("vapid t={token}, k={}", self.public_key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    #[derive(serde::Deserialize)]
    struct Read {
        aud: String,
        exp: i64,
        sub: String,
    }

    #[test]
    fn a_token_verifies_with_the_public_key_it_names() {
        let secret = derive_private_key(b"a signing secret of the tests, long enough");
        let vapid = Vapid::from_key(&secret, "mailto:ops@example.gov.cn".into()).unwrap();
        let endpoint = url::Url::parse("https://fcm.googleapis.com:443/fcm/send/abc").unwrap();
        let now = chrono::Utc::now().timestamp();
        let header = vapid.authorization(&endpoint, now).unwrap();
        let rest = header.strip_prefix("vapid t=").unwrap();
        let (token, key) = rest.split_once(", k=").unwrap();
        assert_eq!(key, vapid.public_key());
        let point = b64url_decode(key).unwrap();
        assert_eq!((point.len(), point[0]), (65, 4), "an uncompressed point");

        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&["https://fcm.googleapis.com"]);
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        let read =
            jsonwebtoken::decode::<Read>(token, &DecodingKey::from_ec_der(&point), &validation)
                .unwrap()
                .claims;
        assert_eq!(
            read.aud, "https://fcm.googleapis.com",
            "the origin, no default port"
        );
        assert_eq!(read.sub, "mailto:ops@example.gov.cn");
        assert_eq!(read.exp, now + TOKEN_LIFETIME_SECS);

        // Another key does not verify it.
        let other = Vapid::from_key(&derive_private_key(b"another secret"), String::new()).unwrap();
        let other_point = b64url_decode(other.public_key()).unwrap();
        assert!(
            jsonwebtoken::decode::<Read>(
                token,
                &DecodingKey::from_ec_der(&other_point),
                &validation
            )
            .is_err()
        );
    }

    #[test]
    fn the_derived_key_follows_the_signing_secret() {
        let one = derive_private_key(b"secret one");
        assert_eq!(one.to_bytes(), derive_private_key(b"secret one").to_bytes());
        assert_ne!(one.to_bytes(), derive_private_key(b"secret two").to_bytes());
    }

    #[test]
    fn a_configured_key_is_read_and_bad_ones_are_refused() {
        // A key as `web-push generate-vapid-keys` prints it, and its public half.
        let key = parse_private_key("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw").unwrap();
        let vapid = Vapid::from_key(&key, String::new()).unwrap();
        assert_eq!(b64url_decode(vapid.public_key()).unwrap().len(), 65);
        for bad in [
            "",
            "not base64!",
            "AAAA",
            // 32 zero bytes: not a scalar.
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            // 32 bytes above the curve's order.
            "__________________________________________8",
        ] {
            assert!(parse_private_key(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn an_endpoint_without_an_origin_gets_no_token() {
        let vapid = Vapid::from_key(&derive_private_key(b"x"), String::new()).unwrap();
        let odd = url::Url::parse("data:text/plain,hello").unwrap();
        assert!(vapid.authorization(&odd, 0).is_err());
    }
}
