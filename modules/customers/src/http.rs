//! HTTP face of the customers module: the storefront's "my account" pages and the staff's GDPR
//! requests on a customer's behalf.

use crate::{
    Address, AddressInput, CustomerDetail, CustomerExport, CustomerFilter, CustomerSummary, CustomersModule,
    ErasureRequest, ProfilePatch,
};
use actix_web::HttpRequest;
use agora_identity::{Accepted, Account, IdentityModule, UserKind, WithCookie};
use agora_kernel::areas::Area;
use agora_kernel::auth::{perm, Authorized, SignedInCustomer};
use agora_kernel::lists::{ListQuery, NewestFirst, Page};
use agora_kernel::{ApiError, Created, IfMatch, TenantContext, Versioned};
use paperclip::actix::{api_v2_operation, web, NoContent};

/// The client's address for the audit log (trusted proxies resolved by the kernel).
fn client_ip(req: &HttpRequest) -> Option<String> {
    agora_kernel::http::client_addr(req).map(|a| a.to_string())
}

// ---- storefront -------------------------------------------------------------------------

/// The signed-in customer's account.
#[api_v2_operation(tags(Store), operation_id = "getMyAccount")]
async fn get_me(
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
) -> Result<web::Json<Account>, ApiError> {
    Ok(web::Json(module.profile(&tenant, customer.user_id).await?))
}

/// Change the signed-in customer's name or email language.
#[api_v2_operation(tags(Store), operation_id = "updateMyAccount")]
async fn update_me(
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
    body: web::Json<ProfilePatch>,
) -> Result<web::Json<Account>, ApiError> {
    Ok(web::Json(module.update_profile(&tenant, customer.user_id, body.into_inner()).await?))
}

/// The signed-in customer's addresses, oldest first.
#[api_v2_operation(tags(Store), operation_id = "listMyAddresses")]
async fn list_addresses(
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
) -> Result<web::Json<Vec<Address>>, ApiError> {
    Ok(web::Json(module.addresses(&tenant, customer.user_id).await?))
}

/// Add an address; `default_shipping` / `default_billing` move the default to it.
#[api_v2_operation(tags(Store), operation_id = "addMyAddress")]
async fn add_address(
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
    body: web::Json<AddressInput>,
) -> Result<Created<Address>, ApiError> {
    let address = module.add_address(&tenant, customer.user_id, body.into_inner()).await?;
    let (version, location) = (address.version, Area::Store.path(&format!("/me/addresses/{}", address.id)));
    Ok(Created::located(address, version, location))
}

/// Change an address; send `If-Match` with its ETag to avoid lost updates.
#[api_v2_operation(tags(Store), operation_id = "updateMyAddress")]
async fn update_address(
    customer: SignedInCustomer,
    if_match: IfMatch,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
    id: web::Path<uuid::Uuid>,
    body: web::Json<AddressInput>,
) -> Result<Versioned<Address>, ApiError> {
    let address =
        module.update_address(&tenant, customer.user_id, id.into_inner(), body.into_inner(), if_match.0).await?;
    let version = address.version;
    Ok(Versioned::new(address, version))
}

/// Remove an address.
#[api_v2_operation(tags(Store), operation_id = "deleteMyAddress")]
async fn delete_address(
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<NoContent, ApiError> {
    module.delete_address(&tenant, customer.user_id, id.into_inner()).await?;
    Ok(NoContent)
}

/// A copy of all personal data the shop holds about the signed-in customer, as JSON.
#[api_v2_operation(tags(Store), operation_id = "exportMyData")]
async fn export_mine(
    req: HttpRequest,
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
) -> Result<web::Json<CustomerExport>, ApiError> {
    let user = customer.user_id;
    Ok(web::Json(module.export_customer(&tenant, user, &customer.actor(), client_ip(&req)).await?))
}

/// Erase the signed-in customer's account, confirmed with the password: personal data is
/// anonymised (the account's id stays for orders), every session and token ends.
#[api_v2_operation(tags(Store), operation_id = "eraseMyAccount")]
async fn erase_mine(
    req: HttpRequest,
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
    identity: web::Data<IdentityModule>,
    body: web::Json<ErasureRequest>,
) -> Result<WithCookie<Accepted>, ApiError> {
    module.erase_my_account(&tenant, customer.user_id, body.into_inner(), client_ip(&req)).await?;
    let cookie = identity.ended_session_cookie(UserKind::Customer);
    Ok(WithCookie::new(Accepted { status: "erased" }, Some(cookie)))
}

pub(crate) fn store_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me").route(web::get().to(get_me)).route(web::patch().to(update_me)))
        .service(web::resource("/me/export").route(web::get().to(export_mine)))
        .service(web::resource("/me/erase").route(web::post().to(erase_mine)))
        .service(web::resource("/me/addresses").route(web::get().to(list_addresses)).route(web::post().to(add_address)))
        .service(
            web::resource("/me/addresses/{id}")
                .route(web::patch().to(update_address))
                .route(web::delete().to(delete_address)),
        );
}

// ---- admin ------------------------------------------------------------------------------

#[derive(Debug, serde::Deserialize, paperclip::actix::Apiv2Schema)]
struct CustomerListQuery {
    /// A fragment of the email or the name, any case.
    q: Option<String>,
    /// Only customers who did (`true`) or did not (`false`) verify their email.
    email_verified: Option<bool>,
    /// Only erased (`true`) or only current (`false`) customers.
    erased: Option<bool>,
}

/// The shop's customers, newest first, found by a fragment of their email or name.
#[api_v2_operation(tags(Admin), operation_id = "listCustomers")]
async fn list_customers(
    _auth: Authorized<perm::CustomersRead>,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
    page: ListQuery<NewestFirst>,
    query: web::Query<CustomerListQuery>,
) -> Result<web::Json<Page<CustomerSummary>>, ApiError> {
    let CustomerListQuery { q, email_verified, erased } = query.into_inner();
    let filter = CustomerFilter { q, email_verified, erased };
    Ok(web::Json(module.search_customers(&tenant, &page.keyset()?, filter).await?))
}

/// One customer: profile, address book, when they registered and last signed in.
#[api_v2_operation(tags(Admin), operation_id = "getCustomer")]
async fn get_customer(
    _auth: Authorized<perm::CustomersRead>,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<web::Json<CustomerDetail>, ApiError> {
    Ok(web::Json(module.customer(&tenant, id.into_inner()).await?))
}

/// All personal data of a customer, on their request (GDPR access and portability).
#[api_v2_operation(tags(Admin), operation_id = "exportCustomerData")]
async fn export_customer(
    req: HttpRequest,
    auth: Authorized<perm::CustomersPrivacy>,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<web::Json<CustomerExport>, ApiError> {
    Ok(web::Json(module.export_customer(&tenant, id.into_inner(), &auth.actor(), client_ip(&req)).await?))
}

/// Erase a customer's personal data on their request: anonymised, the id kept for orders, every
/// session and token ended. Cannot be undone.
#[api_v2_operation(tags(Admin), operation_id = "eraseCustomer")]
async fn erase_customer(
    req: HttpRequest,
    auth: Authorized<perm::CustomersPrivacy>,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<NoContent, ApiError> {
    module.erase_customer(&tenant, id.into_inner(), &auth.actor(), client_ip(&req)).await?;
    Ok(NoContent)
}

pub(crate) fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/customers").route(web::get().to(list_customers)))
        .service(web::resource("/customers/{id}").route(web::get().to(get_customer)))
        .service(web::resource("/customers/{id}/export").route(web::get().to(export_customer)))
        .service(web::resource("/customers/{id}/erase").route(web::post().to(erase_customer)));
}
