//! A second factor for platform operators: the same TOTP apps, recovery codes and flows as shop
//! accounts (`mfa`, over the control schema's tables, see `mfa_store`). An operator with an
//! authenticator logs in in two steps: the password answers a challenge, `…/auth/login/mfa`
//! exchanges it with a code.

use crate::login::mfa::{
    enrol_authenticator, second_step, seed_resealed, MfaChallenge, MfaEnrolment, Proof, SecondStep,
};
use crate::login::mfa_store::{ChallengeRealm, Holder};
use crate::operators::{grant_operator, OperatorGrant};
use crate::schema::{operator_mfa_totp, operators};
use crate::sessions::store::Device;
use crate::sessions::Client;
use crate::{IdentityError, IdentityModule};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Inside the password step's transaction: a challenge when the operator has MFA on.
pub(crate) async fn challenge(
    conn: &mut AsyncPgConnection,
    operator: uuid::Uuid,
    browser: bool,
) -> QueryResult<Option<MfaChallenge>> {
    let client = if browser { Client::Browser } else { Client::Api };
    crate::login::mfa::challenge_if_enrolled(conn, Holder::Operator(operator), client).await
}

/// How an operator's second login step ended.
pub(crate) enum OperatorMfaOutcome {
    Granted(Box<OperatorGrant>),
    Throttled(u64),
    Rejected,
}

/// The second login step: a live challenge and a code (or recovery code) grant what the password
/// step asked for. Wrong codes count against the operator's MFA throttle (committed with the
/// answer `Rejected`).
pub(crate) async fn complete_login(
    m: &IdentityModule,
    conn: &mut AsyncPgConnection,
    challenge: &str,
    proof: &Proof,
    device: &Device,
) -> Result<OperatorMfaOutcome, IdentityError> {
    let (operator, client) = match second_step(m, conn, ChallengeRealm::Platform, challenge, proof).await? {
        SecondStep::Passed { holder: Holder::Operator(id), client, .. } => (id, client),
        SecondStep::Throttled(wait) => return Ok(OperatorMfaOutcome::Throttled(wait)),
        SecondStep::Passed { .. } | SecondStep::Rejected(_) => return Ok(OperatorMfaOutcome::Rejected),
    };
    Ok(match grant_operator(m, conn, operator, client == Client::Browser, device).await? {
        Some(grant) => OperatorMfaOutcome::Granted(Box::new(grant)),
        None => OperatorMfaOutcome::Rejected,
    })
}

/// Starts (or restarts) the operator's enrolment; MFA is off until a code confirms it.
pub(crate) async fn start_enrolment(
    m: &IdentityModule,
    conn: &mut AsyncPgConnection,
    operator: uuid::Uuid,
) -> Result<MfaEnrolment, IdentityError> {
    let email: String = operators::table
        .find(operator)
        .select(operators::email)
        .first(conn)
        .await
        .optional()?
        .ok_or(IdentityError::Unauthenticated)?;
    let names = ("Agora Platform", email.as_str(), "Agora Platform");
    enrol_authenticator(m, conn, Holder::Operator(operator), names).await
}

/// Seals every operator's authenticator seed under the current key (after a key rotation); how
/// many it rewrote.
pub(crate) async fn reseal_seeds(m: &IdentityModule, conn: &mut AsyncPgConnection) -> Result<usize, IdentityError> {
    let rows: Vec<(uuid::Uuid, Vec<u8>)> = operator_mfa_totp::table
        .select((operator_mfa_totp::operator_id, operator_mfa_totp::secret))
        .for_update()
        .load(conn)
        .await?;
    let mut rewritten = 0;
    for (operator, sealed) in rows {
        if seed_resealed(m, conn, Holder::Operator(operator), &sealed).await?.1 {
            rewritten += 1;
        }
    }
    Ok(rewritten)
}
