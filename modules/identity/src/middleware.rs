//! The authenticating middleware: turns whatever credentials a request carries into the
//! [`Principal`] handlers see through `Authorized<P>` and friends.

use crate::{IdentityError, IdentityModule, UserKind};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use agora_kernel::areas::Area;
use agora_kernel::auth::{MfaEnrolmentPending, Principal, SessionCsrf};
use agora_kernel::{ApiError, TenantContext};

pub(crate) const CUSTOMER_COOKIE: &str = "agora_customer_session";
pub(crate) const STAFF_COOKIE: &str = "agora_staff_session";
pub(crate) const OPERATOR_COOKIE: &str = "agora_operator_session";

/// The session cookie of an area's audience.
fn cookie(area: Area) -> &'static str {
    match area {
        Area::Store => CUSTOMER_COOKIE,
        Area::Admin => STAFF_COOKIE,
        Area::Platform => OPERATOR_COOKIE,
    }
}

enum Presented {
    ApiKey(String),
    Bearer(String),
    Cookie(String),
    Nothing,
}

fn presented(req: &ServiceRequest, area: Area) -> Presented {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_string());
    let api_key = req.headers().get("x-api-key").and_then(|v| v.to_str().ok()).map(|v| v.trim().to_string());
    match (bearer, api_key) {
        (_, Some(key)) => Presented::ApiKey(key),
        (Some(b), None) if b.starts_with(crate::access::API_KEY_PREFIX) => Presented::ApiKey(b),
        (Some(b), None) => Presented::Bearer(b),
        (None, None) => match req.cookie(cookie(area)) {
            Some(c) => Presented::Cookie(c.value().to_string()),
            None => Presented::Nothing,
        },
    }
}

/// Resolves the caller for `/api/v1/{store,admin,platform}/…`. Runs after tenant resolution
/// (shop users' credentials are looked up in the shop's schema) and before rate limiting.
///
/// Credentials that are sent but wrong (a bad or foreign token, an unknown API key) are a 401
/// at once; a stale session cookie just makes the caller anonymous. This only authenticates: it
/// leaves the [`Principal`] on the request, with the session's CSRF token when it came from a
/// cookie ([`SessionCsrf`]) and a mark on a staff member who must still enrol an authenticator
/// ([`MfaEnrolmentPending`]). The kernel's principal extractors enforce both, so a route's
/// exemptions are in its handler's signature (a login extracts no principal; the MFA enrolment
/// takes `SignedInStaff<MfaPending>`), never matched by path.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // The path routing matches, so an encoded path meets the same area.
    let path = agora_kernel::http::routing_path(&req).to_string();
    let (Some(area), Some(module)) = (Area::of(&path), req.app_data::<web::Data<IdentityModule>>().cloned()) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let tenant = req.extensions().get::<TenantContext>().cloned();
    let resolved = resolve(&module, &req, area, tenant.as_ref()).await;
    match resolved {
        Ok((principal, csrf)) => {
            if let Some(who) = principal.key() {
                tracing::Span::current().record("user", who.as_str());
            }
            if let (Principal::Staff { user_id, .. }, Some(tenant)) = (&principal, &tenant) {
                // A primary-key read of the policy, and of the member's authenticator only when
                // MFA is required: so the policy holds however the session or token was obtained.
                match module.mfa_enrolment_missing(tenant, *user_id).await {
                    Ok(false) => {}
                    Ok(true) => {
                        req.extensions_mut().insert(MfaEnrolmentPending);
                    }
                    Err(e) => return Ok(req.error_response(ApiError::from(e)).map_into_boxed_body()),
                }
            }
            if let Some(token) = csrf {
                req.extensions_mut().insert(SessionCsrf(token));
            }
            req.extensions_mut().insert(principal);
            Ok(next.call(req).await?.map_into_boxed_body())
        }
        Err(e) => {
            // Refused credentials spend the client address's request budget.
            let error = agora_kernel::rate_limit::count_failed_authentication(&req).await.unwrap_or(ApiError::from(e));
            Ok(req.error_response(error).map_into_boxed_body())
        }
    }
}

/// The principal and, when it came from a session cookie, the CSRF token it requires.
async fn resolve(
    module: &IdentityModule,
    req: &ServiceRequest,
    area: Area,
    tenant: Option<&TenantContext>,
) -> Result<(Principal, Option<String>), IdentityError> {
    let credentials = presented(req, area);
    if area == Area::Platform {
        return match credentials {
            // Anything that is not shaped like a token may be the bootstrap token, which the
            // PlatformOperator extractor checks itself.
            Presented::Bearer(token) if token.split('.').count() == 3 => {
                Ok((module.operator_token_principal(&token).await?, None))
            }
            Presented::Cookie(session) => Ok(match module.operator_session_principal(&session).await? {
                Some((principal, csrf)) => (principal, Some(csrf)),
                None => (Principal::Anonymous, None),
            }),
            _ => Ok((Principal::Anonymous, None)),
        };
    }
    let Some(tenant) = tenant else { return Ok((Principal::Anonymous, None)) };
    match credentials {
        Presented::ApiKey(key) => Ok((module.api_key_principal(tenant, &key).await?, None)),
        Presented::Bearer(token) => Ok((module.token_principal(tenant, &token).await?, None)),
        Presented::Cookie(session) => {
            let kind = if area == Area::Admin { UserKind::Staff } else { UserKind::Customer };
            Ok(match module.session_principal(tenant, kind, &session).await? {
                Some(s) => (s.principal, Some(s.csrf_token)),
                None => (Principal::Anonymous, None),
            })
        }
        Presented::Nothing => Ok((Principal::Anonymous, None)),
    }
}
