//! The server API for other backends (`/api/v1`, issue 17) against the real
//! server: API key auth (none, wrong, a cookie instead, revoked, read-only
//! writing, limited to other rooms), every operation with its idempotent
//! retries, send-to-all reaching every connected user, is-online with
//! several tabs, and the OpenAPI document. Hand-off: `tests/handoff.rs`.

mod common;

use common::access::admin;
use common::api::{make_key, open_handoff, Api};
use common::{Client, Socket, TestServer};
use serde_json::{json, Value};
use teahouse_protocol::{EventBody, MessageContent, ServerFrame};

/// The code of an error answer.
fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("")
}

/// Host user `ext` signed in (through a hand-off) with `tabs` sockets open.
async fn host_user(
    server: &TestServer,
    api: &Api,
    ext: &str,
    tabs: usize,
) -> (Client, Vec<Socket>) {
    let user = api.upsert(ext, &format!("{ext}-nick")).await;
    let handoff = api.handoff(ext, None).await;
    let (client, status, _) = open_handoff(server, handoff["url"].as_str().unwrap()).await;
    assert_eq!(status, 303);
    let client = Client {
        id: user["user"]["id"].as_i64().unwrap(),
        ..client
    };
    let mut sockets = Vec::new();
    for _ in 0..tabs {
        sockets.push(client.connect().await);
    }
    (client, sockets)
}

/// The next stored event pushed to `socket`.
async fn next_event(socket: &mut Socket) -> teahouse_protocol::ConversationEvent {
    match socket
        .until(|f| matches!(f, ServerFrame::Event { .. }))
        .await
    {
        ServerFrame::Event { event } => event,
        _ => unreachable!(),
    }
}

