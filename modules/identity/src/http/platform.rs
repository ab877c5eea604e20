//! The platform operators' side of identity: their sign-in, account and second factor, and
//! the operators themselves.

use super::*;

/// Log in as a platform operator (session cookie, or `client: "api"` for an access token). An
/// operator with two-factor authentication gets `{"mfa_required": true, "challenge": …}` instead:
/// send it with a code to `/api/v1/platform/auth/login/mfa`.
#[api_v2_operation(tags(Platform), operation_id = "operatorLogin")]
async fn operator_login(
    req: HttpRequest,
    module: web::Data<IdentityModule>,
    body: web::Json<LoginRequest>,
) -> Result<LoginAnswer<OperatorLogin>, ApiError> {
    Ok(match module.operator_login(body.into_inner(), &origin(&req)).await? {
        OperatorLoginOutcome::Granted(grant) => LoginAnswer::Granted(Box::new(operator_session(&module, grant))),
        OperatorLoginOutcome::MfaRequired(challenge) => LoginAnswer::Challenge(challenge),
    })
}

fn operator_session(module: &IdentityModule, grant: OperatorGrant) -> WithCookie<OperatorLogin> {
    let cookie = grant.session_id.map(|id| session_cookie(module, OPERATOR_COOKIE, areas::PLATFORM, Some(id)));
    WithCookie { body: grant.body, cookie }
}

/// The second login step for an operator with two-factor authentication: the challenge and a
/// code from the app (or a recovery code).
#[api_v2_operation(tags(Platform), operation_id = "operatorLoginMfa")]
async fn operator_login_mfa(
    req: HttpRequest,
    module: web::Data<IdentityModule>,
    body: web::Json<MfaLogin>,
) -> Result<WithCookie<OperatorLogin>, ApiError> {
    let grant = module.complete_operator_mfa_login(body.into_inner(), &origin(&req)).await?;
    Ok(operator_session(&module, grant))
}

/// Start setting up an authenticator app: a fresh secret and its otpauth URI.
#[api_v2_operation(tags(Platform), operation_id = "enrolOperatorMfa")]
async fn operator_mfa_enrol(
    op: PlatformOperator,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<MfaEnrolment>, ApiError> {
    Ok(web::Json(module.start_operator_mfa(op.operator_id).await?))
}

/// Switch two-factor authentication on with a first code; answers the recovery codes, once.
#[api_v2_operation(tags(Platform), operation_id = "activateOperatorMfa")]
async fn operator_mfa_activate(
    op: PlatformOperator,
    module: web::Data<IdentityModule>,
    body: web::Json<MfaCode>,
) -> Result<web::Json<RecoveryCodes>, ApiError> {
    Ok(web::Json(module.activate_operator_mfa(op.operator_id, &body.code).await?))
}

/// Switch two-factor authentication off: the password and a current code or a recovery code.
#[api_v2_operation(tags(Platform), operation_id = "disableOperatorMfa")]
async fn operator_mfa_disable(
    op: PlatformOperator,
    module: web::Data<IdentityModule>,
    body: web::Json<MfaDisable>,
) -> Result<NoContent, ApiError> {
    module.disable_operator_mfa(op.operator_id, body.into_inner()).await?;
    Ok(NoContent)
}

/// Log out: ends the operator's sessions and tokens.
#[api_v2_operation(tags(Platform), operation_id = "operatorLogout")]
async fn operator_logout(
    op: PlatformOperator,
    module: web::Data<IdentityModule>,
) -> Result<WithCookie<Accepted>, ApiError> {
    module.operator_logout(op.operator_id).await?;
    let cookie = session_cookie(&module, OPERATOR_COOKIE, areas::PLATFORM, None);
    Ok(WithCookie { body: Accepted { status: "logged out" }, cookie: Some(cookie) })
}

/// The platform's bootstrap: the configured platform token may create the first operator;
/// after that only operators may add operators.
pub(crate) struct OperatorOrBootstrap(Actor);

impl FromRequest for OperatorOrBootstrap {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let principal = agora_kernel::auth::verified_principal(req);
        let token_matches = req.app_data::<actix_web::web::Data<PlatformToken>>().is_some_and(|t| t.matches(req));
        let module = req.app_data::<actix_web::web::Data<IdentityModule>>().cloned();
        Box::pin(async move {
            if let Principal::Operator { operator_id } = principal? {
                return Ok(OperatorOrBootstrap(Actor::User(operator_id)));
            }
            match (token_matches, module) {
                (true, Some(module)) if !module.has_operators().await.map_err(ApiError::from)? => {
                    Ok(OperatorOrBootstrap(Actor::PlatformToken))
                }
                _ => Err(ApiError::new(ErrorKind::Unauthorized, "unauthorized", "log in as a platform operator")),
            }
        })
    }
}

