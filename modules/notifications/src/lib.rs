//! Notifications: the emails a shop sends its customers.
//!
//! - Templates per shop and locale, rendered with minijinja; Agora ships defaults (order
//!   confirmation, shipping update, password reset and changed, email verification, welcome, staff
//!   invitation, low-stock alert) in English and German, and a shop may replace any of them per locale or add its
//!   own.
//! - [`NotificationsModule::send`] renders the email and records it with its delivery job in the
//!   caller's transaction: a rolled-back order sends nothing, a committed one is never lost.
//! - Delivery is a background job with retries: over SMTP when configured, otherwise into the
//!   shop's outbox mailbox, which the admin API lists (a fresh install shows what it would send).
//! - Recipients can opt out of marketing email, with the signed link every marketing email
//!   carries (an address alone unsubscribes no one); every email is kept as history.
//! - Staff members opt in to alert emails for themselves (`GET/PUT /api/v1/admin/me/alerts`):
//!   a low-stock email when the inventory announces stock fell to a variant's threshold, sent
//!   by a subscriber of `inventory.stock.low_stock.v1` (`staff_alerts.rs`), never in the
//!   transaction that changed the stock.
//! - An email knows whose account it went to: a GDPR export holds that account's mail, never
//!   mail to the same address for someone else (a staff member and a customer may share one).
//! - One-time links (password reset, invitation, email verification) reach their recipient
//!   only: the stored email shows them redacted, the copy for the SMTP server is sealed and
//!   dropped once delivered, and without SMTP no one sees them at all.
//!
//! The facade below is the module's whole public face.

mod delivery;
mod error;
mod http;
mod messages;
mod schema;
mod shop_templates;
mod staff_alerts;
mod store;
mod templates;

use agora_kernel::events::EventBusBuilder;
use agora_kernel::jobs::JobRegistry;
use agora_kernel::lists::{Keyset, Page};
use agora_kernel::ports::ShopAddress;
use agora_kernel::sealing::Sealer;
use agora_kernel::{Acting, Actor, Database, TenantContext, TenantTx};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

pub use error::NotificationsError;

/// Where mail goes.
#[derive(Clone)]
pub struct MailSettings {
    /// `smtp://[user:password@]host:port` (STARTTLS when the server offers it; `?tls=required` to
    /// insist), or `smtps://…` (TLS from the first byte). `None`: emails are kept in each shop's
    /// outbox mailbox instead of being sent.
    pub smtp_url: Option<SecretString>,
    /// Sender of every email, e.g. `Acme <shop@acme.example>`.
    pub from: String,
}

/// `AGORA_SMTP_URL` (unset: mail is kept in each shop's outbox mailbox) and `AGORA_MAIL_FROM`
/// (default `Agora <no-reply@localhost>`); in a TOML file also `smtp_url` / `mail_from`.
impl agora_kernel::settings::Settings for MailSettings {
    const KEYS: &'static [&'static str] = &["smtp_url", "mail_from"];

    fn load(src: &agora_kernel::settings::Source<'_>) -> Result<Self, agora_kernel::settings::SettingsError> {
        use agora_kernel::settings::SettingsError;
        let smtp_url = match src.raw("AGORA_SMTP_URL") {
            Some((v, name)) if !(v.starts_with("smtp://") || v.starts_with("smtps://")) => {
                return Err(SettingsError::invalid(name, "<hidden>", "must start with smtp:// or smtps://"))
            }
            other => other.map(|(v, _)| SecretString::from(v)),
        };
        let from = match src.raw("AGORA_MAIL_FROM") {
            Some((v, name)) if !v.contains('@') => {
                return Err(SettingsError::invalid(name, v, "expected an address such as shop@example.com"))
            }
            Some((v, _)) => v,
            None => "Agora <no-reply@localhost>".into(),
        };
        Ok(Self { smtp_url, from })
    }
}

/// The id of one email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub uuid::Uuid);

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why an email is sent: marketing email respects the recipient's opt-out, transactional email
/// (an order confirmation, a password reset) is always sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    #[default]
    Transactional,
    Marketing,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Transactional => "transactional",
            Category::Marketing => "marketing",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "transactional" => Some(Category::Transactional),
            "marketing" => Some(Category::Marketing),
            _ => None,
        }
    }
}

