//! The words of a case: its status, severity, source, photo kinds, number and category code.

use crate::error::Msg;

pub use entity::vocabulary::{AssigneeKind, CaseSource, CaseStatus, PhotoKind, Severity};

/// `XC-<year>-<six digits>`.
pub fn case_no(year: i32, sequence: i32) -> String {
    format!("XC-{year}-{sequence:06}")
}

/// Category codes: lowercase snake case, 2–40 characters.
pub fn parse_category_code(raw: &str) -> Result<String, Msg> {
    let valid = (2..=40).contains(&raw.len())
        && raw.starts_with(|c: char| c.is_ascii_lowercase())
        && raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(raw.to_owned())
    } else {
        Err(Msg::fixed(
            "2-40 characters: lowercase letters, digits and '_', starting with a letter",
            "2-40 个字符：小写字母、数字和 '_'，以字母开头",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_round_trips() {
        for s in CaseStatus::ALL {
            assert_eq!(CaseStatus::parse(s.as_str()), Some(*s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::json!(s.as_str())
            );
        }
        for k in PhotoKind::ALL {
            assert_eq!(PhotoKind::parse(k.as_str()), Some(*k));
        }
        assert_eq!(Severity::parse("urgent"), Some(Severity::Urgent));
        assert_eq!(Severity::parse("URGENT"), None);
    }

    #[test]
    fn closed_and_cancelled_are_not_open() {
        assert!(!CaseStatus::Closed.is_open() && !CaseStatus::Cancelled.is_open());
        assert!(CaseStatus::OPEN.iter().all(|s| s.is_open()));
    }

    #[test]
    fn case_numbers_are_zero_padded() {
        assert_eq!(case_no(2026, 123), "XC-2026-000123");
    }

    #[test]
    fn category_codes_are_snake_case() {
        assert!(parse_category_code("parking").is_ok());
        assert!(parse_category_code("vector_control_2").is_ok());
        for bad in ["P", "Parking", "1abc", "has space", "a-b"] {
            assert!(parse_category_code(bad).is_err(), "{bad}");
        }
    }
}
