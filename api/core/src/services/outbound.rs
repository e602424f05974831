//! Where the service may send requests of its own (webhooks, Web Push): public addresses
//! only, so that an admin's URL, a phone's push endpoint — or a name that later resolves
//! elsewhere — cannot reach the database, the embedded store, the cloud's metadata service
//! or anything else inside.
//! Checked at registration and again at every send, by the resolver the sender uses, so a
//! name is judged by what it resolves to at that moment. Networks named in
//! `XUNCHA_WEBHOOK_ALLOWED_NETWORKS` (webhooks) and `XUNCHA_PUSH_ALLOWED_NETWORKS` (push
//! endpoints, which any signed-in user names) are let through, each for its own.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;

use crate::error::Msg;

/// The networks, besides public ones, that outbound requests may reach.
#[derive(Clone, Debug, Default)]
pub struct OutboundPolicy {
    pub allowed: Vec<IpNet>,
}

impl OutboundPolicy {
    /// For webhooks, which admins configure.
    pub fn of(settings: &crate::config::Settings) -> Self {
        Self {
            allowed: settings.webhook_allowed_networks.clone(),
        }
    }

    /// For Web Push endpoints, which any signed-in user names.
    pub fn for_push(settings: &crate::config::Settings) -> Self {
        Self {
            allowed: settings.push_allowed_networks.clone(),
        }
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.allowed.iter().any(|net| net.contains(&ip))
    }

    /// Parses and checks a webhook URL: http(s), a host, no credentials, and every address
    /// the host has now is one this policy permits.
    pub async fn check_url(&self, raw: &str) -> Result<url::Url, Msg> {
        let url = url::Url::parse(raw.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && raw.len() <= 2000)
            .ok_or_else(|| {
                Msg::fixed(
                    "an http:// or https:// URL",
                    "须为 http:// 或 https:// 地址",
                )
            })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Msg::fixed(
                "no user or password in the URL",
                "地址中不能含用户名或密码",
            ));
        }
        let port = url.port_or_known_default().unwrap_or(80);
        // The WHATWG parser has already read decimal, hex and octal IPv4 spellings.
        let addresses: Vec<IpAddr> = match url.host() {
            None => return Err(Msg::fixed("a host is required", "须包含主机名")),
            Some(url::Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
            Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
            Some(url::Host::Domain(name)) => resolve(name, port)
                .await
                .map_err(|_| {
                    Msg::new(
                        format!("the host {name} cannot be resolved"),
                        format!("无法解析主机 {name}"),
                    )
                })?
                .into_iter()
                .map(|a| a.ip())
                .collect(),
        };
        match addresses.iter().find(|ip| !self.permits(**ip)) {
            Some(ip) => Err(Msg::new(
                format!(
                    "{ip} is not a public address; the server sends only to public addresses (and networks its operator allows)"
                ),
                format!("{ip} 不是公网地址；服务器只向公网地址（及运维允许的网络）发送"),
            )),
            None => Ok(url),
        }
    }

    /// An HTTP client that resolves through this policy, follows no redirect, ignores
    /// `HTTP(S)_PROXY` (a proxy would resolve the name itself, past the policy) and gives
    /// up after `timeout`. A URL whose host is an address literal is not resolved, so the
    /// sender checks it itself ([`OutboundPolicy::check_literal`]).
    pub fn client(&self, timeout: Duration) -> reqwest::Result<reqwest::Client> {
        reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: self.clone(),
            }))
            .build()
    }

    /// At send time, for a URL whose host is an address: permitted or not.
    pub fn check_literal(&self, raw: &str) -> Result<(), String> {
        let url = url::Url::parse(raw).map_err(|e| e.to_string())?;
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err("no host".into()),
        };
        if self.permits(ip) {
            Ok(())
        } else {
            Err(format!("{ip} is not a permitted address"))
        }
    }
}

async fn resolve(name: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    Ok(tokio::net::lookup_host((name, port)).await?.collect())
}

/// Resolves names for the webhook sender, refusing any name with an address the policy
/// does not permit (all of them are checked, so a name cannot mix one public address with
/// one inside).
struct GuardedResolver {
    policy: OutboundPolicy,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = resolve(&host, 0).await?;
            if let Some(bad) = addresses.iter().find(|a| !policy.permits(a.ip())) {
                return Err(
                    format!("{host} resolves to {}, not a permitted address", bad.ip()).into(),
                );
            }
            let addrs: reqwest::dns::Addrs = Box::new(addresses.into_iter());
            Ok(addrs)
        })
    }
}

/// A globally routable unicast address: not loopback, private, link-local (cloud
/// metadata), shared (carrier NAT), unspecified, multicast, broadcast, documentation,
/// benchmarking or reserved; IPv6 forms that carry an IPv4 address are judged by it.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || (a == 100 && (64..128).contains(&b)) // shared address space (RFC 6598)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    let embedded_v4 =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    match segments {
        // NAT64 (64:ff9b::/96) and IPv4-compatible (::a.b.c.d) carry an IPv4 address.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => return is_public_v4(embedded_v4(hi, lo)),
        // 6to4 (2002::/16) carries one in its second and third segments.
        [0x2002, hi, lo, ..] => return is_public_v4(embedded_v4(hi, lo)),
        _ => {}
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local
        || (segments[0] & 0xffc0) == 0xfe80 // link-local
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[0] == 0x64 && segments[1] == 0xff9b && segments[2] == 1) // local NAT64
        || (segments[0] == 0x2001 && segments[1] < 0x0200) // IETF protocol assignments, Teredo
        || segments[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible and the rest of ::/96
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_addresses_are_not_public() {
        for inside in [
            "127.0.0.1",
            "127.255.0.9",
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "64:ff9b:1::a00:1",
        ] {
            let ip: IpAddr = inside.parse().unwrap();
            assert!(!is_public(ip), "{inside} passed as public");
        }
        for public in [
            "8.8.8.8",
            "114.114.114.114",
            "2400:3200::1",
            "::ffff:1.2.3.4",
        ] {
            let ip: IpAddr = public.parse().unwrap();
            assert!(is_public(ip), "{public} refused");
        }
    }

    #[tokio::test]
    async fn every_spelling_of_an_inside_address_is_refused() {
        let policy = OutboundPolicy::default();
        for url in [
            "http://127.0.0.1:9000/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0x7f.1/",
            "http://017700000001/",
            "http://127.1/",
            "http://[::1]/",
            "http://[::ffff:7f00:1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://0/",
            "http://localhost:5432/",
            "http:///nohost",
            "file:///etc/passwd",
            "http://user:pw@8.8.8.8/",
        ] {
            assert!(policy.check_url(url).await.is_err(), "{url} accepted");
        }
        assert!(policy.check_url("https://8.8.8.8/hook").await.is_ok());
    }

    #[tokio::test]
    async fn an_allowed_network_lets_its_receivers_through() {
        let policy = OutboundPolicy {
            allowed: vec!["127.0.0.0/8".parse().unwrap()],
        };
        assert!(policy.check_url("http://127.0.0.1:8000/hook").await.is_ok());
        assert!(policy.check_url("http://10.0.0.1/hook").await.is_err());
        assert!(policy.check_literal("http://127.0.0.1:1/").is_ok());
        assert!(
            OutboundPolicy::default()
                .check_literal("http://[::1]:1/")
                .is_err()
        );
    }
}
