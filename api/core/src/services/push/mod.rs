//! Web Push to a person's devices (RFC 8030 delivery, RFC 8291 encryption, RFC 8292
//! VAPID). Who is told of what is decided here, in [`notice`]: a department's or shop's
//! people of a case given to them (`assigned`, `reopened`), of their rectification sent
//! back (`rejected`) and of their case past its deadline (`overdue`); the filing inspector
//! of a rectification waiting for their verification (`rectified`); never whoever caused
//! it. The notice is written with the case change, as webhook deliveries are; the
//! [`outbox`] fans it out to the devices and sends each message once, whatever the number
//! of instances.

pub mod outbox;
pub mod subscriptions;
pub mod vapid;

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::json;
use uuid::Uuid;

use entity::ids::UserId;
use entity::vocabulary::PushEvent;
use entity::{cases, categories, push_notices};

use crate::domain::{Action, CaseStatus};
use crate::error::Error;
use crate::services::now;

pub use outbox::{fan_out_due, send_due, start_workers};

/// Base64url without padding, as Web Push writes keys.
pub(crate) const B64URL: GeneralPurpose = URL_SAFE_NO_PAD;

/// Reads base64url with or without its padding (browsers leave it off; some libraries
/// keep it).
pub(crate) fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    LENIENT.decode(text).ok()
}

/// The push event a workflow action causes, if any. Hand assignment (a dispatch, a
/// reassignment, the answer to a dispute) is `assigned`.
pub fn event_of(action: Action) -> Option<PushEvent> {
    match action {
        Action::Assign => Some(PushEvent::Assigned),
        Action::Reopen => Some(PushEvent::Reopened),
        Action::Reject => Some(PushEvent::Rejected),
        Action::Rectify => Some(PushEvent::Rectified),
        Action::Chase => Some(PushEvent::Chased),
        _ => None,
    }
}

/// The push event of a new case: its assignment, when it has an assignee.
pub fn event_of_filing(case: &cases::Model) -> Option<PushEvent> {
    case.assignee_kind.is_some().then_some(PushEvent::Assigned)
}

/// Who is told of `event` on `case` (as it is after the change), caused by `actor`: the
/// one rule of recipients, used by filing, the workflow and the overdue sweep alike.
/// `None` when nobody is (a case without assignee, a public filing rectified, an
/// inspector rectifying their own filing).
pub fn notice(
    case: &cases::Model,
    event: PushEvent,
    actor: Option<UserId>,
) -> Option<push_notices::ActiveModel> {
    let (department, shopfront, user) = match event {
        PushEvent::Assigned
        | PushEvent::Reopened
        | PushEvent::Rejected
        | PushEvent::Overdue
        | PushEvent::Chased => match (case.assignee_shopfront_id, case.assignee_department_id) {
            (Some(shop), _) => (None, Some(shop), None),
            (None, Some(department)) => (Some(department), None, None),
            (None, None) => return None,
        },
        // Its verifier (the grid's inspector, else the filer) is waiting for it; a
        // supervisor may verify too, from the queue.
        PushEvent::Rectified => match case.verifier_id.or(case.reporter_id) {
            Some(verifier) if Some(verifier) != actor => (None, None, Some(verifier)),
            _ => return None,
        },
    };
    let at = now();
    Some(push_notices::ActiveModel {
        id: Set(Uuid::now_v7()),
        case_id: Set(case.id),
        event: Set(event),
        department_id: Set(department),
        shopfront_id: Set(shopfront),
        user_id: Set(user),
        actor_id: Set(actor),
        // A case held for its evidence is told of when it is dispatched.
        not_before: Set(case.held_until.map_or(at, |held| std::cmp::max(held, at))),
        created_at: Set(at),
    })
}

