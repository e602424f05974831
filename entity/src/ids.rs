//! Ids that could be swapped for one another are types of their own: a function that takes
//! a `CaseId` cannot be handed the id of a photo or a visit. Each is a UUID (v7 when made
//! here), stored and sent as one.

/// Declares an id type over a UUID: a sea-orm value (primary and foreign keys), the UUID's
/// JSON and OpenAPI form, `Display` and `FromStr`.
macro_rules! id_types {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {
        $(
            $(#[$meta])*
            #[derive(
                Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
                sea_orm::DeriveValueType, serde::Serialize, serde::Deserialize,
                utoipa::ToSchema,
            )]
            #[serde(transparent)]
            #[schema(value_type = String, format = Uuid)]
            pub struct $name(pub uuid::Uuid);

            impl $name {
                /// A new id, time-ordered (UUIDv7).
                pub fn now_v7() -> Self {
                    Self(uuid::Uuid::now_v7())
                }
            }

            impl sea_orm::TryFromU64 for $name {
                fn try_from_u64(_: u64) -> Result<Self, sea_orm::DbErr> {
                    Err(sea_orm::DbErr::ConvertFromU64(stringify!($name)))
                }
            }

            impl std::str::FromStr for $name {
                type Err = uuid::Error;

                fn from_str(raw: &str) -> Result<Self, uuid::Error> {
                    raw.parse().map(Self)
                }
            }

            // The bare UUID, for what names ids of several kinds (cursors, a case's
            // assignee): a conversion written out, never an implicit one.
            impl From<uuid::Uuid> for $name {
                fn from(id: uuid::Uuid) -> Self {
                    Self(id)
                }
            }

            impl From<$name> for uuid::Uuid {
                fn from(id: $name) -> Self {
                    id.0
                }
            }

            impl std::fmt::Display for $name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    self.0.fmt(f)
                }
            }
        )+
    };
}

id_types!(
    /// A case (案件).
    CaseId,
    /// A photo of a case or a visit.
    PhotoId,
    /// A visit of an inspection campaign to one of its drawn sites.
    VisitId,
    /// An inspection campaign (明察暗访 or an announced round).
    CampaignId,
    /// An inspection site (a place a campaign may draw).
    SiteId,
    /// A signed-in account: an inspector, a supervisor, a department's or a shop's user.
    UserId,
    /// A department (a bureau, a sub-district office or another answerable unit).
    DepartmentId,
    /// A street-facing shop answering for its frontage (门前三包).
    ShopfrontId,
    /// A photo being sent straight to the object store (a direct upload).
    UploadId,
    /// One device's Web Push subscription (a browser's push endpoint and keys).
    PushSubscriptionId,
);
