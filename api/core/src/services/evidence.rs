//! Evidence a rewrite cannot hide. The hash chain of a case's history (`events`) shows
//! any edit, but whoever can write the database can rewrite an event and recompute every
//! hash after it. So each event's hash is also signed with an Ed25519 key the database
//! does not hold (`XUNCHA_EVIDENCE_SIGNING_KEY`, or a key file in the data folder), and
//! once a day the heads of the chains that moved that day are gathered into a digest,
//! signed, chained to the day before and published to the object store for auditors to
//! keep elsewhere. The chain check verifies each event's signature and each digest that
//! lists the case.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{Days, NaiveDate};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait, TryInsertResult,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use entity::ids::CaseId;
use entity::{case_events, evidence_digest_heads, evidence_digests};

use crate::config::Settings;
use crate::error::Error;
use crate::services::inspections::stats::start_of;
use crate::services::now;
use crate::state::AppState;
use crate::storage::ObjectKey;

/// What a digest's body says it is.
pub const DIGEST_FORMAT: &str = "xuncha-evidence-digest/1";

/// Days sealed in one round, so that a first start over a long history is done in steps.
const DAYS_PER_ROUND: u64 = 31;

/// A day is sealed this long after it ends: an event stamped just before midnight, whose
/// transaction commits a moment later (or on an instance whose clock lags), is in it.
const SEAL_AFTER_MINUTES: i64 = 15;

/// The 32-byte seed of an Ed25519 key, from its base64.
pub fn parse_seed(text: &str) -> Result<[u8; 32], String> {
    let bytes = BASE64
        .decode(text.trim())
        .map_err(|_| "expected the base64 of a 32-byte Ed25519 seed".to_owned())?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("expected 32 bytes, got {}", bytes.len()))
}

/// The key that signs case histories, and its public half for checking them.
pub struct EvidenceKey {
    pair: Ed25519KeyPair,
    key_id: String,
}

impl std::fmt::Debug for EvidenceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvidenceKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl EvidenceKey {
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, String> {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|rejected| format!("not an Ed25519 seed: {rejected}"))?;
        let key_id = hex::encode(&Sha256::digest(pair.public_key().as_ref())[..8]);
        Ok(Self { pair, key_id })
    }

    /// `XUNCHA_EVIDENCE_SIGNING_KEY`, or a key generated once and kept in the data folder
    /// (readable by the owner only). Instances that share a database must share the key.
    pub fn load(settings: &Settings) -> anyhow::Result<Self> {
        let seed = match &settings.evidence_signing_key {
            Some(key) => parse_seed(key.expose_secret()).map_err(|p| anyhow::anyhow!(p))?,
            None => {
                let path = settings.data_dir.join("evidence-signing-key");
                match std::fs::read_to_string(&path) {
                    Ok(text) => {
                        parse_seed(&text).map_err(|p| anyhow::anyhow!("{}: {p}", path.display()))?
                    }
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                        let mut seed = [0u8; 32];
                        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut seed)
                            .map_err(|_| anyhow::anyhow!("no randomness for a signing key"))?;
                        crate::services::bootstrap::write_private(&path, &BASE64.encode(seed))?;
                        tracing::info!(path = %path.display(), "generated the evidence signing key");
                        seed
                    }
                    Err(err) => anyhow::bail!("reading {}: {err}", path.display()),
                }
            }
        };
        Self::from_seed(&seed).map_err(|p| anyhow::anyhow!(p))
    }

    /// The first 8 bytes of the public key's SHA-256, in hex: which key signed.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn public_key(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    fn sign(&self, message: &[u8]) -> String {
        BASE64.encode(self.pair.sign(message).as_ref())
    }

    fn verifies(&self, message: &[u8], signature: &str) -> bool {
        let Ok(signature) = BASE64.decode(signature) else {
            return false;
        };
        UnparsedPublicKey::new(&ED25519, self.public_key())
            .verify(message, &signature)
            .is_ok()
    }

    /// The signature of an event's hash (which covers the event and every one before it).
    pub fn sign_event(&self, event: &case_events::Model) -> String {
        self.sign(&event_message(event))
    }

    pub fn event_verifies(&self, event: &case_events::Model) -> bool {
        event
            .signature
            .as_deref()
            .is_some_and(|s| self.verifies(&event_message(event), s))
    }
}

/// What an event's signature covers.
fn event_message(event: &case_events::Model) -> Vec<u8> {
    format!(
        "xuncha-case-event/1\n{}\n{}\n{}",
        event.case_id, event.seq, event.hash
    )
    .into_bytes()
}

