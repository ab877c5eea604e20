//! HTTP face of webhooks, under `/api/v1/admin/webhooks`: the shop's endpoints, their delivery
//! log, redelivery and test pings.
//!
//! Every handler requires the staff permission `webhooks.manage`.

use crate::{
    DeliveryFilter, DeliveryQueued, NewWebhookEndpoint, WebhookDelivery, WebhookEndpoint, WebhookEndpointPatch,
    WebhookEndpointWithSecret, WebhooksModule,
};
use agora_kernel::areas::Area;
use agora_kernel::lists::{ListQuery, NewestFirst, OldestFirst, Page};
use agora_kernel::{perm, ApiError, Authorized, Created, IfMatch, TenantContext, Versioned};
use paperclip::actix::{api_v2_operation, web, AcceptedJson, Apiv2Schema, NoContent};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Where the module is mounted in the back office (also for `Location` headers).
pub(crate) const SCOPE: &str = "/webhooks";

/// Longest grace period a rotation may give the previous secret.
const MAX_GRACE_HOURS: u64 = 7 * 24;

fn with_secret(created: WebhookEndpointWithSecret) -> (i64, WebhookEndpointWithSecret) {
    (created.endpoint.version, created)
}

/// Event types an endpoint can subscribe to.
#[derive(Debug, Serialize, Deserialize, Apiv2Schema)]
struct WebhookEventTypes {
    /// Subscribe with these names, or with `*` for every one.
    event_types: Vec<String>,
}

/// The events endpoints can subscribe to.
#[api_v2_operation(tags(Admin), operation_id = "listWebhookEventTypes")]
async fn list_event_types(
    _auth: Authorized<perm::WebhooksManage>,
    _tenant: TenantContext,
    module: web::Data<WebhooksModule>,
) -> Result<web::Json<WebhookEventTypes>, ApiError> {
    Ok(web::Json(WebhookEventTypes { event_types: module.event_types().to_vec() }))
}

/// Register an endpoint. The response carries its signing secret, shown this once.
#[api_v2_operation(tags(Admin), operation_id = "createWebhookEndpoint")]
async fn create_endpoint(
    auth: Authorized<perm::WebhooksManage>,
    tenant: TenantContext,
    module: web::Data<WebhooksModule>,
    body: web::Json<NewWebhookEndpoint>,
) -> Result<Created<WebhookEndpointWithSecret>, ApiError> {
    let (version, created) = with_secret(module.create_endpoint(&tenant, body.into_inner(), &auth.actor()).await?);
    let location = Area::Admin.path(&format!("{SCOPE}/endpoints/{}", created.endpoint.id));
    Ok(Created::located(created, version, location))
}

/// The shop's endpoints, oldest first.
#[api_v2_operation(tags(Admin), operation_id = "listWebhookEndpoints")]
async fn list_endpoints(
    _auth: Authorized<perm::WebhooksManage>,
    tenant: TenantContext,
    module: web::Data<WebhooksModule>,
    page: ListQuery<OldestFirst>,
) -> Result<web::Json<Page<WebhookEndpoint>>, ApiError> {
    Ok(web::Json(module.list_endpoints(&tenant, &page.keyset()?).await?))
}

