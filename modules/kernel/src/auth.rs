//! The vocabulary of authorization every module shares, so that an admin handler in any module
//! declares the permission it needs without knowing how callers log in.
//!
//! The identity module's middleware resolves credentials (session cookie, access token, API key,
//! operator login) into a [`Principal`] and leaves it in the request's extensions. Handlers ask for
//! [`Authorized<P>`] with a permission marker from [`perm`]: no principal for this shop → 401,
//! one without the permission → 403. The marker also lands in the OpenAPI document as a security
//! requirement (`{"staff": ["<permission>"]}`), so the role × route matrix is read off the spec.

use crate::error::{ApiError, ErrorKind};
use crate::http::TenantContext;
use crate::model::Actor;
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use paperclip::v2::models::{DefaultOperationRaw, SecurityScheme};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::future::{ready, Ready};
use std::marker::PhantomData;
use std::sync::Arc;
use uuid::Uuid;

/// Name of the security scheme admin operations require in the OpenAPI document.
pub const STAFF_SCHEME: &str = "staff";

/// Who is calling, as resolved once per request by the identity middleware.
#[derive(Debug, Clone, Default)]
pub enum Principal {
    /// No credentials, or none valid.
    #[default]
    Anonymous,
    /// A shop's customer (storefront account).
    Customer { tenant: Uuid, user_id: Uuid },
    /// A shop's staff member with the union of their roles' permissions.
    Staff { tenant: Uuid, user_id: Uuid, permissions: Arc<BTreeSet<String>> },
    /// An integration's API key with its scopes (permission names).
    ApiKey { tenant: Uuid, key_id: Uuid, scopes: Arc<BTreeSet<String>> },
    /// A platform operator (control schema); belongs to no shop.
    Operator { operator_id: Uuid },
}

impl Principal {
    /// The shop this principal belongs to; `None` for anonymous callers and operators.
    pub fn tenant(&self) -> Option<Uuid> {
        match self {
            Principal::Customer { tenant, .. } | Principal::Staff { tenant, .. } | Principal::ApiKey { tenant, .. } => {
                Some(*tenant)
            }
            Principal::Anonymous | Principal::Operator { .. } => None,
        }
    }

    /// A stable name for this verified caller (`staff:<user id>`, `api-key:<key id>`, …), for
    /// budgets and stored responses that belong to one caller; `None` when anonymous.
    pub fn key(&self) -> Option<String> {
        match self {
            Principal::Anonymous => None,
            Principal::Customer { user_id, .. } => Some(format!("customer:{user_id}")),
            Principal::Staff { user_id, .. } => Some(format!("staff:{user_id}")),
            Principal::ApiKey { key_id, .. } => Some(format!("api-key:{key_id}")),
            Principal::Operator { operator_id } => Some(format!("operator:{operator_id}")),
        }
    }

    /// Whether this principal holds `permission`.
    pub fn has(&self, permission: &str) -> bool {
        match self {
            Principal::Staff { permissions, .. } => permissions.contains(permission),
            Principal::ApiKey { scopes, .. } => scopes.contains(permission),
            _ => false,
        }
    }

    /// Who to record in `created_by` / `modified_by` and the audit log.
    pub fn actor(&self) -> Actor {
        match self {
            Principal::Customer { user_id, .. } | Principal::Staff { user_id, .. } => Actor::User(*user_id),
            Principal::ApiKey { key_id, .. } => Actor::ApiKey(*key_id),
            Principal::Operator { operator_id } => Actor::User(*operator_id),
            Principal::Anonymous => Actor::Anonymous,
        }
    }

    /// The principal the middleware left on this request (anonymous when there is none).
    pub fn of(req: &HttpRequest) -> Principal {
        req.extensions().get::<Principal>().cloned().unwrap_or_default()
    }
}

/// A permission, as a zero-sized type a handler names: `Authorized<perm::SettingsManage>`.
pub trait PermissionMarker {
    /// The permission's name, `<area>.<verb>`, as stored in role definitions and API key scopes.
    const NAME: &'static str;
}