/// Writes the notice of `event` on `case`, if anyone is to be told. Call it inside the
/// transaction that changes the case.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    case: &cases::Model,
    event: PushEvent,
    actor: Option<UserId>,
) -> Result<(), Error> {
    if let Some(notice) = notice(case, event, actor) {
        push_notices::Entity::insert(notice)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Whether a notice still says something true when it is fanned out: a case given to a
/// department and then at once to another is not announced to the first, and a
/// rectification already verified is not waiting for anyone.
fn still_current(notice: &push_notices::Model, case: &cases::Model) -> bool {
    match notice.event {
        PushEvent::Rectified => case.status == CaseStatus::Rectified,
        _ => {
            CaseStatus::OPEN.contains(&case.status)
                && match (notice.shopfront_id, notice.department_id) {
                    (Some(shop), _) => case.assignee_shopfront_id == Some(shop),
                    (None, Some(department)) => {
                        case.assignee_shopfront_id.is_none()
                            && case.assignee_department_id == Some(department)
                    }
                    (None, None) => false,
                }
        }
    }
}

/// How urgently a push service should wake the device (RFC 8030 `Urgency`): work given
/// to someone, late or chased is `high`; a rectification to look at is `normal`.
pub fn urgency(event: PushEvent) -> &'static str {
    match event {
        PushEvent::Assigned
        | PushEvent::Reopened
        | PushEvent::Rejected
        | PushEvent::Overdue
        | PushEvent::Chased => "high",
        PushEvent::Rectified => "normal",
    }
}

/// The most characters of the case's description line in a message. A Web Push record is
/// at most 4096 bytes once encrypted; with this, every message stays well under 2 KB.
const MAX_LINE_CHARS: usize = 120;

fn clip(text: &str) -> String {
    if text.chars().count() <= MAX_LINE_CHARS {
        return text.to_owned();
    }
    let mut clipped: String = text.chars().take(MAX_LINE_CHARS - 1).collect();
    clipped.push('…');
    clipped
}

/// The message a device shows: a title and a line in Chinese (and in English beside
/// them), and what the app needs to open the case.
pub fn payload(
    event: PushEvent,
    case: &cases::Model,
    category: Option<&categories::Model>,
) -> String {
    let (title, title_en) = match event {
        PushEvent::Assigned => ("新案件已派遣", "New case assigned to you"),
        PushEvent::Reopened => ("案件反弹，已重新派遣", "Case reopened: it recurred"),
        PushEvent::Rejected => (
            "整改未通过，请返工",
            "Rectification rejected: rework needed",
        ),
        PushEvent::Overdue => ("案件已超期", "Case overdue"),
        PushEvent::Rectified => ("案件已整改，待您核查", "Rectified: waiting for your check"),
        PushEvent::Chased => ("案件催办，请尽快办理", "Chased: please act on this case"),
    };
    let (name, name_en) = category.map_or((case.category_code.as_str(), ""), |c| {
        (c.name_zh.as_str(), c.name_en.as_str())
    });
    let line = |name: &str| clip(&format!("{} {name} {}", case.case_no, case.address));
    json!({
        "title": title,
        "body": line(name),
        "title_en": title_en,
        "body_en": line(if name_en.is_empty() { &case.category_code } else { name_en }),
        "event": event.as_str(),
        "case_id": case.id,
        "case_no": case.case_no,
        "status": case.status,
        "deadline_at": case.deadline_at,
        "url": format!("/api/v1/reports/{}", case.id),
    })
    .to_string()
}

/// A held case is dispatched: its notices go now.
pub async fn dispatch_now(
    db: &impl ConnectionTrait,
    case: entity::ids::CaseId,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, QueryFilter};
    push_notices::Entity::update_many()
        .col_expr(push_notices::Column::NotBefore, Expr::value(at))
        .filter(push_notices::Column::CaseId.eq(case))
        .filter(push_notices::Column::NotBefore.gt(at))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case() -> cases::Model {
        let at = now();
        cases::Model {
            id: entity::ids::CaseId::now_v7(),
            case_no: "XC-2026-000123".into(),
            client_id: None,
            request_hash: None,
            category_code: "parking".into(),
            description: String::new(),
            lat: 30.0,
            lon: 120.0,
            accuracy_m: None,
            address: "解放路 100 号".repeat(40),
            observed_at: at,
            severity: crate::domain::Severity::Normal,
            source: crate::domain::CaseSource::Patrol,
            status: CaseStatus::Assigned,
            reporter_id: Some(UserId::now_v7()),
            assignee_kind: Some(crate::domain::AssigneeKind::Department),
            assignee_department_id: Some(entity::ids::DepartmentId::now_v7()),
            assignee_shopfront_id: None,
            overseer_department_id: None,
            assignment_reason: None,
            area_id: None,
            deadline_at: Some(at),
            version: 1,
            created_at: at,
            updated_at: at,
            closed_at: None,
            rework_count: 0,
            recurrence_count: 0,
            rectified_by: None,
            duplicate_of: None,
            recurrence_of: None,
            pending_request: None,
            requested_until: None,
            suspended_at: None,
            overdue_notified_at: None,
            campaign_id: None,
            site_id: None,
            visit_id: None,
            held_until: None,
            verifier_id: None,
            verify_due_at: None,
            verify_escalated_at: None,
        }
    }

    #[test]
    fn assignees_hear_of_their_work_and_reporters_of_rectifications() {
        let case = case();
        for event in [
            PushEvent::Assigned,
            PushEvent::Reopened,
            PushEvent::Rejected,
            PushEvent::Overdue,
            PushEvent::Chased,
        ] {
            let n = notice(&case, event, None).unwrap();
            assert_eq!(n.department_id.unwrap(), case.assignee_department_id);
            assert_eq!((n.shopfront_id.unwrap(), n.user_id.unwrap()), (None, None));
        }
        let n = notice(&case, PushEvent::Rectified, UserId::now_v7().into()).unwrap();
        assert_eq!(n.user_id.unwrap(), case.reporter_id);
        // The reporter is not told of what they did themselves.
        assert!(notice(&case, PushEvent::Rectified, case.reporter_id).is_none());
        let triage = cases::Model {
            assignee_department_id: None,
            assignee_kind: None,
            ..case.clone()
        };
        assert!(notice(&triage, PushEvent::Overdue, None).is_none());
        assert_eq!(event_of_filing(&triage), None);
    }

    #[test]
    fn a_held_case_is_told_of_when_its_hold_ends() {
        let later = now() + chrono::Duration::minutes(10);
        let held = cases::Model {
            held_until: Some(later),
            ..case()
        };
        let n = notice(&held, PushEvent::Assigned, None).unwrap();
        assert_eq!(n.not_before.unwrap(), later);
    }

    #[test]
    fn a_message_stays_small_whatever_the_address() {
        let case = case();
        let text = payload(PushEvent::Assigned, &case, None);
        assert!(text.len() < 2048, "{} bytes", text.len());
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["title"], "新案件已派遣");
        assert!(
            value["body"]
                .as_str()
                .unwrap()
                .starts_with("XC-2026-000123 parking")
        );
        assert!(value["body"].as_str().unwrap().ends_with('…'));
    }

    #[test]
    fn keys_are_read_with_or_without_padding() {
        assert_eq!(b64url_decode("AQI").unwrap(), [1, 2]);
        assert_eq!(b64url_decode("AQI=").unwrap(), [1, 2]);
        assert!(
            b64url_decode("AQI+").is_none(),
            "standard base64 is not base64url"
        );
    }
}