/// One endpoint, with its version (ETag).
#[api_v2_operation(tags(Admin), operation_id = "getWebhookEndpoint")]
async fn get_endpoint(
    _auth: Authorized<perm::WebhooksManage>,
    tenant: TenantContext,
    module: web::Data<WebhooksModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<Versioned<WebhookEndpoint, 200>, ApiError> {
    let endpoint = module.endpoint(&tenant, id.into_inner()).await?;
    let version = endpoint.version;
    Ok(Versioned::new(endpoint, version))
}

/// Change an endpoint's URL, description or event types; send `If-Match` with the ETag you read.
#[api_v2_operation(tags(Admin), operation_id = "updateWebhookEndpoint")]
async fn update_endpoint(
    auth: Authorized<perm::WebhooksManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<WebhooksModule>,
    id: web::Path<uuid::Uuid>,
    body: web::Json<WebhookEndpointPatch>,
) -> Result<Versioned<WebhookEndpoint, 200>, ApiError> {
    let endpoint =
        module.update_endpoint(&tenant, id.into_inner(), body.into_inner(), if_match.0, &auth.actor()).await?;
    let version = endpoint.version;
    Ok(Versioned::new(endpoint, version))
}

/// Delete an endpoint: nothing more is sent to it.
#[api_v2_operation(tags(Admin), operation_id = "deleteWebhookEndpoint")]
async fn delete_endpoint(
    auth: Authorized<perm::WebhooksManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<WebhooksModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<NoContent, ApiError> {
    module.delete_endpoint(&tenant, id.into_inner(), if_match.0, &auth.actor()).await?;
    Ok(NoContent)
}

#[derive(Debug, Deserialize, Apiv2Schema)]
struct RotateQuery {
    /// Hours the previous secret keeps signing deliveries alongside the new one (0–168, default
    /// 24); 0 retires it at once, e.g. after a leak.
    previous_secret_valid_for_hours: Option<u64>,
}

/// Issue a new signing secret (returned this once); the previous one keeps signing alongside it
/// for a grace period so receivers can switch without missing a delivery.
#[api_v2_operation(tags(Admin), operation_id = "rotateWebhookSecret")]
async fn rotate_secret(
    auth: Authorized<perm::WebhooksManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<WebhooksModule>,
    id: web::Path<uuid::Uuid>,
    query: web::Query<RotateQuery>,
) -> Result<Versioned<WebhookEndpointWithSecret, 200>, ApiError> {
    let expected = if_match.0;
    let grace = match query.previous_secret_valid_for_hours {
        Some(hours) if hours > MAX_GRACE_HOURS => {
            return Err(ApiError::field("previous_secret_valid_for_hours", format!("between 0 and {MAX_GRACE_HOURS}")))
        }
        Some(hours) => Some(Duration::from_secs(hours * 3600)),
        None => None,
    };
    let rotated = module.rotate_secret(&tenant, id.into_inner(), grace, expected, &auth.actor()).await?;
    let (version, rotated) = with_secret(rotated);
    Ok(Versioned::new(rotated, version))
}

/// Turn an endpoint back on (after it was disabled for failing, say), with a clean failure
/// record. Events from while it was off are not sent; redeliver the ones you need.
#[api_v2_operation(tags(Admin), operation_id = "enableWebhookEndpoint")]
async fn enable_endpoint(
    auth: Authorized<perm::WebhooksManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<WebhooksModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<Versioned<WebhookEndpoint, 200>, ApiError> {
    switch(&auth, &tenant, if_match, &module, id.into_inner(), true).await
}

/// Stop sending to an endpoint until it is enabled again.
#[api_v2_operation(tags(Admin), operation_id = "disableWebhookEndpoint")]
async fn disable_endpoint(
    auth: Authorized<perm::WebhooksManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<WebhooksModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<Versioned<WebhookEndpoint, 200>, ApiError> {
    switch(&auth, &tenant, if_match, &module, id.into_inner(), false).await
}

/// Turns an endpoint on or off for the two operations above.
async fn switch(
    auth: &Authorized<perm::WebhooksManage>,
    tenant: &TenantContext,
    if_match: IfMatch,
    module: &WebhooksModule,
    id: uuid::Uuid,
    enabled: bool,
) -> Result<Versioned<WebhookEndpoint, 200>, ApiError> {
    let expected = if_match.0;
    let endpoint = if enabled {
        module.enable_endpoint(tenant, id, expected, &auth.actor()).await?
    } else {
        module.disable_endpoint(tenant, id, expected, &auth.actor()).await?
    };
    let version = endpoint.version;
    Ok(Versioned::new(endpoint, version))
}

/// Send a `webhooks.ping.v1` test event to an endpoint.
#[api_v2_operation(tags(Admin), operation_id = "pingWebhookEndpoint")]
async fn ping_endpoint(
    auth: Authorized<perm::WebhooksManage>,
    tenant: TenantContext,
    module: web::Data<WebhooksModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<AcceptedJson<DeliveryQueued>, ApiError> {
    Ok(AcceptedJson(module.ping(&tenant, id.into_inner(), &auth.actor()).await?))
}

#[derive(Debug, Deserialize, Apiv2Schema)]
struct DeliveryListQuery {
    /// Only attempts to deliver this event.
    event_id: Option<uuid::Uuid>,
}

/// An endpoint's delivery log, newest attempt first, with the receiver's answers.
#[api_v2_operation(tags(Admin), operation_id = "listWebhookDeliveries")]
async fn list_deliveries(
    _auth: Authorized<perm::WebhooksManage>,
    tenant: TenantContext,
    module: web::Data<WebhooksModule>,
    id: web::Path<uuid::Uuid>,
    page: ListQuery<NewestFirst>,
    query: web::Query<DeliveryListQuery>,
) -> Result<web::Json<Page<WebhookDelivery>>, ApiError> {
    let query = query.into_inner();
    let page = page.keyset()?;
    let filter = DeliveryFilter { event_id: query.event_id };
    Ok(web::Json(module.deliveries(&tenant, id.into_inner(), &page, filter).await?))
}

/// Send one of the shop's events to an endpoint again (a fresh delivery with its own retries).
#[api_v2_operation(tags(Admin), operation_id = "redeliverWebhookEvent")]
async fn redeliver(
    auth: Authorized<perm::WebhooksManage>,
    tenant: TenantContext,
    module: web::Data<WebhooksModule>,
    path: web::Path<(uuid::Uuid, uuid::Uuid)>,
) -> Result<AcceptedJson<DeliveryQueued>, ApiError> {
    let (endpoint_id, event_id) = path.into_inner();
    Ok(AcceptedJson(module.redeliver(&tenant, endpoint_id, event_id, &auth.actor()).await?))
}

pub(crate) fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/event-types").route(web::get().to(list_event_types)))
        .service(
            web::resource("/endpoints").route(web::post().to(create_endpoint)).route(web::get().to(list_endpoints)),
        )
        .service(
            web::resource("/endpoints/{endpoint_id}")
                .route(web::get().to(get_endpoint))
                .route(web::patch().to(update_endpoint))
                .route(web::delete().to(delete_endpoint)),
        )
        .service(web::resource("/endpoints/{endpoint_id}/rotate-secret").route(web::post().to(rotate_secret)))
        .service(web::resource("/endpoints/{endpoint_id}/enable").route(web::post().to(enable_endpoint)))
        .service(web::resource("/endpoints/{endpoint_id}/disable").route(web::post().to(disable_endpoint)))
        .service(web::resource("/endpoints/{endpoint_id}/ping").route(web::post().to(ping_endpoint)))
        .service(web::resource("/endpoints/{endpoint_id}/deliveries").route(web::get().to(list_deliveries)))
        .service(
            web::resource("/endpoints/{endpoint_id}/deliveries/{event_id}/redeliver").route(web::post().to(redeliver)),
        );
}
