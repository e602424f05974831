//! `Idempotency-Key` on every state-changing request (the IETF httpapi draft). A phone that
//! lost an answer sends the request again with the same key and gets the first answer —
//! status, body, `Location` — instead of a second effect or a 409, from any instance for
//! 24 h. The same key with another request (method, path, query or body) is refused with
//! 422 `idempotency_key_reused`; while the first is still running, 409
//! `idempotency_key_in_use`. Keys belong to the signed-in user: a request without a valid
//! bearer token passes through (and is answered 401). The keeping itself is
//! `xuncha_core::services::idempotency`.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};

use xuncha_core::services::idempotency::{self, Answer, Claim, Holder, Request};
use xuncha_core::services::uploads::MAX_UPLOAD_BYTES;

use crate::error::{ApiError, Error, ErrorCode, Msg, lang_of};
use crate::state::AppState;

pub const KEY_HEADER: &str = "idempotency-key";
/// Marks an answer given again from a kept first answer.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// Answers to writes are small JSON documents; of a larger one only the status and
/// `Location` are kept.
const MAX_KEPT_ANSWER: usize = 4 * 1024 * 1024;

/// How long past the longest body time a first request may run before a retry may take
/// its key over (its instance may have died mid-request).
const LEASE_MARGIN_SECONDS: i64 = 120;

pub async fn replay_or_keep(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let Some(raw_key) = req.headers().get(KEY_HEADER).cloned().filter(|_| !safe) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let lang = lang_of(req.request());
    let refuse =
        |req: ServiceRequest, err: Error| Ok(req.into_response(ApiError(err).render(lang)));
    let key = match parse_key(&raw_key) {
        Ok(key) => key,
        Err(err) => return refuse(req, err),
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let user = crate::auth::bearer_token(req.request())
        .and_then(|token| state.jwt.verify(&token))
        .map(|claims| claims.sub);
    let Some(user) = user else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let method = req.method().as_str().to_owned();
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), |pq| pq.as_str().to_owned());
    let kept = Kept {
        state,
        user,
        key,
        method,
        path,
    };
    let lease = chrono::Duration::from_std(kept.state.settings.body_max).unwrap_or_default()
        + chrono::Duration::seconds(LEASE_MARGIN_SECONDS);
    let claim = idempotency::claim(
        &kept.state.db,
        &kept.state.answers,
        kept.request(),
        lease,
        xuncha_core::services::now(),
    )
    .await;
    let fingerprint = match Fingerprint::of_request(&req, &kept.method, &kept.path) {
        Ok(fingerprint) => fingerprint,
        Err(err) => return refuse(req, err),
    };
    match claim {
        Err(err) => refuse(req, err),
        Ok(Claim::Running) => refuse(req, Error::too_many(ErrorCode::IdempotencyKeyInUse, 1)),
        Ok(Claim::Answered {
            fingerprint: first,
            answer,
        }) => {
            let payload = req.take_payload();
            match fingerprint.of_body(payload).await {
                Ok(this) if this == first => Ok(req.into_response(replay(answer))),
                Ok(_) => refuse(req, Error::new(ErrorCode::IdempotencyKeyReused)),
                Err(err) => refuse(req, err),
            }
        }
        Ok(Claim::Run(holder)) => {
            let tap = fingerprint.tap(&mut req);
            // Detached: a client that goes away must not stop the request between its
            // commit and the keeping of its answer (its retry would then run it twice).
            let task = actix_web::rt::spawn(async move {
                let response = next.call(req).await;
                kept.settle(holder, tap, response).await
            });
            task.await
                .map_err(|_| actix_web::error::ErrorInternalServerError("request task failed"))?
        }
    }
}

/// A key as the draft sends it (a structured-field string, `"…"`) or bare: 1 to 255
/// visible ASCII characters.
fn parse_key(raw: &HeaderValue) -> Result<String, Error> {
    let invalid = || Error::new(ErrorCode::InvalidIdempotencyKey);
    let text = raw.to_str().map_err(|_| invalid())?.trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    let fits = !text.is_empty()
        && text.len() <= idempotency::MAX_KEY_CHARS
        && text
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
    if fits {
        Ok(text.to_owned())
    } else {
        Err(invalid())
    }
}

fn replay(answer: Answer) -> HttpResponse {
    let mut response =
        HttpResponse::build(StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK));
    if let Some(content_type) = answer.content_type {
        response.insert_header((header::CONTENT_TYPE, content_type));
    }
    if let Some(location) = answer.location {
        response.insert_header((header::LOCATION, location));
    }
    response.insert_header((REPLAYED_HEADER, "true"));
    // A kept answer may carry a secret; no cache keeps the replay either.
    response.insert_header(crate::routes::no_store());
    response.body(answer.body)
}

/// The request that holds a key, and what it needs to keep or give back its answer.
struct Kept {
    state: web::Data<AppState>,
    user: entity::ids::UserId,
    key: String,
    method: String,
    path: String,
}

