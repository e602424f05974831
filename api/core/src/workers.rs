//! The background work of an instance — the webhook sender, the overdue sweep, the orphan
//! sweep — started with the server and stopped with it. A worker runs its round on a
//! timer until its instance is told to stop; a round in progress is finished, never cut.
//! `stop` waits for every worker and names any that did not end (tests fail on it).

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

/// A running worker, by name.
type Named = (&'static str, JoinHandle<()>);

/// The workers of one instance. Cheap to clone; every clone stops the same workers.
#[derive(Clone, Default)]
pub struct Workers {
    stop: CancellationToken,
    tasks: Arc<Mutex<Vec<Named>>>,
}

impl Workers {
    /// Runs `round` every `every`, the first time after `first_after`, until stopped.
    pub fn every<Round, Fut>(
        &self,
        name: &'static str,
        every: Duration,
        first_after: Duration,
        mut round: Round,
    ) where
        Round: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let stop = self.stop.clone();
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(Instant::now() + first_after, every);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    // Once told to stop, no new round starts.
                    biased;
                    () = stop.cancelled() => break,
                    _ = ticks.tick() => round().await,
                }
            }
        });
        self.tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((name, task));
    }

    /// Tells every worker to start no new round; rounds in progress go on.
    pub fn cancel(&self) {
        self.stop.cancel();
    }

    /// Tells every worker to stop and waits up to `within` for them. Returns the names of
    /// those still running (empty when all ended).
    pub async fn stop(&self, within: Duration) -> Vec<&'static str> {
        self.cancel();
        let tasks = {
            let mut tasks = self
                .tasks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            std::mem::take(&mut *tasks)
        };
        let deadline = Instant::now() + within;
        let mut left = Vec::new();
        for (name, task) in tasks {
            match tokio::time::timeout_at(deadline, task).await {
                Ok(Ok(())) => {}
                Ok(Err(failed)) => tracing::error!(worker = name, error = %failed, "worker failed"),
                Err(_) => left.push(name),
            }
        }
        left
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_round_in_progress_finishes_and_then_the_worker_ends() {
        let workers = Workers::default();
        let finished = Arc::new(AtomicUsize::new(0));
        let counter = finished.clone();
        workers.every(
            "slow",
            Duration::from_secs(3600),
            Duration::ZERO,
            move || {
                let counter = counter.clone();
                async move {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            },
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        let left = workers.stop(Duration::from_secs(5)).await;
        assert!(left.is_empty(), "{left:?}");
        assert_eq!(finished.load(Ordering::SeqCst), 1, "the round was not cut");
    }

    #[tokio::test]
    async fn a_worker_stuck_in_its_round_is_named() {
        let workers = Workers::default();
        workers.every(
            "stuck",
            Duration::from_secs(3600),
            Duration::ZERO,
            || async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            },
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            workers.stop(Duration::from_millis(100)).await,
            vec!["stuck"]
        );
    }
}
