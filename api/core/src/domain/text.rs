//! Free text people type (descriptions, addresses, notes): one rule for every way in, the
//! internal API and Open311 alike.

use crate::error::Msg;

/// Trimmed text of at most `max_chars` characters, with no control characters but line
/// breaks and tabs (they would corrupt exports, logs and XML answers). Browsers send line
/// breaks as CRLF; they are kept as LF.
pub fn free_text(raw: &str, max_chars: usize) -> Result<String, Msg> {
    let text = raw.trim().replace("\r\n", "\n");
    if text.chars().count() > max_chars {
        return Err(Msg::new(
            format!("at most {max_chars} characters"),
            format!("最多 {max_chars} 个字符"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Msg::fixed("contains control characters", "含有控制字符"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_pass_and_other_control_characters_do_not() {
        assert_eq!(
            free_text("  占道经营\n第二行\t ", 100).unwrap(),
            "占道经营\n第二行"
        );
        for bad in ["a\u{0}b", "a\u{1b}[31mb", "a\u{7f}b", "a\rb", "a\u{85}b"] {
            assert!(free_text(bad, 100).is_err(), "{bad:?}");
        }
        assert!(free_text("一二三", 2).is_err());
        assert_eq!(free_text("a\r\nb", 10).unwrap(), "a\nb");
    }
}
