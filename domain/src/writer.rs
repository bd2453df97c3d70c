//! Group commit for message sends.
//!
//! Every send goes through one writer task. It takes whatever sends are
//! waiting (up to a batch size), stores them in a single transaction — one
//! fsync for the lot — and only after the commit answers each caller and
//! pushes the new events to the hub, in sequence order. "Acknowledged means
//! stored" holds for every message; under load the cost of durability is
//! shared by the whole batch instead of paid per message.
//!
//! A rejected send (not a member, …) does not disturb the others in its batch;
//! a storage failure rolls the whole batch back and every caller is told
//! `internal` — nothing half-written.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use teahouse_protocol::{ServerFrame, UserBrief};
use tokio::sync::{mpsc, oneshot};

use crate::log::{NewMessage, Sent};
use crate::{Db, DomainError, Hub, Result};

/// One send waiting for the writer.
struct Job {
    sender: UserBrief,
    msg: NewMessage,
    /// Where the outcome goes; the caller may have given up (then the
    /// message is stored anyway, and a retry with its client id finds it).
    reply: oneshot::Sender<Result<Sent>>,
}

/// Handle for submitting sends to the writer task.
#[derive(Clone, Debug)]
pub struct SendQueue {
    /// Bounded: when the writer is saturated, senders wait here (backpressure)
    /// instead of growing memory.
    jobs: mpsc::Sender<Job>,
    /// Transactions committed and messages they carried (for metrics/tests).
    pub stats: Arc<WriterStats>,
}

/// Counters of the writer's work.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Batches committed.
    pub commits: AtomicU64,
    /// Sends answered from committed batches (including idempotent retries).
    pub sends: AtomicU64,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("room_id", &self.msg.room_id)
            .finish_non_exhaustive()
    }
}

impl SendQueue {
    /// Starts the writer task. `max_batch` bounds the messages per transaction.
    pub fn start(db: Db, hub: Arc<Hub>, queue: usize, max_batch: usize) -> SendQueue {
        let (jobs, rx) = mpsc::channel(queue.max(1));
        let stats = Arc::new(WriterStats::default());
        tokio::spawn(run(db, hub, rx, max_batch.max(1), stats.clone()));
        SendQueue { jobs, stats }
    }

    /// Stores a message; resolves once it is committed (or rejected).
    pub async fn send(&self, sender: UserBrief, msg: NewMessage) -> Result<Sent> {
        let (reply, outcome) = oneshot::channel();
        self.jobs
            .send(Job { sender, msg, reply })
            .await
            .map_err(|_| DomainError::Internal("message writer stopped".into()))?;
        outcome
            .await
            .map_err(|_| DomainError::Internal("message writer dropped a send".into()))?
    }
}

async fn run(
    db: Db,
    hub: Arc<Hub>,
    mut rx: mpsc::Receiver<Job>,
    max_batch: usize,
    stats: Arc<WriterStats>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(max_batch);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        match store(&db, &batch).await {
            Ok(outcomes) => {
                stats.commits.fetch_add(1, Ordering::Relaxed);
                stats
                    .sends
                    .fetch_add(outcomes.len() as u64, Ordering::Relaxed);
                for (job, outcome) in batch.drain(..).zip(outcomes) {
                    if let Ok(sent) = &outcome {
                        if sent.fresh {
                            hub.publish(
                                sent.event.room_id,
                                &ServerFrame::Event {
                                    event: sent.event.clone(),
                                },
                            );
                        }
                    }
                    if job.reply.send(outcome).is_err() {
                        tracing::debug!("a sender stopped waiting; its message is stored");
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, messages = batch.len(), "message batch not stored");
                for job in batch.drain(..) {
                    let failed = Err(DomainError::Internal("batch rolled back".into()));
                    if job.reply.send(failed).is_err() {
                        tracing::debug!("a sender stopped waiting for a failed send");
                    }
                }
            }
        }
    }
    tracing::debug!("message writer stopped");
}

/// Stores a batch in one transaction (see [`crate::batch`]). Per-message
/// rejections are returned in place; any storage error aborts (and rolls
/// back) the whole batch.
async fn store(db: &Db, batch: &[Job]) -> Result<Vec<Result<Sent>>> {
    let sends: Vec<_> = batch.iter().map(|job| (&job.sender, &job.msg)).collect();
    let mut tx = db.write.begin_with("BEGIN IMMEDIATE").await?;
    let outcomes = crate::batch::store(&mut tx, &sends).await?;
    tx.commit().await?;
    Ok(outcomes)
}
