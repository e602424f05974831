//! The words the tables store: each column that holds one of a fixed set of words is typed
//! with its enum, so a wrong word cannot be written and a read word need not be parsed.
//! They are stored as their snake_case text (`TEXT`/`VARCHAR` columns, no database enum
//! types), and the same text is their JSON.

/// Declares a word enum stored as text: sea-orm's active enum, serde and OpenAPI, with
/// `ALL`, `as_str` and `parse` (for text from outside: query strings, imports). The texts
/// are taken as bare tokens (`tt`, not `literal`): utoipa does not read a `rename` whose
/// value arrives wrapped as a macro fragment, and would publish the variants' names.
#[macro_export]
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, sea_orm::EnumIter, sea_orm::DeriveActiveEnum,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        #[sea_orm(rs_type = "String", db_type = "Text")]
        pub enum $name {
            $(
                #[sea_orm(string_value = $text)]
                #[serde(rename = $text)]
                $variant
            ),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(raw: &str) -> Option<Self> {
                match raw { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stored_enum!(
    /// The five roles of DESIGN.md.
    Role {
        Admin => "admin",
        Supervisor => "supervisor",
        Inspector => "inspector",
        Department => "department",
        Shopfront => "shopfront",
    }
);

stored_enum!(
    /// Where a case stands in the closed loop (DESIGN.md's life cycle).
    CaseStatus {
        Reported => "reported",
        Assigned => "assigned",
        InProgress => "in_progress",
        Disputed => "disputed",
        Rectified => "rectified",
        Closed => "closed",
        Cancelled => "cancelled",
    }
);

impl CaseStatus {
    /// Still needs work (counts for "open cases nearby" and overdue).
    pub fn is_open(self) -> bool {
        !matches!(self, CaseStatus::Closed | CaseStatus::Cancelled)
    }

    pub const OPEN: [CaseStatus; 5] = [
        CaseStatus::Reported,
        CaseStatus::Assigned,
        CaseStatus::InProgress,
        CaseStatus::Disputed,
        CaseStatus::Rectified,
    ];
}

stored_enum!(Severity { Low => "low", Normal => "normal", High => "high", Urgent => "urgent" });

stored_enum!(
    /// How a case came in: an inspector's patrol, an inspection campaign, or the public.
    CaseSource { Patrol => "patrol", Inspection => "inspection", Public => "public" }
);

stored_enum!(
    /// `before`: the problem; `after`: the fix (by the assignee); `verification`: the check.
    PhotoKind { Before => "before", After => "after", Verification => "verification" }
);

stored_enum!(AssigneeKind { Department => "department", Shopfront => "shopfront" });

stored_enum!(
    /// district (区县) → subdistrict (街道) → community (社区) → grid (网格).
    AreaLevel { District => "district", Subdistrict => "subdistrict", Community => "community", Grid => "grid" }
);

stored_enum!(
    DepartmentKind {
        UrbanManagement => "urban_management",
        TrafficPolice => "traffic_police",
        Sanitation => "sanitation",
        SubdistrictOffice => "subdistrict_office",
        Housing => "housing",
        Landscaping => "landscaping",
        Other => "other",
    }
);

stored_enum!(
    /// How a category's time limit is counted.
    DeadlineUnit { CalendarHours => "calendar_hours", WorkingHours => "working_hours", WorkingDays => "working_days" }
);

stored_enum!(
    /// What a calendar entry makes of its day.
    DayKind { Holiday => "holiday", Workday => "workday" }
);

stored_enum!(
    SiteType {
        StreetShop => "street_shop",
        Market => "market",
        BackStreet => "back_street",
        PublicToilet => "public_toilet",
        BuildingSite => "building_site",
        SmallBusiness => "small_business",
        ResidentialCompound => "residential_compound",
        School => "school",
        Hospital => "hospital",
        TransportHub => "transport_hub",
        Park => "park",
        Other => "other",
    }
);

impl SiteType {
    pub fn name_zh(self) -> &'static str {
        match self {
            SiteType::StreetShop => "沿街商铺",
            SiteType::Market => "农贸市场",
            SiteType::BackStreet => "背街小巷",
            SiteType::PublicToilet => "公共厕所",
            SiteType::BuildingSite => "建筑工地",
            SiteType::SmallBusiness => "“五小”行业",
            SiteType::ResidentialCompound => "居民小区",
            SiteType::School => "学校",
            SiteType::Hospital => "医院",
            SiteType::TransportHub => "车站码头",
            SiteType::Park => "公园广场",
            SiteType::Other => "其他",
        }
    }

    /// A site type by its code or its Chinese name (imports take either).
    pub fn parse_any(raw: &str) -> Option<Self> {
        Self::parse(raw).or_else(|| Self::ALL.iter().copied().find(|t| t.name_zh() == raw))
    }
}

stored_enum!(
    CampaignMode { Unannounced => "unannounced", Announced => "announced" }
);

stored_enum!(CampaignStatus { Open => "open", Closed => "closed" });

stored_enum!(
    /// What a Web Push notice tells its person: a case given to them (`assigned`, or
    /// `reopened` as a recurrence), their rectification sent back (`rejected`), their case
    /// past its deadline (`overdue`), a rectification waiting for their check (`rectified`).
    PushEvent {
        Assigned => "assigned",
        Reopened => "reopened",
        Rejected => "rejected",
        Overdue => "overdue",
        Rectified => "rectified",
        Chased => "chased",
    }
);
