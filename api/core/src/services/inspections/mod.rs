//! Unannounced inspections (明察暗访): sites, checklists, campaigns with their verifiable
//! draw, visits that score sites and file cases, and the review that ranks the results.

pub mod campaigns;
pub mod checklists;
pub mod export;
pub mod sites;
pub mod stats;
pub mod summary;
pub mod visits;

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use entity::ids::{DepartmentId, ShopfrontId};
use entity::{areas, departments, shopfronts};

use crate::domain::AreaLevel;
use crate::error::Error;

/// The area tree in memory (a city has a few thousand areas): ancestry, names and the
/// local authority each area inherits.
pub struct AreaTree {
    areas: HashMap<Uuid, areas::Model>,
}

impl AreaTree {
    pub async fn load(db: &impl ConnectionTrait) -> Result<Self, Error> {
        Ok(Self {
            areas: areas::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|a| (a.id, a))
                .collect(),
        })
    }

    pub fn all_ids(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.areas.keys().copied()
    }

    pub fn get(&self, id: Uuid) -> Option<&areas::Model> {
        self.areas.get(&id)
    }

    /// `area`, its parent, and so on up to the root.
    pub fn lineage(&self, area: Uuid) -> impl Iterator<Item = &areas::Model> {
        let mut next = self.areas.get(&area);
        // A depth bound guards against a cycle in hand-edited data.
        let mut steps = 0;
        std::iter::from_fn(move || {
            let current = next?;
            steps += 1;
            next = current
                .parent_id
                .and_then(|p| self.areas.get(&p))
                .filter(|_| steps < 64);
            Some(current)
        })
    }

    /// Whether `area` is `ancestor` or lies under it.
    pub fn within(&self, area: Uuid, ancestor: Uuid) -> bool {
        self.lineage(area).any(|a| a.id == ancestor)
    }

    /// The nearest local authority (属地) up the tree.
    pub fn authority(&self, area: Uuid) -> Option<DepartmentId> {
        self.lineage(area).find_map(|a| a.local_authority_id)
    }

    /// The ancestor of `area` at `level` (or `area` itself).
    pub fn at_level(&self, area: Uuid, level: AreaLevel) -> Option<&areas::Model> {
        self.lineage(area).find(|a| a.level == level)
    }

    pub fn name(&self, area: Uuid) -> String {
        self.areas
            .get(&area)
            .map(|a| a.name.clone())
            .unwrap_or_default()
    }
}

/// The department that answers for a site: its shopfront's overseer, else the local
/// authority of its area.
pub fn responsible_department(
    tree: &AreaTree,
    shops: &HashMap<ShopfrontId, shopfronts::Model>,
    site: &entity::inspection_sites::Model,
) -> Option<DepartmentId> {
    site.shopfront_id
        .and_then(|s| shops.get(&s))
        .and_then(|s| s.department_id)
        .or_else(|| tree.authority(site.area_id))
}

/// Departments by id, for names.
pub async fn department_names(
    db: &impl ConnectionTrait,
) -> Result<HashMap<DepartmentId, String>, Error> {
    Ok(departments::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect())
}

/// Shopfronts by id, looked up in chunks (SQLite's bound-parameter limit).
pub async fn shopfronts_by_id(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = ShopfrontId>,
) -> Result<HashMap<ShopfrontId, shopfronts::Model>, Error> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let mut ids: Vec<ShopfrontId> = ids.into_iter().collect();
    ids.sort();
    ids.dedup();
    let mut found = HashMap::new();
    for chunk in ids.chunks(500) {
        for shop in shopfronts::Entity::find()
            .filter(shopfronts::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            found.insert(shop.id, shop);
        }
    }
    Ok(found)
}
