//! Object keys are built here and nowhere else, so every object has a predictable,
//! collision-free place and the sweeper knows what belongs to whom.

use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// Written and read back by `/readyz`-style checks and the storage round-trip test.
    pub fn probe(id: Uuid) -> Self {
        Self(format!("probes/{id}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_fixed_prefixes() {
        let id = Uuid::now_v7();
        assert_eq!(ObjectKey::probe(id).as_str(), format!("probes/{id}"));
    }
}
