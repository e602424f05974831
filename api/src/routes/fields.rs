//! Compact lists for phones: `?fields=id,status,deadline_at` answers each item with only
//! the named top-level fields (and always `id`). The names are those of the item's
//! OpenAPI schema, so the list of what may be asked for is the document's, in one place.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;
use utoipa::PartialSchema;
use utoipa::openapi::{RefOr, schema::Schema};

use crate::error::{FieldErrors, Msg};

/// The fields a list's items keep; `None`: all of them.
pub struct Selected(Option<BTreeSet<String>>);

/// Parses `fields` against the properties of `Item`'s schema.
pub fn parse<Item: PartialSchema>(raw: Option<&str>, errors: &mut FieldErrors) -> Selected {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Selected(None);
    };
    let known: BTreeSet<String> = match Item::schema() {
        RefOr::T(Schema::Object(object)) => object.properties.keys().cloned().collect(),
        _ => BTreeSet::new(),
    };
    let mut wanted: BTreeSet<String> = BTreeSet::from(["id".to_owned()]);
    let mut unknown = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if known.contains(name) {
            wanted.insert(name.to_owned());
        } else {
            unknown.push(name.to_owned());
        }
    }
    if !unknown.is_empty() {
        let names = known.iter().cloned().collect::<Vec<_>>().join(", ");
        errors.add(
            "fields",
            Msg::new(
                format!("unknown: {}; known: {names}", unknown.join(", ")),
                format!("未知字段：{}；可选：{names}", unknown.join(", ")),
            ),
        );
    }
    Selected(Some(wanted))
}

impl Selected {
    /// The items as JSON, each with only the selected fields.
    pub fn apply<T: Serialize>(&self, items: Vec<T>) -> Vec<Value> {
        items
            .into_iter()
            .map(|item| {
                let mut value = serde_json::to_value(item).unwrap_or(Value::Null);
                if let (Some(wanted), Value::Object(map)) = (&self.0, &mut value) {
                    map.retain(|key, _| wanted.contains(key));
                }
                value
            })
            .collect()
    }
}
