//! The login flow: start (state, nonce, PKCE kept server-side, bound to the browser), callback
//! (code exchange, ID token verification), finding or creating the account, and confirming a
//! link to an existing account.

use super::client::{provider_metadata, send};
use super::*;
use crate::sessions::store::Device;
use crate::IdentitySettings;
use agora_kernel::Stamp;

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

/// The cookie binding a login in flight to the browser (`None`: the cookie's removal).
pub(crate) fn binding_cookie(settings: &IdentitySettings, kind: UserKind, value: Option<String>) -> Cookie<'static> {
    let mut cookie = Cookie::build(BINDING_COOKIE, value.clone().unwrap_or_default())
        .http_only(true)
        .secure(settings.secure_cookies)
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

/// The shop's provider, if it serves `kind` accounts.
pub(crate) async fn configured(conn: &mut AsyncPgConnection, kind: UserKind) -> Result<ProviderRow, OidcError> {
    let row = provider_row(conn).await?;
    row.filter(|r| r.kind() == kind).ok_or(OidcError::NotConfigured(kind.as_str()))
}

/// A login about to go to the provider: what is kept server-side (hashed where it is a secret)
/// and the browser's binding token for its cookie.
pub(crate) struct PendingLogin {
    pub location: String,
    pub binding: String,
    state_hash: Vec<u8>,
    browser_hash: Vec<u8>,
    kind: UserKind,
    nonce: String,
    verifier: String,
    redirect_uri: String,
    expires_at: DateTime<Utc>,
}

/// The provider's authorization URL for a login to the shop at `base_url`, with fresh state,
/// nonce and PKCE verifier.
pub(crate) async fn authorization(
    m: &IdentityModule,
    provider: ProviderRow,
    kind: UserKind,
    base_url: &str,
) -> Result<PendingLogin, OidcError> {
    let metadata = provider_metadata(m, &provider.issuer_url).await?;
    // The shop's configured address, never the request's Host: the provider sends the code there.
    let redirect_uri = callback_url(base_url, kind);
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
    Ok(PendingLogin {
        location: url.to_string(),
        state_hash: tokens::digest(state.secret()),
        browser_hash: tokens::digest(&binding),
        binding,
        kind,
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
        redirect_uri,
        expires_at: Utc::now() + chrono::Duration::minutes(LOGIN_TTL_MINUTES),
    })
}

