//! A second factor: TOTP authenticator apps (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits, ±1 step)
//! and single-use recovery codes; the two-step login; the shop's "staff must use MFA" policy.
//!
//! Policy enforcement: a staff member of a shop that requires MFA and who has not enrolled still
//! logs in (otherwise they could never enrol), but every admin route other than their own account,
//! logout and MFA enrolment answers 403 `mfa-enrolment-required` (see `middleware::authenticate`).

use crate::schema::{identity_policy, mfa_challenges, mfa_recovery_codes, mfa_totp};
use crate::sessions::{Client, Grant};
use crate::store::{self, UserRow};
use crate::{password, tokens, IdentityError, IdentityModule, RequestOrigin, UserKind};
use agora_kernel::{Actor, TenantContext};
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use hmac_sha1::{Hmac, KeyInit, Mac};
use rand::RngCore;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

const THROTTLE_TABLE: &str = "login_throttle";
const STEP_SECS: i64 = 30;
pub(crate) const SECRET_BYTES: usize = 20;
pub(crate) const RECOVERY_CODES: usize = 10;
/// Long enough to open an authenticator app, short enough that a stolen challenge is stale.
pub(crate) const CHALLENGE_TTL_SECS: i64 = 300;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

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

/// The 6-digit code of `secret` for time step `step` (RFC 4226 dynamic truncation).
pub(crate) fn totp_at(secret: &[u8], step: i64) -> Option<u32> {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).ok()?;
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest.last()? & 0x0f);
    let bytes: [u8; 4] = digest.get(offset..offset + 4)?.try_into().ok()?;
    Some((u32::from_be_bytes(bytes) & 0x7fff_ffff) % 1_000_000)
}

/// The step a code matches within ±1 step of now, if it is newer than the last one accepted
/// (so an observed code cannot be replayed inside its window).
pub(crate) fn matching_step(secret: &[u8], code: &str, now_step: i64, last_step: Option<i64>) -> Option<i64> {
    let code: u32 = code.parse().ok()?;
    (now_step - 1..=now_step + 1)
        .filter(|step| last_step.is_none_or(|last| *step > last))
        .find(|step| totp_at(secret, *step) == Some(code))
}

pub(crate) fn now_step() -> i64 {
    Utc::now().timestamp().div_euclid(STEP_SECS)
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

pub(crate) fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Percent-encodes all but RFC 3986 unreserved characters (the otpauth label and issuer).
pub(crate) fn percent_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `xxxxx-xxxxx` from the base32 alphabet: 50 random bits, easy to read aloud and type.
pub(crate) fn new_recovery_code() -> String {
    let mut bytes = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut bytes);
    let letters: String = bytes.iter().map(|b| char::from(BASE32[usize::from(b & 31)]).to_ascii_lowercase()).collect();
    format!("{}-{}", &letters[..5], &letters[5..])
}

