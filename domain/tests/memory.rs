//! A messenger's memory against a real store, through the store seam only
//! (a second backend runs these by adding a branch to `open_store`): read
//! positions and unread counts, recall rewriting the log and the search
//! index, replies and mentions stored by reference, search authorization.

use teahouse_domain::log::Page;
use teahouse_domain::{ChatConfig, Compose};
use teahouse_protocol::{ErrorCode, EventBody};

mod common;

use common::{code, user};

async fn fixture() -> common::Fixture {
    common::fixture(ChatConfig {
        sends_per_sec: 0,
        ..ChatConfig::default()
    })
    .await
}

#[tokio::test]
async fn read_positions_only_move_forward_and_unread_counts_others_messages_only() {
    let f = fixture().await;
    let (alice, bob) = (user(&f.chat, "alice").await, user(&f.chat, "bob").await);
    let room = f.chat.create_room(&alice, "counts", "").await.unwrap().id;
    f.chat.join_room(&bob, room).await.unwrap();
    let mut last = 0;
    for i in 0..4 {
        last = f
            .chat
            .send_text(&alice, room, &format!("a{i}"), "hi")
            .await
            .unwrap()
            .seq;
    }
    f.chat.send_text(&bob, room, "b", "mine").await.unwrap();
    let state = f.chat.read_state(bob.id, room).await.unwrap();
    assert_eq!((state.unread, state.mentioned), (4, false));
    let state = f.chat.mark_read(&bob, room, last - 1).await.unwrap();
    assert_eq!((state.read_seq, state.unread), (last - 1, 1));
    let state = f.chat.mark_read(&bob, room, 2).await.unwrap();
    assert_eq!(state.read_seq, last - 1, "never backwards");
    let state = f.chat.mark_read(&bob, room, i64::MAX).await.unwrap();
    assert!(state.read_seq > last && state.unread == 0, "{state:?}");
    let listed = f.chat.my_rooms(bob.id).await.unwrap();
    let listed = listed.iter().find(|s| s.id == room).unwrap();
    assert_eq!((listed.read_seq, listed.unread), (state.read_seq, 0));
}

#[tokio::test]
async fn a_recall_rewrites_the_message_leaves_the_index_and_is_logged() {
    let f = fixture().await;
    let (alice, bob) = (user(&f.chat, "alice").await, user(&f.chat, "bob").await);
    let room = f.chat.create_room(&alice, "recalls", "").await.unwrap().id;
    f.chat.join_room(&bob, room).await.unwrap();
    let mention = Compose {
        reply_to: None,
        mentions: vec![alice.id],
    };
    let sent = f
        .chat
        .send_text_with(&bob, room, "b1", "铁观音的秘密 @alice", mention)
        .await
        .unwrap();
    assert!(f.chat.read_state(alice.id, room).await.unwrap().mentioned);
    let reply = Compose {
        reply_to: Some(sent.seq),
        mentions: Vec::new(),
    };
    let answer = f
        .chat
        .send_text_with(&alice, room, "a1", "收到", reply)
        .await
        .unwrap();
    assert_eq!(
        f.chat
            .search_messages(alice.id, "铁观音", None)
            .await
            .unwrap()
            .hits
            .len(),
        1
    );

    let recall = f.chat.recall(&bob, room, sent.seq).await.unwrap();
    assert_eq!(recall.body, EventBody::MessageRecalled { seq: sent.seq });
    let log = f
        .chat
        .history(
            alice.id,
            room,
            Page::After {
                after: 0,
                limit: 50,
            },
        )
        .await
        .unwrap();
    let at = |seq| log.iter().find(|e| e.seq == seq).unwrap();
    assert_eq!(at(sent.seq).body, EventBody::Recalled { by: bob.id });
    let EventBody::Message(m) = &at(answer.seq).body else {
        panic!("the reply stays")
    };
    assert!(m.reply_to.as_ref().is_some_and(|q| q.recalled));
    assert_eq!(log.last().map(|e| e.seq), Some(recall.seq));
    let state = f.chat.read_state(alice.id, room).await.unwrap();
    assert_eq!(
        (state.unread, state.mentioned),
        (0, false),
        "nothing left to read"
    );
    assert!(f
        .chat
        .search_messages(alice.id, "铁观音", None)
        .await
        .unwrap()
        .hits
        .is_empty());
    let again = f.chat.recall(&bob, room, sent.seq).await.unwrap_err();
    assert_eq!(code(again), ErrorCode::AlreadyRecalled);
}

