//! The support desk against the real server: guests without accounts, agents
//! made by an admin, real sockets. Routing (load balance, per-agent maximum,
//! queue order), an agent going offline or logging out, messages kept while
//! nobody is online, concurrent accepts, transfer, close and reopen,
//! a restart, and the per-address limits.

mod common;

use common::access::{
    admin, agent, guest, guest_says, guest_state, mine, until_assigned, until_event,
    until_message_from,
};
use common::{Client, Socket, Spawned, TestServer};
use teahouse_protocol::{EventBody, ServerFrame};

/// The agent `room` is assigned to, waited for on the guest's `socket`
/// (opened before the history is read, so nothing falls in between).
async fn assigned_agent(guest: &Client, socket: &mut Socket, room: i64) -> i64 {
    let history = guest
        .call("support_history", &[("after", "0")])
        .await
        .unwrap();
    let events: Vec<teahouse_protocol::ConversationEvent> =
        serde_json::from_value(history).unwrap();
    let last = events.iter().rev().find_map(|e| match &e.body {
        EventBody::SupportAssigned { agent } => Some(agent.id.0),
        EventBody::SupportReturned { .. } | EventBody::SupportClosed => Some(-1),
        _ => None,
    });
    match last {
        Some(id) if id > 0 => id,
        _ => match until_event(socket, room, |b| {
            matches!(b, EventBody::SupportAssigned { .. })
        })
        .await
        .body
        {
            EventBody::SupportAssigned { agent } => agent.id.0,
            _ => unreachable!(),
        },
    }
}

#[tokio::test]
async fn five_guests_are_spread_over_two_online_agents_fairly() {
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let a1 = agent(&server, &boss, "agent_one").await;
    let a2 = agent(&server, &boss, "agent_two").await;
    let _s1 = a1.connect().await;
    let _s2 = a2.connect().await;
    let mut given = Vec::new();
    for _ in 0..5 {
        let (g, room) = guest(&server).await;
        let mut socket = g.connect().await;
        given.push(assigned_agent(&g, &mut socket, room).await);
    }
    // Fewest open first; equal loads go to whoever waited longest for one.
    assert_eq!(given, vec![a1.id, a2.id, a1.id, a2.id, a1.id], "{given:?}");
    assert_eq!(mine(&a1).await.len(), 3);
    assert_eq!(mine(&a2).await.len(), 2);
    let overview = boss.call("desk_overview", &[]).await.unwrap();
    let loads: Vec<(i64, u64, bool)> = overview["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["user"]["id"].as_i64().unwrap(),
                a["open"].as_u64().unwrap(),
                a["online"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(loads.contains(&(a1.id, 3, true)), "{loads:?}");
    assert!(loads.contains(&(a2.id, 2, true)), "{loads:?}");
    assert_eq!(overview["queue"].as_array().unwrap().len(), 0);
    server.stop().await;
}

#[tokio::test]
async fn past_the_per_agent_maximum_guests_wait_in_order_and_a_freed_slot_takes_the_oldest() {
    let server = TestServer::start_with(|c| c.agent_max_open = 1).await;
    let boss = admin(&server, "boss").await;
    let a1 = agent(&server, &boss, "agent_one").await;
    let mut agent_socket = a1.connect().await;
    let (g1, r1) = guest(&server).await;
    let mut s1 = g1.connect().await;
    assert_eq!(assigned_agent(&g1, &mut s1, r1).await, a1.id);
    let (g2, r2) = guest(&server).await;
    let (g3, r3) = guest(&server).await;
    let mut s2 = g2.connect().await;
    // Both wait, in the order they came, and are told their place.
    let queue = a1.call("desk_queue", &[]).await.unwrap();
    let order: Vec<(i64, u64)> = queue
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["id"].as_i64().unwrap(), v["position"].as_u64().unwrap()))
        .collect();
    assert_eq!(order, vec![(r2, 1), (r3, 2)]);
    let (status, agent_id) = guest_state(&g3).await;
    assert_eq!((status.as_str(), agent_id), ("waiting", None));
    let s = g3.call("support_state", &[]).await.unwrap();
    assert_eq!(s["conversation"]["position"], 2);
    // A full agent cannot take more by hand either.
    let full = a1
        .call("desk_accept", &[("room_id", &r3.to_string())])
        .await
        .unwrap_err();
    assert_eq!(
        (full.0, full.1["code"].as_str()),
        (409, Some("agent_at_capacity"))
    );
    // Closing the first frees the slot: the oldest waiting one is next.
    a1.call("desk_close", &[("room_id", &r1.to_string())])
        .await
        .unwrap();
    until_event(&mut s1, r1, |b| *b == EventBody::SupportClosed).await;
    assert_eq!(assigned_agent(&g2, &mut s2, r2).await, a1.id);
    until_assigned(&mut agent_socket, r2, a1.id).await;
    let s = g3.call("support_state", &[]).await.unwrap();
    assert_eq!(s["conversation"]["position"], 1);
    assert_eq!(mine(&a1).await, vec![r2]);
    server.stop().await;
}

