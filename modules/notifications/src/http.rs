//! HTTP face of notifications: the shop's mailbox, templates and recipients' preferences for
//! staff, and the unsubscribe endpoint for storefronts.

use crate::{
    Message, MessageFilter, MessageStatus, MessageSummary, NotificationsModule, Preferences, PreferencesUpdate,
    StaffAlerts, Template, TemplateContent, TemplatePreview, TemplateSummary, TestEmail,
};
use agora_kernel::areas::Area;
use agora_kernel::auth::Principal;
use agora_kernel::error::ErrorKind;
use agora_kernel::lists::{ListQuery, NewestFirst, Page};
use agora_kernel::{perm, ApiError, Authorized, IfMatch, TenantContext, Versioned};
use paperclip::actix::{api_v2_operation, web, AcceptedJson, Apiv2Schema, NoContent};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, Apiv2Schema)]
struct MessageListQuery {
    /// Only emails in this status: queued, sent, stored, failed or suppressed.
    status: Option<String>,
    /// Only emails to this address (case-insensitive).
    recipient: Option<String>,
}

/// The shop's emails, newest first: what it sent, and (without an SMTP server) its outbox
/// mailbox of what it would have sent.
#[api_v2_operation(tags(Admin), operation_id = "listEmails")]
async fn list_messages(
    _auth: Authorized<perm::NotificationsManage>,
    tenant: TenantContext,
    module: web::Data<NotificationsModule>,
    page: ListQuery<NewestFirst>,
    query: web::Query<MessageListQuery>,
) -> Result<web::Json<Page<MessageSummary>>, ApiError> {
    let query = query.into_inner();
    let status = match query.status.as_deref() {
        None => None,
        Some(raw) => Some(
            MessageStatus::parse(raw)
                .ok_or_else(|| ApiError::field("status", "one of queued, sent, stored, failed, suppressed"))?,
        ),
    };
    let page = page.keyset()?;
    let filter = MessageFilter { status, recipient: query.recipient };
    Ok(web::Json(module.messages(&tenant, &page, filter).await?))
}

