//! Object keys are built here and nowhere else, so every object has a predictable,
//! collision-free place and the sweeper knows what belongs to whom.

use entity::ids::{PhotoId, UploadId, UserId};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// Written and read back by `/readyz`-style checks and the storage round-trip test.
    pub fn probe(id: Uuid) -> Self {
        Self(format!("probes/{id}"))
    }

    /// A photo's rendition, under the id of its owner (a case or a visit).
    pub fn photo(owner: Uuid, photo_id: PhotoId, rendition: Rendition) -> Self {
        Self(format!(
            "{PHOTO_PREFIX}{owner}/{photo_id}/{}",
            rendition.as_str()
        ))
    }

    /// A direct upload's object, under its user, until the finalize makes it a photo.
    pub fn upload(user: UserId, upload: UploadId) -> Self {
        Self(format!("{UPLOAD_PREFIX}{user}/{upload}"))
    }

    /// A day's signed digest of case histories, published for auditors.
    pub fn evidence_digest(day: chrono::NaiveDate) -> Self {
        Self(format!("evidence/digests/{day}.json"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A key already named: listed by the store (the sweep deletes what it listed) or
    /// kept in a row (a direct upload's object).
    pub fn named(key: &str) -> Self {
        Self(key.to_owned())
    }

    /// The photo id inside a photo key, for the orphan sweep.
    pub fn photo_id_of(key: &str) -> Option<PhotoId> {
        let rest = key.strip_prefix(PHOTO_PREFIX)?;
        let mut parts = rest.split('/');
        let _case = parts.next()?;
        parts.next()?.parse().ok()
    }
}

pub const PHOTO_PREFIX: &str = "photos/";
/// Direct uploads in flight: the only keys a presigned URL is handed out for.
pub const UPLOAD_PREFIX: &str = "uploads/";

/// The three renditions of a photo, each an object of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rendition {
    /// The bytes as uploaded, untouched: the evidence.
    Original,
    /// 1280 px JPEG, orientation applied, metadata stripped.
    Preview,
    /// 320 px JPEG.
    Thumbnail,
}

impl Rendition {
    pub const ALL: [Rendition; 3] = [
        Rendition::Original,
        Rendition::Preview,
        Rendition::Thumbnail,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rendition::Original => "original",
            Rendition::Preview => "preview",
            Rendition::Thumbnail => "thumbnail",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_fixed_prefixes() {
        let id = PhotoId::now_v7();
        assert_eq!(ObjectKey::probe(id.0).as_str(), format!("probes/{id}"));
        let case = Uuid::now_v7();
        let key = ObjectKey::photo(case, id, Rendition::Preview);
        assert_eq!(key.as_str(), format!("photos/{case}/{id}/preview"));
        assert_eq!(ObjectKey::photo_id_of(key.as_str()), Some(id));
        assert_eq!(ObjectKey::photo_id_of("probes/x"), None);
    }
}
