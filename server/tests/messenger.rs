//! A messenger's memory over real HTTP and WebSockets (issue 15): read
//! positions on every device, unread counts and mentions, recall, replies,
//! typing, presence and search.

mod common;

use std::time::{Duration, Instant};

use common::{Client, Socket, TestServer};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use serde_json::Value;
use teahouse_protocol::{ConversationEvent, EventBody, ReadState, SearchPage, ServerFrame, UserId};

fn r(room: i64) -> String {
    room.to_string()
}

fn seq_of(event: &Value) -> i64 {
    event["seq"].as_i64().expect("an event has a seq")
}

impl Client {
    async fn mark_read(&self, room: i64, seq: i64) -> Result<ReadState, (u16, Value)> {
        self.call(
            "mark_read",
            &[("room_id", &r(room)), ("seq", &seq.to_string())],
        )
        .await
        .map(|v| serde_json::from_value(v).expect("a read state"))
    }

    async fn recall(&self, room: i64, seq: i64) -> Result<Value, (u16, Value)> {
        self.call(
            "recall_message",
            &[("room_id", &r(room)), ("seq", &seq.to_string())],
        )
        .await
    }

    /// My summary of `room` from `my_rooms`.
    async fn summary(&self, room: i64) -> Value {
        let rooms = self.call("my_rooms", &[]).await.unwrap();
        rooms
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == room)
            .cloned()
            .unwrap_or_else(|| panic!("room {room} not in my_rooms"))
    }

    /// (unread, mentioned) of `room` as `my_rooms` says.
    async fn badge(&self, room: i64) -> (i64, bool) {
        let s = self.summary(room).await;
        (
            s["unread"].as_i64().unwrap(),
            s["mentioned"].as_bool().unwrap(),
        )
    }

    async fn search(&self, query: &str, room: Option<i64>) -> Result<SearchPage, (u16, Value)> {
        let room = room.map(r);
        let mut form = vec![("query", query)];
        if let Some(room) = &room {
            form.push(("room_id", room));
        }
        self.call("search_messages", &form)
            .await
            .map(|v| serde_json::from_value(v).expect("a search page"))
    }

    async fn event_at(&self, room: i64, seq: i64) -> ConversationEvent {
        self.events_after(room, seq - 1)
            .await
            .into_iter()
            .find(|e| e.seq == seq)
            .expect("event in history")
    }
}

fn hit_texts(page: &SearchPage) -> Vec<String> {
    page.hits
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Message(m) => Some(m.content.text().to_owned()),
            _ => None,
        })
        .collect()
}

/// Sends a typing frame for `room` on `ws`.
async fn typing(ws: &mut Socket, room: i64) {
    use futures::SinkExt;
    let frame = format!(r#"{{"type":"typing","room_id":{room}}}"#);
    ws.ws
        .send(tokio_tungstenite::tungstenite::Message::text(frame))
        .await
        .unwrap()
}

/// Every frame before a ping's pong (a barrier: all the server had queued).
async fn drain(ws: &mut Socket) -> Vec<ServerFrame> {
    ws.frames_until_pong().await
}

#[tokio::test]
async fn reading_in_one_tab_clears_the_badge_in_the_users_other_tab_at_once() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let room = alice.create_room("tea").await;
    bob.join(room).await;
    let bob_phone = server.login("bob", bob.id).await;
    let mut phone_ws = bob_phone.connect().await;
    let mut laptop_ws = bob.connect().await;

    let mut last = 0;
    for i in 0..3 {
        last = seq_of(&alice.send(room, &format!("m{i}"), "hi").await.unwrap());
    }
    assert_eq!(bob.badge(room).await, (3, false));
    assert_eq!(bob_phone.badge(room).await, (3, false));

    // Bob reads on his laptop up to the second message: both tabs hear it.
    let state = bob.mark_read(room, last - 1).await.unwrap();
    assert_eq!((state.read_seq, state.unread), (last - 1, 1));
    for ws in [&mut phone_ws, &mut laptop_ws] {
        let frame = ws.until(|f| matches!(f, ServerFrame::Read { .. })).await;
        let ServerFrame::Read { state } = frame else {
            unreachable!()
        };
        assert_eq!(
            (state.room_id.0, state.read_seq, state.unread),
            (room, last - 1, 1)
        );
    }
    // Then to the end on the phone: the laptop's badge is cleared live.
    bob_phone.mark_read(room, last).await.unwrap();
    let frame = laptop_ws
        .until(|f| matches!(f, ServerFrame::Read { .. }))
        .await;
    assert!(
        matches!(frame, ServerFrame::Read { state } if state.unread == 0 && state.read_seq == last)
    );
    assert_eq!(bob.badge(room).await, (0, false));

    // Never backwards: an older position changes nothing and pushes nothing.
    let state = bob.mark_read(room, 1).await.unwrap();
    assert_eq!(state.read_seq, last);
    assert!(!drain(&mut laptop_ws)
        .await
        .iter()
        .any(|f| matches!(f, ServerFrame::Read { .. })));
    // Beyond the end is clamped to the newest event.
    assert_eq!(
        bob.mark_read(room, last + 100).await.unwrap().read_seq,
        last
    );
    // Alice's sockets never hear Bob's read position.
    let mut alice_ws = alice.connect().await;
    bob.mark_read(room, last).await.unwrap();
    assert!(!drain(&mut alice_ws)
        .await
        .iter()
        .any(|f| matches!(f, ServerFrame::Read { .. })));
    // Outsiders cannot move a read position in a room they are not in.
    let eve = server.user("eve").await;
    let (status, err) = eve.mark_read(room, last).await.unwrap_err();
    assert_eq!((status, err["code"].as_str()), (403, Some("not_member")));
    server.stop().await;
}

