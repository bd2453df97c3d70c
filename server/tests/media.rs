//! Media over real HTTP: uploads refused for every kind of bad file with
//! their codes and nothing left behind, pictures oriented and stripped of
//! their metadata, who may fetch a file, Range requests, and media sends
//! (idempotent, pushed with their MediaRef).

mod common;

use std::time::{Duration, Instant};

use common::pictures::{bomb_of, camera_jpeg_of, encode, SECRET};
use common::{Client, TestServer};
use image::{DynamicImage, ImageFormat, RgbImage};
use serde_json::Value;
use teahouse_protocol::{EventBody, MediaRef, MessageContent, ServerFrame};

/// A picture with some detail (noise compresses badly, so sizes are real).
fn picture(w: u32, h: u32) -> DynamicImage {
    let mut seed = 0x2545_f491_u32;
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        image::Rgb([(x * 4) as u8, (y * 4) as u8, (seed & 0xff) as u8])
    }))
}

/// A JPEG of `w`×`h` stored pixels carrying [`exif`].
fn camera_jpeg(w: u32, h: u32) -> Vec<u8> {
    camera_jpeg_of(&picture(w, h), 90)
}

/// A small JPEG whose header claims 60000×60000 pixels (3.6 gigapixels).
fn bomb() -> Vec<u8> {
    bomb_of(&picture(16, 16))
}

/// WebM as MediaRecorder starts one (EBML header, doctype "webm"), padded.
fn webm(len: usize) -> Vec<u8> {
    let mut v = vec![0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x84];
    v.extend_from_slice(b"webm");
    v.extend((0..len.saturating_sub(v.len())).map(|i| (i * 7 % 251) as u8));
    v
}

/// An MP4 file of top-level boxes: ftyp, moov, mdat of `mdat` bytes.
fn mp4(mdat: u32) -> Vec<u8> {
    let mut v = Vec::new();
    for (kind, size) in [(b"ftyp", 24u32), (b"moov", 200), (b"mdat", mdat)] {
        v.extend_from_slice(&size.to_be_bytes());
        v.extend_from_slice(kind);
        if kind == b"ftyp" {
            v.extend_from_slice(b"isom\0\0\x02\0isomiso2");
        }
        v.resize(
            v.len() + size as usize - 8 - if kind == b"ftyp" { 16 } else { 0 },
            0,
        );
    }
    v
}

