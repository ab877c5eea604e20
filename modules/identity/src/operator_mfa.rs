//! A second factor for platform operators: the same TOTP apps and recovery codes as shop accounts
//! (`mfa`), kept in the control schema. An operator with an authenticator logs in in two steps:
//! the password answers a challenge, `…/auth/login/mfa` exchanges it with a code.

use crate::mfa::{
    base32, matching_step, new_recovery_code, now_step, parse_code, percent_encode, proof, recovery_digest,
    MfaChallenge, MfaDisable, MfaEnrolment, MfaLogin, Proof, RecoveryCodes, CHALLENGE_TTL_SECS, RECOVERY_CODES,
    SECRET_BYTES,
};
use crate::operators::{OperatorGrant, THROTTLE_TABLE};
use crate::schema::{operator_mfa_challenges, operator_mfa_recovery_codes, operator_mfa_totp, operators};
use crate::{password, store, tokens, IdentityError, IdentityModule, RequestOrigin};
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rand::RngCore;
use secrecy::SecretString;

const SEED_PURPOSE: &str = "operator-totp-secret";

fn throttle_key(operator: uuid::Uuid) -> String {
    format!("mfa:operator:{operator}")
}

/// Whether the operator has an active authenticator.
async fn active(conn: &mut AsyncPgConnection, operator: uuid::Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        operator_mfa_totp::table
            .filter(operator_mfa_totp::operator_id.eq(operator))
            .filter(operator_mfa_totp::activated_at.is_not_null()),
    ))
    .get_result(conn)
    .await
}

impl IdentityModule {
    fn operator_throttle(&self, operator: uuid::Uuid) -> Vec<(String, u32, u32)> {
        let settings = self.settings();
        vec![(throttle_key(operator), settings.free_failures, settings.max_failures_per_hour)]
    }

    fn open_operator_seed(&self, operator: uuid::Uuid, sealed: &[u8]) -> Result<Vec<u8>, IdentityError> {
        self.inner
            .sealer
            .open(SEED_PURPOSE, operator.as_bytes(), sealed)
            .map(|opened| opened.plain)
            .map_err(|e| IdentityError::Hashing(format!("the authenticator secret of operator {operator}: {e}")))
    }

    /// Inside the password step's transaction: a challenge when the operator has MFA on.
    pub(crate) async fn operator_mfa_challenge(
        &self,
        conn: &mut AsyncPgConnection,
        operator: uuid::Uuid,
        browser: bool,
    ) -> QueryResult<Option<MfaChallenge>> {
        if !active(conn, operator).await? {
            return Ok(None);
        }
        diesel::delete(
            operator_mfa_challenges::table
                .filter(operator_mfa_challenges::operator_id.eq(operator))
                .filter(operator_mfa_challenges::expires_at.lt(diesel::dsl::now)),
        )
        .execute(conn)
        .await?;
        let challenge = tokens::random_token(32);
        diesel::insert_into(operator_mfa_challenges::table)
            .values((
                operator_mfa_challenges::id_hash.eq(tokens::digest(&challenge)),
                operator_mfa_challenges::operator_id.eq(operator),
                operator_mfa_challenges::client.eq(if browser { "browser" } else { "api" }),
                operator_mfa_challenges::expires_at.eq(Utc::now() + chrono::Duration::seconds(CHALLENGE_TTL_SECS)),
            ))
            .execute(conn)
            .await?;
        Ok(Some(MfaChallenge { mfa_required: true, challenge, expires_in: CHALLENGE_TTL_SECS }))
    }

