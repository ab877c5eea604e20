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
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use paperclip::v2::models::{DefaultOperationRaw, SecurityScheme};
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
    /// Read the catalog's back office: products, categories, product types, search synonyms.
    CatalogRead = "catalog.read";
    /// Manage products and categories.
    CatalogManage = "catalog.manage";
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
        let principal = Principal::of(req);
        let tenant = req.extensions().get::<TenantContext>().map(|t| t.id);
        let result = match (principal.tenant(), tenant) {
            // Another shop's credentials prove nothing here: the same answer as none at all.
            (Some(own), Some(addressed)) if own == addressed => {
                if principal.has(P::NAME) {
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
