//! Bounds the time a request body may take, so that a client sending a byte a second
//! cannot hold a connection (and the memory behind it) for ever. A body has a grace
//! period, plus the time its bytes need at a minimum rate (a phone on a poor network
//! keeps earning time as long as it keeps sending), and never more than a hard maximum.
//! Past the deadline the body ends with a timed-out read error, which every extractor
//! turns into 408 `request_timeout` (see [`is_timeout`]).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use bytes::Bytes;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

use crate::config::Settings;
use crate::state::AppState;

#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    pub grace: Duration,
    pub min_bytes_per_second: u32,
    pub max: Duration,
}

impl BodyLimits {
    pub fn of(settings: &Settings) -> Self {
        Self {
            grace: settings.body_grace,
            min_bytes_per_second: settings.body_min_bytes_per_second,
            max: settings.body_max,
        }
    }

    /// How long a body may have taken once `received` bytes have arrived.
    pub fn allowed(&self, received: u64) -> Duration {
        let earned =
            Duration::from_secs_f64(received as f64 / f64::from(self.min_bytes_per_second));
        (self.grace + earned).min(self.max)
    }
}

const TIMEOUT_MESSAGE: &str = "request body arrived too slowly";

/// True when a body read failed because the body missed its deadline.
pub fn is_timeout(err: &PayloadError) -> bool {
    matches!(err, PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// Middleware: every request's body runs against its deadline.
pub async fn bound_body_time(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let limits = req
        .app_data::<web::Data<AppState>>()
        .map(|state| BodyLimits::of(&state.settings));
    if let Some(limits) = limits {
        let payload = req.take_payload();
        if !matches!(payload, Payload::None) {
            let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
                Box::pin(Deadlined::new(payload, limits));
            req.set_payload(Payload::from(stream));
        }
    }
    next.call(req).await
}

struct Deadlined {
    inner: Payload,
    limits: BodyLimits,
    started: Instant,
    received: u64,
    timer: Pin<Box<Sleep>>,
    expired: bool,
}

impl Deadlined {
    fn new(inner: Payload, limits: BodyLimits) -> Self {
        let started = Instant::now();
        Self {
            inner,
            limits,
            started,
            received: 0,
            timer: Box::pin(tokio::time::sleep_until(started + limits.allowed(0))),
            expired: false,
        }
    }

    fn expire(&mut self) -> Poll<Option<Result<Bytes, PayloadError>>> {
        self.expired = true;
        Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            TIMEOUT_MESSAGE,
        )))))
    }
}

impl Stream for Deadlined {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.expired {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.received += chunk.len() as u64;
                let deadline = this.started + this.limits.allowed(this.received);
                // A trickle never leaves the stream pending, so the clock is read here too.
                if Instant::now() > deadline {
                    return this.expire();
                }
                this.timer.as_mut().reset(deadline);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(other) => Poll::Ready(other),
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => this.expire(),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_earns_time_by_its_bytes_up_to_the_maximum() {
        let limits = BodyLimits {
            grace: Duration::from_secs(30),
            min_bytes_per_second: 4096,
            max: Duration::from_secs(900),
        };
        assert_eq!(limits.allowed(0), Duration::from_secs(30));
        assert_eq!(limits.allowed(4096 * 10), Duration::from_secs(40));
        assert_eq!(limits.allowed(u64::MAX / 2), Duration::from_secs(900));
    }
}