#[tokio::test]
async fn with_no_agent_online_messages_are_kept_and_delivered_on_assignment() {
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let a1 = agent(&server, &boss, "agent_one").await;
    let (g, room) = guest(&server).await;
    let mut gs = g.connect().await;
    for (i, text) in ["有人吗", "我的订单没到", "单号 42"].iter().enumerate() {
        guest_says(&g, &format!("c{i}"), text).await;
    }
    assert_eq!(guest_state(&g).await, ("waiting".to_owned(), None));
    // The agent comes online: the conversation is theirs, with everything in it.
    let mut agent_socket = a1.connect().await;
    until_assigned(&mut agent_socket, room, a1.id).await;
    assert_eq!(assigned_agent(&g, &mut gs, room).await, a1.id);
    assert_eq!(
        a1.message_texts(room).await,
        vec!["有人吗", "我的订单没到", "单号 42"]
    );
    // And from now on both see each other live.
    guest_says(&g, "c3", "还在吗").await;
    until_message_from(&mut agent_socket, room, g.id).await;
    a1.send(room, "reply-1", "在的，请稍等").await.unwrap();
    until_message_from(&mut gs, room, a1.id).await;
    server.stop().await;
}

#[tokio::test]
async fn an_agent_who_goes_offline_loses_their_conversations_to_another_and_nothing_is_lost() {
    // Grace: 1 s (the tests' setting).
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let a1 = agent(&server, &boss, "agent_one").await;
    let a2 = agent(&server, &boss, "agent_two").await;
    let a1_socket = a1.connect().await;
    let (g, room) = guest(&server).await;
    let mut gs = g.connect().await;
    assert_eq!(assigned_agent(&g, &mut gs, room).await, a1.id);
    guest_says(&g, "m1", "第一句").await;
    let mut a2_socket = a2.connect().await;
    // a1's tab closes; the guest keeps writing meanwhile.
    drop(a1_socket);
    guest_says(&g, "m2", "第二句").await;
    let returned = until_event(&mut gs, room, |b| {
        matches!(b, EventBody::SupportReturned { .. })
    })
    .await;
    match returned.body {
        EventBody::SupportReturned { agent, reason } => {
            assert_eq!((agent.id.0, reason.as_str()), (a1.id, "offline"))
        }
        _ => unreachable!(),
    }
    until_assigned(&mut a2_socket, room, a2.id).await;
    assert_eq!(assigned_agent(&g, &mut gs, room).await, a2.id);
    assert_eq!(a2.message_texts(room).await, vec!["第一句", "第二句"]);
    assert!(mine(&a1).await.is_empty());
    // a1 is no longer in it.
    let gone = a1
        .call("history", &[("room_id", &room.to_string())])
        .await
        .unwrap_err();
    assert_eq!(gone.1["code"], "not_member");
    server.stop().await;
}

