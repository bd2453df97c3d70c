//! Security promises over real HTTP: cross-site request forgery is refused,
//! a stranger's guessing cannot lock a user out, and every answer carries
//! the security headers.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use common::{Client, TestServer};
use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Error as WsError;

const PASSWORD: &str = "tea-leaves-42";

/// A page of another port on the same host: same site, other origin.
fn other_origin(server: &TestServer) -> String {
    format!("http://127.0.0.1:{}", server.addr.port() + 1)
}

fn own_origin(server: &TestServer) -> String {
    format!("http://{}", server.addr)
}

/// Calls a server function with `client`'s cookie and extra headers, as a
/// page would; returns the status and the JSON answer.
async fn call_with(
    client: &Client,
    name: &str,
    form: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut req = client
        .http
        .post(format!("{}/api/{name}", client.base))
        .form(form);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn assert_cross_origin(name: &str, (status, body): &(u16, Value)) {
    assert_eq!(*status, 403, "{name}: {body}");
    assert_eq!(body["code"], "cross_origin", "{name}: {body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(body["message_zh"].as_str().is_some_and(|m| !m.is_empty()));
}

async fn my_room_ids(client: &Client) -> Vec<i64> {
    let rooms = client.call("my_rooms", &[]).await.unwrap();
    rooms
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["id"].as_i64())
        .collect()
}

#[tokio::test]
async fn a_page_of_another_origin_cannot_act_with_the_victims_cookie() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let room = bob.create_room("bobs room").await;
    alice.join(room).await;
    let forged = [("origin", other_origin(&server))];
    let forged: Vec<(&str, &str)> = forged.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let room_s = room.to_string();

    let sent = call_with(
        &alice,
        "send_message",
        &[
            ("room_id", &room_s),
            ("client_id", "csrf-1"),
            ("text", "forged"),
        ],
        &forged,
    )
    .await;
    assert_cross_origin("send_message", &sent);
    let left = call_with(&alice, "leave_room", &[("room_id", &room_s)], &forged).await;
    assert_cross_origin("leave_room", &left);
    let victim = server.user("victim").await;
    let joined = call_with(&victim, "join_room", &[("room_id", &room_s)], &forged).await;
    assert_cross_origin("join_room", &joined);
    let out = call_with(&alice, "logout", &[], &forged).await;
    assert_cross_origin("logout", &out);

    // Nothing happened: no message, alice still in the room and signed in,
    // the victim not in it.
    assert!(
        bob.message_texts(room).await.is_empty(),
        "a forged message was stored"
    );
    assert!(my_room_ids(&alice).await.contains(&room));
    assert!(!my_room_ids(&victim).await.contains(&room));
    let me = alice.call("me", &[]).await.unwrap();
    assert_eq!(me["id"], alice.id);
    server.stop().await;
}

