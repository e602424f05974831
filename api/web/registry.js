// The registry kept on the phone (GET /registry/offline): categories, departments, areas,
// rules and frontage zones, so the filing form says who will answer for a problem with no
// network. The decision is the server's, step for step (docs/mobile.md); a browser test
// compares the two on hundreds of points.

import { call } from "/app/api.js";

const CACHE = "xuncha-registry";
const PATH = "/registry/offline";

// The registry: asked again with the kept copy's ETag (304 when unchanged), the kept copy
// when the server cannot be reached, null when there is none.
export async function registry() {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(PATH);
  try {
    const headers = kept?.headers.get("ETag") ? { "If-None-Match": kept.headers.get("ETag") } : {};
    const response = await call(PATH, { raw: true, headers });
    if (response.status === 304 && kept) return kept.json();
    await cache.put(PATH, response.clone());
    return response.json();
  } catch (err) {
    if (kept) return kept.json();
    throw err;
  }
}

function ringContains(ring, lat, lon) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function covers(geometry, lat, lon) {
  if (!geometry) return false;
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  return polygons.some((rings) => ringContains(rings[0], lat, lon)
    && !rings.slice(1).some((hole) => ringContains(hole, lat, lon)));
}

export function metres(lat1, lon1, lat2, lon2) {
  const rad = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * rad) / 2) ** 2
    + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(a));
}

// Who will answer for a problem of `category` at (lat, lon): `{kind: "shopfront" |
// "department", id, name, why}`, or `{kind: "triage"}` when nothing matches.
export function decide(doc, category, lat, lon) {
  const frontage = doc.categories.some((c) => c.code === category && c.frontage);
  if (frontage) {
    let nearest = null;
    for (const zone of doc.zones) {
      const distance = metres(zone.anchor[1], zone.anchor[0], lat, lon);
      const inside = zone.radius_m != null ? distance <= zone.radius_m : covers(zone.polygon, lat, lon);
      if (inside && (!nearest || distance < nearest.distance)) nearest = { distance, zone };
    }
    if (nearest) {
      return { kind: "shopfront", id: nearest.zone.shopfront_id, name: nearest.zone.name, why: "frontage" };
    }
  }
  const byId = new Map(doc.areas.map((a) => [a.id, a]));
  const depth = (area) => {
    let n = 0;
    for (let up = byId.get(area.parent_id); up; up = byId.get(up.parent_id)) n++;
    return n;
  };
  let deepest = null;
  for (const area of doc.areas) {
    // The last of equally deep areas, as the server takes it.
    if (covers(area.boundary, lat, lon) && (!deepest || depth(area) >= depth(deepest))) deepest = area;
  }
  const lineage = [];
  for (let area = deepest; area; area = byId.get(area.parent_id)) lineage.push(area);
  const department = (id, why, area) => ({
    kind: "department", id, why, area: area?.name,
    name: doc.departments.find((d) => d.id === id)?.name ?? id,
  });
  for (const area of lineage) {
    const rule = doc.rules.find((r) => r.category === category && r.area_id === area.id);
    if (rule) return department(rule.department_id, "area_rule", area);
  }
  const cityWide = doc.rules.find((r) => r.category === category && r.area_id == null);
  if (cityWide) return department(cityWide.department_id, "city_rule");
  const local = lineage.find((a) => a.local_authority_id);
  if (local) return department(local.local_authority_id, "local_authority", local);
  return { kind: "triage", why: "triage" };
}
