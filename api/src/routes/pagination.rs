//! Cursor pagination: `?limit=&cursor=` in, `{items, next_cursor}` out. Cursors are
//! opaque to clients (base64 of the last id seen).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use uuid::Uuid;

use crate::error::{FieldErrors, Msg};

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 200;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A list that is whole in one answer (a registry's departments, a case's nearby
    /// duplicates): the same shape as every list, with no next page.
    pub fn whole(items: Vec<T>) -> Self {
        Self {
            items,
            next_cursor: None,
        }
    }
}

/// Collecting items makes a whole page.
impl<T> FromIterator<T> for Page<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        Self::whole(items.into_iter().collect())
    }
}

pub fn parse_limit(raw: Option<u64>, errors: &mut FieldErrors) -> u64 {
    match raw {
        None => DEFAULT_LIMIT,
        Some(limit) if (1..=MAX_LIMIT).contains(&limit) => limit,
        Some(_) => {
            errors.add(
                "limit",
                Msg::fixed("must be from 1 to 200", "须在 1 到 200 之间"),
            );
            DEFAULT_LIMIT
        }
    }
}

pub fn parse_cursor<Id: From<Uuid>>(raw: Option<&str>, errors: &mut FieldErrors) -> Option<Id> {
    let raw = raw?;
    let id = URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok());
    if id.is_none() {
        errors.add(
            "cursor",
            Msg::fixed("not a cursor this API gave out", "无效的分页游标"),
        );
    }
    id.map(Id::from)
}

pub fn cursor_after(last: impl Into<Uuid>) -> String {
    URL_SAFE_NO_PAD.encode(last.into().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips() {
        let id = Uuid::now_v7();
        let mut errors = FieldErrors::default();
        assert_eq!(parse_cursor(Some(&cursor_after(id)), &mut errors), Some(id));
        assert!(errors.is_empty());
    }

    #[test]
    fn bad_limits_and_cursors_are_field_errors() {
        let mut errors = FieldErrors::default();
        parse_limit(Some(0), &mut errors);
        parse_cursor::<Uuid>(Some("not-a-cursor!"), &mut errors);
        assert!(errors.finish().is_err());
        let mut ok = FieldErrors::default();
        assert_eq!(parse_limit(None, &mut ok), DEFAULT_LIMIT);
        assert_eq!(parse_limit(Some(200), &mut ok), 200);
        assert!(ok.is_empty());
    }
}