#[tokio::test]
async fn an_agent_who_reconnects_within_the_grace_period_keeps_their_conversations() {
    let server = TestServer::start_with(|c| c.agent_grace_secs = 3600).await;
    let boss = admin(&server, "boss").await;
    let a1 = agent(&server, &boss, "agent_one").await;
    let a2 = agent(&server, &boss, "agent_two").await;
    let s1 = a1.connect().await;
    let (g, room) = guest(&server).await;
    let mut gs = g.connect().await;
    assert_eq!(assigned_agent(&g, &mut gs, room).await, a1.id);
    let _s2 = a2.connect().await;
    drop(s1);
    let mut s1 = a1.connect().await;
    guest_says(&g, "m1", "刷新了吗").await;
    until_event(&mut s1, room, |b| matches!(b, EventBody::Message(_))).await;
    assert_eq!(mine(&a1).await, vec![room]);
    server.stop().await;
}

#[tokio::test]
async fn an_agent_who_logs_out_hands_their_conversations_back_at_once() {
    // A long grace: only the logout can explain a quick reassignment.
    let server = TestServer::start_with(|c| c.agent_grace_secs = 3600).await;
    let boss = admin(&server, "boss").await;
    let a1 = agent(&server, &boss, "agent_one").await;
    let a2 = agent(&server, &boss, "agent_two").await;
    let _s1 = a1.connect().await;
    let (g, room) = guest(&server).await;
    let mut gs = g.connect().await;
    assert_eq!(assigned_agent(&g, &mut gs, room).await, a1.id);
    let mut s2 = a2.connect().await;
    a1.call("logout", &[]).await.unwrap();
    let returned = until_event(&mut gs, room, |b| {
        matches!(b, EventBody::SupportReturned { .. })
    })
    .await;
    assert!(
        matches!(&returned.body, EventBody::SupportReturned { reason, .. } if reason == "logout")
    );
    until_assigned(&mut s2, room, a2.id).await;
    server.stop().await;
}

#[tokio::test]
async fn two_agents_accepting_the_same_conversation_at_once_never_both_get_it() {
    let server = TestServer::start_with(|c| c.agent_max_open = 100).await;
    let boss = admin(&server, "boss").await;
    // Offline agents: nothing is assigned automatically.
    let a1 = agent(&server, &boss, "agent_one").await;
    let a2 = agent(&server, &boss, "agent_two").await;
    for round in 0..8 {
        let (g, room) = guest(&server).await;
        let arg = room.to_string();
        let form = [("room_id", arg.as_str())];
        let (r1, r2) = tokio::join!(a1.call("desk_accept", &form), a2.call("desk_accept", &form));
        let winner = match (&r1, &r2) {
            (Ok(_), Err((409, e))) if e["code"] == "already_assigned" => a1.id,
            (Err((409, e)), Ok(_)) if e["code"] == "already_assigned" => a2.id,
            other => panic!("round {round}: both or neither got it: {other:?}"),
        };
        assert_eq!(guest_state(&g).await.1, Some(winner));
        let assigned = g
            .call("support_history", &[("after", "0")])
            .await
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["body"]["kind"] == "support_assigned")
            .count();
        assert_eq!(assigned, 1, "round {round}");
    }
    assert_eq!(mine(&a1).await.len() + mine(&a2).await.len(), 8);
    server.stop().await;
}

