//! Idempotency keys (IETF httpapi `Idempotency-Key` draft), the use-case side: who holds a
//! key, and the first answer to keep for retries. A key belongs to one user; the first
//! request with it runs under a lease, and its answer (2xx only: a refused request changed
//! nothing, so running it again is safe and gives today's answer) is kept for
//! [`RETENTION`]. Rows live in the database, so a retry reaching another instance gets the
//! same answer. Kept bodies are sealed ([`Sealer`]): an answer may carry a secret (an API
//! key, a webhook's signing secret), and the table keeps it a day.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, Salt};
use ring::rand::{SecureRandom, SystemRandom};

use entity::idempotency_keys::{self, Column, Entity};
use entity::ids::UserId;

use crate::error::Error;

/// How long a first answer is kept; the draft asks for at least a day.
pub const RETENTION: Duration = Duration::hours(24);

/// The longest key taken (the draft sets none; UUIDs are 36).
pub const MAX_KEY_CHARS: usize = 255;

/// Seals kept answers with AES-256-GCM under a key derived (HKDF-SHA256) from the token
/// signing secret, bound to their user and key: reading the table alone reveals no answer,
/// and no sealed answer can be moved to another row.
pub struct Sealer(LessSafeKey);

impl Sealer {
    pub fn new(secret: &[u8]) -> Self {
        let okm_key = Salt::new(HKDF_SHA256, b"xuncha idempotency answers")
            .extract(secret)
            .expand(&[b"v1"], &AES_256_GCM)
            .map(UnboundKey::from);
        // The output length is the algorithm's own, which `expand` always accepts.
        let key = okm_key.unwrap_or_else(|_| unreachable!("HKDF output of the AEAD's key length"));
        Self(LessSafeKey::new(key))
    }

    fn bound_to(request: &Request<'_>) -> Aad<Vec<u8>> {
        Aad::from(format!("{}\n{}", request.user, request.key).into_bytes())
    }

    fn seal(&self, request: &Request<'_>, plain: &[u8]) -> Result<Vec<u8>, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| Error::internal("no randomness for a nonce"))?;
        let mut sealed = plain.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Self::bound_to(request),
                &mut sealed,
            )
            .map_err(|_| Error::internal("sealing an answer failed"))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    fn open(&self, request: &Request<'_>, sealed: &[u8]) -> Result<Vec<u8>, Error> {
        if sealed.len() < NONCE_LEN {
            return Err(Error::internal("a kept answer is shorter than its nonce"));
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| Error::internal("a kept answer's nonce"))?;
        let mut body = body.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Self::bound_to(request), &mut body)
            .map_err(|_| {
                Error::internal("a kept answer does not open (another signing secret?)")
            })?;
        Ok(plain.to_vec())
    }
}

/// A first answer, as kept.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// What a request carrying a key may do.
#[derive(Debug)]
pub enum Claim {
    /// It holds the key: run it, then [`keep`] its answer or [`release`] the key.
    Run(Holder),
    /// The request with this key has answered: replay the answer if the fingerprints match.
    Answered { fingerprint: String, answer: Answer },
    /// The request with this key is still running.
    Running,
}

/// The lease of the request that holds a key: only its holder keeps an answer or gives the
/// key back, even if a retry took the key over after the lease ran out.
#[derive(Clone, Copy, Debug)]
pub struct Holder {
    locked_until: DateTime<Utc>,
}

/// One request's identity under its key.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub user: UserId,
    pub key: &'a str,
    pub method: &'a str,
    pub path: &'a str,
}

