//! Private 1:1 chats against a real store: one conversation per pair
//! (also under concurrent opening from both sides), the rule for who may
//! open one, how each side sees it, its fixed membership, its privacy, and
//! the contact search.

use std::time::Duration;

use teahouse_domain::log::Page;
use teahouse_domain::{Chat, DomainError, Subscription};
use teahouse_protocol::{
    ConversationKind, ConversationSummary, ErrorCode, EventBody, ServerFrame, UserBrief, UserId,
};

mod common;

use common::{code, user};

async fn fixture() -> common::Fixture {
    common::fixture(common::unlimited()).await
}

fn latest() -> Page {
    Page::Before {
        before: None,
        limit: 50,
    }
}

/// `user` leaves the lobby, so that they share no room with anyone.
async fn leave_lobby(chat: &Chat, user: &UserBrief) {
    let lobby = chat.my_rooms(user.id).await.unwrap()[0].id;
    chat.leave_room(user, lobby).await.unwrap();
}

/// The direct chats in `user`'s conversation list.
async fn directs(chat: &Chat, user: &UserBrief) -> Vec<ConversationSummary> {
    let rooms = chat.my_rooms(user.id).await.unwrap();
    rooms
        .into_iter()
        .filter(|r| r.kind == ConversationKind::Direct)
        .collect()
}

/// The next event frame queued for `sub` (presence frames skipped),
/// waiting at most 5 s.
async fn next_frame(sub: &Subscription) -> ServerFrame {
    loop {
        let bytes = tokio::time::timeout(Duration::from_secs(5), sub.rx.recv())
            .await
            .expect("a frame within 5 s");
        let frame: ServerFrame = serde_json::from_slice(&bytes).unwrap();
        if !matches!(frame, ServerFrame::Presence { .. }) {
            return frame;
        }
    }
}

#[tokio::test]
async fn a_pair_has_one_direct_chat_and_each_side_sees_the_other_as_its_name() {
    let f = fixture().await;
    let alice = user(&f.chat, "alice").await;
    let bob = user(&f.chat, "bob").await;

    let opened = f.chat.open_direct(&alice, bob.id).await.unwrap();
    assert_eq!(opened.kind, ConversationKind::Direct);
    assert_eq!(opened.name, "bob 昵称");
    assert_eq!(opened.peer.as_ref(), Some(&bob));
    assert_eq!((opened.member_count, opened.joined), (2, true));
    // Again, and from the other side: the same conversation.
    assert_eq!(
        f.chat.open_direct(&alice, bob.id).await.unwrap().id,
        opened.id
    );
    let from_bob = f.chat.open_direct(&bob, alice.id).await.unwrap();
    assert_eq!(from_bob.id, opened.id);
    assert_eq!(from_bob.name, "alice 昵称");
    assert_eq!(from_bob.peer.as_ref(), Some(&alice));

    // Lists and details answer per side too.
    let alice_list = directs(&f.chat, &alice).await;
    let bob_list = directs(&f.chat, &bob).await;
    assert_eq!(alice_list.len(), 1);
    assert_eq!(bob_list.len(), 1);
    assert_eq!(alice_list[0].peer.as_ref(), Some(&bob));
    assert_eq!(bob_list[0].name, "alice 昵称");
    let detail = f.chat.room_detail(bob.id, opened.id).await.unwrap();
    assert_eq!(detail.room.peer.as_ref(), Some(&alice));
    let mut members: Vec<UserId> = detail.members.iter().map(|m| m.id).collect();
    members.sort();
    assert_eq!(members, vec![alice.id, bob.id]);

    // Its log opens with who opened it, then it is a log like a room's.
    let sent = f
        .chat
        .send_text(&bob, opened.id, "c-1", "你好")
        .await
        .unwrap();
    assert_eq!(sent.seq, 2);
    let log = f.chat.history(alice.id, opened.id, latest()).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!((log[0].seq, &log[0].body), (1, &EventBody::DirectOpened));
    assert_eq!(log[0].actor, alice);
    // The list shows the last message.
    let listed = &directs(&f.chat, &alice).await[0];
    assert_eq!(listed.last_seq, 2);
    assert_eq!(listed.last_event.as_ref(), Some(&sent));
}

#[tokio::test]
async fn opening_from_both_sides_at_once_makes_one_conversation_with_one_opening_event() {
    let f = fixture().await;
    let alice = user(&f.chat, "alice").await;
    let bob = user(&f.chat, "bob").await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let chat = f.chat.clone();
        let (me, peer) = if i % 2 == 0 {
            (alice.clone(), bob.id)
        } else {
            (bob.clone(), alice.id)
        };
        tasks.push(tokio::spawn(
            async move { chat.open_direct(&me, peer).await },
        ));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap().unwrap().id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one conversation for the pair: {ids:?}");
    let log = f.chat.history(alice.id, ids[0], latest()).await.unwrap();
    assert_eq!(log.len(), 1, "opened once: {log:?}");
    assert_eq!(directs(&f.chat, &alice).await.len(), 1);
    assert_eq!(directs(&f.chat, &bob).await.len(), 1);
}

