//! A second factor: TOTP authenticator apps (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits, ±1 step)
//! and single-use recovery codes; the two-step login; the shop's "staff must use MFA" policy.
//!
//! Policy enforcement: a staff member of a shop that requires MFA and who has not enrolled still
//! logs in (otherwise they could never enrol), but every admin route other than their own account,
//! logout and MFA enrolment answers 403 `mfa-enrolment-required` (see `middleware::authenticate`).

use crate::login::mfa_store::{recovery_digest, ChallengeRealm, Holder, CHALLENGE_TTL_SECS};
use crate::login::throttle::code_rules;
use crate::login::totp::{base32, matching_step, now_step, percent_encode, SECRET_BYTES};
use crate::schema::{identity_policy, mfa_totp};
use crate::sessions::store::Device;
use crate::sessions::{Client, Grant};
use crate::store::{self, UserRow};
use crate::{tokens, IdentityError, IdentityModule, UserKind};
use agora_kernel::throttle::{self, Rule, ThrottleScope};
use agora_kernel::{Actor, TenantTx};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The shared secret of a new authenticator, to show as a QR code (the client draws it).
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct MfaEnrolment {
    /// Base32 (RFC 4648, no padding), for typing into an app by hand.
    pub secret: String,
    /// `otpauth://totp/…`: the content of the QR code.
    pub otpauth_uri: String,
}

/// A code from the authenticator app.
#[derive(Debug, Clone, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct MfaCode {
    pub code: String,
}

/// Shown once, when MFA is switched on: each code replaces the app once.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// Proof for switching MFA off: the password and a current code or an unused recovery code.
#[derive(Debug, Clone, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct MfaDisable {
    pub password: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub recovery_code: Option<String>,
}

/// The second login step: the challenge from the password step and a code or a recovery code.
#[derive(Debug, Clone, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct MfaLogin {
    pub challenge: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub recovery_code: Option<String>,
}

/// What the password step answers for an account with MFA: no session or token yet.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct MfaChallenge {
    pub mfa_required: bool,
    /// Opaque and single use; send it to `…/auth/login/mfa` with a code.
    pub challenge: String,
    /// Seconds until the challenge expires.
    pub expires_in: i64,
}

/// The shop's identity policy.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct SecurityPolicy {
    /// Staff must enrol an authenticator before using any admin route but their own account.
    pub staff_mfa_required: bool,
}

/// What a password login led to.
pub(crate) enum LoginOutcome {
    Granted(Box<Grant>),
    MfaRequired(MfaChallenge),
}

/// Digits only (apps show `123 456`); anything else is no code.
pub(crate) fn parse_code(field: &str, raw: &str) -> Result<String, IdentityError> {
    let code: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(IdentityError::field(field, "six digits from the authenticator app"))
    }
}

/// The second factor a request offers.
pub(crate) enum Proof {
    Code(String),
    Recovery(String),
}

pub(crate) fn proof(code: Option<String>, recovery_code: Option<String>) -> Result<Proof, IdentityError> {
    match (code, recovery_code) {
        (Some(code), None) => Ok(Proof::Code(parse_code("code", &code)?)),
        (None, Some(recovery)) if !recovery.trim().is_empty() => Ok(Proof::Recovery(recovery)),
        (None, Some(_)) => Err(IdentityError::field("recovery_code", "must not be empty")),
        _ => Err(IdentityError::field("code", "send either code or recovery_code")),
    }
}

/// How the second step of a login went.
pub(crate) enum SecondStep {
    Passed {
        holder: Holder,
        client: Client,
        method: &'static str,
    },
    Throttled(u64),
    /// No live challenge (`None`), or a wrong proof for its holder.
    Rejected(Option<Holder>),
}

/// How switching an authenticator on went.
pub(crate) enum Activation {
    Activated(Vec<String>),
    Throttled(u64),
    WrongCode,
}

