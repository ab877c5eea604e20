//! The shop's emails as rules: composing one (validation, rendering, sealing the recipient's
//! copy, the opt-out decision), and queueing its delivery in the caller's transaction.

use crate::delivery::DeliverEmail;
use crate::store::{self, Outgoing};
use crate::templates::{self, TemplateSource};
use crate::{Category, Message, MessageStatus, NotificationsError, SendEmail};
use agora_kernel::jobs::EnqueueOptions;
use agora_kernel::{FieldError, TenantContext, TenantTx};
use diesel_async::AsyncPgConnection;

/// Who an email is recorded as created by: the module, whoever asked for it.
pub(crate) const SYSTEM: &str = "system:notifications";

/// One unfinished delivery job per email, however often it is (re)queued.
pub(crate) fn delivery(id: uuid::Uuid) -> (DeliverEmail, EnqueueOptions) {
    (DeliverEmail { message_id: id }, EnqueueOptions { dedup_key: Some(id.to_string()), ..Default::default() })
}

/// [`compose`]s `request` and queues its delivery in the shop's transaction.
pub(crate) async fn send(
    tx: &mut TenantTx<'_>,
    out: &Outgoing<'_>,
    request: SendEmail,
) -> Result<Message, NotificationsError> {
    let tenant = tx.tenant().clone();
    let message = compose(tx.conn(), &tenant, out, request).await?;
    if message.status == MessageStatus::Queued {
        let (job, options) = delivery(message.id);
        tx.enqueue(&job, options).await?;
    }
    Ok(message)
}

/// Puts a failed email back in the queue with a fresh delivery job.
pub(crate) async fn resend(tx: &mut TenantTx<'_>, id: uuid::Uuid) -> Result<Message, NotificationsError> {
    let row = store::lock_message(tx.conn(), id).await?.ok_or(NotificationsError::MessageNotFound(id))?;
    if row.status() != MessageStatus::Failed {
        return Err(NotificationsError::NotResendable { id, status: row.status.clone() });
    }
    let stamp = tx.stamp();
    let message = store::requeue(tx.conn(), id, &stamp).await?;
    let (job, options) = delivery(id);
    tx.enqueue(&job, options).await?;
    Ok(message)
}

/// Renders on a blocking thread (rendering is bounded, but never on a request's thread).
pub(crate) async fn render_off_thread(
    source: TemplateSource,
    variables: serde_json::Value,
    secrets: Vec<String>,
) -> Result<templates::TwoCopies, Vec<(templates::Part, String)>> {
    tokio::task::spawn_blocking(move || templates::render_with_secrets(&source, &variables, &secrets))
        .await
        .unwrap_or_else(|e| Err(vec![(templates::Part::BodyText, format!("rendering stopped: {e}"))]))
}

/// The footer that lets a recipient leave a marketing list, unless the template already shows
/// the link.
pub(crate) fn with_unsubscribe(mut rendered: templates::Rendered, url: &str) -> templates::Rendered {
    if !rendered.body_text.contains(url) {
        rendered.body_text.push_str(&format!("\n\n--\nNo more emails like this: {url}\n"));
    }
    if let Some(html) = rendered.body_html.as_mut().filter(|h| !h.contains(url)) {
        html.push_str(&format!("\n<p><a href=\"{url}\">Unsubscribe</a></p>\n"));
    }
    rendered
}

/// Validates and renders `request` and records it; whether it is to be delivered is its status
/// (`queued`), and queueing the delivery is the caller's, in the same transaction.
pub(crate) async fn compose(
    conn: &mut AsyncPgConnection,
    tenant: &TenantContext,
    out: &Outgoing<'_>,
    request: SendEmail,
) -> Result<Message, NotificationsError> {
    let mut errors: Vec<FieldError> = Vec::new();
    if let Some(e) = store::key_error(&request.template) {
        errors.push(e);
    }
    let locale = store::locale_or_error(&request.locale, "locale").map_err(|e| errors.push(e)).ok();
    let recipient = store::address_or_error(&request.to, "to").map_err(|e| errors.push(e)).ok();
    if !request.variables.is_object() {
        errors.push(FieldError::new("variables", "a JSON object of the template's variables"));
    }
    let (Some(locale), Some(recipient), true) = (locale, recipient, errors.is_empty()) else {
        return Err(agora_kernel::CommonError::Invalid(errors).into());
    };
    let Some((used_locale, source)) = store::resolve_template(conn, &request.template, &locale).await? else {
        return Err(NotificationsError::field(
            "template",
            format!("no template `{}` for locale {locale} or its fallbacks", request.template),
        ));
    };
    let mut variables = request.variables.clone();
    if let (Some(url), serde_json::Value::Object(map)) = (&out.unsubscribe_url, &mut variables) {
        map.entry("unsubscribe_url").or_insert_with(|| serde_json::Value::String(url.clone()));
    }
    let mut rendered = render_off_thread(source, variables.clone(), request.secrets.clone()).await;
    if rendered.is_err() && !request.secrets.is_empty() {
        // A shop's version saved before one-time links had to stand whole: Agora's own wording
        // carries the link rather than no email at all.
        let shipped = templates::built_in(&request.template)
            .and_then(|b| b.in_locale(&used_locale).or_else(|| b.in_locale(templates::FALLBACK_LOCALE)));
        if let Some(shipped) = shipped {
            tracing::warn!(template = %request.template, "the shop's version misuses a one-time link; sending the built-in one");
            rendered = render_off_thread(shipped.source(), variables, request.secrets.clone()).await;
        }
    }
    let copies = rendered.map_err(|problems| {
        agora_kernel::CommonError::Invalid(
            problems
                .into_iter()
                .map(|(part, message)| FieldError::new("variables", format!("{}: {message}", part.name())))
                .collect(),
        )
    })?;
    let (stored, for_recipient) = match &out.unsubscribe_url {
        Some(url) => (with_unsubscribe(copies.stored, url), copies.for_recipient.map(|r| with_unsubscribe(r, url))),
        None => (copies.stored, copies.for_recipient),
    };
    let status = if request.category == Category::Marketing && store::opted_out_of_marketing(conn, &recipient).await? {
        MessageStatus::Suppressed
    } else {
        MessageStatus::Queued
    };
    let id = agora_kernel::new_id();
    // Only an email that will be delivered keeps its recipient's copy, and only sealed.
    let sealed = match for_recipient.filter(|_| status == MessageStatus::Queued) {
        Some(copy) => {
            let copy =
                store::RecipientCopy { subject: copy.subject, body_text: copy.body_text, body_html: copy.body_html };
            let plain = serde_json::to_vec(&copy).map_err(|_| agora_kernel::sealing::SealError::Sealing)?;
            Some(out.sealer.seal(store::SEALED_CONTENT, &store::sealed_place(tenant.id, id), &plain)?)
        }
        None => None,
    };
    let new = store::NewMessage {
        id,
        template: &request.template,
        locale: &used_locale,
        category: request.category,
        sender: out.sender,
        recipient: &recipient,
        account: request.account.as_deref(),
        subject: &stored.subject,
        body_text: &stored.body_text,
        body_html: stored.body_html.as_deref(),
        sealed_content: sealed,
        status,
    };
    let message = store::insert_message(conn, new, SYSTEM).await?;
    tracing::info!(email = %id, template = %request.template, locale = %used_locale, status = status.as_str(), "email recorded");
    Ok(message)
}
