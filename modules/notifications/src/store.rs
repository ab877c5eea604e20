//! SQL for templates, emails and preferences. Every function runs on a connection already inside
//! the caller's tenant transaction (so the tables resolve to the shop's schema).

use crate::schema::{notification_messages, notification_preferences, notification_templates};
use crate::templates::{self, Origin, TemplateSource};
use crate::{
    Category, Message, MessageFilter, MessageStatus, MessageSummary, NotificationsError, Preferences, Template,
    TemplateSummary,
};
use agora_kernel::lists::{Keyset, Page};
use agora_kernel::sealing::Sealer;
use agora_kernel::{FieldError, Stamp};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::str::FromStr;

/// Who the module records as having changed an email it handles on its own.
pub(crate) const SYSTEM: &str = crate::messages::SYSTEM;

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

// ---------------------------------------------------------------------------------------------
// Input parsed at the edge
// ---------------------------------------------------------------------------------------------

pub(crate) fn key_error(key: &str) -> Option<FieldError> {
    (!templates::valid_key(key)).then(|| {
        FieldError::new("template", "a template key: lowercase letters, digits and _, e.g. order_confirmation")
    })
}

pub(crate) fn locale_or_error(raw: &str, field: &str) -> Result<String, FieldError> {
    templates::canonical_locale(raw).ok_or_else(|| FieldError::new(field, "a language tag such as en, de or de-CH"))
}

/// An email address as the recipient of one email (no display name, at most 254 characters).
pub(crate) fn address_or_error(raw: &str, field: &str) -> Result<String, FieldError> {
    let trimmed = raw.trim();
    match lettre::Address::from_str(trimmed) {
        Ok(_) if trimmed.len() <= 254 => Ok(trimmed.to_string()),
        _ => Err(FieldError::new(field, "an email address such as anna@example.com")),
    }
}

/// The path of a template: its key and canonical locale.
pub(crate) fn template_address(key: &str, locale: &str) -> Result<(String, String), NotificationsError> {
    let mut errors = Vec::new();
    if !templates::valid_key(key) {
        errors.push(FieldError::new("key", "lowercase letters, digits and _, e.g. order_confirmation"));
    }
    let locale = locale_or_error(locale, "locale").map_err(|e| errors.push(e)).ok();
    match (errors.is_empty(), locale) {
        (true, Some(locale)) => Ok((key.to_string(), locale)),
        _ => Err(agora_kernel::CommonError::Invalid(errors).into()),
    }
}

/// Preferences are kept per lower-cased address.
pub(crate) fn preference_address(email: &str) -> Result<String, NotificationsError> {
    address_or_error(email, "email")
        .map(|a| a.to_lowercase())
        .map_err(|e| agora_kernel::CommonError::Invalid(vec![e]).into())
}

// ---------------------------------------------------------------------------------------------
// Emails
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notification_messages)]
pub(crate) struct MessageRow {
    pub id: uuid::Uuid,
    pub template_key: String,
    pub locale: String,
    pub category: String,
    pub sender: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub provider_message_id: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub recipient_account: Option<String>,
}

impl MessageRow {
    pub(crate) fn status(&self) -> MessageStatus {
        // The CHECK constraint admits only known statuses.
        MessageStatus::parse(&self.status).unwrap_or(MessageStatus::Failed)
    }

    fn category(&self) -> Category {
        Category::parse(&self.category).unwrap_or(Category::Transactional)
    }

    pub(crate) fn into_message(self) -> Message {
        Message {
            status: self.status(),
            category: self.category(),
            id: self.id,
            template: self.template_key,
            locale: self.locale,
            from: self.sender,
            to: self.recipient,
            account: self.recipient_account,
            subject: self.subject,
            body_text: self.body_text,
            body_html: self.body_html,
            attempts: self.attempts,
            last_error: self.last_error,
            provider_message_id: self.provider_message_id,
            sent_at: self.sent_at,
            created_at: self.created_at,
            modified_at: self.modified_at,
        }
    }

    fn into_summary(self) -> MessageSummary {
        MessageSummary {
            status: self.status(),
            category: self.category(),
            id: self.id,
            template: self.template_key,
            locale: self.locale,
            to: self.recipient,
            subject: self.subject,
            attempts: self.attempts,
            last_error: self.last_error,
            sent_at: self.sent_at,
            created_at: self.created_at,
        }
    }
}

