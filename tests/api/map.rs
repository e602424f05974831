//! `GET /api/v1/map` and the settings behind it (`XUNCHA_MAP_TILES` …): no tiles by default,
//! a plain background that needs no internet; set, the template is echoed to signed-in
//! users and the tiles' hosts are let into the pages' `img-src`; a bad value stops the start.

use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with};

const TIANDITU: &str = "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile\
    &VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles\
    &TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=browser-key";

/// The `img-src` directive of the page's Content-Security-Policy.
async fn img_src(app: &crate::helpers::TestApp) -> String {
    let page = app.get("/", None).await;
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    csp.split(';')
        .map(str::trim)
        .find(|d| d.starts_with("img-src "))
        .unwrap_or_else(|| panic!("no img-src in {csp}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn without_tiles_maps_draw_on_a_plain_background_and_load_images_from_nowhere_else() {
    let app = spawn_app().await;
    assert_eq!(app.get("/api/v1/map", None).await.status(), 401);
    let token = app.login_as("inspector").await.access_token;
    let settings: Value = app
        .get("/api/v1/map", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(settings, serde_json::json!({"tiles": null}));
    assert_eq!(img_src(&app).await, "img-src 'self' data: blob:");
}

#[tokio::test(flavor = "multi_thread")]
async fn set_tiles_are_echoed_and_their_hosts_let_into_the_pages_images() {
    let app = spawn_app_with(&[
        ("XUNCHA_MAP_TILES", TIANDITU),
        ("XUNCHA_MAP_SUBDOMAINS", "012"),
        ("XUNCHA_MAP_ATTRIBUTION", "© 天地图"),
    ])
    .await;
    let token = app.login_as("supervisor").await.access_token;
    let settings: Value = app
        .get("/api/v1/map", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        settings["tiles"],
        serde_json::json!({
            "url": TIANDITU,
            "crs": "wgs84",
            "attribution": "© 天地图",
            "subdomains": ["0", "1", "2"],
            "max_zoom": 18,
        })
    );
    assert_eq!(
        img_src(&app).await,
        "img-src 'self' data: blob: https://t0.tianditu.gov.cn https://t1.tianditu.gov.cn \
         https://t2.tianditu.gov.cn"
    );
    // The rest of the policy is as strict as ever.
    let page = app.get("/app/app.js", None).await;
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("connect-src 'self';"), "{csp}");

    // 高德 draws in GCJ-02.
    let amap = spawn_app_with(&[
        (
            "XUNCHA_MAP_TILES",
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        ),
        ("XUNCHA_MAP_TILES_CRS", "gcj02"),
        ("XUNCHA_MAP_SUBDOMAINS", "1234"),
    ])
    .await;
    let token = amap.login_as("inspector").await.access_token;
    let settings: Value = amap
        .get("/api/v1/map", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(settings["tiles"]["crs"], "gcj02");
    assert_eq!(settings["tiles"]["attribution"], "");
    assert!(
        img_src(&amap)
            .await
            .ends_with("https://webrd03.is.autonavi.com https://webrd04.is.autonavi.com")
    );
}

#[test]
fn a_bad_tile_setting_stops_the_start_with_the_variable_and_an_example() {
    let start = |vars: &[(&str, &str)]| {
        xuncha::config::Settings::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    };
    for (vars, variable, says) in [
        (
            vec![("XUNCHA_MAP_TILES", "tiles.example.org/{z}/{x}/{y}.png")],
            "XUNCHA_MAP_TILES",
            "https://",
        ),
        (
            vec![("XUNCHA_MAP_TILES", "https://tiles.example.org/{z}/{x}.png")],
            "XUNCHA_MAP_TILES",
            "{y}",
        ),
        (
            vec![(
                "XUNCHA_MAP_TILES",
                "https://tiles.example.org/{z}/{x}/{y}.png?key={key}",
            )],
            "XUNCHA_MAP_TILES",
            "{key}",
        ),
        (
            vec![
                ("XUNCHA_MAP_TILES", TIANDITU),
                ("XUNCHA_MAP_TILES_CRS", "bd09"),
            ],
            "XUNCHA_MAP_TILES_CRS",
            "gcj02",
        ),
        (
            vec![
                ("XUNCHA_MAP_TILES", TIANDITU),
                ("XUNCHA_MAP_SUBDOMAINS", "t0;"),
            ],
            "XUNCHA_MAP_SUBDOMAINS",
            "01234567",
        ),
    ] {
        let err = start(&vars).unwrap_err();
        assert_eq!(err.variable, variable, "{err}");
        // What the binary prints: `xuncha: bad setting XUNCHA_…: <problem>`.
        let said = err.to_string();
        assert!(said.starts_with(&format!("{variable}: ")), "{said}");
        assert!(said.contains(says), "{said}");
    }
}