impl Kept {
    fn request(&self) -> Request<'_> {
        Request {
            user: self.user,
            key: &self.key,
            method: &self.method,
            path: &self.path,
        }
    }

    /// Keeps a success's answer; gives the key back after anything else (a refused or
    /// failed request changed nothing, so its retry may run again). A success's key is
    /// never given back: its retry would write twice.
    async fn settle<B: MessageBody + 'static>(
        self,
        holder: Holder,
        tap: Rc<RefCell<Tapped>>,
        response: Result<ServiceResponse<B>, actix_web::Error>,
    ) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
        let response = match response {
            Ok(response) if response.status().is_success() => response,
            Ok(response) => {
                self.give_back(holder).await;
                return Ok(response.map_into_boxed_body());
            }
            Err(err) => {
                self.give_back(holder).await;
                return Err(err);
            }
        };
        // What the handler left unread of the body still counts in its fingerprint.
        let Some(fingerprint) = read_to_end(&tap).await else {
            tracing::warn!(path = %self.path, "body unreadable after a success; its key stays held until its lease ends");
            return Ok(response.map_into_boxed_body());
        };
        let (request, response) = response.into_parts();
        let (head, body) = response.into_parts();
        // Our own answer, bounded by what the handler makes (a page, an import's ids).
        let bytes = body::to_bytes(body).await.unwrap_or_default();
        let header_text = |name| {
            head.headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        // An answer too large to keep is kept as its status and `Location`. (Bodies are
        // kept sealed: one may carry a secret.)
        let body_kept = bytes.len() <= MAX_KEPT_ANSWER;
        let answer = Answer {
            status: head.status().as_u16(),
            content_type: header_text(header::CONTENT_TYPE).filter(|_| body_kept),
            location: header_text(header::LOCATION),
            body: if body_kept {
                bytes.to_vec()
            } else {
                Vec::new()
            },
        };
        let mut attempts = 0;
        while let Err(err) = idempotency::keep(
            &self.state.db,
            &self.state.answers,
            self.request(),
            holder,
            &fingerprint,
            answer.clone(),
        )
        .await
        {
            attempts += 1;
            if attempts == 3 {
                tracing::error!(error = %err, path = %self.path, "could not keep an answer; its key stays held until its lease ends");
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100 * attempts)).await;
        }
        Ok(ServiceResponse::new(
            request,
            head.set_body(BoxBody::new(bytes)),
        ))
    }

    async fn give_back(&self, holder: Holder) {
        if let Err(err) = idempotency::release(&self.state.db, self.request(), holder).await {
            tracing::warn!(error = %err, "could not release an idempotency key");
        }
    }
}

/// SHA-256 of the method, the path with its query, and the body. A multipart body's
/// delimiters (`--` and its boundary) are read past: clients choose a new boundary for
/// every send of the same form.
struct Fingerprint {
    hasher: Sha256,
    delimiter: Option<memchr::memmem::Finder<'static>>,
    /// The end of what was read that could still begin a delimiter.
    carry: Vec<u8>,
}

/// RFC 2046: a boundary is 1 to 70 characters.
const MAX_BOUNDARY_BYTES: usize = 70;

impl Fingerprint {
    fn of_request(req: &ServiceRequest, method: &str, path: &str) -> Result<Self, Error> {
        let mut hasher = Sha256::new();
        hasher.update(method.as_bytes());
        hasher.update(b"\n");
        hasher.update(path.as_bytes());
        hasher.update(b"\n");
        let boundary = req
            .mime_type()
            .ok()
            .flatten()
            .filter(|mime| mime.essence_str() == "multipart/form-data")
            .and_then(|mime| {
                mime.get_param(mime::BOUNDARY)
                    .map(|b| b.as_str().to_owned())
            });
        let delimiter = match boundary {
            None => None,
            Some(b) if b.is_empty() || b.len() > MAX_BOUNDARY_BYTES => {
                return Err(Error::bad_request(Msg::fixed(
                    "a multipart boundary is 1 to 70 characters",
                    "multipart 分隔符须为 1 至 70 个字符",
                )));
            }
            Some(b) => Some(memchr::memmem::Finder::new(format!("--{b}").as_bytes()).into_owned()),
        };
        Ok(Self {
            hasher,
            delimiter,
            carry: Vec::new(),
        })
    }

    fn update(&mut self, chunk: &[u8]) {
        let Some(delimiter) = &self.delimiter else {
            self.hasher.update(chunk);
            return;
        };
        let needle = delimiter.needle().len();
        self.carry.extend_from_slice(chunk);
        let mut start = 0;
        while let Some(at) = delimiter.find(&self.carry[start..]) {
            self.hasher.update(&self.carry[start..start + at]);
            self.hasher.update(b"\0delimiter\0");
            start += at + needle;
        }
        let keep_from = self.carry.len().saturating_sub(needle - 1).max(start);
        self.hasher.update(&self.carry[start..keep_from]);
        self.carry.drain(..keep_from);
    }

    fn finish(mut self) -> String {
        let rest = std::mem::take(&mut self.carry);
        self.hasher.update(&rest);
        hex::encode(self.hasher.finalize())
    }