/// Where an email stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Waiting for delivery (or for a retry: see `attempts` and `last_error`).
    Queued,
    /// Accepted by the SMTP server.
    Sent,
    /// Kept in the shop's outbox mailbox because no SMTP server is configured.
    Stored,
    /// Given up: the server rejected the recipient, or every retry failed.
    Failed,
    /// Not sent: marketing email to a recipient who opted out.
    Suppressed,
}

impl MessageStatus {
    pub const ALL: [MessageStatus; 5] = [
        MessageStatus::Queued,
        MessageStatus::Sent,
        MessageStatus::Stored,
        MessageStatus::Failed,
        MessageStatus::Suppressed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Queued => "queued",
            MessageStatus::Sent => "sent",
            MessageStatus::Stored => "stored",
            MessageStatus::Failed => "failed",
            MessageStatus::Suppressed => "suppressed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// An email to send: which template, in which locale, to whom, with which variables.
#[derive(Debug, Clone)]
pub struct SendEmail {
    /// Template key, e.g. `order_confirmation`.
    pub template: String,
    /// The recipient's locale (`de-CH`); the template falls back to `de`, then English.
    pub locale: String,
    /// One email address.
    pub to: String,
    /// A JSON object with every variable the template uses.
    pub variables: serde_json::Value,
    pub category: Category,
    /// Whose account the email is for (`customer:<uuid>`, `staff:<uuid>`), when it is for one.
    pub account: Option<String>,
    /// Variables that are one-time credentials: only the recipient's copy holds them.
    pub secrets: Vec<String>,
}

impl SendEmail {
    /// A transactional email.
    pub fn new(template: &str, locale: &str, to: &str, variables: serde_json::Value) -> Self {
        Self {
            template: template.to_string(),
            locale: locale.to_string(),
            to: to.to_string(),
            variables,
            category: Category::Transactional,
            account: None,
            secrets: Vec::new(),
        }
    }

    /// Addresses the email to a shop account (what a GDPR export matches on).
    pub fn for_account(self, account: impl Into<String>) -> Self {
        Self { account: Some(account.into()), ..self }
    }

    /// Marks `variables` as one-time credentials: redacted in every stored copy.
    pub fn with_secrets(self, variables: &[&str]) -> Self {
        Self { secrets: variables.iter().map(|v| v.to_string()).collect(), ..self }
    }

    /// Makes it a marketing email, which recipients who opted out do not get.
    pub fn marketing(self) -> Self {
        Self { category: Category::Marketing, ..self }
    }
}

/// A test email from the admin. Without `variables`, a built-in template gets its sample values.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct TestEmail {
    /// Template key, e.g. `welcome`.
    pub template: String,
    pub locale: String,
    pub to: String,
    /// A JSON object of the template's variables; default: the built-in template's samples.
    pub variables: Option<serde_json::Value>,
    /// Default `transactional`.
    pub category: Option<Category>,
}

/// One email with its full content, as recorded.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct Message {
    pub id: uuid::Uuid,
    /// Template key it was rendered from.
    pub template: String,
    /// Locale of the template actually used (after fallback).
    pub locale: String,
    pub category: Category,
    pub status: MessageStatus,
    pub from: String,
    pub to: String,
    /// The shop account it was sent to (`customer:<uuid>`, `staff:<uuid>`), if any.
    pub account: Option<String>,
    pub subject: String,
    /// As stored: one-time links show as a placeholder; only the recipient's copy has them.
    pub body_text: String,
    pub body_html: Option<String>,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The SMTP server's reply on acceptance (often carries its queue id).
    pub provider_message_id: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
}

/// An email in the mailbox list (without its bodies).
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct MessageSummary {
    pub id: uuid::Uuid,
    pub template: String,
    pub locale: String,
    pub category: Category,
    pub status: MessageStatus,
    pub to: String,
    pub subject: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Which emails to list.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub status: Option<MessageStatus>,
    /// Exact address, case-insensitive.
    pub recipient: Option<String>,
}