/// How switching an authenticator off went.
pub(crate) enum Removal {
    Removed(&'static str),
    Throttled(u64),
    WrongProof,
}

// The flows below serve shop accounts and platform operators alike (see `mfa_store`); they run
// in the caller's transaction and answer wrong codes with an outcome rather than an error, so the
// throttle count they record is committed.
/// Where `holder`'s codes are counted (their shop, or the platform for operators) and how.
pub(crate) fn code_throttle(m: &IdentityModule, holder: Holder) -> (ThrottleScope, Vec<Rule>) {
    match holder {
        Holder::Account { tenant, user } => {
            (ThrottleScope::Shop(tenant), code_rules(m.settings(), format!("mfa:{user}")))
        }
        Holder::Operator(id) => (ThrottleScope::Platform, code_rules(m.settings(), format!("mfa:operator:{id}"))),
    }
}

/// The seed, sealed again under the current key first when it is not yet (and whether it was).
pub(crate) async fn seed_resealed(
    m: &IdentityModule,
    conn: &mut AsyncPgConnection,
    holder: Holder,
    stored: &[u8],
) -> Result<(Vec<u8>, bool), IdentityError> {
    let (seed, stale) = holder.open_seed(&m.inner.sealer, stored)?;
    if stale {
        holder.store_seed(conn, &holder.seal_seed(&m.inner.sealer, &seed)?).await?;
    }
    Ok((seed, stale))
}

/// Seals every authenticator seed of the shop under the current key (after a key rotation,
/// or for seeds stored before sealing began); returns how many it rewrote.
pub(crate) async fn reseal_seeds(
    m: &IdentityModule,
    conn: &mut AsyncPgConnection,
    tenant: uuid::Uuid,
) -> Result<usize, IdentityError> {
    let rows: Vec<(uuid::Uuid, Vec<u8>)> =
        mfa_totp::table.select((mfa_totp::user_id, mfa_totp::secret)).for_update().load(conn).await?;
    let mut rewritten = 0;
    for (user, stored) in rows {
        if seed_resealed(m, conn, Holder::Account { tenant, user }, &stored).await?.1 {
            rewritten += 1;
        }
    }
    Ok(rewritten)
}

/// Checks a proof against the holder's active authenticator and consumes it (the code's
/// step, or the recovery code). `None`: wrong, or MFA is not active.
pub(crate) async fn consume_proof(
    m: &IdentityModule,
    conn: &mut AsyncPgConnection,
    holder: Holder,
    proof: &Proof,
) -> Result<Option<&'static str>, IdentityError> {
    let Some(authenticator) = holder.authenticator(conn, true).await? else { return Ok(None) };
    match proof {
        Proof::Code(code) => {
            let (seed, _) = seed_resealed(m, conn, holder, &authenticator.sealed).await?;
            let Some(step) = matching_step(&seed, code, now_step(), authenticator.last_step) else {
                return Ok(None);
            };
            holder.record_step(conn, step).await?;
            Ok(Some("totp"))
        }
        // Recovery codes never need the seed: they still work when it no longer opens.
        Proof::Recovery(raw) => {
            Ok(holder.use_recovery_code(conn, &recovery_digest(raw)).await?.then_some("recovery_code"))
        }
    }
}

/// Inside the password step's transaction: a challenge when the holder has MFA on.
pub(crate) async fn challenge_if_enrolled(
    conn: &mut AsyncPgConnection,
    holder: Holder,
    client: Client,
) -> QueryResult<Option<MfaChallenge>> {
    if !holder.is_active(conn).await? {
        return Ok(None);
    }
    let challenge = holder.open_challenge(conn, client).await?;
    Ok(Some(MfaChallenge { mfa_required: true, challenge, expires_in: CHALLENGE_TTL_SECS }))
}

