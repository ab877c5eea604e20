//! A second factor for platform operators: the same TOTP apps, recovery codes and flows as shop
//! accounts (`mfa`, over the control schema's tables, see `mfa_store`). An operator with an
//! authenticator logs in in two steps: the password answers a challenge, `…/auth/login/mfa`
//! exchanges it with a code.

use crate::login::mfa::{
    activation_answer, parse_code, proof, proof_field, removal_answer, MfaChallenge, MfaDisable, MfaEnrolment,
    MfaLogin, RecoveryCodes, SecondStep,
};
use crate::login::mfa_store::{ChallengeRealm, Holder};
use crate::operators::OperatorGrant;
use crate::schema::{operator_mfa_totp, operators};
use crate::sessions::Client;
use crate::{IdentityError, IdentityModule, RequestOrigin};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use secrecy::SecretString;

impl IdentityModule {
    /// Inside the password step's transaction: a challenge when the operator has MFA on.
    pub(crate) async fn operator_mfa_challenge(
        &self,
        conn: &mut AsyncPgConnection,
        operator: uuid::Uuid,
        browser: bool,
    ) -> QueryResult<Option<MfaChallenge>> {
        let client = if browser { Client::Browser } else { Client::Api };
        self.challenge_if_enrolled(conn, Holder::Operator(operator), client).await
    }

    /// The second login step: a live challenge and a code (or recovery code) grant what the
    /// password step asked for. Wrong codes count against the operator's MFA throttle.
    pub(crate) async fn complete_operator_mfa_login(
        &self,
        request: MfaLogin,
        origin: &RequestOrigin,
    ) -> Result<OperatorGrant, IdentityError> {
        let proof = proof(request.code, request.recovery_code)?;
        let (this, device) = (self.clone(), origin.device());
        enum Outcome {
            Granted(Box<OperatorGrant>),
            Throttled(u64),
            Rejected,
        }
        let outcome = self
            .db()
            .control_tx(async move |conn| {
                let (operator, client) =
                    match this.second_step(conn, ChallengeRealm::Platform, &request.challenge, &proof).await? {
                        SecondStep::Passed { holder: Holder::Operator(id), client, .. } => (id, client),
                        SecondStep::Throttled(wait) => return Ok::<_, IdentityError>(Outcome::Throttled(wait)),
                        SecondStep::Passed { .. } | SecondStep::Rejected(_) => return Ok(Outcome::Rejected),
                    };
                Ok(match this.grant_operator(conn, operator, client == Client::Browser, &device).await? {
                    Some(grant) => Outcome::Granted(Box::new(grant)),
                    None => Outcome::Rejected,
                })
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
        let this = self.clone();
        self.db()
            .control_tx(async move |conn| {
                let email: String = operators::table
                    .find(operator)
                    .select(operators::email)
                    .first(conn)
                    .await
                    .optional()?
                    .ok_or(IdentityError::Unauthenticated)?;
                let names = ("Agora Platform", email.as_str(), "Agora Platform");
                this.enrol_authenticator(conn, Holder::Operator(operator), names).await
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
        let this = self.clone();
        let activation = self
            .db()
            .control_tx(async move |conn| this.activate_authenticator(conn, Holder::Operator(operator), &code).await)
            .await?;
        activation_answer(activation)
    }

    /// Switches the operator's MFA off: the password and a second factor prove it is them.
    pub(crate) async fn disable_operator_mfa(
        &self,
        operator: uuid::Uuid,
        request: MfaDisable,
    ) -> Result<(), IdentityError> {
        let proof = proof(request.code, request.recovery_code)?;
        let stored: Option<String> = self
            .db()
            .control_tx(async move |conn| {
                Ok::<_, IdentityError>(
                    operators::table.find(operator).select(operators::password_hash).first(conn).await.optional()?,
                )
            })
            .await?;
        if !self.passwords().verify(SecretString::from(request.password), stored).await? {
            return Err(IdentityError::field("password", "is not your current password"));
        }
        let (this, field) = (self.clone(), proof_field(&proof));
        let removal = self
            .db()
            .control_tx(async move |conn| this.remove_authenticator(conn, Holder::Operator(operator), &proof).await)
            .await?;
        removal_answer(removal, field)
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
                    if this.seed_resealed(conn, Holder::Operator(operator), &sealed).await?.1 {
                        rewritten += 1;
                    }
                }
                Ok(rewritten)
            })
            .await
    }
}