/// A template as listed: every built-in template in every locale Agora ships, plus the shop's
/// own versions and templates.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct TemplateSummary {
    pub key: String,
    pub locale: String,
    /// Agora ships this template in this locale.
    pub built_in: bool,
    /// The shop has its own version (which is used instead of the built-in one).
    pub overridden: bool,
    /// Subject of the version in use.
    pub subject: String,
    /// Variables Agora gives this template (empty for the shop's own templates).
    pub variables: Vec<String>,
    /// Version of the shop's own version, for `If-Match`.
    pub version: Option<i64>,
}

/// A template in one locale: the shop's own version when it has one, else the built-in.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct Template {
    pub key: String,
    pub locale: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub built_in: bool,
    pub overridden: bool,
    pub variables: Vec<String>,
    pub version: Option<i64>,
    pub modified_at: Option<DateTime<Utc>>,
    pub modified_by: Option<String>,
}

/// The shop's version of a template (minijinja syntax: `{{ customer_name }}`).
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct TemplateContent {
    pub subject: String,
    pub body_text: String,
    /// HTML alternative; variables are HTML-escaped in it.
    pub body_html: Option<String>,
}

/// A template rendered with sample values, as a recipient would see it.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct TemplatePreview {
    pub subject: String,
    pub body_text: String,
    /// Absent when the template has no HTML part. Show it sandboxed: it is the shop's markup.
    pub body_html: Option<String>,
}

/// What a recipient agreed to receive from the shop.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct Preferences {
    pub email: String,
    /// No marketing email (transactional email is still sent).
    pub marketing_opt_out: bool,
    pub modified_at: Option<DateTime<Utc>>,
    pub version: Option<i64>,
}

/// Changes to a recipient's preferences.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesUpdate {
    pub marketing_opt_out: bool,
}

/// Everything the shop's email keeps about one recipient, for their GDPR export.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct RecipientData {
    /// Every email sent to the account, oldest first, with its content as stored (one-time
    /// links redacted).
    pub emails: Vec<Message>,
    pub marketing_opt_out: bool,
}

/// Which alert emails a staff member receives (each member chooses for themself).
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct StaffAlerts {
    /// An email when a variant's stock available to sell at a location falls to its low-stock
    /// threshold (sent to members who may read stock, `inventory.read`).
    #[serde(deserialize_with = "alert_flag")]
    pub low_stock: bool,
}

/// `true` or `false`, or an error naming the field (serde's own says only "expected a boolean").
fn alert_flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => Ok(b),
        other => Err(serde::de::Error::custom(format!("low_stock: must be true or false, not {other}"))),
    }
}

/// The shop's email: templates, sending, the mailbox and recipients' preferences.
#[derive(Clone)]
pub struct NotificationsModule {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    mailer: Arc<delivery::Mailer>,
    sealer: Sealer,
    /// Where the shop is reached, for the unsubscribe link of marketing email.
    address: Option<Arc<dyn ShopAddress>>,
}

/// What sealing an unsubscribe link's token is for.
const UNSUBSCRIBE: &str = "unsubscribe";

impl NotificationsModule {
    /// Checks the mail settings (a bad SMTP URL or sender fails here, at start-up, naming it).
    /// Opens no connection. `sealer` seals one-time links and unsubscribe tokens; `address`
    /// gives the shop's base URL for links (without it, links are relative).
    pub fn new(
        db: Database,
        settings: MailSettings,
        sealer: Sealer,
        address: Option<Arc<dyn ShopAddress>>,
    ) -> Result<Self, NotificationsError> {
        let mailer = Arc::new(delivery::Mailer::new(&settings, sealer.clone())?);
        Ok(Self { inner: Arc::new(Inner { db, mailer, sealer, address }) })
    }

    /// The token of `email`'s unsubscribe link at `tenant`: sealed, so only this deployment can
    /// make one and it opens only at this shop.
    fn unsubscribe_token(&self, tenant: &TenantContext, email: &str) -> Result<String, NotificationsError> {
        let sealed = self.inner.sealer.seal(UNSUBSCRIBE, tenant.id.as_bytes(), email.to_lowercase().as_bytes())?;
        Ok(URL_SAFE_NO_PAD.encode(sealed))
    }