/// Waits (polling the API, never longer than 10 s) until host user `ext`
/// has `n` connections.
async fn wait_connections(api: &Api, ext: &str, n: u64) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, body) = api
            .call("GET", &format!("/api/v1/users/{ext}/online"), None)
            .await;
        assert_eq!(status, 200, "{body}");
        if body["connections"] == n || std::time::Instant::now() > deadline {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn keys_are_bearer_only_scoped_and_revocable() {
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let room = boss.create_room("订单通知").await;
    let other = boss.create_room("别的房间").await;
    let full = make_key(&boss, "crm", "full", "").await;
    let read_only = make_key(&boss, "reports", "read_only", "").await;
    let limited = make_key(&boss, "shop", "full", &room.to_string()).await;
    let api = Api::new(&server, Some(&full.secret));
    api.upsert("42", "老王").await;
    let send = |room: i64| {
        (
            format!("/api/v1/rooms/{room}/messages"),
            json!({"client_id": format!("c-{room}"), "text": "hi"}),
        )
    };

    // No key, a wrong one, a cookie of a signed-in admin instead of a key.
    let (path, body) = send(room);
    let (s, b) = Api::new(&server, None)
        .call("POST", &path, Some(body.clone()))
        .await;
    assert_eq!((s, code(&b)), (401, "api_key_missing"));
    let wrong = format!("thk_{}", "0".repeat(64));
    let (s, b) = Api::new(&server, Some(&wrong))
        .call("POST", &path, Some(body.clone()))
        .await;
    assert_eq!((s, code(&b)), (401, "api_key_invalid"));
    let (s, b) = Api::new(&server, Some("not-even-a-key"))
        .call("GET", "/api/v1/users/42", None)
        .await;
    assert_eq!((s, code(&b)), (401, "api_key_invalid"));
    let res = boss
        .http
        .get(format!("{}/api/v1/users/42", boss.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401, "a session cookie is no key");
    let b: Value = res.json().await.unwrap();
    assert_eq!(code(&b), "api_key_missing");
    assert_eq!(b["message_zh"].as_str().map(|m| !m.is_empty()), Some(true));

    // Read-only: reads work, writes are refused and change nothing.
    let ro = Api::new(&server, Some(&read_only.secret));
    let (s, _) = ro.call("GET", "/api/v1/users/42", None).await;
    assert_eq!(s, 200);
    let (s, b) = ro.call("POST", &path, Some(body.clone())).await;
    assert_eq!((s, code(&b)), (403, "api_key_read_only"));
    let (s, b) = ro
        .call("PUT", "/api/v1/users/42", Some(json!({"nickname": "改名"})))
        .await;
    assert_eq!((s, code(&b)), (403, "api_key_read_only"));
    assert_eq!(
        api.call("GET", "/api/v1/users/42", None).await.1["nickname"],
        "老王"
    );
    assert!(boss.message_texts(room).await.is_empty());

    // Limited to `room`: allowed there, refused elsewhere and for everyone.
    let shop = Api::new(&server, Some(&limited.secret));
    let (s, b) = shop.call("POST", &path, Some(body.clone())).await;
    assert_eq!(s, 200, "{b}");
    let (other_path, other_body) = send(other);
    let (s, b) = shop.call("POST", &other_path, Some(other_body)).await;
    assert_eq!((s, code(&b)), (403, "api_key_room_denied"));
    for (method, path) in [
        ("POST", "/api/v1/broadcast"),
        ("POST", "/api/v1/users/42/messages"),
        ("GET", "/api/v1/online"),
        ("DELETE", "/api/v1/users/42/connections"),
        ("POST", "/api/v1/users/42/handoff"),
    ] {
        let (s, b) = shop
            .call(method, path, Some(json!({"client_id": "x", "text": "t"})))
            .await;
        assert_eq!(
            (s, code(&b)),
            (403, "api_key_room_denied"),
            "{method} {path}"
        );
    }
    assert!(boss.message_texts(other).await.is_empty());

    // Revoked: refused at once, also for what worked a moment ago.
    let list = boss.call("admin_api_keys", &[]).await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert!(
        !list.to_string().contains(&full.secret),
        "the list never shows a secret"
    );
    boss.call("admin_revoke_api_key", &[("id", &full.id.to_string())])
        .await
        .unwrap();
    let (s, b) = api.call("GET", "/api/v1/users/42", None).await;
    assert_eq!((s, code(&b)), (401, "api_key_revoked"));
    // Others' keys keep working.
    assert_eq!(ro.call("GET", "/api/v1/users/42", None).await.0, 200);

    // Only admins manage keys.
    let carol = server.user("carol").await;
    for (name, args) in [
        ("admin_api_keys", vec![]),
        (
            "admin_create_api_key",
            vec![("name", "x"), ("scope", "full")],
        ),
        ("admin_revoke_api_key", vec![("id", "1")]),
    ] {
        let (s, b) = carol.call(name, &args).await.unwrap_err();
        assert_eq!((s, code(&b)), (403, "admin_only"), "{name}");
    }
    // Bad key requests are refused with their codes.
    for (args, want) in [
        (
            vec![("name", ""), ("scope", "full")],
            "api_key_name_invalid",
        ),
        (
            vec![("name", "k"), ("scope", "admin")],
            "api_key_scope_invalid",
        ),
        (
            vec![("name", "k"), ("scope", "full"), ("rooms", "1,x")],
            "api_key_scope_invalid",
        ),
        (
            vec![("name", "k"), ("scope", "full"), ("rooms", "999999")],
            "api_key_scope_invalid",
        ),
        (
            vec![
                ("name", "k"),
                ("scope", "full"),
                ("bot_avatar_url", "http://x.example/a.png"),
            ],
            "avatar_url_invalid",
        ),
    ] {
        let (s, b) = boss.call("admin_create_api_key", &args).await.unwrap_err();
        assert_eq!((s, code(&b)), (422, want), "{args:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn host_users_are_created_updated_and_looked_up() {
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let key = make_key(&boss, "crm", "full", "").await;
    let api = Api::new(&server, Some(&key.secret));

    let (s, made) = api
        .call(
            "PUT",
            "/api/v1/users/u-1001",
            Some(json!({"nickname": "小明", "avatar_url": "https://cdn.example.com/1001.png"})),
        )
        .await;
    assert_eq!(s, 200, "{made}");
    assert_eq!(made["created"], true);
    assert_eq!(made["user"]["external_id"], "u-1001");
    assert_eq!(
        made["user"]["avatar_url"],
        "https://cdn.example.com/1001.png"
    );
    assert_eq!(made["user"]["bot"], false);
    let id = made["user"]["id"].as_i64().unwrap();

    // The same external id again: the same account, updated, pushed live
    // to whoever shares a conversation with them (the lobby).
    let mut watcher = boss.connect().await;
    let again = api.upsert("u-1001", "小明同学").await;
    assert_eq!(
        (again["created"].as_bool(), again["user"]["id"].as_i64()),
        (Some(false), Some(id))
    );
    match watcher
        .until(|f| matches!(f, ServerFrame::UserUpdated { .. }))
        .await
    {
        ServerFrame::UserUpdated { user } => {
            assert_eq!((user.id.0, user.nickname.as_str()), (id, "小明同学"));
            assert_eq!(user.avatar_url, None, "no avatar_url given: removed");
        }
        _ => unreachable!(),
    }
    let (s, got) = api.call("GET", "/api/v1/users/u-1001", None).await;
    assert_eq!((s, got["nickname"].as_str()), (200, Some("小明同学")));
    // A new host user lands in the lobby like every new account.
    let lobby_members = boss.call("room_detail", &[("room_id", "1")]).await.unwrap();
    assert!(lobby_members["members"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == id));

    // Two upserts of one new id at once: one account.
    let (a, b) = tokio::join!(api.upsert("race", "甲"), api.upsert("race", "乙"));
    assert_eq!(a["user"]["id"], b["user"]["id"]);
    assert_ne!(a["created"], b["created"]);

    let (s, b) = api.call("GET", "/api/v1/users/nobody", None).await;
    assert_eq!((s, code(&b)), (404, "not_found"));
    for (ext, body, want) in [
        ("a%20b", json!({"nickname": "x"}), "external_id_invalid"),
        (
            &"9".repeat(65),
            json!({"nickname": "x"}),
            "external_id_invalid",
        ),
        ("ok", json!({"nickname": "  "}), "nickname_invalid"),
        (
            "ok",
            json!({"nickname": "x", "avatar_url": "javascript:alert(1)"}),
            "avatar_url_invalid",
        ),
    ] {
        let (s, b) = api
            .call("PUT", &format!("/api/v1/users/{ext}"), Some(body))
            .await;
        assert_eq!((s, code(&b)), (422, want), "{ext}");
    }
    let (s, b) = api
        .call("PUT", "/api/v1/users/ok", Some(json!({"nick": 1})))
        .await;
    assert_eq!((s, code(&b)), (422, "bad_request"));
    let (s, b) = api.call("GET", "/api/v1/users/nobody-yet", None).await;
    assert_eq!(
        (s, code(&b)),
        (404, "not_found"),
        "a refused upsert stored nothing"
    );
    // A host user cannot sign in with a password.
    let (s, _) = Client::new(&server)
        .call(
            "login",
            &[("username", "u-1001"), ("password", "anything-at-all")],
        )
        .await
        .unwrap_err();
    assert_eq!(s, 401);
    server.stop().await;
}

#[tokio::test]
async fn is_online_counts_every_tab() {
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let key = make_key(&boss, "crm", "full", "").await;
    let api = Api::new(&server, Some(&key.secret));
    api.upsert("7", "七").await;
    assert_eq!(wait_connections(&api, "7", 0).await["online"], false);

    let (_client, mut tabs) = host_user(&server, &api, "7", 3).await;
    let on = wait_connections(&api, "7", 3).await;
    assert_eq!(
        (on["online"].as_bool(), on["connections"].as_u64()),
        (Some(true), Some(3))
    );
    let room = boss.create_room("在线").await;
    api.call("PUT", &format!("/api/v1/rooms/{room}/members/7"), None)
        .await;

    // Overall and in the room: the host user with 3, boss (not connected)
    // nowhere; in the lobby too.
    let (_, all) = api.call("GET", "/api/v1/online", None).await;
    let users = all["users"].as_array().unwrap();
    assert_eq!(users.len(), 1, "{all}");
    assert_eq!(
        (
            users[0]["user"]["external_id"].as_str(),
            users[0]["connections"].as_u64()
        ),
        (Some("7"), Some(3))
    );
    assert_eq!(all["connections"], 3);
    let (_, in_room) = api
        .call("GET", &format!("/api/v1/rooms/{room}/online"), None)
        .await;
    assert_eq!(in_room["count"], 1, "{in_room}");
    let _boss_tab = boss.connect().await;
    let (_, all) = api.call("GET", "/api/v1/online", None).await;
    assert_eq!(
        (all["count"].as_u64(), all["connections"].as_u64()),
        (Some(2), Some(4))
    );
    let (_, in_room) = api
        .call("GET", &format!("/api/v1/rooms/{room}/online"), None)
        .await;
    assert_eq!(in_room["count"], 2, "the owner is in the room too");

    // Closing tabs one by one.
    drop(tabs.pop());
    assert_eq!(wait_connections(&api, "7", 2).await["connections"], 2);
    tabs.clear();
    let off = wait_connections(&api, "7", 0).await;
    assert_eq!(
        (off["online"].as_bool(), off["connections"].as_u64()),
        (Some(false), Some(0))
    );
    let (s, b) = api.call("GET", "/api/v1/rooms/999999/online", None).await;
    assert_eq!((s, code(&b)), (404, "not_found"));
    let (s, b) = api.call("GET", "/api/v1/rooms/abc/online", None).await;
    assert_eq!((s, code(&b)), (422, "bad_request"));
    server.stop().await;
}

#[tokio::test]
async fn sends_reach_users_rooms_and_everyone_once() {
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let key = make_key(&boss, "crm", "full", "").await;
    let api = Api::new(&server, Some(&key.secret));
    let (member, mut member_tabs) = host_user(&server, &api, "m1", 2).await;

    // To a user: their private chat with the bot, live on every tab, the
    // bot drawn as a bot with its picture.
    let dm = json!({"client_id": "order-1", "text": "您的订单已发货"});
    let (s, first) = api
        .call("POST", "/api/v1/users/m1/messages", Some(dm.clone()))
        .await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["duplicate"], false);
    for tab in &mut member_tabs {
        let ev = loop {
            let ev = next_event(tab).await;
            if matches!(ev.body, EventBody::Message(_)) {
                break ev;
            }
        };
        assert_eq!(
            (ev.conversation_id.0, ev.seq),
            (
                first["room_id"].as_i64().unwrap(),
                first["seq"].as_i64().unwrap()
            )
        );
        assert!(ev.actor.bot, "{ev:?}");
        assert_eq!(ev.actor.id.0, key.bot);
        assert_eq!(ev.actor.nickname, "crm-bot");
        assert_eq!(
            ev.actor.avatar_url.as_deref(),
            Some("https://cdn.example.com/bot.png")
        );
    }
    // A retry: the same message, nothing new stored or pushed.
    let (_, retry) = api
        .call("POST", "/api/v1/users/m1/messages", Some(dm))
        .await;
    assert_eq!(
        (retry["seq"].clone(), retry["duplicate"].clone()),
        (first["seq"].clone(), json!(true))
    );
    let dm_room = first["room_id"].as_i64().unwrap();
    assert_eq!(member.message_texts(dm_room).await, ["您的订单已发货"]);
    for tab in &mut member_tabs {
        assert!(!tab
            .frames_until_pong()
            .await
            .iter()
            .any(|f| matches!(f, ServerFrame::Event { .. })));
    }
    let (s, b) = api
        .call(
            "POST",
            "/api/v1/users/nobody/messages",
            Some(json!({"client_id": "x", "text": "t"})),
        )
        .await;
    assert_eq!((s, code(&b)), (404, "not_found"));

    // To a room: the bot joins it once, every member gets the message.
    let room = boss.create_room("群发").await;
    let (s, b) = api
        .call("PUT", &format!("/api/v1/rooms/{room}/members/m1"), None)
        .await;
    assert_eq!((s, b["changed"].as_bool()), (200, Some(true)));
    let (_, b) = api
        .call("PUT", &format!("/api/v1/rooms/{room}/members/m1"), None)
        .await;
    assert_eq!(b["changed"], false, "adding a member again changes nothing");
    let mut boss_tab = boss.connect().await;
    let path = format!("/api/v1/rooms/{room}/messages");
    let body = json!({"client_id": "promo-1", "text": "今晚八点直播"});
    let (_, sent) = api.call("POST", &path, Some(body.clone())).await;
    let (_, again) = api.call("POST", &path, Some(body)).await;
    assert_eq!(
        (sent["seq"].clone(), again["duplicate"].clone()),
        (again["seq"].clone(), json!(true))
    );
    for socket in [&mut boss_tab, &mut member_tabs[0]] {
        let ev = loop {
            let ev = next_event(socket).await;
            if ev.conversation_id.0 == room && matches!(ev.body, EventBody::Message(_)) {
                break ev;
            }
        };
        assert_eq!(ev.seq, sent["seq"].as_i64().unwrap());
    }
    assert_eq!(boss.message_texts(room).await, ["今晚八点直播"]);
    let (s, b) = api
        .call(
            "POST",
            &path,
            Some(json!({"client_id": "bad id!", "text": "x"})),
        )
        .await;
    assert_eq!((s, code(&b)), (422, "client_id_invalid"));
    let (s, b) = api
        .call(
            "POST",
            &path,
            Some(json!({"client_id": "e", "text": "   "})),
        )
        .await;
    assert_eq!((s, code(&b)), (422, "message_empty"));

    // To everyone: a notice in the lobby, reaching every connected user.
    let carol = server.user("carol").await;
    let mut carol_tab = carol.connect().await;
    let notice = json!({"client_id": "maint-1", "text": "今晚 23:00 系统维护"});
    let (s, stored) = api
        .call("POST", "/api/v1/broadcast", Some(notice.clone()))
        .await;
    assert_eq!(s, 200, "{stored}");
    let sockets: Vec<&mut Socket> = member_tabs
        .iter_mut()
        .chain([&mut boss_tab, &mut carol_tab])
        .collect();
    assert_eq!(sockets.len(), 4);
    for socket in sockets {
        let ev = loop {
            let ev = next_event(socket).await;
            if let EventBody::Message(m) = &ev.body {
                if matches!(m.content, MessageContent::Notice(_)) {
                    break ev;
                }
            }
        };
        assert_eq!(
            (ev.conversation_id.0, ev.seq),
            (
                stored["room_id"].as_i64().unwrap(),
                stored["seq"].as_i64().unwrap()
            )
        );
        match ev.body {
            EventBody::Message(m) => assert_eq!(m.content.text(), "今晚 23:00 系统维护"),
            _ => unreachable!(),
        }
    }
    let (_, again) = api.call("POST", "/api/v1/broadcast", Some(notice)).await;
    assert_eq!(
        (again["seq"].clone(), again["duplicate"].clone()),
        (stored["seq"].clone(), json!(true))
    );
    // In history, as a notice, for someone who was not connected.
    let history = carol
        .call(
            "history",
            &[("room_id", &stored["room_id"].to_string()), ("after", "0")],
        )
        .await
        .unwrap();
    let notices: Vec<&Value> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["body"]["msgtype"] == "notice")
        .collect();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0]["body"]["text"], "今晚 23:00 系统维护");

    // Removing a member: their sockets stop receiving the room.
    let (_, b) = api
        .call("DELETE", &format!("/api/v1/rooms/{room}/members/m1"), None)
        .await;
    assert_eq!(b["changed"], true);
    let (_, b) = api
        .call("DELETE", &format!("/api/v1/rooms/{room}/members/m1"), None)
        .await;
    assert_eq!(b["changed"], false);
    let (s, b) = member
        .call("history", &[("room_id", &room.to_string())])
        .await
        .unwrap_err();
    assert_eq!((s, code(&b)), (403, "not_member"));
    // Not a public room: a private chat cannot be joined.
    let (s, b) = api
        .call("PUT", &format!("/api/v1/rooms/{dm_room}/members/m1"), None)
        .await;
    assert_eq!(s, 409, "{b}");
    server.stop().await;
}

