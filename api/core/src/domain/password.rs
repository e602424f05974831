//! A password someone chose: 10–128 characters and not all one kind of character.

use crate::error::Msg;

#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

impl NewPassword {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, Msg> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(Msg::fixed("at least 10 characters", "至少 10 个字符"));
        }
        if chars > Self::MAX_CHARS {
            return Err(Msg::fixed("at most 128 characters", "最多 128 个字符"));
        }
        let mut distinct: Vec<char> = raw.chars().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < 4 {
            return Err(Msg::fixed(
                "too simple: use at least 4 different characters",
                "过于简单：至少使用 4 个不同的字符",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_long_or_trivial_passwords_are_refused() {
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse(&"ab1!".repeat(40)).is_err());
        assert!(NewPassword::parse("aaaaaaaaaaaa").is_err());
        assert!(NewPassword::parse("correct horse battery").is_ok());
        assert!(NewPassword::parse("巡查员密码很安全啊").is_err());
        assert!(NewPassword::parse("巡查员的密码很安全啊").is_ok());
    }

    #[test]
    fn debug_output_hides_the_password() {
        let p = NewPassword::parse("correct horse battery").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }
}
