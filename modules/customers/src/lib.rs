//! A shop's customers: their profile, their address book, and their rights over their personal
//! data (GDPR export and erasure), and the groups they belong to (wholesale, VIP…, see `groups`).
//!
//! Customers stands on identity: identity says who is signed in (the kernel's
//! `SignedInCustomer`), keeps the account (email, name, credentials) and answers for its part
//! of an export or erasure inside this module's transaction. Identity never calls back up here.
//! Modules above keeping personal data (the emails sent) take part through the kernel's
//! `PersonalDataHolder` port, wired by the composition root.

mod addresses;
mod directory;
mod error;
mod events;
mod gdpr;
mod groups;
mod groups_store;
mod http;
mod profile;
mod schema;

use agora_identity::{Account, IdentityModule};
use agora_kernel::events::{EventBus, EventBusBuilder};
use agora_kernel::jobs::JobRegistry;
use agora_kernel::lists::{Keyset, Page};
use agora_kernel::ports::PersonalDataHolder;
use agora_kernel::{Acting, Actor, Database, TenantContext, TenantTx};
use chrono::{DateTime, Utc};
use std::sync::Arc;

pub use addresses::{Address, AddressInput};
pub use directory::{CustomerDetail, CustomerFilter, CustomerSummary};
pub use error::CustomersError;
pub use events::{CustomerGroupChanged, CustomerGroupDeleted, CustomerGroupMembershipChanged};
pub use gdpr::{CustomerExport, DataSection, ErasureRequest};
pub use groups::{
    CustomerGroup, CustomerGroupId, CustomerGroupMember, CustomerGroupMembership, CustomerGroupPatch, NewCustomerGroup,
};
pub use profile::ProfilePatch;

/// The customers module; cheap to clone.
#[derive(Clone)]
pub struct CustomersModule {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    /// Customer group events go out on it (through the outbox).
    bus: EventBus,
    identity: IdentityModule,
    /// Modules keeping personal data about customers, included in their export and erasure.
    personal_data: Vec<Arc<dyn PersonalDataHolder>>,
}

impl CustomersModule {
    pub fn new(
        db: Database,
        bus: &EventBus,
        identity: IdentityModule,
        personal_data: Vec<Arc<dyn PersonalDataHolder>>,
    ) -> Self {
        Self { inner: Arc::new(Inner { db, bus: bus.clone(), identity, personal_data }) }
    }

    fn db(&self) -> &Database {
        &self.inner.db
    }

    fn identity(&self) -> &IdentityModule {
        &self.inner.identity
    }

    /// The shop's customers matching `filter`, newest first (for staff).
    pub async fn search_customers(
        &self,
        tenant: &TenantContext,
        page: &Keyset<DateTime<Utc>>,
        filter: CustomerFilter,
    ) -> Result<Page<CustomerSummary>, CustomersError> {
        let (search, identity) = (directory::validate(filter)?, self.identity());
        self.db()
            .in_tenant(tenant, &Acting::system("read"), async |tx| directory::search(tx, identity, page, &search).await)
            .await
    }

    /// That `id` is a customer of the shop (erased ones too), in the caller's transaction: a
    /// 404 `customer` otherwise. Other modules keeping something per customer check with it.
    pub async fn require_customer(&self, tx: &mut TenantTx<'_>, id: uuid::Uuid) -> Result<(), CustomersError> {
        self.identity().customer_record(tx.conn(), id).await?;
        Ok(())
    }

    /// Customer `id` with their address book (for staff); erased ones without personal data.
    pub async fn customer(&self, tenant: &TenantContext, id: uuid::Uuid) -> Result<CustomerDetail, CustomersError> {
        let identity = self.identity();
        self.db().in_tenant(tenant, &Acting::system("read"), async |tx| directory::get(tx, identity, id).await).await
    }

    /// The signed-in customer's account.
    pub async fn profile(&self, tenant: &TenantContext, user: uuid::Uuid) -> Result<Account, CustomersError> {
        Ok(self.identity().account(tenant, user).await?)
    }