    /// Checks and consumes a second factor of the operator's active authenticator.
    async fn consume_operator_proof(
        &self,
        conn: &mut AsyncPgConnection,
        operator: uuid::Uuid,
        proof: &Proof,
    ) -> Result<bool, IdentityError> {
        match proof {
            Proof::Code(code) => {
                let row: Option<(Vec<u8>, Option<i64>)> = operator_mfa_totp::table
                    .filter(operator_mfa_totp::operator_id.eq(operator))
                    .filter(operator_mfa_totp::activated_at.is_not_null())
                    .select((operator_mfa_totp::secret, operator_mfa_totp::last_step))
                    .for_update()
                    .first(conn)
                    .await
                    .optional()?;
                let Some((sealed, last_step)) = row else { return Ok(false) };
                let seed = self.open_operator_seed(operator, &sealed)?;
                let Some(step) = matching_step(&seed, code, now_step(), last_step) else { return Ok(false) };
                diesel::update(operator_mfa_totp::table.find(operator))
                    .set(operator_mfa_totp::last_step.eq(step))
                    .execute(conn)
                    .await?;
                Ok(true)
            }
            Proof::Recovery(raw) => {
                let used = diesel::update(
                    operator_mfa_recovery_codes::table
                        .filter(operator_mfa_recovery_codes::operator_id.eq(operator))
                        .filter(operator_mfa_recovery_codes::code_hash.eq(recovery_digest(raw)))
                        .filter(operator_mfa_recovery_codes::used_at.is_null()),
                )
                .set(operator_mfa_recovery_codes::used_at.eq(diesel::dsl::now))
                .execute(conn)
                .await?;
                Ok(used == 1)
            }
        }
    }

    /// The second login step: a live challenge and a code (or recovery code) grant what the
    /// password step asked for. Wrong codes count against the operator's MFA throttle.
    pub(crate) async fn complete_operator_mfa_login(
        &self,
        request: MfaLogin,
        origin: &RequestOrigin,
    ) -> Result<OperatorGrant, IdentityError> {
        let proof = proof(request.code, request.recovery_code)?;
        let digest = tokens::digest(&request.challenge);
        let (this, ip) = (self.clone(), origin.ip.clone());
        enum Outcome {
            Granted(Box<OperatorGrant>),
            Throttled(u64),
            Rejected,
        }
        let outcome = self
            .db()
            .control_tx(async move |conn| {
                let row: Option<(uuid::Uuid, String)> = operator_mfa_challenges::table
                    .filter(operator_mfa_challenges::id_hash.eq(&digest))
                    .filter(operator_mfa_challenges::used_at.is_null())
                    .filter(operator_mfa_challenges::expires_at.gt(diesel::dsl::now))
                    .select((operator_mfa_challenges::operator_id, operator_mfa_challenges::client))
                    .for_update()
                    .first(conn)
                    .await
                    .optional()?;
                let Some((operator, client)) = row else { return Ok::<_, IdentityError>(Outcome::Rejected) };
                if let Some(wait) =
                    store::throttle_check(conn, THROTTLE_TABLE, &this.operator_throttle(operator)).await?
                {
                    return Ok(Outcome::Throttled(wait));
                }
                if !this.consume_operator_proof(conn, operator, &proof).await? {
                    store::throttle_fail(conn, THROTTLE_TABLE, &[throttle_key(operator)]).await?;
                    return Ok(Outcome::Rejected);
                }
                diesel::update(operator_mfa_challenges::table.filter(operator_mfa_challenges::id_hash.eq(&digest)))
                    .set(operator_mfa_challenges::used_at.eq(diesel::dsl::now))
                    .execute(conn)
                    .await?;
                store::throttle_clear(conn, THROTTLE_TABLE, &throttle_key(operator)).await?;
                match this.grant_operator(conn, operator, client == "browser", ip.as_deref()).await? {
                    Some(grant) => Ok(Outcome::Granted(Box::new(grant))),
                    None => Ok(Outcome::Rejected),
                }
            })
            .await?;
        match outcome {
            Outcome::Granted(grant) => Ok(*grant),
            Outcome::Throttled(retry_after_secs) => Err(IdentityError::Throttled { retry_after_secs }),
            Outcome::Rejected => Err(IdentityError::MfaFailed),
        }
    }

