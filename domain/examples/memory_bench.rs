//! Bench of a messenger's memory (issue 15), on the domain over a real
//! SQLite file (no HTTP: this measures the queries, not the transport):
//!
//! 1. unread computation: `my_rooms` (list + read states) of a user in
//!    1,000 conversations with read positions at random points, and the
//!    read-state query alone;
//! 2. message search with MESSAGES text messages (default 1,000,000,
//!    Chinese and English) in those 1,000 conversations: p50/p99 of
//!    `search_messages` across all of a member's conversations, within one,
//!    for a user in only 10 of them (a common word matching mostly
//!    elsewhere), and for short (1–2 character) queries.
//!
//! Writes `memory.json` and `RESULTS.md` to the directory given as the
//! first argument (default `bench/results/i15-memory`).
//!
//! `cargo run --release -p teahouse-domain --example memory_bench -- bench/results/<date>-i15-memory`

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use teahouse_domain::log::NewMessage;
use teahouse_domain::store::{AccountStore, NewRoom, Store};
use teahouse_domain::{Chat, ChatConfig, SqliteStore};
use teahouse_protocol::{ConversationId, MessageContent, UserBrief};

const ROOMS: usize = 1_000;
const SENDERS: usize = 20;
const BATCH: usize = 2_000;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[self.below(words.len())]
    }
}

/// Common words (most messages have some).
const ZH: &[&str] = &[
    "今天",
    "我们",
    "一起",
    "喝茶",
    "吃饭",
    "开会",
    "明天",
    "下午",
    "工作",
    "周末",
    "朋友",
    "天气",
    "不错",
    "好的",
    "谢谢",
    "没问题",
    "项目",
    "进度",
    "上线",
    "测试",
    "普洱",
    "龙井",
    "铁观音",
    "乌龙",
    "红茶",
    "绿茶",
    "茶馆",
    "老板",
    "同事",
    "客户",
];
const EN: &[&str] = &[
    "the", "meeting", "tomorrow", "release", "deploy", "coffee", "lunch", "review", "please",
    "thanks", "update", "server", "client", "bug", "fix", "today", "tea", "oolong", "green",
    "weekend", "project", "status", "ready", "check", "merge",
];
/// Rare words: each in about one message in 10,000.
const RARE: &[&str] = &[
    "大红袍秘方",
    "碧螺春新品",
    "quokka",
    "zeppelin",
    "marzipan",
    "蜂蜜柚子茶",
    "saxophone",
    "vermilion",
];