    /// Changes the customer's own name or language.
    pub async fn update_profile(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
        patch: ProfilePatch,
    ) -> Result<Account, CustomersError> {
        let changes = profile::validate(patch)?;
        let identity = self.identity();
        self.db()
            .in_tenant(tenant, &customer(user), async |tx| {
                let (name, locale) = (changes.name.as_deref(), changes.locale.as_deref());
                Ok(identity.set_customer_profile(tx, user, name, locale).await?)
            })
            .await
    }

    /// The customer's addresses, oldest first.
    pub async fn addresses(&self, tenant: &TenantContext, user: uuid::Uuid) -> Result<Vec<Address>, CustomersError> {
        self.db().in_tenant(tenant, &customer(user), async |tx| Ok(addresses::list(tx.conn(), user).await?)).await
    }

    /// Adds an address; a new default shipping or billing address takes over from the old one.
    pub async fn add_address(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
        input: AddressInput,
    ) -> Result<Address, CustomersError> {
        let changes = addresses::validate(input, true)?;
        self.db().in_tenant(tenant, &customer(user), async |tx| addresses::add(tx, user, changes).await).await
    }

    /// Changes an address the customer owns; another customer's address is simply not found.
    pub async fn update_address(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
        id: uuid::Uuid,
        input: AddressInput,
        expected_version: Option<i64>,
    ) -> Result<Address, CustomersError> {
        let changes = addresses::validate(input, false)?;
        self.db()
            .in_tenant(tenant, &customer(user), async |tx| {
                addresses::update(tx, user, id, changes, expected_version).await
            })
            .await
    }

    pub async fn delete_address(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
        id: uuid::Uuid,
    ) -> Result<(), CustomersError> {
        self.db().in_tenant(tenant, &customer(user), async |tx| addresses::delete(tx, user, id).await).await
    }

    /// All personal data of customer `id`; recorded in the audit log as exported by `actor`.
    pub async fn export_customer(
        &self,
        tenant: &TenantContext,
        id: uuid::Uuid,
        actor: &Actor,
        ip: Option<String>,
    ) -> Result<CustomerExport, CustomersError> {
        let (identity, holders) = (self.identity(), &self.inner.personal_data);
        self.db()
            .in_tenant(tenant, &Acting::new(actor.clone(), ip), async |tx| {
                gdpr::export(tx, identity, holders, id).await
            })
            .await
    }

    /// The signed-in customer erases their own account, confirming with their password.
    pub async fn erase_my_account(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
        request: ErasureRequest,
        ip: Option<String>,
    ) -> Result<(), CustomersError> {
        self.identity().confirm_password(tenant, user, request.password).await?;
        self.erase_customer(tenant, user, &Actor::User(user), ip).await
    }

    /// Anonymises customer `id` (see `gdpr`) and ends all their access, in one transaction;
    /// recorded in the audit log as erased by `actor`.
    pub async fn erase_customer(
        &self,
        tenant: &TenantContext,
        id: uuid::Uuid,
        actor: &Actor,
        ip: Option<String>,
    ) -> Result<(), CustomersError> {
        let (identity, holders) = (self.identity(), &self.inner.personal_data);
        self.db()
            .in_tenant(tenant, &Acting::new(actor.clone(), ip), async |tx| gdpr::erase(tx, identity, holders, id).await)
            .await
    }
}

// ---- customer groups (see `groups`) --------------------------------------------------------
impl CustomersModule {
    pub async fn create_group(
        &self,
        tenant: &TenantContext,
        new: NewCustomerGroup,
        acting: &Acting,
    ) -> Result<CustomerGroup, CustomersError> {
        let bus = &self.inner.bus;
        self.db().in_tenant(tenant, acting, async |tx| groups::create(tx, bus, new).await).await
    }

    /// The shop's groups, newest first.
    pub async fn groups(
        &self,
        tenant: &TenantContext,
        page: &Keyset<DateTime<Utc>>,
    ) -> Result<Page<CustomerGroup>, CustomersError> {
        self.db().in_tenant(tenant, &Acting::system("read"), async |tx| groups::list(tx, page).await).await
    }

    pub async fn group(&self, tenant: &TenantContext, id: CustomerGroupId) -> Result<CustomerGroup, CustomersError> {
        self.db().in_tenant(tenant, &Acting::system("read"), async |tx| groups::get(tx, id).await).await
    }