    /// Starts (or restarts) the operator's enrolment; MFA is off until a code confirms it.
    pub(crate) async fn start_operator_mfa(&self, operator: uuid::Uuid) -> Result<MfaEnrolment, IdentityError> {
        let mut seed = vec![0u8; SECRET_BYTES];
        rand::thread_rng().fill_bytes(&mut seed);
        let sealed = self
            .inner
            .sealer
            .seal(SEED_PURPOSE, operator.as_bytes(), &seed)
            .map_err(|e| IdentityError::Hashing(e.to_string()))?;
        self.db()
            .control_tx(async move |conn| {
                if active(conn, operator).await? {
                    return Err(IdentityError::MfaAlreadyEnabled);
                }
                let email: String = operators::table
                    .find(operator)
                    .select(operators::email)
                    .first(conn)
                    .await
                    .optional()?
                    .ok_or(IdentityError::Unauthenticated)?;
                diesel::insert_into(operator_mfa_totp::table)
                    .values((operator_mfa_totp::operator_id.eq(operator), operator_mfa_totp::secret.eq(&sealed)))
                    .on_conflict(operator_mfa_totp::operator_id)
                    .do_update()
                    .set((operator_mfa_totp::secret.eq(&sealed), operator_mfa_totp::last_step.eq(None::<i64>)))
                    .execute(conn)
                    .await?;
                let encoded = base32(&seed);
                let otpauth_uri = format!(
                    "otpauth://totp/Agora%20Platform:{}?secret={encoded}&issuer=Agora%20Platform&algorithm=SHA1&digits=6&period=30",
                    percent_encode(&email),
                );
                Ok(MfaEnrolment { secret: encoded, otpauth_uri })
            })
            .await
    }

    /// Switches the operator's MFA on with a first code and hands out the recovery codes.
    pub(crate) async fn activate_operator_mfa(
        &self,
        operator: uuid::Uuid,
        code: &str,
    ) -> Result<RecoveryCodes, IdentityError> {
        let code = parse_code("code", code)?;
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let this = self.clone();
        enum Outcome {
            Activated(RecoveryCodes),
            Throttled(u64),
            WrongCode,
        }
        let outcome = self
            .db()
            .control_tx(async move |conn| {
                let pending: Option<Vec<u8>> = operator_mfa_totp::table
                    .filter(operator_mfa_totp::operator_id.eq(operator))
                    .filter(operator_mfa_totp::activated_at.is_null())
                    .select(operator_mfa_totp::secret)
                    .for_update()
                    .first(conn)
                    .await
                    .optional()?;
                let Some(sealed) = pending else {
                    return Err(if active(conn, operator).await? {
                        IdentityError::MfaAlreadyEnabled
                    } else {
                        IdentityError::MfaNotEnrolling
                    });
                };
                if let Some(wait) =
                    store::throttle_check(conn, THROTTLE_TABLE, &this.operator_throttle(operator)).await?
                {
                    return Ok(Outcome::Throttled(wait));
                }
                let seed = this.open_operator_seed(operator, &sealed)?;
                let Some(step) = matching_step(&seed, &code, now_step(), None) else {
                    store::throttle_fail(conn, THROTTLE_TABLE, &[throttle_key(operator)]).await?;
                    return Ok(Outcome::WrongCode);
                };
                diesel::update(operator_mfa_totp::table.find(operator))
                    .set((operator_mfa_totp::activated_at.eq(diesel::dsl::now), operator_mfa_totp::last_step.eq(step)))
                    .execute(conn)
                    .await?;
                diesel::delete(
                    operator_mfa_recovery_codes::table.filter(operator_mfa_recovery_codes::operator_id.eq(operator)),
                )
                .execute(conn)
                .await?;
                let rows: Vec<_> = codes
                    .iter()
                    .map(|c| {
                        (
                            operator_mfa_recovery_codes::operator_id.eq(operator),
                            operator_mfa_recovery_codes::code_hash.eq(recovery_digest(c)),
                        )
                    })
                    .collect();
                diesel::insert_into(operator_mfa_recovery_codes::table).values(rows).execute(conn).await?;
                Ok(Outcome::Activated(RecoveryCodes { recovery_codes: codes }))
            })
            .await?;
        match outcome {
            Outcome::Activated(codes) => Ok(codes),
            Outcome::Throttled(retry_after_secs) => Err(IdentityError::Throttled { retry_after_secs }),
            Outcome::WrongCode => Err(IdentityError::field("code", "does not match the authenticator app")),
        }
    }

