//! Media bench: what uploads cost the rest of the server. Starts the
//! release `teahouse` binary pinned to core 0 (`taskset -c 0`), drives it
//! from this process (on the other core) and prints:
//!
//! 1. text-send latency (p50/p99 of `send_message`, 4 senders, 50 members
//!    connected) alone, then while 4 large video uploads stream and 2
//!    clients upload photos in a loop (thumbnails being made), same run;
//! 2. the server's RSS growth per concurrent upload (8 uploads held open
//!    half way through 40 MB each);
//! 3. photo uploads (12 MP JPEG, decoded, re-encoded, thumbnailed) per
//!    second on that one core.
//!
//! `cargo build --release -p server --bin teahouse && cargo run -p server
//! --example media_bench -- <path to the release teahouse>`

use std::io::Cursor;
use std::time::{Duration, Instant};

use futures::StreamExt;
use image::{DynamicImage, ImageFormat, RgbImage};
use tokio::io::AsyncWriteExt;

const PASSWORD: &str = "tea-leaves-42";

struct Client {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

async fn register(base: &str, name: &str) -> Client {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let res = http
        .post(format!("{base}/api/register"))
        .form(&[
            ("username", name),
            ("nickname", name),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_success(),
        "register {name}: {}",
        res.status()
    );
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("teahouse_sid="))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .expect("session cookie");
    Client {
        http,
        base: base.to_owned(),
        cookie,
    }
}

fn photo(w: u32, h: u32) -> Vec<u8> {
    let mut seed = 0x9e37_79b9_u32;
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let n = (seed & 0x1f) as u8;
        image::Rgb([(x / 16) as u8 ^ n, (y / 12) as u8, ((x + y) / 28) as u8 ^ n])
    }));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

fn mp4(len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(&24u32.to_be_bytes());
    v.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2");
    v.extend_from_slice(&200u32.to_be_bytes());
    v.extend_from_slice(b"moov");
    v.resize(224, 0);
    v.extend_from_slice(&((len - 224) as u32).to_be_bytes());
    v.extend_from_slice(b"mdat");
    v.resize(len, 0x42);
    v
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap()
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

/// `senders` × `per_sender` text sends; their latencies, sorted.
async fn text_latencies(
    senders: &[Client],
    room: i64,
    per_sender: usize,
    tag: &str,
) -> Vec<Duration> {
    let tasks = senders.iter().enumerate().map(|(s, c)| async move {
        let mut lat = Vec::with_capacity(per_sender);
        for i in 0..per_sender {
            let t = Instant::now();
            let res = c
                .http
                .post(format!("{}/api/send_message", c.base))
                .form(&[
                    ("room_id", room.to_string()),
                    ("client_id", format!("{tag}-{s}-{i}")),
                    ("text", format!("message {i}")),
                ])
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success());
            res.bytes().await.unwrap();
            lat.push(t.elapsed());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        lat
    });
    let mut all: Vec<Duration> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .flatten()
        .collect();
    all.sort();
    all
}

/// Raw upload that sends `len` bytes of `body` in 64 KB pieces, pausing
/// `pause` between pieces; returns once the answer is read.
async fn raw_upload(addr: &str, cookie: &str, path: &str, body: &[u8], pause: Duration) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    for piece in body.chunks(64 * 1024) {
        tcp.write_all(piece).await.unwrap();
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
    let mut answer = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut tcp, &mut answer)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.starts_with("HTTP/1.1 200"),
        "{}",
        &text[..text.len().min(300)]
    );
}

