//! The events carts publish (through the outbox, in the transaction of the change): what later
//! emails (an abandoned-cart reminder) and integrations start from.

use agora_kernel::events::{Event, EventBusBuilder};
use serde::{Deserialize, Serialize};

/// A cart was made (a guest's or a customer's).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CartCreated {
    pub cart_id: uuid::Uuid,
    pub customer_id: Option<uuid::Uuid>,
    pub currency: String,
}

/// A cart's lines, codes, shipping or currency changed, or a guest cart was merged into it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CartUpdated {
    pub cart_id: uuid::Uuid,
    pub customer_id: Option<uuid::Uuid>,
    /// `lines`, `codes`, `shipping`, `currency`, `merged`.
    pub change: String,
    /// Units over every line after the change.
    pub item_count: i64,
    pub version: i64,
}

/// A cart was left unchanged longer than the shop allows and is closed.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CartAbandoned {
    pub cart_id: uuid::Uuid,
    /// Whom a reminder could go to (a guest's cart names nobody).
    pub customer_id: Option<uuid::Uuid>,
    pub currency: String,
    pub item_count: i64,
    pub last_change_at: chrono::DateTime<chrono::Utc>,
}

fn cart(id: uuid::Uuid) -> String {
    format!("cart:{id}")
}

impl Event for CartCreated {
    const NAME: &'static str = "cart.created.v1";
    fn aggregate_id(&self) -> String {
        cart(self.cart_id)
    }
}

impl Event for CartUpdated {
    const NAME: &'static str = "cart.updated.v1";
    fn aggregate_id(&self) -> String {
        cart(self.cart_id)
    }
}

impl Event for CartAbandoned {
    const NAME: &'static str = "cart.abandoned.v1";
    fn aggregate_id(&self) -> String {
        cart(self.cart_id)
    }
}

pub(crate) fn declare(events: &mut EventBusBuilder) {
    events.declare::<CartCreated>().declare::<CartUpdated>().declare::<CartAbandoned>();
}