/// The second login step's checks: a live challenge, the holder not throttled, the proof
/// right; the challenge is then spent.
pub(crate) async fn second_step(
    m: &IdentityModule,
    conn: &mut AsyncPgConnection,
    realm: ChallengeRealm,
    challenge: &str,
    proof: &Proof,
) -> Result<SecondStep, IdentityError> {
    let digest = tokens::digest(challenge);
    let Some((holder, client)) = crate::login::mfa_store::live_challenge(conn, realm, &digest).await? else {
        return Ok(SecondStep::Rejected(None));
    };
    let (scope, rules) = code_throttle(m, holder);
    let reservation = match throttle::reserve(conn, scope, &rules).await? {
        Ok(reservation) => reservation,
        Err(wait) => return Ok(SecondStep::Throttled(wait.retry_after_secs)),
    };
    let Some(method) = consume_proof(m, conn, holder, proof).await? else {
        return Ok(SecondStep::Rejected(Some(holder)));
    };
    crate::login::mfa_store::close_challenge(conn, realm, &digest).await?;
    reservation.succeeded(conn).await?;
    Ok(SecondStep::Passed { holder, client, method })
}

/// Starts (or restarts) enrolment with a fresh seed; MFA is off until a code confirms it.
/// The app lists it as `<label>:<account>` from `issuer`.
pub(crate) async fn enrol_authenticator(
    m: &IdentityModule,
    conn: &mut AsyncPgConnection,
    holder: Holder,
    (label, account, issuer): (&str, &str, &str),
) -> Result<MfaEnrolment, IdentityError> {
    if holder.is_active(conn).await? {
        return Err(IdentityError::MfaAlreadyEnabled);
    }
    let mut seed = vec![0u8; SECRET_BYTES];
    rand::thread_rng().fill_bytes(&mut seed);
    holder.enrol(conn, &holder.seal_seed(&m.inner.sealer, &seed)?).await?;
    let encoded = base32(&seed);
    let (label, account, issuer) = (percent_encode(label), percent_encode(account), percent_encode(issuer));
    let otpauth_uri =
        format!("otpauth://totp/{label}:{account}?secret={encoded}&issuer={issuer}&algorithm=SHA1&digits=6&period=30");
    Ok(MfaEnrolment { secret: encoded, otpauth_uri })
}

/// Switches the enrolled authenticator on with a first code.
pub(crate) async fn activate_authenticator(
    m: &IdentityModule,
    conn: &mut AsyncPgConnection,
    holder: Holder,
    code: &str,
) -> Result<Activation, IdentityError> {
    let Some(pending) = holder.authenticator(conn, false).await? else {
        return Err(if holder.is_active(conn).await? {
            IdentityError::MfaAlreadyEnabled
        } else {
            IdentityError::MfaNotEnrolling
        });
    };
    let (scope, rules) = code_throttle(m, holder);
    let reservation = match throttle::reserve(conn, scope, &rules).await? {
        Ok(reservation) => reservation,
        Err(wait) => return Ok(Activation::Throttled(wait.retry_after_secs)),
    };
    let (seed, _) = holder.open_seed(&m.inner.sealer, &pending.sealed)?;
    let Some(step) = matching_step(&seed, code, now_step(), None) else {
        return Ok(Activation::WrongCode);
    };
    let codes = holder.activate(conn, step).await?;
    reservation.succeeded(conn).await?;
    Ok(Activation::Activated(codes))
}

/// Switches the active authenticator off, given a second factor (the caller checked the
/// password).
pub(crate) async fn remove_authenticator(
    m: &IdentityModule,
    conn: &mut AsyncPgConnection,
    holder: Holder,
    proof: &Proof,
) -> Result<Removal, IdentityError> {
    if !holder.is_active(conn).await? {
        return Err(IdentityError::MfaNotEnabled);
    }
    let (scope, rules) = code_throttle(m, holder);
    let reservation = match throttle::reserve(conn, scope, &rules).await? {
        Ok(reservation) => reservation,
        Err(wait) => return Ok(Removal::Throttled(wait.retry_after_secs)),
    };
    let Some(method) = consume_proof(m, conn, holder, proof).await? else {
        return Ok(Removal::WrongProof);
    };
    holder.remove(conn).await?;
    reservation.succeeded(conn).await?;
    Ok(Removal::Removed(method))
}

