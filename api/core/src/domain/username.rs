//! Usernames: 3–64 characters of lowercase ASCII letters, digits, `.`, `_` and `-`,
//! starting with a letter or digit, so they are safe in logs, URLs and throttle keys.

use crate::error::Msg;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, Msg> {
        let name = raw.trim().to_ascii_lowercase();
        let valid_chars = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
        let valid_start = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        if (3..=64).contains(&name.len()) && valid_chars && valid_start {
            Ok(Self(name))
        } else {
            Err(Msg::fixed(
                "3-64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit",
                "3-64 个字符：字母、数字、'.'、'_' 或 '-'，以字母或数字开头",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised_to_lowercase() {
        assert_eq!(
            Username::parse(" Inspector.Li ").unwrap().as_str(),
            "inspector.li"
        );
    }

    #[test]
    fn unsafe_or_odd_usernames_are_refused() {
        for bad in [
            "",
            "ab",
            "-abc",
            "a b c",
            "名字名字",
            "x\u{0}yz",
            &"a".repeat(65),
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }
}
