//! HTTP face of the customers module: the storefront's "my account" pages and the staff's GDPR
//! requests on a customer's behalf.

use crate::{
    Address, AddressInput, CustomerDetail, CustomerExport, CustomerFilter, CustomerGroup, CustomerGroupId,
    CustomerGroupMember, CustomerGroupMembership, CustomerGroupPatch, CustomerSummary, CustomersModule, ErasureRequest,
    NewCustomerGroup, ProfilePatch,
};
use actix_web::HttpRequest;
use agora_identity::{Accepted, Account, IdentityModule, UserKind, WithCookie};
use agora_kernel::areas::Area;
use agora_kernel::auth::{perm, Authorized, SignedInCustomer};
use agora_kernel::lists::{ListQuery, NewestFirst, Page};
use agora_kernel::{Acting, ApiError, Created, IfMatch, TenantContext, Versioned};
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

// ---- admin: customer groups --------------------------------------------------------------

fn acting<P>(auth: &Authorized<P>, req: &HttpRequest) -> Acting {
    Acting::new(auth.actor(), client_ip(req))
}

fn group_location(id: CustomerGroupId) -> String {
    Area::Admin.path(&format!("/customers/groups/{id}"))
}

/// The shop's customer groups, newest first.
#[api_v2_operation(tags(Admin), operation_id = "listCustomerGroups")]
async fn list_groups(
    _auth: Authorized<perm::CustomersRead>,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
    page: ListQuery<NewestFirst>,
) -> Result<web::Json<Page<CustomerGroup>>, ApiError> {
    Ok(web::Json(module.groups(&tenant, &page.keyset()?).await?))
}

/// Create a customer group; `email_domains` make every customer with a verified email there a
/// member.
#[api_v2_operation(tags(Admin), operation_id = "createCustomerGroup")]
async fn create_group(
    req: HttpRequest,
    auth: Authorized<perm::CustomersManage>,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
    body: web::Json<NewCustomerGroup>,
) -> Result<Created<CustomerGroup>, ApiError> {
    let group = module.create_group(&tenant, body.into_inner(), &acting(&auth, &req)).await?;
    let (version, location) = (group.version, group_location(group.id));
    Ok(Created::located(group, version, location))
}

/// One customer group.
#[api_v2_operation(tags(Admin), operation_id = "getCustomerGroup")]
async fn get_group(
    _auth: Authorized<perm::CustomersRead>,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
    id: web::Path<CustomerGroupId>,
) -> Result<Versioned<CustomerGroup>, ApiError> {
    let group = module.group(&tenant, id.into_inner()).await?;
    let version = group.version;
    Ok(Versioned::new(group, version))
}

/// Change a group's key, name or email domains; send `If-Match` with its ETag.
#[api_v2_operation(tags(Admin), operation_id = "updateCustomerGroup")]
async fn update_group(
    req: HttpRequest,
    auth: Authorized<perm::CustomersManage>,
    if_match: IfMatch,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
    id: web::Path<CustomerGroupId>,
    body: web::Json<CustomerGroupPatch>,
) -> Result<Versioned<CustomerGroup>, ApiError> {
    let group =
        module.update_group(&tenant, id.into_inner(), body.into_inner(), if_match.0, &acting(&auth, &req)).await?;
    let version = group.version;
    Ok(Versioned::new(group, version))
}

/// Delete a group; price lists naming it no longer apply to anyone through it.
#[api_v2_operation(tags(Admin), operation_id = "deleteCustomerGroup")]
async fn delete_group(
    req: HttpRequest,
    auth: Authorized<perm::CustomersManage>,
    if_match: IfMatch,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
    id: web::Path<CustomerGroupId>,
) -> Result<NoContent, ApiError> {
    module.delete_group(&tenant, id.into_inner(), if_match.0, &acting(&auth, &req)).await?;
    Ok(NoContent)
}

/// The customers staff added to a group, newest first (members by email domain are whoever
/// matches: see a customer's `groups`).
#[api_v2_operation(tags(Admin), operation_id = "listCustomerGroupMembers")]
async fn list_members(
    _auth: Authorized<perm::CustomersRead>,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
    id: web::Path<CustomerGroupId>,
    page: ListQuery<NewestFirst>,
) -> Result<web::Json<Page<CustomerGroupMember>>, ApiError> {
    Ok(web::Json(module.group_members(&tenant, id.into_inner(), &page.keyset()?).await?))
}

/// Add a customer to a group (adding one already there changes nothing).
#[api_v2_operation(tags(Admin), operation_id = "addCustomerGroupMember")]
async fn add_member(
    req: HttpRequest,
    auth: Authorized<perm::CustomersManage>,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
    path: web::Path<(CustomerGroupId, uuid::Uuid)>,
) -> Result<NoContent, ApiError> {
    let (id, customer) = path.into_inner();
    module.add_group_member(&tenant, id, customer, &acting(&auth, &req)).await?;
    Ok(NoContent)
}

/// Take a customer out of a group (a member by email domain stays one while the rule holds).
#[api_v2_operation(tags(Admin), operation_id = "removeCustomerGroupMember")]
async fn remove_member(
    req: HttpRequest,
    auth: Authorized<perm::CustomersManage>,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
    path: web::Path<(CustomerGroupId, uuid::Uuid)>,
) -> Result<NoContent, ApiError> {
    let (id, customer) = path.into_inner();
    module.remove_group_member(&tenant, id, customer, &acting(&auth, &req)).await?;
    Ok(NoContent)
}

/// The groups a customer is in, and whether by hand or by their email's domain.
#[api_v2_operation(tags(Admin), operation_id = "listGroupsOfCustomer")]
async fn groups_of_customer(
    _auth: Authorized<perm::CustomersRead>,
    tenant: TenantContext,
    module: web::Data<CustomersModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<web::Json<Vec<CustomerGroupMembership>>, ApiError> {
    Ok(web::Json(module.customer_groups(&tenant, id.into_inner()).await?))
}

pub(crate) fn admin_routes(cfg: &mut web::ServiceConfig) {
    // Before `/customers/{id}`: actix takes the first resource whose pattern matches.
    cfg.service(
        web::resource("/customers/groups").route(web::get().to(list_groups)).route(web::post().to(create_group)),
    )
    .service(
        web::resource("/customers/groups/{group_id}")
            .route(web::get().to(get_group))
            .route(web::patch().to(update_group))
            .route(web::delete().to(delete_group)),
    )
    .service(web::resource("/customers/groups/{group_id}/members").route(web::get().to(list_members)))
    .service(
        web::resource("/customers/groups/{group_id}/members/{customer_id}")
            .route(web::put().to(add_member))
            .route(web::delete().to(remove_member)),
    )
    .service(web::resource("/customers/{id}/groups").route(web::get().to(groups_of_customer)));
    cfg.service(web::resource("/customers").route(web::get().to(list_customers)))
        .service(web::resource("/customers/{id}").route(web::get().to(get_customer)))
        .service(web::resource("/customers/{id}/export").route(web::get().to(export_customer)))
        .service(web::resource("/customers/{id}/erase").route(web::post().to(erase_customer)));
}