/// Takes the key for this request, or says who has it. `lease` is how long the first
/// request may run before a retry may take the key over (its instance may have died).
pub async fn claim(
    db: &impl ConnectionTrait,
    sealer: &Sealer,
    request: Request<'_>,
    lease: Duration,
    at: DateTime<Utc>,
) -> Result<Claim, Error> {
    // A row past its retention that the sweep has not reached yet is gone for us too.
    Entity::delete_many()
        .filter(Column::UserId.eq(request.user))
        .filter(Column::Key.eq(request.key))
        .filter(Column::CreatedAt.lt(at - RETENTION))
        .exec(db)
        .await?;
    let holder = Holder {
        locked_until: at + lease,
    };
    let inserted = Entity::insert(idempotency_keys::ActiveModel {
        user_id: Set(request.user),
        key: Set(request.key.to_owned()),
        method: Set(request.method.to_owned()),
        path: Set(request.path.to_owned()),
        fingerprint: Set(None),
        response_status: Set(None),
        response_content_type: Set(None),
        response_location: Set(None),
        response_body: Set(None),
        locked_until: Set(Some(holder.locked_until)),
        created_at: Set(at),
    })
    .on_conflict(
        OnConflict::columns([Column::UserId, Column::Key])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await;
    match inserted {
        Ok(1) => return Ok(Claim::Run(holder)),
        Ok(_) | Err(DbErr::RecordNotInserted) => {}
        Err(err) => return Err(err.into()),
    }
    let Some(row) = Entity::find_by_id((request.user, request.key.to_owned()))
        .one(db)
        .await?
    else {
        // Given back between our insert and this read: a retry a moment later takes it.
        return Ok(Claim::Running);
    };
    if let (Some(fingerprint), Some(status)) = (row.fingerprint, row.response_status) {
        return Ok(Claim::Answered {
            fingerprint,
            answer: Answer {
                status: u16::try_from(status).unwrap_or(500),
                content_type: row.response_content_type,
                location: row.response_location,
                body: sealer.open(&request, &row.response_body.unwrap_or_default())?,
            },
        });
    }
    // Running, unless its lease ran out: then the first one's instance is gone, and the
    // one retry that moves the lease on takes the key over.
    let expired = row.locked_until.is_none_or(|until| until <= at);
    if expired {
        let taken = Entity::update_many()
            .col_expr(Column::LockedUntil, Expr::value(holder.locked_until))
            .col_expr(Column::Method, Expr::value(request.method))
            .col_expr(Column::Path, Expr::value(request.path))
            .filter(Column::UserId.eq(request.user))
            .filter(Column::Key.eq(request.key))
            .filter(Column::Fingerprint.is_null())
            .filter(match row.locked_until {
                Some(until) => Column::LockedUntil.eq(until),
                None => Column::LockedUntil.is_null(),
            })
            .exec(db)
            .await?;
        if taken.rows_affected == 1 {
            return Ok(Claim::Run(holder));
        }
    }
    Ok(Claim::Running)
}

/// Keeps the first answer of the request that holds the key.
pub async fn keep(
    db: &impl ConnectionTrait,
    sealer: &Sealer,
    request: Request<'_>,
    holder: Holder,
    fingerprint: &str,
    answer: Answer,
) -> Result<(), Error> {
    Entity::update_many()
        .col_expr(Column::Fingerprint, Expr::value(fingerprint))
        .col_expr(Column::ResponseStatus, Expr::value(answer.status as i16))
        .col_expr(
            Column::ResponseContentType,
            Expr::value(answer.content_type),
        )
        .col_expr(Column::ResponseLocation, Expr::value(answer.location))
        .col_expr(
            Column::ResponseBody,
            Expr::value(sealer.seal(&request, &answer.body)?),
        )
        .col_expr(
            Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(Column::UserId.eq(request.user))
        .filter(Column::Key.eq(request.key))
        .filter(Column::LockedUntil.eq(holder.locked_until))
        .filter(Column::Fingerprint.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Gives the key back after a request that changed nothing (refused, failed, or cut off
/// before its body arrived), so that a retry runs again.
pub async fn release(
    db: &impl ConnectionTrait,
    request: Request<'_>,
    holder: Holder,
) -> Result<(), Error> {
    Entity::delete_many()
        .filter(Column::UserId.eq(request.user))
        .filter(Column::Key.eq(request.key))
        .filter(Column::LockedUntil.eq(holder.locked_until))
        .filter(Column::Fingerprint.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Removes the answers past their retention. Returns how many went.
pub async fn sweep(db: &impl ConnectionTrait, at: DateTime<Utc>) -> Result<u64, Error> {
    let gone = Entity::delete_many()
        .filter(Column::CreatedAt.lt(at - RETENTION))
        .exec(db)
        .await?;
    Ok(gone.rows_affected)
}