macro_rules! permissions {
    ($($(#[$doc:meta])* $ty:ident = $name:literal;)*) => {
        /// Every permission Agora knows. Built-in roles are defined in terms of these names.
        pub mod perm {
            $(
                $(#[$doc])*
                #[derive(Debug, Clone, Copy)]
                pub struct $ty;
                impl super::PermissionMarker for $ty {
                    const NAME: &'static str = $name;
                }
            )*
            /// Every permission's name, in declaration order.
            pub const ALL: &[&str] = &[$($name),*];
        }
    };
}

permissions! {
    /// Read the shop's settings and other admin data that changes nothing.
    ShopRead = "shop.read";
    /// Change the shop's settings (name, currency, locales).
    SettingsManage = "settings.manage";
    /// Edit email templates, resend email, manage recipients' preferences.
    NotificationsManage = "notifications.manage";
    /// Manage webhook endpoints and read their delivery log.
    WebhooksManage = "webhooks.manage";
    /// Invite, disable and assign roles to staff.
    StaffManage = "staff.manage";
    /// Define custom roles.
    RolesManage = "roles.manage";
    /// Create and revoke API keys.
    ApiKeysManage = "api_keys.manage";
    /// Read the security audit log.
    AuditRead = "audit.read";
    /// Read customers' accounts.
    CustomersRead = "customers.read";
    /// Export and erase a customer's personal data on their request (GDPR articles 15, 17, 20).
    CustomersPrivacy = "customers.privacy";
    /// Manage customer groups and who is in them.
    CustomersManage = "customers.manage";
    /// Read the catalog's back office: products, categories, product types, search synonyms.
    CatalogRead = "catalog.read";
    /// Manage products and categories.
    CatalogManage = "catalog.manage";
    /// Read stock locations, stock levels, the ledger, reservations and transfers.
    InventoryRead = "inventory.read";
    /// Manage stock locations, adjust and count stock, hold and release stock, transfer it.
    InventoryManage = "inventory.manage";
    /// Read price lists, taxes, shipping and promotions (and why a price is what it is).
    PricingRead = "pricing.read";
    /// Manage price lists, taxes, shipping, promotions and discount codes.
    PricingManage = "pricing.manage";
    /// Manage orders, fulfilment and returns.
    OrdersManage = "orders.manage";
}

/// Whether `name` is a permission Agora knows.
pub fn is_permission(name: &str) -> bool {
    perm::ALL.contains(&name)
}

/// Proof that the caller is a principal of the addressed shop holding permission `P`.
#[derive(Debug, Clone)]
pub struct Authorized<P> {
    pub principal: Principal,
    _permission: PhantomData<P>,
}

impl<P> Authorized<P> {
    pub fn actor(&self) -> Actor {
        self.principal.actor()
    }
}

pub fn unauthorized() -> ApiError {
    ApiError::new(
        ErrorKind::Unauthorized,
        "unauthorized",
        "sign in as this shop's staff (session cookie, Authorization: Bearer token, or API key)",
    )
}

impl<P: PermissionMarker> FromRequest for Authorized<P> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let principal = match verified_principal(req) {
            Ok(principal) => principal,
            Err(e) => return ready(Err(e)),
        };
        let tenant = req.extensions().get::<TenantContext>().map(|t| t.id);
        let result = match (principal.tenant(), tenant) {
            // Another shop's credentials prove nothing here: the same answer as none at all.
            (Some(own), Some(addressed)) if own == addressed => {
                if matches!(principal, Principal::Staff { .. }) && mfa_enrolment_pending(req) {
                    Err(mfa_enrolment_required())
                } else if principal.has(P::NAME) {
                    Ok(Authorized { principal, _permission: PhantomData })
                } else {
                    Err(ApiError::new(
                        ErrorKind::Forbidden,
                        "forbidden",
                        format!("this needs the permission {}", P::NAME),
                    ))
                }
            }
            _ => Err(unauthorized()),
        };
        ready(result)
    }
}

impl<P> paperclip::v2::schema::Apiv2Schema for Authorized<P> {}

impl<P: PermissionMarker> paperclip::actix::OperationModifier for Authorized<P> {
    fn update_security(op: &mut DefaultOperationRaw) {
        op.security.push(BTreeMap::from([(STAFF_SCHEME.to_string(), vec![P::NAME.to_string()])]));
    }

    fn update_security_definitions(map: &mut BTreeMap<String, SecurityScheme>) {
        SecurityScheme {
            type_: "apiKey".into(),
            name: Some("Authorization".into()),
            in_: Some("header".into()),
            description: Some(
                "A staff session cookie (with X-CSRF-Token on unsafe requests), `Authorization: Bearer <access \
                 token>` or an API key (`Authorization: Bearer agora_key_…` / `X-API-Key`). The requirement's \
                 scope names the permission the operation needs."
                    .into(),
            ),
            ..Default::default()
        }
        .update_definitions(STAFF_SCHEME, map);
    }
}

/// Left on the request by the authenticating middleware when the caller came with a session
/// cookie: an unsafe request must echo this token in `X-CSRF-Token`. (Bearer tokens and API keys
/// are not sent by browsers on their own, so they need none.)
#[derive(Clone)]
pub struct SessionCsrf(pub String);

/// Left on the request by the authenticating middleware for a staff member whose shop requires
/// two-factor authentication and who has no authenticator yet: they may sign in (or they could
/// never enrol), but only routes that say so (`SignedInStaff<MfaPending>`) serve them.
#[derive(Debug, Clone, Copy)]
pub struct MfaEnrolmentPending;

/// The header an unsafe cookie-authenticated request carries its session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

fn csrf_failed() -> ApiError {
    ApiError::new(ErrorKind::Forbidden, "csrf-failed", "send the session's CSRF token in X-CSRF-Token")
}

fn mfa_enrolment_required() -> ApiError {
    ApiError::new(
        ErrorKind::Forbidden,
        "mfa-enrolment-required",
        format!(
            "this shop requires two-factor authentication: enrol an authenticator at {}/me/mfa/totp first",
            crate::areas::ADMIN
        ),
    )
}

fn mfa_enrolment_pending(req: &HttpRequest) -> bool {
    req.extensions().get::<MfaEnrolmentPending>().is_some()
}

/// Whether a request authenticated by its session cookie lacks the session's CSRF token while
/// its method changes something. The principal extractors refuse such a request (403
/// `csrf-failed`); a route that needs no token (a login, which authenticates by what it carries)
/// is one that extracts no principal.
pub fn csrf_missing(req: &HttpRequest) -> bool {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let Some(SessionCsrf(expected)) = req.extensions().get::<SessionCsrf>().cloned() else { return false };
    let given = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    // Comparing digests keeps the comparison time independent of where the tokens differ.
    !safe && Sha256::digest(given.as_bytes()) != Sha256::digest(expected.as_bytes())
}

/// The request's principal, once a cookie-authenticated unsafe request has shown its CSRF token.
/// Every extractor acting for the caller goes through this.
pub fn verified_principal(req: &HttpRequest) -> Result<Principal, ApiError> {
    if csrf_missing(req) {
        return Err(csrf_failed());
    }
    Ok(Principal::of(req))
}

/// A shop's signed-in customer or staff member, from the middleware's principal: the same shop
/// or 401, the other kind of account 403.
fn signed_in_user(req: &HttpRequest, customer: bool) -> Result<Uuid, ApiError> {
    let tenant = req.extensions().get::<TenantContext>().map(|t| t.id);
    match verified_principal(req)? {
        Principal::Customer { tenant: t, user_id } if customer && Some(t) == tenant => Ok(user_id),
        Principal::Staff { tenant: t, user_id, .. } if !customer && Some(t) == tenant => Ok(user_id),
        Principal::Anonymous => Err(unauthorized()),
        p if p.tenant() != tenant => Err(unauthorized()),
        _ => Err(ApiError::new(ErrorKind::Forbidden, "forbidden", "this is for another kind of account")),
    }
}

/// Proof that the caller is a signed-in customer of the addressed shop (storefront handlers:
/// the account, the cart, orders, reviews). No customer: 401; staff or an API key: 403.
#[derive(Debug, Clone, Copy)]
pub struct SignedInCustomer {
    pub user_id: Uuid,
}

impl SignedInCustomer {
    /// Who to record in `created_by` / `modified_by` and the audit log.
    pub fn actor(&self) -> Actor {
        Actor::User(self.user_id)
    }
}

impl FromRequest for SignedInCustomer {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(signed_in_user(req, true).map(|user_id| SignedInCustomer { user_id }))
    }
}