fn message_text(rng: &mut Rng) -> String {
    let zh = rng.below(3) != 0;
    let n = 4 + rng.below(8);
    let mut parts: Vec<&str> = (0..n)
        .map(|_| if zh { rng.pick(ZH) } else { rng.pick(EN) })
        .collect();
    if rng.below(10_000 / RARE.len().max(1)) == 0 {
        let at = rng.below(parts.len());
        parts.insert(at, rng.pick(RARE));
    }
    parts.join(if zh { "" } else { " " })
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// p50, p99, max in ms of `samples`.
fn stats(mut samples: Vec<Duration>) -> (f64, f64, f64) {
    samples.sort();
    (
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        percentile(&samples, 1.0),
    )
}

async fn user(store: &SqliteStore, name: &str) -> UserBrief {
    store.insert_account(name, name, "!").await.unwrap()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let out: PathBuf = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "bench/results/i15-memory".into())
        .into();
    let messages: usize = std::env::var("MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let sqlite = SqliteStore::open(&url).await.unwrap();
    let store: Arc<dyn Store> = Arc::new(sqlite.clone());

    // People and conversations: `reader` is in all 1,000, `visitor` in 10.
    let started = Instant::now();
    let reader = user(&sqlite, "reader").await;
    let visitor = user(&sqlite, "visitor").await;
    let mut senders = Vec::new();
    for i in 0..SENDERS {
        senders.push(user(&sqlite, &format!("sender{i}")).await);
    }
    let mut rooms: Vec<(ConversationId, [usize; 3])> = Vec::new();
    for i in 0..ROOMS {
        let owner = i % SENDERS;
        let (summary, _) = store
            .create_room(
                &senders[owner],
                NewRoom {
                    name: &format!("room {i}"),
                    description: "",
                },
            )
            .await
            .unwrap();
        let others = [(owner + 1) % SENDERS, (owner + 7) % SENDERS];
        for o in others {
            store.join(&senders[o], summary.id).await.unwrap();
        }
        store.join(&reader, summary.id).await.unwrap();
        if i % 100 == 0 {
            store.join(&visitor, summary.id).await.unwrap();
        }
        rooms.push((summary.id, [owner, others[0], others[1]]));
    }
    let setup_rooms = started.elapsed();
    eprintln!("{ROOMS} rooms in {setup_rooms:?}");

    // Messages, through the message writer's batch appender: one
    // transaction per batch, indexed for search as they are stored.
    let started = Instant::now();
    let appender_store = store.clone();
    let rooms_for_writer = rooms.clone();
    let senders_for_writer = senders.clone();
    let (texts_bytes, stored) = tokio::task::spawn_blocking(move || {
        let mut appender = appender_store.open_appender().unwrap();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut bytes, mut stored) = (0usize, 0usize);
        let mut n = 0;
        while n < messages {
            let batch: Vec<(UserBrief, NewMessage)> = (0..BATCH.min(messages - n))
                .map(|k| {
                    let (room, who) = rooms_for_writer[rng.below(ROOMS)];
                    let sender = senders_for_writer[who[rng.below(3)]].clone();
                    let text = message_text(&mut rng);
                    bytes += text.len();
                    let msg = NewMessage {
                        conversation_id: room,
                        client_id: format!("b{}", n + k),
                        content: MessageContent::Text(text),
                        reply_to: None,
                        mentions: Vec::new(),
                    };
                    (sender, msg)
                })
                .collect();
            let sends: Vec<_> = batch.iter().map(|(u, m)| (u, m)).collect();
            let _turn = appender.write_turn();
            let outcomes = appender.append(&sends).unwrap();
            stored += outcomes.iter().filter(|o| o.is_ok()).count();
            n += batch.len();
            if n % 100_000 == 0 {
                eprintln!("{n} messages stored");
            }
        }
        (bytes, stored)
    })
    .await
    .unwrap();
    let write_time = started.elapsed();
    assert_eq!(stored, messages, "every bench message stored");
    eprintln!("{messages} messages in {write_time:?}");
    let db_bytes = std::fs::metadata(dir.path().join("bench.db"))
        .map(|m| m.len())
        .unwrap_or(0);

    // Read positions at random points (some conversations fully read, some
    // never: their count stops at the cap).
    let mut rng = Rng(42);
    for (room, _) in &rooms {
        let summary = store.summary(reader.id, *room).await.unwrap();
        let seq = match rng.below(4) {
            0 => summary.last_seq,
            1 => 0,
            _ => rng.below(summary.last_seq as usize + 1) as i64,
        };
        store.advance_read(reader.id, *room, seq).await.unwrap();
    }

    let chat = Chat::start(
        store.clone(),
        ChatConfig {
            sends_per_sec: 0,
            ..ChatConfig::default()
        },
    )
    .await
    .unwrap();

    // 1. Unread computation.
    let mut list = Vec::new();
    let mut states = Vec::new();
    let mut total_unread = 0;
    for _ in 0..30 {
        let t = Instant::now();
        let mine = chat.my_rooms(reader.id).await.unwrap();
        list.push(t.elapsed());
        total_unread = mine.iter().map(|s| s.unread).sum::<i64>();
        let t = Instant::now();
        let s = store.read_states(reader.id).await.unwrap();
        states.push(t.elapsed());
        assert_eq!(s.len(), ROOMS);
    }
    let (list_p50, list_p99, _) = stats(list);
    let (states_p50, states_p99, _) = stats(states);
    eprintln!("my_rooms p50 {list_p50:.1} ms p99 {list_p99:.1} ms; read states alone p50 {states_p50:.1} ms");

    // 2. Search.
    let mut rng = Rng(7);
    let words3: Vec<&str> = ZH
        .iter()
        .chain(EN.iter())
        .copied()
        .filter(|w| w.chars().count() >= 3)
        .collect();
    let words2: Vec<&str> = ZH
        .iter()
        .copied()
        .filter(|w| w.chars().count() == 2)
        .collect();
    let run = |who: teahouse_protocol::UserId, scope: Option<ConversationId>, query: String| {
        let chat = chat.clone();
        async move {
            let t = Instant::now();
            let page = chat.search_messages(who, &query, scope).await.unwrap();
            (t.elapsed(), page.hits.len())
        }
    };
    let mut series: Vec<(&str, Vec<Duration>, usize)> = Vec::new();
    for (name, n) in [
        ("all of mine, common 3+ char word", 300),
        ("all of mine, two words", 200),
        ("all of mine, rare word", 100),
        ("one conversation, common word", 300),
        ("one conversation, rare word", 100),
        ("member of 10 only, common word", 200),
        ("all of mine, short (1-2 chars)", 100),
        ("one conversation, short (1-2 chars)", 100),
    ] {
        let mut times = Vec::new();
        let mut hits = 0;
        for _ in 0..n {
            let room = rooms[rng.below(ROOMS)].0;
            let (who, scope, query) = match name {
                "all of mine, common 3+ char word" => {
                    (reader.id, None, rng.pick(&words3).to_owned())
                }
                "all of mine, two words" => (
                    reader.id,
                    None,
                    format!("{} {}", rng.pick(&words3), rng.pick(&words3)),
                ),
                "all of mine, rare word" => (reader.id, None, rng.pick(RARE).to_owned()),
                "one conversation, common word" => {
                    (reader.id, Some(room), rng.pick(&words3).to_owned())
                }
                "one conversation, rare word" => (reader.id, Some(room), rng.pick(RARE).to_owned()),
                "member of 10 only, common word" => {
                    (visitor.id, None, rng.pick(&words3).to_owned())
                }
                "all of mine, short (1-2 chars)" => (reader.id, None, rng.pick(&words2).to_owned()),
                _ => (reader.id, Some(room), rng.pick(&words2).to_owned()),
            };
            let (t, h) = run(who, scope, query).await;
            times.push(t);
            hits += h;
        }
        series.push((name, times, hits));
    }

    let mut all_times = Vec::new();
    let mut rows = String::new();
    let mut json_rows = Vec::new();
    for (name, times, hits) in &series {
        let (p50, p99, max) = stats(times.clone());
        eprintln!("search {name}: p50 {p50:.2} ms p99 {p99:.2} ms max {max:.2} ms");
        rows.push_str(&format!(
            "| {name} | {} | {p50:.2} | {p99:.2} | {max:.2} | {:.1} |\n",
            times.len(),
            *hits as f64 / times.len() as f64
        ));
        json_rows.push(serde_json::json!({
            "case": name, "searches": times.len(), "p50_ms": p50, "p99_ms": p99,
            "max_ms": max, "mean_hits": *hits as f64 / times.len() as f64,
        }));
        all_times.extend(times.iter().copied());
    }
    let (all_p50, all_p99, all_max) = stats(all_times);

    std::fs::create_dir_all(&out).unwrap();
    let json = serde_json::json!({
        "bench": "i15-memory",
        "messages": messages,
        "text_bytes": texts_bytes,
        "db_bytes": db_bytes,
        "conversations": ROOMS,
        "store_seconds": write_time.as_secs_f64(),
        "store_msgs_per_sec": messages as f64 / write_time.as_secs_f64(),
        "unread": {
            "conversations_of_user": ROOMS,
            "total_unread": total_unread,
            "my_rooms_p50_ms": list_p50, "my_rooms_p99_ms": list_p99,
            "read_states_p50_ms": states_p50, "read_states_p99_ms": states_p99,
        },
        "search": { "all_p50_ms": all_p50, "all_p99_ms": all_p99, "all_max_ms": all_max, "cases": json_rows },
    });
    std::fs::write(
        out.join("memory.json"),
        serde_json::to_string_pretty(&json).unwrap(),
    )
    .unwrap();
    let md = format!(
        "# Issue 15 bench: unread computation and message search\n\n\
         `cargo run --release -p teahouse-domain --example memory_bench -- {out}` on the \
         project's 2-core machine (shared with other work), SQLite in WAL mode on disk, \
         synchronous=FULL. The domain is called directly (no HTTP).\n\n\
         Corpus: {messages} text messages (2/3 Chinese, 1/3 English, 4–11 words from a \
         55-word vocabulary, rare words in ~1 in 10,000), {ROOMS} conversations, {SENDERS} \
         senders; stored through the message writer's batch appender in batches of {BATCH} \
         (FTS5 trigram index written in the same transactions): {:.0} s, {:.0} msgs/s. \
         Database file: {:.0} MB for {:.0} MB of text.\n\n\
         ## Unread computation, one user in {ROOMS} conversations\n\n\
         Read positions at random points (a quarter fully read, a quarter never read: \
         those counts stop at the {cap} cap). Total unread shown: {total_unread}.\n\n\
         | what | p50 ms | p99 ms |\n|---|---|---|\n\
         | `my_rooms` (list + read states) | {list_p50:.1} | {list_p99:.1} |\n\
         | read states alone (one query) | {states_p50:.1} | {states_p99:.1} |\n\n\
         ## Search at {messages} messages\n\n\
         Overall p99 {all_p99:.2} ms (p50 {all_p50:.2}, max {all_max:.2}); limit 50 hits.\n\n\
         | case | searches | p50 ms | p99 ms | max ms | mean hits |\n|---|---|---|---|---|---|\n{rows}",
        write_time.as_secs_f64(),
        messages as f64 / write_time.as_secs_f64(),
        db_bytes as f64 / 1e6,
        texts_bytes as f64 / 1e6,
        out = out.display(),
        cap = teahouse_protocol::limits::UNREAD_MAX,
    );
    std::fs::write(out.join("RESULTS.md"), md).unwrap();
    eprintln!("written to {}", out.display());
    let _ = setup_rooms;
}
