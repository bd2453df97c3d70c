//! Avatars against a real store and a real media directory: concurrent
//! replacements leave exactly the files of the avatar that won, and files
//! a crash left without their row are removed at the next start (and only
//! those).

use std::io::Cursor;
use std::sync::Arc;

use image::{DynamicImage, ImageFormat, RgbImage};
use teahouse_domain::accounts::NewAccount;
use teahouse_domain::{Chat, ChatConfig, MediaConfig, SqliteStore};
use teahouse_protocol::{MediaId, UserBrief};

/// A chat service on the database and media directory under `dir`.
async fn start(dir: &std::path::Path) -> Arc<Chat> {
    let url = format!("sqlite://{}", dir.join("t.db").display());
    let store = Arc::new(SqliteStore::open(&url).await.unwrap());
    let config = ChatConfig {
        sends_per_sec: 0,
        media: MediaConfig::new(dir.join("media")),
        ..ChatConfig::default()
    };
    Chat::start(store, config).await.unwrap()
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

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([x as u8, y as u8, 90])
    }));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Sets `bytes` as `who`'s avatar, streamed in 1 KB pieces.
async fn set_avatar(chat: &Chat, who: &UserBrief, bytes: Vec<u8>) -> UserBrief {
    let mut up = chat.start_avatar_upload(who, None).unwrap();
    for piece in bytes.chunks(1024) {
        up.write(piece).await.unwrap();
    }
    chat.finish_avatar_upload(up).await.unwrap()
}

/// File names in `<media>/avatars`, sorted.
fn avatar_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("media/avatars"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().into_string().unwrap())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn files_of(id: &MediaId) -> Vec<String> {
    vec![format!("{id}-128.jpg"), format!("{id}-256.jpg")]
}

#[tokio::test]
async fn concurrent_replacements_leave_only_the_winners_files() {
    let dir = tempfile::tempdir().unwrap();
    let chat = start(dir.path()).await;
    let alice = user(&chat, "alice").await;
    set_avatar(&chat, &alice, png(40, 40)).await;
    let (a, b) = tokio::join!(
        set_avatar(&chat, &alice, png(50, 30)),
        set_avatar(&chat, &alice, png(30, 50)),
    );
    assert_ne!(a.avatar, b.avatar);
    let now = chat.user(alice.id).await.unwrap().unwrap();
    let winner = now.avatar.expect("an avatar");
    assert!(Some(&winner) == a.avatar.as_ref() || Some(&winner) == b.avatar.as_ref());
    assert_eq!(avatar_files(dir.path()), files_of(&winner));
}

#[tokio::test]
async fn files_a_crash_left_without_their_row_are_removed_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let chat = start(dir.path()).await;
    let alice = user(&chat, "alice").await;
    let kept = set_avatar(&chat, &alice, png(64, 64)).await.avatar.unwrap();
    // As if a server had kept the files of an upload and died before
    // recording it; and a file that is no avatar of ours.
    let orphan = MediaId("q".repeat(26));
    let avatars = dir.path().join("media/avatars");
    for name in files_of(&orphan) {
        std::fs::write(avatars.join(name), b"jpeg").unwrap();
    }
    std::fs::write(avatars.join("README"), b"not an avatar").unwrap();

    let restarted = start(dir.path()).await;
    let mut want = files_of(&kept);
    want.push("README".into());
    want.sort();
    assert_eq!(avatar_files(dir.path()), want);
    let alice = restarted.user(alice.id).await.unwrap().unwrap();
    assert_eq!(alice.avatar, Some(kept));
}