impl paperclip::v2::schema::Apiv2Schema for SignedInCustomer {}
impl paperclip::actix::OperationModifier for SignedInCustomer {}

/// What a staff route asks of a member whose shop requires two-factor authentication.
pub trait MfaRule {
    /// Whether a member who has not enrolled yet is served.
    const SERVES_PENDING: bool;
}

/// The default: a member who must still enrol an authenticator is refused (403
/// `mfa-enrolment-required`), like on every `Authorized<P>` route.
#[derive(Debug, Clone, Copy)]
pub struct MfaEnrolled;

impl MfaRule for MfaEnrolled {
    const SERVES_PENDING: bool = false;
}

/// For the few routes a member must reach to enrol: their own account, password, logout and the
/// enrolment itself.
#[derive(Debug, Clone, Copy)]
pub struct MfaPending;

impl MfaRule for MfaPending {
    const SERVES_PENDING: bool = true;
}

/// Proof that the caller is a signed-in staff member of the addressed shop, whatever their
/// permissions (their own account, sessions, second factor). Admin operations that need a
/// permission take [`Authorized<P>`] instead. `M` says whether a member who must still enrol an
/// authenticator is served ([`MfaPending`]) or not (the default, [`MfaEnrolled`]).
#[derive(Debug, Clone, Copy)]
pub struct SignedInStaff<M = MfaEnrolled> {
    pub user_id: Uuid,
    _mfa: PhantomData<M>,
}

impl<M> SignedInStaff<M> {
    /// Who to record in `created_by` / `modified_by` and the audit log.
    pub fn actor(&self) -> Actor {
        Actor::User(self.user_id)
    }
}

impl<M: MfaRule> FromRequest for SignedInStaff<M> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = signed_in_user(req, false).and_then(|user_id| {
            if !M::SERVES_PENDING && mfa_enrolment_pending(req) {
                return Err(mfa_enrolment_required());
            }
            Ok(SignedInStaff { user_id, _mfa: PhantomData })
        });
        ready(result)
    }
}

impl<M> paperclip::v2::schema::Apiv2Schema for SignedInStaff<M> {}
impl<M: MfaRule> paperclip::actix::OperationModifier for SignedInStaff<M> {}

/// A signed-in platform operator: the third audience's extractor, under the name the other two
/// follow.
pub type SignedInOperator = crate::platform::PlatformOperator;