/// The stored form of a recovery code: case, spaces and dashes do not matter.
pub(crate) fn recovery_digest(raw: &str) -> Vec<u8> {
    let normal: String = raw.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
    tokens::digest(&normal)
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

/// What TOTP seeds are sealed for (see `agora_kernel::sealing`).
const SEED_PURPOSE: &str = "totp-secret";
/// Seeds stored before sealing began are this long (in the clear); sealed ones are longer.
const CLEAR_SEED_LEN: usize = SECRET_BYTES;

/// A seed belongs to one account of one shop: sealed anywhere else, it does not open.
fn seed_place(tenant: uuid::Uuid, user: uuid::Uuid) -> Vec<u8> {
    [tenant.as_bytes().as_slice(), user.as_bytes()].concat()
}

impl IdentityModule {
    fn seal_seed(&self, tenant: uuid::Uuid, user: uuid::Uuid, seed: &[u8]) -> Result<Vec<u8>, IdentityError> {
        self.inner
            .sealer
            .seal(SEED_PURPOSE, &seed_place(tenant, user), seed)
            .map_err(|e| IdentityError::Hashing(e.to_string()))
    }

    /// The seed as stored, and whether it should be sealed again (it was in the clear, or sealed
    /// under the previous master key).
    fn open_seed(&self, tenant: uuid::Uuid, user: uuid::Uuid, stored: &[u8]) -> Result<(Vec<u8>, bool), IdentityError> {
        if stored.len() == CLEAR_SEED_LEN {
            return Ok((stored.to_vec(), true));
        }
        let opened = self
            .inner
            .sealer
            .open(SEED_PURPOSE, &seed_place(tenant, user), stored)
            .map_err(|e| IdentityError::Hashing(format!("the authenticator secret of user {user}: {e}")))?;
        Ok((opened.plain, opened.stale))
    }

    /// The seed, sealed again under the current key first when it is not yet (and whether it was).
    async fn seed_resealed(
        &self,
        conn: &mut AsyncPgConnection,
        tenant: uuid::Uuid,
        user: uuid::Uuid,
        stored: &[u8],
    ) -> Result<(Vec<u8>, bool), IdentityError> {
        let (seed, stale) = self.open_seed(tenant, user, stored)?;
        if stale {
            diesel::update(mfa_totp::table.filter(mfa_totp::user_id.eq(user)))
                .set(mfa_totp::secret.eq(self.seal_seed(tenant, user, &seed)?))
                .execute(conn)
                .await?;
        }
        Ok((seed, stale))
    }

    /// Seals every authenticator seed of the shop under the current key (after a key rotation,
    /// or for seeds stored before sealing began); returns how many it rewrote.
    pub(crate) async fn reseal_seeds(
        &self,
        conn: &mut AsyncPgConnection,
        tenant: uuid::Uuid,
    ) -> Result<usize, IdentityError> {
        let rows: Vec<(uuid::Uuid, Vec<u8>)> =
            mfa_totp::table.select((mfa_totp::user_id, mfa_totp::secret)).for_update().load(conn).await?;
        let mut rewritten = 0;
        for (user, stored) in rows {
            if self.seed_resealed(conn, tenant, user, &stored).await?.1 {
                rewritten += 1;
            }
        }
        Ok(rewritten)
    }

    /// Checks a proof against the user's active authenticator and consumes it (the code's step,
    /// or the recovery code). `None`: wrong, or MFA is not active.
    async fn consume_proof(
        &self,
        conn: &mut AsyncPgConnection,
        tenant: uuid::Uuid,
        user: uuid::Uuid,
        proof: &Proof,
    ) -> Result<Option<&'static str>, IdentityError> {
        let row: Option<(Vec<u8>, Option<i64>)> = mfa_totp::table
            .filter(mfa_totp::user_id.eq(user))
            .filter(mfa_totp::activated_at.is_not_null())
            .select((mfa_totp::secret, mfa_totp::last_step))
            .for_update()
            .first(conn)
            .await
            .optional()?;
        let Some((stored, last_step)) = row else { return Ok(None) };
        match proof {
            Proof::Code(code) => {
                let (seed, _) = self.seed_resealed(conn, tenant, user, &stored).await?;
                Ok(consume_code(conn, user, &seed, code, last_step).await?)
            }
            // Recovery codes never need the seed: they still work when it no longer opens.
            Proof::Recovery(raw) => Ok(consume_recovery_code(conn, user, raw).await?),
        }
    }
}

async fn consume_code(
    conn: &mut AsyncPgConnection,
    user: uuid::Uuid,
    secret: &[u8],
    code: &str,
    last_step: Option<i64>,
) -> QueryResult<Option<&'static str>> {
    let Some(step) = matching_step(secret, code, now_step(), last_step) else { return Ok(None) };
    diesel::update(mfa_totp::table.filter(mfa_totp::user_id.eq(user)))
        .set(mfa_totp::last_step.eq(step))
        .execute(conn)
        .await?;
    Ok(Some("totp"))
}