/// A digest's body, the canonical JSON that is signed.
#[derive(Debug, Serialize, Deserialize)]
pub struct DigestBody {
    pub format: String,
    /// The city's day (`XUNCHA_TIMEZONE`).
    pub day: NaiveDate,
    pub key_id: String,
    /// SHA-256 of the previous day's body: deleting or replacing a day breaks the chain.
    pub previous_sha256: Option<String>,
    /// (case, seq, hash) of the last event of each case that moved that day, by case.
    pub heads: Vec<(CaseId, i32, String)>,
}

/// Seals `day`: the heads of the chains that moved that day, signed and chained to the
/// day before. `None` when it is sealed already (by this or another instance). A day's
/// events are read at once: a city files thousands of cases a day, not millions.
pub async fn seal_day(
    state: &AppState,
    day: NaiveDate,
) -> Result<Option<evidence_digests::Model>, Error> {
    let db = &state.db;
    if evidence_digests::Entity::find_by_id(day)
        .one(db)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let city = state.settings.timezone;
    let (start, end) = (start_of(day, city), start_of(day + Days::new(1), city));
    let events: Vec<(CaseId, i32, String)> = case_events::Entity::find()
        .select_only()
        .column(case_events::Column::CaseId)
        .column(case_events::Column::Seq)
        .column(case_events::Column::Hash)
        .filter(case_events::Column::CreatedAt.gte(start))
        .filter(case_events::Column::CreatedAt.lt(end))
        .order_by_asc(case_events::Column::CaseId)
        .order_by_asc(case_events::Column::Seq)
        .into_tuple()
        .all(db)
        .await?;
    let mut heads: Vec<(CaseId, i32, String)> = Vec::new();
    for event in events {
        match heads.last_mut() {
            Some(last) if last.0 == event.0 => *last = event,
            _ => heads.push(event),
        }
    }
    let previous_sha256 = evidence_digests::Entity::find()
        .filter(evidence_digests::Column::Day.lt(day))
        .order_by_desc(evidence_digests::Column::Day)
        .one(db)
        .await?
        .map(|d| d.body_sha256);
    let body = DigestBody {
        format: DIGEST_FORMAT.to_owned(),
        day,
        key_id: state.evidence.key_id().to_owned(),
        previous_sha256,
        heads,
    };
    let text = serde_json::to_string(&body).map_err(Error::internal)?;
    let digest = evidence_digests::Model {
        day,
        body_sha256: hex::encode(Sha256::digest(text.as_bytes())),
        signature: state.evidence.sign(text.as_bytes()),
        heads: i32::try_from(body.heads.len()).unwrap_or(i32::MAX),
        body: text,
        created_at: now(),
        published_at: None,
    };
    let txn = db.begin().await?;
    let inserted =
        evidence_digests::Entity::insert(evidence_digests::ActiveModel::from(digest.clone()))
            .on_conflict_do_nothing()
            .exec_without_returning(&txn)
            .await?;
    if !matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
        return Ok(None);
    }
    let rows: Vec<evidence_digest_heads::ActiveModel> = body
        .heads
        .iter()
        .map(|(case_id, seq, hash)| evidence_digest_heads::ActiveModel {
            case_id: Set(*case_id),
            day: Set(day),
            seq: Set(*seq),
            hash: Set(hash.clone()),
        })
        .collect();
    for chunk in rows.chunks(500) {
        evidence_digest_heads::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    tracing::info!(%day, heads = digest.heads, "evidence digest sealed");
    Ok(Some(digest))
}

/// Seals the days that have ended since the last digest (from the first event's day),
/// at most [`DAYS_PER_ROUND`] at a time, then publishes what is not published yet.
/// Returns the days sealed.
pub async fn seal_due(state: &AppState) -> Result<usize, Error> {
    let db = &state.db;
    let city = state.settings.timezone;
    let sealable_before = (now() - chrono::Duration::minutes(SEAL_AFTER_MINUTES))
        .with_timezone(&city)
        .date_naive();
    let last = evidence_digests::Entity::find()
        .order_by_desc(evidence_digests::Column::Day)
        .one(db)
        .await?;
    let first = match last {
        Some(last) => last.day + Days::new(1),
        None => {
            let oldest: Option<chrono::DateTime<chrono::Utc>> = case_events::Entity::find()
                .select_only()
                .column(case_events::Column::CreatedAt)
                .order_by_asc(case_events::Column::CreatedAt)
                .into_tuple()
                .one(db)
                .await?;
            match oldest {
                Some(at) => at.with_timezone(&city).date_naive(),
                None => return Ok(0),
            }
        }
    };
    let mut sealed = 0;
    let mut day = first;
    while day < sealable_before && sealed < DAYS_PER_ROUND as usize {
        if seal_day(state, day).await?.is_some() {
            sealed += 1;
        }
        day = day + Days::new(1);
    }
    publish_pending(state).await?;
    Ok(sealed)
}

