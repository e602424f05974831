//! The caller's address, and the request rates it and its account are held to.
//! `X-Forwarded-For` is believed only from the proxies `XUNCHA_TRUSTED_PROXIES` names, and
//! only as far as the hops they added: otherwise a client could pick its own address and
//! dodge every limit.

use std::net::{IpAddr, SocketAddr};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, web};
use ipnet::IpNet;

use xuncha_core::limits::Verdict;

use crate::error::{ApiError, Error, ErrorCode, lang_of};
use crate::state::AppState;

/// The client's address: the TCP peer, or — when the peer is a trusted proxy — the
/// nearest address in `X-Forwarded-For` that is not one of the trusted proxies.
pub fn address(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            // What a trusted proxy wrote ends here; the rest is the client's say.
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    Some(client)
}

/// Whether the request came through a trusted proxy (which may then say the scheme).
pub fn through_trusted_proxy(req: &HttpRequest, trusted: &[IpNet]) -> bool {
    req.peer_addr()
        .is_some_and(|peer| trusted.iter().any(|net| net.contains(&peer.ip())))
}

/// The address as text, for sign-in throttling and logs.
pub fn address_text(req: &HttpRequest, trusted: &[IpNet]) -> String {
    address(req, trusted).map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|addr| addr.ip()))
        .ok()
}

/// Middleware: counts each request against its address's rate and, when it carries a
/// valid access token, its account's; past either, 429 with `Retry-After`.
pub async fn limit_rate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(ip) = address(req.request(), &state.settings.trusted_proxies) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let account = crate::auth::bearer_token(req.request())
        .and_then(|token| state.jwt.verify(&token))
        .map(|claims| claims.sub);
    match state.limiter.check(ip, account).await {
        Verdict::Allowed => Ok(next.call(req).await?.map_into_boxed_body()),
        Verdict::Wait(wait) => {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let refused = ApiError(Error::too_many(ErrorCode::TooManyRequests, seconds))
                .render(lang_of(req.request()));
            Ok(req.into_response(refused))
        }
    }
}

/// Where clients reach this service, as `scheme://host`: `XUNCHA_PUBLIC_URL` when set;
/// else the `Host` the client asked for, with `https` only when a trusted proxy says so in
/// `X-Forwarded-Proto`. `X-Forwarded-Host` and `Forwarded` are never followed: proxies
/// commonly pass them on from the client, who could then send other clients elsewhere.
pub fn public_origin(req: &HttpRequest) -> String {
    let settings = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .map(|state| state.settings.clone());
    if let Some(public) = settings.as_ref().and_then(|s| s.public_url.clone()) {
        return public;
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|h| h.to_str().ok())
            .map(str::trim)
    };
    let scheme = match header("x-forwarded-proto") {
        Some("https")
            if settings.is_some_and(|s| through_trusted_proxy(req, &s.trusted_proxies)) =>
        {
            "https"
        }
        _ => "http",
    };
    let host = header("host")
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .map_or_else(|| req.app_config().host().to_owned(), str::to_owned);
    format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn request(peer: &str, forwarded: &[&str]) -> HttpRequest {
        let mut req = TestRequest::default().peer_addr(peer.parse().unwrap());
        for value in forwarded {
            req = req.append_header(("x-forwarded-for", *value));
        }
        req.to_http_request()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies_and_only_their_hops() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // Straight from the internet: the peer, whatever it claims.
        let direct = request("203.0.113.7:5000", &["1.2.3.4"]);
        assert_eq!(address_text(&direct, &trusted), "203.0.113.7");
        // Through our proxy: the address it saw.
        let proxied = request("10.0.0.2:5000", &["198.51.100.9"]);
        assert_eq!(address_text(&proxied, &trusted), "198.51.100.9");
        // A client's own X-Forwarded-For comes first; the proxy appends what it saw.
        let spoofed = request("10.0.0.2:5000", &["1.2.3.4, 198.51.100.9"]);
        assert_eq!(address_text(&spoofed, &trusted), "198.51.100.9");
        // Two proxies of ours, in two headers.
        let chain = request("10.0.0.2:5000", &["198.51.100.9", "10.0.0.3"]);
        assert_eq!(address_text(&chain, &trusted), "198.51.100.9");
        // Garbage ends what a proxy wrote: the last good hop stands.
        let garbage = request("10.0.0.2:5000", &["not-an-ip"]);
        assert_eq!(address_text(&garbage, &trusted), "10.0.0.2");
        // No proxies trusted: never believed.
        assert_eq!(address_text(&proxied, &[]), "10.0.0.2");
    }
}