async fn consume_recovery_code(
    conn: &mut AsyncPgConnection,
    user: uuid::Uuid,
    raw: &str,
) -> QueryResult<Option<&'static str>> {
    let used = diesel::update(
        mfa_recovery_codes::table
            .filter(mfa_recovery_codes::user_id.eq(user))
            .filter(mfa_recovery_codes::code_hash.eq(recovery_digest(raw)))
            .filter(mfa_recovery_codes::used_at.is_null()),
    )
    .set(mfa_recovery_codes::used_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?;
    Ok((used == 1).then_some("recovery_code"))
}

/// Whether the user has an active authenticator.
pub(crate) async fn mfa_active(conn: &mut AsyncPgConnection, user: uuid::Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        mfa_totp::table.filter(mfa_totp::user_id.eq(user)).filter(mfa_totp::activated_at.is_not_null()),
    ))
    .get_result(conn)
    .await
}

/// Removes the user's authenticator, recovery codes and pending challenges.
pub(crate) async fn remove_mfa(conn: &mut AsyncPgConnection, user: uuid::Uuid) -> QueryResult<()> {
    diesel::delete(mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(user))).execute(conn).await?;
    diesel::delete(mfa_challenges::table.filter(mfa_challenges::user_id.eq(user))).execute(conn).await?;
    diesel::delete(mfa_totp::table.filter(mfa_totp::user_id.eq(user))).execute(conn).await?;
    Ok(())
}

fn throttle_key(user: uuid::Uuid) -> String {
    format!("mfa:{user}")
}

impl IdentityModule {
    fn mfa_throttle(&self, user: uuid::Uuid) -> Vec<(String, u32, u32)> {
        let settings = self.settings();
        vec![(throttle_key(user), settings.free_failures, settings.max_failures_per_hour)]
    }

    /// Inside the password login's transaction: a challenge when the user has MFA on.
    pub(crate) async fn mfa_challenge(
        &self,
        conn: &mut AsyncPgConnection,
        user: &UserRow,
        client: Client,
    ) -> QueryResult<Option<MfaChallenge>> {
        if !mfa_active(conn, user.id).await? {
            return Ok(None);
        }
        // Challenges are short-lived: tidy the user's stale ones here rather than in a job.
        diesel::delete(
            mfa_challenges::table
                .filter(mfa_challenges::user_id.eq(user.id))
                .filter(mfa_challenges::expires_at.lt(diesel::dsl::now)),
        )
        .execute(conn)
        .await?;
        let challenge = tokens::random_token(32);
        diesel::insert_into(mfa_challenges::table)
            .values((
                mfa_challenges::id_hash.eq(tokens::digest(&challenge)),
                mfa_challenges::user_id.eq(user.id),
                mfa_challenges::client.eq(if client == Client::Api { "api" } else { "browser" }),
                mfa_challenges::expires_at.eq(Utc::now() + chrono::Duration::seconds(CHALLENGE_TTL_SECS)),
            ))
            .execute(conn)
            .await?;
        Ok(Some(MfaChallenge { mfa_required: true, challenge, expires_in: CHALLENGE_TTL_SECS }))
    }

