//! Passwords: the policy a new password must meet and argon2id hashing.
//!
//! Hashing is deliberately slow (tens of milliseconds), so it runs on tokio's blocking pool and
//! never stalls the request threads. At most one hash per core but one runs at a time: a login
//! flood then queues for hashing instead of taking every core (and 19 MiB each) from requests
//! that need no password at all. The queue itself is bounded: past it a request is answered at
//! once with 429 and Retry-After ([`PasswordError::Busy`]) instead of waiting without end.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashSet;
use std::sync::OnceLock;

/// OWASP's argon2id recommendation: 19 MiB of memory, 2 passes, 1 lane.
pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

pub const MIN_LENGTH: usize = 8;
/// Long enough for any passphrase, short enough that hashing it cannot be used to tie up CPU.
pub const MAX_LENGTH: usize = 1024;

static COMMON: &str = include_str!("common_passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect())
}

fn hasher() -> Argon2<'static> {
    // The parameters are constants inside the valid range, so building them cannot fail; the
    // fallback keeps the function total without an unwrap.
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Why a new password is refused; the message is shown to the user.
pub fn check_policy(password: &str) -> Result<(), &'static str> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err("must be at least 8 characters");
    }
    if password.len() > MAX_LENGTH {
        return Err("must be at most 1024 bytes");
    }
    if common_passwords().contains(password.to_lowercase().as_str()) {
        return Err("is one of the most common passwords and easy to guess; choose another");
    }
    Ok(())
}

/// Why a hash could not be made or checked.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Every hashing slot is busy and the queue is full: the caller should shed the request.
    #[error("the password hashing queue is full")]
    Busy,
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// Runs hashes on the blocking pool, at most `slots` at a time, with at most `limit` admitted
/// (running or waiting). Without the bound a flood of logins queues without end: each waiter
/// holds a connection and its memory, and every answer comes too late to matter. One per
/// identity module (the process's, in production), sized by its settings.
pub struct HashingQueue {
    slots: tokio::sync::Semaphore,
    admitted: std::sync::atomic::AtomicUsize,
    limit: usize,
}

/// Gives an admission back when the hash is done or its request is dropped.
struct Admission<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// Hashes at once: one core but one, so requests that need no password keep a core.
pub fn default_slots() -> usize {
    let cores = std::thread::available_parallelism().map(std::num::NonZeroUsize::get).unwrap_or(2);
    cores.saturating_sub(1).max(1)
}

impl HashingQueue {
    /// `slots` hashes at once (at least one), `waiting` more queued behind them.
    pub fn new(slots: usize, waiting: usize) -> Self {
        let slots = slots.max(1);
        Self { slots: tokio::sync::Semaphore::new(slots), admitted: 0.into(), limit: slots + waiting }
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, PasswordError> {
        use std::sync::atomic::Ordering;
        if self.admitted.fetch_add(1, Ordering::AcqRel) >= self.limit {
            self.admitted.fetch_sub(1, Ordering::AcqRel);
            return Err(PasswordError::Busy);
        }
        let _admission = Admission(&self.admitted);
        let _slot = self.slots.acquire().await.map_err(|e| PasswordError::Failed(e.to_string()))?;
        tokio::task::spawn_blocking(work).await.map_err(|e| PasswordError::Failed(e.to_string()))
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: SecretString) -> Result<String, PasswordError> {
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            hasher().hash_password(password.expose_secret().as_bytes(), &salt).map(|h| h.to_string())
        })
        .await?
        .map_err(|e| PasswordError::Failed(e.to_string()))
    }

    /// Whether `password` matches `stored`. With no stored hash (unknown account) a dummy hash
    /// is checked instead, so the answer takes as long as for a real account.
    pub async fn verify(&self, password: SecretString, stored: Option<String>) -> Result<bool, PasswordError> {
        self.run(move || {
            let (phc, real) = match stored {
                Some(phc) => (phc, true),
                None => (dummy_hash().to_string(), false),
            };
            let Ok(parsed) = PasswordHash::new(&phc) else { return false };
            let matches = hasher().verify_password(password.expose_secret().as_bytes(), &parsed).is_ok();
            matches && real
        })
        .await
    }
}

/// A hash of a random password, computed once, for [`verify`] of unknown accounts.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(crate::tokens::random_token(16).as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(check_policy("short").is_err());
        assert!(check_policy("password1").is_err(), "common passwords are refused");
        assert!(check_policy("Password1").is_err(), "case does not make a common password safe");
        assert!(check_policy("correct horse battery staple").is_ok());
        assert!(check_policy(&"x7".repeat(50)).is_ok(), "100 characters are fine");
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters() {
        let queue = HashingQueue::new(1, 4);
        let phc = queue.hash(SecretString::from("correct horse battery staple")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(queue.verify(SecretString::from("correct horse battery staple"), Some(phc.clone())).await.unwrap());
        assert!(!queue.verify(SecretString::from("wrong horse battery staple"), Some(phc)).await.unwrap());
        assert!(!queue.verify(SecretString::from("anything"), None).await.unwrap());
    }

    #[tokio::test]
    async fn a_full_queue_turns_work_away_and_frees_up() {
        let queue = std::sync::Arc::new(HashingQueue::new(1, 1));
        let (release, held) = std::sync::mpsc::channel::<()>();
        let held = std::sync::Arc::new(std::sync::Mutex::new(held));
        let hold = |held: std::sync::Arc<std::sync::Mutex<std::sync::mpsc::Receiver<()>>>| {
            move || {
                let _ = held.lock().unwrap().recv();
            }
        };
        let first = tokio::spawn({
            let (q, h) = (queue.clone(), held.clone());
            async move { q.run(hold(h)).await }
        });
        let second = tokio::spawn({
            let (q, h) = (queue.clone(), held.clone());
            async move { q.run(hold(h)).await }
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while queue.admitted.load(std::sync::atomic::Ordering::Acquire) < 2 {
            assert!(std::time::Instant::now() < deadline, "both were never admitted");
            tokio::task::yield_now().await;
        }
        assert!(matches!(queue.run(|| ()).await, Err(PasswordError::Busy)), "a third is turned away");
        release.send(()).unwrap();
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        second.await.unwrap().unwrap();
        assert!(queue.run(|| ()).await.is_ok(), "room again once they are done");
    }
}
