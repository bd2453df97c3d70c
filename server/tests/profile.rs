//! Changing one's profile over real HTTP and WebSocket: a new nickname
//! reaches everyone sharing a conversation live; a new password signs out
//! every other session at once and keeps the one that changed it.

mod common;

use common::TestServer;
use teahouse_protocol::{close_code, ServerFrame};

#[tokio::test]
async fn a_new_nickname_reaches_members_and_my_other_tabs_live() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let room = alice.create_room("tea").await;
    bob.join(room).await;
    let mut bob_ws = bob.connect().await;
    let mut alice_tab = alice.connect().await;

    let me = alice
        .call("change_nickname", &[("nickname", "  爱丽丝\u{0007} ")])
        .await
        .unwrap();
    assert_eq!(me["nickname"], "爱丽丝", "normalised like every nickname");
    for ws in [&mut bob_ws, &mut alice_tab] {
        let ServerFrame::UserUpdated { user } = ws
            .until(|f| matches!(f, ServerFrame::UserUpdated { .. }))
            .await
        else {
            unreachable!()
        };
        assert_eq!((user.id.0, user.nickname.as_str()), (alice.id, "爱丽丝"));
    }
    // Stored: the member list and the history show the new name.
    let detail = carol
        .call("room_detail", &[("room_id", &room.to_string())])
        .await;
    assert_eq!(detail.unwrap_err().0, 403, "carol is not in the room");
    let detail = bob
        .call("room_detail", &[("room_id", &room.to_string())])
        .await
        .unwrap();
    assert_eq!(detail["members"][0]["nickname"], "爱丽丝");
    assert_eq!(
        alice.call("me", &[]).await.unwrap()["nickname"],
        "爱丽丝",
        "the session's user is the updated one"
    );

    // Bad input: a clear error, nothing changed.
    let (status, err) = alice
        .call("change_nickname", &[("nickname", "\u{200b} ")])
        .await
        .unwrap_err();
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("nickname_invalid"))
    );
    assert_eq!(alice.call("me", &[]).await.unwrap()["nickname"], "爱丽丝");
    server.stop().await;
}

#[tokio::test]
async fn a_new_password_signs_out_every_other_session_and_keeps_this_one() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let phone = server.login("alice", alice.id).await;
    let lobby = alice.call("my_rooms", &[]).await.unwrap()[0]["id"]
        .as_i64()
        .unwrap();
    let mut laptop_ws = alice.connect().await;
    let mut phone_ws = phone.connect().await;
    laptop_ws.frames_until_pong().await;
    phone_ws.frames_until_pong().await;

    // The wrong current password changes nothing.
    let (status, err) = alice
        .call(
            "change_password",
            &[
                ("current_password", "not-my-password"),
                ("new_password", "oolong-and-pu-erh"),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("wrong_password"))
    );
    // A weak new one is refused after the right current one.
    let (status, err) = alice
        .call(
            "change_password",
            &[
                ("current_password", "tea-leaves-42"),
                ("new_password", "short"),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("password_too_short"))
    );
    assert!(
        phone.call("me", &[]).await.unwrap().is_object(),
        "still signed in"
    );

    alice
        .call(
            "change_password",
            &[
                ("current_password", "tea-leaves-42"),
                ("new_password", "oolong-and-pu-erh"),
            ],
        )
        .await
        .unwrap();
    // The phone's socket closes at once and its session is gone.
    assert_eq!(phone_ws.close_code().await, close_code::SESSION_ENDED);
    assert!(phone.call("me", &[]).await.unwrap().is_null());
    let (status, _) = phone.call("my_rooms", &[]).await.unwrap_err();
    assert_eq!(status, 401);

    // The laptop, which changed it, stays signed in and keeps hearing.
    alice
        .send(lobby, "after-change", "still here")
        .await
        .unwrap();
    laptop_ws
        .until(|f| matches!(f, ServerFrame::Event { event } if event.actor.id.0 == alice.id))
        .await;

    // Only the new password logs in.
    let fresh = common::Client::new(&server);
    let (status, _) = fresh
        .call(
            "login",
            &[("username", "alice"), ("password", "tea-leaves-42")],
        )
        .await
        .unwrap_err();
    assert_eq!(status, 401);
    fresh
        .call(
            "login",
            &[("username", "alice"), ("password", "oolong-and-pu-erh")],
        )
        .await
        .unwrap();
    assert!(fresh.call("me", &[]).await.unwrap().is_object());
    server.stop().await;
}