/// Whether the account has an active authenticator.
pub(crate) async fn mfa_active(
    conn: &mut AsyncPgConnection,
    tenant: uuid::Uuid,
    user: uuid::Uuid,
) -> QueryResult<bool> {
    Holder::Account { tenant, user }.is_active(conn).await
}

/// Removes the account's authenticator, recovery codes and pending challenges.
pub(crate) async fn remove_mfa(conn: &mut AsyncPgConnection, tenant: uuid::Uuid, user: uuid::Uuid) -> QueryResult<()> {
    Holder::Account { tenant, user }.remove(conn).await
}

/// Inside the password login's transaction: a challenge when the user has MFA on.
pub(crate) async fn mfa_challenge(
    conn: &mut AsyncPgConnection,
    tenant: uuid::Uuid,
    user: &UserRow,
    client: Client,
) -> QueryResult<Option<MfaChallenge>> {
    challenge_if_enrolled(conn, Holder::Account { tenant, user: user.id }, client).await
}

/// How the second step of a shop login ended.
pub(crate) enum MfaLoginOutcome {
    Granted(Box<Grant>),
    Throttled(u64),
    Rejected,
}

/// The second login step of a `kind` account: a valid challenge and code (or recovery code)
/// grant the session or tokens the password step asked for. Wrong codes count against the
/// account's MFA throttle (and are committed with the answer `Rejected`).
pub(crate) async fn complete_login(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    kind: UserKind,
    request: &MfaLogin,
    proof: &Proof,
    device: &Device,
) -> Result<MfaLoginOutcome, IdentityError> {
    let tenant = tx.tenant().clone();
    let realm = ChallengeRealm::Shop(tenant.id);
    let (user_id, client, method) = match second_step(m, tx.conn(), realm, &request.challenge, proof).await? {
        SecondStep::Passed { holder: Holder::Account { user, .. }, client, method } => (user, client, method),
        SecondStep::Throttled(wait) => return Ok(MfaLoginOutcome::Throttled(wait)),
        SecondStep::Rejected(Some(Holder::Account { user, .. })) => {
            // The challenge names the account the password step matched.
            tx.act_as(Actor::User(user));
            tx.audit("login.mfa_failed", Some(format!("user:{user}")), json!({})).await?;
            return Ok(MfaLoginOutcome::Rejected);
        }
        SecondStep::Passed { .. } | SecondStep::Rejected(_) => return Ok(MfaLoginOutcome::Rejected),
    };
    let Some(user) = store::user_by_id(tx.conn(), user_id).await?.filter(|u| u.active() && u.kind() == kind) else {
        return Ok(MfaLoginOutcome::Rejected);
    };
    tx.act_as(Actor::User(user_id));
    let subject = Some(format!("user:{user_id}"));
    if method == "recovery_code" {
        tx.audit("mfa.recovery_code_used", subject.clone(), json!({})).await?;
    }
    tx.audit("login.succeeded", subject, json!({ "kind": kind.as_str(), "mfa": method })).await?;
    let grant = crate::sessions::grant(m, tx.conn(), &tenant, user, client, device).await?;
    Ok(MfaLoginOutcome::Granted(Box::new(grant)))
}

/// Starts (or restarts) the signed-in `user`'s enrolment with a fresh secret.
pub(crate) async fn start_enrolment(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    user: uuid::Uuid,
) -> Result<MfaEnrolment, IdentityError> {
    let tenant = tx.tenant().clone();
    let conn = tx.conn();
    let account = store::user_by_id(conn, user).await?.ok_or(IdentityError::Unauthenticated)?;
    let holder = Holder::Account { tenant: tenant.id, user };
    enrol_authenticator(m, conn, holder, ("Agora", &account.email, &tenant.slug)).await
}

/// Switches the signed-in `user`'s MFA on with a first code (audited when it worked).
pub(crate) async fn activate(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    user: uuid::Uuid,
    code: &str,
) -> Result<Activation, IdentityError> {
    let holder = Holder::Account { tenant: tx.tenant().id, user };
    let activation = activate_authenticator(m, tx.conn(), holder, code).await?;
    if let Activation::Activated(_) = &activation {
        tx.audit("mfa.enrolled", Some(format!("user:{user}")), json!({ "method": "totp" })).await?;
    }
    Ok(activation)
}

