//! `/compat/ws`, the drop-in for seed 000's chat socket: its JSON protocol
//! as the seed's pages send it, against the real server, with identity from
//! the session (the frames' `from_user_id` is forged on purpose), messages
//! in the same logs as the app's both ways, and every bad frame answered in
//! the seed's shape on a socket that stays open.

mod common;

use std::time::Duration;

use common::access::admin;
use common::api::{make_key, open_handoff, Api};
use common::{Client, Socket, TestServer};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use teahouse_protocol::{EventBody, ServerFrame};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A seed-protocol client: JSON objects out, `{code, msg, data}` in.
struct Seed {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Seed {
    /// Opens `/compat/ws` with `client`'s session cookie.
    async fn open(client: &Client) -> Seed {
        Seed::open_with(client, &[]).await.expect("upgrade")
    }

    async fn open_with(
        client: &Client,
        headers: &[(&str, &str)],
    ) -> Result<Seed, tokio_tungstenite::tungstenite::Error> {
        let cookie = client.cookie();
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(c) = &cookie {
            all.push(("cookie", c));
        }
        Seed::at(&format!("ws://{}/compat/ws", client.addr), &all).await
    }

    /// Opens `url` (no cookie) with a hand-off token: as a seed page does.
    async fn with_token(server: &TestServer, token: &str, headers: &[(&str, &str)]) -> Seed {
        let url = format!("ws://{}/compat/ws?token={token}", server.addr);
        Seed::at(&url, headers).await.expect("upgrade")
    }

