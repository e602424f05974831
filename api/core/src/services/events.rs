//! The append-only, hash-chained history of a case. Each event's hash covers its own
//! fields and the previous event's hash, so editing or deleting any earlier event breaks
//! every hash after it.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use entity::ids::{CaseId, UserId};

use entity::case_events;

use crate::domain::{CaseStatus, Role};
use crate::error::Error;
use crate::services::evidence::EvidenceKey;

pub struct NewEvent<'a> {
    pub case_id: CaseId,
    pub action: &'a str,
    pub from_status: Option<CaseStatus>,
    pub to_status: CaseStatus,
    pub actor: Option<(UserId, Role)>,
    pub note: Option<String>,
    pub photo_ids: Vec<entity::ids::PhotoId>,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// The fields a hash covers, in a fixed order.
#[derive(Serialize)]
struct Hashed<'a> {
    prev_hash: Option<&'a str>,
    case_id: CaseId,
    seq: i32,
    action: &'a str,
    from_status: Option<&'a str>,
    to_status: &'a str,
    actor_id: Option<UserId>,
    actor_role: Option<&'a str>,
    note: Option<&'a str>,
    photo_ids: &'a str,
    created_at: String,
}

/// The hash an event must carry (used by the chain check and the data generator).
pub fn hash_of(event: &case_events::Model) -> String {
    let hashed = Hashed {
        prev_hash: event.prev_hash.as_deref(),
        case_id: event.case_id,
        seq: event.seq,
        action: &event.action,
        from_status: event.from_status.as_deref(),
        to_status: &event.to_status,
        actor_id: event.actor_id,
        actor_role: event.actor_role.as_deref(),
        note: event.note.as_deref(),
        photo_ids: &event.photo_ids,
        created_at: event
            .created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    };
    let canonical = serde_json::to_vec(&hashed).unwrap_or_default();
    hex::encode(Sha256::digest(canonical))
}

/// Appends an event after the case's last one. Call it in the transaction that changes the
/// case, after locking the case row (its version check), so two writers cannot both take
/// the same sequence number; the unique (case_id, seq) index refuses it anyway.
pub async fn append(
    db: &impl ConnectionTrait,
    key: &EvidenceKey,
    new: NewEvent<'_>,
) -> Result<case_events::Model, Error> {
    let last = case_events::Entity::find()
        .filter(case_events::Column::CaseId.eq(new.case_id))
        .order_by_desc(case_events::Column::Seq)
        .one(db)
        .await?;
    let mut appended = chain(key, last.as_ref(), vec![new])?;
    insert_all(db, &appended).await?;
    appended
        .pop()
        .ok_or_else(|| Error::internal("an appended event vanished"))
}

/// The events that follow `last` (`None` for a case made in this transaction), numbered,
/// each hashed over the one before and its hash signed with `key`.
pub fn chain(
    key: &EvidenceKey,
    last: Option<&case_events::Model>,
    news: Vec<NewEvent<'_>>,
) -> Result<Vec<case_events::Model>, Error> {
    let mut chained: Vec<case_events::Model> = Vec::with_capacity(news.len());
    for new in news {
        let previous = chained.last().or(last);
        let mut event = case_events::Model {
            id: Uuid::now_v7(),
            case_id: new.case_id,
            seq: previous.map_or(1, |e| e.seq + 1),
            action: new.action.to_owned(),
            from_status: new.from_status.map(|s| s.as_str().to_owned()),
            to_status: new.to_status.as_str().to_owned(),
            actor_id: new.actor.map(|(id, _)| id),
            actor_role: new.actor.map(|(_, role)| role.as_str().to_owned()),
            note: new.note,
            photo_ids: serde_json::to_string(&new.photo_ids).map_err(Error::internal)?,
            created_at: new.at,
            prev_hash: previous.map(|e| e.hash.clone()),
            hash: String::new(),
            signature: None,
        };
        event.hash = hash_of(&event);
        event.signature = Some(key.sign_event(&event));
        chained.push(event);
    }
    Ok(chained)
}

/// Writes chained events in one statement.
pub async fn insert_all(
    db: &impl ConnectionTrait,
    events: &[case_events::Model],
) -> Result<(), Error> {
    if events.is_empty() {
        return Ok(());
    }
    case_events::Entity::insert_many(
        events
            .iter()
            .cloned()
            .map(IntoActiveModel::into_active_model),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn history(
    db: &impl ConnectionTrait,
    case_id: CaseId,
) -> Result<Vec<case_events::Model>, Error> {
    Ok(case_events::Entity::find()
        .filter(case_events::Column::CaseId.eq(case_id))
        .order_by_asc(case_events::Column::Seq)
        .all(db)
        .await?)
}

/// The first event whose hash or link does not match, if any.
pub fn first_broken_link(events: &[case_events::Model]) -> Option<i32> {
    let mut previous: Option<&str> = None;
    for event in events {
        if event.prev_hash.as_deref() != previous || hash_of(event) != event.hash {
            return Some(event.seq);
        }
        previous = Some(&event.hash);
    }
    None
}
