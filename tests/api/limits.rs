//! Request rates per address and per account, the address behind trusted proxies, and
//! (with Redis) the limits held across instances.

use serde_json::Value;

use crate::helpers::{TestApp, assert_error, spawn_app_with};

async fn me(app: &TestApp, address: &str, token: &str) -> reqwest::Response {
    app.client
        .get(format!("{address}/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_has_a_rate_of_its_own_beside_its_address() {
    let app = spawn_app_with(&[
        ("XUNCHA_ACCOUNT_RATE_LIMIT_PER_SECOND", "1"),
        ("XUNCHA_ACCOUNT_RATE_LIMIT_BURST", "3"),
    ])
    .await;
    let busy = app.login_as("inspector").await.access_token;
    let other = app.login_as("inspector").await.access_token;
    for _ in 0..3 {
        assert_eq!(me(&app, &app.address, &busy).await.status(), 200);
    }
    let refused = me(&app, &app.address, &busy).await;
    assert!(refused.headers().contains_key("retry-after"));
    assert_error(refused, 429, "too_many_requests").await;
    // The same address, another account: not held back.
    assert_eq!(me(&app, &app.address, &other).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_behind_a_trusted_proxy_are_told_apart_by_forwarded_for() {
    let app = spawn_app_with(&[
        ("XUNCHA_TRUSTED_PROXIES", "127.0.0.1/32"),
        ("XUNCHA_RATE_LIMIT_PER_SECOND", "1"),
        ("XUNCHA_RATE_LIMIT_BURST", "2"),
    ])
    .await;
    let health = |client: &'static str| {
        app.client
            .get(app.url("/healthz"))
            .header("x-forwarded-for", client)
            .send()
    };
    assert_eq!(health("198.51.100.1").await.unwrap().status(), 200);
    assert_eq!(health("198.51.100.1").await.unwrap().status(), 200);
    assert_eq!(health("198.51.100.1").await.unwrap().status(), 429);
    assert_eq!(health("198.51.100.2").await.unwrap().status(), 200);
    // A client's own claim before the proxy's hop changes nothing.
    assert_eq!(
        health("203.0.113.5, 198.51.100.1").await.unwrap().status(),
        429
    );
}

#[test]
fn the_old_forwarded_for_switch_stops_the_start_with_its_replacement_named() {
    let vars = [("XUNCHA_TRUST_FORWARDED_FOR", "true")];
    let err = xuncha::config::Settings::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap_err();
    assert_eq!(err.variable, "XUNCHA_TRUST_FORWARDED_FOR");
    assert!(err.problem.contains("XUNCHA_TRUSTED_PROXIES"));
}

/// With `XUNCHA_TEST_REDIS_URL` (CI sets it), two instances share one account's rate.
#[tokio::test(flavor = "multi_thread")]
async fn two_instances_hold_one_account_to_one_rate_through_redis() {
    let Ok(redis) = std::env::var("XUNCHA_TEST_REDIS_URL") else {
        eprintln!("XUNCHA_TEST_REDIS_URL unset: the shared limit is not tried");
        return;
    };
    let app = spawn_app_with(&[
        ("XUNCHA_REDIS_URL", redis.as_str()),
        ("XUNCHA_ACCOUNT_RATE_LIMIT_PER_SECOND", "1"),
        ("XUNCHA_ACCOUNT_RATE_LIMIT_BURST", "4"),
    ])
    .await;
    assert!(app.state.limiter.is_shared());
    let second = app.second_instance().await;
    let token = app.login_as("inspector").await.access_token;
    let mut statuses = Vec::new();
    for address in [&app.address, &second, &app.address, &second, &second] {
        statuses.push(me(&app, address, &token).await.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 429], "one rate across both");
    let body: Value = me(&app, &app.address, &token).await.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests");
}