#[tokio::test]
async fn a_browser_saying_cross_site_is_refused_even_without_origin() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    for site in ["cross-site", "same-site"] {
        let res = call_with(
            &alice,
            "send_message",
            &[("room_id", "1"), ("client_id", site), ("text", "forged")],
            &[("sec-fetch-site", site)],
        )
        .await;
        assert_cross_origin(site, &res);
    }
    assert!(alice.message_texts(1).await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn own_origin_allowed_origins_and_non_browser_clients_pass() {
    let partner = "https://shop.example";
    let server = TestServer::start_with(|c| c.allowed_origins = vec![partner.into()]).await;
    let alice = server.user("alice").await;
    let own = own_origin(&server);
    let cases: [(&str, Vec<(&str, &str)>); 4] = [
        (
            "same origin",
            vec![("origin", &own), ("sec-fetch-site", "same-origin")],
        ),
        ("typed address", vec![("sec-fetch-site", "none")]),
        (
            "allowed origin",
            vec![("origin", partner), ("sec-fetch-site", "cross-site")],
        ),
        ("no browser headers", vec![]),
    ];
    for (i, (case, headers)) in cases.iter().enumerate() {
        let (status, body) = call_with(
            &alice,
            "send_message",
            &[
                ("room_id", "1"),
                ("client_id", &format!("c-{i}")),
                ("text", case),
            ],
            headers,
        )
        .await;
        assert_eq!(status, 200, "{case}: {body}");
    }
    assert_eq!(
        alice.message_texts(1).await,
        cases.map(|(case, _)| case.to_owned())
    );
    // An origin that is allowed only as a prefix is not.
    let res = call_with(
        &alice,
        "logout",
        &[],
        &[("origin", "https://shop.example.evil")],
    )
    .await;
    assert_cross_origin("prefix of an allowed origin", &res);
    server.stop().await;
}

/// Opens `/ws` with `client`'s cookie and an `Origin`; the HTTP status.
async fn ws_status(client: &Client, origin: &str) -> u16 {
    let mut req = format!("ws://{}/ws", client.addr)
        .into_client_request()
        .unwrap();
    let h = req.headers_mut();
    h.insert(
        "cookie",
        HeaderValue::from_str(&client.cookie().unwrap()).unwrap(),
    );
    h.insert("origin", HeaderValue::from_str(origin).unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Ok((mut ws, res)) => {
            let _ = ws.close(None).await;
            res.status().as_u16()
        }
        Err(WsError::Http(res)) => {
            let body: Value = serde_json::from_slice(res.body().as_deref().unwrap_or(b"null"))
                .unwrap_or(Value::Null);
            assert_eq!(body["code"], "cross_origin", "{body}");
            res.status().as_u16()
        }
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn the_socket_follows_the_same_origin_rule() {
    let partner = "https://shop.example";
    let server = TestServer::start_with(|c| c.allowed_origins = vec![partner.into()]).await;
    let alice = server.user("alice").await;
    assert_eq!(ws_status(&alice, &other_origin(&server)).await, 403);
    assert_eq!(ws_status(&alice, &own_origin(&server)).await, 101);
    assert_eq!(ws_status(&alice, partner).await, 101);
    server.stop().await;
}

/// A cookie-less client connecting from `ip` (the server listens on
/// 127.0.0.1; any 127.x address reaches it from another source address).
fn client_from(server: &TestServer, ip: &str) -> Client {
    let mut client = Client::new(server);
    client.http = reqwest::Client::builder()
        .cookie_provider(client.jar.clone())
        .local_address(ip.parse::<IpAddr>().ok())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    client
}

/// Logs `client` in; the status and the `Retry-After` header, if any.
async fn login(client: &Client, username: &str, password: &str) -> (u16, Option<u64>) {
    let res = client
        .http
        .post(format!("{}/api/login", client.base))
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let retry = retry_after(res.headers());
    if status == 429 {
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "rate_limited");
    }
    (status, retry)
}

fn retry_after(headers: &HeaderMap) -> Option<u64> {
    headers.get("retry-after")?.to_str().ok()?.parse().ok()
}

/// A server whose throttle locks last an hour, so no lock can run out
/// while a test runs.
async fn throttled_server() -> TestServer {
    TestServer::start_with(|c| c.login_throttle.base_delay = Duration::from_secs(3600)).await
}

#[tokio::test]
async fn a_strangers_wrong_passwords_do_not_lock_the_owner_out() {
    let server = throttled_server().await;
    server.user("alice").await;
    let stranger = client_from(&server, "127.0.0.1");
    let mut statuses = Vec::new();
    for i in 0..20 {
        let (status, retry) = login(&stranger, "alice", &format!("guess-{i}-guess")).await;
        if status == 429 {
            assert!(retry.is_some_and(|s| s >= 1), "429 without Retry-After");
        }
        statuses.push(status);
    }
    // Five tries, then the stranger waits — even with the right password.
    assert_eq!(statuses[..5], [401; 5]);
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(login(&stranger, "alice", PASSWORD).await.0, 429);

    // Alice, from her own address, gets in at once.
    let alice = client_from(&server, "127.0.0.2");
    assert_eq!(login(&alice, "alice", PASSWORD).await, (200, None));
    assert!(alice.call("me", &[]).await.unwrap()["username"] == "alice");
    server.stop().await;
}

#[tokio::test]
async fn failures_from_one_address_over_many_usernames_are_throttled() {
    let server = throttled_server().await;
    server.user("alice").await;
    let sprayer = client_from(&server, "127.0.0.3");
    let mut first_refused = None;
    for i in 0..30 {
        let (status, _) = login(&sprayer, &format!("user{i}"), "spray-spray-1").await;
        if status == 429 {
            first_refused = Some(i);
            break;
        }
        assert_eq!(status, 401);
    }
    assert_eq!(
        first_refused,
        Some(20),
        "the address is locked after 20 failures"
    );
    // The address is locked for everyone on it, alice included …
    assert_eq!(login(&sprayer, "alice", PASSWORD).await.0, 429);
    // … but not for alice elsewhere.
    let alice = client_from(&server, "127.0.0.2");
    assert_eq!(login(&alice, "alice", PASSWORD).await.0, 200);
    server.stop().await;
}

#[tokio::test]
async fn a_successful_login_clears_the_users_failures() {
    let server = throttled_server().await;
    server.user("alice").await;
    let alice = client_from(&server, "127.0.0.4");
    // Four typos then the right password, three times over: each success
    // starts the count afresh, so the fifth failure (which would lock) never comes.
    for round in 0..3 {
        for typo in 0..4 {
            let (status, _) = login(&alice, "alice", &format!("typo-{round}-{typo}-x")).await;
            assert_eq!(status, 401, "round {round} typo {typo}");
        }
        assert_eq!(
            login(&alice, "alice", PASSWORD).await.0,
            200,
            "round {round}"
        );
    }
    server.stop().await;
}

/// The `nonce="…"` values written in `html`.
fn nonces_in(html: &str) -> Vec<String> {
    html.split("nonce=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn pages_carry_a_fresh_nonce_in_their_policy_and_every_answer_says_nosniff() {
    let server = TestServer::start().await;
    let anon = Client::new(&server);
    let mut seen = Vec::new();
    for path in ["/login", "/register", "/login", "/no-such-page"] {
        let res = anon.http.get(server.url(path)).send().await.unwrap();
        let h = res.headers().clone();
        let csp = h["content-security-policy"].to_str().unwrap().to_owned();
        for part in [
            "script-src 'self' 'wasm-unsafe-eval' 'nonce-",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        ] {
            assert!(csp.contains(part), "{path}: {part} missing from {csp}");
        }
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        let pp = h["permissions-policy"].to_str().unwrap();
        assert!(
            pp.contains("microphone=(self)")
                && pp.contains("camera=(self)")
                && pp.contains("geolocation=()"),
            "{pp}"
        );
        let html = res.text().await.unwrap();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .unwrap()
            .to_owned();
        let in_page = nonces_in(&html);
        assert!(!in_page.is_empty(), "{path}: no script carries the nonce");
        assert!(
            in_page.iter().all(|n| *n == nonce),
            "{path}: {in_page:?} vs {nonce}"
        );
        assert!(!seen.contains(&nonce), "{path}: nonce reused");
        seen.push(nonce);
    }
    // The API and refusals say nosniff too.
    let res = anon.http.post(server.url("/api/me")).send().await.unwrap();
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let res = anon
        .http
        .post(server.url("/api/logout"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    server.stop().await;
}

#[tokio::test]
async fn frame_ancestors_is_configurable() {
    let server =
        TestServer::start_with(|c| c.frame_ancestors = "https://shop.example".into()).await;
    let res = reqwest::get(server.url("/login")).await.unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.ends_with("frame-ancestors https://shop.example"),
        "{csp}"
    );
    server.stop().await;
}
