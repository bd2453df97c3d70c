//! Avatars over real HTTP and WebSocket: an upload is cropped to its centre
//! square, turned upright and stored at both sizes without its metadata;
//! served to anyone signed in with its validators; bad files are refused
//! with their codes and change nothing; a new avatar replaces the old one's
//! files, removing it goes back to the generated one; and every change is
//! pushed live to those who share a conversation.

mod common;

use common::pictures::{bomb_of, camera_jpeg_of, encode, SECRET};
use common::{Client, TestServer};
use image::{DynamicImage, GenericImageView, ImageFormat, Rgb, RgbImage};
use serde_json::Value;
use teahouse_protocol::{ServerFrame, UserBrief};

/// Red, green and blue bands of equal width, `w`×`h`.
fn bands(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, _| match 3 * x / w {
        0 => Rgb([255, 0, 0]),
        1 => Rgb([0, 255, 0]),
        _ => Rgb([0, 0, 255]),
    }))
}

/// A JPEG of 40×20 stored pixels, top half red and bottom half blue, whose
/// EXIF says "turn 90° clockwise to show" (orientation 6) and holds
/// [`SECRET`]: shown, it is 20×40 with blue on the left and red on the right.
fn sideways_photo() -> Vec<u8> {
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(40, 20, |_, y| {
        if y < 10 {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    }));
    camera_jpeg_of(&img, 95)
}

/// A small JPEG whose header claims 60000×60000 pixels (3.6 gigapixels).
fn bomb() -> Vec<u8> {
    bomb_of(&bands(16, 16))
}

/// Noise, which compresses badly: a PNG bigger than its pixel count.
fn noise_png(side: u32) -> Vec<u8> {
    let mut seed = 0x2545_f491_u32;
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(side, side, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        Rgb([seed as u8, (seed >> 8) as u8, (seed >> 16) as u8])
    }));
    encode(&img, ImageFormat::Png)
}

impl Client {
    /// `POST /api/upload/avatar` with `body`, claiming `content_type`.
    async fn upload_avatar(
        &self,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<Value, (u16, Value)> {
        let res = self
            .http
            .post(format!("{}/api/upload/avatar", self.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        if status == 200 {
            Ok(body)
        } else {
            Err((status, body))
        }
    }

    /// Sets `body` as the avatar; its id.
    async fn set_avatar(&self, body: Vec<u8>) -> String {
        let user = self
            .upload_avatar("image/png", body)
            .await
            .expect("avatar accepted");
        assert_eq!(user["id"].as_i64(), Some(self.id), "{user}");
        user["avatar"].as_str().expect("an avatar id").to_owned()
    }

    /// `GET path` with extra headers; status, headers, body.
    async fn get(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        (status, headers, res.bytes().await.unwrap().to_vec())
    }

    /// My avatar as the server says (`me`).
    async fn my_avatar(&self) -> Option<String> {
        let me = self.call("me", &[]).await.unwrap();
        me["avatar"].as_str().map(str::to_owned)
    }
}

/// Files under the media directory, by path relative to it.
fn media_files(server: &TestServer) -> Vec<String> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            if e.path().is_dir() {
                walk(root, &e.path(), out);
            } else {
                let rel = e.path().strip_prefix(root).unwrap().display().to_string();
                out.push(rel);
            }
        }
    }
    let root = server.data_dir().join("media");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}

/// The two files of avatar `id`.
fn files_of(id: &str) -> Vec<String> {
    vec![
        format!("avatars/{id}-128.jpg"),
        format!("avatars/{id}-256.jpg"),
    ]
}

fn near(px: image::Rgba<u8>, want: [u8; 3]) -> bool {
    px.0[..3]
        .iter()
        .zip(want)
        .all(|(&got, want)| got.abs_diff(want) < 60)
}

