//! Which URLs a webhook may be sent to: the kernel's outbound guard (`agora_kernel::outbound`),
//! shared with every other module that calls out. Its module doc lists the rules; registration
//! checks them early to give a 422 naming `url`, delivery checks them again on the very
//! connection it makes.

pub(crate) use agora_kernel::outbound::{check_target, check_url, OutboundPolicy as TargetPolicy};
