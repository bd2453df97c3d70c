//! The real server over real HTTP and WebSocket connections.

mod common;

use std::time::Duration;

use common::TestServer;
use teahouse_protocol::{close_code, EventBody, ServerFrame};
use tokio_tungstenite::tungstenite::Error as WsError;

/// Asserts that opening `/ws` with `cookie` is refused with 401.
async fn assert_upgrade_refused(client: &common::Client, cookie: Option<&str>) {
    match client.socket(cookie).await {
        Err(WsError::Http(res)) => assert_eq!(res.status().as_u16(), 401, "cookie {cookie:?}"),
        other => panic!("expected 401 for {cookie:?}, got {:?}", other.map(|_| ())),
    }
}

fn is_message(f: &ServerFrame, text: &str) -> bool {
    matches!(f, ServerFrame::Event { event } if matches!(&event.body, EventBody::Message(m) if m.content.text() == text))
}

#[tokio::test]
async fn a_message_sent_by_one_member_reaches_the_others_socket_but_no_outsider() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let eve = server.user("eve").await;
    let room = alice.create_room("tea").await;
    bob.join(room).await;

    let mut bob_ws = bob.connect().await;
    let mut eve_ws = eve.connect().await;

    let sent = alice.send(room, "m-1", "你好 <script>").await.unwrap();
    assert_eq!(
        sent["actor"]["id"], alice.id,
        "sender comes from the session"
    );
    let got = bob_ws.until(|f| is_message(f, "你好 <script>")).await;
    let ServerFrame::Event { event } = got else {
        unreachable!()
    };
    assert_eq!(event.conversation_id.0, room);
    assert_eq!(event.actor.id.0, alice.id);
    assert_eq!(event.seq, sent["seq"].as_i64().unwrap());

    // Eve is online but not in the room: she must hear nothing of it.
    // A ping/pong round trip proves everything queued before it was delivered.
    for frame in eve_ws.frames_until_pong().await {
        if let ServerFrame::Event { event } = frame {
            assert_ne!(event.conversation_id.0, room, "outsider heard {event:?}");
        }
    }
    // …and cannot read or post there either.
    let (status, err) = eve.send(room, "e-1", "let me in").await.unwrap_err();
    assert_eq!((status, err["code"].as_str()), (403, Some("not_member")));
    let (status, _) = eve
        .call("history", &[("room_id", &room.to_string())])
        .await
        .unwrap_err();
    assert_eq!(status, 403);
    server.stop().await;
}

#[tokio::test]
async fn the_sender_cannot_be_forged_by_the_client() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let mallory = server.user("mallory").await;
    // An extra "from" field is ignored: identity is the session's.
    let sent = mallory
        .call(
            "send_message",
            &[
                ("room_id", "1"),
                ("client_id", "x1"),
                ("text", "hi"),
                ("actor_id", &alice.id.to_string()),
            ],
        )
        .await;
    match sent {
        Ok(ev) => assert_eq!(ev["actor"]["id"], mallory.id),
        Err((status, _)) => assert_eq!(status, 400),
    }
    server.stop().await;
}

#[tokio::test]
async fn an_upgrade_without_a_valid_session_is_refused() {
    let server = TestServer::start().await;
    let anon = common::Client::new(&server);
    assert_upgrade_refused(&anon, None).await;
    assert_upgrade_refused(&anon, Some("teahouse_sid=forged-session-id")).await;
    // Logging out ends the session for new sockets too.
    let alice = server.user("alice").await;
    let cookie = alice.cookie().unwrap();
    alice.call("logout", &[]).await.unwrap();
    assert_upgrade_refused(&anon, Some(&cookie)).await;
    server.stop().await;
}