#[tokio::test]
async fn an_avatar_is_cropped_to_its_centre_and_served_at_both_sizes_to_anyone_signed_in() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    // 300×200: the centre square is x 50..250, a quarter red, half green,
    // a quarter blue.
    let id = alice
        .set_avatar(encode(&bands(300, 200), ImageFormat::Png))
        .await;
    assert_eq!(media_files(&server), files_of(&id));
    assert_eq!(alice.my_avatar().await.as_deref(), Some(id.as_str()));

    for side in [128u32, 256] {
        let path = format!("/avatar/{id}/{side}");
        // Someone else, signed in, who shares nothing but the lobby.
        let (status, headers, body) = bob.get(&path, &[]).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(headers["content-type"], "image/jpeg");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        let cache = headers["cache-control"].to_str().unwrap();
        assert!(
            cache.contains("private") && cache.contains("immutable"),
            "{cache}"
        );
        let etag = headers["etag"].to_str().unwrap().to_owned();
        let img = image::load_from_memory_with_format(&body, ImageFormat::Jpeg).unwrap();
        assert_eq!(img.dimensions(), (side, side));
        let (q, mid) = (side / 8, side / 2);
        assert!(near(img.get_pixel(q, mid), [255, 0, 0]), "left edge is red");
        assert!(
            near(img.get_pixel(mid, mid), [0, 255, 0]),
            "centre is green"
        );
        assert!(
            near(img.get_pixel(side - q, mid), [0, 0, 255]),
            "right edge is blue"
        );
        let (status, _, body) = bob.get(&path, &[("if-none-match", &etag)]).await;
        assert_eq!((status, body.len()), (304, 0));
    }
    // Signed out, a size that is not stored, an id of the wrong shape: 404.
    let stranger = Client::new(&server);
    for (who, path) in [
        (&stranger, format!("/avatar/{id}/128")),
        (&bob, format!("/avatar/{id}/64")),
        (&bob, format!("/avatar/{id}/x")),
        (&bob, "/avatar/..%2F..%2Fteahouse.db/128".to_owned()),
        (&bob, format!("/avatar/{}/128", "a".repeat(26))),
    ] {
        let (status, _, body) = who.get(&path, &[]).await;
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert_eq!(
            (status, json["code"].as_str()),
            (404, Some("not_found")),
            "{path}"
        );
    }

    // The avatar is on the user wherever they are drawn: messages (history
    // and the sender's answer), member lists, contact search.
    let lobby = alice.call("my_rooms", &[]).await.unwrap()[0]["id"]
        .as_i64()
        .unwrap();
    let sent = alice.send(lobby, "c-1", "hi").await.unwrap();
    assert_eq!(sent["actor"]["avatar"], id.as_str());
    let history = bob
        .call("history", &[("room_id", &lobby.to_string())])
        .await
        .unwrap();
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["actor"]["avatar"], id.as_str(), "{last}");
    let detail = bob
        .call("room_detail", &[("room_id", &lobby.to_string())])
        .await
        .unwrap();
    let member = detail["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"].as_i64() == Some(alice.id))
        .unwrap()
        .clone();
    assert_eq!(member["avatar"], id.as_str(), "{member}");
    let found = bob
        .call("search_contacts", &[("query", "alice")])
        .await
        .unwrap();
    assert_eq!(found[0]["avatar"], id.as_str(), "{found}");
    // Without an avatar the field is absent, as v1 clients know users.
    let bob_me = bob.call("me", &[]).await.unwrap();
    assert!(bob_me.get("avatar").is_none(), "{bob_me}");
}

#[tokio::test]
async fn a_photo_avatar_is_turned_upright_and_keeps_no_metadata() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let photo = sideways_photo();
    assert!(photo.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()));
    let id = alice.set_avatar(photo).await;
    let (status, _, body) = alice.get(&format!("/avatar/{id}/128"), &[]).await;
    assert_eq!(status, 200);
    assert!(
        !body.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
        "the EXIF text is not served"
    );
    assert!(!body.windows(4).any(|w| w == b"Exif"), "no EXIF at all");
    let img = image::load_from_memory_with_format(&body, ImageFormat::Jpeg).unwrap();
    // Shown upright: the stored top (red) is on the right.
    assert!(near(img.get_pixel(16, 64), [0, 0, 255]), "left is blue");
    assert!(near(img.get_pixel(112, 64), [255, 0, 0]), "right is red");
}

