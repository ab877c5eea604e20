//! What a delivery job needs beyond its payload: the guarded HTTP client and the operator's
//! settings. The module provides it to the kernel's job registry at start-up, and the job gets it
//! back as `ctx.resource::<DeliveryRuntime>()`.

use crate::targets::{self, TargetPolicy};
use crate::WebhookSettings;
use agora_kernel::sealing::Sealer;

pub(crate) struct DeliveryRuntime {
    pub client: reqwest::Client,
    pub policy: TargetPolicy,
    pub settings: WebhookSettings,
    pub sealer: Sealer,
}

impl DeliveryRuntime {
    pub fn new(settings: &WebhookSettings, sealer: Sealer) -> Result<Self, reqwest::Error> {
        let policy = TargetPolicy { allow_private: settings.allow_private_targets };
        let client = targets::http_client(policy, settings.request_timeout)?;
        Ok(Self { client, policy, settings: settings.clone(), sealer })
    }
}