#[tokio::test]
async fn unread_counts_follow_sends_reads_and_recalls_and_never_count_own_messages() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let room = alice.create_room("counts").await;
    // What was said before Bob joined is not unread for him.
    alice.send(room, "early", "before you came").await.unwrap();
    bob.join(room).await;
    assert_eq!(bob.badge(room).await, (0, false));

    let a1 = seq_of(&alice.send(room, "a1", "one").await.unwrap());
    let a2 = seq_of(&alice.send(room, "a2", "two").await.unwrap());
    bob.send(room, "b1", "mine").await.unwrap();
    assert_eq!(
        bob.badge(room).await,
        (2, false),
        "own messages never count"
    );
    assert_eq!(
        alice.badge(room).await.0,
        1,
        "only Bob's message is unread for Alice"
    );

    // A recalled message is no longer unread.
    alice.recall(room, a2).await.unwrap();
    assert_eq!(bob.badge(room).await, (1, false));
    bob.mark_read(room, a1).await.unwrap();
    assert_eq!(bob.badge(room).await, (0, false));

    // A mention of Bob marks the conversation until he reads past it.
    let m = alice
        .call(
            "send_message",
            &[
                ("room_id", &r(room)),
                ("client_id", "mention-1"),
                ("text", "@bob-nick look"),
                ("mentions", &bob.id.to_string()),
            ],
        )
        .await
        .unwrap();
    alice.send(room, "a3", "after the mention").await.unwrap();
    assert_eq!(bob.badge(room).await, (2, true));
    let summary = bob.summary(room).await;
    assert_eq!(summary["read_seq"].as_i64(), Some(a1));
    bob.mark_read(room, seq_of(&m)).await.unwrap();
    assert_eq!(bob.badge(room).await, (1, false));
    server.stop().await;
}

#[tokio::test]
async fn the_unread_count_of_a_private_chat_starts_with_its_first_message() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let dm = alice
        .call("open_direct", &[("user_id", &bob.id.to_string())])
        .await
        .unwrap();
    let dm = dm["id"].as_i64().unwrap();
    alice.send(dm, "d1", "你好").await.unwrap();
    assert_eq!(bob.badge(dm).await, (1, false));
    assert_eq!(alice.badge(dm).await, (0, false));
    server.stop().await;
}

