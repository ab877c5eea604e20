//! The staff's side of identity: their own sign-in and account, and access administration
//! (the shop's security policy, staff, roles, API keys, the audit log).

use super::*;

/// Mail a staff member a password-reset link. Answers 202 whether or not the email has an account.
#[api_v2_operation(tags(Admin), operation_id = "staffPasswordResetRequest")]
async fn admin_reset_request(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<ResetRequest>,
) -> Result<paperclip::actix::AcceptedJson<Accepted>, ApiError> {
    request_reset(&req, &tenant, &module, UserKind::Staff, &body.email).await
}

/// Set a password with the token from a reset or invitation link; every session ends.
#[api_v2_operation(tags(Admin), operation_id = "staffPasswordResetConfirm")]
async fn admin_reset_confirm(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<ResetConfirm>,
) -> Result<NoContent, ApiError> {
    confirm_reset(&req, &tenant, &module, body.into_inner()).await
}

/// Log in as staff (session cookie + CSRF token, or `client: "api"` for tokens). With two-factor
/// authentication on, the answer is `{"mfa_required": true, "challenge": "…", "expires_in": 300}`
/// instead: finish at `/auth/login/mfa`. When the shop requires MFA and the member has none, the
/// login succeeds but every admin route except their own account and MFA enrolment answers 403
/// `mfa-enrolment-required` until they enrol.
#[api_v2_operation(tags(Admin), operation_id = "staffLogin")]
async fn admin_login(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<LoginRequest>,
) -> Result<LoginAnswer, ApiError> {
    login(&req, &module, &tenant, UserKind::Staff, body.into_inner()).await
}

/// Second staff login step: the challenge and a code (or a recovery code).
#[api_v2_operation(tags(Admin), operation_id = "staffLoginMfa")]
async fn admin_login_mfa(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<MfaLogin>,
) -> Result<WithCookie<LoginResponse>, ApiError> {
    login_mfa(&req, &module, &tenant, UserKind::Staff, body.into_inner()).await
}

