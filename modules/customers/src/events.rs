//! The events the customers module publishes (through the outbox, in the transaction of the
//! change): customer groups and their hand-picked members, for modules that keep something per
//! group (promotions, a search index of B2B prices) and for webhooks. Members by email domain are
//! not announced: they are whoever matches when asked (see `groups`).

use agora_kernel::events::{Event, EventBusBuilder};
use serde::{Deserialize, Serialize};

/// A customer group was created, renamed or given other email domains.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CustomerGroupChanged {
    pub group_id: uuid::Uuid,
    pub key: String,
    pub name: String,
    pub email_domains: Vec<String>,
    /// `created` or `updated`.
    pub change: String,
}

/// A customer group was deleted.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CustomerGroupDeleted {
    pub group_id: uuid::Uuid,
    pub key: String,
}

/// Staff added a customer to a group, or took them out.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CustomerGroupMembershipChanged {
    pub group_id: uuid::Uuid,
    pub customer_id: uuid::Uuid,
    /// `added` or `removed`.
    pub change: String,
}

fn group(id: uuid::Uuid) -> String {
    format!("customer_group:{id}")
}

impl Event for CustomerGroupChanged {
    const NAME: &'static str = "customers.group.changed.v1";
    fn aggregate_id(&self) -> String {
        group(self.group_id)
    }
}

impl Event for CustomerGroupDeleted {
    const NAME: &'static str = "customers.group.deleted.v1";
    fn aggregate_id(&self) -> String {
        group(self.group_id)
    }
}

impl Event for CustomerGroupMembershipChanged {
    const NAME: &'static str = "customers.group.membership_changed.v1";
    fn aggregate_id(&self) -> String {
        group(self.group_id)
    }
}

pub(crate) fn declare(events: &mut EventBusBuilder) {
    events
        .declare::<CustomerGroupChanged>()
        .declare::<CustomerGroupDeleted>()
        .declare::<CustomerGroupMembershipChanged>();
}