#[tokio::test]
async fn recall_keeps_to_its_window_its_owner_and_happens_once() {
    let server = TestServer::start_with(|c| c.recall_secs = 1).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let room = alice.create_room("recalls").await;
    bob.join(room).await;
    let mut alice_ws = alice.connect().await;

    // Bob recalls his own message at once: everyone sees it live and in history.
    let b1 = seq_of(&bob.send(room, "b1", "oops, wrong room").await.unwrap());
    let recall = bob.recall(room, b1).await.unwrap();
    assert_eq!(recall["body"]["kind"], "message_recalled");
    assert_eq!(recall["body"]["seq"].as_i64(), Some(b1));
    let pushed = alice_ws
        .until(|f| matches!(f, ServerFrame::Event { event } if matches!(event.body, EventBody::MessageRecalled { .. })))
        .await;
    let ServerFrame::Event { event } = pushed else {
        unreachable!()
    };
    assert_eq!(
        (event.actor.id.0, event.body),
        (bob.id, EventBody::MessageRecalled { seq: b1 })
    );
    let gone = alice.event_at(room, b1).await;
    assert_eq!(gone.body, EventBody::Recalled { by: UserId(bob.id) });
    assert_eq!(gone.actor.id.0, bob.id, "still shown as Bob's");
    assert!(!alice
        .message_texts(room)
        .await
        .iter()
        .any(|t| t.contains("wrong room")));
    // The preview is the recall, not the text.
    let preview = alice.summary(room).await["last_event"].clone();
    assert_eq!(preview["body"]["kind"], "message_recalled");

    // Twice: refused.
    let (status, err) = bob.recall(room, b1).await.unwrap_err();
    assert_eq!(
        (status, err["code"].as_str()),
        (409, Some("already_recalled"))
    );
    // Someone else's message (Bob is not the owner): refused.
    let a1 = seq_of(&alice.send(room, "a1", "the owner speaks").await.unwrap());
    let (status, err) = bob.recall(room, a1).await.unwrap_err();
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("recall_not_yours"))
    );
    // Not a message / no such seq.
    let (status, err) = bob.recall(room, 1).await.unwrap_err();
    assert_eq!(
        (status, err["code"].as_str()),
        (404, Some("message_not_found"))
    );
    let (_, err) = bob.recall(room, 999).await.unwrap_err();
    assert_eq!(err["code"], "message_not_found");
    // An outsider: not a member.
    let eve = server.user("eve").await;
    let (_, err) = eve.recall(room, a1).await.unwrap_err();
    assert_eq!(err["code"], "not_member");

    // Past the window (1 s here): Bob's own message stays; the owner may
    // still remove it.
    let b2 = seq_of(&bob.send(room, "b2", "too late to take back").await.unwrap());
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let (status, err) = bob.recall(room, b2).await.unwrap_err();
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("recall_too_late"))
    );
    let removed = alice.recall(room, b2).await.unwrap();
    assert_eq!(removed["actor"]["id"].as_i64(), Some(alice.id));
    assert_eq!(
        alice.event_at(room, b2).await.body,
        EventBody::Recalled {
            by: UserId(alice.id)
        }
    );
    server.stop().await;
}

#[tokio::test]
async fn in_a_private_chat_nobody_recalls_the_others_message() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let dm = alice
        .call("open_direct", &[("user_id", &bob.id.to_string())])
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let a1 = seq_of(&alice.send(dm, "a1", "私聊").await.unwrap());
    let (_, err) = bob.recall(dm, a1).await.unwrap_err();
    assert_eq!(err["code"], "recall_not_yours");
    alice.recall(dm, a1).await.unwrap();
    server.stop().await;
}

fn png() -> Vec<u8> {
    let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(40, 30, Rgb([200, 30, 30])));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn recalling_a_picture_deletes_its_files_and_its_url() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let room = alice.create_room("photos").await;
    bob.join(room).await;
    let res = alice
        .http
        .post(format!("{}/api/upload/image", alice.base))
        .body(png())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let media: Value = res.json().await.unwrap();
    let id = media["id"].as_str().unwrap().to_owned();
    let sent = alice
        .call(
            "send_media",
            &[
                ("room_id", &r(room)),
                ("client_id", "p1"),
                ("media_id", &id),
            ],
        )
        .await
        .unwrap();
    let dir = server.data_dir().join("media");
    let (file, thumb) = (dir.join(&id), dir.join(format!("{id}.thumb.jpg")));
    assert!(file.exists() && thumb.exists());
    let url = format!("{}/media/{id}", bob.base);
    assert_eq!(
        bob.http.get(&url).send().await.unwrap().status().as_u16(),
        200
    );

    alice.recall(room, seq_of(&sent)).await.unwrap();
    assert!(!file.exists(), "the picture is deleted from disk");
    assert!(!thumb.exists(), "and its thumbnail");
    for who in [&alice, &bob] {
        let status = who.http.get(&url).send().await.unwrap().status().as_u16();
        assert_eq!(status, 404);
    }
    let gone = bob.event_at(room, seq_of(&sent)).await;
    assert!(matches!(gone.body, EventBody::Recalled { .. }), "{gone:?}");
    server.stop().await;
}