#[tokio::test]
async fn references_are_checked_in_the_sending_transaction() {
    let f = fixture().await;
    let (alice, eve) = (user(&f.chat, "alice").await, user(&f.chat, "eve").await);
    let room = f.chat.create_room(&alice, "refs", "").await.unwrap().id;
    let elsewhere = f.chat.create_room(&eve, "elsewhere", "").await.unwrap().id;
    let theirs = f.chat.send_text(&eve, elsewhere, "e1", "x").await.unwrap();
    let send = |compose: Compose, id: &'static str| {
        let chat = f.chat.clone();
        let alice = alice.clone();
        async move { chat.send_text_with(&alice, room, id, "hi", compose).await }
    };
    let refused = send(
        Compose {
            reply_to: Some(theirs.seq + 50),
            mentions: Vec::new(),
        },
        "r1",
    )
    .await
    .unwrap_err();
    assert_eq!(code(refused), ErrorCode::ReplyNotFound);
    let refused = send(
        Compose {
            reply_to: None,
            mentions: vec![eve.id],
        },
        "r2",
    )
    .await
    .unwrap_err();
    assert_eq!(code(refused), ErrorCode::MentionNotMember);
    let stored = send(
        Compose {
            reply_to: None,
            mentions: vec![alice.id, alice.id],
        },
        "r3",
    )
    .await
    .unwrap();
    let EventBody::Message(m) = stored.body else {
        panic!("a message")
    };
    assert_eq!(m.mentions, vec![alice.id]);
    // Eve's text is not Alice's to find, nor her room to search.
    let page = f.chat.search_messages(alice.id, "x", None).await.unwrap();
    assert!(page.recent_only && page.hits.is_empty());
    let refused = f
        .chat
        .search_messages(alice.id, "xyz", Some(elsewhere))
        .await
        .unwrap_err();
    assert_eq!(code(refused), ErrorCode::NotMember);
}

#[tokio::test]
async fn search_order_and_authorization_hold_for_few_and_for_many_conversations() {
    let f = fixture().await;
    let (alice, bob, eve) = (
        user(&f.chat, "alice").await,
        user(&f.chat, "bob").await,
        user(&f.chat, "eve").await,
    );
    // Eve's own room holds the word too: never found by the others.
    let hers = f.chat.create_room(&eve, "eve", "").await.unwrap().id;
    f.chat
        .send_text(&eve, hers, "e", "eve's oolong")
        .await
        .unwrap();
    // Alice is in 40 rooms (searched through the whole index at once),
    // Bob in three of them (searched one conversation at a time).
    let mut rooms = Vec::new();
    for i in 0..40 {
        let room = f
            .chat
            .create_room(&alice, &format!("room {i}"), "")
            .await
            .unwrap()
            .id;
        rooms.push(room);
    }
    for &room in &rooms[..3] {
        f.chat.join_room(&bob, room).await.unwrap();
    }
    for (i, &room) in rooms.iter().enumerate() {
        for j in 0..2 {
            let text = format!("oolong {i}-{j}");
            f.chat
                .send_text(&alice, room, &format!("m{i}-{j}"), &text)
                .await
                .unwrap();
        }
    }
    let texts = |page: teahouse_protocol::SearchPage| -> Vec<String> {
        page.hits
            .iter()
            .map(|e| match &e.body {
                EventBody::Message(m) => m.content.text().to_owned(),
                other => panic!("not a message: {other:?}"),
            })
            .collect()
    };
    // Newest conversation first, newest message first within one.
    let newest_first = |rooms: std::ops::Range<usize>| -> Vec<String> {
        rooms
            .rev()
            .flat_map(|i| [format!("oolong {i}-1"), format!("oolong {i}-0")])
            .collect()
    };
    let mine = texts(
        f.chat
            .search_messages(alice.id, "OOLONG", None)
            .await
            .unwrap(),
    );
    assert_eq!(mine.len(), 50, "a page is 50 hits: {mine:?}");
    assert_eq!(mine, newest_first(15..40)[..50].to_vec());
    assert_eq!(
        texts(
            f.chat
                .search_messages(bob.id, "oolong", None)
                .await
                .unwrap()
        ),
        newest_first(0..3)
    );
    assert_eq!(
        texts(
            f.chat
                .search_messages(bob.id, "oolong 1-1", Some(rooms[1]))
                .await
                .unwrap()
        ),
        vec!["oolong 1-1"]
    );
    assert_eq!(
        texts(
            f.chat
                .search_messages(eve.id, "oolong", None)
                .await
                .unwrap()
        ),
        vec!["eve's oolong"]
    );
}