impl Client {
    /// `POST /api/upload/{kind}?{query}` with `body`, claiming `content_type`.
    async fn upload(
        &self,
        kind: &str,
        query: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<Value, (u16, Value)> {
        let res = self
            .http
            .post(format!("{}/api/upload/{kind}?{query}", self.base))
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

    async fn upload_image(&self, bytes: Vec<u8>) -> MediaRef {
        let answer = self.upload("image", "", "image/jpeg", bytes).await.unwrap();
        serde_json::from_value(answer).unwrap()
    }

    async fn send_media(
        &self,
        room: i64,
        client_id: &str,
        media: &str,
    ) -> Result<Value, (u16, Value)> {
        self.call(
            "send_media",
            &[
                ("room_id", &room.to_string()),
                ("client_id", client_id),
                ("media_id", media),
            ],
        )
        .await
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
}

/// Files under the media directory (temporary ones included) and rows of
/// the media table.
async fn stored(server: &TestServer) -> (usize, i64) {
    fn count(dir: &std::path::Path) -> usize {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        entries
            .flatten()
            .map(|e| {
                if e.path().is_dir() {
                    count(&e.path())
                } else {
                    1
                }
            })
            .sum()
    }
    let files = count(&server.data_dir().join("media"));
    let url = format!(
        "sqlite://{}?mode=ro",
        server.data_dir().join("teahouse.db").display()
    );
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM media")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    (files, rows)
}

/// Polls `cond` until it holds (for what the server does after a client
/// has gone, which it cannot tell the client about).
async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    mut cond: impl FnMut() -> F,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A refused upload: what it is, kind, query, claimed type, body, expected
/// status and code.
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Vec<u8>,
    u16,
    &'static str,
);

#[tokio::test]
async fn every_bad_upload_is_refused_with_its_code_and_leaves_nothing() {
    let server = TestServer::start_with(|c| c.max_image_bytes = 100_000).await;
    let alice = server.user("alice").await;
    let png = encode(&picture(64, 64), ImageFormat::Png);
    let big_png = encode(&picture(256, 256), ImageFormat::Png);
    assert!(big_png.len() > 100_000);
    let jpeg = encode(&picture(64, 64), ImageFormat::Jpeg);
    let svg =
        br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>"#.to_vec();
    let html = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script>".to_vec();
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n".to_vec();
    let mut cut_mp4 = mp4(5000);
    cut_mp4.truncate(3000);
    let cases: Vec<Case> = vec![
        (
            "spoofed type",
            "image",
            "",
            "image/png",
            html.clone(),
            415,
            "media_type_unsupported",
        ),
        (
            "SVG",
            "image",
            "",
            "image/svg+xml",
            svg,
            415,
            "media_type_unsupported",
        ),
        (
            "HTML",
            "image",
            "",
            "text/html",
            html,
            415,
            "media_type_unsupported",
        ),
        (
            "PDF renamed .jpg",
            "image",
            "",
            "image/jpeg",
            pdf,
            415,
            "media_type_unsupported",
        ),
        (
            "picture as voice",
            "voice",
            "duration_ms=1000",
            "audio/webm",
            png.clone(),
            415,
            "media_type_unsupported",
        ),
        (
            "empty",
            "image",
            "",
            "image/png",
            Vec::new(),
            422,
            "media_empty",
        ),
        (
            "truncated PNG",
            "image",
            "",
            "image/png",
            png[..png.len() / 2].to_vec(),
            422,
            "media_undecodable",
        ),
        (
            "truncated JPEG",
            "image",
            "",
            "image/jpeg",
            jpeg[..jpeg.len() / 2].to_vec(),
            422,
            "media_undecodable",
        ),
        (
            "truncated MP4",
            "video",
            "duration_ms=1000",
            "video/mp4",
            cut_mp4,
            422,
            "media_undecodable",
        ),
        (
            "too large",
            "image",
            "",
            "image/png",
            big_png,
            413,
            "media_too_large",
        ),
        (
            "decompression bomb",
            "image",
            "",
            "image/jpeg",
            bomb(),
            422,
            "media_dimensions_too_large",
        ),
        (
            "voice too long",
            "voice",
            "duration_ms=61000",
            "audio/webm",
            webm(2000),
            422,
            "media_too_long",
        ),
        (
            "voice without duration",
            "voice",
            "",
            "audio/webm",
            webm(2000),
            422,
            "bad_request",
        ),
        (
            "unknown kind",
            "sticker",
            "",
            "image/png",
            png.clone(),
            404,
            "not_found",
        ),
    ];
    for (what, kind, query, claimed, body, status, code) in cases {
        let refused = alice.upload(kind, query, claimed, body).await;
        let (got_status, json) = refused.expect_err(what);
        assert_eq!(
            (got_status, json["code"].as_str().unwrap_or("")),
            (status, code),
            "{what}: {json}"
        );
        assert!(json["message_zh"].is_string(), "{what}: {json}");
        assert_eq!(
            stored(&server).await,
            (0, 0),
            "{what} left something behind"
        );
    }
    // Signed out: refused before anything is written.
    let stranger = Client::new(&server);
    let (status, json) = stranger
        .upload("image", "", "image/png", png.clone())
        .await
        .unwrap_err();
    assert_eq!(
        (status, json["code"].as_str().unwrap()),
        (401, "unauthenticated")
    );
    // The same picture, well formed, is accepted (the refusals above were
    // about the files, not the route).
    let ok = alice.upload("image", "", "image/png", png).await.unwrap();
    assert_eq!(ok["mime"], "image/png");
    assert_eq!(
        stored(&server).await,
        (2, 1),
        "the file and its thumbnail, one row"
    );
}

#[tokio::test]
async fn an_upload_that_stops_half_way_leaves_nothing() {
    use tokio::io::AsyncWriteExt;
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let png = encode(&picture(256, 256), ImageFormat::Png);
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /api/upload/image HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nContent-Length: {}\r\n\r\n",
        server.addr,
        alice.cookie().unwrap(),
        png.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&png[..png.len() / 2]).await.unwrap();
    tcp.flush().await.unwrap();
    eventually("the upload's temporary file", || async {
        stored(&server).await.0 == 1
    })
    .await;
    drop(tcp);
    eventually("nothing left", || async { stored(&server).await == (0, 0) }).await;
    // The aborted upload's slot is free again: three more go through.
    for _ in 0..3 {
        alice
            .upload("image", "", "image/png", png.clone())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn photos_are_shown_upright_and_served_without_their_exif() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    // Stored 64 wide and 32 high, to be shown turned: 32 × 64.
    let photo = camera_jpeg(64, 32);
    assert!(photo.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()));
    let media = alice.upload_image(photo).await;
    assert_eq!(
        (media.mime.as_str(), media.width, media.height),
        ("image/jpeg", Some(32), Some(64))
    );

    let (status, headers, body) = alice.get(&format!("/media/{}", media.id), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["content-disposition"], "inline");
    assert!(headers["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("private"));
    assert_eq!(body.len() as u64, media.bytes);
    assert!(
        !body.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
        "EXIF served"
    );
    assert!(!body.windows(4).any(|w| w == b"Exif"), "EXIF served");
    let shown = image::load_from_memory(&body).unwrap();
    assert_eq!((shown.width(), shown.height()), (32, 64));

    let (status, headers, body) = alice.get(&format!("/media/{}/thumb", media.id), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/jpeg");
    let thumb = image::load_from_memory(&body).unwrap();
    assert_eq!(
        (thumb.width(), thumb.height()),
        (32, 64),
        "small pictures keep their size"
    );

    // A large one gets a thumbnail of 480 px on its longest side.
    let big = alice
        .upload_image(encode(&picture(1200, 600), ImageFormat::Jpeg))
        .await;
    let (_, _, body) = alice.get(&format!("/media/{}/thumb", big.id), &[]).await;
    let thumb = image::load_from_memory(&body).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (480, 240));
}

#[tokio::test]
async fn media_are_served_only_to_those_who_may_read_them() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let room = alice.create_room("photos").await;
    carol.join(room).await;
    let stranger = Client::new(&server);
    let media = alice
        .upload_image(encode(&picture(40, 30), ImageFormat::Png))
        .await;
    let file = format!("/media/{}", media.id);
    let thumb = format!("{file}/thumb");
    let status = |c: &Client, path: String| {
        let c = c.http.get(format!("{}{path}", c.base));
        async move { c.send().await.unwrap().status().as_u16() }
    };

    // Unsent: the uploader only.
    assert_eq!(status(&alice, file.clone()).await, 200);
    for who in [&bob, &carol, &stranger] {
        assert_eq!(status(who, file.clone()).await, 404);
        assert_eq!(status(who, thumb.clone()).await, 404);
    }
    // Nobody else may send it either (and is not told it exists).
    let (code, json) = bob.send_media(room, "b1", &media.id.0).await.unwrap_err();
    assert_eq!((code, json["code"].as_str().unwrap()), (404, "not_found"));

    // Bob's own upload cannot go to a room he is not in, and stays his.
    let his = bob
        .upload_image(encode(&picture(8, 8), ImageFormat::Png))
        .await;
    let (code, json) = bob.send_media(room, "b2", &his.id.0).await.unwrap_err();
    assert_eq!((code, json["code"].as_str().unwrap()), (403, "not_member"));
    assert_eq!(status(&bob, format!("/media/{}", his.id)).await, 200);
    assert_eq!(status(&alice, format!("/media/{}", his.id)).await, 404);

    // Sent to the room: its members.
    alice.send_media(room, "a1", &media.id.0).await.unwrap();
    for who in [&alice, &carol] {
        assert_eq!(status(who, file.clone()).await, 200);
        assert_eq!(status(who, thumb.clone()).await, 200);
    }
    for who in [&bob, &stranger] {
        assert_eq!(status(who, file.clone()).await, 404);
        assert_eq!(status(who, thumb.clone()).await, 404);
    }
    // After leaving, no more.
    carol
        .call("leave_room", &[("room_id", &room.to_string())])
        .await
        .unwrap();
    assert_eq!(status(&carol, file.clone()).await, 404);
    assert_eq!(status(&carol, thumb).await, 404);

    // Ids that do not exist, or are not ids, look the same.
    for path in [
        "/media/abcdefghijklmnopqrstuvwxyz",
        "/media/..%2f..%2fteahouse.db",
        "/media/x",
    ] {
        assert_eq!(status(&alice, path.into()).await, 404, "{path}");
    }
}

#[tokio::test]
async fn voice_clips_are_served_in_ranges_with_validators() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let clip = webm(20_000);
    let answer = alice
        .upload("voice", "duration_ms=7000", "video/webm", clip.clone())
        .await
        .unwrap();
    let media: MediaRef = serde_json::from_value(answer).unwrap();
    assert_eq!(
        (media.mime.as_str(), media.duration_ms, media.bytes),
        ("audio/webm", Some(7000), 20_000)
    );
    let path = format!("/media/{}", media.id);

    let (status, headers, body) = alice.get(&path, &[("range", "bytes=0-99")]).await;
    assert_eq!(status, 206);
    assert_eq!(headers["content-range"], "bytes 0-99/20000");
    assert_eq!(headers["content-type"], "audio/webm");
    assert_eq!(body, clip[..100]);
    // Seeking again, then to the end.
    let (status, _, body) = alice.get(&path, &[("range", "bytes=15000-15999")]).await;
    assert_eq!((status, body.as_slice()), (206, &clip[15000..16000]));
    let (status, headers, body) = alice.get(&path, &[("range", "bytes=19990-")]).await;
    assert_eq!((status, body.as_slice()), (206, &clip[19990..]));
    assert_eq!(headers["content-range"], "bytes 19990-19999/20000");
    let (status, _, _) = alice.get(&path, &[("range", "bytes=30000-")]).await;
    assert_eq!(status, 416);

    // The whole file, never compressed, with a validator that answers 304.
    let (status, headers, body) = alice.get(&path, &[("accept-encoding", "gzip")]).await;
    assert_eq!((status, body.len()), (200, 20_000));
    assert!(headers.get("content-encoding").is_none());
    assert_eq!(headers["accept-ranges"], "bytes");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let (status, headers, body) = alice.get(&path, &[("if-none-match", &etag)]).await;
    assert_eq!((status, body.len()), (304, 0));
    assert_eq!(headers["etag"].to_str().unwrap(), etag);
}

#[tokio::test]
async fn media_sends_are_idempotent_sent_once_and_pushed_with_their_media() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let room = alice.create_room("clips").await;
    bob.join(room).await;
    let mut socket = bob.connect().await;
    let video: MediaRef = serde_json::from_value(
        alice
            .upload("video", "duration_ms=4000", "video/mp4", mp4(10_000))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(video.mime, "video/mp4");

    let first = alice.send_media(room, "v1", &video.id.0).await.unwrap();
    let again = alice.send_media(room, "v1", &video.id.0).await.unwrap();
    assert_eq!(first, again, "a retry returns the stored event");
    assert_eq!(first["body"]["msgtype"], "video");
    let (status, json) = alice.send_media(room, "v2", &video.id.0).await.unwrap_err();
    assert_eq!(
        (status, json["code"].as_str().unwrap()),
        (409, "media_already_sent")
    );

    let pushed = socket
        .until(|f| matches!(f, ServerFrame::Event { event } if matches!(event.body, EventBody::Message(_))))
        .await;
    let ServerFrame::Event { event } = pushed else {
        unreachable!()
    };
    match &event.body {
        EventBody::Message(m) => assert_eq!(m.content, MessageContent::Video(video.clone())),
        other => panic!("{other:?}"),
    }
    assert_eq!(event.seq, first["seq"].as_i64().unwrap());
    let later: Vec<_> = socket.frames_until_pong().await;
    assert!(
        !later.iter().any(|f| matches!(f, ServerFrame::Event { .. })),
        "pushed once: {later:?}"
    );
    let history = bob.events_after(room, 0).await;
    let media_messages = history
        .iter()
        .filter(|e| matches!(&e.body, EventBody::Message(m) if m.content.media().is_some()))
        .count();
    assert_eq!(media_messages, 1);
}