#[tokio::test]
async fn replies_quote_their_original_and_say_when_it_was_recalled() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let room = alice.create_room("replies").await;
    bob.join(room).await;
    let other = alice.create_room("elsewhere").await;
    let mut bob_ws = bob.connect().await;

    let long = format!("{}\nsecond line", "普洱".repeat(40));
    let original = seq_of(&alice.send(room, "o1", &long).await.unwrap());
    let reply_to = |seq: i64, id: &'static str| {
        let (bob, room) = (&bob, room);
        async move {
            bob.call(
                "send_message",
                &[
                    ("room_id", &r(room)),
                    ("client_id", id),
                    ("text", "同意"),
                    ("reply_to", &seq.to_string()),
                ],
            )
            .await
        }
    };
    let reply = reply_to(original, "r1").await.unwrap();
    let quote = &reply["body"]["reply_to"];
    assert_eq!(quote["seq"].as_i64(), Some(original));
    assert_eq!(quote["sender"]["id"].as_i64(), Some(alice.id));
    assert_eq!(quote["msgtype"], "text");
    let excerpt = quote["excerpt"].as_str().unwrap();
    assert!(
        excerpt.starts_with("普洱普洱") && excerpt.ends_with('…'),
        "{excerpt}"
    );
    assert!(!excerpt.contains("second line"));
    assert_eq!(quote["recalled"], false);
    // Pushed with its quote too.
    let pushed = bob_ws
        .until(|f| matches!(f, ServerFrame::Event { event } if event.seq == seq_of(&reply)))
        .await;
    let ServerFrame::Event { event } = pushed else {
        unreachable!()
    };
    let EventBody::Message(m) = event.body else {
        panic!("a message")
    };
    assert_eq!(m.reply_to.map(|q| q.seq), Some(original));

    // The original is recalled: the reply's quote says so, without its text.
    alice.recall(room, original).await.unwrap();
    let reread = bob.event_at(room, seq_of(&reply)).await;
    let EventBody::Message(m) = reread.body else {
        panic!("the reply stays a message")
    };
    let quote = m.reply_to.expect("still a reply");
    assert!(
        quote.recalled && quote.excerpt.is_empty() && quote.msgtype.is_none(),
        "{quote:?}"
    );
    // Quoting the recalled message itself still works, and says so.
    let again = reply_to(original, "r2").await.unwrap();
    assert_eq!(again["body"]["reply_to"]["recalled"], true);

    // Not a message of this room: refused, nothing stored.
    let elsewhere = seq_of(&alice.send(other, "x1", "other room").await.unwrap());
    let before = bob.events_after(room, 0).await.len();
    for bad in [elsewhere + 100, 1] {
        let (status, err) = reply_to(bad, "r3").await.unwrap_err();
        assert_eq!(
            (status, err["code"].as_str()),
            (422, Some("reply_not_found"))
        );
    }
    let (_, err) = reply_to(0, "r4").await.unwrap_err();
    assert_eq!(err["code"], "reply_not_found");
    assert_eq!(bob.events_after(room, 0).await.len(), before);
    server.stop().await;
}

#[tokio::test]
async fn mentions_are_stored_as_member_ids_and_checked() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let room = alice.create_room("mentions").await;
    bob.join(room).await;
    let eve = server.user("eve").await;
    let send = |mentions: String, id: &'static str, text: &'static str| {
        let (alice, room) = (&alice, room);
        async move {
            alice
                .call(
                    "send_message",
                    &[
                        ("room_id", &r(room)),
                        ("client_id", id),
                        ("text", text),
                        ("mentions", &mentions),
                    ],
                )
                .await
        }
    };
    let sent = send(format!("{},{}", bob.id, bob.id), "m1", "hi bob")
        .await
        .unwrap();
    assert_eq!(sent["body"]["mentions"], serde_json::json!([bob.id]));
    let stored = bob.event_at(room, seq_of(&sent)).await;
    let EventBody::Message(m) = stored.body else {
        panic!("a message")
    };
    assert_eq!(m.mentions, vec![UserId(bob.id)]);
    assert!(bob.badge(room).await.1, "Bob is marked as mentioned");

    // Text that looks like a mention is just text: Carol (a member now) is
    // not mentioned by "@carol".
    carol.join(room).await;
    alice.send(room, "m2", "@carol-nick hello").await.unwrap();
    assert!(!carol.badge(room).await.1);
    // Only members may be mentioned; malformed lists are refused.
    let (status, err) = send(eve.id.to_string(), "m3", "psst").await.unwrap_err();
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("mention_not_member"))
    );
    let (status, err) = send("bob".into(), "m4", "x").await.unwrap_err();
    assert_eq!(
        (status, err["code"].as_str(), err["field"].as_str()),
        (422, Some("bad_request"), Some("mentions"))
    );
    let many: Vec<String> = (1..=21).map(|i| i.to_string()).collect();
    let (_, err) = send(many.join(","), "m5", "x").await.unwrap_err();
    assert_eq!(err["code"], "too_many_mentions");
    assert!(!alice.message_texts(room).await.contains(&"psst".to_owned()));
    server.stop().await;
}

