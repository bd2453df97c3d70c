//! Group commit for message sends, on a thread of its own.
//!
//! Every send goes through one writer thread, which stores through the
//! store's [`BatchAppender`] (for SQLite: its own synchronous connection).
//! The thread takes whatever sends are waiting (up to a batch size), stores
//! them in a single transaction — one fsync for the lot — and only after the
//! commit answers each caller and hands the new events to the
//! [`Publisher`], in sequence order. "Acknowledged means stored" holds for
//! every message; under load the cost of durability is shared by the whole
//! batch instead of paid per message.
//!
//! Why a thread: a batch costs at most one wake of the thread (none while it
//! is busy) and one answer per send, and the store's synchronous connection
//! needs no round trip per statement. The thread takes the store's write
//! turn for each transaction, so the other writer never waits on SQLite's
//! lock.
//!
//! A rejected send (not a member, …) does not disturb the others in its batch;
//! a storage failure rolls the whole batch back and every caller is told
//! `internal` — nothing half-written.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use teahouse_protocol::{ServerFrame, UserBrief};
use tokio::sync::{mpsc, oneshot};

use crate::log::{NewMessage, Sent};
use crate::metrics::ChatMetrics;
use crate::publish::Publisher;
use crate::store::BatchAppender;
use crate::{hub, DomainError, Result};

/// One send waiting for the writer.
struct Job {
    sender: UserBrief,
    msg: NewMessage,
    /// Where the outcome goes; the caller may have given up (then the
    /// message is stored anyway, and a retry with its client id finds it).
    reply: oneshot::Sender<Result<Sent>>,
}

/// Handle for submitting sends to the writer thread.
#[derive(Clone, Debug)]
pub struct SendQueue {
    /// Bounded: when the writer is saturated, senders wait here (backpressure)
    /// instead of growing memory. The thread ends when every handle is gone.
    jobs: mpsc::Sender<Job>,
    /// Transactions committed and messages they carried (for metrics/tests).
    pub stats: Arc<WriterStats>,
    /// Where each send's latency goes (`teahouse_send_seconds`).
    metrics: ChatMetrics,
}

/// Counters of the writer's work.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Batches committed.
    pub commits: AtomicU64,
    /// Sends answered from committed batches (including idempotent retries).
    pub sends: AtomicU64,
    /// Sends handed to the writer's queue (tests wait on it to know that
    /// sends are queued behind a paused write).
    pub queued: AtomicU64,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("conversation_id", &self.msg.conversation_id)
            .finish_non_exhaustive()
    }
}

/// What the writer thread needs besides its jobs.
struct WriterThread {
    /// Where batches are stored (the store's side of the log).
    appender: Box<dyn BatchAppender>,
    /// Where committed events go (the event seam).
    publisher: Arc<dyn Publisher>,
    /// Shared with every [`SendQueue`] handle.
    stats: Arc<WriterStats>,
    /// Where each committed batch's size goes (`teahouse_commit_batch_size`).
    metrics: ChatMetrics,
}

impl SendQueue {
    /// Opens the writer's connection and starts its thread, which takes its
    /// jobs straight from the queue. `max_batch` bounds the messages per
    /// transaction.
    pub fn start(
        appender: Box<dyn BatchAppender>,
        publisher: Arc<dyn Publisher>,
        queue: usize,
        max_batch: usize,
        metrics: ChatMetrics,
    ) -> Result<SendQueue> {
        let (jobs, rx) = mpsc::channel(queue.max(1));
        let stats = Arc::new(WriterStats::default());
        let writer = WriterThread {
            appender,
            publisher,
            stats: stats.clone(),
            metrics: metrics.clone(),
        };
        let max_batch = max_batch.max(1);
        std::thread::Builder::new()
            .name("teahouse-writer".into())
            .spawn(move || writer.run(rx, max_batch))
            .map_err(|e| DomainError::Internal(format!("cannot start the message writer: {e}")))?;
        Ok(SendQueue {
            jobs,
            stats,
            metrics,
        })
    }