    async fn at(
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<Seed, tokio_tungstenite::tungstenite::Error> {
        let mut req = url.into_client_request().unwrap();
        for (k, v) in headers {
            req.headers_mut().insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        let (ws, _) = tokio::time::timeout(
            Duration::from_secs(10),
            tokio_tungstenite::connect_async(req),
        )
        .await
        .expect("handshake timed out")?;
        Ok(Seed { ws })
    }

    async fn send(&mut self, frame: Value) {
        self.send_text(&frame.to_string()).await;
    }

    async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    /// The next answer, or None if nothing comes within `wait`.
    async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        loop {
            match tokio::time::timeout(wait, self.ws.next()).await.ok()?? {
                Ok(Message::Text(t)) => return Some(serde_json::from_str(t.as_str()).unwrap()),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    async fn next(&mut self) -> Value {
        self.next_within(Duration::from_secs(10))
            .await
            .expect("expected an answer")
    }

    /// Asserts nothing else arrives for a moment.
    async fn assert_quiet(&mut self) {
        if let Some(v) = self.next_within(Duration::from_millis(300)).await {
            panic!("expected nothing, got {v}");
        }
    }

    /// The seed's join, with `forged` as `from_user_id`.
    async fn join(&mut self, mode: u8, group: Value, forged: &str) -> Value {
        self.send(json!({
            "event": "join", "mode": mode, "group_id": group,
            "from_user_id": forged, "from_username": "冒名", "to_user_id": "10000",
            "content": "加入会话",
        }))
        .await;
        let answer = self.next().await;
        assert_eq!(answer["code"], 0, "{answer}");
        assert_eq!(answer["msg"], "success");
        answer
    }
}

fn speak(mode: u8, group: Value, to: &str, forged: &str, content: &str) -> Value {
    json!({
        "event": "speak", "mode": mode, "group_id": group,
        "from_user_id": forged, "from_username": "冒名", "to_user_id": to,
        "content": content,
    })
}

/// The messages of `room`'s log as (sender id, text).
async fn messages(client: &Client, room: i64) -> Vec<(i64, String)> {
    client
        .events_after(room, 0)
        .await
        .into_iter()
        .filter_map(|e| match e.body {
            EventBody::Message(m) => Some((e.actor.id.0, m.content.text().to_owned())),
            _ => None,
        })
        .collect()
}

/// The next stored message pushed on `/ws`.
async fn pushed_text(socket: &mut Socket) -> (i64, i64, String) {
    match socket
        .until(|f| matches!(f, ServerFrame::Event { event } if matches!(event.body, EventBody::Message(_))))
        .await
    {
        ServerFrame::Event { event } => match event.body {
            EventBody::Message(m) => (
                event.conversation_id.0,
                event.actor.id.0,
                m.content.text().to_owned(),
            ),
            _ => unreachable!(),
        },
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn group_chat_as_the_seed_speaks_it_with_forged_senders_ignored() {
    let server = TestServer::start().await;
    let aksu = server.user("aksu").await;
    let lamu = server.user("lamu").await;
    let wuchen = server.user("wuchen").await;
    let mut a = Seed::open(&aksu).await;
    let mut l = Seed::open(&lamu).await;

    // The join answer echoes the frame with the real sender in it.
    let joined = a.join(2, json!(100), "10000").await;
    assert_eq!(joined["data"]["from_user_id"], aksu.id.to_string());
    assert_eq!(joined["data"]["from_username"], "aksu-nick");
    assert_eq!(joined["data"]["group_id"], 100);
    let room = joined["data"]["room_id"].as_i64().unwrap();
    // Group id 100 as a string is the same group.
    let joined = l.join(2, json!("100"), "10086").await;
    assert_eq!(joined["data"]["room_id"], room);

    // 阿克苏 speaks pretending to be 拉姆才让: stored and shown as 阿克苏.
    a.send(speak(
        2,
        json!(100),
        "10086",
        &lamu.id.to_string(),
        "【群组消息】:我是阿克苏",
    ))
    .await;
    for socket in [&mut a, &mut l] {
        let got = socket.next().await;
        assert_eq!(got["code"], 0, "{got}");
        assert_eq!(got["msg"], "aksu-nick[群聊说]:【群组消息】:我是阿克苏");
        assert_eq!(got["data"]["from_user_id"], aksu.id.to_string());
        assert_eq!(got["data"]["from_username"], "aksu-nick");
        assert_eq!(got["data"]["mode"], 2);
        assert_eq!(got["data"]["group_id"], 100);
        assert_eq!(got["data"]["room_id"], room);
        assert_eq!(got["data"]["content"], "【群组消息】:我是阿克苏");
    }
    assert_eq!(
        messages(&lamu, room).await,
        vec![(aksu.id, "【群组消息】:我是阿克苏".to_owned())]
    );

    // The room is an ordinary one in the app: 無尘 finds it, joins from the
    // UI, and what she sends there reaches the seed sockets in their shape.
    let listed = lamu.call("my_rooms", &[]).await.unwrap();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == room && r["name"] == "群 100"),
        "{listed}"
    );
    wuchen.join(room).await;
    let mut w_ws = wuchen.connect().await;
    wuchen.send(room, "ui-1", "从界面发的").await.unwrap();
    assert_eq!(pushed_text(&mut w_ws).await.2, "从界面发的");
    for socket in [&mut a, &mut l] {
        let got = socket.next().await;
        assert_eq!(got["msg"], "wuchen-nick[群聊说]:从界面发的", "{got}");
        assert_eq!(got["data"]["from_user_id"], wuchen.id.to_string());
    }
    // And the seed's messages reach the app's socket.
    l.send(speak(2, json!(100), "", "10086", "拉姆才让来了"))
        .await;
    assert_eq!(
        pushed_text(&mut w_ws).await,
        (room, lamu.id, "拉姆才让来了".to_owned())
    );
    assert_eq!(l.next().await["data"]["content"], "拉姆才让来了");
    assert_eq!(a.next().await["data"]["content"], "拉姆才让来了");
    // Another group id is another room, and its messages do not reach
    // sockets that did not join it.
    let other = l.join(2, json!(200), "x").await["data"]["room_id"]
        .as_i64()
        .unwrap();
    assert_ne!(other, room);
    l.send(speak(2, json!(200), "", "x", "只在 200")).await;
    assert_eq!(l.next().await["data"]["group_id"], 200);
    a.assert_quiet().await;
}

/// A key for the host system's backend, made by an admin.
async fn host_api(server: &TestServer) -> Api {
    let boss = admin(server, "boss").await;
    Api::new(
        server,
        Some(&make_key(&boss, "app", "full", "").await.secret),
    )
}

/// A one-time token for host user `ext` (as the host backend gets one).
async fn token_for(api: &Api, ext: &str) -> String {
    let handoff = api.handoff(ext, None).await;
    let url = handoff["url"].as_str().unwrap();
    url.split("token=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned()
}

/// Host user `ext` signed in to the Teahouse app through a hand-off.
async fn app_session(server: &TestServer, api: &Api, ext: &str, id: i64) -> Client {
    let url = api.handoff(ext, None).await["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let (client, status, _) = open_handoff(server, &url).await;
    assert_eq!(status, 303);
    Client { id, ..client }
}

#[tokio::test]
async fn private_chat_by_the_hosts_user_ids_reaches_the_app_and_back() {
    let server = TestServer::start().await;
    let api = host_api(&server).await;
    let aksu = api.upsert("10086", "阿克苏").await["user"]["id"]
        .as_i64()
        .unwrap();
    let lamu = api.upsert("10000", "拉姆才让").await["user"]["id"]
        .as_i64()
        .unwrap();
    let mut a = Seed::with_token(&server, &token_for(&api, "10086").await, &[]).await;
    let mut l = Seed::with_token(&server, &token_for(&api, "10000").await, &[]).await;
    // The seed's ids are the host's: 10086 is 阿克苏 whatever the frame says.
    let joined = a.join(1, json!(0), "10000").await;
    assert_eq!(joined["data"]["from_user_id"], "10086");
    assert_eq!(joined["data"]["from_username"], "阿克苏");
    l.join(1, json!(0), "10086").await;
    let lamu_app = app_session(&server, &api, "10000", lamu).await;
    let mut l_app = lamu_app.connect().await;

    // A private message is acknowledged to its sender once stored…
    a.send(speak(1, json!(0), "10000", "10000", "Hi, 我是阿克苏"))
        .await;
    let ack = a.next().await;
    assert_eq!(ack["code"], 0, "{ack}");
    assert_eq!(ack["msg"], "success");
    assert_eq!(ack["data"]["from_user_id"], "10086");
    assert_eq!(ack["data"]["to_user_id"], "10000");
    let dm = ack["data"]["room_id"].as_i64().unwrap();
    // …delivered to the addressee in the seed's words…
    let got = l.next().await;
    assert_eq!(got["msg"], "阿克苏[单聊对]10000[说]:Hi, 我是阿克苏");
    assert_eq!(got["data"]["from_user_id"], "10086");
    assert_eq!(got["data"]["mode"], 1);
    assert_eq!(got["data"]["group_id"], 0);
    assert_eq!(got["data"]["room_id"], dm);
    // …and it is the app's private chat: in its log and on its socket.
    assert_eq!(
        pushed_text(&mut l_app).await,
        (dm, aksu, "Hi, 我是阿克苏".to_owned())
    );
    let rooms = lamu_app.call("my_rooms", &[]).await.unwrap();
    assert!(rooms
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == dm && r["kind"] == "direct"));

    // The answer from the app reaches the old page.
    lamu_app.send(dm, "ui-1", "Hi, 我是拉姆才让").await.unwrap();
    let got = a.next().await;
    assert_eq!(got["msg"], "拉姆才让[单聊对]10086[说]:Hi, 我是拉姆才让");
    assert_eq!(got["data"]["from_user_id"], "10000");
    // Its sender's own seed socket is not sent its own message back.
    l.assert_quiet().await;
    assert_eq!(
        messages(&lamu_app, dm).await,
        vec![
            (aksu, "Hi, 我是阿克苏".to_owned()),
            (lamu, "Hi, 我是拉姆才让".to_owned())
        ]
    );
    // A host id nobody has, and one that is not an external id at all.
    a.send(speak(1, json!(0), "99999", "1", "hi")).await;
    let got = a.next().await;
    assert_eq!(
        (got["code"].as_i64(), got["data"]["field"].as_str()),
        (Some(404), Some("to_user_id"))
    );
    a.send(speak(1, json!(0), "10086", "1", "to myself")).await;
    let got = a.next().await;
    assert_eq!(got["data"]["error"], "direct_with_self", "{got}");
    assert_eq!(got["data"]["field"], "to_user_id");
    a.send(speak(1, json!(0), "a b", "1", "hi")).await;
    let got = a.next().await;
    assert_eq!(got["data"]["error"], "external_id_invalid", "{got}");
    assert_eq!(got["data"]["field"], "to_user_id");
}

#[tokio::test]
async fn a_token_opens_one_socket_from_any_origin_and_never_a_second() {
    let server = TestServer::start().await;
    let api = host_api(&server).await;
    api.upsert("10086", "阿克苏").await;
    let token = token_for(&api, "10086").await;
    // The host's page is on the host's site: the token is the authority,
    // not a cookie, so its origin does not matter.
    let mut s = Seed::with_token(&server, &token, &[("origin", "https://app.example.com")]).await;
    assert_eq!(
        s.join(1, json!(0), "x").await["data"]["from_user_id"],
        "10086"
    );
    // Used: a second socket with it is told so and closed.
    for bad in [token.as_str(), &"a".repeat(64), "xyz"] {
        let mut again = Seed::with_token(&server, bad, &[]).await;
        let got = again.next().await;
        assert_eq!(got["code"], 401, "{got}");
        assert_eq!(got["data"]["error"], "handoff_invalid");
        assert_eq!(again.next_within(Duration::from_secs(5)).await, None);
    }
    // The first one still works.
    s.join(2, json!(5), "x").await;
}

#[tokio::test]
async fn bad_frames_get_the_seeds_error_answer_and_the_socket_stays_open() {
    let server = TestServer::start().await;
    let aksu = server.user("aksu").await;
    let mut a = Seed::open(&aksu).await;
    let long = "长".repeat(teahouse_protocol::limits::MESSAGE_MAX_DEFAULT + 1);
    let cases: Vec<(String, u16, &str, Option<&str>)> = vec![
        ("{not json".into(), 400, "compat_json_invalid", None),
        ("[1, 2]".into(), 400, "compat_json_invalid", None),
        (
            json!({"event": "leave", "mode": 1}).to_string(),
            400,
            "compat_event_unknown",
            Some("event"),
        ),
        (
            json!({"mode": 1}).to_string(),
            400,
            "compat_event_unknown",
            Some("event"),
        ),
        (
            json!({"event": "join", "mode": 3}).to_string(),
            400,
            "compat_mode_invalid",
            Some("mode"),
        ),
        (
            json!({"event": "join", "mode": 2}).to_string(),
            400,
            "compat_group_invalid",
            Some("group_id"),
        ),
        (
            json!({"event": "join", "mode": 2, "group_id": 0}).to_string(),
            400,
            "compat_group_invalid",
            Some("group_id"),
        ),
        (
            json!({"event": "join", "mode": 2, "group_id": "a b"}).to_string(),
            400,
            "compat_group_invalid",
            Some("group_id"),
        ),
        (
            json!({"event": "speak", "mode": 1, "content": "x"}).to_string(),
            400,
            "compat_to_user_invalid",
            Some("to_user_id"),
        ),
        (
            speak(2, json!(100), "", "1", "").to_string(),
            422,
            "message_empty",
            Some("content"),
        ),
        (
            json!({"event": "speak", "mode": 2, "group_id": 100}).to_string(),
            422,
            "message_empty",
            Some("content"),
        ),
        (
            speak(2, json!(100), "", "1", &long).to_string(),
            422,
            "message_too_long",
            Some("content"),
        ),
        // No one ever joined group 300: there is no room to speak in.
        (
            speak(2, json!(300), "", "1", "hi").to_string(),
            404,
            "not_found",
            Some("group_id"),
        ),
        // Nobody has that host id.
        (
            speak(1, json!(0), "999999", "1", "hi").to_string(),
            404,
            "not_found",
            Some("to_user_id"),
        ),
    ];
    // Group 100 exists, but aksu is not in it (lamu made it).
    let lamu = server.user("lamu").await;
    Seed::open(&lamu).await.join(2, json!(100), "x").await;
    for (frame, code, error, field) in &cases {
        a.send_text(frame).await;
        let got = a.next().await;
        assert_eq!(got["code"], *code, "{frame}: {got}");
        assert_eq!(got["data"]["error"], *error, "{frame}: {got}");
        assert_eq!(got["data"]["field"].as_str(), *field, "{frame}: {got}");
        assert!(!got["msg"].as_str().unwrap().is_empty());
        assert!(!got["data"]["message"].as_str().unwrap().is_empty());
    }
    a.send(speak(2, json!(100), "", "1", "not a member")).await;
    let got = a.next().await;
    assert_eq!(got["code"], 403, "{got}");
    assert_eq!(got["data"]["error"], "not_member");
    // A binary frame is not JSON either.
    a.ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    assert_eq!(a.next().await["data"]["error"], "compat_json_invalid");
    // Still open, and nothing was stored by any of it.
    a.join(2, json!(100), "x").await;
    let rooms = aksu.call("my_rooms", &[]).await.unwrap();
    for r in rooms.as_array().unwrap() {
        let id = r["id"].as_i64().unwrap();
        assert!(
            messages(&aksu, id).await.is_empty(),
            "room {id} has messages"
        );
    }
}

#[tokio::test]
async fn no_identity_is_told_why_and_other_origins_cannot_use_the_cookie() {
    let server = TestServer::start().await;
    // No cookie: the seed's error answer, then the socket closes.
    let anonymous = Client::new(&server);
    let mut s = Seed::open(&anonymous).await;
    let got = s.next().await;
    assert_eq!(got["code"], 401, "{got}");
    assert_eq!(got["data"]["error"], "unauthenticated");
    match tokio::time::timeout(Duration::from_secs(10), s.ws.next()).await {
        Ok(Some(Ok(Message::Close(Some(frame))))) => assert_eq!(u16::from(frame.code), 1008),
        other => panic!("expected a close frame, got {other:?}"),
    }

    // A page of another origin cannot open it with a user's cookie.
    let aksu = server.user("aksu").await;
    let foreign = format!("http://127.0.0.1:{}", server.addr.port() + 1);
    match Seed::open_with(&aksu, &[("origin", &foreign)]).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status().as_u16(), 403)
        }
        Ok(_) => panic!("a foreign origin got a socket"),
        Err(e) => panic!("unexpected error {e}"),
    }
    // Its own origin may.
    let own = format!("http://{}", server.addr);
    let mut s = Seed::open_with(&aksu, &[("origin", &own)]).await.unwrap();
    s.join(1, json!(0), "1").await;
}

#[tokio::test]
async fn two_first_joins_of_a_group_at_once_make_one_room() {
    let server = TestServer::start().await;
    let mut seeds = Vec::new();
    for name in ["aaa", "bbb", "ccc", "ddd"] {
        let c = server.user(name).await;
        seeds.push(Seed::open(&c).await);
    }
    for s in &mut seeds {
        s.send(json!({"event": "join", "mode": 2, "group_id": 777, "content": ""}))
            .await;
    }
    let mut rooms = Vec::new();
    for s in &mut seeds {
        let got = s.next().await;
        assert_eq!(got["code"], 0, "{got}");
        rooms.push(got["data"]["room_id"].as_i64().unwrap());
    }
    rooms.dedup();
    assert_eq!(rooms.len(), 1, "{rooms:?}");
}