#[tokio::test]
async fn typing_reaches_only_the_other_members_and_is_rate_limited() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let eve = server.user("eve").await;
    let room = alice.create_room("typing").await;
    bob.join(room).await;
    let alice_tab2 = server.login("alice", alice.id).await;
    let mut alice_ws = alice.connect().await;
    let mut alice_ws2 = alice_tab2.connect().await;
    let mut bob_ws = bob.connect().await;
    let mut eve_ws = eve.connect().await;
    let is_typing = |f: &ServerFrame| matches!(f, ServerFrame::Typing { .. });

    typing(&mut alice_ws, room).await;
    let frame = bob_ws.until(is_typing).await;
    let ServerFrame::Typing { room_id, user } = frame else {
        unreachable!()
    };
    assert_eq!((room_id.0, user.id.0), (room, alice.id));
    // At once again, from either tab: not relayed (one per few seconds).
    typing(&mut alice_ws, room).await;
    typing(&mut alice_ws2, room).await;
    alice_ws.frames_until_pong().await;
    alice_ws2.frames_until_pong().await;
    assert!(
        !drain(&mut bob_ws).await.iter().any(is_typing),
        "rate-limited"
    );
    // Never to an outsider, never to the typist's own tabs.
    for ws in [&mut eve_ws, &mut alice_ws, &mut alice_ws2] {
        assert!(!drain(ws).await.iter().any(is_typing));
    }
    // An outsider's typing into the room goes nowhere.
    typing(&mut eve_ws, room).await;
    eve_ws.frames_until_pong().await;
    assert!(!drain(&mut bob_ws).await.iter().any(is_typing));
    assert!(!drain(&mut alice_ws).await.iter().any(is_typing));
    // Bob typing is his own budget.
    typing(&mut bob_ws, room).await;
    let frame = alice_ws.until(is_typing).await;
    assert!(matches!(frame, ServerFrame::Typing { user, .. } if user.id.0 == bob.id));
    server.stop().await;
}

#[tokio::test]
async fn presence_counts_tabs_as_one_user_and_sees_a_dead_socket_within_the_heartbeat() {
    let server = TestServer::start_with(|c| c.heartbeat_secs = 1).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let room = alice.create_room("presence").await;
    bob.join(room).await;
    let mut bob_ws = bob.connect().await;
    let presence_of = |f: &ServerFrame| match f {
        ServerFrame::Presence { user_id, online } if user_id.0 == alice.id => Some(*online),
        _ => None,
    };

    let tab1 = alice.connect().await;
    let first = bob_ws.until(|f| presence_of(f).is_some()).await;
    assert_eq!(presence_of(&first), Some(true));
    let detail = bob
        .call("room_detail", &[("room_id", &r(room))])
        .await
        .unwrap();
    let online: Vec<i64> = serde_json::from_value(detail["online"].clone()).unwrap();
    assert!(
        online.contains(&alice.id) && online.contains(&bob.id),
        "{online:?}"
    );

    // A second tab: still one user online, no second frame.
    let alice_tab2 = server.login("alice", alice.id).await;
    let mut tab2 = alice_tab2.connect().await;
    // Closing the first tab while the second is open: still online.
    drop(tab1);
    tab2.ping().await;
    tab2.frames_until_pong().await;
    let quiet = drain(&mut bob_ws).await;
    assert!(quiet.iter().all(|f| presence_of(f).is_none()), "{quiet:?}");

    // The second tab's socket dies silently (no close, no pings, nothing
    // read): Alice is offline within two heartbeats.
    let started = Instant::now();
    let last = bob_ws.until(|f| presence_of(f).is_some()).await;
    assert_eq!(presence_of(&last), Some(false));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let detail = bob
        .call("room_detail", &[("room_id", &r(room))])
        .await
        .unwrap();
    let online: Vec<i64> = serde_json::from_value(detail["online"].clone()).unwrap();
    assert!(!online.contains(&alice.id), "{online:?}");
    drop(tab2);
    server.stop().await;
}

