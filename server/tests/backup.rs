//! `teahouse backup` against a running server under load, and a restore of
//! its copy into a new data dir.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Spawned;
use teahouse_protocol::{ConversationEvent, EventBody};
use tokio::sync::watch;

fn run_backup(data_dir: &Path, to: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_teahouse"))
        .arg("backup")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--to")
        .arg(to)
        .output()
        .expect("run teahouse backup")
}

/// client_id → seq of the messages in `events`.
fn message_seqs(events: &[ConversationEvent]) -> HashMap<String, i64> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Message(m) => Some((m.client_id.clone(), e.seq)),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_during_sends_restores_every_message_acknowledged_before_it() {
    let live_dir = tempfile::tempdir().unwrap();
    let server = Spawned::start(live_dir.path(), &[]).await;
    let alice = Arc::new(server.user("alice").await);
    let room = alice.create_room("backed-up").await;
    for i in 0..50 {
        alice
            .send(room, &format!("seed-{i}"), "seed")
            .await
            .unwrap();
    }

    // Senders keep going while the backup runs.
    let acked = Arc::new(Mutex::new(HashMap::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let (acks_tx, mut acks) = watch::channel(0usize);
    let acks_tx = Arc::new(acks_tx);
    let mut lanes = Vec::new();
    for lane in 0..4 {
        let (alice, acked, stop) = (alice.clone(), acked.clone(), stop.clone());
        let acks_tx = acks_tx.clone();
        lanes.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let id = format!("live-{lane}-{i}");
                let event = alice.send(room, &id, "during the backup").await.unwrap();
                acked
                    .lock()
                    .unwrap()
                    .insert(id, event["seq"].as_i64().unwrap());
                acks_tx.send_modify(|n| *n += 1);
                i += 1;
            }
        }));
    }
    // Some sends are under way before the backup starts.
    tokio::time::timeout(Duration::from_secs(60), acks.wait_for(|n| *n >= 20))
        .await
        .expect("sends are acknowledged")
        .unwrap();

    let copies = tempfile::tempdir().unwrap();
    let copy = copies.path().join("teahouse-backup.db");
    let before: HashMap<String, i64> = acked.lock().unwrap().clone();
    let (dir, to) = (live_dir.path().to_owned(), copy.clone());
    let out = tokio::task::spawn_blocking(move || run_backup(&dir, &to))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "backup failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("backup written to"));
    let during = acked.lock().unwrap().len() - before.len();
    stop.store(true, Ordering::Relaxed);
    for lane in lanes {
        lane.await.unwrap();
    }

    // A second backup to the same file is refused and leaves it as it was.
    let size = std::fs::metadata(&copy).unwrap().len();
    let again = run_backup(live_dir.path(), &copy);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::metadata(&copy).unwrap().len(), size);
    let live = alice.events_after(room, 0).await;
    server.stop().await;

    // Restore: the file as <data-dir>/teahouse.db of a new data dir.
    let restored_dir = tempfile::tempdir().unwrap();
    std::fs::copy(&copy, restored_dir.path().join("teahouse.db")).unwrap();
    let server = Spawned::start(restored_dir.path(), &[]).await;
    let alice = server.login("alice").await;
    let restored = alice.events_after(room, 0).await;
    for (i, e) in restored.iter().enumerate() {
        assert_eq!(e.seq, 1 + i as i64, "seqs contiguous from 1");
    }
    // The copy is the live log as of one moment: a prefix of it.
    assert_eq!(restored[..], live[..restored.len()]);
    let restored = message_seqs(&restored);
    for i in 0..50 {
        assert!(restored.contains_key(&format!("seed-{i}")));
    }
    for (id, seq) in &before {
        assert_eq!(
            restored.get(id),
            Some(seq),
            "{id} was acknowledged before the backup"
        );
    }
    eprintln!(
        "backup: {} messages restored, {} acknowledged before it began, {during} while it ran",
        restored.len(),
        before.len() + 50
    );
}
