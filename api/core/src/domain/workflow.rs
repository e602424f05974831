//! The case life cycle (DESIGN.md): which action leads from which status to which.
//!
//! ```text
//! reported ─assign▶ assigned ─accept▶ in_progress ─rectify▶ rectified ─verify▶ closed
//!    │                │   ▲                                    │             │
//!    │                │   └──────────── reject (rework + 1) ───┘             │
//!    │             dispute ▶ disputed ─assign▶ assigned        reopen (recurrence + 1) ▶ assigned
//!    └─cancel▶ cancelled            (duplicate: any open status ▶ closed)
//! ```
//!
//! Extension and suspension (缓办) requests, their decisions and `resume` move or pause
//! the deadline of an assigned or in-progress case without changing its status; `chase`
//! (催办) presses its assignee and changes nothing but the history.

use crate::domain::{CaseStatus, PhotoKind};

entity::stored_enum!(
    Action {
        Assign => "assign",
        Accept => "accept",
        Dispute => "dispute",
        Rectify => "rectify",
        Verify => "verify",
        Reject => "reject",
        Cancel => "cancel",
        Reopen => "reopen",
        Duplicate => "duplicate",
        RequestExtension => "request-extension",
        DecideExtension => "decide-extension",
        RequestSuspension => "request-suspension",
        DecideSuspension => "decide-suspension",
        Resume => "resume",
        Chase => "chase",
    }
);

/// Who may take an action on a case they can see (decided by `auth::policy::may_act`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// The campaign office.
    Supervisor,
    /// The department or shop the case is assigned to.
    Assignee,
    SupervisorOrAssignee,
    /// The inspector the rectification went to (the grid's, else the filer) or a
    /// supervisor, never whoever rectified it.
    Verifier,
    /// Whoever answers for the case without being its assignee: a supervisor, the
    /// department overseeing its shop, the local authority (属地) of its territory.
    Overseer,
}

/// Everything the life cycle says about one action.
#[derive(Clone, Copy, Debug)]
pub struct ActionRule {
    pub action: Action,
    /// The statuses it may be taken from.
    pub from: &'static [CaseStatus],
    /// The status it leads to; `None` leaves the status as it is (the clock requests).
    pub to: Option<CaseStatus>,
    pub by: Actor,
    /// A reason is required.
    pub needs_note: bool,
    /// The kind of this case's photos it may name.
    pub takes_photos: Option<PhotoKind>,
}

use CaseStatus::{Assigned, Cancelled, Closed, Disputed, InProgress, Rectified, Reported};

/// Under way: where the deadline's clock runs.
const UNDER_WAY: &[CaseStatus] = &[Assigned, InProgress];

const fn rule(
    action: Action,
    from: &'static [CaseStatus],
    to: Option<CaseStatus>,
    by: Actor,
    needs_note: bool,
    takes_photos: Option<PhotoKind>,
) -> ActionRule {
    ActionRule {
        action,
        from,
        to,
        by,
        needs_note,
        takes_photos,
    }
}

