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
//! the deadline of an assigned or in-progress case without changing its status.

use crate::domain::CaseStatus;
use crate::domain::case::string_enum;

string_enum!(
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
    }
);

impl Action {
    /// The status `self` leads to from `from`, or `None` when the life cycle does not allow it.
    pub fn next(self, from: CaseStatus) -> Option<CaseStatus> {
        use CaseStatus::*;
        match (self, from) {
            (Action::Assign, Reported | Assigned | Disputed) => Some(Assigned),
            (Action::Accept, Assigned) => Some(InProgress),
            (Action::Dispute, Assigned) => Some(Disputed),
            (Action::Rectify, InProgress) => Some(Rectified),
            (Action::Verify, Rectified) => Some(Closed),
            (Action::Reject, Rectified) => Some(Assigned),
            (Action::Cancel, Reported | Assigned | Disputed) => Some(Cancelled),
            (Action::Reopen, Closed) => Some(Assigned),
            (Action::Duplicate, status) if status.is_open() => Some(Closed),
            // Requests about the clock leave the status as it is.
            (
                Action::RequestExtension
                | Action::DecideExtension
                | Action::RequestSuspension
                | Action::DecideSuspension
                | Action::Resume,
                status @ (Assigned | InProgress),
            ) => Some(status),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseStatus::*;

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
        ];
        for (action, allowed) in expected {
            for from in CaseStatus::ALL {
                let want = allowed.iter().find(|(f, _)| f == from).map(|(_, to)| *to);
                assert_eq!(action.next(*from), want, "{action} from {from}");
            }
        }
        assert_eq!(expected.len(), Action::ALL.len());
    }
}
