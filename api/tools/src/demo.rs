//! `xuncha seed-demo`: a small demo city (areas, departments, a few hundred shopfronts and
//! one user per role) so a newcomer can try every flow in minutes. The ten categories come
//! with the migrations. Running it again keeps the city and gives the demo users new
//! passwords.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use entity::ids::{DepartmentId, ShopfrontId};
use entity::{areas, departments, shopfronts, users};

use xuncha_core::domain::geometry::Area;
use xuncha_core::domain::{
    AreaLevel, CreditCode, DepartmentKind, GeoPoint, NewPassword, Role, Username,
};
use xuncha_core::error::FieldErrors;
use xuncha_core::services::users::RoleScope;
use xuncha_core::services::{now, registry, users as user_service};
use xuncha_core::state::AppState;

/// South-west corner and cell size (degrees) of the demo grid: a district of 3
/// sub-districts × 2 communities × 2 grids.
const ORIGIN: (f64, f64) = (30.240, 120.150);
const GRID_CELL: f64 = 0.01;

const DEPARTMENTS: [(&str, &str, DepartmentKind); 7] = [
    ("CG", "示范区城市管理局", DepartmentKind::UrbanManagement),
    ("JJ", "示范区交警大队", DepartmentKind::TrafficPolice),
    ("HW", "示范区环卫所", DepartmentKind::Sanitation),
    ("ZJ", "示范区住房和城乡建设局", DepartmentKind::Housing),
    ("YL", "示范区园林绿化所", DepartmentKind::Landscaping),
    ("JD-01", "东湖街道办事处", DepartmentKind::SubdistrictOffice),
    ("JD-02", "西山街道办事处", DepartmentKind::SubdistrictOffice),
];

const SHOP_KINDS: [&str; 10] = [
    "面馆",
    "便利店",
    "水果店",
    "五金店",
    "药房",
    "理发店",
    "早餐店",
    "烟酒店",
    "奶茶店",
    "汽修店",
];
const SHOP_NAMES: [&str; 10] = [
    "老张",
    "幸福",
    "红星",
    "阿香",
    "平安",
    "兴隆",
    "小李",
    "金牛",
    "好邻居",
    "福满",
];
const STREETS: [&str; 6] = ["解放路", "中山路", "湖滨路", "建国路", "延安路", "庆春路"];

pub struct DemoUser {
    pub username: &'static str,
    pub role: Role,
    pub password: String,
}