/// What is published for a day: the body as signed, its signature and the key to check
/// it with.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublishedDigest {
    pub day: NaiveDate,
    /// The signed text, exactly (its JSON is a [`DigestBody`]).
    pub body: String,
    pub body_sha256: String,
    /// Base64 Ed25519 signature of `body`'s UTF-8 bytes.
    pub signature: String,
    pub key_id: String,
    /// Base64 of the 32-byte Ed25519 public key.
    pub public_key: String,
}

pub fn published(state: &AppState, digest: evidence_digests::Model) -> PublishedDigest {
    PublishedDigest {
        day: digest.day,
        body: digest.body,
        body_sha256: digest.body_sha256,
        signature: digest.signature,
        key_id: state.evidence.key_id().to_owned(),
        public_key: BASE64.encode(state.evidence.public_key()),
    }
}

/// Writes the digests not yet in the object store there (`evidence/digests/<day>.json`).
async fn publish_pending(state: &AppState) -> Result<(), Error> {
    let pending = evidence_digests::Entity::find()
        .filter(evidence_digests::Column::PublishedAt.is_null())
        .order_by_asc(evidence_digests::Column::Day)
        .limit(DAYS_PER_ROUND)
        .all(&state.db)
        .await?;
    for digest in pending {
        let day = digest.day;
        let text = serde_json::to_vec(&published(state, digest)).map_err(Error::internal)?;
        state
            .store
            .put(
                &ObjectKey::evidence_digest(day),
                text.into(),
                "application/json",
            )
            .await
            .map_err(Error::from)?;
        evidence_digests::Entity::update_many()
            .col_expr(evidence_digests::Column::PublishedAt, Expr::value(now()))
            .filter(evidence_digests::Column::Day.eq(day))
            .exec(&state.db)
            .await?;
    }
    Ok(())
}

/// The digests, newest first.
pub async fn digests(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<evidence_digests::Model>, Error> {
    Ok(evidence_digests::Entity::find()
        .order_by_desc(evidence_digests::Column::Day)
        .limit(limit)
        .all(db)
        .await?)
}

pub async fn digest(
    db: &impl ConnectionTrait,
    day: NaiveDate,
) -> Result<evidence_digests::Model, Error> {
    evidence_digests::Entity::find_by_id(day)
        .one(db)
        .await?
        .ok_or_else(Error::not_found)
}

/// What the check of a case's history found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ChainCheck {
    /// The first event whose hash, link or signature does not hold, or whose hash differs
    /// from what a signed digest published.
    pub broken_at_seq: Option<i32>,
    /// The last event a verified digest vouches for.
    pub sealed_through_seq: Option<i32>,
}

/// Checks a case's history (oldest first): every link and hash, every signature, and
/// every digest that lists the case.
pub async fn check(
    state: &AppState,
    case_id: CaseId,
    history: &[case_events::Model],
) -> Result<ChainCheck, Error> {
    let mut broken = crate::services::events::first_broken_link(history);
    let mut note_broken = |seq: i32| {
        broken = Some(broken.map_or(seq, |b| b.min(seq)));
    };
    if let Some(unsigned) = history.iter().find(|e| !state.evidence.event_verifies(e)) {
        note_broken(unsigned.seq);
    }
    let by_seq: HashMap<i32, &case_events::Model> = history.iter().map(|e| (e.seq, e)).collect();
    let listed = evidence_digest_heads::Entity::find()
        .filter(evidence_digest_heads::Column::CaseId.eq(case_id))
        .all(&state.db)
        .await?;
    let mut sealed_through: Option<i32> = None;
    for head in listed {
        let vouched = match evidence_digests::Entity::find_by_id(head.day)
            .one(&state.db)
            .await?
        {
            Some(digest) => {
                state
                    .evidence
                    .verifies(digest.body.as_bytes(), &digest.signature)
                    && serde_json::from_str::<DigestBody>(&digest.body).is_ok_and(|body| {
                        body.heads
                            .iter()
                            .any(|(c, s, h)| *c == case_id && *s == head.seq && *h == head.hash)
                    })
            }
            None => false,
        };
        let matches = by_seq.get(&head.seq).is_some_and(|e| e.hash == head.hash);
        if vouched && matches {
            sealed_through = Some(sealed_through.map_or(head.seq, |s| s.max(head.seq)));
        } else {
            note_broken(head.seq);
        }
    }
    Ok(ChainCheck {
        broken_at_seq: broken,
        sealed_through_seq: sealed_through,
    })
}