#[tokio::test]
async fn search_finds_chinese_and_english_only_in_my_conversations_and_never_recalled_text() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let eve = server.user("eve").await;
    let tea = alice.create_room("tea").await;
    bob.join(tea).await;
    let secret = eve.create_room("eve's own").await;
    for (room, who, id, text) in [
        (tea, &alice, "t1", "今天喝普洱茶吗？"),
        (tea, &bob, "t2", "Oolong TEA is better"),
        (tea, &bob, "t3", "普洱茶和乌龙茶都好"),
        // Every trigram of "oolong" (ool, olo, lon, ong), but not the word.
        (tea, &alice, "t4", "oolo long brew"),
        (secret, &eve, "s1", "我的普洱茶秘密"),
        (secret, &eve, "s2", "secret oolong stash"),
    ] {
        who.send(room, id, text).await.unwrap();
    }

    // Chinese, across all of Alice's conversations: never Eve's room.
    let page = alice.search("普洱茶", None).await.unwrap();
    assert!(!page.recent_only);
    assert_eq!(
        hit_texts(&page),
        vec!["普洱茶和乌龙茶都好", "今天喝普洱茶吗？"]
    );
    assert!(page.hits.iter().all(|e| e.conversation_id.0 == tea));
    // English, any case, several words all required.
    let page = alice.search("oolong tea", None).await.unwrap();
    assert_eq!(hit_texts(&page), vec!["Oolong TEA is better"]);
    // A term is matched as written, not as a bag of its trigrams.
    let page = alice.search("oolong", None).await.unwrap();
    assert_eq!(hit_texts(&page), vec!["Oolong TEA is better"]);
    // Eve finds her own, not theirs; she may not search their room.
    assert_eq!(
        hit_texts(&eve.search("oolong", None).await.unwrap()),
        vec!["secret oolong stash"]
    );
    let (status, err) = eve.search("普洱茶", Some(tea)).await.unwrap_err();
    assert_eq!((status, err["code"].as_str()), (403, Some("not_member")));
    // Within one conversation.
    let page = bob.search("乌龙茶", Some(tea)).await.unwrap();
    assert_eq!(hit_texts(&page), vec!["普洱茶和乌龙茶都好"]);

    // Two-character Chinese words have no trigram: matched by scanning
    // recent messages, and said so.
    let page = alice.search("普洱", None).await.unwrap();
    assert!(page.recent_only);
    assert_eq!(hit_texts(&page).len(), 2);
    let page = alice.search("乌龙 普洱", Some(tea)).await.unwrap();
    assert_eq!(hit_texts(&page), vec!["普洱茶和乌龙茶都好"]);
    // Wildcards are plain characters.
    assert!(alice.search("%", None).await.unwrap().hits.is_empty());

    // A recalled message is found no more, by either way of matching.
    let t3 = bob.search("乌龙茶", Some(tea)).await.unwrap().hits[0].seq;
    bob.recall(tea, t3).await.unwrap();
    assert!(bob.search("乌龙茶", None).await.unwrap().hits.is_empty());
    assert!(bob.search("乌龙", None).await.unwrap().hits.is_empty());

    // Bad queries get clear errors.
    let (status, err) = alice.search("   ", None).await.unwrap_err();
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("search_query_empty"))
    );
    let (_, err) = alice.search(&"茶".repeat(41), None).await.unwrap_err();
    assert_eq!(err["code"], "query_too_long");
    server.stop().await;
}

#[tokio::test]
async fn a_search_hit_opens_in_context_with_its_neighbours() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let room = alice.create_room("context").await;
    let mut target = 0;
    for i in 0..30 {
        let text = if i == 12 {
            "the needle".to_owned()
        } else {
            format!("hay {i}")
        };
        let sent = alice.send(room, &format!("c{i}"), &text).await.unwrap();
        if i == 12 {
            target = seq_of(&sent);
        }
    }
    let hit = alice.search("needle", Some(room)).await.unwrap().hits[0].seq;
    assert_eq!(hit, target);
    let around = alice
        .call(
            "history",
            &[
                ("room_id", &r(room)),
                ("around", &hit.to_string()),
                ("limit", "10"),
            ],
        )
        .await
        .unwrap();
    let seqs: Vec<i64> = around.as_array().unwrap().iter().map(seq_of).collect();
    assert_eq!(seqs, ((hit - 4)..=(hit + 5)).collect::<Vec<_>>());
    server.stop().await;
}
