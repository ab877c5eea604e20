//! The login flow: start (state, nonce, PKCE kept server-side, bound to the browser), callback
//! (code exchange, ID token verification), finding or creating the account, and confirming a
//! link to an existing account.

use super::client::send;
use super::*;

/// Where the browser goes next, and the cookies to set on the way.
pub(crate) struct OidcRedirect {
    pub location: String,
    pub cookies: Vec<Cookie<'static>>,
}

pub(crate) struct LoginRow {
    browser_hash: Vec<u8>,
    account_kind: String,
    nonce: String,
    pkce_verifier: String,
    redirect_uri: String,
    expires_at: DateTime<Utc>,
}

/// The verified facts about who logged in at the provider.
pub(crate) struct ProviderIdentity {
    issuer: String,
    subject: String,
    email: String,
    email_verified: bool,
    name: String,
}

impl IdentityModule {
    pub(crate) fn binding_cookie(&self, kind: UserKind, value: Option<String>) -> Cookie<'static> {
        let mut cookie = Cookie::build(BINDING_COOKIE, value.clone().unwrap_or_default())
            .http_only(true)
            .secure(self.settings().secure_cookies)
            // Lax: the provider's redirect back is a top-level GET, which Lax cookies accompany.
            .same_site(SameSite::Lax)
            .path(format!("{}/auth/oidc", area_path(kind)))
            .finish();
        match value {
            Some(_) => cookie.set_max_age(actix_web::cookie::time::Duration::minutes(LOGIN_TTL_MINUTES)),
            None => cookie.make_removal(),
        }
        cookie
    }

    pub(crate) async fn configured(&self, tenant: &TenantContext, kind: UserKind) -> Result<ProviderRow, OidcError> {
        let row = self
            .db()
            .tenant_tx(&tenant.schema, async move |conn| Ok::<_, OidcError>(provider_row(conn).await?))
            .await?;
        row.filter(|r| r.kind() == kind).ok_or(OidcError::NotConfigured(kind.as_str()))
    }

    /// Begins a login: remembers state, nonce and PKCE verifier, and sends the browser to the provider.
    #[tracing::instrument(skip_all, fields(tenant = %tenant.slug, kind = kind.as_str()))]
    pub(crate) async fn oidc_start(
        &self,
        tenant: &TenantContext,
        kind: UserKind,
        _origin: &RequestOrigin,
    ) -> Result<OidcRedirect, OidcError> {
        let provider = self.configured(tenant, kind).await?;
        let metadata = self.provider_metadata(&provider.issuer_url).await?;
        // The shop's configured address, never the request's Host: the provider sends the code there.
        let redirect_uri = callback_url(&self.shop_url(tenant).await?, kind);
        let client = CoreClient::from_provider_metadata((*metadata).clone(), ClientId::new(provider.client_id), None)
            .set_redirect_uri(RedirectUrl::new(redirect_uri.clone()).map_err(|e| OidcError::Provider(e.to_string()))?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let binding = tokens::random_token(32);
        let expires_at = Utc::now() + chrono::Duration::minutes(LOGIN_TTL_MINUTES);
        let (state_hash, browser_hash) = (tokens::digest(state.secret()), tokens::digest(&binding));
        let (nonce, verifier) = (nonce.secret().clone(), verifier.secret().clone());
        self.db()
            .tenant_tx(&tenant.schema, async move |conn| {
                // Logins abandoned at the provider are swept here rather than by a job.
                diesel::delete(oidc_logins::table.filter(oidc_logins::expires_at.lt(Utc::now()))).execute(conn).await?;
                diesel::insert_into(oidc_logins::table)
                    .values((
                        oidc_logins::state_hash.eq(state_hash),
                        oidc_logins::browser_hash.eq(browser_hash),
                        oidc_logins::account_kind.eq(kind.as_str()),
                        oidc_logins::nonce.eq(nonce),
                        oidc_logins::pkce_verifier.eq(verifier),
                        oidc_logins::redirect_uri.eq(redirect_uri),
                        oidc_logins::expires_at.eq(expires_at),
                    ))
                    .execute(conn)
                    .await?;
                Ok::<_, OidcError>(())
            })
            .await?;
        Ok(OidcRedirect { location: url.to_string(), cookies: vec![self.binding_cookie(kind, Some(binding))] })
    }

    /// Finishes a login: checks the state against this browser, exchanges the code, verifies the
    /// ID token and grants a session to the found, linked or created account.
    #[tracing::instrument(skip_all, fields(tenant = %tenant.slug, kind = kind.as_str()))]
    pub(crate) async fn oidc_callback(
        &self,
        tenant: &TenantContext,
        kind: UserKind,
        query: CallbackQuery,
        binding: Option<String>,
        origin: &RequestOrigin,
    ) -> Result<(OidcRedirect, Option<String>), OidcError> {
        let state = query.state.filter(|s| !s.is_empty()).ok_or_else(|| IdentityError::field("state", "required"))?;
        // The state is consumed first, whatever happens next: a callback works at most once.
        let state_hash = tokens::digest(&state);
        let login = self
            .db()
            .tenant_tx(&tenant.schema, async move |conn| {
                let row = diesel::delete(oidc_logins::table.filter(oidc_logins::state_hash.eq(state_hash)))
                    .returning((
                        oidc_logins::browser_hash,
                        oidc_logins::account_kind,
                        oidc_logins::nonce,
                        oidc_logins::pkce_verifier,
                        oidc_logins::redirect_uri,
                        oidc_logins::expires_at,
                    ))
                    .get_result::<(Vec<u8>, String, String, String, String, DateTime<Utc>)>(conn)
                    .await
                    .optional()?;
                Ok::<_, OidcError>(row)
            })
            .await?
            .map(|(browser_hash, account_kind, nonce, pkce_verifier, redirect_uri, expires_at)| LoginRow {
                browser_hash,
                account_kind,
                nonce,
                pkce_verifier,
                redirect_uri,
                expires_at,
            })
            .ok_or(OidcError::BadState)?;
        let bound = binding.is_some_and(|b| tokens::digest(&b) == login.browser_hash);
        if !bound || login.expires_at < Utc::now() || login.account_kind != kind.as_str() {
            return Err(OidcError::BadState);
        }
        if let Some(error) = query.error {
            let description = query.error_description.unwrap_or_default();
            return Err(OidcError::Refused(format!("{error} {description}").trim().to_string()));
        }
        let code = query.code.filter(|c| !c.is_empty()).ok_or_else(|| IdentityError::field("code", "required"))?;
        let provider = self.configured(tenant, kind).await?;
        let secret = open_secret(self, tenant, &provider)?;
        let identity = self.verify_at_provider(&provider, secret, code, login).await?;
        let (this, context, ip, device) = (self.clone(), tenant.clone(), origin.ip.clone(), origin.device());
        let rules = LinkRules {
            staff_role: provider.staff_role.clone(),
            staff_sso_only: kind == UserKind::Staff && provider.staff_sso_only,
        };
        let outcome = self
            .db()
            .tenant_tx(&tenant.schema, async move |conn| {
                let (user, how) = match find_or_create(conn, kind, &identity, &rules).await? {
                    Found::Account(user, how) => (user, how),
                    Found::LinkPending { user, token } => {
                        let details = serde_json::json!({ "kind": kind.as_str(), "issuer": identity.issuer });
                        let subject = Some(format!("user:{user}"));
                        store::audit(conn, &Actor::Anonymous, "oidc.link_requested", subject, ip.as_deref(), details)
                            .await?;
                        return Ok(Outcome::LinkPending(token));
                    }
                };
                if !user.active() {
                    return Err(OidcError::Disabled);
                }
                // The provider proved who this is, not that they hold the second factor the
                // account has switched on here: as after a password, that still has to be shown.
                if let Some(mfa) = this.mfa_challenge(conn, context.id, &user, Client::Browser).await? {
                    return Ok(Outcome::Mfa(mfa.challenge));
                }
                let details = serde_json::json!({ "kind": kind.as_str(), "method": "oidc",
                    "issuer": identity.issuer, "account": how });
                let subject = Some(format!("user:{}", user.id));
                store::audit(conn, &Actor::User(user.id), "login.succeeded", subject, ip.as_deref(), details).await?;
                let grant = this.grant(conn, &context, user, Client::Browser, &device).await?;
                Ok::<_, OidcError>(Outcome::Granted(Box::new(grant)))
            })
            .await?;
        let mut location = format!("{}{}", self.shop_url(tenant).await?, provider.return_path);
        // A fragment never reaches a server, so what it carries stays out of access logs and
        // Referer headers.
        let session = match outcome {
            Outcome::Granted(grant) => grant.session_id,
            Outcome::Mfa(challenge) => {
                // The page finishes at `…/auth/login/mfa`.
                location.push_str("#mfa_challenge=");
                location.push_str(&challenge);
                None
            }
            Outcome::LinkPending(token) => {
                // The page asks the person to sign in as usual and confirm at `…/me/oidc-link`.
                location.push_str("#oidc_link=");
                location.push_str(&token);
                None
            }
        };
        let redirect = OidcRedirect { location, cookies: vec![self.binding_cookie(kind, None)] };
        Ok((redirect, session))
    }

    /// The provider-facing half of the callback: code exchange and ID token verification.
    pub(crate) async fn verify_at_provider(
        &self,
        provider: &ProviderRow,
        secret: String,
        code: String,
        login: LoginRow,
    ) -> Result<ProviderIdentity, OidcError> {
        let outbound = self.inner.outbound.clone();
        let http = |r| send(outbound.clone(), r);
        let metadata = self.provider_metadata(&provider.issuer_url).await?;
        let client = CoreClient::from_provider_metadata(
            (*metadata).clone(),
            ClientId::new(provider.client_id.clone()),
            Some(ClientSecret::new(secret)),
        )
        .set_redirect_uri(RedirectUrl::new(login.redirect_uri).map_err(|e| OidcError::Provider(e.to_string()))?);
        let token = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| OidcError::Provider(format!("token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier))
            .request_async(&http)
            .await
            .map_err(|e| match e {
                // The provider looked at the code and said no (used, expired, wrong verifier).
                RequestTokenError::ServerResponse(r) => OidcError::Refused(format!("token exchange: {}", r.error())),
                other => OidcError::Provider(format!("token exchange: {other}")),
            })?;
        let id_token = token.id_token().ok_or_else(|| OidcError::Provider("no ID token in the answer".into()))?;
        let verifier = client.id_token_verifier();
        let claims = match id_token.claims(&verifier, &Nonce::new(login.nonce)) {
            Ok(claims) => claims,
            Err(e) => {
                // Perhaps the provider rotated its keys since the document was cached: the next
                // login reads them afresh.
                self.inner.discovery.invalidate(&provider.issuer_url).await;
                return Err(OidcError::BadIdToken(e.to_string()));
            }
        };
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token.signing_alg().map_err(|e| OidcError::BadIdToken(e.to_string()))?;
            let key = id_token.signing_key(&verifier).map_err(|e| OidcError::BadIdToken(e.to_string()))?;
            let actual = AccessTokenHash::from_token(token.access_token(), alg, key)
                .map_err(|e| OidcError::BadIdToken(e.to_string()))?;
            if actual != *expected {
                return Err(OidcError::BadIdToken("the access token does not match at_hash".into()));
            }
        }
        let subject = claims.subject().clone();
        let mut email = claims.email().map(|e| e.as_str().to_string());
        let mut email_verified = claims.email_verified();
        let mut name = claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_string());
        // Conforming providers keep profile claims out of the ID token in the code flow; the
        // userinfo endpoint has them (and the crate checks its subject matches the ID token's).
        if email.is_none() {
            let info: CoreUserInfoClaims = client
                .user_info(token.access_token().clone(), Some(subject.clone()))
                .map_err(|e| OidcError::Provider(format!("userinfo: {e}")))?
                .request_async(&http)
                .await
                .map_err(|e| OidcError::Provider(format!("userinfo: {e}")))?;
            email = info.email().map(|e| e.as_str().to_string());
            email_verified = info.email_verified();
            name = name.or_else(|| info.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_string()));
        }
        let email = parse_email(&email.ok_or(OidcError::NoEmail)?).map_err(|_| OidcError::NoEmail)?;
        Ok(ProviderIdentity {
            issuer: claims.issuer().as_str().to_string(),
            subject: subject.as_str().to_string(),
            email,
            email_verified: email_verified == Some(true),
            name: name.unwrap_or_default().chars().take(200).collect(),
        })
    }
}