impl paperclip::v2::schema::Apiv2Schema for OperatorOrBootstrap {}

impl OperationModifier for OperatorOrBootstrap {
    fn update_security(op: &mut DefaultOperationRaw) {
        <PlatformOperator as OperationModifier>::update_security(op);
    }
    fn update_security_definitions(
        map: &mut std::collections::BTreeMap<String, paperclip::v2::models::SecurityScheme>,
    ) {
        <PlatformOperator as OperationModifier>::update_security_definitions(map);
    }
}

/// Add a platform operator. The platform token from configuration may create the first one.
#[api_v2_operation(tags(Platform), operation_id = "createOperator")]
async fn create_operator(
    who: OperatorOrBootstrap,
    module: web::Data<IdentityModule>,
    body: web::Json<NewOperator>,
) -> Result<CreatedJson<Operator>, ApiError> {
    let operator = match who.0 {
        Actor::PlatformToken => module.create_first_operator(body.into_inner()).await?,
        actor => module.create_operator(body.into_inner(), &actor).await?,
    };
    Ok(CreatedJson(operator))
}

/// The signed-in operator.
#[api_v2_operation(tags(Platform), operation_id = "operatorMe")]
async fn operator_me(op: PlatformOperator, module: web::Data<IdentityModule>) -> Result<web::Json<Operator>, ApiError> {
    Ok(web::Json(module.operator(op.operator_id).await?))
}

/// Change your password. Every session and token of yours ends, this one too: log in again.
#[api_v2_operation(tags(Platform), operation_id = "operatorChangePassword")]
async fn operator_change_password(
    op: PlatformOperator,
    module: web::Data<IdentityModule>,
    body: web::Json<OperatorPasswordChange>,
) -> Result<WithCookie<Accepted>, ApiError> {
    module.change_operator_password(op.operator_id, body.into_inner()).await?;
    let cookie = session_cookie(&module, OPERATOR_COOKIE, areas::PLATFORM, None);
    Ok(WithCookie { body: Accepted { status: "password changed; log in again" }, cookie: Some(cookie) })
}

/// The platform's operators, oldest first.
#[api_v2_operation(tags(Platform), operation_id = "listOperators")]
async fn list_operators(
    _op: PlatformOperator,
    module: web::Data<IdentityModule>,
    page: ListQuery<OldestFirst>,
) -> Result<web::Json<Page<Operator>>, ApiError> {
    Ok(web::Json(module.list_operators(&page.keyset()?).await?))
}

/// Disable an operator (not yourself): their sessions and tokens end at once.
#[api_v2_operation(tags(Platform), operation_id = "disableOperator")]
async fn disable_operator(
    op: PlatformOperator,
    module: web::Data<IdentityModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<web::Json<Operator>, ApiError> {
    Ok(web::Json(module.set_operator_disabled(id.into_inner(), true, op.operator_id).await?))
}

/// Let a disabled operator log in again.
#[api_v2_operation(tags(Platform), operation_id = "enableOperator")]
async fn enable_operator(
    op: PlatformOperator,
    module: web::Data<IdentityModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<web::Json<Operator>, ApiError> {
    Ok(web::Json(module.set_operator_disabled(id.into_inner(), false, op.operator_id).await?))
}

pub(crate) fn platform_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/login").route(web::post().to(operator_login)))
        .service(web::resource("/auth/logout").route(web::post().to(operator_logout)))
        .service(web::resource("/me").route(web::get().to(operator_me)))
        .service(web::resource("/me/password").route(web::post().to(operator_change_password)))
        .service(web::resource("/auth/login/mfa").route(web::post().to(operator_login_mfa)))
        .service(web::resource("/me/mfa/totp").route(web::post().to(operator_mfa_enrol)))
        .service(web::resource("/me/mfa/totp/activate").route(web::post().to(operator_mfa_activate)))
        .service(web::resource("/me/mfa/disable").route(web::post().to(operator_mfa_disable)))
        .service(
            web::resource("/operators").route(web::get().to(list_operators)).route(web::post().to(create_operator)),
        )
        .service(web::resource("/operators/{id}/disable").route(web::post().to(disable_operator)))
        .service(web::resource("/operators/{id}/enable").route(web::post().to(enable_operator)));
}
