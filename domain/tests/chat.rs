//! The chat service against a real store: ordering, idempotency,
//! authorization and fan-out. Written against [`Store`] only: a second
//! backend runs this whole suite by adding a branch to [`open_store`].

use teahouse_domain::accounts::NewAccount;
use teahouse_domain::log::Page;
use teahouse_domain::{ChatConfig, DomainError, KickReason};
use teahouse_protocol::{ConversationId, ErrorCode, EventBody, MemberRole, ServerFrame};

mod common;

use common::{code, fixture, unlimited, user};

fn frame(bytes: &[u8]) -> ServerFrame {
    serde_json::from_slice(bytes).unwrap()
}

/// The seqs of `events`, in order.
fn seqs(events: &[teahouse_protocol::ConversationEvent]) -> Vec<i64> {
    events.iter().map(|e| e.seq).collect()
}

/// The oldest `limit` events after seq `after`.
fn after(after: i64, limit: u32) -> Page {
    Page::After { after, limit }
}

fn latest(limit: u32) -> Page {
    Page::Before {
        before: None,
        limit,
    }
}

#[tokio::test]
async fn new_users_land_in_the_lobby_and_can_talk() {
    let f = fixture(ChatConfig::default()).await;
    let alice = user(&f.chat, "alice").await;
    let bob = user(&f.chat, "bob").await;
    let rooms = f.chat.my_rooms(alice.id).await.unwrap();
    assert_eq!(rooms.len(), 1, "exactly the lobby");
    let lobby = rooms[0].id;
    let sent = f
        .chat
        .send_text(&alice, lobby, "m1", "  你好，Bob  ")
        .await
        .unwrap();
    assert!(matches!(&sent.body, EventBody::Message(m) if m.content.text() == "你好，Bob"));
    let seen = f.chat.history(bob.id, lobby, latest(50)).await.unwrap();
    assert_eq!(seen.last().unwrap(), &sent);
    // The lobby's preview is now Alice's message.
    let summary = &f.chat.my_rooms(bob.id).await.unwrap()[0];
    assert_eq!(summary.last_event.as_ref(), Some(&sent));
    assert_eq!(summary.member_count, 3, "system owner + alice + bob");
}

