//! The hub's drain on tokio's paused clock: every open connection is told
//! `Draining` once, the closes evenly spaced over the window (first at
//! once, last at window × (n−1)/n), and one opened during the drain is
//! closed too.

use std::sync::Arc;
use std::time::Duration;

use teahouse_domain::{ChatMetrics, Hub, KickReason, Publisher, Subscription};
use teahouse_protocol::UserId;
use tokio::time::Instant;

fn open(hub: &Arc<Hub>, user: i64) -> Subscription {
    let publisher: Arc<dyn Publisher> = hub.clone();
    hub.register(publisher, UserId(user), None, &[])
}

#[tokio::test(start_paused = true)]
async fn a_drain_closes_every_connection_once_evenly_over_the_window() {
    let hub = Hub::new(16, 200, ChatMetrics::default());
    let start = Instant::now();
    let waits: Vec<_> = (1..=4)
        .map(|user| {
            let sub = open(&hub, user);
            tokio::spawn(async move {
                let reason = sub.kicked().await;
                (reason, start.elapsed(), sub)
            })
        })
        .collect();
    let drain = {
        let hub = hub.clone();
        tokio::spawn(async move { hub.drain(Duration::from_secs(4)).await })
    };
    let mut at = Vec::new();
    let mut subs = Vec::new();
    for wait in waits {
        let (reason, when, sub) = wait.await.unwrap();
        assert_eq!(reason, KickReason::Draining);
        at.push(when);
        subs.push(sub);
    }
    at.sort();
    let secs: Vec<u64> = at.iter().map(Duration::as_secs).collect();
    assert_eq!(secs, [0, 1, 2, 3], "closes at {at:?}");
    drain.await.unwrap();
    assert_eq!(
        hub.connection_count(),
        4,
        "closing is the socket task's job"
    );
}

#[tokio::test(start_paused = true)]
async fn a_connection_opened_during_the_drain_is_closed_at_its_end() {
    let hub = Hub::new(16, 200, ChatMetrics::default());
    let (one, two) = (open(&hub, 1), open(&hub, 2));
    let drain = {
        let hub = hub.clone();
        tokio::spawn(async move { hub.drain(Duration::from_secs(10)).await })
    };
    // The first close comes at once, the second 5 s later.
    let first = tokio::select! {
        r = one.kicked() => r,
        r = two.kicked() => r,
    };
    assert_eq!(first, KickReason::Draining);
    let late = open(&hub, 3);
    assert!(!late.is_kicked());
    drain.await.unwrap();
    assert!(late.is_kicked(), "a socket opened mid-drain stayed open");
    assert_eq!(late.kicked().await, KickReason::Draining);
}