/// What the callback ends in.
enum Outcome {
    Granted(Box<crate::sessions::Grant>),
    /// The account has a second factor on; the challenge finishes the login.
    Mfa(String),
    /// An existing account's holder must confirm the link; the token names it.
    LinkPending(String),
}

/// How the provider's identities meet the shop's accounts.
struct LinkRules {
    /// Role of staff created on their first login.
    staff_role: Option<String>,
    /// The owner made the provider the staff's only way in: staff (never owners) are linked by
    /// their verified email without asking.
    staff_sso_only: bool,
}

/// An account for a provider identity, or a link its holder has to confirm first.
enum Found {
    /// The account, and how it was found (`existing`, `linked`, `created`) for the audit log.
    Account(UserRow, &'static str),
    LinkPending {
        user: uuid::Uuid,
        token: String,
    },
}

/// The account of a provider identity: already linked, created now, or linked now where the
/// owner's SSO-only rule allows it; otherwise an existing account with the same (verified) email
/// gets a pending link for its holder to confirm.
async fn find_or_create(
    conn: &mut AsyncPgConnection,
    kind: UserKind,
    identity: &ProviderIdentity,
    rules: &LinkRules,
) -> Result<Found, OidcError> {
    let linked: Option<uuid::Uuid> = oidc_identities::table
        .filter(oidc_identities::issuer.eq(&identity.issuer))
        .filter(oidc_identities::subject.eq(&identity.subject))
        .select(oidc_identities::user_id)
        .first(conn)
        .await
        .optional()?;
    if let Some(id) = linked {
        let user = store::user_by_id(conn, id).await?.filter(|u| u.kind() == kind);
        if let Some(user) = user {
            diesel::update(oidc_identities::table)
                .filter(oidc_identities::issuer.eq(&identity.issuer))
                .filter(oidc_identities::subject.eq(&identity.subject))
                .set(oidc_identities::last_login_at.eq(diesel::dsl::now))
                .execute(conn)
                .await?;
            return Ok(Found::Account(user, "existing"));
        }
        // The account is gone (erased): the identity starts afresh below.
        diesel::delete(oidc_identities::table)
            .filter(oidc_identities::issuer.eq(&identity.issuer))
            .filter(oidc_identities::subject.eq(&identity.subject))
            .execute(conn)
            .await?;
    }
    let (user, how) = match store::user_by_email(conn, kind, &identity.email).await? {
        // Linking hands the provider's user an existing account: never when either side has not
        // proven it owns the address (a provider account with someone else's unverified email
        // would take over theirs), and even then only with the holder's say-so, since whoever
        // runs the provider can claim any verified address.
        Some(user) if identity.email_verified && user.email_verified_at.is_some() => {
            let silently = rules.staff_sso_only && !store::is_active_owner(conn, user.id).await?;
            if !silently {
                let token = tokens::random_token(32);
                diesel::insert_into(oidc_pending_links::table)
                    .values((
                        oidc_pending_links::token_hash.eq(tokens::digest(&token)),
                        oidc_pending_links::user_id.eq(user.id),
                        oidc_pending_links::issuer.eq(&identity.issuer),
                        oidc_pending_links::subject.eq(&identity.subject),
                        oidc_pending_links::expires_at
                            .eq(Utc::now() + chrono::Duration::minutes(PENDING_LINK_TTL_MINUTES)),
                    ))
                    .execute(conn)
                    .await?;
                return Ok(Found::LinkPending { user: user.id, token });
            }
            (user, "linked")
        }
        Some(_) => return Err(OidcError::UnverifiedLink),
        None => {
            let actor = Actor::System("oidc");
            let user = store::insert_user(conn, kind, &identity.email, &identity.name, None, &actor).await?;
            let user = if identity.email_verified {
                diesel::update(users::table.filter(users::id.eq(user.id)))
                    .set(users::email_verified_at.eq(diesel::dsl::now))
                    .returning(UserRow::as_returning())
                    .get_result(conn)
                    .await?
            } else {
                user
            };
            if let (UserKind::Staff, Some(role)) = (kind, &rules.staff_role) {
                crate::access::assign(conn, user.id, std::slice::from_ref(role), &Grantor::System("oidc")).await?;
            }
            (user, "created")
        }
    };
    diesel::insert_into(oidc_identities::table)
        .values((
            oidc_identities::issuer.eq(&identity.issuer),
            oidc_identities::subject.eq(&identity.subject),
            oidc_identities::user_id.eq(user.id),
        ))
        .execute(conn)
        .await?;
    Ok(Found::Account(user, how))
}

impl IdentityModule {
    /// The signed-in `user` confirms a pending link: from now on the provider identity signs in
    /// as this account. A token of another account's link, used or expired is refused alike.
    pub(crate) async fn confirm_oidc_link(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
        token: &str,
        ip: Option<String>,
    ) -> Result<(), OidcError> {
        let token_hash = tokens::digest(token);
        self.db()
            .tenant_tx(&tenant.schema, async move |conn| {
                diesel::delete(oidc_pending_links::table.filter(oidc_pending_links::expires_at.lt(Utc::now())))
                    .execute(conn)
                    .await?;
                let pending: Option<(String, String)> = diesel::delete(
                    oidc_pending_links::table
                        .filter(oidc_pending_links::token_hash.eq(token_hash))
                        .filter(oidc_pending_links::user_id.eq(user)),
                )
                .returning((oidc_pending_links::issuer, oidc_pending_links::subject))
                .get_result(conn)
                .await
                .optional()?;
                let (issuer, subject) = pending.ok_or(IdentityError::BadOneTimeToken)?;
                let linked = diesel::insert_into(oidc_identities::table)
                    .values((
                        oidc_identities::issuer.eq(&issuer),
                        oidc_identities::subject.eq(&subject),
                        oidc_identities::user_id.eq(user),
                    ))
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await?;
                if linked == 0 {
                    // Another account was linked to this identity meanwhile (or this one already).
                    return Err(IdentityError::BadOneTimeToken.into());
                }
                let details = serde_json::json!({ "issuer": issuer });
                let subject = Some(format!("user:{user}"));
                store::audit(conn, &Actor::User(user), "oidc.linked", subject, ip.as_deref(), details).await?;
                Ok::<_, OidcError>(())
            })
            .await
    }
}

/// What the provider sends back to the callback.
#[derive(Debug, Deserialize, Apiv2Schema)]
pub(crate) struct CallbackQuery {
    pub(crate) code: Option<String>,
    pub(crate) state: Option<String>,
    /// Set by the provider when the user cancelled or the provider refused.
    pub(crate) error: Option<String>,
    pub(crate) error_description: Option<String>,
}