    /// Switches the operator's MFA off: the password and a second factor prove it is them.
    pub(crate) async fn disable_operator_mfa(
        &self,
        operator: uuid::Uuid,
        request: MfaDisable,
    ) -> Result<(), IdentityError> {
        let proof = proof(request.code, request.recovery_code)?;
        let field = if matches!(proof, Proof::Code(_)) { "code" } else { "recovery_code" };
        let stored: Option<String> = self
            .db()
            .control_tx(async move |conn| {
                Ok::<_, IdentityError>(
                    operators::table.find(operator).select(operators::password_hash).first(conn).await.optional()?,
                )
            })
            .await?;
        if !password::verify(SecretString::from(request.password), stored).await {
            return Err(IdentityError::field("password", "is not your current password"));
        }
        let this = self.clone();
        enum Outcome {
            Disabled,
            Throttled(u64),
            WrongProof,
        }
        // A wrong proof is answered after the commit, so its throttle count stays.
        let outcome = self
            .db()
            .control_tx(async move |conn| {
                if !active(conn, operator).await? {
                    return Err(IdentityError::MfaNotEnabled);
                }
                if let Some(wait) =
                    store::throttle_check(conn, THROTTLE_TABLE, &this.operator_throttle(operator)).await?
                {
                    return Ok(Outcome::Throttled(wait));
                }
                if !this.consume_operator_proof(conn, operator, &proof).await? {
                    store::throttle_fail(conn, THROTTLE_TABLE, &[throttle_key(operator)]).await?;
                    return Ok(Outcome::WrongProof);
                }
                diesel::delete(
                    operator_mfa_challenges::table.filter(operator_mfa_challenges::operator_id.eq(operator)),
                )
                .execute(conn)
                .await?;
                diesel::delete(
                    operator_mfa_recovery_codes::table.filter(operator_mfa_recovery_codes::operator_id.eq(operator)),
                )
                .execute(conn)
                .await?;
                diesel::delete(operator_mfa_totp::table.find(operator)).execute(conn).await?;
                Ok(Outcome::Disabled)
            })
            .await?;
        match outcome {
            Outcome::Disabled => Ok(()),
            Outcome::Throttled(retry_after_secs) => Err(IdentityError::Throttled { retry_after_secs }),
            Outcome::WrongProof => Err(IdentityError::field(field, "wrong, used or expired")),
        }
    }

    /// Seals every operator's authenticator seed under the current key (after a key rotation);
    /// how many it rewrote.
    pub async fn reseal_operator_secrets(&self) -> Result<usize, IdentityError> {
        let this = self.clone();
        self.db()
            .control_tx(async move |conn| {
                let rows: Vec<(uuid::Uuid, Vec<u8>)> = operator_mfa_totp::table
                    .select((operator_mfa_totp::operator_id, operator_mfa_totp::secret))
                    .for_update()
                    .load(conn)
                    .await?;
                let mut rewritten = 0;
                for (operator, sealed) in rows {
                    let opened = this.inner.sealer.open(SEED_PURPOSE, operator.as_bytes(), &sealed).map_err(|e| {
                        IdentityError::Hashing(format!("the authenticator secret of operator {operator}: {e}"))
                    })?;
                    if opened.stale {
                        let resealed = this
                            .inner
                            .sealer
                            .seal(SEED_PURPOSE, operator.as_bytes(), &opened.plain)
                            .map_err(|e| IdentityError::Hashing(e.to_string()))?;
                        diesel::update(operator_mfa_totp::table.find(operator))
                            .set(operator_mfa_totp::secret.eq(resealed))
                            .execute(conn)
                            .await?;
                        rewritten += 1;
                    }
                }
                Ok(rewritten)
            })
            .await
    }
}