/// Remembers a login in flight until the provider sends the browser back.
pub(crate) async fn remember_login(conn: &mut AsyncPgConnection, login: &PendingLogin) -> Result<(), OidcError> {
    // Logins abandoned at the provider are swept here rather than by a job.
    diesel::delete(oidc_logins::table.filter(oidc_logins::expires_at.lt(Utc::now()))).execute(conn).await?;
    diesel::insert_into(oidc_logins::table)
        .values((
            oidc_logins::state_hash.eq(&login.state_hash),
            oidc_logins::browser_hash.eq(&login.browser_hash),
            oidc_logins::account_kind.eq(login.kind.as_str()),
            oidc_logins::nonce.eq(&login.nonce),
            oidc_logins::pkce_verifier.eq(&login.verifier),
            oidc_logins::redirect_uri.eq(&login.redirect_uri),
            oidc_logins::expires_at.eq(login.expires_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes the login in flight named by `state` (a callback works at most once, whatever happens
/// next).
pub(crate) async fn take_login(conn: &mut AsyncPgConnection, state: &str) -> Result<Option<LoginRow>, OidcError> {
    let row = diesel::delete(oidc_logins::table.filter(oidc_logins::state_hash.eq(tokens::digest(state))))
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
    Ok(row.map(|(browser_hash, account_kind, nonce, pkce_verifier, redirect_uri, expires_at)| LoginRow {
        browser_hash,
        account_kind,
        nonce,
        pkce_verifier,
        redirect_uri,
        expires_at,
    }))
}

/// The code of a callback whose login was started by this browser, for `kind`, in time, and
/// not refused at the provider.
pub(crate) fn callback_code(
    login: &LoginRow,
    binding: Option<String>,
    kind: UserKind,
    query: CallbackQuery,
) -> Result<String, OidcError> {
    let bound = binding.is_some_and(|b| tokens::digest(&b) == login.browser_hash);
    if !bound || login.expires_at < Utc::now() || login.account_kind != kind.as_str() {
        return Err(OidcError::BadState);
    }
    if let Some(error) = query.error {
        let description = query.error_description.unwrap_or_default();
        return Err(OidcError::Refused(format!("{error} {description}").trim().to_string()));
    }
    Ok(query.code.filter(|c| !c.is_empty()).ok_or_else(|| IdentityError::field("code", "required"))?)
}

/// Signs in the person the provider vouched for: the found, linked or created account gets a
/// session (or, with a second factor on, a challenge); an existing account whose holder must
/// confirm the link gets a pending link instead.
pub(crate) async fn sign_in(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    kind: UserKind,
    identity: &ProviderIdentity,
    provider: &ProviderRow,
    device: &Device,
) -> Result<Outcome, OidcError> {
    let tenant = tx.tenant().clone();
    let rules = LinkRules {
        staff_role: provider.staff_role.clone(),
        staff_sso_only: kind == UserKind::Staff && provider.staff_sso_only,
    };
    let (user, how) = match find_or_create(tx.conn(), kind, identity, &rules).await? {
        Found::Account(user, how) => (user, how),
        Found::LinkPending { user, token } => {
            let details = serde_json::json!({ "kind": kind.as_str(), "issuer": identity.issuer });
            tx.audit("oidc.link_requested", Some(format!("user:{user}")), details).await?;
            return Ok(Outcome::LinkPending(token));
        }
    };
    if !user.active() {
        return Err(OidcError::Disabled);
    }
    // The provider proved who this is, not that they hold the second factor the account has
    // switched on here: as after a password, that still has to be shown.
    if let Some(mfa) = crate::login::mfa::mfa_challenge(tx.conn(), tenant.id, &user, Client::Browser).await? {
        return Ok(Outcome::Mfa(mfa.challenge));
    }
    tx.act_as(Actor::User(user.id));
    let details = serde_json::json!({ "kind": kind.as_str(), "method": "oidc",
        "issuer": identity.issuer, "account": how });
    tx.audit("login.succeeded", Some(format!("user:{}", user.id)), details).await?;
    let grant = crate::sessions::grant(m, tx.conn(), &tenant, user, Client::Browser, device).await?;
    Ok(Outcome::Granted(Box::new(grant)))
}

/// Where the browser lands after the callback, and its session id when it got one. A fragment
/// never reaches a server, so what it carries stays out of access logs and Referer headers.
pub(crate) fn landing(
    m: &IdentityModule,
    kind: UserKind,
    base_url: &str,
    provider: &ProviderRow,
    outcome: Outcome,
) -> (OidcRedirect, Option<String>) {
    let mut location = format!("{base_url}{}", provider.return_path);
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
    (OidcRedirect { location, cookies: vec![binding_cookie(m.settings(), kind, None)] }, session)
}

/// The provider-facing half of the callback: code exchange and ID token verification.
pub(crate) async fn verify_at_provider(
    m: &IdentityModule,
    tenant: &TenantContext,
    provider: &ProviderRow,
    code: String,
    login: LoginRow,
) -> Result<ProviderIdentity, OidcError> {
    let secret = open_secret(m, tenant, provider)?;
    let outbound = m.inner.outbound.clone();
    let http = |r| send(outbound.clone(), r);
    let metadata = provider_metadata(m, &provider.issuer_url).await?;
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
            m.inner.discovery.invalidate(&provider.issuer_url).await;
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

/// What the callback ends in.
pub(crate) enum Outcome {
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
            // Created by the provider's say-so, before anyone has signed in.
            let stamp = Stamp::of(&Actor::System("oidc"));
            let user = store::insert_user(conn, kind, &identity.email, &identity.name, None, &stamp).await?;
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

/// The signed-in `user` confirms a pending link (its token's digest): from now on the provider
/// identity signs in as this account. A token of another account's link, used or expired is
/// refused alike.
pub(crate) async fn confirm_link(tx: &mut TenantTx<'_>, user: uuid::Uuid, token_hash: &[u8]) -> Result<(), OidcError> {
    let conn = tx.conn();
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
    tx.audit("oidc.linked", Some(format!("user:{user}")), serde_json::json!({ "issuer": issuer })).await?;
    Ok(())
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
