//! What a delivery job needs beyond its payload: the guarded HTTP client and the operator's
//! settings. The module provides it to the kernel's job registry at start-up, and the job gets it
//! back as `ctx.resource::<DeliveryRuntime>()`.

use crate::targets::{self, TargetPolicy};
use crate::WebhookSettings;

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