/// One email with its full text and HTML.
#[api_v2_operation(tags(Admin), operation_id = "getEmail")]
async fn get_message(
    _auth: Authorized<perm::NotificationsManage>,
    tenant: TenantContext,
    module: web::Data<NotificationsModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<web::Json<Message>, ApiError> {
    Ok(web::Json(module.message(&tenant, id.into_inner()).await?))
}

/// Send a failed email again.
#[api_v2_operation(tags(Admin), operation_id = "resendEmail")]
async fn resend_message(
    auth: Authorized<perm::NotificationsManage>,
    tenant: TenantContext,
    module: web::Data<NotificationsModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<AcceptedJson<Message>, ApiError> {
    Ok(AcceptedJson(module.resend(&tenant, id.into_inner(), &auth.actor()).await?))
}

/// Send a template to an address, to see how it looks. Without `variables`, a built-in
/// template gets sample values.
#[api_v2_operation(tags(Admin), operation_id = "sendTestEmail")]
async fn send_test(
    auth: Authorized<perm::NotificationsManage>,
    tenant: TenantContext,
    module: web::Data<NotificationsModule>,
    body: web::Json<TestEmail>,
) -> Result<Versioned<Message, 202>, ApiError> {
    let message = module.send_test(&tenant, body.into_inner(), &auth.actor()).await?;
    let location = Area::Admin.path(&format!("/notifications/messages/{}", message.id));
    Ok(Versioned::optional(message, None).with_location(location))
}

#[derive(Debug, Serialize, Deserialize, Apiv2Schema)]
struct TemplateList {
    items: Vec<TemplateSummary>,
}

/// Every template the shop can send: the built-in ones in each locale Agora ships, marked when
/// the shop has its own version, and the shop's own templates.
#[api_v2_operation(tags(Admin), operation_id = "listEmailTemplates")]
async fn list_templates(
    _auth: Authorized<perm::NotificationsManage>,
    tenant: TenantContext,
    module: web::Data<NotificationsModule>,
) -> Result<web::Json<TemplateList>, ApiError> {
    Ok(web::Json(TemplateList { items: module.templates(&tenant).await? }))
}

/// A template in exactly this locale: the shop's version if it has one, else the built-in one.
#[api_v2_operation(tags(Admin), operation_id = "getEmailTemplate")]
async fn get_template(
    _auth: Authorized<perm::NotificationsManage>,
    tenant: TenantContext,
    module: web::Data<NotificationsModule>,
    path: web::Path<(String, String)>,
) -> Result<Versioned<Template>, ApiError> {
    let (key, locale) = path.into_inner();
    let template: Template = module.template(&tenant, &key, &locale).await?;
    let version = template.version;
    Ok(Versioned::optional(template, version))
}

/// Save the shop's version of a template (minijinja syntax). It is checked by rendering it with
/// the variables Agora gives that template; problems name `subject`, `body_text` or
/// `body_html`. Send `If-Match` with the ETag you read to avoid overwriting someone's edit.
#[api_v2_operation(tags(Admin), operation_id = "saveEmailTemplate")]
async fn save_template(
    auth: Authorized<perm::NotificationsManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<NotificationsModule>,
    path: web::Path<(String, String)>,
    body: web::Json<TemplateContent>,
) -> Result<Versioned<Template>, ApiError> {
    let (key, locale) = path.into_inner();
    let template = module.save_template(&tenant, &key, &locale, body.into_inner(), if_match.0, &auth.actor()).await?;
    let version = template.version;
    Ok(Versioned::optional(template, version))
}

/// Render an unsaved version of a template with sample values, to see it before saving. The
/// same checks as saving: a problem is a 422 naming `subject`, `body_text` or `body_html`.
/// One-time links show an example address, never a real token.
#[api_v2_operation(tags(Admin), operation_id = "previewEmailTemplate")]
async fn preview_template(
    _auth: Authorized<perm::NotificationsManage>,
    _tenant: TenantContext,
    module: web::Data<NotificationsModule>,
    path: web::Path<(String, String)>,
    body: web::Json<TemplateContent>,
) -> Result<web::Json<TemplatePreview>, ApiError> {
    let (key, locale) = path.into_inner();
    Ok(web::Json(module.preview_template(&key, &locale, body.into_inner()).await?))
}

/// Remove the shop's version of a template; the built-in one applies again.
#[api_v2_operation(tags(Admin), operation_id = "deleteEmailTemplate")]
async fn delete_template(
    auth: Authorized<perm::NotificationsManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<NotificationsModule>,
    path: web::Path<(String, String)>,
) -> Result<NoContent, ApiError> {
    let (key, locale) = path.into_inner();
    module.remove_template(&tenant, &key, &locale, if_match.0, &auth.actor()).await?;
    Ok(NoContent)
}

/// What a recipient agreed to receive.
#[api_v2_operation(tags(Admin), operation_id = "getEmailPreferences")]
async fn get_preferences(
    _auth: Authorized<perm::NotificationsManage>,
    tenant: TenantContext,
    module: web::Data<NotificationsModule>,
    email: web::Path<String>,
) -> Result<web::Json<Preferences>, ApiError> {
    Ok(web::Json(module.preferences(&tenant, &email).await?))
}

/// Change what a recipient receives (marketing opt-out).
#[api_v2_operation(tags(Admin), operation_id = "updateEmailPreferences")]
async fn update_preferences(
    auth: Authorized<perm::NotificationsManage>,
    tenant: TenantContext,
    module: web::Data<NotificationsModule>,
    email: web::Path<String>,
    body: web::Json<PreferencesUpdate>,
) -> Result<web::Json<Preferences>, ApiError> {
    Ok(web::Json(module.update_preferences(&tenant, &email, body.into_inner(), &auth.actor()).await?))
}

pub(crate) fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/messages").route(web::get().to(list_messages)))
        .service(web::resource("/messages/{id}").route(web::get().to(get_message)))
        .service(web::resource("/messages/{id}/resend").route(web::post().to(resend_message)))
        .service(web::resource("/test-send").route(web::post().to(send_test)))
        .service(web::resource("/templates").route(web::get().to(list_templates)))
        .service(
            web::resource("/templates/{key}/{locale}")
                .route(web::get().to(get_template))
                .route(web::put().to(save_template))
                .route(web::delete().to(delete_template)),
        )
        .service(web::resource("/templates/{key}/{locale}/preview").route(web::post().to(preview_template)))
        .service(
            web::resource("/preferences/{email}")
                .route(web::get().to(get_preferences))
                .route(web::put().to(update_preferences)),
        );
}

/// The staff member behind `auth`: alert emails are a person's own choice, so an API key
/// (which has no inbox) is refused.
fn own_account<P>(auth: &Authorized<P>) -> Result<uuid::Uuid, ApiError> {
    match &auth.principal {
        Principal::Staff { user_id, .. } => Ok(*user_id),
        _ => Err(ApiError::new(
            ErrorKind::Forbidden,
            "staff-member-only",
            "alert emails are a staff member's own choice: sign in as one (an API key has no inbox)",
        )),
    }
}

/// Which alert emails you, the signed-in staff member, receive. For members who may read stock
/// (`inventory.read`), the only alert so far being low stock.
#[api_v2_operation(tags(Admin), operation_id = "getMyStaffAlerts")]
async fn get_my_alerts(
    auth: Authorized<perm::InventoryRead>,
    tenant: TenantContext,
    module: web::Data<NotificationsModule>,
) -> Result<web::Json<StaffAlerts>, ApiError> {
    let staff = own_account(&auth)?;
    Ok(web::Json(module.staff_alerts(&tenant, staff).await?))
}

/// Choose which alert emails you, the signed-in staff member, receive: `{"low_stock": true}`
/// emails you when a variant's stock available at a location falls to its low-stock threshold.
#[api_v2_operation(tags(Admin), operation_id = "setMyStaffAlerts")]
async fn set_my_alerts(
    auth: Authorized<perm::InventoryRead>,
    tenant: TenantContext,
    module: web::Data<NotificationsModule>,
    body: web::Json<StaffAlerts>,
) -> Result<web::Json<StaffAlerts>, ApiError> {
    let staff = own_account(&auth)?;
    Ok(web::Json(module.set_staff_alerts(&tenant, staff, body.into_inner(), &auth.actor()).await?))
}

/// The signed-in member's own routes, mounted in the admin area beside identity's `/me/…`.
pub(crate) fn my_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me/alerts").route(web::get().to(get_my_alerts)).route(web::put().to(set_my_alerts)));
}

#[derive(Debug, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
struct UnsubscribeRequest {
    /// The `token` of the unsubscribe link in a marketing email (an address alone will not do).
    token: String,
}

/// Stop marketing email to the address a marketing email's unsubscribe link was made for.
#[api_v2_operation(tags(Store), operation_id = "unsubscribeFromMarketing")]
async fn unsubscribe(
    tenant: TenantContext,
    module: web::Data<NotificationsModule>,
    body: web::Json<UnsubscribeRequest>,
) -> Result<NoContent, ApiError> {
    module.unsubscribe(&tenant, &body.token).await?;
    Ok(NoContent)
}

pub(crate) fn store_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/unsubscribe").route(web::post().to(unsubscribe)));
}