#[tokio::test]
async fn closing_a_users_connections_ends_every_tab() {
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let key = make_key(&boss, "crm", "full", "").await;
    let api = Api::new(&server, Some(&key.secret));
    let (_client, mut tabs) = host_user(&server, &api, "k1", 2).await;
    let mut bystander = boss.connect().await;
    wait_connections(&api, "k1", 2).await;
    let (s, b) = api
        .call("DELETE", "/api/v1/users/k1/connections", None)
        .await;
    assert_eq!((s, b["closed"].as_u64()), (200, Some(2)));
    for tab in &mut tabs {
        assert_eq!(
            tab.close_code().await,
            teahouse_protocol::close_code::SESSION_ENDED
        );
    }
    assert_eq!(wait_connections(&api, "k1", 0).await["connections"], 0);
    // Others keep theirs.
    assert!(bystander
        .frames_until_pong()
        .await
        .iter()
        .all(|f| !matches!(f, ServerFrame::Hello { .. })));
    server.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let server = TestServer::start().await;
    let res = reqwest::get(server.url("/api/v1/openapi.json"))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/users/{external_id}", "put"),
        ("/api/v1/users/{external_id}", "get"),
        ("/api/v1/users/{external_id}/online", "get"),
        ("/api/v1/users/{external_id}/messages", "post"),
        ("/api/v1/users/{external_id}/connections", "delete"),
        ("/api/v1/users/{external_id}/handoff", "post"),
        ("/api/v1/rooms/{room_id}/online", "get"),
        ("/api/v1/rooms/{room_id}/messages", "post"),
        ("/api/v1/rooms/{room_id}/members/{external_id}", "put"),
        ("/api/v1/rooms/{room_id}/members/{external_id}", "delete"),
        ("/api/v1/online", "get"),
        ("/api/v1/broadcast", "post"),
    ] {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path} missing");
        assert_eq!(op["security"][0]["api_key"], json!([]), "{method} {path}");
    }
    assert_eq!(
        paths.len(),
        10,
        "a route without its document entry, or the other way round"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["SendText"]["properties"]["client_id"].is_object());
    server.stop().await;
}