/// The life cycle, one row per action: from, to (`None`: the status stays), by whom,
/// whether a reason is needed, and the photos it may name.
#[rustfmt::skip]
pub const ACTIONS: [ActionRule; 15] = [
    rule(Action::Assign,            &[Reported, Assigned, Disputed], Some(Assigned),   Actor::Supervisor,           false, None),
    rule(Action::Accept,            &[Assigned],                     Some(InProgress), Actor::Assignee,             false, None),
    rule(Action::Dispute,           &[Assigned],                     Some(Disputed),   Actor::Assignee,             true,  None),
    rule(Action::Rectify,           &[InProgress],                   Some(Rectified),  Actor::Assignee,             false, Some(PhotoKind::After)),
    rule(Action::Verify,            &[Rectified],                    Some(Closed),     Actor::Verifier,             false, Some(PhotoKind::Verification)),
    rule(Action::Reject,            &[Rectified],                    Some(Assigned),   Actor::Verifier,             true,  None),
    rule(Action::Cancel,            &[Reported, Assigned, Disputed], Some(Cancelled),  Actor::Supervisor,           true,  None),
    rule(Action::Reopen,            &[Closed],                       Some(Assigned),   Actor::Supervisor,           true,  None),
    rule(Action::Duplicate,         &CaseStatus::OPEN,               Some(Closed),     Actor::Supervisor,           true,  None),
    rule(Action::RequestExtension,  UNDER_WAY,                       None,             Actor::Assignee,             true,  None),
    rule(Action::DecideExtension,   UNDER_WAY,                       None,             Actor::Supervisor,           false, None),
    rule(Action::RequestSuspension, UNDER_WAY,                       None,             Actor::Assignee,             true,  None),
    rule(Action::DecideSuspension,  UNDER_WAY,                       None,             Actor::Supervisor,           false, None),
    rule(Action::Resume,            UNDER_WAY,                       None,             Actor::SupervisorOrAssignee, false, None),
    rule(Action::Chase,             UNDER_WAY,                       None,             Actor::Overseer,             true,  None),
];

impl Action {
    /// Its row of [`ACTIONS`], which lists the actions in the order they are declared
    /// (tested below).
    pub fn rule(self) -> &'static ActionRule {
        &ACTIONS[self as usize]
    }

    /// The status `self` leads to from `from`, or `None` when the life cycle does not allow it.
    pub fn next(self, from: CaseStatus) -> Option<CaseStatus> {
        let rule = self.rule();
        rule.from.contains(&from).then_some(rule.to.unwrap_or(from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_of_every_action_from_every_status() {
        let expected: &[(Action, &[(CaseStatus, CaseStatus)])] = &[
            (
                Action::Assign,
                &[
                    (Reported, Assigned),
                    (Assigned, Assigned),
                    (Disputed, Assigned),
                ],
            ),
            (Action::Accept, &[(Assigned, InProgress)]),
            (Action::Dispute, &[(Assigned, Disputed)]),
            (Action::Rectify, &[(InProgress, Rectified)]),
            (Action::Verify, &[(Rectified, Closed)]),
            (Action::Reject, &[(Rectified, Assigned)]),
            (
                Action::Cancel,
                &[
                    (Reported, Cancelled),
                    (Assigned, Cancelled),
                    (Disputed, Cancelled),
                ],
            ),
            (Action::Reopen, &[(Closed, Assigned)]),
            (
                Action::Duplicate,
                &[
                    (Reported, Closed),
                    (Assigned, Closed),
                    (InProgress, Closed),
                    (Disputed, Closed),
                    (Rectified, Closed),
                ],
            ),
            (
                Action::RequestExtension,
                &[(Assigned, Assigned), (InProgress, InProgress)],
            ),
            (
                Action::DecideExtension,
                &[(Assigned, Assigned), (InProgress, InProgress)],
            ),
            (
                Action::RequestSuspension,
                &[(Assigned, Assigned), (InProgress, InProgress)],
            ),
            (
                Action::DecideSuspension,
                &[(Assigned, Assigned), (InProgress, InProgress)],
            ),
            (
                Action::Resume,
                &[(Assigned, Assigned), (InProgress, InProgress)],
            ),
            (
                Action::Chase,
                &[(Assigned, Assigned), (InProgress, InProgress)],
            ),
        ];
        for (action, allowed) in expected {
            for from in CaseStatus::ALL {
                let want = allowed.iter().find(|(f, _)| f == from).map(|(_, to)| *to);
                assert_eq!(action.next(*from), want, "{action} from {from}");
            }
        }
        assert_eq!(expected.len(), Action::ALL.len());
        for action in Action::ALL {
            assert_eq!(action.rule().action, *action, "{action} has its row");
        }
    }
}
