//! Argon2id password hashes (PHC strings). Each hash takes 19 MiB and tens of
//! milliseconds of a core, so hashing runs on a few threads of its own behind a short
//! queue: a burst of sign-ins costs at most `threads × 19 MiB` however large it is, and
//! past the queue is answered 503 `server_busy` instead of piling up.

use std::sync::{Arc, Mutex};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, ErrorCode};

/// Sign-ins that may wait per hashing thread; a full queue answers 503 at once.
const QUEUED_PER_THREAD: usize = 32;

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads and their queue. Cheap to clone.
#[derive(Clone)]
pub struct Passwords {
    queue: mpsc::Sender<Job>,
}

impl Passwords {
    /// Starts `threads` hashing threads; they end when the last clone is dropped.
    pub fn start(threads: usize) -> std::io::Result<Self> {
        let threads = threads.max(1);
        let (queue, jobs) = mpsc::channel::<Job>(threads * QUEUED_PER_THREAD);
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..threads {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while taking the next job.
                        let job = match jobs.lock() {
                            Ok(mut jobs) => jobs.blocking_recv(),
                            Err(_) => None,
                        };
                        match job {
                            Some(job) => job(),
                            None => break,
                        }
                    }
                })?;
        }
        Ok(Self { queue })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(work());
        });
        self.queue.try_send(job).map_err(|full| match full {
            mpsc::error::TrySendError::Full(_) => {
                tracing::warn!("password hashing queue full; answering 503");
                Error::new(ErrorCode::ServerBusy)
            }
            mpsc::error::TrySendError::Closed(_) => Error::internal("password threads gone"),
        })?;
        answered.await.map_err(Error::internal)
    }

    /// Hashes with Argon2id and the crate's defaults (19 MiB, 2 passes: OWASP's baseline).
    pub async fn hash(&self, password: String) -> Result<String, Error> {
        self.run(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
        })
        .await?
        .map_err(|err| Error::internal(format!("argon2: {err}")))
    }

    /// True when `password` matches `phc`. Without a stored hash, verifies against a fixed
    /// one anyway so an unknown username costs the same time as a wrong password.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, Error> {
        let known = phc.is_some();
        let matched = self
            .run(move || {
                let phc = phc.as_deref().unwrap_or_else(|| DUMMY_HASH.as_str());
                Argon2::default()
                    .verify_password(password.as_bytes(), phc)
                    .is_ok()
            })
            .await?;
        Ok(known && matched)
    }
}

/// The hash of a random password nobody knows, with the same parameters as real ones.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    Argon2::default()
        .hash_password(super::refresh::generate().as_bytes())
        .map(|h| h.to_string())
        .unwrap_or_default()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let passwords = Passwords::start(1).unwrap();
        let phc = passwords
            .hash("correct horse battery".into())
            .await
            .unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(
            passwords
                .verify("correct horse battery".into(), Some(phc.clone()))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify("wrong horse battery".into(), Some(phc))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        let passwords = Passwords::start(1).unwrap();
        assert!(
            !passwords
                .verify("anything at all".into(), None)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_burst_past_the_queue_is_refused_not_queued_without_end() {
        let passwords = Passwords::start(1).unwrap();
        let burst = (0..QUEUED_PER_THREAD + 8)
            .map(|_| passwords.verify("wrong password here".into(), None));
        let answers = futures_util::future::join_all(burst).await;
        let busy = answers
            .iter()
            .filter(|a| matches!(a, Err(e) if e.code == ErrorCode::ServerBusy))
            .count();
        // One runs at once and QUEUED_PER_THREAD wait; the rest are told to come back.
        assert!(busy >= 7, "{busy} refused");
        assert!(answers.iter().filter(|a| a.is_ok()).count() <= QUEUED_PER_THREAD + 1);
    }
}