/// Creates the user, or gives an existing one `password`.
pub async fn ensure_user(
    state: &AppState,
    username: &str,
    display_name: &str,
    scope: RoleScope,
    password: &str,
) -> anyhow::Result<()> {
    let new_password =
        NewPassword::parse(password).map_err(|m| anyhow::anyhow!("password refused: {}", m.en))?;
    let existing = users::Entity::find()
        .filter(users::Column::Username.eq(username))
        .one(&state.db)
        .await?;
    match existing {
        Some(user) => user_service::reset_password(state, user.id, new_password)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        None => {
            let mut errors = FieldErrors::default();
            let scope = RoleScope::parse(
                scope.role,
                scope.department_id,
                scope.shopfront_id,
                &mut errors,
            )
            .ok_or_else(|| anyhow::anyhow!("user {username} has a bad scope"))?;
            user_service::create(
                state,
                user_service::NewUser {
                    username: Username::parse(username).map_err(|m| anyhow::anyhow!("{}", m.en))?,
                    password: new_password,
                    display_name: display_name.to_owned(),
                    scope,
                    areas: Vec::new(),
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    Ok(())
}

pub async fn seed(state: &AppState) -> anyhow::Result<Vec<DemoUser>> {
    let department_ids = ensure_departments(state).await?;
    ensure_areas(state, &department_ids).await?;
    let first_shop = ensure_shopfronts(state, &department_ids).await?;

    let city_management = department_ids.first().copied();
    let plan = [
        (
            "demo.supervisor",
            "督查组 王督查",
            Role::Supervisor,
            None,
            None,
        ),
        (
            "demo.inspector",
            "巡查员 李巡查",
            Role::Inspector,
            None,
            None,
        ),
        (
            "demo.department",
            "城管局 赵科长",
            Role::Department,
            city_management,
            None,
        ),
        (
            "demo.shopfront",
            "老张面馆 张老板",
            Role::Shopfront,
            None,
            Some(first_shop),
        ),
        ("demo.admin", "系统管理员", Role::Admin, None, None),
    ];
    let mut created = Vec::new();
    for (username, display_name, role, department_id, shopfront_id) in plan {
        let password = xuncha_core::auth::refresh::generate()[..16].to_owned();
        ensure_user(
            state,
            username,
            display_name,
            RoleScope {
                role,
                department_id,
                shopfront_id,
            },
            &password,
        )
        .await?;
        created.push(DemoUser {
            username,
            role,
            password,
        });
    }
    file_demo_cases(state).await?;
    ensure_inspection_plan(state).await?;
    Ok(created)
}

/// Sites of several kinds in each grid and a scored checklist, so a supervisor can start
/// an unannounced-inspection campaign at once. Made once.
async fn ensure_inspection_plan(state: &AppState) -> anyhow::Result<()> {
    use entity::inspection_sites;
    use entity::vocabulary::SiteType;
    use xuncha_core::services::inspections::{checklists, sites};

    if inspection_sites::Entity::find()
        .filter(inspection_sites::Column::Code.eq("DEMO-SITE-01"))
        .one(&state.db)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let fail = |e: xuncha_core::error::Error| anyhow::anyhow!("{e}");
    let grids = areas::Entity::find()
        .filter(areas::Column::Level.eq(AreaLevel::Grid))
        .all(&state.db)
        .await?;
    let kinds = [
        (SiteType::StreetShop, "沿街商铺"),
        (SiteType::Market, "农贸市场"),
        (SiteType::BackStreet, "背街小巷"),
        (SiteType::PublicToilet, "公共厕所"),
    ];
    let mut number = 0;
    for grid in &grids {
        // The demo's grids are rectangles: their boxes' middle is inside.
        let (Some(south), Some(west), Some(north), Some(east)) =
            (grid.min_lat, grid.min_lon, grid.max_lat, grid.max_lon)
        else {
            continue;
        };
        let point = ((south + north) / 2.0, (west + east) / 2.0);
        for (offset, (site_type, kind)) in kinds.iter().enumerate() {
            number += 1;
            let shift = offset as f64 * 0.0004;
            sites::create(
                state,
                sites::SiteInput {
                    code: format!("DEMO-SITE-{number:02}"),
                    name: format!("{}{kind}{number}", grid.name),
                    site_type: *site_type,
                    area_id: grid.id,
                    location: GeoPoint::new(point.0 + shift, point.1 + shift)
                        .map_err(|m| anyhow::anyhow!("{}", m.en))?,
                    address: format!("{} {number} 号", grid.name),
                    shopfront_id: None,
                    active: true,
                },
            )
            .await
            .map_err(fail)?;
        }
    }
    let item = |title: &str, max_points: f64, category: Option<&str>| checklists::ItemInput {
        title: title.into(),
        max_points,
        category: category.map(Into::into),
    };
    checklists::create(
        state,
        checklists::ChecklistInput {
            name: "市容环境卫生检查表".into(),
            description: "明察暗访用：每项按实际情况扣分".into(),
            items: vec![
                item("门前三包落实，无乱堆乱放", 20.0, Some("stall_occupation")),
                item("无乱贴乱画、牛皮癣", 20.0, Some("posting_graffiti")),
                item("车辆停放有序", 20.0, Some("parking")),
                item("地面干净，无垃圾、污水", 25.0, Some("littering_dumping")),
                item("公示牌、责任人信息齐全", 15.0, None),
            ],
        },
    )
    .await
    .map_err(fail)?;
    Ok(())
}

/// Twelve cases by the demo inspector around the district, each with a before photo, so
/// lists, maps and photo views have something to show. Filed once.
async fn file_demo_cases(state: &AppState) -> anyhow::Result<()> {
    use xuncha_core::auth::{CurrentUser, SignedIn};
    use xuncha_core::domain::{GeoPoint, PhotoKind, Severity};
    use xuncha_core::services::{photos, reports};

    let inspector = users::Entity::find()
        .filter(users::Column::Username.eq("demo.inspector"))
        .one(&state.db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo inspector missing"))?;
    let filer = CurrentUser {
        id: inspector.id,
        username: inspector.username.clone(),
        role: Role::Inspector,
        department_id: None,
        shopfront_id: None,
    };
    let signed_in = SignedIn {
        user_id: inspector.id,
        password_epoch_ms: inspector.password_changed_at.timestamp_millis(),
    };
    let categories = [
        "parking",
        "stall_occupation",
        "littering_dumping",
        "posting_graffiti",
        "wires_banners",
        "illegal_building",
    ];
    for i in 0..12u32 {
        // Stable client ids make re-runs idempotent.
        let client_id = Uuid::from_u128(0x0000_0000_0000_7000_8000_de00_0000_0000 + u128::from(i));
        let seeded = entity::cases::Entity::find()
            .filter(entity::cases::Column::ClientId.eq(client_id))
            .one(&state.db)
            .await?;
        if seeded.is_some() {
            continue;
        }
        let point = GeoPoint::new(
            ORIGIN.0 + 0.003 + f64::from(i % 4) * 0.009,
            ORIGIN.1 + 0.004 + f64::from(i / 4) * 0.009,
        )
        .map_err(|m| anyhow::anyhow!("{}", m.en))?;
        let filed = reports::file(
            state,
            &signed_in,
            reports::NewReport {
                client_id,
                category: categories[i as usize % categories.len()].to_owned(),
                description: format!(
                    "示范案件 {}：{}",
                    i + 1,
                    STREETS[i as usize % STREETS.len()]
                ),
                point,
                lat: point.lat(),
                lon: point.lon(),
                accuracy_m: Some(10.0),
                address: format!("示范区{}{}号", STREETS[i as usize % STREETS.len()], 10 + i),
                observed_at: now() - chrono::Duration::minutes(i64::from(i) * 17),
                severity: if i % 5 == 0 {
                    Severity::High
                } else {
                    Severity::Normal
                },
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        if let reports::Filed::Created(case) = filed {
            let photo = demo_photo(i)?;
            let add = async {
                let photo = xuncha_core::services::uploads::SpooledFile::of(&photo).await?;
                let owner = photos::case_owner(state, &filer, case.id, PhotoKind::Before).await?;
                photos::add_to(state, &filer, owner, PhotoKind::Before, &[photo], None).await
            };
            add.await.map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    Ok(())
}

/// A 800×600 JPEG of coloured bands, different for each case.
fn demo_photo(seed: u32) -> anyhow::Result<Vec<u8>> {
    let (width, height) = (800u16, 600u16);
    let mut pixels = Vec::with_capacity(usize::from(width) * usize::from(height) * 3);
    for y in 0..u32::from(height) {
        for x in 0..u32::from(width) {
            let band = (x / 100 + y / 150 + seed) % 6;
            pixels.extend([
                (band * 40) as u8,
                (200 - band * 25) as u8,
                ((x + y * seed) % 256) as u8,
            ]);
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 80).encode(
        &pixels,
        width,
        height,
        jpeg_encoder::ColorType::Rgb,
    )?;
    Ok(out)
}

async fn ensure_departments(state: &AppState) -> anyhow::Result<Vec<DepartmentId>> {
    let mut ids = Vec::new();
    for (code, name, kind) in DEPARTMENTS {
        let code = format!("DEMO-{code}");
        let existing = departments::Entity::find()
            .filter(departments::Column::Code.eq(&code))
            .one(&state.db)
            .await?;
        let id = match existing {
            Some(row) => row.id,
            None => {
                registry::create_department(
                    &state.db,
                    registry::DepartmentInput {
                        code,
                        name: name.to_owned(),
                        kind,
                        contact: "0571-00000000".into(),
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .id
            }
        };
        ids.push(id);
    }
    Ok(ids)
}

fn rectangle(south: f64, west: f64, height: f64, width: f64) -> String {
    let (north, east) = (south + height, west + width);
    serde_json::json!({
        "type": "Polygon",
        "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]]
    })
    .to_string()
}

/// The district, three sub-districts (the first two with their offices as local
/// authority, the district office for the third through the city management bureau), two
/// communities each and two grids per community; and the city-wide rules.
async fn ensure_areas(state: &AppState, department_ids: &[DepartmentId]) -> anyhow::Result<()> {
    if areas::Entity::find()
        .filter(areas::Column::Code.eq("339901"))
        .one(&state.db)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let fail = |e: xuncha_core::error::Error| anyhow::anyhow!("{e}");
    let boundary = |south: f64, west: f64, height: f64, width: f64| -> anyhow::Result<Area> {
        Area::from_geojson(&serde_json::from_str(&rectangle(
            south, west, height, width,
        ))?)
        .map_err(|m| anyhow::anyhow!("{}", m.en))
    };
    let (south, west) = ORIGIN;
    let district = registry::create_area(
        state,
        registry::AreaInput {
            code: "339901".into(),
            name: "示范区".into(),
            level: AreaLevel::District,
            parent_id: None,
            boundary: boundary(south, west, 4.0 * GRID_CELL, 3.0 * GRID_CELL)?,
            local_authority_id: department_ids.first().copied(),
        },
    )
    .await
    .map_err(fail)?;
    let subdistricts = ["东湖街道", "西山街道", "南桥街道"];
    for (s, sub_name) in subdistricts.iter().enumerate() {
        let sub_west = west + s as f64 * GRID_CELL;
        let sub_code = format!("339901{:03}", s + 1);
        let sub = registry::create_area(
            state,
            registry::AreaInput {
                code: sub_code.clone(),
                name: (*sub_name).to_owned(),
                level: AreaLevel::Subdistrict,
                parent_id: Some(district.id),
                boundary: boundary(south, sub_west, 4.0 * GRID_CELL, GRID_CELL)?,
                local_authority_id: department_ids.get(5 + s).copied(),
            },
        )
        .await
        .map_err(fail)?;
        for c in 0..2 {
            let com_south = south + c as f64 * 2.0 * GRID_CELL;
            let com_code = format!("{sub_code}{:03}", c + 1);
            let community = registry::create_area(
                state,
                registry::AreaInput {
                    code: com_code.clone(),
                    name: format!("{}第{}社区", sub_name.trim_end_matches("街道"), c + 1),
                    level: AreaLevel::Community,
                    parent_id: Some(sub.id),
                    boundary: boundary(com_south, sub_west, 2.0 * GRID_CELL, GRID_CELL)?,
                    local_authority_id: None,
                },
            )
            .await
            .map_err(fail)?;
            for g in 0..2 {
                registry::create_area(
                    state,
                    registry::AreaInput {
                        code: format!("{com_code}{:02}", g + 1),
                        name: format!("{}网格{}", community.name, g + 1),
                        level: AreaLevel::Grid,
                        parent_id: Some(community.id),
                        boundary: boundary(
                            com_south + g as f64 * GRID_CELL,
                            sub_west,
                            GRID_CELL,
                            GRID_CELL,
                        )?,
                        local_authority_id: None,
                    },
                )
                .await
                .map_err(fail)?;
            }
        }
    }
    for (category, department) in [
        ("parking", 1),
        ("jaywalking", 1),
        ("littering_dumping", 2),
        ("illegal_building", 3),
        ("animals_planting", 4),
    ] {
        registry::create_rule(state, category.into(), None, department_ids[department])
            .await
            .map_err(fail)?;
    }
    Ok(())
}

/// 300 shopfronts along six streets, each with a valid credit code, overseen by a
/// sub-district office. Returns the first.
async fn ensure_shopfronts(
    state: &AppState,
    department_ids: &[DepartmentId],
) -> anyhow::Result<ShopfrontId> {
    const COUNT: usize = 300;
    let overseers = &department_ids[5..];
    let code_of = |i: usize| {
        CreditCode::with_check_digit(&format!("92330199MA{i:07}"))
            .ok_or_else(|| anyhow::anyhow!("bad demo credit code {i}"))
    };
    let mut rows = Vec::with_capacity(COUNT);
    for i in 0..COUNT {
        let street = i % STREETS.len();
        // Six streets running east-west, shops every ~25 m along them.
        let location = GeoPoint::new(
            ORIGIN.0 + 0.004 + street as f64 * 0.006,
            ORIGIN.1 + 0.001 + (i / STREETS.len()) as f64 * 0.00055,
        )
        .map_err(|m| anyhow::anyhow!("{}", m.en))?;
        rows.push(registry::ShopfrontInput {
            name: format!(
                "{}{}",
                SHOP_NAMES[i % SHOP_NAMES.len()],
                SHOP_KINDS[(i / SHOP_NAMES.len()) % SHOP_KINDS.len()]
            ),
            credit_code: code_of(i)?,
            address: format!("示范区{}{}号", STREETS[street], i + 1),
            contact: "店主".into(),
            phone: format!("1380000{i:04}"),
            location,
            zone: registry::FrontageZone::Radius(registry::DEFAULT_FRONTAGE_RADIUS_M),
            department_id: overseers.get(i % overseers.len().max(1)).copied(),
        });
    }
    registry::import_shopfronts(state, rows, false)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let first = shopfronts::Entity::find()
        .filter(shopfronts::Column::CreditCode.eq(code_of(0)?.as_str()))
        .one(&state.db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo shopfront missing"))?;
    Ok(first.id)
}
