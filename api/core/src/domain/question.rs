//! The extra questions a category asks when a case is filed (Open311 "attributes"), and
//! checking the answers a client gives.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::Msg;

entity::stored_enum!(
    /// Open311 GeoReport v2 attribute datatypes.
    Datatype {
        String => "string",
        Number => "number",
        Datetime => "datetime",
        Text => "text",
        Singlevaluelist => "singlevaluelist",
        Multivaluelist => "multivaluelist",
    }
);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub key: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Lowercase letters, digits and `_`; unique within the category.
    pub code: String,
    /// The question as the reporter reads it.
    pub description: String,
    pub datatype: Datatype,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub datatype_description: String,
    #[serde(default)]
    pub order: u32,
    /// The choices of a single- or multi-value list.
    #[serde(default)]
    pub values: Vec<Choice>,
}

/// At most this many questions per category.
pub const MAX_QUESTIONS: usize = 20;

pub fn parse_questions(questions: Vec<Question>) -> Result<Vec<Question>, Msg> {
    if questions.len() > MAX_QUESTIONS {
        return Err(Msg::fixed("at most 20 questions", "最多 20 个问题"));
    }
    let mut codes = HashSet::new();
    for q in &questions {
        let code_ok = (1..=40).contains(&q.code.len())
            && q.code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !code_ok || !codes.insert(q.code.as_str()) {
            return Err(Msg::new(
                format!("question code {:?}: 1-40 of a-z, 0-9, _ and unique", q.code),
                format!("问题编码 {:?}：须为 1-40 个 a-z、0-9、_ 且不重复", q.code),
            ));
        }
        if !(1..=200).contains(&q.description.chars().count())
            || q.datatype_description.chars().count() > 200
        {
            return Err(Msg::new(
                format!("question {}: a description of 1-200 characters", q.code),
                format!("问题 {}：描述须为 1-200 个字符", q.code),
            ));
        }
        let is_list = matches!(
            q.datatype,
            Datatype::Singlevaluelist | Datatype::Multivaluelist
        );
        let keys: HashSet<&str> = q.values.iter().map(|v| v.key.as_str()).collect();
        let values_ok = if is_list {
            !q.values.is_empty()
                && q.values.len() <= 100
                && keys.len() == q.values.len()
                && q.values.iter().all(|v| {
                    (1..=40).contains(&v.key.chars().count())
                        && (1..=100).contains(&v.name.chars().count())
                })
        } else {
            q.values.is_empty()
        };
        if !values_ok {
            return Err(Msg::new(
                format!(
                    "question {}: lists need 1-100 values with unique keys; other types none",
                    q.code
                ),
                format!(
                    "问题 {}：列表须有 1-100 个键不重复的选项，其他类型不应有选项",
                    q.code
                ),
            ));
        }
    }
    Ok(questions)
}

/// Checks the answers (`code → values`, several for a multi-value list) against the
/// questions. Returns the answers to keep, or the code of the first bad one and why.
pub fn check_answers(
    questions: &[Question],
    given: &HashMap<String, Vec<String>>,
) -> Result<serde_json::Map<String, serde_json::Value>, (String, Msg)> {
    let mut kept = serde_json::Map::new();
    for code in given.keys() {
        if !questions.iter().any(|q| &q.code == code) {
            return Err((
                code.clone(),
                Msg::fixed("not a question of this service", "不是该类别的问题"),
            ));
        }
    }
    for q in questions {
        let answers: Vec<&str> = given
            .get(&q.code)
            .map(|v| {
                v.iter()
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if answers.is_empty() {
            if q.required {
                return Err((q.code.clone(), Msg::fixed("is required", "必填")));
            }
            continue;
        }
        let bad = |why: &'static str, zh: &'static str| Err((q.code.clone(), Msg::fixed(why, zh)));
        let value = match q.datatype {
            Datatype::Multivaluelist => {
                if answers
                    .iter()
                    .any(|a| !q.values.iter().any(|v| v.key == *a))
                {
                    return bad("not one of the listed keys", "不在可选项中");
                }
                serde_json::json!(answers)
            }
            _ if answers.len() > 1 => return bad("takes one answer", "只能有一个答案"),
            Datatype::Singlevaluelist => {
                if !q.values.iter().any(|v| v.key == answers[0]) {
                    return bad("not one of the listed keys", "不在可选项中");
                }
                serde_json::json!(answers[0])
            }
            Datatype::Number => match answers[0].parse::<f64>() {
                Ok(n) if n.is_finite() => serde_json::json!(answers[0]),
                _ => return bad("must be a number", "须为数字"),
            },
            Datatype::Datetime => {
                if chrono::DateTime::parse_from_rfc3339(answers[0]).is_err() {
                    return bad(
                        "must be a date-time like 2026-11-23T10:00:00+08:00",
                        "须为日期时间，如 2026-11-23T10:00:00+08:00",
                    );
                }
                serde_json::json!(answers[0])
            }
            Datatype::String | Datatype::Text => match super::text::free_text(answers[0], 2000) {
                Ok(text) => serde_json::json!(text),
                Err(why) => return Err((q.code.clone(), why)),
            },
        };
        kept.insert(q.code.clone(), value);
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vehicle() -> Vec<Question> {
        vec![Question {
            code: "vehicle_type".into(),
            description: "What is parked".into(),
            datatype: Datatype::Singlevaluelist,
            required: true,
            datatype_description: String::new(),
            order: 1,
            values: vec![
                Choice {
                    key: "car".into(),
                    name: "Car".into(),
                },
                Choice {
                    key: "ebike".into(),
                    name: "E-bike".into(),
                },
            ],
        }]
    }

    fn answers(pairs: &[(&str, &str)]) -> HashMap<String, Vec<String>> {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            map.entry((*k).into()).or_default().push((*v).into());
        }
        map
    }

    #[test]
    fn answers_are_checked_against_the_questions() {
        let q = vehicle();
        assert_eq!(
            check_answers(&q, &answers(&[("vehicle_type", "car")])).unwrap()["vehicle_type"],
            "car"
        );
        assert_eq!(
            check_answers(&q, &answers(&[])).unwrap_err().0,
            "vehicle_type"
        );
        assert!(check_answers(&q, &answers(&[("vehicle_type", "tank")])).is_err());
        assert!(
            check_answers(
                &q,
                &answers(&[("vehicle_type", "car"), ("vehicle_type", "ebike")])
            )
            .is_err()
        );
        assert_eq!(
            check_answers(&q, &answers(&[("vehicle_type", "car"), ("colour", "red")]))
                .unwrap_err()
                .0,
            "colour"
        );
    }

    #[test]
    fn bad_questions_are_refused() {
        let mut q = vehicle();
        assert!(parse_questions(q.clone()).is_ok());
        q[0].values.clear();
        assert!(parse_questions(q.clone()).is_err(), "a list without values");
        let mut q = vehicle();
        q.push(q[0].clone());
        assert!(parse_questions(q).is_err(), "a repeated code");
        let mut q = vehicle();
        q[0].code = "Bad Code".into();
        assert!(parse_questions(q).is_err());
    }
}