#[tokio::test]
async fn an_agent_transfers_a_conversation_and_stops_receiving_it() {
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let a1 = agent(&server, &boss, "agent_one").await;
    let mut s1 = a1.connect().await;
    let (g, room) = guest(&server).await;
    let mut gs = g.connect().await;
    assert_eq!(assigned_agent(&g, &mut gs, room).await, a1.id);
    let a2 = agent(&server, &boss, "agent_two").await;
    // Not online yet: no transfer to them.
    let refused = a1
        .call(
            "desk_transfer",
            &[
                ("room_id", &room.to_string()),
                ("agent_id", &a2.id.to_string()),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(refused.1["code"], "agent_unavailable");
    let mut s2 = a2.connect().await;
    a1.call(
        "desk_transfer",
        &[
            ("room_id", &room.to_string()),
            ("agent_id", &a2.id.to_string()),
        ],
    )
    .await
    .unwrap();
    until_assigned(&mut s2, room, a2.id).await;
    assert_eq!(assigned_agent(&g, &mut gs, room).await, a2.id);
    until_assigned(&mut s1, room, a2.id).await;
    guest_says(&g, "after", "转过来了").await;
    until_event(&mut s2, room, |b| matches!(b, EventBody::Message(_))).await;
    let leftover = s1.frames_until_pong().await;
    assert!(
        !leftover
            .iter()
            .any(|f| matches!(f, ServerFrame::Event { event } if event.conversation_id.0 == room)),
        "{leftover:?}"
    );
    // a1 may not act on it any more.
    let refused = a1
        .call("desk_close", &[("room_id", &room.to_string())])
        .await
        .unwrap_err();
    assert_eq!(refused.1["code"], "not_yours");
    server.stop().await;
}

#[tokio::test]
async fn a_guest_who_writes_after_a_close_reopens_the_same_conversation() {
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let a1 = agent(&server, &boss, "agent_one").await;
    let s1 = a1.connect().await;
    let (g, room) = guest(&server).await;
    let mut gs = g.connect().await;
    assert_eq!(assigned_agent(&g, &mut gs, room).await, a1.id);
    guest_says(&g, "q1", "第一次咨询").await;
    a1.call("desk_close", &[("room_id", &room.to_string())])
        .await
        .unwrap();
    until_event(&mut gs, room, |b| *b == EventBody::SupportClosed).await;
    assert_eq!(guest_state(&g).await, ("closed".to_owned(), None));
    guest_says(&g, "q2", "又来了").await;
    until_event(&mut gs, room, |b| *b == EventBody::SupportReopened).await;
    // (The first assignment was read from the history: this is the new one.)
    until_assigned(&mut gs, room, a1.id).await;
    drop(s1);
    // The same log: the earlier conversation is there for the agent.
    assert_eq!(a1.message_texts(room).await, vec!["第一次咨询", "又来了"]);
    let detail = a1
        .call("desk_detail", &[("room_id", &room.to_string())])
        .await
        .unwrap();
    assert_eq!(detail["guest"]["first_page"], "https://shop.example/p/1");
    server.stop().await;
}

#[tokio::test]
async fn a_guest_keeps_their_conversation_across_reloads_and_new_sockets() {
    let server = TestServer::start().await;
    let (g, room) = guest(&server).await;
    guest_says(&g, "x1", "你好").await;
    // Opening the page again with the same cookie: the same guest and room.
    let again = g.call("support_start", &[]).await.unwrap();
    assert_eq!(again["conversation"]["id"].as_i64(), Some(room));
    assert_eq!(again["guest"]["user"]["id"].as_i64(), Some(g.id));
    assert!(again["guest"]["user"]["nickname"]
        .as_str()
        .unwrap()
        .starts_with("访客 "));
    let details = g
        .call(
            "support_details",
            &[("name", "王女士"), ("contact", "138 0000 0000")],
        )
        .await
        .unwrap();
    assert_eq!(details["guest"]["name"], "王女士");
    let mut socket = g.connect().await;
    guest_says(&g, "x2", "还是我").await;
    until_event(&mut socket, room, |b| matches!(b, EventBody::Message(_))).await;
    let history = g.call("support_history", &[]).await.unwrap();
    let texts: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["body"]["text"].as_str())
        .collect();
    assert_eq!(texts, vec!["你好", "还是我"]);
    server.stop().await;
}

#[tokio::test]
async fn guest_creation_and_guest_sends_are_limited_per_address() {
    let server = TestServer::start_with(|c| {
        c.guests_per_min = 2;
        c.guest_sends_per_min = 3;
    })
    .await;
    let (g, _) = guest(&server).await;
    guest(&server).await;
    let third = Client::new(&server)
        .call("support_start", &[])
        .await
        .unwrap_err();
    assert_eq!(
        (third.0, third.1["code"].as_str()),
        (429, Some("rate_limited"))
    );
    for i in 0..3 {
        guest_says(&g, &format!("s{i}"), "hi").await;
    }
    let fourth = g
        .call("support_send", &[("client_id", "s9"), ("text", "hi")])
        .await
        .unwrap_err();
    assert_eq!(
        (fourth.0, fourth.1["code"].as_str()),
        (429, Some("rate_limited"))
    );
    // Nothing was stored for the refused send.
    let history = g.call("support_history", &[]).await.unwrap();
    let messages = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["body"]["kind"] == "message")
        .count();
    assert_eq!(messages, 3);
    server.stop().await;
}

