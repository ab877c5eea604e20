//! What a delivery job needs beyond its payload: the guarded HTTP client and the operator's
//! settings.
//!
//! The kernel's worker pool hands a job only the database and the event bus, and takes a job's
//! retry delay from a plain `fn(attempt)`. So the module leaves its runtime here, keyed by the
//! database its workers run against, for the job to find. Keying by database keeps two apps in
//! one process (parallel tests under `cargo test`) from using each other's settings; entries are
//! weak, so they go when their module does. The retry delay, which cannot see which app it is
//! for, uses the shortest base among the live runtimes: in a server there is exactly one, and in
//! a test process the effect is only to retry sooner, which delivery tolerates.
//!
//! The right fix is in the kernel (module resources in `JobContext`, a backoff that can read
//! them); until then this file is the only place that knows.

use crate::targets::{self, TargetPolicy};
use crate::WebhookSettings;
use agora_kernel::Database;
use secrecy::ExposeSecret;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock, RwLock, Weak};
use std::time::Duration;

pub(crate) struct DeliveryRuntime {
    pub client: reqwest::Client,
    pub policy: TargetPolicy,
    pub settings: WebhookSettings,
}

impl DeliveryRuntime {
    pub fn new(settings: &WebhookSettings) -> Result<Self, reqwest::Error> {
        let policy = TargetPolicy { allow_private: settings.allow_private_targets };
        Ok(Self { client: targets::http_client(policy, settings.request_timeout)?, policy, settings: settings.clone() })
    }
}

static RUNTIMES: LazyLock<RwLock<HashMap<u64, Weak<DeliveryRuntime>>>> = LazyLock::new(Default::default);

/// A digest of the connection string, so no further copy of its password lives here.
fn key(db: &Database) -> u64 {
    let mut hasher = DefaultHasher::new();
    db.url().expose_secret().hash(&mut hasher);
    hasher.finish()
}

pub(crate) fn install(db: &Database, runtime: &Arc<DeliveryRuntime>) {
    // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
    let mut map = RUNTIMES.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    map.retain(|_, weak| weak.strong_count() > 0);
    map.insert(key(db), Arc::downgrade(runtime));
}

/// The runtime of the module built for `db`, if this process built one.
pub(crate) fn for_database(db: &Database) -> Option<Arc<DeliveryRuntime>> {
    let map = RUNTIMES.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    map.get(&key(db)).and_then(Weak::upgrade)
}

/// The retry base for this process's delivery jobs (see the module comment).
pub(crate) fn retry_base() -> Duration {
    let map = RUNTIMES.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    map.values()
        .filter_map(Weak::upgrade)
        .map(|runtime| runtime.settings.retry_base)
        .min()
        .unwrap_or_else(|| WebhookSettings::default().retry_base)
}