/// The template `key` for `locale`, following the fallback chain; with the locale it was found in.
pub(crate) async fn resolve_template(
    conn: &mut AsyncPgConnection,
    key: &str,
    locale: &str,
) -> QueryResult<Option<(String, TemplateSource)>> {
    let chain = templates::fallback_chain(key, locale);
    let shop_locales: Vec<&str> =
        chain.iter().filter(|(origin, _)| *origin == Origin::Shop).map(|(_, l)| l.as_str()).collect();
    let shop_versions: Vec<TemplateRow> = notification_templates::table
        .filter(notification_templates::template_key.eq(key))
        .filter(notification_templates::locale.eq_any(&shop_locales))
        .select(TemplateRow::as_select())
        .load(conn)
        .await?;
    for (origin, candidate) in &chain {
        let found = match origin {
            Origin::Shop => shop_versions.iter().find(|row| &row.locale == candidate).map(TemplateRow::source),
            Origin::BuiltIn => templates::built_in(key).and_then(|b| b.in_locale(candidate)).map(|l| l.source()),
        };
        if let Some(source) = found {
            return Ok(Some((candidate.clone(), source)));
        }
    }
    Ok(None)
}

pub(crate) async fn opted_out_of_marketing(conn: &mut AsyncPgConnection, recipient: &str) -> QueryResult<bool> {
    Ok(notification_preferences::table
        .filter(notification_preferences::email.eq(recipient.to_lowercase()))
        .select(notification_preferences::marketing_opt_out)
        .first::<bool>(conn)
        .await
        .optional()?
        .unwrap_or(false))
}

/// What sealing an email's one-time content is for (its key is derived from this).
pub(crate) const SEALED_CONTENT: &str = "email-content";

/// The place a sealed email belongs to: its shop and itself, so a sealed content copied into
/// another email or shop does not open.
pub(crate) fn sealed_place(tenant: uuid::Uuid, id: uuid::Uuid) -> Vec<u8> {
    [tenant.as_bytes().as_slice(), id.as_bytes().as_slice()].concat()
}

/// The email as it goes to its recipient, when it differs from the stored copy.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct RecipientCopy {
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
}

/// How an email is recorded: its sender, the sealer for one-time links, and (for marketing email)
/// the unsubscribe link it carries.
pub(crate) struct Outgoing<'a> {
    pub sender: &'a str,
    pub sealer: &'a Sealer,
    pub unsubscribe_url: Option<String>,
}

/// A new email row, rendered and decided.
pub(crate) struct NewMessage<'a> {
    pub id: uuid::Uuid,
    pub template: &'a str,
    pub locale: &'a str,
    pub category: Category,
    pub sender: &'a str,
    pub recipient: &'a str,
    pub account: Option<&'a str>,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: Option<&'a str>,
    pub sealed_content: Option<Vec<u8>>,
    pub status: MessageStatus,
}

pub(crate) async fn insert_message(
    conn: &mut AsyncPgConnection,
    new: NewMessage<'_>,
    by: &str,
) -> QueryResult<Message> {
    let row = diesel::insert_into(notification_messages::table)
        .values((
            notification_messages::id.eq(new.id),
            notification_messages::template_key.eq(new.template),
            notification_messages::locale.eq(new.locale),
            notification_messages::category.eq(new.category.as_str()),
            notification_messages::sender.eq(new.sender),
            notification_messages::recipient.eq(new.recipient),
            notification_messages::recipient_account.eq(new.account),
            notification_messages::subject.eq(new.subject),
            notification_messages::body_text.eq(new.body_text),
            notification_messages::body_html.eq(new.body_html),
            notification_messages::sealed_content.eq(new.sealed_content),
            notification_messages::status.eq(new.status.as_str()),
            notification_messages::created_by.eq(by),
            notification_messages::modified_by.eq(by),
        ))
        .returning(MessageRow::as_returning())
        .get_result(conn)
        .await?;
    Ok(row.into_message())
}

pub(crate) async fn find_message(conn: &mut AsyncPgConnection, id: uuid::Uuid) -> QueryResult<Option<Message>> {
    Ok(notification_messages::table
        .find(id)
        .select(MessageRow::as_select())
        .first(conn)
        .await
        .optional()?
        .map(MessageRow::into_message))
}