    /// How `request` is recorded at the transaction's shop: marketing email gets its
    /// recipient's unsubscribe link (the shop's address is read in `tx`).
    async fn outgoing<'a>(
        &'a self,
        tx: &mut TenantTx<'_>,
        request: &SendEmail,
        sender: &'a str,
    ) -> Result<store::Outgoing<'a>, NotificationsError> {
        let unsubscribe_url = match request.category {
            Category::Transactional => None,
            Category::Marketing => {
                let base = match &self.inner.address {
                    Some(address) => address.base_url(tx).await.map_err(NotificationsError::ShopAddress)?,
                    None => String::new(),
                };
                let token = self.unsubscribe_token(tx.tenant(), request.to.trim())?;
                Some(format!("{base}/unsubscribe?token={token}"))
            }
        };
        Ok(store::Outgoing { sender, sealer: &self.inner.sealer, unsubscribe_url })
    }

    /// Renders `request` and records it with its delivery job in the caller's tenant
    /// transaction (another module's: identity's emails go through the `TransactionalMail`
    /// port). Marketing email to a recipient who opted out is recorded as `suppressed` and
    /// never delivered. Bad input (unknown template, missing variable, bad address) is an
    /// `Invalid` error naming the field, and nothing is written.
    pub async fn send(&self, tx: &mut TenantTx<'_>, request: SendEmail) -> Result<MessageId, NotificationsError> {
        Ok(MessageId(self.send_in(tx, request).await?.id))
    }

    /// [`send`](Self::send) in a transaction of its own; returns the recorded email.
    pub async fn send_now(&self, tenant: &TenantContext, request: SendEmail) -> Result<Message, NotificationsError> {
        self.inner
            .db
            .in_tenant(tenant, &Acting::system("notifications"), async |tx| self.send_in(tx, request).await)
            .await
    }

    async fn send_in(&self, tx: &mut TenantTx<'_>, request: SendEmail) -> Result<Message, NotificationsError> {
        let sender = self.inner.mailer.sender();
        let out = self.outgoing(tx, &request, &sender).await?;
        messages::send(tx, &out, request).await
    }

    /// Sends `test` (sample variables for a built-in template when it gives none) for `actor`,
    /// recorded in the audit log.
    pub async fn send_test(
        &self,
        tenant: &TenantContext,
        test: TestEmail,
        actor: &Actor,
    ) -> Result<Message, NotificationsError> {
        let variables = match test.variables {
            Some(variables) => variables,
            None => templates::built_in(&test.template)
                .map(|b| b.sample())
                .unwrap_or_else(|| serde_json::Value::Object(Default::default())),
        };
        let request = SendEmail {
            template: test.template,
            locale: test.locale,
            to: test.to,
            variables,
            category: test.category.unwrap_or_default(),
            account: None,
            secrets: Vec::new(),
        };
        self.inner
            .db
            .in_tenant(tenant, &acting(actor), async |tx| {
                let message = self.send_in(tx, request).await?;
                let subject = shop_templates::subject(&message.template, &message.locale);
                // The message is in the mailbox; the recipient's address stays there.
                let details = serde_json::json!({ "message_id": message.id, "status": message.status });
                tx.audit("notifications.test_sent", subject, details).await?;
                Ok(message)
            })
            .await
    }

    /// The shop's emails, newest first.
    pub async fn messages(
        &self,
        tenant: &TenantContext,
        page: &Keyset<chrono::DateTime<chrono::Utc>>,
        filter: MessageFilter,
    ) -> Result<Page<MessageSummary>, NotificationsError> {
        self.inner.db.in_tenant(tenant, &read(), async |tx| store::list_messages(tx.conn(), page, &filter).await).await
    }

    pub async fn message(&self, tenant: &TenantContext, id: uuid::Uuid) -> Result<Message, NotificationsError> {
        self.inner
            .db
            .in_tenant(tenant, &read(), async |tx| {
                store::find_message(tx.conn(), id).await?.ok_or(NotificationsError::MessageNotFound(id))
            })
            .await
    }

    /// Queues a failed email for delivery again.
    pub async fn resend(
        &self,
        tenant: &TenantContext,
        id: uuid::Uuid,
        actor: &Actor,
    ) -> Result<Message, NotificationsError> {
        self.inner.db.in_tenant(tenant, &acting(actor), async |tx| messages::resend(tx, id).await).await
    }

    /// Every template the shop can send, with its own versions marked.
    pub async fn templates(&self, tenant: &TenantContext) -> Result<Vec<TemplateSummary>, NotificationsError> {
        self.inner.db.in_tenant(tenant, &read(), async |tx| store::list_templates(tx.conn()).await).await
    }

    /// The template in exactly this locale (the shop's version, else the built-in one).
    pub async fn template(
        &self,
        tenant: &TenantContext,
        key: &str,
        locale: &str,
    ) -> Result<Template, NotificationsError> {
        let (key, locale) = store::template_address(key, locale)?;
        self.inner.db.in_tenant(tenant, &read(), async |tx| store::get_template(tx.conn(), &key, &locale).await).await
    }

    /// Saves the shop's version of a template after checking it renders; `expected_version`
    /// (from If-Match) guards against overwriting someone else's edit.
    pub async fn save_template(
        &self,
        tenant: &TenantContext,
        key: &str,
        locale: &str,
        content: TemplateContent,
        expected_version: Option<i64>,
        actor: &Actor,
    ) -> Result<Template, NotificationsError> {
        let (key, locale) = store::template_address(key, locale)?;
        self.inner
            .db
            .in_tenant(tenant, &acting(actor), async |tx| {
                shop_templates::save(tx, &key, &locale, content, expected_version).await
            })
            .await
    }

    /// Renders an unsaved version of a template with sample values; refused, naming the part,
    /// exactly when saving it would be.
    pub async fn preview_template(
        &self,
        key: &str,
        locale: &str,
        content: TemplateContent,
    ) -> Result<TemplatePreview, NotificationsError> {
        let (key, _locale) = store::template_address(key, locale)?;
        shop_templates::preview(&key, content).await
    }

    /// Removes the shop's version, so the built-in template applies again.
    pub async fn remove_template(
        &self,
        tenant: &TenantContext,
        key: &str,
        locale: &str,
        expected_version: Option<i64>,
        actor: &Actor,
    ) -> Result<(), NotificationsError> {
        let (key, locale) = store::template_address(key, locale)?;
        // The row is gone; the audit log keeps who removed it.
        self.inner
            .db
            .in_tenant(tenant, &acting(actor), async |tx| {
                shop_templates::remove(tx, &key, &locale, expected_version).await
            })
            .await
    }

    pub async fn preferences(&self, tenant: &TenantContext, email: &str) -> Result<Preferences, NotificationsError> {
        let email = store::preference_address(email)?;
        self.inner.db.in_tenant(tenant, &read(), async |tx| store::preferences(tx.conn(), &email).await).await
    }

    pub async fn update_preferences(
        &self,
        tenant: &TenantContext,
        email: &str,
        update: PreferencesUpdate,
        actor: &Actor,
    ) -> Result<Preferences, NotificationsError> {
        let email = store::preference_address(email)?;
        self.inner
            .db
            .in_tenant(tenant, &acting(actor), async |tx| {
                let stamp = tx.stamp();
                let preferences =
                    store::set_marketing_opt_out(tx.conn(), &email, update.marketing_opt_out, &stamp).await?;
                // Named as identity names an address, so an erasure re-points the entry.
                let details = serde_json::json!({ "marketing_opt_out": update.marketing_opt_out });
                tx.audit("notifications.preferences.changed", Some(format!("email:{email}")), details).await?;
                Ok(preferences)
            })
            .await
    }

    /// A recipient opts out of marketing email with the token of the link in one. Only that
    /// token will do: an address alone would let anyone unsubscribe anyone.
    pub async fn unsubscribe(&self, tenant: &TenantContext, token: &str) -> Result<(), NotificationsError> {
        let bad = || NotificationsError::field("token", "not the token of an unsubscribe link from this shop's email");
        let sealed = URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| bad())?;
        let (email, _) = self.inner.sealer.open_text(UNSUBSCRIBE, tenant.id.as_bytes(), &sealed).map_err(|_| bad())?;
        let email = store::preference_address(&email)?;
        // The link's holder is not signed in: recorded as anonymous.
        self.inner
            .db
            .in_tenant(tenant, &acting(&Actor::Anonymous), async |tx| {
                let stamp = tx.stamp();
                Ok(store::set_marketing_opt_out(tx.conn(), &email, true, &stamp).await.map(|_| ())?)
            })
            .await
    }

    /// Which alert emails staff member `staff` chose (none until they choose).
    pub async fn staff_alerts(
        &self,
        tenant: &TenantContext,
        staff: uuid::Uuid,
    ) -> Result<StaffAlerts, NotificationsError> {
        self.inner.db.in_tenant(tenant, &read(), async |tx| staff_alerts::get(tx, staff).await).await
    }

    /// Records staff member `staff`'s choice of alert emails (their own: `actor` is them).
    pub async fn set_staff_alerts(
        &self,
        tenant: &TenantContext,
        staff: uuid::Uuid,
        alerts: StaffAlerts,
        actor: &Actor,
    ) -> Result<StaffAlerts, NotificationsError> {
        self.inner.db.in_tenant(tenant, &acting(actor), async |tx| staff_alerts::set(tx, staff, alerts).await).await
    }

    /// Records the low-stock email of event `event_id` for every staff member who opted in (the
    /// subscriber's work, in a transaction of its own); how many it recorded.
    pub(crate) async fn send_low_stock_alerts(
        &self,
        tenant: &TenantContext,
        event_id: uuid::Uuid,
        event: &agora_inventory::LowStock,
    ) -> Result<usize, NotificationsError> {
        self.inner
            .db
            .in_tenant(tenant, &Acting::system("notifications.staff_alerts"), async |tx| {
                staff_alerts::send_low_stock(self, tx, event_id, event).await
            })
            .await
    }

    /// Everything kept about shop account `account` (`customer:<uuid>`) whose address is
    /// `email`, in the caller's tenant transaction.
    pub async fn recipient_data(
        &self,
        tx: &mut TenantTx<'_>,
        account: &str,
        email: &str,
    ) -> Result<RecipientData, NotificationsError> {
        Ok(store::recipient_data(tx.conn(), account, email).await?)
    }

    /// Erases shop account `account` as a recipient, in the caller's tenant transaction: the
    /// emails sent to it keep their row (addressed to `replacement`) and lose their content,
    /// those not yet delivered are stopped, and the preferences of its address `email` are
    /// forgotten.
    pub async fn erase_recipient(
        &self,
        tx: &mut TenantTx<'_>,
        account: &str,
        email: &str,
        replacement: &str,
    ) -> Result<(), NotificationsError> {
        Ok(store::erase_recipient(tx.conn(), account, email, replacement).await?)
    }
}

