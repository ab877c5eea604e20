//! The shop's own versions of templates: saved only once they render, guarded by If-Match.

use crate::store;
use crate::templates::{self, TemplateSource};
use crate::{NotificationsError, Template, TemplateContent, TemplatePreview};
use agora_kernel::{TenantTx, Version};

/// How the audit log names a template in one locale.
pub(crate) fn subject(key: &str, locale: &str) -> Option<String> {
    Some(format!("email_template:{key}/{locale}"))
}

pub(crate) async fn save(
    tx: &mut TenantTx<'_>,
    key: &str,
    locale: &str,
    content: TemplateContent,
    expected: Option<i64>,
) -> Result<Template, NotificationsError> {
    // An empty HTML part means "no HTML alternative".
    let body_html = content.body_html.filter(|html| !html.trim().is_empty());
    let source = TemplateSource { subject: content.subject, body_text: content.body_text, body_html };
    // Checking renders the template: on a blocking thread, with the engine's fuel and size caps.
    let (checked_key, checked) = (key.to_string(), source.clone());
    tokio::task::spawn_blocking(move || templates::validate_shop_template(&checked_key, &checked))
        .await
        .map_err(|e| NotificationsError::field("body_text", format!("checking the template stopped: {e}")))?
        .map_err(agora_kernel::CommonError::Invalid)?;
    let current = store::shop_template(tx.conn(), key, locale).await?;
    Version::check(expected, current.as_ref().map(|r| r.version))?;
    let stamp = tx.stamp();
    let saved = store::upsert_template(tx.conn(), key, locale, &source, &stamp).await?;
    // What was saved is in the template itself; the log says who and when.
    tx.audit("notifications.template.saved", subject(key, locale), serde_json::json!({ "version": saved.version }))
        .await?;
    Ok(saved)
}

/// The unsaved `content` rendered with sample values (see [`templates::preview`]).
pub(crate) async fn preview(key: &str, content: TemplateContent) -> Result<TemplatePreview, NotificationsError> {
    let body_html = content.body_html.filter(|html| !html.trim().is_empty());
    let source = TemplateSource { subject: content.subject, body_text: content.body_text, body_html };
    let key = key.to_string();
    // Rendering on a blocking thread, with the engine's fuel and size caps, as a save does.
    let rendered = tokio::task::spawn_blocking(move || templates::preview(&key, &source))
        .await
        .map_err(|e| NotificationsError::field("body_text", format!("rendering the template stopped: {e}")))?
        .map_err(agora_kernel::CommonError::Invalid)?;
    Ok(TemplatePreview { subject: rendered.subject, body_text: rendered.body_text, body_html: rendered.body_html })
}

pub(crate) async fn remove(
    tx: &mut TenantTx<'_>,
    key: &str,
    locale: &str,
    expected: Option<i64>,
) -> Result<(), NotificationsError> {
    let current = store::shop_template(tx.conn(), key, locale)
        .await?
        .ok_or_else(|| NotificationsError::NoOverride { key: key.to_string(), locale: locale.to_string() })?;
    Version::check(expected, current.version)?;
    store::delete_template(tx.conn(), key, locale).await?;
    tx.audit("notifications.template.reset", subject(key, locale), serde_json::json!({})).await?;
    Ok(())
}