pub(crate) async fn list_messages(
    conn: &mut AsyncPgConnection,
    page: &Keyset<DateTime<Utc>>,
    filter: &MessageFilter,
) -> Result<Page<MessageSummary>, NotificationsError> {
    let mut query = notification_messages::table.select(MessageRow::as_select()).limit(page.fetch_limit()).into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(notification_messages::status.eq(status.as_str()));
    }
    if let Some(recipient) = &filter.recipient {
        query = query.filter(lower(notification_messages::recipient).eq(recipient.trim().to_lowercase()));
    }
    let rows: Vec<MessageRow> =
        page.apply(query, notification_messages::created_at, notification_messages::id).load(conn).await?;
    let items: Vec<MessageSummary> = rows.into_iter().map(MessageRow::into_summary).collect();
    Ok(page.page(items, |m| (m.created_at, m.id)))
}

/// The email, locked for a change.
pub(crate) async fn lock_message(conn: &mut AsyncPgConnection, id: uuid::Uuid) -> QueryResult<Option<MessageRow>> {
    notification_messages::table.find(id).select(MessageRow::as_select()).for_update().first(conn).await.optional()
}

/// Puts the email back in the queue.
pub(crate) async fn requeue(conn: &mut AsyncPgConnection, id: uuid::Uuid, stamp: &Stamp) -> QueryResult<Message> {
    let row = diesel::update(notification_messages::table.find(id))
        .set((
            notification_messages::status.eq(MessageStatus::Queued.as_str()),
            agora_kernel::stamp_change!(stamp, notification_messages),
        ))
        .returning(MessageRow::as_returning())
        .get_result(conn)
        .await?;
    Ok(row.into_message())
}

/// What a delivery job should do with an email.
pub(crate) enum Delivery {
    /// Nothing left to do (already delivered, stored, suppressed or given up).
    Done(MessageStatus),
    /// Hand it to the SMTP server.
    Send(Box<Message>),
}