#[tokio::test]
async fn a_duplicate_client_id_is_stored_once_and_pushed_once() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mut bob_ws = bob.connect().await;
    let first = alice.send(1, "retry-me", "only once").await.unwrap();
    let again = alice.send(1, "retry-me", "only once").await.unwrap();
    assert_eq!(first, again);
    let history = alice
        .call("history", &[("room_id", "1"), ("after", "0")])
        .await
        .unwrap();
    let copies = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["body"]["client_id"] == "retry-me")
        .count();
    assert_eq!(copies, 1);
    bob_ws.until(|f| is_message(f, "only once")).await;
    let rest = bob_ws.frames_until_pong().await;
    assert!(
        !rest.iter().any(|f| is_message(f, "only once")),
        "pushed twice"
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_input_gets_a_stable_code_and_nothing_is_stored() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let cases: [(&str, &str, u16, &str); 4] = [
        ("c1", "   ", 422, "message_empty"),
        ("c2", &"长".repeat(2001), 422, "message_too_long"),
        ("bad id!", "hi", 422, "client_id_invalid"),
        ("", "hi", 422, "client_id_invalid"),
    ];
    for (client_id, text, status, code) in cases {
        let (s, err) = alice.send(1, client_id, text).await.unwrap_err();
        assert_eq!(
            (s, err["code"].as_str()),
            (status, Some(code)),
            "{client_id:?}"
        );
    }
    let (s, err) = alice.send(424242, "c3", "hi").await.unwrap_err();
    assert_eq!((s, err["code"].as_str()), (404, Some("not_found")));
    let (s, _) = alice
        .call(
            "send_message",
            &[
                ("room_id", "not-a-number"),
                ("client_id", "c4"),
                ("text", "hi"),
            ],
        )
        .await
        .unwrap_err();
    assert!((400..500).contains(&s), "malformed args -> {s}");
    // An oversized body is refused before it is read.
    let huge = "x".repeat(server::MAX_REQUEST_BODY + 1);
    let (s, _) = alice.send(1, "c6", &huge).await.unwrap_err();
    assert_eq!(s, 413);
    let anon = common::Client::new(&server);
    let (s, err) = anon.send(1, "c5", "hi").await.unwrap_err();
    assert_eq!((s, err["code"].as_str()), (401, Some("unauthenticated")));
    // None of it reached the log: seq 1 room created, 2 alice joined.
    let log = alice
        .call("history", &[("room_id", "1"), ("after", "0")])
        .await
        .unwrap();
    assert_eq!(log.as_array().unwrap().len(), 2);
    // Registration errors name their field.
    let (s, err) = common::Client::new(&server)
        .call(
            "register",
            &[
                ("username", "alice"),
                ("nickname", "x"),
                ("password", "tea-leaves-42"),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(
        (s, err["code"].as_str(), err["field"].as_str()),
        (409, Some("username_taken"), Some("username"))
    );
    server.stop().await;
}

#[tokio::test]
async fn membership_changes_and_presence_are_pushed() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let room = alice.create_room("tea").await;
    let mut alice_ws = alice.connect().await;
    let mut bob_ws = bob.connect().await;
    alice_ws
        .until(
            |f| matches!(f, ServerFrame::Presence { user_id, online: true } if user_id.0 == bob.id),
        )
        .await;
    bob.join(room).await;
    for ws in [&mut alice_ws, &mut bob_ws] {
        ws.until(|f| matches!(f, ServerFrame::Event { event } if event.conversation_id.0 == room && event.body == EventBody::MemberJoined))
            .await;
    }
    bob.call("leave_room", &[("room_id", &room.to_string())])
        .await
        .unwrap();
    alice_ws
        .until(|f| matches!(f, ServerFrame::Event { event } if event.conversation_id.0 == room && event.body == EventBody::MemberLeft))
        .await;
    drop(bob_ws);
    alice_ws
        .until(
            |f| matches!(f, ServerFrame::Presence { user_id, online: false } if user_id.0 == bob.id),
        )
        .await;
    server.stop().await;
}

#[tokio::test]
async fn the_room_page_is_server_rendered_with_its_history() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    alice
        .send(1, "h-1", "rendered on the server & escaped <i>")
        .await
        .unwrap();
    let html = alice
        .http
        .get(server.url("/?room=1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("rendered on the server &amp; escaped &lt;i&gt;"),
        "history missing from SSR"
    );
    assert!(!html.contains("<i>"));
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = anon
        .get(server.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("rendered on the server"),
        "history leaked to a logged-out visitor"
    );
    let health = anon.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    server.stop().await;
}

#[tokio::test]
async fn pages_are_picked_by_path_and_signed_out_visitors_go_to_login() {
    let server = TestServer::start().await;
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str| anon.get(server.url(path)).send();
    // The chat page sends signed-out visitors to log in, before rendering.
    for path in ["/", "/?room=1"] {
        let res = get(path).await.unwrap();
        assert_eq!(res.status().as_u16(), 303, "{path}");
        assert_eq!(res.headers()["location"], "/login", "{path}");
    }
    // The sign-in pages are forms that work before the wasm arrives.
    for (path, action) in [("/login", "/api/login"), ("/register", "/api/register")] {
        let res = get(path).await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains(&format!(r#"action="{action}" method="post""#)),
            "{path}: no form posting to {action}"
        );
    }
    let res = get("/no-such-page").await.unwrap();
    assert_eq!(res.status().as_u16(), 404);
    // Signed in, the chat page is served.
    let alice = server.user("alice").await;
    let res = alice.http.get(server.url("/")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains(r#"data-testid="me""#));
    server.stop().await;
}

#[tokio::test]
async fn shutdown_closes_sockets_with_reconnect_elsewhere() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let mut ws = alice.connect().await;
    let stopping = tokio::spawn(server.stop());
    let close = loop {
        match tokio::time::timeout(
            Duration::from_secs(10),
            futures::StreamExt::next(&mut ws.ws),
        )
        .await
        {
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame)))) => break frame,
            Ok(Some(Ok(_))) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    // A drain's "reconnect elsewhere", not "going away" (issue 18).
    assert_eq!(u16::from(close.unwrap().code), close_code::SERVER_DRAINING);
    stopping.await.unwrap();
}

/// The `Set-Cookie` header of an authenticated `my_rooms` call, if any.
async fn session_cookie_set_by_a_request(client: &common::Client) -> Option<String> {
    let res = client
        .http
        .post(format!("{}/api/my_rooms", client.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("teahouse_sid="))
        .map(str::to_owned)
}

#[tokio::test]
async fn a_session_in_use_is_renewed_once_per_period_not_per_request() {
    // Default period (a day): requests right after signing in renew nothing,
    // so sending messages costs no session writes.
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    assert_eq!(session_cookie_set_by_a_request(&alice).await, None);
    assert_eq!(session_cookie_set_by_a_request(&alice).await, None);

    // Once the period has passed (0 s here), the next request stores the
    // session again and re-sends its cookie with a fresh 30-day lifetime,
    // keeping the same session.
    let server = TestServer::start_with(|c| c.session_renew_secs = 0).await;
    let bob = server.user("bob").await;
    let before = bob.cookie().unwrap();
    let renewed = session_cookie_set_by_a_request(&bob)
        .await
        .expect("an active session is renewed");
    assert!(renewed.contains("Max-Age=2592000"), "{renewed}");
    assert!(renewed.contains("HttpOnly"), "{renewed}");
    assert_eq!(bob.cookie().unwrap(), before, "same session id");
    assert!(bob.call("my_rooms", &[]).await.is_ok());
}

#[tokio::test]
async fn logging_out_closes_that_sessions_sockets_at_once_and_no_others() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let phone = server.login("alice", alice.id).await;
    let lobby = alice.call("my_rooms", &[]).await.unwrap()[0]["id"]
        .as_i64()
        .unwrap();
    let mut laptop_ws = alice.connect().await;
    let mut phone_ws = phone.connect().await;
    // Both sockets are live before the logout.
    laptop_ws.frames_until_pong().await;
    phone_ws.frames_until_pong().await;

    let stale = alice.cookie().expect("signed in");
    alice.call("logout", &[]).await.unwrap();
    assert_eq!(laptop_ws.close_code().await, close_code::SESSION_ENDED);

    // The phone's session is untouched: it still hears the room.
    bob.send(lobby, "after-logout", "still there?")
        .await
        .unwrap();
    phone_ws.until(|f| is_message(f, "still there?")).await;
    // And the logged-out cookie cannot open a new socket.
    assert_upgrade_refused(&alice, Some(&stale)).await;
    server.stop().await;
}

#[tokio::test]
async fn every_route_answers_errors_in_one_json_shape() {
    let server = TestServer::start().await;
    let anonymous = common::Client::new(&server);
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    // A server function's refusal…
    let (status, from_fn) = anonymous.call("my_rooms", &[]).await.unwrap_err();
    assert_eq!(status, 401);
    // …a refusal by the CSRF layer before any server function runs…
    let res = anonymous
        .http
        .post(server.url("/api/logout"))
        .header("origin", "http://elsewhere.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    let from_layer: serde_json::Value = res.json().await.unwrap();
    // …and the push channel's refusal of a signed-out upgrade.
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("ws://{}/ws", server.addr),
    )
    .unwrap();
    req.headers_mut().remove("cookie");
    let from_ws = match tokio_tungstenite::connect_async(req).await {
        Err(WsError::Http(res)) => {
            assert_eq!(res.status().as_u16(), 401);
            serde_json::from_slice::<serde_json::Value>(res.body().as_deref().unwrap()).unwrap()
        }
        other => panic!("expected a 401, got {:?}", other.map(|_| ())),
    };
    for body in [&from_fn, &from_layer, &from_ws] {
        assert_eq!(keys(body), ["code", "message", "message_zh"], "{body}");
        assert!(!body["message_zh"].as_str().unwrap().is_empty());
    }
    assert_eq!(from_fn["code"], "unauthenticated");
    assert_eq!(from_layer["code"], "cross_origin");
    assert_eq!(from_ws["code"], "unauthenticated");
    server.stop().await;
}