#[tokio::test]
async fn bad_avatars_are_refused_with_their_codes_and_change_nothing() {
    let server = TestServer::start_with(|c| c.max_image_bytes = 100_000).await;
    let alice = server.user("alice").await;
    let kept = alice
        .set_avatar(encode(&bands(90, 90), ImageFormat::Png))
        .await;
    let big = noise_png(256);
    assert!(big.len() > 100_000);
    let jpeg = encode(&bands(64, 64), ImageFormat::Jpeg);
    let svg =
        br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>"#.to_vec();
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n".to_vec();
    let html = b"<!DOCTYPE html><html><script>alert(document.cookie)</script>".to_vec();
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        ("SVG", "image/svg+xml", svg, 415, "media_type_unsupported"),
        (
            "PDF renamed .jpg",
            "image/jpeg",
            pdf,
            415,
            "media_type_unsupported",
        ),
        (
            "HTML claiming PNG",
            "image/png",
            html,
            415,
            "media_type_unsupported",
        ),
        ("empty", "image/png", Vec::new(), 422, "media_empty"),
        (
            "truncated JPEG",
            "image/jpeg",
            jpeg[..jpeg.len() / 2].to_vec(),
            422,
            "media_undecodable",
        ),
        ("too large", "image/png", big, 413, "media_too_large"),
        (
            "decompression bomb",
            "image/jpeg",
            bomb(),
            422,
            "media_dimensions_too_large",
        ),
    ];
    for (what, claimed, body, status, code) in cases {
        let (got, json) = alice.upload_avatar(claimed, body).await.expect_err(what);
        assert_eq!(
            (got, json["code"].as_str().unwrap_or("")),
            (status, code),
            "{what}: {json}"
        );
        assert!(json["message_zh"].is_string(), "{what}: {json}");
        assert_eq!(
            media_files(&server),
            files_of(&kept),
            "{what} left something behind"
        );
        assert_eq!(
            alice.my_avatar().await.as_deref(),
            Some(kept.as_str()),
            "{what}"
        );
    }
    let (status, _, _) = alice.get(&format!("/avatar/{kept}/256"), &[]).await;
    assert_eq!(status, 200, "the avatar kept is still served");

    // Signed out: refused before anything is written.
    let stranger = Client::new(&server);
    let (status, json) = stranger
        .upload_avatar("image/png", encode(&bands(30, 30), ImageFormat::Png))
        .await
        .unwrap_err();
    assert_eq!(
        (status, json["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    let (status, json) = stranger.call("remove_avatar", &[]).await.unwrap_err();
    assert_eq!(
        (status, json["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    assert_eq!(media_files(&server), files_of(&kept));
}

#[tokio::test]
async fn a_new_avatar_replaces_the_old_files_and_removing_it_goes_back_to_the_generated_one() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let first = alice
        .set_avatar(encode(&bands(60, 60), ImageFormat::Png))
        .await;
    let second = alice
        .set_avatar(encode(&bands(80, 40), ImageFormat::Jpeg))
        .await;
    assert_ne!(first, second, "a new upload is a new id");
    assert_eq!(
        media_files(&server),
        files_of(&second),
        "the first one's files are gone"
    );
    let (status, _, _) = alice.get(&format!("/avatar/{first}/128"), &[]).await;
    assert_eq!(status, 404);

    let me = alice.call("remove_avatar", &[]).await.unwrap();
    assert!(me.get("avatar").is_none(), "{me}");
    assert_eq!(alice.my_avatar().await, None);
    assert_eq!(media_files(&server), Vec::<String>::new());
    let (status, _, _) = alice.get(&format!("/avatar/{second}/128"), &[]).await;
    assert_eq!(status, 404);
    // Removing when there is none is fine and changes nothing.
    let me = alice.call("remove_avatar", &[]).await.unwrap();
    assert!(me.get("avatar").is_none(), "{me}");
}

#[tokio::test]
async fn avatar_changes_reach_open_conversations_live() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mut bobs = bob.connect().await;
    let mut alices = alice.connect().await;
    let id = alice
        .set_avatar(encode(&bands(50, 50), ImageFormat::Png))
        .await;
    let pushed = |frame: &ServerFrame| -> Option<UserBrief> {
        match frame {
            ServerFrame::UserUpdated { user } if user.id.0 == alice.id => Some(user.clone()),
            _ => None,
        }
    };
    for socket in [&mut bobs, &mut alices] {
        let frame = socket.until(|f| pushed(f).is_some()).await;
        let user = pushed(&frame).unwrap();
        assert_eq!(user.avatar.map(|a| a.0).as_deref(), Some(id.as_str()));
        assert_eq!(user.nickname, "alice-nick");
    }
    // The next message's actor carries it too (the session's user is fresh).
    let lobby = alice.call("my_rooms", &[]).await.unwrap()[0]["id"]
        .as_i64()
        .unwrap();
    alice.send(lobby, "c-live", "look").await.unwrap();
    let frame = bobs.until(|f| matches!(f, ServerFrame::Event { .. })).await;
    let ServerFrame::Event { event } = frame else {
        unreachable!()
    };
    assert_eq!(
        event.actor.avatar.map(|a| a.0).as_deref(),
        Some(id.as_str())
    );

    alice.call("remove_avatar", &[]).await.unwrap();
    let frame = bobs.until(|f| pushed(f).is_some()).await;
    assert_eq!(pushed(&frame).unwrap().avatar, None);
}