#[tokio::main]
async fn main() {
    let bin = std::env::args()
        .nth(1)
        .expect("path to the release teahouse binary");
    let data = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new("taskset")
        .args([
            "-c",
            "0",
            &bin,
            "--addr",
            "127.0.0.1:39871",
            "--sends-per-sec",
            "0",
            "--uploads-per-min",
            "0",
        ])
        .arg("--data-dir")
        .arg(data.path())
        // Further arguments go to the server (e.g. `--decode-nice 0`).
        .args(std::env::args().skip(2))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let addr = "127.0.0.1:39871";
    let base = format!("http://{addr}");
    let ready = Instant::now();
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        assert!(
            ready.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let owner = register(&base, "owner").await;
    let room: serde_json::Value = owner
        .http
        .post(format!("{base}/api/create_room"))
        .form(&[("name", "busy"), ("description", "")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let room = room["id"].as_i64().unwrap();
    let mut senders = Vec::new();
    let mut sockets = Vec::new();
    for i in 0..50 {
        let c = register(&base, &format!("member{i}")).await;
        c.http
            .post(format!("{base}/api/join_room"))
            .form(&[("room_id", room.to_string())])
            .send()
            .await
            .unwrap();
        let mut req =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                format!("ws://{addr}/ws"),
            )
            .unwrap();
        req.headers_mut()
            .insert("cookie", c.cookie.parse().unwrap());
        let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        // Drain every socket so nobody is cut off as slow.
        sockets.push(tokio::spawn(async move {
            let mut ws = ws;
            while let Some(Ok(_)) = ws.next().await {}
        }));
        if i < 4 {
            senders.push(c);
        }
    }
    // One user per concurrent upload (a user may stream 3 at once).
    let mut uploaders = Vec::new();
    for i in 0..8 {
        uploaders.push(register(&base, &format!("uploader{i}")).await);
    }
    let photographer = [
        register(&base, "photo1").await,
        register(&base, "photo2").await,
    ];
    let big_photo = photo(4000, 3000);
    let video = mp4(40 * 1024 * 1024);
    eprintln!(
        "photo {} KB, video {} MB",
        big_photo.len() / 1024,
        video.len() >> 20
    );

    // 2 (measured first, before any picture was decoded). RSS per concurrent upload: 8 uploads paused half way.
    let before = rss_kb(pid);
    let held: Vec<_> = uploaders
        .iter()
        .map(|uploader| {
            let (cookie, video) = (uploader.cookie.clone(), video.clone());
            tokio::spawn(async move {
                raw_upload(
                    addr,
                    &cookie,
                    "/api/upload/video?duration_ms=60000",
                    &video,
                    Duration::from_millis(4),
                )
                .await;
            })
        })
        .collect();
    // About half way (40 MB at 64 KB per 4 ms takes ~2.6 s).
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let during = rss_kb(pid);
    for t in held {
        t.await.unwrap();
    }
    println!(
        "RSS: {} KB before, {} KB with 8 uploads of 40 MB streaming: {:.0} KB per upload",
        before,
        during,
        (during as f64 - before as f64) / 8.0
    );

    // 1. Text latency alone, then under uploads.
    let quiet = text_latencies(&senders, room, 150, "quiet").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    // MEDIA_BENCH_PIECE_PAUSE_MS: a pause after every 64 KB piece of the
    // video uploads (0, the default: as fast as loopback takes them).
    let piece_pause = Duration::from_millis(
        std::env::var("MEDIA_BENCH_PIECE_PAUSE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    );
    for uploader in &uploaders[..4] {
        let (stop, cookie, video) = (stop.clone(), uploader.cookie.clone(), video.clone());
        load.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                raw_upload(
                    addr,
                    &cookie,
                    "/api/upload/video?duration_ms=60000",
                    &video,
                    piece_pause,
                )
                .await;
                n += 1;
            }
            n
        }));
    }
    for p in &photographer {
        let (stop, http, photo) = (stop.clone(), p.http.clone(), big_photo.clone());
        let url = format!("{base}/api/upload/image");
        load.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let res = http.post(&url).body(photo.clone()).send().await.unwrap();
                assert!(res.status().is_success(), "{}", res.status());
                n += 1;
            }
            n
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let busy = text_latencies(&senders, room, 150, "busy").await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut uploads = 0;
    for t in load {
        uploads += t.await.unwrap();
    }
    println!(
        "text send, 4 senders, 50 members: alone p50 {:.1} ms p99 {:.1} ms; with 4 video uploads + 2 photo uploaders ({uploads} uploads done meanwhile) p50 {:.1} ms p99 {:.1} ms (p99 ratio {:.2})",
        pct(&quiet, 0.5),
        pct(&quiet, 0.99),
        pct(&busy, 0.5),
        pct(&busy, 0.99),
        pct(&busy, 0.99) / pct(&quiet, 0.99)
    );

    // 3. Photo uploads per second on one core.
    let t = Instant::now();
    let mut done = 0u32;
    while t.elapsed() < Duration::from_secs(20) {
        let batch = photographer.iter().map(|p| {
            let url = format!("{base}/api/upload/image");
            p.http.post(url).body(big_photo.clone()).send()
        });
        for res in futures::future::join_all(batch).await {
            assert!(res.unwrap().status().is_success());
            done += 1;
        }
    }
    println!(
        "12 MP JPEG uploads (decode, orient, re-encode, thumbnail) on one core: {:.2}/s",
        f64::from(done) / t.elapsed().as_secs_f64()
    );
    let _ = child.kill();
    let _ = child.wait();
    for s in sockets {
        s.abort();
    }
}