#[tokio::test]
async fn assignments_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let flags = ["--agent-grace-secs", "600", "--guests-per-min", "0"];
    let first = Spawned::start(dir.path(), &flags).await;
    first.user("boss").await;
    common::access::grant_role(dir.path(), "boss", "admin");
    let boss = first.login("boss").await;
    let a1 = first.user("agent_one").await;
    common::access::set_role(&boss, a1.id, "agent").await;
    let mut s1 = a1.connect().await;
    let g = first.client();
    let started = g.call("support_start", &[]).await.unwrap();
    let room = started["conversation"]["id"].as_i64().unwrap();
    let g = Client {
        id: started["guest"]["user"]["id"].as_i64().unwrap(),
        ..g
    };
    until_assigned(&mut s1, room, a1.id).await;
    guest_says(&g, "before", "重启前").await;
    drop(s1);
    first.stop().await;

    let second = Spawned::start(dir.path(), &flags).await;
    // Same cookies (sessions are in the database), new address.
    let moved = |c: Client| Client {
        base: format!("http://{}", second.addr),
        addr: second.addr,
        ..c
    };
    let g = moved(g);
    let a1 = moved(a1);
    assert_eq!(guest_state(&g).await, ("assigned".to_owned(), Some(a1.id)));
    assert_eq!(mine(&a1).await, vec![room]);
    let mut s1 = a1.connect().await;
    guest_says(&g, "after", "重启后").await;
    until_event(&mut s1, room, |b| matches!(b, EventBody::Message(_))).await;
    assert_eq!(a1.message_texts(room).await, vec!["重启前", "重启后"]);
    second.stop().await;
}

/// `POST {path}` as `who` with `body`; the JSON answer (200 expected).
async fn upload(who: &Client, path: &str, body: Vec<u8>) -> serde_json::Value {
    let res = who
        .http
        .post(format!("{}{path}", who.base))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "{path}");
    res.json().await.unwrap()
}

/// The status `who` gets for `GET {path}`.
async fn fetch(who: &Client, path: &str) -> u16 {
    let url = format!("{}{path}", who.base);
    who.http.get(url).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn staff_who_may_read_a_support_conversation_see_its_pictures_and_guests_see_avatars() {
    use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let a1 = agent(&server, &boss, "agent_one").await;
    let a2 = agent(&server, &boss, "agent_two").await;
    let outsider = server.user("outsider").await;
    let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(40, 30, Rgb([30, 120, 200])));
    let png = common::pictures::encode(&img, ImageFormat::Png);
    // The agent has an avatar; the guest's conversation is assigned to them.
    let avatar = upload(&a1, "/api/upload/avatar", png.clone()).await;
    let avatar_id = avatar["avatar"].as_str().unwrap().to_owned();
    let _s1 = a1.connect().await;
    let (g, room) = guest(&server).await;
    let mut socket = g.connect().await;
    assert_eq!(assigned_agent(&g, &mut socket, room).await, a1.id);
    let media = upload(&g, "/api/upload/image", png).await;
    let id = media["id"].as_str().unwrap().to_owned();
    g.call(
        "support_send_media",
        &[("client_id", "pic"), ("media_id", &id)],
    )
    .await
    .unwrap();
    let file = format!("/media/{id}");
    // The guest, their agent and any admin see it; another agent (not
    // theirs, not waiting) and other users get 404, as for any stranger.
    assert_eq!(fetch(&g, &file).await, 200, "the guest");
    assert_eq!(fetch(&a1, &file).await, 200, "the assigned agent");
    assert_eq!(fetch(&boss, &file).await, 200, "an admin reading it");
    assert_eq!(fetch(&a2, &file).await, 404, "another agent");
    assert_eq!(fetch(&outsider, &file).await, 404, "a user");
    // The guest sees their agent's avatar (before: 404 for every guest).
    let pic = format!("/avatar/{avatar_id}/128");
    assert_eq!(fetch(&g, &pic).await, 200, "a guest sees avatars");
    assert_eq!(fetch(&Client::new(&server), &pic).await, 404, "no session");
    server.stop().await;
}
