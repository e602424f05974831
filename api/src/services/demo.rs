//! `xuncha seed-demo`: a small demo city (areas, departments, a few hundred shopfronts and
//! one user per role) so a newcomer can try every flow in minutes. The ten categories come
//! with the migrations. Running it again keeps the city and gives the demo users new
//! passwords.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait,
};
use uuid::Uuid;

use entity::{areas, departments, shopfronts, users};

use crate::domain::{CreditCode, NewPassword, Role, Username};
use crate::error::FieldErrors;
use crate::services::{now, users as user_service};
use crate::state::AppState;

/// South-west corner and cell size (degrees) of the demo grid: a district of 3
/// sub-districts × 2 communities × 2 grids.
const ORIGIN: (f64, f64) = (30.240, 120.150);
const GRID_CELL: f64 = 0.01;

const DEPARTMENTS: [(&str, &str); 7] = [
    ("CG", "示范区城市管理局"),
    ("JJ", "示范区交警大队"),
    ("HW", "示范区环卫所"),
    ("ZJ", "示范区住房和城乡建设局"),
    ("YL", "示范区园林绿化所"),
    ("JD-01", "东湖街道办事处"),
    ("JD-02", "西山街道办事处"),
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

pub async fn seed(state: &AppState) -> anyhow::Result<Vec<DemoUser>> {
    let db = &state.db;
    let department_ids = ensure_departments(db).await?;
    ensure_areas(db).await?;
    let first_shop = ensure_shopfronts(db, &department_ids).await?;

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
        let password = crate::auth::refresh::generate()[..16].to_owned();
        let new_password = NewPassword::parse(&password)
            .map_err(|m| anyhow::anyhow!("generated password refused: {}", m.en))?;
        let existing = users::Entity::find()
            .filter(users::Column::Username.eq(username))
            .one(db)
            .await?;
        match existing {
            Some(user) => {
                user_service::reset_password(state, user.id, new_password)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            None => {
                let mut errors = FieldErrors::default();
                let scope =
                    user_service::RoleScope::parse(role, department_id, shopfront_id, &mut errors)
                        .ok_or_else(|| anyhow::anyhow!("demo user {username} has a bad scope"))?;
                let username_parsed =
                    Username::parse(username).map_err(|m| anyhow::anyhow!("{}", m.en))?;
                user_service::create(
                    state,
                    user_service::NewUser {
                        username: username_parsed,
                        password: new_password,
                        display_name: display_name.to_owned(),
                        scope,
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
        }
        created.push(DemoUser {
            username,
            role,
            password,
        });
    }
    Ok(created)
}

async fn ensure_departments(db: &DatabaseConnection) -> anyhow::Result<Vec<Uuid>> {
    let mut ids = Vec::new();
    for (code, name) in DEPARTMENTS {
        let code = format!("DEMO-{code}");
        let existing = departments::Entity::find()
            .filter(departments::Column::Code.eq(&code))
            .one(db)
            .await?;
        let id = match existing {
            Some(row) => row.id,
            None => {
                let at = now();
                departments::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    code: Set(code),
                    name: Set(name.to_owned()),
                    created_at: Set(at),
                    updated_at: Set(at),
                }
                .insert(db)
                .await?
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

async fn ensure_areas(db: &DatabaseConnection) -> anyhow::Result<()> {
    if areas::Entity::find()
        .filter(areas::Column::Code.eq("339901"))
        .one(db)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let txn = db.begin().await?;
    let at = now();
    let insert =
        |code: String, name: String, level: &str, parent: Option<Uuid>, boundary: String| {
            areas::ActiveModel {
                id: Set(Uuid::now_v7()),
                code: Set(code),
                name: Set(name),
                level: Set(level.to_owned()),
                parent_id: Set(parent),
                boundary: Set(Some(boundary)),
                created_at: Set(at),
                updated_at: Set(at),
            }
        };
    let (south, west) = ORIGIN;
    let district = insert(
        "339901".into(),
        "示范区".into(),
        "district",
        None,
        rectangle(south, west, 4.0 * GRID_CELL, 3.0 * GRID_CELL),
    )
    .insert(&txn)
    .await?;
    let subdistricts = ["东湖街道", "西山街道", "南桥街道"];
    for (s, sub_name) in subdistricts.iter().enumerate() {
        let sub_west = west + s as f64 * GRID_CELL;
        let sub_code = format!("339901{:03}", s + 1);
        let sub = insert(
            sub_code.clone(),
            (*sub_name).to_owned(),
            "subdistrict",
            Some(district.id),
            rectangle(south, sub_west, 4.0 * GRID_CELL, GRID_CELL),
        )
        .insert(&txn)
        .await?;
        for c in 0..2 {
            let com_south = south + c as f64 * 2.0 * GRID_CELL;
            let com_code = format!("{sub_code}{:03}", c + 1);
            let community = insert(
                com_code.clone(),
                format!("{}第{}社区", sub_name.trim_end_matches("街道"), c + 1),
                "community",
                Some(sub.id),
                rectangle(com_south, sub_west, 2.0 * GRID_CELL, GRID_CELL),
            )
            .insert(&txn)
            .await?;
            for g in 0..2 {
                insert(
                    format!("{com_code}{:02}", g + 1),
                    format!("{}网格{}", community.name, g + 1),
                    "grid",
                    Some(community.id),
                    rectangle(
                        com_south + g as f64 * GRID_CELL,
                        sub_west,
                        GRID_CELL,
                        GRID_CELL,
                    ),
                )
                .insert(&txn)
                .await?;
            }
        }
    }
    txn.commit().await?;
    Ok(())
}

/// 300 shopfronts along six streets, each with a valid credit code, overseen by a
/// sub-district office. Returns the first.
async fn ensure_shopfronts(
    db: &DatabaseConnection,
    department_ids: &[Uuid],
) -> anyhow::Result<Uuid> {
    const COUNT: usize = 300;
    let overseers = &department_ids[5..];
    let code_of = |i: usize| {
        CreditCode::with_check_digit(&format!("92330199MA{i:07}"))
            .ok_or_else(|| anyhow::anyhow!("bad demo credit code {i}"))
    };
    let first_code = code_of(0)?;
    if let Some(shop) = shopfronts::Entity::find()
        .filter(shopfronts::Column::CreditCode.eq(first_code.as_str()))
        .one(db)
        .await?
    {
        return Ok(shop.id);
    }
    let txn = db.begin().await?;
    let at = now();
    let ids: Vec<Uuid> = (0..COUNT).map(|_| Uuid::now_v7()).collect();
    let mut rows = Vec::with_capacity(COUNT);
    for (i, id) in ids.iter().enumerate() {
        let name = format!(
            "{}{}",
            SHOP_NAMES[i % SHOP_NAMES.len()],
            SHOP_KINDS[(i / SHOP_NAMES.len()) % SHOP_KINDS.len()]
        );
        let street = STREETS[i % STREETS.len()];
        rows.push(shopfronts::ActiveModel {
            id: Set(*id),
            name: Set(name),
            credit_code: Set(Some(code_of(i)?.as_str().to_owned())),
            address: Set(format!("示范区{street}{}号", i + 1)),
            department_id: Set(overseers.get(i % overseers.len().max(1)).copied()),
            created_at: Set(at),
            updated_at: Set(at),
        });
    }
    for chunk in rows.chunks(50) {
        shopfronts::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    ids.first()
        .copied()
        .ok_or_else(|| anyhow::anyhow!("no demo shopfronts"))
}