    /// Stores a message; resolves once it is committed (or rejected).
    pub async fn send(&self, sender: UserBrief, msg: NewMessage) -> Result<Sent> {
        let asked = std::time::Instant::now();
        let (reply, outcome) = oneshot::channel();
        self.jobs
            .send(Job { sender, msg, reply })
            .await
            .map_err(|_| DomainError::Internal("message writer stopped".into()))?;
        self.stats.queued.fetch_add(1, Ordering::Relaxed);
        let outcome = outcome
            .await
            .map_err(|_| DomainError::Internal("message writer dropped a send".into()))?;
        self.metrics
            .send_seconds
            .record(asked.elapsed().as_secs_f64());
        outcome
    }

    /// Sends waiting for the writer (queued, not yet taken into a batch).
    pub fn waiting(&self) -> usize {
        self.jobs.max_capacity() - self.jobs.capacity()
    }
}

impl WriterThread {
    /// Takes whatever sends are waiting (up to `max_batch`), stores them in
    /// one transaction, answers them, and goes again; sleeps while the queue
    /// is empty, and yields once on waking (see below). While one batch
    /// commits, the sends that arrive meanwhile wait in the queue and go
    /// together in the next: under load batches grow by themselves, and a
    /// lone send is committed as soon as the thread gets a core.
    ///
    /// Why the thread takes the jobs itself: it used to get each batch from
    /// a task on the runtime. A wake from this thread lands at the back of
    /// the runtime's queue, behind the thousand connection tasks the
    /// batch's own push just woke, so each batch waited a whole round of
    /// socket writes before the next could start (bench fanout at 1,000
    /// sends/s: ~10 ms a round). Here the next batch starts as soon as the
    /// last is answered.
    fn run(mut self, mut jobs: mpsc::Receiver<Job>, max_batch: usize) {
        let mut batch: Vec<Job> = Vec::with_capacity(max_batch);
        loop {
            let first = match jobs.try_recv() {
                Ok(job) => job,
                Err(mpsc::error::TryRecvError::Disconnected) => break,
                Err(mpsc::error::TryRecvError::Empty) => {
                    let Some(job) = jobs.blocking_recv() else {
                        break;
                    };
                    // Woken by a send: let the runtime run on first, so the
                    // sends it is about to make join this batch. Without
                    // this, on a core shared with the runtime the thread
                    // took each send as it came, one tiny transaction each
                    // (bench persist on tmpfs: 12.7k msg/s against 33.0k
                    // with the yield). Where the thread has a core of its
                    // own, the yield returns at once.
                    std::thread::yield_now();
                    job
                }
            };
            batch.push(first);
            let stored = {
                // The turn first, then the rest of the batch: sends that
                // arrive while another writer holds the turn join this one.
                let _turn = self.appender.write_turn();
                while batch.len() < max_batch {
                    match jobs.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let sends: Vec<_> = batch.iter().map(|job| (&job.sender, &job.msg)).collect();
                self.appender.append(&sends)
            };
            match stored {
                Ok(outcomes) => self.answer(&mut batch, outcomes),
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

    /// Publishes the batch's new events (in order) and answers every sender.
    fn answer(&self, batch: &mut Vec<Job>, outcomes: Vec<Result<Sent>>) {
        self.stats.commits.fetch_add(1, Ordering::Relaxed);
        self.stats
            .sends
            .fetch_add(outcomes.len() as u64, Ordering::Relaxed);
        self.metrics.commit_batch.record(outcomes.len() as f64);
        for (job, outcome) in batch.drain(..).zip(outcomes) {
            if let Ok(sent) = &outcome {
                if sent.fresh {
                    let frame = hub::encode(&ServerFrame::Event {
                        event: sent.event.clone(),
                    });
                    self.publisher
                        .publish(sent.event.conversation_id, sent.event.seq, frame);
                }
            }
            if job.reply.send(outcome).is_err() {
                tracing::debug!("a sender stopped waiting; its message is stored");
            }
        }
    }
}
