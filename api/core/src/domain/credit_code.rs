//! The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from a
//! 31-symbol alphabet, the last a check digit over the first 17.

use crate::error::Msg;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditCode(String);

impl CreditCode {
    pub fn parse(raw: &str) -> Result<Self, Msg> {
        let code = raw.trim().to_ascii_uppercase();
        let bytes = code.as_bytes();
        if bytes.len() != 18 {
            return Err(Msg::fixed("must be 18 characters", "须为 18 位"));
        }
        let values: Option<Vec<u32>> = bytes.iter().map(|b| value_of(*b)).collect();
        let Some(values) = values else {
            return Err(Msg::fixed(
                "contains a character not used in credit codes (I, O, S, V, Z or a symbol)",
                "含有信用代码不使用的字符（I、O、S、V、Z 或符号）",
            ));
        };
        if values.get(17).copied() != check_value(&values[..17]) {
            return Err(Msg::fixed("wrong check digit", "校验码错误"));
        }
        Ok(Self(code))
    }

    /// Completes 17 characters with their check digit.
    pub fn with_check_digit(first17: &str) -> Option<Self> {
        let values: Option<Vec<u32>> = first17.bytes().map(value_of).collect();
        let values = values.filter(|v| v.len() == 17)?;
        let check = check_value(&values)?;
        let digit = char::from(*ALPHABET.get(usize::try_from(check).ok()?)?);
        Some(Self(format!("{first17}{digit}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn value_of(byte: u8) -> Option<u32> {
    ALPHABET
        .iter()
        .position(|c| *c == byte)
        .and_then(|p| u32::try_from(p).ok())
}

fn check_value(first17: &[u32]) -> Option<u32> {
    if first17.len() != 17 {
        return None;
    }
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    Some((31 - sum % 31) % 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_codes_pass() {
        // Codes printed on real business licences.
        for code in ["91350100M000100Y43", "91110000600037341L"] {
            assert!(CreditCode::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn a_changed_character_or_bad_symbol_fails() {
        assert!(CreditCode::parse("91350100M000100Y44").is_err());
        assert!(CreditCode::parse("91350100M000100YI3").is_err());
        assert!(CreditCode::parse("91350100M000100Y4").is_err());
    }

    #[test]
    fn a_completed_code_parses() {
        let code = CreditCode::with_check_digit("91330106MA2B00000").unwrap();
        assert_eq!(CreditCode::parse(code.as_str()).unwrap(), code);
    }
}