/// Reads act as no one in particular: nothing they do is stamped or audited.
fn read() -> Acting {
    Acting::system("read")
}

/// Staff (or a signed-in caller) changing the shop's email settings; audit columns name them.
fn acting(actor: &Actor) -> Acting {
    Acting::new(actor.clone(), None)
}

/// Mounted at `/notifications` in the storefront and the back office.
impl agora_kernel::Module for NotificationsModule {
    fn store(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        cfg.service(paperclip::actix::web::scope("/notifications").configure(http::store_routes));
    }

    fn admin(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        cfg.service(paperclip::actix::web::scope("/notifications").configure(http::admin_routes));
        // The signed-in member's own choices, beside identity's other `/me/…` routes.
        http::my_routes(cfg);
    }

    fn app_data(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        cfg.app_data(paperclip::actix::web::Data::new(self.clone()));
    }

    /// The delivery job, handed this module's mailer; the low-stock alerts' subscriber, handed
    /// the module.
    fn background(&self, events: &mut EventBusBuilder, jobs: &mut JobRegistry) -> Result<(), String> {
        delivery::register(Arc::clone(&self.inner.mailer), jobs);
        events.subscribe::<agora_inventory::LowStock, _, _>(
            staff_alerts::LOW_STOCK_SUBSCRIBER,
            staff_alerts::on_low_stock,
        );
        jobs.provide(Arc::new(self.clone()));
        Ok(())
    }
}
