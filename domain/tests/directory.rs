//! The public room directory against a real SQLite file: cursor pages that
//! neither skip nor repeat, and search by name.

use std::collections::HashMap;
use std::sync::Arc;

use teahouse_domain::accounts::NewAccount;
use teahouse_domain::{Chat, ChatConfig, SqliteStore};
use teahouse_protocol::{ConversationId, ErrorCode, RoomPage, UserBrief};

struct Fixture {
    chat: Arc<Chat>,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = Arc::new(SqliteStore::open(&url).await.unwrap());
    let config = ChatConfig {
        sends_per_sec: 0,
        ..ChatConfig::default()
    };
    Fixture {
        chat: Chat::start(store, config).await.unwrap(),
        _dir: dir,
    }
}

async fn user(chat: &Chat, name: &str) -> UserBrief {
    chat.register(NewAccount {
        username: name.into(),
        nickname: name.into(),
        password: "tea-leaves-42".into(),
    })
    .await
    .unwrap()
}

async fn page(chat: &Chat, who: &UserBrief, query: &str, cursor: Option<&str>) -> RoomPage {
    chat.public_rooms(who.id, query, cursor, Some(100))
        .await
        .unwrap()
}

/// Every page of `query`, following the cursors to the end.
async fn all_pages(chat: &Chat, who: &UserBrief, query: &str) -> Vec<RoomPage> {
    let mut pages = vec![page(chat, who, query, None).await];
    while let Some(cursor) = pages.last().unwrap().next_cursor.clone() {
        pages.push(page(chat, who, query, Some(&cursor)).await);
        assert!(pages.len() < 100, "paging does not end");
    }
    pages
}

fn names(page: &RoomPage) -> Vec<&str> {
    page.rooms.iter().map(|r| r.name.as_str()).collect()
}

#[tokio::test]
async fn paging_through_250_rooms_lists_each_exactly_once_largest_first() {
    let f = fixture().await;
    let owner = user(&f.chat, "owner").await;
    let joiners = [
        user(&f.chat, "joiner1").await,
        user(&f.chat, "joiner2").await,
    ];
    let mut created = Vec::new();
    for i in 0..250 {
        let room = f
            .chat
            .create_room(&owner, &format!("room {i}"), "")
            .await
            .unwrap();
        // Spread the member counts (1, 2 or 3) so the order interleaves ids.
        for j in joiners.iter().take(i % 3) {
            f.chat.join_room(j, room.id).await.unwrap();
        }
        created.push(room.id);
    }

    let pages = all_pages(&f.chat, &owner, "").await;
    // 250 rooms + the lobby, at 100 per page.
    assert_eq!(
        pages.iter().map(|p| p.rooms.len()).collect::<Vec<_>>(),
        [100, 100, 51]
    );
    assert!(pages[2].next_cursor.is_none());
    let listed: Vec<_> = pages.iter().flat_map(|p| &p.rooms).collect();
    let mut seen: HashMap<ConversationId, usize> = HashMap::new();
    for room in &listed {
        *seen.entry(room.id).or_default() += 1;
    }
    for id in &created {
        assert_eq!(seen.get(id), Some(&1), "room {id}");
    }
    assert_eq!(seen.len(), 251);
    // The lobby (4 members) leads; then member count down, id up.
    assert_eq!(listed[0].member_count, 4);
    for pair in listed.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        assert!(
            (a.member_count, -a.id.0) > (b.member_count, -b.id.0),
            "{} ({}) before {} ({})",
            a.id,
            a.member_count,
            b.id,
            b.member_count
        );
    }
    // The member counts are the real ones.
    let sample = listed.iter().find(|r| r.id == created[2]).unwrap();
    assert_eq!(sample.member_count, 3);
    assert!(sample.joined);
    // Leaving moves the count back down.
    f.chat.leave_room(&joiners[0], created[2]).await.unwrap();
    let after_leave = page(&f.chat, &owner, "room 2", None).await;
    let room = after_leave
        .rooms
        .iter()
        .find(|r| r.id == created[2])
        .unwrap();
    assert_eq!(room.member_count, 2);
    let outsider = user(&f.chat, "outsider").await;
    let theirs = page(&f.chat, &outsider, "room 2", None).await;
    assert!(theirs.rooms.iter().all(|r| !r.joined));
}

