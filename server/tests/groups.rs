//! Private groups against the real server: created by picking people you
//! share a conversation with, visible to members only, and the owner's
//! moderation — announcement, mute, remove, ban, invite setting, delete a
//! message, hand over — each an event members see live and in history; a
//! member added later starts with nothing unread.

mod common;

use common::access::until_event;
use common::{Client, Socket, TestServer};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use teahouse_protocol::{EventBody, ServerFrame};

async fn group(owner: &Client, name: &str, members: &[&Client]) -> i64 {
    let ids: Vec<String> = members.iter().map(|m| m.id.to_string()).collect();
    let summary = owner
        .call(
            "create_group",
            &[("name", name), ("members", &ids.join(","))],
        )
        .await
        .expect("create_group");
    assert_eq!(summary["kind"], "group");
    summary["id"].as_i64().unwrap()
}

fn code(result: Result<serde_json::Value, (u16, serde_json::Value)>) -> (u16, String) {
    let (status, body) = result.expect_err("refused");
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

fn room(g: i64) -> String {
    g.to_string()
}

/// Frames for `g` that reached `socket` up to now.
async fn frames_of(socket: &mut Socket, g: i64) -> Vec<EventBody> {
    socket
        .frames_until_pong()
        .await
        .into_iter()
        .filter_map(|f| match f {
            ServerFrame::Event { event } if event.conversation_id.0 == g => Some(event.body),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_group_is_made_by_picking_people_and_only_they_see_it() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let dave = server.user("dave").await;
    // Dave leaves the lobby: he shares nothing with alice any more.
    let lobby = alice.call("my_rooms", &[]).await.unwrap()[0]["id"]
        .as_i64()
        .unwrap();
    dave.call("leave_room", &[("room_id", &lobby.to_string())])
        .await
        .unwrap();
    let mut bob_socket = bob.connect().await;
    let g = group(&alice, "周末爬山", &[&bob]).await;
    // Bob's open socket carries it from its first event.
    let created = until_event(&mut bob_socket, g, |b| {
        matches!(b, EventBody::GroupCreated { .. })
    })
    .await;
    assert_eq!(created.seq, 1);
    until_event(
        &mut bob_socket,
        g,
        |b| matches!(b, EventBody::MemberAdded { user } if user.id.0 == bob.id),
    )
    .await;
    assert!(bob
        .call("my_rooms", &[])
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"].as_i64() == Some(g)));
    // Not for anyone else: not readable, not in the directory, not joinable.
    assert_eq!(
        code(carol.call("history", &[("room_id", &room(g))]).await),
        (403, "not_member".into())
    );
    assert_eq!(
        code(carol.call("join_room", &[("room_id", &room(g))]).await),
        (403, "forbidden".into())
    );
    let directory = carol.call("public_rooms", &[]).await.unwrap();
    assert!(!directory["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"].as_i64() == Some(g)));
    // Only people you share a conversation with can be picked.
    let refused = alice
        .call(
            "create_group",
            &[
                ("name", "x"),
                ("members", &format!("{},{}", bob.id, dave.id)),
            ],
        )
        .await;
    assert_eq!(code(refused), (403, "no_shared_room".into()));
    assert_eq!(
        code(
            alice
                .call("create_group", &[("name", "x"), ("members", "bob")])
                .await
        ),
        (422, "group_members_invalid".into())
    );
    // Members add people they share a conversation with.
    bob.call(
        "group_add_members",
        &[("room_id", &room(g)), ("members", &carol.id.to_string())],
    )
    .await
    .unwrap();
    assert_eq!(carol.message_texts(g).await, Vec::<String>::new());
    server.stop().await;
}

#[tokio::test]
async fn the_announcement_is_pushed_and_shown_and_only_the_owner_sets_it() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let g = group(&alice, "读书会", &[&bob]).await;
    let mut bob_socket = bob.connect().await;
    alice
        .call(
            "group_announce",
            &[("room_id", &room(g)), ("text", "周六下午三点，老地方")],
        )
        .await
        .unwrap();
    until_event(
        &mut bob_socket,
        g,
        |b| matches!(b, EventBody::AnnouncementSet { text } if text == "周六下午三点，老地方"),
    )
    .await;
    let detail = bob
        .call("group_detail", &[("room_id", &room(g))])
        .await
        .unwrap();
    assert_eq!(detail["announcement"], "周六下午三点，老地方");
    assert_eq!(
        code(
            bob.call(
                "group_announce",
                &[("room_id", &room(g)), ("text", "我来改")]
            )
            .await
        ),
        (403, "owner_only".into())
    );
    let long = "长".repeat(501);
    assert_eq!(
        code(
            alice
                .call("group_announce", &[("room_id", &room(g)), ("text", &long)])
                .await
        ),
        (422, "announcement_too_long".into())
    );
    alice
        .call(
            "group_rename",
            &[("room_id", &room(g)), ("name", "读书会 · 二月")],
        )
        .await
        .unwrap();
    let summary = bob
        .call("room_detail", &[("room_id", &room(g))])
        .await
        .unwrap();
    assert_eq!(summary["room"]["name"], "读书会 · 二月");
    server.stop().await;
}

#[tokio::test]
async fn a_muted_member_cannot_send_until_the_mute_is_lifted() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let g = group(&alice, "群", &[&bob]).await;
    bob.send(g, "b1", "第一句").await.unwrap();
    let mut bob_socket = bob.connect().await;
    alice
        .call(
            "group_mute",
            &[
                ("room_id", &room(g)),
                ("user_id", &bob.id.to_string()),
                ("minutes", "10"),
            ],
        )
        .await
        .unwrap();
    let muted = until_event(&mut bob_socket, g, |b| {
        matches!(b, EventBody::MemberMuted { .. })
    })
    .await;
    match muted.body {
        EventBody::MemberMuted { user, until_ms } => {
            assert_eq!(user.id.0, bob.id);
            let minutes = (until_ms - muted.at_ms) / 60_000;
            assert!((9..=10).contains(&minutes), "{minutes}");
        }
        _ => unreachable!(),
    }
    assert_eq!(
        code(bob.send(g, "b2", "被禁言了吗").await),
        (403, "muted".into())
    );
    let detail = alice
        .call("group_detail", &[("room_id", &room(g))])
        .await
        .unwrap();
    assert_eq!(detail["muted"][0]["user"]["id"].as_i64(), Some(bob.id));
    // Elsewhere bob talks as usual.
    let other = alice.create_room("大厅二").await;
    bob.join(other).await;
    bob.send(other, "b3", "这里可以").await.unwrap();
    alice
        .call(
            "group_mute",
            &[
                ("room_id", &room(g)),
                ("user_id", &bob.id.to_string()),
                ("minutes", "0"),
            ],
        )
        .await
        .unwrap();
    bob.send(g, "b4", "解禁了").await.unwrap();
    assert_eq!(alice.message_texts(g).await, vec!["第一句", "解禁了"]);
    assert_eq!(
        code(
            alice
                .call(
                    "group_mute",
                    &[
                        ("room_id", &room(g)),
                        ("user_id", &bob.id.to_string()),
                        ("minutes", "99999")
                    ],
                )
                .await
        ),
        (422, "mute_duration_invalid".into())
    );
    assert_eq!(
        code(
            alice
                .call(
                    "group_mute",
                    &[
                        ("room_id", &room(g)),
                        ("user_id", &alice.id.to_string()),
                        ("minutes", "5")
                    ],
                )
                .await
        ),
        (422, "cannot_moderate_self".into())
    );
    server.stop().await;
}

#[tokio::test]
async fn a_removed_member_stops_receiving_at_once_and_a_banned_one_cannot_come_back() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let g = group(&alice, "群", &[&bob, &carol]).await;
    let mut bob_socket = bob.connect().await;
    let mut carol_socket = carol.connect().await;
    alice
        .call(
            "group_remove_member",
            &[("room_id", &room(g)), ("user_id", &bob.id.to_string())],
        )
        .await
        .unwrap();
    // Bob's socket gets the removal itself, then nothing more of the group.
    until_event(
        &mut bob_socket,
        g,
        |b| matches!(b, EventBody::MemberRemoved { user } if user.id.0 == bob.id),
    )
    .await;
    alice.send(g, "a1", "bob 听不到了").await.unwrap();
    until_event(&mut carol_socket, g, |b| matches!(b, EventBody::Message(_))).await;
    assert_eq!(frames_of(&mut bob_socket, g).await, vec![]);
    assert_eq!(
        code(bob.call("history", &[("room_id", &room(g))]).await),
        (403, "not_member".into())
    );
    assert_eq!(
        code(bob.send(g, "b1", "我还在吗").await),
        (403, "not_member".into())
    );
    // Removed (not banned): may be added again.
    carol
        .call(
            "group_add_members",
            &[("room_id", &room(g)), ("members", &bob.id.to_string())],
        )
        .await
        .unwrap();
    // Banned: out, and no one may add them again.
    alice
        .call(
            "group_ban",
            &[("room_id", &room(g)), ("user_id", &bob.id.to_string())],
        )
        .await
        .unwrap();
    until_event(
        &mut carol_socket,
        g,
        |b| matches!(b, EventBody::MemberBanned { user } if user.id.0 == bob.id),
    )
    .await;
    assert_eq!(
        code(
            carol
                .call(
                    "group_add_members",
                    &[("room_id", &room(g)), ("members", &bob.id.to_string())],
                )
                .await
        ),
        (403, "banned".into())
    );
    let detail = alice
        .call("group_detail", &[("room_id", &room(g))])
        .await
        .unwrap();
    assert_eq!(detail["banned"][0]["id"].as_i64(), Some(bob.id));
    // The history tells it all, in order.
    let kinds: Vec<String> = carol
        .events_after(g, 0)
        .await
        .into_iter()
        .map(|e| {
            serde_json::to_value(&e.body).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            "group_created",
            "member_added",
            "member_added",
            "member_removed",
            "message",
            "member_added",
            "member_banned"
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn only_the_owner_adds_when_the_group_says_so() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let g = group(&alice, "群", &[&bob]).await;
    alice
        .call(
            "group_invite_policy",
            &[("room_id", &room(g)), ("owner_only", "true")],
        )
        .await
        .unwrap();
    assert_eq!(
        code(
            bob.call(
                "group_add_members",
                &[("room_id", &room(g)), ("members", &carol.id.to_string())],
            )
            .await
        ),
        (403, "owner_only".into())
    );
    alice
        .call(
            "group_add_members",
            &[("room_id", &room(g)), ("members", &carol.id.to_string())],
        )
        .await
        .unwrap();
    let detail = bob
        .call("group_detail", &[("room_id", &room(g))])
        .await
        .unwrap();
    assert_eq!(detail["owner_only_invite"], true);
    server.stop().await;
}

#[tokio::test]
async fn the_owner_deletes_any_message_and_hands_the_group_on() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let g = group(&alice, "群", &[&bob]).await;
    let sent = bob.send(g, "b1", "不该说的话").await.unwrap();
    let seq = sent["seq"].as_i64().unwrap();
    let mut bob_socket = bob.connect().await;
    assert_eq!(
        code(
            bob.call(
                "group_delete_message",
                &[("room_id", &room(g)), ("seq", &seq.to_string())]
            )
            .await
        ),
        (403, "owner_only".into())
    );
    alice
        .call(
            "group_delete_message",
            &[("room_id", &room(g)), ("seq", &seq.to_string())],
        )
        .await
        .unwrap();
    until_event(&mut bob_socket, g, |b| {
        *b == EventBody::MessageRecalled { seq }
    })
    .await;
    // It reads as any recalled message does, removed by the owner.
    let history = bob.events_after(g, 0).await;
    let entry = history.iter().find(|e| e.seq == seq).unwrap();
    assert_eq!(
        entry.body,
        EventBody::Recalled {
            by: teahouse_protocol::UserId(alice.id)
        }
    );
    assert_eq!(entry.actor.id.0, bob.id);
    assert!(!serde_json::to_string(&history)
        .unwrap()
        .contains("不该说的话"));
    // Not deleted twice.
    assert_eq!(
        code(
            alice
                .call(
                    "group_delete_message",
                    &[("room_id", &room(g)), ("seq", &seq.to_string())]
                )
                .await
        ),
        (409, "already_recalled".into())
    );
    assert_eq!(
        code(
            alice
                .call(
                    "group_delete_message",
                    &[("room_id", &room(g)), ("seq", "1")]
                )
                .await
        ),
        (404, "message_not_found".into())
    );
    // Hand over: bob owns it now, alice is a member and may leave.
    alice
        .call(
            "group_transfer",
            &[("room_id", &room(g)), ("user_id", &bob.id.to_string())],
        )
        .await
        .unwrap();
    until_event(
        &mut bob_socket,
        g,
        |b| matches!(b, EventBody::OwnerChanged { owner } if owner.id.0 == bob.id),
    )
    .await;
    assert_eq!(
        code(
            alice
                .call(
                    "group_rename",
                    &[("room_id", &room(g)), ("name", "还是我的")]
                )
                .await
        ),
        (403, "owner_only".into())
    );
    bob.call(
        "group_rename",
        &[("room_id", &room(g)), ("name", "bob 的群")],
    )
    .await
    .unwrap();
    let detail = bob
        .call("room_detail", &[("room_id", &room(g))])
        .await
        .unwrap();
    let roles: Vec<(i64, String)> = detail["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_i64().unwrap(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(roles.contains(&(bob.id, "owner".into())), "{roles:?}");
    assert!(roles.contains(&(alice.id, "member".into())), "{roles:?}");
    assert_eq!(detail["room"]["owner_id"].as_i64(), Some(bob.id));
    assert_eq!(
        code(bob.call("leave_room", &[("room_id", &room(g))]).await),
        (409, "owner_cannot_leave".into())
    );
    alice
        .call("leave_room", &[("room_id", &room(g))])
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn someone_added_to_a_group_finds_what_was_said_before_read() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let g = group(&alice, "读书会", &[&bob]).await;
    bob.send(g, "b1", "上周的书读完了吗").await.unwrap();
    alice.send(g, "a1", "还没").await.unwrap();
    alice
        .call(
            "group_add_members",
            &[("room_id", &room(g)), ("members", &carol.id.to_string())],
        )
        .await
        .unwrap();
    let unread = |rooms: serde_json::Value| {
        rooms
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == g)
            .map(|s| s["unread"].as_i64().unwrap())
    };
    // As on joining a room: only what is said after counts.
    assert_eq!(unread(carol.call("my_rooms", &[]).await.unwrap()), Some(0));
    bob.send(g, "b2", "欢迎 carol").await.unwrap();
    assert_eq!(unread(carol.call("my_rooms", &[]).await.unwrap()), Some(1));
    server.stop().await;
}

#[tokio::test]
async fn the_owner_deleting_a_picture_takes_its_files_and_url_with_it() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let g = group(&alice, "相册", &[&bob]).await;
    let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(40, 30, Rgb([30, 120, 200])));
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, ImageFormat::Png).unwrap();
    let res = bob
        .http
        .post(format!("{}/api/upload/image", bob.base))
        .body(png.into_inner())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let media: serde_json::Value = res.json().await.unwrap();
    let id = media["id"].as_str().unwrap().to_owned();
    let sent = bob
        .call(
            "send_media",
            &[
                ("room_id", &room(g)),
                ("client_id", "p1"),
                ("media_id", &id),
            ],
        )
        .await
        .unwrap();
    let dir = server.data_dir().join("media");
    let (file, thumb) = (dir.join(&id), dir.join(format!("{id}.thumb.jpg")));
    assert!(file.exists() && thumb.exists());
    let url = format!("{}/media/{id}", alice.base);
    assert_eq!(
        alice.http.get(&url).send().await.unwrap().status().as_u16(),
        200
    );
    alice
        .call(
            "group_delete_message",
            &[("room_id", &room(g)), ("seq", &sent["seq"].to_string())],
        )
        .await
        .unwrap();
    // As a recall: the content is gone everywhere, the stored file too.
    assert!(!file.exists(), "the picture is deleted from disk");
    assert!(!thumb.exists(), "and its thumbnail");
    for who in [&alice, &bob] {
        let status = who.http.get(&url).send().await.unwrap().status().as_u16();
        assert_eq!(status, 404);
    }
    server.stop().await;
}
