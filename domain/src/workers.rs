//! A fixed set of dedicated threads for CPU-heavy jobs (password hashing,
//! picture decoding), off the async runtime and off tokio's large blocking
//! pool. A bounded queue sheds load instead of growing without limit.
//!
//! A pool may run its threads at a lower scheduling priority: picture
//! decoding is the only work in Teahouse that can keep a core busy for
//! hundreds of milliseconds, and at normal priority a few large photos
//! delay every text send queued behind them on a busy core (measured with
//! `server/examples/media_bench.rs`: text p99 22 -> 544 ms on one core).
//! At `nice` 10 the kernel gives the runtime and the message writer about
//! ten times the decode threads' share whenever both want the CPU, and the
//! decode threads all of whatever is idle.

use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use teahouse_protocol::ErrorCode;

use crate::error::{DomainError, Result};

/// A job for a worker thread.
type Job = Box<dyn FnOnce() + Send>;

/// Dedicated worker threads fed from one bounded queue.
#[derive(Clone, Debug)]
pub struct WorkerPool {
    /// Jobs waiting for a thread; bounded so a flood waits or is refused
    /// instead of queueing without limit.
    jobs: SyncSender<Job>,
    /// What the threads are for, in errors and logs.
    name: &'static str,
}

impl WorkerPool {
    /// Starts `workers` threads (at least one) named `name-N`, with room for
    /// `queue` waiting jobs, at `nice` value `nice` (0: the process's own
    /// priority; higher is lower priority; ignored where unsupported).
    pub fn new(name: &'static str, workers: usize, queue: usize, nice: i32) -> Self {
        let (jobs, rx) = sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || {
                    lower_priority(name, nice);
                    loop {
                        let job = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return, // pool dropped
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, pool = name, "cannot start a worker thread");
            }
        }
        WorkerPool { jobs, name }
    }

    /// Runs `job` on one of the threads and waits for its result. With the
    /// queue full the job is refused (`rate_limited`), not queued.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let name = self.name;
        self.submit(job)?
            .await
            .map_err(|_| DomainError::Internal(format!("{name} job lost")))
    }

    /// Queues `job` at once (or refuses it) and returns where its result
    /// will arrive.
    fn submit<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<tokio::sync::oneshot::Receiver<T>> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let name = self.name;
        let boxed: Job = Box::new(move || {
            // The caller may have gone away; nothing to do then.
            if reply.send(job()).is_err() {
                tracing::debug!(pool = name, "job finished after its caller left");
            }
        });
        self.jobs.try_send(boxed).map_err(|e| match e {
            TrySendError::Full(_) => DomainError::code(ErrorCode::RateLimited),
            TrySendError::Disconnected(_) => {
                DomainError::Internal(format!("{name} threads stopped"))
            }
        })?;
        Ok(answer)
    }
}

/// Sets the calling thread's `nice` value (Linux: priority is per thread).
fn lower_priority(name: &str, nice: i32) {
    if nice == 0 {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority only reads its integer arguments; `who` 0 is
        // the calling thread.
        let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) };
        if rc != 0 {
            tracing::warn!(
                pool = name,
                nice,
                "cannot lower the worker threads' priority"
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    tracing::debug!(
        pool = name,
        nice,
        "thread priority is left as it is on this OS"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_on_the_pool_and_answer() {
        let pool = WorkerPool::new("test", 2, 4, 10);
        let name = pool
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(name.is_some_and(|n| n.starts_with("test-")));
        assert_eq!(pool.run(|| 6 * 7).await.unwrap(), 42);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn low_priority_threads_run_at_their_nice_value() {
        let pool = WorkerPool::new("nice", 1, 4, 10);
        // SAFETY: getpriority reads its integer arguments only.
        let nice = pool
            .run(|| unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) })
            .await
            .unwrap();
        // SAFETY: as above, for the test's own thread.
        let own = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        assert_eq!(nice, (own + 10).min(19));
    }

    #[tokio::test]
    async fn a_full_queue_refuses_instead_of_growing() {
        let pool = WorkerPool::new("full", 1, 1, 0);
        let (started_tx, started) = tokio::sync::oneshot::channel::<()>();
        let (hold, release) = std::sync::mpsc::channel::<()>();
        // The only thread is busy until released; one job fits in the queue.
        let busy = pool
            .submit(move || {
                let _ = started_tx.send(());
                let _ = release.recv();
            })
            .unwrap();
        started.await.unwrap();
        let waiting = pool.submit(|| 1).unwrap();
        let refused = pool.submit(|| 2).unwrap_err();
        assert!(
            matches!(&refused, DomainError::Rejected(e) if e.code == ErrorCode::RateLimited),
            "{refused:?}"
        );
        hold.send(()).unwrap();
        busy.await.unwrap();
        assert_eq!(waiting.await.unwrap(), 1);
    }
}