#[tokio::test]
async fn sequence_numbers_have_no_gaps_under_concurrent_sends() {
    let f = fixture(unlimited()).await;
    let alice = user(&f.chat, "alice").await;
    let bob = user(&f.chat, "bob").await;
    let room = f.chat.create_room(&alice, "tea", "").await.unwrap().id;
    f.chat.join_room(&bob, room).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let chat = f.chat.clone();
        let who = if i % 2 == 0 {
            alice.clone()
        } else {
            bob.clone()
        };
        tasks.push(tokio::spawn(async move {
            chat.send_text(&who, room, &format!("c{i}"), &format!("msg {i}"))
                .await
                .unwrap()
                .seq
        }));
    }
    let mut answered = Vec::new();
    for t in tasks {
        answered.push(t.await.unwrap());
    }
    answered.sort();
    // seq 1 = room_created, 2 = bob joined, then 40 messages 3..=42.
    assert_eq!(answered, (3..=42).collect::<Vec<_>>());
    let log = f.chat.history(alice.id, room, after(0, 200)).await.unwrap();
    assert_eq!(seqs(&log), (1..=42).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_retried_client_id_is_stored_and_pushed_once() {
    let f = fixture(ChatConfig::default()).await;
    let alice = user(&f.chat, "alice").await;
    let room = f.chat.create_room(&alice, "tea", "").await.unwrap().id;
    let sub = f.chat.connect(alice.id, None).await.unwrap();
    let first = f
        .chat
        .send_text(&alice, room, "same-id", "hello")
        .await
        .unwrap();
    let again = f
        .chat
        .send_text(&alice, room, "same-id", "hello")
        .await
        .unwrap();
    assert_eq!(first, again);
    let log = f.chat.history(alice.id, room, after(0, 50)).await.unwrap();
    let messages = log
        .iter()
        .filter(|e| matches!(e.body, EventBody::Message { .. }));
    assert_eq!(messages.count(), 1);
    assert!(matches!(frame(&sub.rx.recv().await), ServerFrame::Event { event } if event == first));
    assert!(sub.rx.try_recv().is_none());
}

#[tokio::test]
async fn non_members_can_neither_read_nor_send_nor_hear() {
    let f = fixture(ChatConfig::default()).await;
    let alice = user(&f.chat, "alice").await;
    let mallory = user(&f.chat, "mallory").await;
    let room = f
        .chat
        .create_room(&alice, "not-yours", "")
        .await
        .unwrap()
        .id;
    let spy = f.chat.connect(mallory.id, None).await.unwrap();
    f.chat.send_text(&alice, room, "a", "secret").await.unwrap();
    let e = f
        .chat
        .send_text(&mallory, room, "m", "hi")
        .await
        .unwrap_err();
    assert_eq!(code(e), ErrorCode::NotMember);
    let e = f
        .chat
        .history(mallory.id, room, latest(10))
        .await
        .unwrap_err();
    assert_eq!(code(e), ErrorCode::NotMember);
    let e = f.chat.room_detail(mallory.id, room).await.unwrap_err();
    assert_eq!(code(e), ErrorCode::NotMember);
    let e = f
        .chat
        .send_text(&alice, ConversationId(999_999), "x", "hi")
        .await
        .unwrap_err();
    assert_eq!(code(e), ErrorCode::NotFound);
    assert!(
        spy.rx.try_recv().is_none(),
        "a non-member heard a room event"
    );
}

#[tokio::test]
async fn joining_and_leaving_are_logged_and_pushed() {
    let f = fixture(ChatConfig::default()).await;
    let alice = user(&f.chat, "alice").await;
    let bob = user(&f.chat, "bob").await;
    let room = f.chat.create_room(&alice, "tea", "desc").await.unwrap().id;
    let alice_sub = f.chat.connect(alice.id, None).await.unwrap();
    let bob_sub = f.chat.connect(bob.id, None).await.unwrap();
    // Presence: alice hears bob come online (they share the lobby).
    assert!(matches!(frame(&alice_sub.rx.recv().await),
        ServerFrame::Presence { user_id, online: true } if user_id == bob.id));

    f.chat.join_room(&bob, room).await.unwrap();
    for sub in [&alice_sub, &bob_sub] {
        let ServerFrame::Event { event } = frame(&sub.rx.recv().await) else {
            panic!("expected an event")
        };
        assert_eq!(
            (event.seq, event.body, event.actor.id),
            (2, EventBody::MemberJoined, bob.id)
        );
    }
    let again = f.chat.join_room(&bob, room).await.unwrap_err();
    assert_eq!(code(again), ErrorCode::AlreadyMember);
    let members = f.chat.room_detail(alice.id, room).await.unwrap().members;
    assert_eq!(
        members.iter().map(|m| (m.id, m.role)).collect::<Vec<_>>(),
        vec![(alice.id, MemberRole::Owner), (bob.id, MemberRole::Member)],
        "the creator is the owner, a joiner a plain member"
    );

    f.chat.leave_room(&bob, room).await.unwrap();
    for sub in [&alice_sub, &bob_sub] {
        let ServerFrame::Event { event } = frame(&sub.rx.recv().await) else {
            panic!("expected an event")
        };
        assert_eq!((event.seq, event.body), (3, EventBody::MemberLeft));
    }
    // After leaving, bob hears nothing more from the room.
    f.chat
        .send_text(&alice, room, "after", "still here?")
        .await
        .unwrap();
    alice_sub.rx.recv().await;
    assert!(bob_sub.rx.try_recv().is_none());
    let owner = f.chat.leave_room(&alice, room).await.unwrap_err();
    assert_eq!(code(owner), ErrorCode::OwnerCannotLeave);
    let twice = f.chat.leave_room(&bob, room).await.unwrap_err();
    assert_eq!(code(twice), ErrorCode::NotMember);

    // Bob going offline is announced to alice.
    drop(bob_sub);
    assert!(matches!(frame(&alice_sub.rx.recv().await),
        ServerFrame::Presence { user_id, online: false } if user_id == bob.id));
}

#[tokio::test]
async fn a_slow_connection_is_kicked_instead_of_blocking_the_room() {
    let config = ChatConfig {
        conn_queue_capacity: 4,
        ..unlimited()
    };
    let f = fixture(config).await;
    let alice = user(&f.chat, "alice").await;
    let bob = user(&f.chat, "bob").await;
    let room = f.chat.create_room(&alice, "tea", "").await.unwrap().id;
    f.chat.join_room(&bob, room).await.unwrap();
    let slow = f.chat.connect(bob.id, None).await.unwrap();
    let fast = f.chat.connect(alice.id, None).await.unwrap();
    // Alice's connection drains its queue; Bob's never reads.
    while let Some(_presence) = fast.rx.try_recv() {}
    for i in 0..10 {
        f.chat
            .send_text(&alice, room, &format!("c{i}"), "flood")
            .await
            .unwrap();
        let ServerFrame::Event { event } = frame(&fast.rx.recv().await) else {
            panic!("expected an event")
        };
        assert_eq!(event.seq, 3 + i);
    }
    assert_eq!(slow.kicked().await, KickReason::Lagging);
    assert!(!fast.is_kicked(), "the reader that kept up was kicked");
}

#[tokio::test]
async fn accounts_reject_bad_input_and_wrong_passwords() {
    let f = fixture(ChatConfig::default()).await;
    user(&f.chat, "alice").await;
    let account = |u: &str, p: &str| NewAccount {
        username: u.into(),
        nickname: "x".into(),
        password: p.into(),
    };
    let dup = f
        .chat
        .register(account("ALICE", "tea-leaves-42"))
        .await
        .unwrap_err();
    assert_eq!(dup.to_api().code, ErrorCode::UsernameTaken);
    assert_eq!(dup.to_api().field.as_deref(), Some("username"));
    let weak = f
        .chat
        .register(account("bob", "12345678"))
        .await
        .unwrap_err();
    assert_eq!(code(weak), ErrorCode::PasswordTooWeak);
    let system = f
        .chat
        .register(account("teahouse", "tea-leaves-42"))
        .await
        .unwrap_err();
    assert_eq!(code(system), ErrorCode::UsernameTaken);

    assert_eq!(
        f.chat
            .login("alice", "tea-leaves-42", HOME)
            .await
            .unwrap()
            .username,
        "alice"
    );
    let wrong = f
        .chat
        .login("alice", "wrong-password", HOME)
        .await
        .unwrap_err();
    assert_eq!(code(wrong), ErrorCode::BadCredentials);
    let unknown = f
        .chat
        .login("nobody", "tea-leaves-42", HOME)
        .await
        .unwrap_err();
    assert_eq!(code(unknown), ErrorCode::BadCredentials);
    let sys = f.chat.login("teahouse", "!", HOME).await.unwrap_err();
    assert_eq!(code(sys), ErrorCode::BadCredentials);
    // Password guessing against one account is throttled for the guesser,
    // with a wait to tell the client; the owner elsewhere is not affected.
    let stranger: std::net::IpAddr = "192.0.2.66".parse().unwrap();
    let mut limited = None;
    for _ in 0..12 {
        if let Err(e) = f.chat.login("alice", "guess-guess", stranger).await {
            if code_of(&e) == ErrorCode::RateLimited {
                limited = e.retry_after();
                break;
            }
        }
    }
    assert!(limited.is_some_and(|wait| !wait.is_zero()));
    let right = f.chat.login("alice", "tea-leaves-42", stranger).await;
    assert_eq!(
        right.map_err(|e| code_of(&e)).err(),
        Some(ErrorCode::RateLimited)
    );
    assert!(f.chat.login("alice", "tea-leaves-42", HOME).await.is_ok());
}

/// The address the account owner logs in from in these tests.
const HOME: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

fn code_of(e: &DomainError) -> ErrorCode {
    e.to_api().code
}

#[tokio::test]
async fn history_pages_walk_backwards_by_cursor() {
    let f = fixture(unlimited()).await;
    let alice = user(&f.chat, "alice").await;
    let room = f.chat.create_room(&alice, "tea", "").await.unwrap().id;
    for i in 0..25 {
        f.chat
            .send_text(&alice, room, &format!("c{i}"), &format!("m{i}"))
            .await
            .unwrap();
    }
    let newest = f.chat.history(alice.id, room, latest(10)).await.unwrap();
    assert_eq!((newest[0].seq, newest[9].seq), (17, 26));
    let older = f
        .chat
        .history(
            alice.id,
            room,
            Page::Before {
                before: Some(17),
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!((older[0].seq, older[9].seq), (7, 16));
    let oldest = f
        .chat
        .history(
            alice.id,
            room,
            Page::Before {
                before: Some(7),
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(seqs(&oldest), (1..=6).collect::<Vec<_>>());
    let gap = f
        .chat
        .history(alice.id, room, after(20, 100))
        .await
        .unwrap();
    assert_eq!(seqs(&gap), (21..=26).collect::<Vec<_>>());
}

#[tokio::test]
async fn sends_are_rate_limited_per_user() {
    let config = ChatConfig {
        sends_per_sec: 1,
        send_burst: 3,
        ..ChatConfig::default()
    };
    let f = fixture(config).await;
    let alice = user(&f.chat, "alice").await;
    let room = f.chat.create_room(&alice, "tea", "").await.unwrap().id;
    let mut codes = Vec::new();
    for i in 0..5 {
        let r = f.chat.send_text(&alice, room, &format!("c{i}"), "x").await;
        codes.push(r.err().map(code));
    }
    assert_eq!(&codes[..3], &[None, None, None]);
    assert_eq!(codes[4], Some(ErrorCode::RateLimited));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_share_commits_and_each_is_answered_after_storage() {
    use std::sync::atomic::Ordering;
    let config = ChatConfig {
        conn_queue_capacity: 1024,
        ..unlimited()
    };
    let f = fixture(config).await;
    let alice = user(&f.chat, "alice").await;
    let room = f.chat.create_room(&alice, "tea", "").await.unwrap().id;
    let sub = f.chat.connect(alice.id, None).await.unwrap();
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let chat = f.chat.clone();
            let alice = alice.clone();
            tokio::spawn(async move {
                chat.send_text(&alice, room, &format!("c{i}"), "x")
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut answered = Vec::new();
    for t in tasks {
        answered.push(t.await.unwrap().seq);
    }
    answered.sort();
    assert_eq!(answered, (2..=301).collect::<Vec<_>>());
    // Every answered event is in the log (acknowledged means stored)…
    let page = after(1, 200);
    let log = f.chat.history(alice.id, room, page).await.unwrap();
    assert_eq!(log.len(), 200);
    // …pushed in sequence order…
    let mut pushed = Vec::new();
    while pushed.len() < 300 {
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), sub.rx.recv());
        if let ServerFrame::Event { event } = frame(&next.await.unwrap()) {
            pushed.push(event.seq);
        }
    }
    assert_eq!(pushed, (2..=301).collect::<Vec<_>>());
    // …and the writer needed fewer transactions than messages.
    let commits = f.chat.writer_stats().commits.load(Ordering::Relaxed);
    assert!(commits < 300, "{commits} commits for 300 concurrent sends");
}

/// One batch mixing every outcome: two rooms, a retry inside the batch, a
/// retry of an earlier send, a non-member and a missing room. Each send gets
/// its own answer and the rooms' logs stay gap-free.
#[tokio::test]
async fn a_mixed_batch_answers_each_send_on_its_own() {
    use std::sync::atomic::Ordering;
    let f = fixture(unlimited()).await;
    let alice = user(&f.chat, "alice").await;
    let mallory = user(&f.chat, "mallory").await;
    let tea = f.chat.create_room(&alice, "tea", "").await.unwrap().id;
    let coffee = f.chat.create_room(&alice, "coffee", "").await.unwrap().id;
    let earlier = f.chat.send_text(&alice, tea, "early", "x").await.unwrap();
    let sub = f.chat.connect(alice.id, None).await.unwrap();
    let commits_before = f.chat.writer_stats().commits.load(Ordering::Relaxed);

    // With writes paused, every send waits in the writer's queue; on this
    // single-threaded runtime one yield lets each spawned send get there.
    // Released, the writer takes them all in one batch.
    let paused = f.chat.pause_writes().await;
    let sends = [
        (alice.clone(), tea, "t1"),
        (alice.clone(), coffee, "c1"),
        (alice.clone(), tea, "t1"),
        (mallory.clone(), tea, "m1"),
        (alice.clone(), ConversationId(999_999), "gone"),
        (alice.clone(), tea, "early"),
        (alice.clone(), tea, "t2"),
        (alice.clone(), coffee, "c2"),
    ];
    let tasks: Vec<_> = sends
        .into_iter()
        .map(|(who, room, id)| {
            let chat = f.chat.clone();
            tokio::spawn(async move { chat.send_text(&who, room, id, id).await })
        })
        .collect();
    tokio::task::yield_now().await;
    drop(paused);
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert_eq!(
        f.chat.writer_stats().commits.load(Ordering::Relaxed),
        commits_before + 1,
        "the sends were meant to share one batch"
    );
    let ok = |i: usize| answers[i].as_ref().unwrap().clone();
    let start = earlier.seq;
    assert_eq!((ok(0).conversation_id, ok(0).seq), (tea, start + 1));
    assert_eq!(ok(2), ok(0), "a retry inside the batch gets the first copy");
    assert_eq!(
        ok(5),
        earlier,
        "a retry of an earlier send gets the stored event"
    );
    assert_eq!((ok(6).conversation_id, ok(6).seq), (tea, start + 2));
    let coffee_first = ok(1).seq;
    assert_eq!(
        (ok(7).conversation_id, ok(7).seq),
        (coffee, coffee_first + 1)
    );
    let err = |i: usize| answers[i].as_ref().unwrap_err().to_api().code;
    assert_eq!(err(3), ErrorCode::NotMember);
    assert_eq!(err(4), ErrorCode::NotFound);

    let tea_log = f.chat.history(alice.id, tea, after(0, 50)).await.unwrap();
    assert_eq!(seqs(&tea_log), (1..=start + 2).collect::<Vec<_>>());
    // Pushed once each, in batch order: t1, c1, t2, c2.
    let mut pushed = Vec::new();
    while let Some(bytes) = sub.rx.try_recv() {
        if let ServerFrame::Event { event } = frame(&bytes) {
            pushed.push((event.conversation_id, event.seq));
        }
    }
    assert_eq!(
        pushed,
        vec![
            (tea, start + 1),
            (coffee, coffee_first),
            (tea, start + 2),
            (coffee, coffee_first + 1)
        ]
    );
}

/// Members joining and leaving while a room is flooded with sends: the two
/// kinds of writes go through different writers (membership through sqlx,
/// messages through the writer thread) and must still share one gap-free
/// log, and no join may fail waiting for the other writer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_and_leaves_during_a_flood_of_sends_share_one_gap_free_log() {
    let f = fixture(unlimited()).await;
    let owner = user(&f.chat, "owner").await;
    let room = f.chat.create_room(&owner, "busy", "").await.unwrap().id;
    let mut guests = Vec::new();
    for i in 0..6 {
        guests.push(user(&f.chat, &format!("guest{i}")).await);
    }
    let flood: Vec<_> = (0..16)
        .map(|s| {
            let chat = f.chat.clone();
            let owner = owner.clone();
            tokio::spawn(async move {
                for i in 0..60 {
                    chat.send_text(&owner, room, &format!("s{s}-{i}"), "flood")
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for guest in &guests {
        f.chat.join_room(guest, room).await.unwrap();
        f.chat.send_text(guest, room, "hello", "hi").await.unwrap();
        f.chat.leave_room(guest, room).await.unwrap();
    }
    for task in flood {
        task.await.unwrap();
    }
    let mut log = Vec::new();
    loop {
        let from = log
            .last()
            .map_or(0, |e: &teahouse_protocol::ConversationEvent| e.seq);
        let page = f
            .chat
            .history(owner.id, room, after(from, 500))
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        log.extend(page);
    }
    // room_created + 16 × 60 flood messages + 6 × (join, hello, leave).
    let expected = 1 + 16 * 60 + 6 * 3;
    assert_eq!(seqs(&log), (1..=expected as i64).collect::<Vec<_>>());
    let joins = log
        .iter()
        .filter(|e| matches!(e.body, EventBody::MemberJoined))
        .count();
    let leaves = log
        .iter()
        .filter(|e| matches!(e.body, EventBody::MemberLeft))
        .count();
    assert_eq!((joins, leaves), (6, 6));
}

#[tokio::test]
async fn ending_a_session_closes_exactly_its_sockets() {
    use teahouse_domain::SessionKey;
    let f = fixture(unlimited()).await;
    let alice = user(&f.chat, "alice").await;
    let laptop = f.chat.connect(alice.id, Some(SessionKey(1))).await.unwrap();
    let phone = f.chat.connect(alice.id, Some(SessionKey(2))).await.unwrap();
    f.chat.end_session(alice.id, SessionKey(1));
    assert_eq!(laptop.kicked().await, KickReason::SessionEnded);
    assert!(!phone.is_kicked(), "the other session's socket stays open");
    f.chat.end_user_sockets(alice.id);
    assert_eq!(phone.kicked().await, KickReason::SessionEnded);
}

#[tokio::test]
async fn a_created_room_is_announced_to_its_owners_open_sockets() {
    let f = fixture(unlimited()).await;
    let alice = user(&f.chat, "alice").await;
    let tab = f.chat.connect(alice.id, None).await.unwrap();
    let room = f.chat.create_room(&alice, "new", "").await.unwrap().id;
    match frame(&tab.rx.recv().await) {
        ServerFrame::Event { event } => {
            assert_eq!((event.conversation_id, event.seq), (room, 1));
            assert!(matches!(event.body, EventBody::RoomCreated { .. }));
        }
        other => panic!("expected the creation event, got {other:?}"),
    }
    // And the tab now hears the room.
    let sent = f.chat.send_text(&alice, room, "c1", "hi").await.unwrap();
    assert!(matches!(frame(&tab.rx.recv().await), ServerFrame::Event { event } if event == sent));
}