/// Decides, in a short transaction, what delivering email `id` means now: an email delivered by
/// an earlier run is left alone, marketing email to a recipient who opted out since it was
/// queued is suppressed, and without SMTP the email is stored in the shop's mailbox.
///
/// The copy for the recipient (with its one-time links) is opened here, for the SMTP server only;
/// kept in the mailbox instead, the email loses it, so no one ever reads those links there.
pub(crate) async fn prepare_delivery(
    conn: &mut AsyncPgConnection,
    tenant: uuid::Uuid,
    id: uuid::Uuid,
    smtp_configured: bool,
    sealer: &Sealer,
    stamp: &Stamp,
) -> Result<Delivery, NotificationsError> {
    let Some(row) = notification_messages::table
        .find(id)
        .select(MessageRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
    else {
        return Ok(Delivery::Done(MessageStatus::Failed));
    };
    if row.status() != MessageStatus::Queued {
        return Ok(Delivery::Done(row.status()));
    }
    let next = if row.category() == Category::Marketing && opted_out_of_marketing(conn, &row.recipient).await? {
        MessageStatus::Suppressed
    } else if !smtp_configured {
        MessageStatus::Stored
    } else {
        let sealed: Option<Vec<u8>> =
            notification_messages::table.find(id).select(notification_messages::sealed_content).first(conn).await?;
        let mut message = row.into_message();
        if let Some(sealed) = sealed {
            let (plain, _) = sealer.open_text(SEALED_CONTENT, &sealed_place(tenant, id), &sealed)?;
            let copy: RecipientCopy =
                serde_json::from_str(&plain).map_err(|_| agora_kernel::sealing::SealError::Unopenable)?;
            (message.subject, message.body_text, message.body_html) = (copy.subject, copy.body_text, copy.body_html);
        }
        return Ok(Delivery::Send(Box::new(message)));
    };
    diesel::update(notification_messages::table.find(id))
        .set((
            notification_messages::sealed_content.eq(None::<Vec<u8>>),
            notification_messages::status.eq(next.as_str()),
            agora_kernel::stamp_change!(stamp, notification_messages),
        ))
        .execute(conn)
        .await?;
    Ok(Delivery::Done(next))
}

pub(crate) async fn record_sent(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    reply: &str,
    stamp: &Stamp,
) -> QueryResult<()> {
    diesel::update(notification_messages::table.find(id))
        .set((
            notification_messages::status.eq(MessageStatus::Sent.as_str()),
            notification_messages::sealed_content.eq(None::<Vec<u8>>),
            notification_messages::sent_at.eq(diesel::dsl::now),
            notification_messages::provider_message_id.eq(reply),
            notification_messages::attempts.eq(notification_messages::attempts + 1),
            notification_messages::last_error.eq(None::<String>),
            agora_kernel::stamp_change!(stamp, notification_messages),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a failed attempt; with `give_up` the email is `failed` (a merchant may resend it).
pub(crate) async fn record_failure(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    error: &str,
    give_up: bool,
    stamp: &Stamp,
) -> QueryResult<()> {
    let status = if give_up { MessageStatus::Failed } else { MessageStatus::Queued };
    let error: String = error.chars().take(1000).collect();
    diesel::update(notification_messages::table.find(id).filter(notification_messages::status.eq("queued")))
        .set((
            notification_messages::status.eq(status.as_str()),
            notification_messages::attempts.eq(notification_messages::attempts + 1),
            notification_messages::last_error.eq(error),
            agora_kernel::stamp_change!(stamp, notification_messages),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notification_templates)]
pub(crate) struct TemplateRow {
    pub template_key: String,
    pub locale: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub modified_at: DateTime<Utc>,
    pub modified_by: String,
    pub version: i64,
}

impl TemplateRow {
    fn source(&self) -> TemplateSource {
        TemplateSource {
            subject: self.subject.clone(),
            body_text: self.body_text.clone(),
            body_html: self.body_html.clone(),
        }
    }

    fn into_template(self) -> Template {
        let built_in = templates::built_in(&self.template_key);
        Template {
            built_in: built_in.and_then(|b| b.in_locale(&self.locale)).is_some(),
            overridden: true,
            variables: built_in.map(|b| b.variables()).unwrap_or_default(),
            version: Some(self.version),
            modified_at: Some(self.modified_at),
            modified_by: Some(self.modified_by),
            key: self.template_key,
            locale: self.locale,
            subject: self.subject,
            body_text: self.body_text,
            body_html: self.body_html,
        }
    }
}

pub(crate) async fn list_templates(conn: &mut AsyncPgConnection) -> Result<Vec<TemplateSummary>, NotificationsError> {
    let rows: Vec<TemplateRow> = notification_templates::table
        .select(TemplateRow::as_select())
        .order((notification_templates::template_key, notification_templates::locale))
        .load(conn)
        .await?;
    let shop_version = |key: &str, locale: &str| rows.iter().find(|r| r.template_key == key && r.locale == locale);
    let mut list = Vec::new();
    for built_in in templates::BUILT_INS {
        for shipped in built_in.locales {
            let own = shop_version(built_in.key, shipped.locale);
            list.push(TemplateSummary {
                key: built_in.key.to_string(),
                locale: shipped.locale.to_string(),
                built_in: true,
                overridden: own.is_some(),
                subject: own.map_or_else(|| shipped.subject.trim().to_string(), |r| r.subject.clone()),
                variables: built_in.variables(),
                version: own.map(|r| r.version),
            });
        }
    }
    for row in &rows {
        let ships = templates::built_in(&row.template_key).and_then(|b| b.in_locale(&row.locale)).is_some();
        if !ships {
            list.push(TemplateSummary {
                key: row.template_key.clone(),
                locale: row.locale.clone(),
                built_in: false,
                overridden: true,
                subject: row.subject.clone(),
                variables: templates::built_in(&row.template_key).map(|b| b.variables()).unwrap_or_default(),
                version: Some(row.version),
            });
        }
    }
    Ok(list)
}

pub(crate) async fn shop_template(
    conn: &mut AsyncPgConnection,
    key: &str,
    locale: &str,
) -> QueryResult<Option<TemplateRow>> {
    notification_templates::table
        .filter(notification_templates::template_key.eq(key))
        .filter(notification_templates::locale.eq(locale))
        .select(TemplateRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub(crate) async fn get_template(
    conn: &mut AsyncPgConnection,
    key: &str,
    locale: &str,
) -> Result<Template, NotificationsError> {
    if let Some(row) = shop_template(conn, key, locale).await? {
        return Ok(row.into_template());
    }
    let built_in = templates::built_in(key);
    let shipped = built_in
        .and_then(|b| b.in_locale(locale))
        .ok_or_else(|| NotificationsError::TemplateNotFound { key: key.to_string(), locale: locale.to_string() })?;
    Ok(Template {
        key: key.to_string(),
        locale: locale.to_string(),
        subject: shipped.subject.trim().to_string(),
        body_text: shipped.body_text.to_string(),
        body_html: Some(shipped.body_html.to_string()),
        built_in: true,
        overridden: false,
        variables: built_in.map(|b| b.variables()).unwrap_or_default(),
        version: None,
        modified_at: None,
        modified_by: None,
    })
}

/// Makes `source` the shop's version of template `key` in `locale`.
pub(crate) async fn upsert_template(
    conn: &mut AsyncPgConnection,
    key: &str,
    locale: &str,
    source: &TemplateSource,
    stamp: &Stamp,
) -> QueryResult<Template> {
    let row = diesel::insert_into(notification_templates::table)
        .values((
            notification_templates::id.eq(agora_kernel::new_id()),
            notification_templates::template_key.eq(key),
            notification_templates::locale.eq(locale),
            notification_templates::subject.eq(&source.subject),
            notification_templates::body_text.eq(&source.body_text),
            notification_templates::body_html.eq(&source.body_html),
            agora_kernel::stamp_new!(stamp, notification_templates),
        ))
        .on_conflict((notification_templates::template_key, notification_templates::locale))
        .do_update()
        .set((
            notification_templates::subject.eq(&source.subject),
            notification_templates::body_text.eq(&source.body_text),
            notification_templates::body_html.eq(&source.body_html),
            agora_kernel::stamp_change!(stamp, notification_templates),
        ))
        .returning(TemplateRow::as_returning())
        .get_result(conn)
        .await?;
    Ok(row.into_template())
}

pub(crate) async fn delete_template(conn: &mut AsyncPgConnection, key: &str, locale: &str) -> QueryResult<()> {
    diesel::delete(
        notification_templates::table
            .filter(notification_templates::template_key.eq(key))
            .filter(notification_templates::locale.eq(locale)),
    )
    .execute(conn)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Preferences
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notification_preferences)]
struct PreferencesRow {
    email: String,
    marketing_opt_out: bool,
    modified_at: DateTime<Utc>,
    version: i64,
}

impl PreferencesRow {
    fn into_preferences(self) -> Preferences {
        Preferences {
            email: self.email,
            marketing_opt_out: self.marketing_opt_out,
            modified_at: Some(self.modified_at),
            version: Some(self.version),
        }
    }
}

/// A recipient's preferences; the defaults for an address the shop has none for.
pub(crate) async fn preferences(conn: &mut AsyncPgConnection, email: &str) -> Result<Preferences, NotificationsError> {
    let row = notification_preferences::table
        .filter(notification_preferences::email.eq(email))
        .select(PreferencesRow::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(PreferencesRow::into_preferences).unwrap_or_else(|| Preferences {
        email: email.to_string(),
        marketing_opt_out: false,
        modified_at: None,
        version: None,
    }))
}

/// Records the recipient's marketing choice (`email` already lower-cased).
pub(crate) async fn set_marketing_opt_out(
    conn: &mut AsyncPgConnection,
    email: &str,
    opt_out: bool,
    stamp: &Stamp,
) -> QueryResult<Preferences> {
    let row = diesel::insert_into(notification_preferences::table)
        .values((
            notification_preferences::id.eq(agora_kernel::new_id()),
            notification_preferences::email.eq(email),
            notification_preferences::marketing_opt_out.eq(opt_out),
            agora_kernel::stamp_new!(stamp, notification_preferences),
        ))
        .on_conflict(notification_preferences::email)
        .do_update()
        .set((
            notification_preferences::marketing_opt_out.eq(opt_out),
            agora_kernel::stamp_change!(stamp, notification_preferences),
        ))
        .returning(PreferencesRow::as_returning())
        .get_result(conn)
        .await?;
    Ok(row.into_preferences())
}

// ---------------------------------------------------------------------------------------------
// A recipient's personal data (GDPR)
// ---------------------------------------------------------------------------------------------

/// Every email sent to `account` (oldest first), and whether its address `email` opted out of
/// marketing. Matched by account, never by address: a staff member's email to the same address
/// is not the customer's.
pub(crate) async fn recipient_data(
    conn: &mut AsyncPgConnection,
    account: &str,
    email: &str,
) -> QueryResult<crate::RecipientData> {
    let emails: Vec<MessageRow> = notification_messages::table
        .filter(notification_messages::recipient_account.eq(account))
        .order((notification_messages::created_at, notification_messages::id))
        .select(MessageRow::as_select())
        .load(conn)
        .await?;
    Ok(crate::RecipientData {
        emails: emails.into_iter().map(MessageRow::into_message).collect(),
        marketing_opt_out: opted_out_of_marketing(conn, email).await?,
    })
}

/// Blanks every email sent to `account` (the rows stay, addressed to `replacement`, so the
/// mailbox's counts hold), stops those not yet delivered, and forgets the preferences of its
/// address `email`.
pub(crate) async fn erase_recipient(
    conn: &mut AsyncPgConnection,
    account: &str,
    email: &str,
    replacement: &str,
) -> QueryResult<()> {
    const ERASED: &str = "[erased]";
    let theirs = notification_messages::recipient_account.eq(account.to_string());
    // A queued email would otherwise still go out, to the replacement address.
    diesel::update(notification_messages::table.filter(theirs.clone()))
        .filter(notification_messages::status.eq(MessageStatus::Queued.as_str()))
        .set(notification_messages::status.eq(MessageStatus::Suppressed.as_str()))
        .execute(conn)
        .await?;
    diesel::update(notification_messages::table.filter(theirs))
        .set((
            notification_messages::recipient.eq(replacement),
            notification_messages::subject.eq(ERASED),
            notification_messages::body_text.eq(ERASED),
            notification_messages::body_html.eq(None::<String>),
            notification_messages::sealed_content.eq(None::<Vec<u8>>),
            // SMTP replies quote the address.
            notification_messages::last_error.eq(None::<String>),
            notification_messages::modified_at.eq(diesel::dsl::now),
            notification_messages::modified_by.eq(SYSTEM),
            notification_messages::version.eq(notification_messages::version + 1),
        ))
        .execute(conn)
        .await?;
    diesel::delete(notification_preferences::table.filter(notification_preferences::email.eq(email.to_lowercase())))
        .execute(conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Staff alerts (the emails staff members opt in to)
// ---------------------------------------------------------------------------------------------

/// Whether staff member `staff` opted in to low-stock alerts (no row: they never chose, so no).
pub(crate) async fn low_stock_alerts(conn: &mut AsyncPgConnection, staff: uuid::Uuid) -> QueryResult<bool> {
    use crate::schema::staff_alert_subscriptions as s;
    Ok(s::table.filter(s::staff_id.eq(staff)).select(s::low_stock).first(conn).await.optional()?.unwrap_or(false))
}

/// Records staff member `staff`'s choice of low-stock alerts.
pub(crate) async fn set_low_stock_alerts(
    conn: &mut AsyncPgConnection,
    staff: uuid::Uuid,
    low_stock: bool,
    stamp: &Stamp,
) -> QueryResult<bool> {
    use crate::schema::staff_alert_subscriptions;
    diesel::insert_into(staff_alert_subscriptions::table)
        .values((
            staff_alert_subscriptions::staff_id.eq(staff),
            staff_alert_subscriptions::low_stock.eq(low_stock),
            agora_kernel::stamp_new!(stamp, staff_alert_subscriptions),
        ))
        .on_conflict(staff_alert_subscriptions::staff_id)
        .do_update()
        .set((
            staff_alert_subscriptions::low_stock.eq(low_stock),
            agora_kernel::stamp_change!(stamp, staff_alert_subscriptions),
        ))
        .returning(staff_alert_subscriptions::low_stock)
        .get_result(conn)
        .await
}

/// Every staff member who opted in to low-stock alerts, in a stable order.
pub(crate) async fn low_stock_subscribers(conn: &mut AsyncPgConnection) -> QueryResult<Vec<uuid::Uuid>> {
    use crate::schema::staff_alert_subscriptions as s;
    s::table.filter(s::low_stock.eq(true)).order(s::staff_id).select(s::staff_id).load(conn).await
}

/// Notes that event `event`'s alert goes to `staff` as email `message`; `false` when it went
/// already (the event is being delivered again), and nothing is written.
pub(crate) async fn note_alert_sent(
    conn: &mut AsyncPgConnection,
    event: uuid::Uuid,
    staff: uuid::Uuid,
    message: uuid::Uuid,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    use crate::schema::staff_alerts_sent as s;
    let inserted = diesel::insert_into(s::table)
        .values((s::event_id.eq(event), s::staff_id.eq(staff), s::message_id.eq(message), s::created_at.eq(at)))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// Whether event `event`'s alert went to `staff` already.
pub(crate) async fn alert_sent(
    conn: &mut AsyncPgConnection,
    event: uuid::Uuid,
    staff: uuid::Uuid,
) -> QueryResult<bool> {
    use crate::schema::staff_alerts_sent as s;
    let found: Option<uuid::Uuid> = s::table
        .filter(s::event_id.eq(event).and(s::staff_id.eq(staff)))
        .select(s::message_id)
        .first(conn)
        .await
        .optional()?;
    Ok(found.is_some())
}