    /// The second login step: a valid challenge and code (or recovery code) grant the session or
    /// tokens the password step asked for. Wrong codes count against the account's MFA throttle.
    pub(crate) async fn complete_mfa_login(
        &self,
        tenant: &TenantContext,
        kind: UserKind,
        request: MfaLogin,
        origin: &RequestOrigin,
    ) -> Result<Grant, IdentityError> {
        let proof = proof(request.code, request.recovery_code)?;
        let digest = tokens::digest(&request.challenge);
        let (this, context, ip) = (self.clone(), tenant.clone(), origin.ip.clone());
        enum Outcome {
            Granted(Box<Grant>),
            Throttled(u64),
            Rejected,
        }
        let outcome = self
            .db()
            .tenant_tx(&tenant.schema, async move |conn| {
                let row: Option<(uuid::Uuid, String)> = mfa_challenges::table
                    .filter(mfa_challenges::id_hash.eq(&digest))
                    .filter(mfa_challenges::used_at.is_null())
                    .filter(mfa_challenges::expires_at.gt(diesel::dsl::now))
                    .select((mfa_challenges::user_id, mfa_challenges::client))
                    .for_update()
                    .first(conn)
                    .await
                    .optional()?;
                let Some((user_id, client)) = row else { return Ok(Outcome::Rejected) };
                let Some(user) = store::user_by_id(conn, user_id).await?.filter(|u| u.active() && u.kind() == kind)
                else {
                    return Ok(Outcome::Rejected);
                };
                if let Some(wait) = store::throttle_check(conn, THROTTLE_TABLE, &this.mfa_throttle(user_id)).await? {
                    return Ok(Outcome::Throttled(wait));
                }
                let actor = Actor::User(user_id);
                let subject = Some(format!("user:{user_id}"));
                let Some(method) = this.consume_proof(conn, context.id, user_id, &proof).await? else {
                    store::throttle_fail(conn, THROTTLE_TABLE, &[throttle_key(user_id)]).await?;
                    store::audit(conn, &actor, "login.mfa_failed", subject, ip.as_deref(), serde_json::json!({}))
                        .await?;
                    return Ok(Outcome::Rejected);
                };
                diesel::update(mfa_challenges::table.filter(mfa_challenges::id_hash.eq(&digest)))
                    .set(mfa_challenges::used_at.eq(diesel::dsl::now))
                    .execute(conn)
                    .await?;
                store::throttle_clear(conn, THROTTLE_TABLE, &throttle_key(user_id)).await?;
                if method == "recovery_code" {
                    store::audit(
                        conn,
                        &actor,
                        "mfa.recovery_code_used",
                        subject.clone(),
                        ip.as_deref(),
                        serde_json::json!({}),
                    )
                    .await?;
                }
                store::audit(
                    conn,
                    &actor,
                    "login.succeeded",
                    subject,
                    ip.as_deref(),
                    serde_json::json!({ "kind": kind.as_str(), "mfa": method }),
                )
                .await?;
                let client = if client == "api" { Client::Api } else { Client::Browser };
                let grant = this.grant(conn, &context, user, client, ip.as_deref()).await?;
                Ok::<_, IdentityError>(Outcome::Granted(Box::new(grant)))
            })
            .await?;
        match outcome {
            Outcome::Granted(grant) => Ok(*grant),
            Outcome::Throttled(retry_after_secs) => Err(IdentityError::Throttled { retry_after_secs }),
            Outcome::Rejected => Err(IdentityError::MfaFailed),
        }
    }

    /// Starts (or restarts) enrolment with a fresh secret; MFA is off until a code confirms it.
    pub async fn start_mfa_enrolment(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
    ) -> Result<MfaEnrolment, IdentityError> {
        let mut secret = vec![0u8; SECRET_BYTES];
        rand::thread_rng().fill_bytes(&mut secret);
        let issuer = tenant.slug.clone();
        let sealed = self.seal_seed(tenant.id, user, &secret)?;
        self.db()
            .tenant_tx(&tenant.schema, async move |conn| {
                let account = store::user_by_id(conn, user).await?.ok_or(IdentityError::Unauthenticated)?;
                if mfa_active(conn, user).await? {
                    return Err(IdentityError::MfaAlreadyEnabled);
                }
                diesel::insert_into(mfa_totp::table)
                    .values((mfa_totp::user_id.eq(user), mfa_totp::secret.eq(&sealed)))
                    .on_conflict(mfa_totp::user_id)
                    .do_update()
                    .set((mfa_totp::secret.eq(&sealed), mfa_totp::last_step.eq(None::<i64>)))
                    .execute(conn)
                    .await?;
                let encoded = base32(&secret);
                let otpauth_uri = format!(
                    "otpauth://totp/Agora:{}?secret={encoded}&issuer={}&algorithm=SHA1&digits=6&period=30",
                    percent_encode(&account.email),
                    percent_encode(&issuer),
                );
                Ok(MfaEnrolment { secret: encoded, otpauth_uri })
            })
            .await
    }

