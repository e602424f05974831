// Maps: Leaflet (vendored, loaded the first time a screen shows a map, so the phone's first
// load does not carry it). With no base tiles set (the default) boundaries, frontage zones
// and cases are drawn on a plain background, so a fresh install shows a useful map with no
// internet. A deployment sets a tile URL (天地图, 高德 …) in XUNCHA_MAP_TILES; tiles drawn
// in GCJ-02 (高德, 腾讯) get everything shifted to match, and a click shifted back.

import { call } from "/app/api.js";

let loading = null;

function load(tag, attrs) {
  return new Promise((resolve, reject) => {
    const element = Object.assign(document.createElement(tag), attrs);
    element.onload = resolve;
    element.onerror = () => reject(new Error(`${attrs.src || attrs.href} did not load`));
    document.head.append(element);
  });
}

// Leaflet and its cluster plugin, once; the map settings with them.
export function leaflet() {
  loading ??= (async () => {
    await Promise.all([
      load("link", { rel: "stylesheet", href: "/app/vendor/leaflet/leaflet.css" }),
      load("link", { rel: "stylesheet", href: "/app/vendor/leaflet.markercluster/MarkerCluster.css" }),
      load("link", { rel: "stylesheet", href: "/app/vendor/leaflet.markercluster/MarkerCluster.Default.css" }),
      load("script", { src: "/app/vendor/leaflet/leaflet.js" }),
    ]);
    await load("script", { src: "/app/vendor/leaflet.markercluster/leaflet.markercluster.js" });
    let settings = { tiles: null };
    try { settings = await call("/map"); } catch { /* offline: the plain background */ }
    return { L: window.L, settings };
  })().catch((err) => { loading = null; throw err; });
  return loading;
}

// GCJ-02 is WGS-84 plus a published offset inside China; the same formulas as the server's
// (core/src/domain/geo.rs).
const AXIS = 6378245.0;
const ECCENTRICITY_SQ = 0.006693421622965943;

function outsideChina(lat, lon) {
  return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function offset(lat, lon) {
  const { PI, sin, cos, sqrt, abs } = Math;
  const x = lon - 105.0;
  const y = lat - 35.0;
  let dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x));
  dlat += ((20.0 * sin(6.0 * x * PI) + 20.0 * sin(2.0 * x * PI)) * 2.0) / 3.0;
  dlat += ((20.0 * sin(y * PI) + 40.0 * sin((y / 3.0) * PI)) * 2.0) / 3.0;
  dlat += ((160.0 * sin((y / 12.0) * PI) + 320.0 * sin((y * PI) / 30.0)) * 2.0) / 3.0;
  let dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x));
  dlon += ((20.0 * sin(6.0 * x * PI) + 20.0 * sin(2.0 * x * PI)) * 2.0) / 3.0;
  dlon += ((20.0 * sin(x * PI) + 40.0 * sin((x / 3.0) * PI)) * 2.0) / 3.0;
  dlon += ((150.0 * sin((x / 12.0) * PI) + 300.0 * sin((x / 30.0) * PI)) * 2.0) / 3.0;
  const radLat = (lat / 180.0) * PI;
  const magic = 1.0 - ECCENTRICITY_SQ * sin(radLat) * sin(radLat);
  const sqrtMagic = sqrt(magic);
  return [
    (dlat * 180.0) / (((AXIS * (1.0 - ECCENTRICITY_SQ)) / (magic * sqrtMagic)) * PI),
    (dlon * 180.0) / ((AXIS / sqrtMagic) * cos(radLat) * PI),
  ];
}

export function wgs84ToGcj02(lat, lon) {
  if (outsideChina(lat, lon)) return [lat, lon];
  const [dlat, dlon] = offset(lat, lon);
  return [lat + dlat, lon + dlon];
}

export function gcj02ToWgs84(lat, lon) {
  if (outsideChina(lat, lon)) return [lat, lon];
  let [wlat, wlon] = [lat, lon];
  for (let i = 0; i < 30; i++) {
    const [glat, glon] = wgs84ToGcj02(wlat, wlon);
    wlat -= glat - lat;
    wlon -= glon - lon;
    if (Math.abs(glat - lat) < 1e-10 && Math.abs(glon - lon) < 1e-10) break;
  }
  return [wlat, wlon];
}

const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// A map in `element`. Its `show([lat, lon])` gives where a WGS-84 point is drawn, and
// `fromMap(latlng)` the WGS-84 point of a place on the map (a click).
export async function makeMap(element, { center = [30.25, 120.16], zoom = 13 } = {}) {
  const { L, settings } = await leaflet();
  const gcj = settings.tiles?.crs === "gcj02";
  const show = ([lat, lon]) => (gcj ? wgs84ToGcj02(lat, lon) : [lat, lon]);
  const fromMap = ({ lat, lng }) => (gcj ? gcj02ToWgs84(lat, lng) : [lat, lng]);
  element.classList.add("map");
  // A maximum zoom even with no tiles: clusters need one.
  const maxZoom = settings.tiles?.max_zoom || 18;
  const map = L.map(element, { center: show(center), zoom, maxZoom, zoomControl: true, attributionControl: Boolean(settings.tiles) });
  if (settings.tiles) {
    L.tileLayer(settings.tiles.url, {
      // Leaflet takes HTML here; the setting is plain text.
      attribution: escapeHtml(settings.tiles.attribution || ""),
      subdomains: settings.tiles.subdomains || "abc",
      maxZoom,
    }).addTo(map);
  }
  // GeoJSON drawn where the tiles draw it.
  const geojson = (data, options) => L.geoJSON(data, {
    ...options,
    coordsToLatLng: ([lon, lat]) => L.latLng(...show([lat, lon])),
  });
  return { L, map, show, fromMap, geojson, tiles: settings.tiles };
}
