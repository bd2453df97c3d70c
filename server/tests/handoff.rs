//! Sign-in hand-off (`POST /api/v1/users/{external_id}/handoff`, then
//! `GET /auth/handoff`) against the real server: the token signs in its
//! user once and lands on `next`; it expires; it cannot sign in anyone
//! else; `next` accepts only paths on this site.

mod common;

use common::access::admin;
use common::api::{make_key, open_handoff, open_handoff_with, Api};
use common::{Client, TestServer};
use serde_json::Value;

/// Who `client`'s session is signed in as (None: nobody).
async fn me(client: &Client) -> Option<String> {
    let me = client.call("me", &[]).await.unwrap();
    me["nickname"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn a_token_signs_its_user_in_once_and_lands_on_next() {
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let api = Api::new(
        &server,
        Some(&make_key(&boss, "app", "full", "").await.secret),
    );
    api.upsert("u1", "用户一").await;
    let room = boss.create_room("客户群").await;
    api.call("PUT", &format!("/api/v1/rooms/{room}/members/u1"), None)
        .await;
    let next = format!("/?room={room}");
    let handoff = api.handoff("u1", Some(&next)).await;
    let url = handoff["url"].as_str().unwrap();
    assert!(url.starts_with("/auth/handoff?token="), "{url}");
    let ttl = handoff["expires_at"].as_i64().unwrap() - teahouse_domain::now_ms();
    assert!((50_000..=60_000).contains(&ttl), "about a minute: {ttl} ms");

    let (browser, status, location) = open_handoff(&server, url).await;
    assert_eq!((status, location.as_deref()), (303, Some(next.as_str())));
    assert_eq!(me(&browser).await.as_deref(), Some("用户一"));
    // The normal session: the chat works, the socket opens.
    let rooms = browser.call("my_rooms", &[]).await.unwrap();
    assert!(rooms.as_array().unwrap().iter().any(|r| r["id"] == room));
    // Once only.
    let (again, status, _) = open_handoff(&server, url).await;
    assert_eq!(status, 401);
    assert_eq!(me(&again).await, None);
    // A made-up token, a malformed one, none.
    for bad in [
        format!("/auth/handoff?token={}", "a".repeat(64)),
        "/auth/handoff?token=xyz".to_owned(),
        "/auth/handoff".to_owned(),
    ] {
        let (c, status, _) = open_handoff(&server, &bad).await;
        assert_eq!(status, 401, "{bad}");
        assert_eq!(me(&c).await, None);
    }
    let (s, b) = api.call("POST", "/api/v1/users/ghost/handoff", None).await;
    assert_eq!((s, b["code"].as_str()), (404, Some("not_found")));
    server.stop().await;
}

#[tokio::test]
async fn two_redeems_at_once_sign_in_one_browser() {
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let api = Api::new(
        &server,
        Some(&make_key(&boss, "app", "full", "").await.secret),
    );
    api.upsert("u1", "用户一").await;
    for _ in 0..5 {
        let handoff = api.handoff("u1", None).await;
        let url = handoff["url"].as_str().unwrap();
        let (a, b) = tokio::join!(open_handoff(&server, url), open_handoff(&server, url));
        let mut statuses = [a.1, b.1];
        statuses.sort();
        assert_eq!(statuses, [303, 401]);
    }
    server.stop().await;
}

#[tokio::test]
async fn a_token_expires() {
    let server = TestServer::start_with(|c| c.handoff_secs = 1).await;
    let boss = admin(&server, "boss").await;
    let api = Api::new(
        &server,
        Some(&make_key(&boss, "app", "full", "").await.secret),
    );
    api.upsert("u1", "用户一").await;
    let handoff = api.handoff("u1", None).await;
    let expires_at = handoff["expires_at"].as_i64().unwrap();
    // Wait until the server's clock is past the expiry (time is what is
    // tested here: there is no event to wait for).
    let wait = (expires_at - teahouse_domain::now_ms() + 50).max(0) as u64;
    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
    let (browser, status, _) = open_handoff(&server, handoff["url"].as_str().unwrap()).await;
    assert_eq!(status, 401);
    assert_eq!(me(&browser).await, None);
    // A fresh one, used at once, works.
    let fresh = api.handoff("u1", None).await;
    let (browser, status, _) = open_handoff(&server, fresh["url"].as_str().unwrap()).await;
    assert_eq!(status, 303);
    assert_eq!(me(&browser).await.as_deref(), Some("用户一"));
    server.stop().await;
}

#[tokio::test]
async fn a_token_signs_in_its_own_user_only() {
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let api = Api::new(
        &server,
        Some(&make_key(&boss, "app", "full", "").await.secret),
    );
    api.upsert("alice", "爱丽丝").await;
    api.upsert("bob", "鲍勃").await;
    // Bob's browser, signed in as bob, opens a token made for alice: the
    // browser is alice's now (a new session id), never bob with alice's
    // rights, and bob's old cookie is signed out of nothing else.
    let bob_token = api.handoff("bob", None).await;
    let (bob_browser, _, _) = open_handoff(&server, bob_token["url"].as_str().unwrap()).await;
    assert_eq!(me(&bob_browser).await.as_deref(), Some("鲍勃"));
    let old_cookie = bob_browser.cookie().unwrap();
    let alice_token = api.handoff("alice", None).await;
    let (status, _) = open_handoff_with(&bob_browser, alice_token["url"].as_str().unwrap()).await;
    assert_eq!(status, 303);
    assert_eq!(me(&bob_browser).await.as_deref(), Some("爱丽丝"));
    assert_ne!(
        bob_browser.cookie().unwrap(),
        old_cookie,
        "a fresh session id"
    );
    // A token from one key's user is not a key: it opens nothing in the API.
    let token = api.handoff("bob", None).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, b) = Api::new(&server, Some(&token))
        .call("GET", "/api/v1/users/bob", None)
        .await;
    assert_eq!((s, b["code"].as_str()), (401, Some("api_key_invalid")));
    // A read-only key cannot make tokens.
    let ro = Api::new(
        &server,
        Some(&make_key(&boss, "ro", "read_only", "").await.secret),
    );
    let (s, b) = ro.call("POST", "/api/v1/users/bob/handoff", None).await;
    assert_eq!((s, b["code"].as_str()), (403, Some("api_key_read_only")));
    server.stop().await;
}

#[tokio::test]
async fn next_must_be_a_path_on_this_site() {
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let api = Api::new(
        &server,
        Some(&make_key(&boss, "app", "full", "").await.secret),
    );
    api.upsert("u1", "用户一").await;
    let evil = [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "/%2F%2Fevil.example",
        "/%5Cevil.example",
        "%2F%2Fevil.example",
        "/%252F%252Fevil.example",
        "/%09/evil.example",
        "/\t/evil.example",
    ];
    // Asked for when the token is made: refused, no token.
    for next in evil {
        let (s, b): (u16, Value) = api
            .call(
                "POST",
                "/api/v1/users/u1/handoff",
                Some(serde_json::json!({ "next": next })),
            )
            .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (422, Some("handoff_next_invalid")),
            "{next:?}"
        );
    }
    // Put in the URL by someone else: refused before the token is used,
    // so it still works with a good `next`.
    let handoff = api.handoff("u1", None).await;
    let url = handoff["url"].as_str().unwrap();
    for next in evil {
        let encoded: String =
            percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC)
                .collect();
        let (browser, status, location) =
            open_handoff(&server, &format!("{url}&next={encoded}")).await;
        assert_eq!((status, location), (422, None), "{next:?}");
        assert_eq!(me(&browser).await, None);
    }
    let (_, status, location) = open_handoff(&server, &format!("{url}&next=%2F%3Froom%3D1")).await;
    assert_eq!((status, location.as_deref()), (303, Some("/?room=1")));
    server.stop().await;
}