    /// The fingerprint of a retry: its body is read only to be hashed, never more than
    /// the largest body an operation takes.
    async fn of_body(mut self, mut payload: Payload) -> Result<String, Error> {
        let mut seen: u64 = 0;
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|err| payload_failed(&err))?;
            seen += chunk.len() as u64;
            if seen > MAX_UPLOAD_BYTES {
                return Err(Error::new(ErrorCode::PayloadTooLarge));
            }
            self.update(&chunk);
        }
        Ok(self.finish())
    }

    /// Hashes the body as the handler reads it: uploads are hashed as they stream, never
    /// held for this.
    fn tap(self, req: &mut ServiceRequest) -> Rc<RefCell<Tapped>> {
        let payload = req.take_payload();
        let ended = matches!(payload, Payload::None);
        let tapped = Rc::new(RefCell::new(Tapped {
            fingerprint: Some(self),
            inner: payload,
            ended,
            read: 0,
        }));
        if !ended {
            let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(Tap {
                tapped: tapped.clone(),
            });
            req.set_payload(Payload::from(stream));
        }
        tapped
    }
}

fn payload_failed(err: &PayloadError) -> Error {
    if crate::body_deadline::is_timeout(err) {
        Error::new(ErrorCode::RequestTimeout)
    } else {
        Error::bad_request(Msg::fixed(
            "the request body could not be read",
            "请求体读取失败",
        ))
    }
}

/// The body as the handler reads it, and its fingerprint so far.
struct Tapped {
    fingerprint: Option<Fingerprint>,
    inner: Payload,
    ended: bool,
    read: u64,
}

impl Tapped {
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, PayloadError>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => {
                self.read += chunk.len() as u64;
                if let Some(fingerprint) = self.fingerprint.as_mut() {
                    fingerprint.update(chunk);
                }
            }
            Poll::Ready(None) => self.ended = true,
            _ => {}
        }
        polled
    }
}

/// Reads what the handler left of the body (bounded like any body) and gives the whole
/// body's fingerprint; `None` if it cannot be read to its end.
async fn read_to_end(tapped: &Rc<RefCell<Tapped>>) -> Option<String> {
    loop {
        match futures_util::future::poll_fn(|cx| tapped.borrow_mut().poll_chunk(cx)).await {
            None => break,
            Some(Err(_)) => return None,
            Some(Ok(_)) if tapped.borrow().read > MAX_UPLOAD_BYTES => return None,
            Some(Ok(_)) => {}
        }
    }
    let fingerprint = tapped.borrow_mut().fingerprint.take()?;
    Some(fingerprint.finish())
}

struct Tap {
    tapped: Rc<RefCell<Tapped>>,
}

impl Stream for Tap {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.tapped.borrow_mut().poll_chunk(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bare_or_quoted_visible_ascii_up_to_255() {
        let parse = |raw: &str| parse_key(&HeaderValue::from_str(raw).unwrap());
        assert_eq!(parse("abc-123").unwrap(), "abc-123");
        assert_eq!(
            parse("\"8e03978e-40d5-43e8-bc93-6894a57f9324\"").unwrap(),
            "8e03978e-40d5-43e8-bc93-6894a57f9324"
        );
        assert!(parse("").is_err());
        assert!(parse("\"\"").is_err());
        assert!(parse("has space").is_err());
        assert!(parse(&"k".repeat(256)).is_err());
        assert_eq!(parse(&"k".repeat(255)).unwrap().len(), 255);
    }

    /// The fingerprint of a body fed in chunks cut anywhere, boundary read past.
    fn fingerprint(boundary: Option<&str>, body: &[u8], cut: usize) -> String {
        let mut print = Fingerprint {
            hasher: Sha256::new(),
            delimiter: boundary
                .map(|b| memchr::memmem::Finder::new(format!("--{b}").as_bytes()).into_owned()),
            carry: Vec::new(),
        };
        for chunk in body.chunks(cut) {
            print.update(chunk);
        }
        print.finish()
    }

    #[test]
    fn a_form_sent_again_with_another_boundary_has_the_same_fingerprint() {
        let form = |b: &str, photo: &str| {
            format!(
                "--{b}\r\ncontent-disposition: form-data; name=\"kind\"\r\n\r\nbefore\r\n--{b}\r\n\
                 content-disposition: form-data; name=\"file\"\r\n\r\n{photo}\r\n--{b}--\r\n"
            )
        };
        let first = form("XyZ123", "photo bytes");
        let again = form("abcdefghij0987654321", "photo bytes");
        let other = form("abcdefghij0987654321", "other bytes");
        for cut in [1, 2, 3, 7, 64, 4096] {
            let a = fingerprint(Some("XyZ123"), first.as_bytes(), cut);
            assert_eq!(a, fingerprint(Some("XyZ123"), first.as_bytes(), 4096));
            assert_eq!(
                a,
                fingerprint(Some("abcdefghij0987654321"), again.as_bytes(), cut)
            );
            assert_ne!(
                a,
                fingerprint(Some("abcdefghij0987654321"), other.as_bytes(), cut)
            );
        }
        // Without a boundary, the bytes are the bytes.
        assert_ne!(
            fingerprint(None, first.as_bytes(), 5),
            fingerprint(None, again.as_bytes(), 5)
        );
    }
}