#[tokio::test]
async fn rooms_whose_count_does_not_change_are_listed_once_while_others_join_and_leave() {
    let f = fixture().await;
    let owner = user(&f.chat, "owner").await;
    let mover = user(&f.chat, "mover").await;
    let mut ids = Vec::new();
    for i in 0..150 {
        ids.push(
            f.chat
                .create_room(&owner, &format!("r{i}"), "")
                .await
                .unwrap()
                .id,
        );
    }
    let first = page(&f.chat, &owner, "", None).await;
    let seen_first: Vec<ConversationId> = first.rooms.iter().map(|r| r.id).collect();
    // Between the pages, a room not yet listed and one already listed each
    // gain a member, and so move within the order.
    let unseen = *ids
        .iter()
        .rev()
        .find(|id| !seen_first.contains(id))
        .unwrap();
    let listed = seen_first[seen_first.len() / 2];
    f.chat.join_room(&mover, unseen).await.unwrap();
    f.chat.join_room(&mover, listed).await.unwrap();
    let second = page(&f.chat, &owner, "", first.next_cursor.as_deref()).await;
    assert!(second.next_cursor.is_none());
    let mut count: HashMap<ConversationId, usize> = HashMap::new();
    for r in first.rooms.iter().chain(&second.rooms) {
        *count.entry(r.id).or_default() += 1;
    }
    for id in ids.iter().filter(|id| ![unseen, listed].contains(id)) {
        assert_eq!(count.get(id), Some(&1), "room {id}");
    }
}

#[tokio::test]
async fn search_is_a_case_insensitive_substring_with_literal_wildcards() {
    let f = fixture().await;
    let owner = user(&f.chat, "owner").await;
    for name in [
        "Green Tea 绿茶",
        "乌龙 Oolong",
        "100% pure",
        "1000 pure",
        "a_b",
        "axb",
        "ÄRGER",
        "红茶 Black tea",
    ] {
        f.chat.create_room(&owner, name, "").await.unwrap();
    }
    let cases: [(&str, &[&str]); 9] = [
        ("TEA", &["Green Tea 绿茶", "红茶 Black tea"]),
        ("绿茶", &["Green Tea 绿茶"]),
        ("茶", &["Green Tea 绿茶", "红茶 Black tea"]),
        ("oOLONG", &["乌龙 Oolong"]),
        ("%", &["100% pure"]),
        ("_", &["a_b"]),
        ("ärger", &["ÄRGER"]),
        ("  pure ", &["100% pure", "1000 pure"]),
        ("nothing like it", &[]),
    ];
    for (query, want) in cases {
        let mut got = names(&page(&f.chat, &owner, query, None).await)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        got.sort();
        let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(got, want, "query {query:?}");
    }
    // An empty query lists everything (8 rooms + the lobby).
    assert_eq!(page(&f.chat, &owner, " ", None).await.rooms.len(), 9);
}

#[tokio::test]
async fn search_pages_too_and_bad_queries_and_cursors_are_refused() {
    let f = fixture().await;
    let owner = user(&f.chat, "owner").await;
    for i in 0..5 {
        f.chat
            .create_room(&owner, &format!("Tea {i}"), "")
            .await
            .unwrap();
        f.chat
            .create_room(&owner, &format!("Coffee {i}"), "")
            .await
            .unwrap();
    }
    let first = f
        .chat
        .public_rooms(owner.id, "tea", None, Some(3))
        .await
        .unwrap();
    assert_eq!(names(&first), ["Tea 0", "Tea 1", "Tea 2"]);
    let rest = f
        .chat
        .public_rooms(owner.id, "tea", first.next_cursor.as_deref(), Some(3))
        .await
        .unwrap();
    assert_eq!(names(&rest), ["Tea 3", "Tea 4"]);
    assert!(rest.next_cursor.is_none());

    let code = |e: teahouse_domain::DomainError| e.to_api();
    let e = code(
        f.chat
            .public_rooms(owner.id, &"茶".repeat(41), None, None)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::QueryTooLong, Some("query"))
    );
    let e = code(
        f.chat
            .public_rooms(owner.id, "", Some("drop table"), None)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::BadRequest, Some("cursor"))
    );
}