    /// Switches MFA on with a first code from the app and hands out the recovery codes.
    pub async fn activate_mfa(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
        code: &str,
        ip: Option<String>,
    ) -> Result<RecoveryCodes, IdentityError> {
        let code = parse_code("code", code)?;
        let throttle = self.mfa_throttle(user);
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let (this, tenant_id) = (self.clone(), tenant.id);
        enum Outcome {
            Activated(RecoveryCodes),
            Throttled(u64),
            WrongCode,
        }
        let outcome = self
            .db()
            .tenant_tx(&tenant.schema, async move |conn| {
                let pending: Option<Vec<u8>> = mfa_totp::table
                    .filter(mfa_totp::user_id.eq(user))
                    .filter(mfa_totp::activated_at.is_null())
                    .select(mfa_totp::secret)
                    .for_update()
                    .first(conn)
                    .await
                    .optional()?;
                let Some(stored) = pending else {
                    return Err(if mfa_active(conn, user).await? {
                        IdentityError::MfaAlreadyEnabled
                    } else {
                        IdentityError::MfaNotEnrolling
                    });
                };
                if let Some(wait) = store::throttle_check(conn, THROTTLE_TABLE, &throttle).await? {
                    return Ok(Outcome::Throttled(wait));
                }
                let (secret, _) = this.open_seed(tenant_id, user, &stored)?;
                let Some(step) = matching_step(&secret, &code, now_step(), None) else {
                    store::throttle_fail(conn, THROTTLE_TABLE, &[throttle_key(user)]).await?;
                    return Ok(Outcome::WrongCode);
                };
                diesel::update(mfa_totp::table.filter(mfa_totp::user_id.eq(user)))
                    .set((mfa_totp::activated_at.eq(diesel::dsl::now), mfa_totp::last_step.eq(step)))
                    .execute(conn)
                    .await?;
                diesel::delete(mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(user)))
                    .execute(conn)
                    .await?;
                let rows: Vec<_> = codes
                    .iter()
                    .map(|c| {
                        (mfa_recovery_codes::user_id.eq(user), mfa_recovery_codes::code_hash.eq(recovery_digest(c)))
                    })
                    .collect();
                diesel::insert_into(mfa_recovery_codes::table).values(rows).execute(conn).await?;
                store::throttle_clear(conn, THROTTLE_TABLE, &throttle_key(user)).await?;
                store::audit(
                    conn,
                    &Actor::User(user),
                    "mfa.enrolled",
                    Some(format!("user:{user}")),
                    ip.as_deref(),
                    serde_json::json!({ "method": "totp" }),
                )
                .await?;
                Ok(Outcome::Activated(RecoveryCodes { recovery_codes: codes }))
            })
            .await?;
        match outcome {
            Outcome::Activated(codes) => Ok(codes),
            Outcome::Throttled(retry_after_secs) => Err(IdentityError::Throttled { retry_after_secs }),
            Outcome::WrongCode => Err(IdentityError::field("code", "does not match the authenticator app")),
        }
    }

    /// Switches MFA off, given the password and a current code or an unused recovery code.
    pub async fn disable_mfa(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
        request: MfaDisable,
        ip: Option<String>,
    ) -> Result<(), IdentityError> {
        let proof = proof(request.code, request.recovery_code)?;
        let stored = self
            .db()
            .tenant_tx(&tenant.schema, async move |conn| {
                Ok::<_, IdentityError>(store::user_by_id(conn, user).await?.and_then(|u| u.password_hash))
            })
            .await?;
        if !password::verify(SecretString::from(request.password), stored).await {
            return Err(IdentityError::field("password", "is not your current password"));
        }
        let throttle = self.mfa_throttle(user);
        enum Outcome {
            Disabled,
            Throttled(u64),
            WrongProof(&'static str),
        }
        let field = if matches!(proof, Proof::Code(_)) { "code" } else { "recovery_code" };
        let (this, tenant_id) = (self.clone(), tenant.id);
        let outcome = self
            .db()
            .tenant_tx(&tenant.schema, async move |conn| {
                if !mfa_active(conn, user).await? {
                    return Err(IdentityError::MfaNotEnabled);
                }
                if let Some(wait) = store::throttle_check(conn, THROTTLE_TABLE, &throttle).await? {
                    return Ok(Outcome::Throttled(wait));
                }
                let actor = Actor::User(user);
                let Some(method) = this.consume_proof(conn, tenant_id, user, &proof).await? else {
                    store::throttle_fail(conn, THROTTLE_TABLE, &[throttle_key(user)]).await?;
                    return Ok(Outcome::WrongProof(field));
                };
                remove_mfa(conn, user).await?;
                store::throttle_clear(conn, THROTTLE_TABLE, &throttle_key(user)).await?;
                let subject = Some(format!("user:{user}"));
                if method == "recovery_code" {
                    store::audit(
                        conn,
                        &actor,
                        "mfa.recovery_code_used",
                        subject.clone(),
                        ip.as_deref(),
                        serde_json::json!({}),
                    )
                    .await?;
                }
                store::audit(
                    conn,
                    &actor,
                    "mfa.disabled",
                    subject,
                    ip.as_deref(),
                    serde_json::json!({ "proof": method }),
                )
                .await?;
                Ok(Outcome::Disabled)
            })
            .await?;
        match outcome {
            Outcome::Disabled => Ok(()),
            Outcome::Throttled(retry_after_secs) => Err(IdentityError::Throttled { retry_after_secs }),
            Outcome::WrongProof(field) => Err(IdentityError::field(field, "is wrong or already used")),
        }
    }

    /// The shop's identity policy (defaults when never set).
    pub async fn security_policy(&self, tenant: &TenantContext) -> Result<SecurityPolicy, IdentityError> {
        self.db()
            .tenant_tx(&tenant.schema, async move |conn| {
                let required: Option<bool> =
                    identity_policy::table.select(identity_policy::staff_mfa_required).first(conn).await.optional()?;
                Ok(SecurityPolicy { staff_mfa_required: required.unwrap_or(false) })
            })
            .await
    }

    /// Replaces the shop's identity policy.
    pub async fn set_security_policy(
        &self,
        tenant: &TenantContext,
        policy: SecurityPolicy,
        actor: &Actor,
    ) -> Result<SecurityPolicy, IdentityError> {
        let by = actor.audit_name();
        let actor = actor.clone();
        self.db()
            .tenant_tx(&tenant.schema, async move |conn| {
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
                    .execute(conn)
                    .await?;
                store::audit(
                    conn,
                    &actor,
                    "policy.changed",
                    Some("policy:identity".into()),
                    None,
                    serde_json::json!({ "staff_mfa_required": policy.staff_mfa_required }),
                )
                .await?;
                Ok(policy)
            })
            .await
    }

    /// Whether the shop requires MFA of staff and staff member `user` has none yet.
    pub(crate) async fn mfa_enrolment_missing(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
    ) -> Result<bool, IdentityError> {
        self.db()
            .tenant_tx(&tenant.schema, async move |conn| {
                let required: Option<bool> =
                    identity_policy::table.select(identity_policy::staff_mfa_required).first(conn).await.optional()?;
                if !required.unwrap_or(false) {
                    return Ok(false);
                }
                Ok(!mfa_active(conn, user).await?)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_sha1_vectors() {
        // RFC 6238 appendix B uses the ASCII secret "12345678901234567890" and 8 digits; the
        // last six digits of its values are the 6-digit codes.
        let secret = b"12345678901234567890";
        for (time, expected) in
            [(59, 287_082), (1_111_111_109, 81_804), (1_234_567_890, 5_924), (2_000_000_000, 279_037)]
        {
            assert_eq!(totp_at(secret, time / 30), Some(expected), "t={time}");
        }
    }

    #[test]
    fn base32_matches_rfc_4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
    }

    #[test]
    fn codes_are_accepted_once_within_one_step() {
        let secret = [7u8; 20];
        let code = format!("{:06}", totp_at(&secret, 100).unwrap_or_default());
        assert_eq!(matching_step(&secret, &code, 101, None), Some(100));
        assert_eq!(matching_step(&secret, &code, 102, None), None, "two steps late");
        assert_eq!(matching_step(&secret, &code, 100, Some(100)), None, "replayed");
    }
}