#[tokio::test]
async fn the_rule_refuses_strangers_missing_users_the_system_and_yourself() {
    let f = fixture().await;
    let alice = user(&f.chat, "alice").await;
    let bob = user(&f.chat, "bob").await;
    let carol = user(&f.chat, "carol").await;
    leave_lobby(&f.chat, &carol).await;

    let err = |r: Result<ConversationSummary, DomainError>| code(r.unwrap_err());
    assert_eq!(
        err(f.chat.open_direct(&alice, carol.id).await),
        ErrorCode::NoSharedRoom
    );
    assert_eq!(
        err(f.chat.open_direct(&carol, alice.id).await),
        ErrorCode::NoSharedRoom
    );
    assert_eq!(
        err(f.chat.open_direct(&alice, UserId(9_999)).await),
        ErrorCode::NotFound
    );
    let lobby = &f.chat.my_rooms(alice.id).await.unwrap()[0];
    assert_eq!(
        err(f.chat.open_direct(&alice, lobby.owner_id).await),
        ErrorCode::NotFound,
        "the system account is nobody to chat with"
    );
    assert_eq!(
        err(f.chat.open_direct(&alice, alice.id).await),
        ErrorCode::DirectWithSelf
    );
    assert!(directs(&f.chat, &carol).await.is_empty());
    assert!(directs(&f.chat, &alice).await.is_empty());

    // Sharing a room is enough; once the chat exists it stays reachable
    // after both leave every room.
    let tea = f.chat.create_room(&carol, "tea", "").await.unwrap();
    f.chat.join_room(&alice, tea.id).await.unwrap();
    let dm = f.chat.open_direct(&alice, carol.id).await.unwrap();
    f.chat.leave_room(&alice, tea.id).await.unwrap();
    assert_eq!(
        f.chat.open_direct(&carol, alice.id).await.unwrap().id,
        dm.id
    );
    drop(bob);
}

#[tokio::test]
async fn a_direct_chat_cannot_be_joined_left_or_found_and_outsiders_get_nothing() {
    let f = fixture().await;
    let alice = user(&f.chat, "alice").await;
    let bob = user(&f.chat, "bob").await;
    let eve = user(&f.chat, "eve").await;
    // Everyone is online before the chat exists.
    let alice_sub = f.chat.connect(alice.id, None).await.unwrap();
    let bob_sub = f.chat.connect(bob.id, None).await.unwrap();
    let eve_sub = f.chat.connect(eve.id, None).await.unwrap();
    let dm = f.chat.open_direct(&alice, bob.id).await.unwrap();

    // Both participants' sockets were subscribed at once: the opening event
    // and the first message reach them without reconnecting.
    for sub in [&alice_sub, &bob_sub] {
        assert!(matches!(next_frame(sub).await,
            ServerFrame::Event { event } if event.conversation_id == dm.id && event.body == EventBody::DirectOpened));
    }
    let sent = f
        .chat
        .send_text(&alice, dm.id, "c-1", "secret")
        .await
        .unwrap();
    for sub in [&alice_sub, &bob_sub] {
        assert!(matches!(next_frame(sub).await, ServerFrame::Event { event } if event == sent));
    }

    let join = f.chat.join_room(&eve, dm.id).await.unwrap_err();
    assert_eq!(code(join), ErrorCode::DirectFixedMembers);
    let leave = f.chat.leave_room(&alice, dm.id).await.unwrap_err();
    assert_eq!(code(leave), ErrorCode::DirectFixedMembers);
    let outsider_leave = f.chat.leave_room(&eve, dm.id).await.unwrap_err();
    assert_eq!(code(outsider_leave), ErrorCode::NotMember);
    let history = f.chat.history(eve.id, dm.id, latest()).await.unwrap_err();
    assert_eq!(code(history), ErrorCode::NotMember);
    let detail = f.chat.room_detail(eve.id, dm.id).await.unwrap_err();
    assert_eq!(code(detail), ErrorCode::NotMember);
    let send = f
        .chat
        .send_text(&eve, dm.id, "e-1", "hi")
        .await
        .unwrap_err();
    assert_eq!(code(send), ErrorCode::NotMember);
    let page = f.chat.public_rooms(eve.id, "", None, None).await.unwrap();
    assert!(page.rooms.iter().all(|r| r.id != dm.id));
    assert!(directs(&f.chat, &eve).await.is_empty());

    // Eve's socket heard no event at all (the lobby is quiet meanwhile;
    // she does hear that the others came online).
    while let Some(bytes) = eve_sub.rx.try_recv() {
        let frame: ServerFrame = serde_json::from_slice(&bytes).unwrap();
        assert!(
            matches!(frame, ServerFrame::Presence { .. }),
            "outsider heard {frame:?}"
        );
    }
}

#[tokio::test]
async fn contacts_are_the_people_you_share_a_conversation_with() {
    let f = fixture().await;
    let alice = user(&f.chat, "alice").await;
    let bob = user(&f.chat, "bob").await;
    let carol = user(&f.chat, "carol").await;
    let names = |people: Vec<UserBrief>| -> Vec<String> {
        people.into_iter().map(|p| p.username).collect()
    };
    assert_eq!(
        names(f.chat.search_contacts(alice.id, "").await.unwrap()),
        ["bob", "carol"],
        "not yourself, not the system account"
    );
    assert_eq!(
        names(f.chat.search_contacts(alice.id, "BO").await.unwrap()),
        ["bob"]
    );
    assert_eq!(
        names(f.chat.search_contacts(alice.id, "carol 昵").await.unwrap()),
        ["carol"],
        "nicknames match too"
    );
    leave_lobby(&f.chat, &carol).await;
    assert_eq!(
        names(f.chat.search_contacts(alice.id, "").await.unwrap()),
        ["bob"]
    );
    // A direct chat is a shared conversation.
    leave_lobby(&f.chat, &bob).await;
    assert!(f
        .chat
        .search_contacts(alice.id, "")
        .await
        .unwrap()
        .is_empty());
    let too_long = f
        .chat
        .search_contacts(alice.id, &"x".repeat(41))
        .await
        .unwrap_err();
    assert_eq!(code(too_long), ErrorCode::QueryTooLong);
    drop(carol);
}
