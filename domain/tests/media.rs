//! Media against a real store and a real media directory: limits while
//! streaming, per-user upload slots, one send per upload also inside one
//! batch, and the sweep of uploads never sent.

use std::sync::Arc;
use std::time::Duration;

use teahouse_domain::accounts::NewAccount;
use teahouse_domain::log::Page;
use teahouse_domain::{Chat, ChatConfig, MediaConfig, MediaKind, SqliteStore};
use teahouse_protocol::{ErrorCode, MediaRef, UserBrief};

struct Fixture {
    chat: Arc<Chat>,
    dir: tempfile::TempDir,
}

async fn fixture(tweak: impl FnOnce(&mut MediaConfig)) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = Arc::new(SqliteStore::open(&url).await.unwrap());
    let mut media = MediaConfig::new(dir.path().join("media"));
    tweak(&mut media);
    let config = ChatConfig {
        sends_per_sec: 0,
        media,
        ..ChatConfig::default()
    };
    Fixture {
        chat: Chat::start(store, config).await.unwrap(),
        dir,
    }
}

impl Fixture {
    /// Files in the media directory, temporary ones included.
    fn files(&self) -> usize {
        let media = self.dir.path().join("media");
        let count = |d: std::path::PathBuf| {
            std::fs::read_dir(d)
                .map(|e| e.flatten().filter(|e| e.path().is_file()).count())
                .unwrap_or(0)
        };
        count(media.clone()) + count(media.join("tmp"))
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

/// The start of a WebM recording, padded to `len` bytes.
fn webm(len: usize) -> Vec<u8> {
    let mut v = vec![0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x84];
    v.extend_from_slice(b"webm");
    v.resize(len, 0x55);
    v
}

/// Uploads a voice clip of `len` bytes, in 1 KB pieces.
async fn voice(chat: &Chat, who: &UserBrief, len: usize) -> MediaRef {
    let mut up = chat
        .start_upload(who, MediaKind::Voice, None, Some(3000))
        .unwrap();
    for piece in webm(len).chunks(1024) {
        up.write(piece).await.unwrap();
    }
    chat.finish_upload(up).await.unwrap()
}

fn code(e: teahouse_domain::DomainError) -> ErrorCode {
    e.to_api().code
}

#[tokio::test]
async fn a_body_that_passes_the_limit_is_cut_off_as_it_streams() {
    let f = fixture(|m| m.voice_max_bytes = 10_000).await;
    let alice = user(&f.chat, "alice").await;
    // No declared length (a chunked body): refused at the piece that passes it.
    let mut up = f
        .chat
        .start_upload(&alice, MediaKind::Voice, None, Some(1000))
        .unwrap();
    let bytes = webm(20_000);
    let mut refused = None;
    for (i, piece) in bytes.chunks(1024).enumerate() {
        if let Err(e) = up.write(piece).await {
            refused = Some((i, code(e)));
            break;
        }
    }
    assert_eq!(refused, Some((9, ErrorCode::MediaTooLarge)));
    assert_eq!(
        f.files(),
        1,
        "the partial file, until the upload is dropped"
    );
    drop(up);
    assert_eq!(f.files(), 0);
    // A declared length over the limit is refused before a byte is read.
    let early = f
        .chat
        .start_upload(&alice, MediaKind::Voice, Some(10_001), Some(1000))
        .unwrap_err();
    assert_eq!(code(early), ErrorCode::MediaTooLarge);
    assert_eq!(f.files(), 0);
}

#[tokio::test]
async fn a_user_has_a_few_upload_slots_at_once() {
    let f = fixture(|m| m.uploads_per_user = 2).await;
    let alice = user(&f.chat, "alice").await;
    let bob = user(&f.chat, "bob").await;
    let start = |who: &UserBrief| f.chat.start_upload(who, MediaKind::Image, None, None);
    let first = start(&alice).unwrap();
    let _second = start(&alice).unwrap();
    assert_eq!(code(start(&alice).unwrap_err()), ErrorCode::RateLimited);
    // Others are not held up by alice.
    let _bobs = start(&bob).unwrap();
    drop(first);
    let _third = start(&alice).unwrap();
}

#[tokio::test]
async fn an_upload_is_sent_once_even_by_two_sends_in_one_batch() {
    let f = fixture(|_| {}).await;
    let alice = user(&f.chat, "alice").await;
    let room = f.chat.create_room(&alice, "clips", "").await.unwrap().id;
    let clip = voice(&f.chat, &alice, 5000).await;
    let before = f
        .chat
        .send_text(&alice, room, "t0", "before")
        .await
        .unwrap();

    use std::sync::atomic::Ordering;
    let stats = f.chat.writer_stats();
    let (commits, queued) = (
        stats.commits.load(Ordering::Relaxed),
        stats.queued.load(Ordering::Relaxed),
    );
    let paused = f.chat.pause_writes().await;
    let tasks: Vec<_> = ["v1", "v2"]
        .into_iter()
        .map(|client_id| {
            let (chat, alice, id) = (f.chat.clone(), alice.clone(), clip.id.0.clone());
            tokio::spawn(async move { chat.send_media(&alice, room, client_id, &id).await })
        })
        .collect();
    // Each send first looks its upload up; once both are in the writer's
    // queue, the writer takes them in one batch when writes resume.
    while stats.queued.load(Ordering::Relaxed) < queued + 2 {
        tokio::task::yield_now().await;
    }
    drop(paused);
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert_eq!(
        f.chat.writer_stats().commits.load(Ordering::Relaxed),
        commits + 1,
        "the two sends were meant to share one batch"
    );
    let (ok, refused): (Vec<_>, Vec<_>) = answers.into_iter().partition(|a| a.is_ok());
    assert_eq!(
        (ok.len(), refused.len()),
        (1, 1),
        "exactly one send stores it"
    );
    let sent = ok.into_iter().next().unwrap().unwrap();
    assert_eq!(sent.seq, before.seq + 1);
    let refused = refused.into_iter().next().unwrap().unwrap_err();
    assert_eq!(code(refused), ErrorCode::MediaAlreadySent);
    // No gap where the refused send would have gone.
    let after = f.chat.send_text(&alice, room, "t1", "after").await.unwrap();
    assert_eq!(after.seq, sent.seq + 1);
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
    let seqs: Vec<i64> = log.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=after.seq).collect::<Vec<_>>());
}