/// Start enrolling an authenticator app (secret and `otpauth://` URI).
#[api_v2_operation(tags(Admin), operation_id = "startMyStaffMfaEnrolment")]
async fn admin_mfa_enrol(
    staff: SignedInStaff<MfaPending>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<MfaEnrolment>, ApiError> {
    Ok(web::Json(module.start_mfa_enrolment(&tenant, staff.user_id).await?))
}

/// Switch two-factor authentication on with a first code; answers the recovery codes, once.
#[api_v2_operation(tags(Admin), operation_id = "activateMyStaffMfa")]
async fn admin_mfa_activate(
    req: HttpRequest,
    staff: SignedInStaff<MfaPending>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<MfaCode>,
) -> Result<web::Json<RecoveryCodes>, ApiError> {
    Ok(web::Json(module.activate_mfa(&tenant, staff.user_id, &body.code, origin(&req).ip).await?))
}

/// Switch two-factor authentication off: the password and a current code or a recovery code.
#[api_v2_operation(tags(Admin), operation_id = "disableMyStaffMfa")]
async fn admin_mfa_disable(
    req: HttpRequest,
    staff: SignedInStaff<MfaPending>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<MfaDisable>,
) -> Result<NoContent, ApiError> {
    module.disable_mfa(&tenant, staff.user_id, body.into_inner(), origin(&req).ip).await?;
    Ok(NoContent)
}

/// The shop's identity policy.
#[api_v2_operation(tags(Admin), operation_id = "getSecurityPolicy")]
async fn get_security_policy(
    _auth: Authorized<perm::SettingsManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<SecurityPolicy>, ApiError> {
    Ok(web::Json(module.security_policy(&tenant).await?))
}

/// Replace the shop's identity policy (e.g. require two-factor authentication of staff).
#[api_v2_operation(tags(Admin), operation_id = "setSecurityPolicy")]
async fn set_security_policy(
    auth: Authorized<perm::SettingsManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<SecurityPolicy>,
) -> Result<web::Json<SecurityPolicy>, ApiError> {
    Ok(web::Json(module.set_security_policy(&tenant, body.into_inner(), &auth.actor()).await?))
}

/// Log out: ends every session and token of the staff member.
#[api_v2_operation(tags(Admin), operation_id = "staffLogout")]
async fn admin_logout(
    req: HttpRequest,
    staff: SignedInStaff<MfaPending>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<WithCookie<Accepted>, ApiError> {
    module.logout(&tenant, staff.user_id, origin(&req).ip).await?;
    let cookie = session_cookie(&module, STAFF_COOKIE, areas::ADMIN, None);
    Ok(WithCookie { body: Accepted { status: "logged out" }, cookie: Some(cookie) })
}

/// Exchange a staff refresh token for a new pair.
#[api_v2_operation(tags(Admin), operation_id = "staffRefresh")]
async fn admin_refresh(
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<RefreshRequest>,
) -> Result<web::Json<LoginResponse>, ApiError> {
    Ok(web::Json(module.refresh(&tenant, UserKind::Staff, body.into_inner().refresh_token).await?))
}

/// The signed-in staff member's account and roles.
#[api_v2_operation(tags(Admin), operation_id = "getMyStaffAccount")]
async fn admin_me(
    staff: SignedInStaff<MfaPending>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<Account>, ApiError> {
    Ok(web::Json(module.account(&tenant, staff.user_id).await?))
}

/// The signed-in browser's CSRF token, for an admin page that has a session but no login
/// answer: a staff member back from the shop's sign-in provider arrives signed in by the redirect
/// alone. Served to members who must still enrol an authenticator too (enrolling is a POST).
/// Other sites cannot read it (no CORS). Signed in with a bearer token: 404 `no-browser-session`.
#[api_v2_operation(tags(Admin), operation_id = "staffCsrfToken")]
async fn admin_csrf_token(
    req: HttpRequest,
    _staff: SignedInStaff<MfaPending>,
) -> Result<web::Json<SessionCsrfToken>, ApiError> {
    session_csrf_token(&req)
}

/// What the signed-in staff member may do.
#[derive(Debug, Serialize, Apiv2Schema)]
pub(crate) struct MyPermissions {
    /// Permission names from all of the member's roles, sorted.
    permissions: Vec<String>,
}

/// The signed-in staff member's permissions (the union of their roles'), so that the admin
/// shows only what they can use. Every admin route still checks its permission itself.
#[api_v2_operation(tags(Admin), operation_id = "getMyStaffPermissions")]
async fn admin_my_permissions(
    req: HttpRequest,
    _staff: SignedInStaff,
    _tenant: TenantContext,
) -> Result<web::Json<MyPermissions>, ApiError> {
    let permissions = match Principal::of(&req) {
        Principal::Staff { permissions, .. } => permissions.iter().cloned().collect(),
        _ => Vec::new(),
    };
    Ok(web::Json(MyPermissions { permissions }))
}

/// Your signed-in browsers (cookie sessions), newest first; `current` marks this one.
#[api_v2_operation(tags(Admin), operation_id = "listMyStaffSessions")]
async fn admin_sessions(
    req: HttpRequest,
    staff: SignedInStaff,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<Vec<ActiveSession>>, ApiError> {
    let current = req.cookie(STAFF_COOKIE).map(|c| c.value().to_string());
    Ok(web::Json(module.active_sessions(&tenant, staff.user_id, current).await?))
}

/// Sign out one of your browsers; the others stay signed in.
#[api_v2_operation(tags(Admin), operation_id = "endMyStaffSession")]
async fn admin_end_session(
    staff: SignedInStaff,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    id: web::Path<String>,
) -> Result<NoContent, ApiError> {
    module.end_session(&tenant, staff.user_id, id.into_inner()).await?;
    Ok(NoContent)
}

/// Change the staff member's own password; other sessions end.
#[api_v2_operation(tags(Admin), operation_id = "changeMyStaffPassword")]
async fn admin_change_password(
    req: HttpRequest,
    staff: SignedInStaff<MfaPending>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<PasswordChange>,
) -> Result<WithCookie<LoginResponse>, ApiError> {
    change_password(&req, &module, &tenant, UserKind::Staff, staff.user_id, body.into_inner()).await
}

/// Invite a staff member: they get an email link to choose a password.
#[api_v2_operation(tags(Admin), operation_id = "inviteStaff")]
async fn invite_staff(
    req: HttpRequest,
    auth: Authorized<perm::StaffManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<NewStaff>,
) -> Result<CreatedJson<Account>, ApiError> {
    Ok(CreatedJson(
        module
            .create_staff(&tenant, body.into_inner(), None, &Grantor::Principal(auth.principal), &origin(&req))
            .await?,
    ))
}

/// The shop's staff, oldest first.
#[api_v2_operation(tags(Admin), operation_id = "listStaff")]
async fn list_staff(
    _auth: Authorized<perm::StaffManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    page: ListQuery<OldestFirst>,
) -> Result<web::Json<Page<Account>>, ApiError> {
    Ok(web::Json(module.list_staff(&tenant, &page.keyset()?).await?))
}

/// Disable a staff member; their sessions and tokens end at once. Only an owner may disable an
/// owner (403 `owner-only`).
#[api_v2_operation(tags(Admin), operation_id = "disableStaff")]
async fn disable_staff(
    auth: Authorized<perm::StaffManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<web::Json<Account>, ApiError> {
    Ok(web::Json(module.disable_staff(&tenant, id.into_inner(), &Grantor::Principal(auth.principal)).await?))
}

#[derive(Debug, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
struct RoleAssignment {
    /// Role keys; replaces the member's roles.
    roles: Vec<String>,
}

/// Set a staff member's roles. Only an owner may change an owner's roles or grant `owner`
/// (403 `owner-only`).
#[api_v2_operation(tags(Admin), operation_id = "assignStaffRoles")]
async fn assign_roles(
    auth: Authorized<perm::StaffManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    id: web::Path<uuid::Uuid>,
    body: web::Json<RoleAssignment>,
) -> Result<web::Json<Account>, ApiError> {
    Ok(web::Json(
        module
            .assign_roles(&tenant, id.into_inner(), body.into_inner().roles, &Grantor::Principal(auth.principal))
            .await?,
    ))
}

/// Built-in and custom roles with their permissions.
#[api_v2_operation(tags(Admin), operation_id = "listRoles")]
async fn list_roles(
    _auth: Authorized<perm::RolesManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<Vec<Role>>, ApiError> {
    Ok(web::Json(module.roles(&tenant).await?))
}

/// Define a custom role as a set of permissions.
#[api_v2_operation(tags(Admin), operation_id = "createRole")]
async fn create_role(
    auth: Authorized<perm::RolesManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<NewRole>,
) -> Result<CreatedJson<Role>, ApiError> {
    Ok(CreatedJson(module.create_role(&tenant, body.into_inner(), &Grantor::Principal(auth.principal)).await?))
}

/// Delete a custom role (built-in roles stay).
#[api_v2_operation(tags(Admin), operation_id = "deleteRole")]
async fn delete_role(
    auth: Authorized<perm::RolesManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    key: web::Path<String>,
) -> Result<NoContent, ApiError> {
    module.delete_role(&tenant, &key, &auth.actor()).await?;
    Ok(NoContent)
}

/// Create an API key. The response's `key` is the only time it is shown.
#[api_v2_operation(tags(Admin), operation_id = "createApiKey")]
async fn create_api_key(
    auth: Authorized<perm::ApiKeysManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<NewApiKey>,
) -> Result<CreatedJson<ApiKey>, ApiError> {
    Ok(CreatedJson(module.create_api_key(&tenant, body.into_inner(), &Grantor::Principal(auth.principal)).await?))
}

/// The shop's API keys (without the keys themselves).
#[api_v2_operation(tags(Admin), operation_id = "listApiKeys")]
async fn list_api_keys(
    _auth: Authorized<perm::ApiKeysManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<Vec<ApiKey>>, ApiError> {
    Ok(web::Json(module.api_keys(&tenant).await?))
}

/// Revoke an API key; it stops working at once.
#[api_v2_operation(tags(Admin), operation_id = "revokeApiKey")]
async fn revoke_api_key(
    auth: Authorized<perm::ApiKeysManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<NoContent, ApiError> {
    module.revoke_api_key(&tenant, id.into_inner(), &auth.actor()).await?;
    Ok(NoContent)
}

#[derive(Debug, Deserialize, Apiv2Schema)]
struct AuditQuery {
    /// Only this action (`login.failed`), or a family of them ending in a dot (`login.`).
    action: Option<String>,
    /// Only what this actor did (`user:<id>`, `api_key:<id>`, `anonymous`, `system:<what>`).
    actor: Option<String>,
    /// Only events about this subject (`user:<id>`, `role:<key>`, `email:<address>`).
    subject: Option<String>,
    /// Only events at or after this instant (RFC 3339).
    since: Option<String>,
    /// Only events before this instant (RFC 3339).
    until: Option<String>,
}

fn instant(field: &str, raw: Option<&str>) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    raw.map(|raw| {
        chrono::DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|_| ApiError::field(field, "an RFC 3339 instant such as 2026-11-22T10:00:00Z"))
    })
    .transpose()
}

/// Security events (logins, failures, MFA and password changes, role changes, key creation,
/// data exports and erasures), newest first, optionally narrowed by action, actor, subject and
/// time.
#[api_v2_operation(tags(Admin), operation_id = "listAuditLog")]
async fn audit_log(
    _auth: Authorized<perm::AuditRead>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    page: ListQuery<NewestFirst>,
    query: web::Query<AuditQuery>,
) -> Result<web::Json<Page<AuditEntry>>, ApiError> {
    let query = query.into_inner();
    let page = page.keyset()?;
    let filter = AuditFilter {
        since: instant("since", query.since.as_deref())?,
        until: instant("until", query.until.as_deref())?,
        action: query.action,
        actor: query.actor,
        subject: query.subject,
    };
    Ok(web::Json(module.audit_log(&tenant, &page, filter).await?))
}

pub(crate) fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/login").route(web::post().to(admin_login)))
        .service(web::resource("/auth/login/mfa").route(web::post().to(admin_login_mfa)))
        .service(web::resource("/auth/logout").route(web::post().to(admin_logout)))
        .service(web::resource("/auth/refresh").route(web::post().to(admin_refresh)))
        .service(web::resource("/auth/password-reset/request").route(web::post().to(admin_reset_request)))
        .service(web::resource("/auth/password-reset/confirm").route(web::post().to(admin_reset_confirm)))
        .service(web::resource("/me").route(web::get().to(admin_me)))
        .service(web::resource("/me/csrf-token").route(web::get().to(admin_csrf_token)))
        .service(web::resource("/me/permissions").route(web::get().to(admin_my_permissions)))
        .service(web::resource("/me/sessions").route(web::get().to(admin_sessions)))
        .service(web::resource("/me/sessions/{id}").route(web::delete().to(admin_end_session)))
        .service(web::resource("/me/password").route(web::post().to(admin_change_password)))
        .service(web::resource("/me/mfa/totp").route(web::post().to(admin_mfa_enrol)))
        .service(web::resource("/me/mfa/totp/activate").route(web::post().to(admin_mfa_activate)))
        .service(web::resource("/me/mfa/disable").route(web::post().to(admin_mfa_disable)))
        .service(
            web::resource("/security-policy")
                .route(web::get().to(get_security_policy))
                .route(web::put().to(set_security_policy)),
        )
        .service(web::resource("/staff").route(web::get().to(list_staff)).route(web::post().to(invite_staff)))
        .service(web::resource("/staff/{id}/disable").route(web::post().to(disable_staff)))
        .service(web::resource("/staff/{id}/roles").route(web::put().to(assign_roles)))
        .service(web::resource("/roles").route(web::get().to(list_roles)).route(web::post().to(create_role)))
        .service(web::resource("/roles/{key}").route(web::delete().to(delete_role)))
        .service(web::resource("/api-keys").route(web::get().to(list_api_keys)).route(web::post().to(create_api_key)))
        .service(web::resource("/api-keys/{id}").route(web::delete().to(revoke_api_key)))
        .service(web::resource("/audit-log").route(web::get().to(audit_log)));
    super::oidc::admin_routes(cfg);
}