/// Switches the signed-in `user`'s MFA off with a second factor (the caller checked the
/// password); audited when it worked.
pub(crate) async fn disable(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    user: uuid::Uuid,
    proof: &Proof,
) -> Result<Removal, IdentityError> {
    let holder = Holder::Account { tenant: tx.tenant().id, user };
    let removal = remove_authenticator(m, tx.conn(), holder, proof).await?;
    if let Removal::Removed(method) = &removal {
        let subject = Some(format!("user:{user}"));
        if *method == "recovery_code" {
            tx.audit("mfa.recovery_code_used", subject.clone(), json!({})).await?;
        }
        tx.audit("mfa.disabled", subject, json!({ "proof": method })).await?;
    }
    Ok(removal)
}

/// The shop's identity policy (defaults when never set).
pub(crate) async fn security_policy(conn: &mut AsyncPgConnection) -> Result<SecurityPolicy, IdentityError> {
    let required: Option<bool> =
        identity_policy::table.select(identity_policy::staff_mfa_required).first(conn).await.optional()?;
    Ok(SecurityPolicy { staff_mfa_required: required.unwrap_or(false) })
}

/// Replaces the shop's identity policy.
pub(crate) async fn set_security_policy(
    tx: &mut TenantTx<'_>,
    policy: SecurityPolicy,
) -> Result<SecurityPolicy, IdentityError> {
    let by = tx.stamp().by;
    diesel::insert_into(identity_policy::table)
        .values((
            identity_policy::staff_mfa_required.eq(policy.staff_mfa_required),
            identity_policy::modified_by.eq(&by),
        ))
        .on_conflict(identity_policy::singleton)
        .do_update()
        .set((
            identity_policy::staff_mfa_required.eq(policy.staff_mfa_required),
            identity_policy::modified_by.eq(&by),
            identity_policy::modified_at.eq(diesel::dsl::now),
            identity_policy::version.eq(identity_policy::version + 1),
        ))
        .execute(tx.conn())
        .await?;
    let details = serde_json::json!({ "staff_mfa_required": policy.staff_mfa_required });
    tx.audit("policy.changed", Some("policy:identity".into()), details).await?;
    Ok(policy)
}

/// Whether the shop requires MFA of staff and staff member `user` has none yet.
pub(crate) async fn enrolment_missing(
    conn: &mut AsyncPgConnection,
    tenant: uuid::Uuid,
    user: uuid::Uuid,
) -> Result<bool, IdentityError> {
    if !security_policy(conn).await?.staff_mfa_required {
        return Ok(false);
    }
    Ok(!mfa_active(conn, tenant, user).await?)
}

/// The field a proof came in, for naming it when it is wrong.
pub(crate) fn proof_field(proof: &Proof) -> &'static str {
    if matches!(proof, Proof::Code(_)) {
        "code"
    } else {
        "recovery_code"
    }
}

/// The API's answer to an activation.
pub(crate) fn activation_answer(activation: Activation) -> Result<RecoveryCodes, IdentityError> {
    match activation {
        Activation::Activated(codes) => Ok(RecoveryCodes { recovery_codes: codes }),
        Activation::Throttled(retry_after_secs) => Err(IdentityError::Throttled { retry_after_secs }),
        Activation::WrongCode => Err(IdentityError::field("code", "does not match the authenticator app")),
    }
}

/// The API's answer to switching MFA off.
pub(crate) fn removal_answer(removal: Removal, field: &str) -> Result<(), IdentityError> {
    match removal {
        Removal::Removed(_) => Ok(()),
        Removal::Throttled(retry_after_secs) => Err(IdentityError::Throttled { retry_after_secs }),
        Removal::WrongProof => Err(IdentityError::field(field, "is wrong or already used")),
    }
}