#[tokio::test]
async fn uploads_never_sent_are_swept_and_sent_ones_stay() {
    let f = fixture(|m| m.unsent_ttl = Duration::ZERO).await;
    let alice = user(&f.chat, "alice").await;
    let room = f.chat.create_room(&alice, "clips", "").await.unwrap().id;
    let kept = voice(&f.chat, &alice, 2000).await;
    let dropped = voice(&f.chat, &alice, 2000).await;
    f.chat
        .send_media(&alice, room, "k", &kept.id.0)
        .await
        .unwrap();
    assert_eq!(f.files(), 2);
    // Stored in the same millisecond as the sweep's cut-off is not older.
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(f.chat.sweep_unsent_media().await.unwrap(), 1);
    assert_eq!(f.files(), 1);
    let gone = f
        .chat
        .media_file(Some(alice.id), &dropped.id.0, false)
        .await;
    assert_eq!(code(gone.unwrap_err()), ErrorCode::NotFound);
    let served = f
        .chat
        .media_file(Some(alice.id), &kept.id.0, false)
        .await
        .unwrap();
    assert!(served.path.exists());
    // A swept upload cannot be sent any more.
    let late = f.chat.send_media(&alice, room, "d", &dropped.id.0).await;
    assert_eq!(code(late.unwrap_err()), ErrorCode::NotFound);
    assert_eq!(f.chat.sweep_unsent_media().await.unwrap(), 0);
}