    /// Changes a group; `expected_version` (from If-Match) guards against lost updates.
    pub async fn update_group(
        &self,
        tenant: &TenantContext,
        id: CustomerGroupId,
        patch: CustomerGroupPatch,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<CustomerGroup, CustomersError> {
        let bus = &self.inner.bus;
        self.db().in_tenant(tenant, acting, async |tx| groups::update(tx, bus, id, patch, expected_version).await).await
    }

    pub async fn delete_group(
        &self,
        tenant: &TenantContext,
        id: CustomerGroupId,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<(), CustomersError> {
        let bus = &self.inner.bus;
        self.db().in_tenant(tenant, acting, async |tx| groups::delete(tx, bus, id, expected_version).await).await
    }

    /// The customers staff added to group `id`, newest first.
    pub async fn group_members(
        &self,
        tenant: &TenantContext,
        id: CustomerGroupId,
        page: &Keyset<DateTime<Utc>>,
    ) -> Result<Page<CustomerGroupMember>, CustomersError> {
        self.db().in_tenant(tenant, &Acting::system("read"), async |tx| groups::members(tx, id, page).await).await
    }

    pub async fn add_group_member(
        &self,
        tenant: &TenantContext,
        id: CustomerGroupId,
        customer: uuid::Uuid,
        acting: &Acting,
    ) -> Result<(), CustomersError> {
        let (identity, bus) = (self.identity(), &self.inner.bus);
        self.db().in_tenant(tenant, acting, async |tx| groups::add_member(tx, bus, identity, id, customer).await).await
    }

    pub async fn remove_group_member(
        &self,
        tenant: &TenantContext,
        id: CustomerGroupId,
        customer: uuid::Uuid,
        acting: &Acting,
    ) -> Result<(), CustomersError> {
        let bus = &self.inner.bus;
        self.db().in_tenant(tenant, acting, async |tx| groups::remove_member(tx, bus, id, customer).await).await
    }

    /// The groups `customer` is in (by hand or by their verified email's domain), inside the
    /// caller's transaction: what pricing and the cart ask when they price for a shopper.
    pub async fn groups_of(
        &self,
        tx: &mut TenantTx<'_>,
        customer: uuid::Uuid,
    ) -> Result<Vec<CustomerGroupId>, CustomersError> {
        Ok(groups::of_customer(tx, self.identity(), customer).await?.into_iter().map(|g| g.id).collect())
    }

    /// [`groups_of`](Self::groups_of) in a transaction of its own.
    pub async fn customer_groups(
        &self,
        tenant: &TenantContext,
        customer: uuid::Uuid,
    ) -> Result<Vec<CustomerGroupMembership>, CustomersError> {
        let identity = self.identity();
        self.db()
            .in_tenant(tenant, &Acting::system("read"), async |tx| groups::of_customer(tx, identity, customer).await)
            .await
    }

    /// Which of `ids` are live groups of the shop, in the caller's transaction (pricing checks
    /// the groups a price list names this way).
    pub async fn live_groups(
        tx: &mut TenantTx<'_>,
        ids: &[CustomerGroupId],
    ) -> Result<Vec<CustomerGroup>, CustomersError> {
        groups::live(tx, ids).await
    }

    /// The groups named by `keys`, in order; an unknown key is a 422 naming `field[i]`.
    pub async fn group_ids_by_key(
        tx: &mut TenantTx<'_>,
        keys: &[String],
        field: &str,
    ) -> Result<Vec<CustomerGroupId>, CustomersError> {
        groups::ids_by_key(tx, keys, field).await
    }
}

/// The signed-in customer acting on their own profile and address book.
fn customer(user: uuid::Uuid) -> Acting {
    Acting::new(Actor::User(user), None)
}

impl agora_kernel::Module for CustomersModule {
    fn store(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        http::store_routes(cfg);
    }

    fn admin(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        http::admin_routes(cfg);
    }

    fn app_data(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        cfg.app_data(paperclip::actix::web::Data::new(self.clone()));
    }

    fn background(&self, events: &mut EventBusBuilder, _jobs: &mut JobRegistry) -> Result<(), String> {
        events::declare(events);
        Ok(())
    }
}
