//! What a delivery job needs beyond its payload: the guarded HTTP client and the operator's
//! settings. The module provides it to the kernel's job registry at start-up, and the job gets it
//! back as `ctx.resource::<DeliveryRuntime>()`.

use crate::targets::TargetPolicy;
use crate::WebhookSettings;
use agora_kernel::outbound::Outbound;
use agora_kernel::sealing::Sealer;

pub(crate) struct DeliveryRuntime {
    pub outbound: Outbound,
    pub policy: TargetPolicy,
    pub settings: WebhookSettings,
    pub sealer: Sealer,
}

impl DeliveryRuntime {
    pub fn new(settings: &WebhookSettings, sealer: Sealer, outbound: Outbound) -> Self {
        Self { policy: outbound.policy(), outbound, settings: settings.clone(), sealer }
    }
}
