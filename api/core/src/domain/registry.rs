//! Words of the registry: area levels and department kinds.

use crate::domain::case::string_enum;

string_enum!(
    /// district (区县) → subdistrict (街道) → community (社区) → grid (网格).
    AreaLevel { District => "district", Subdistrict => "subdistrict", Community => "community", Grid => "grid" }
);

string_enum!(
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
