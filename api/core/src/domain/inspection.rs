//! Unannounced inspections (明察暗访): site types, campaign modes, points, and the
//! verifiable draw.
//!
//! The draw is a commitment scheme. At creation the server takes 32 random bytes (the
//! seed) and publishes `SHA-256(seed)` and the digest of the sampling frame; the sites
//! follow from seed and frame alone; when the campaign closes the seed is revealed, and
//! anyone can check the hash and re-run the draw (`docs/inspections.md` has it in five
//! lines of Python).

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::Msg;

pub use entity::vocabulary::{CampaignMode, CampaignStatus, SiteType};

pub fn parse_max_points(raw: f64) -> Result<f64, Msg> {
    if raw.is_finite() && (0.5..=100.0).contains(&raw) && (raw * 2.0).fract() == 0.0 {
        Ok(raw)
    } else {
        Err(Msg::fixed(
            "max_points must be from 0.5 to 100 in steps of 0.5",
            "满分须在 0.5 到 100 之间，以 0.5 为单位",
        ))
    }
}

/// A score from 0 to the item's maximum in steps of 0.5.
pub fn parse_score(raw: f64, max_points: f64) -> Result<f64, Msg> {
    if raw.is_finite() && (0.0..=max_points).contains(&raw) && (raw * 2.0).fract() == 0.0 {
        Ok(raw)
    } else {
        Err(Msg::new(
            format!("score must be from 0 to {max_points} in steps of 0.5"),
            format!("得分须在 0 到 {max_points} 之间，以 0.5 为单位"),
        ))
    }
}

/// The 32 random bytes a draw is made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seed([u8; 32]);

impl Seed {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// 64 hex digits.
    pub fn parse(hex_text: &str) -> Result<Self, Msg> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_text.trim(), &mut bytes)
            .map(|()| Self(bytes))
            .map_err(|_| Msg::fixed("the seed is 64 hex digits", "种子须为 64 位十六进制数"))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// What is published before the draw: `SHA-256(seed bytes)` in hex.
    pub fn commitment(&self) -> String {
        hex::encode(Sha256::digest(self.0))
    }

    /// A site's place in the random order: `SHA-256(seed bytes ‖ site id as text)`.
    fn key(&self, site: Uuid) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(self.0);
        hasher.update(site.hyphenated().to_string().as_bytes());
        hasher.finalize().into()
    }
}

/// One cell of the sampling plan: draw `count` of `candidates` (the active sites of
/// `site_type` in `area_id` and the areas under it when the campaign was created).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Stratum {
    pub area_id: Uuid,
    pub site_type: SiteType,
    pub count: u32,
    pub candidates: Vec<Uuid>,
}

/// The digest of the frame: SHA-256 over one line per stratum, in plan order,
/// `"<area_id> <site_type> <count> <id>,<id>,…\n"` with the candidates sorted.
pub fn frame_digest(strata: &[Stratum]) -> String {
    let mut hasher = Sha256::new();
    for stratum in strata {
        let mut candidates = stratum.candidates.clone();
        candidates.sort();
        let ids: Vec<String> = candidates.iter().map(|c| c.to_string()).collect();
        hasher.update(
            format!(
                "{} {} {} {}\n",
                stratum.area_id,
                stratum.site_type,
                stratum.count,
                ids.join(",")
            )
            .as_bytes(),
        );
    }
    hex::encode(hasher.finalize())
}

/// The draw: in each stratum, the candidates ordered by their key, the first `count`
/// taken (all of them when there are fewer).
pub fn draw(seed: &Seed, strata: &[Stratum]) -> Vec<Vec<Uuid>> {
    strata
        .iter()
        .map(|stratum| {
            let mut keyed: Vec<([u8; 32], Uuid)> = stratum
                .candidates
                .iter()
                .map(|&site| (seed.key(site), site))
                .collect();
            keyed.sort();
            keyed
                .into_iter()
                .take(stratum.count as usize)
                .map(|(_, site)| site)
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stratum(count: u32, n: u128) -> Stratum {
        Stratum {
            area_id: Uuid::from_u128(1),
            site_type: SiteType::Market,
            count,
            candidates: (0..n).map(|i| Uuid::from_u128(1000 + i)).collect(),
        }
    }

    #[test]
    fn the_commitment_is_sha256_of_the_seed_bytes() {
        let seed = Seed::parse(&"00".repeat(32)).unwrap();
        // SHA-256 of 32 zero bytes, a published constant.
        assert_eq!(
            seed.commitment(),
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
        );
        assert_eq!(Seed::parse(&seed.to_hex()).unwrap(), seed);
        assert!(Seed::parse("abc").is_err());
        assert!(Seed::parse(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn the_draw_is_deterministic_and_follows_the_seed() {
        let strata = [stratum(3, 20), stratum(5, 2)];
        let seed = Seed::generate();
        let first = draw(&seed, &strata);
        assert_eq!(first, draw(&seed, &strata));
        assert_eq!(first[0].len(), 3);
        assert_eq!(first[1].len(), 2, "a short stratum gives all it has");
        let mut shuffled = strata.clone();
        shuffled[0].candidates.reverse();
        assert_eq!(
            draw(&seed, &shuffled),
            first,
            "the frame's order does not matter"
        );
        assert_eq!(frame_digest(&shuffled), frame_digest(&strata));
        let other = Seed::generate();
        assert_ne!(draw(&other, &strata)[0], first[0]);
    }

    #[test]
    fn every_site_is_equally_likely() {
        // 2,000 draws of 1 out of 4: each site near 500 times.
        let strata = [stratum(1, 4)];
        let mut counts = std::collections::HashMap::new();
        for _ in 0..2000 {
            *counts
                .entry(draw(&Seed::generate(), &strata)[0][0])
                .or_insert(0) += 1;
        }
        assert_eq!(counts.len(), 4);
        assert!(
            counts.values().all(|&c| (380..=620).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn points_come_in_halves() {
        assert!(parse_max_points(10.0).is_ok() && parse_max_points(0.5).is_ok());
        for bad in [0.0, 0.3, 100.5, f64::NAN, -1.0] {
            assert!(parse_max_points(bad).is_err(), "{bad}");
        }
        assert!(parse_score(0.0, 5.0).is_ok() && parse_score(4.5, 5.0).is_ok());
        assert!(parse_score(5.5, 5.0).is_err() && parse_score(1.2, 5.0).is_err());
    }

    #[test]
    fn site_types_read_codes_and_chinese_names() {
        assert_eq!(SiteType::parse_any("market"), Some(SiteType::Market));
        assert_eq!(
            SiteType::parse_any("公共厕所"),
            Some(SiteType::PublicToilet)
        );
        assert_eq!(SiteType::parse_any("shop"), None);
    }
}
