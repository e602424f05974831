//! The caller's address, for per-address limits. `X-Forwarded-For` is believed only when
//! `XUNCHA_TRUST_FORWARDED_FOR` says a trusted proxy sets it; otherwise a client could
//! pick its own address and dodge every limit.

use std::net::{IpAddr, SocketAddr};

use actix_governor::governor::NotUntil;
use actix_governor::governor::clock::{Clock, DefaultClock, QuantaInstant};
use actix_governor::{KeyExtractor, SimpleKeyExtractionError};
use actix_web::dev::ServiceRequest;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};

use crate::error::{ApiError, Error, ErrorCode, Lang};

pub fn address(req: &HttpRequest, trust_forwarded_for: bool) -> String {
    let raw = if trust_forwarded_for {
        req.connection_info()
            .realip_remote_addr()
            .map(str::to_owned)
    } else {
        req.peer_addr().map(|addr| addr.ip().to_string())
    };
    match raw {
        Some(raw) => raw
            .parse::<SocketAddr>()
            .map(|addr| addr.ip())
            .or_else(|_| raw.parse::<IpAddr>())
            .map(|ip| ip.to_string())
            .unwrap_or(raw),
        None => "unknown".to_owned(),
    }
}

/// The general request-rate limit, keyed by client address, answering in the API's shape.
#[derive(Clone)]
pub struct AddressKey {
    pub trust_forwarded_for: bool,
}

impl KeyExtractor for AddressKey {
    type Key = String;
    type KeyExtractionError = SimpleKeyExtractionError<&'static str>;

    fn extract(&self, req: &ServiceRequest) -> Result<Self::Key, Self::KeyExtractionError> {
        Ok(address(req.request(), self.trust_forwarded_for))
    }

    fn exceed_rate_limit_response(
        &self,
        negative: &NotUntil<QuantaInstant>,
        _response: HttpResponseBuilder,
    ) -> HttpResponse {
        let wait = negative.wait_time_from(DefaultClock::default().now());
        ApiError(Error::too_many(
            ErrorCode::TooManyRequests,
            wait.as_secs().max(1),
        ))
        .render(Lang::En)
    }
}
