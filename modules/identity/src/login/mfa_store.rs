//! Where second factors live: a shop account's in the shop's schema (`mfa_*`), a platform
//! operator's in the control schema (`agora.operator_mfa_*`). The flows in `mfa` and
//! `operator_mfa` are the same for both; this is the one place that knows the two table sets,
//! and how a holder's authenticator seed is sealed.

use crate::login::totp::{BASE32, SECRET_BYTES};
use crate::schema::{
    mfa_challenges, mfa_recovery_codes, mfa_totp, operator_mfa_challenges, operator_mfa_recovery_codes,
    operator_mfa_totp,
};
use crate::sessions::Client;
use crate::{tokens, IdentityError};
use agora_kernel::sealing::Sealer;
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rand::RngCore;

/// Whose second factor.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Holder {
    /// A customer or staff member of the shop `tenant`.
    Account {
        tenant: uuid::Uuid,
        user: uuid::Uuid,
    },
    Operator(uuid::Uuid),
}

/// An authenticator as stored: its sealed seed and the last time step accepted.
pub(crate) struct Authenticator {
    pub sealed: Vec<u8>,
    pub last_step: Option<i64>,
}

impl Holder {
    fn id(self) -> uuid::Uuid {
        match self {
            Holder::Account { user, .. } => user,
            Holder::Operator(id) => id,
        }
    }

    /// Seeds are sealed for their holder: one copied to another account or shop does not open.
    fn seed_purpose_and_place(self) -> (&'static str, Vec<u8>) {
        match self {
            Holder::Account { tenant, user } => {
                ("totp-secret", [tenant.as_bytes().as_slice(), user.as_bytes()].concat())
            }
            Holder::Operator(id) => ("operator-totp-secret", id.as_bytes().to_vec()),
        }
    }

    pub(crate) fn seal_seed(self, sealer: &Sealer, seed: &[u8]) -> Result<Vec<u8>, IdentityError> {
        let (purpose, place) = self.seed_purpose_and_place();
        sealer.seal(purpose, &place, seed).map_err(|e| IdentityError::Sealing(e.to_string()))
    }

    /// The seed, and whether it should be sealed again: sealed under the previous master key, or
    /// (shop accounts enrolled before sealing began) stored in the clear.
    pub(crate) fn open_seed(self, sealer: &Sealer, stored: &[u8]) -> Result<(Vec<u8>, bool), IdentityError> {
        if stored.len() == SECRET_BYTES {
            return Ok((stored.to_vec(), true));
        }
        let (purpose, place) = self.seed_purpose_and_place();
        let opened = sealer
            .open(purpose, &place, stored)
            .map_err(|e| IdentityError::Sealing(format!("the authenticator secret of {}: {e}", self.id())))?;
        Ok((opened.plain, opened.stale))
    }

    /// The holder's authenticator, locked; only an activated one when `activated`, only one
    /// being enrolled otherwise.
    pub(crate) async fn authenticator(
        self,
        conn: &mut AsyncPgConnection,
        activated: bool,
    ) -> QueryResult<Option<Authenticator>> {
        let row: Option<(Vec<u8>, Option<i64>)> = match self {
            Holder::Account { user, .. } => mfa_totp::table
                .filter(mfa_totp::user_id.eq(user))
                .filter(mfa_totp::activated_at.is_not_null().eq(activated))
                .select((mfa_totp::secret, mfa_totp::last_step))
                .for_update()
                .first(conn)
                .await
                .optional()?,
            Holder::Operator(id) => operator_mfa_totp::table
                .filter(operator_mfa_totp::operator_id.eq(id))
                .filter(operator_mfa_totp::activated_at.is_not_null().eq(activated))
                .select((operator_mfa_totp::secret, operator_mfa_totp::last_step))
                .for_update()
                .first(conn)
                .await
                .optional()?,
        };
        Ok(row.map(|(sealed, last_step)| Authenticator { sealed, last_step }))
    }

    /// Whether the holder has an activated authenticator.
    pub(crate) async fn is_active(self, conn: &mut AsyncPgConnection) -> QueryResult<bool> {
        match self {
            Holder::Account { user, .. } => {
                diesel::select(diesel::dsl::exists(
                    mfa_totp::table.filter(mfa_totp::user_id.eq(user)).filter(mfa_totp::activated_at.is_not_null()),
                ))
                .get_result(conn)
                .await
            }
            Holder::Operator(id) => {
                diesel::select(diesel::dsl::exists(
                    operator_mfa_totp::table
                        .filter(operator_mfa_totp::operator_id.eq(id))
                        .filter(operator_mfa_totp::activated_at.is_not_null()),
                ))
                .get_result(conn)
                .await
            }
        }
    }

    /// Stores a new (not yet activated) authenticator, replacing an unfinished enrolment.
    pub(crate) async fn enrol(self, conn: &mut AsyncPgConnection, sealed: &[u8]) -> QueryResult<()> {
        match self {
            Holder::Account { user, .. } => {
                diesel::insert_into(mfa_totp::table)
                    .values((mfa_totp::user_id.eq(user), mfa_totp::secret.eq(sealed)))
                    .on_conflict(mfa_totp::user_id)
                    .do_update()
                    .set((mfa_totp::secret.eq(sealed), mfa_totp::last_step.eq(None::<i64>)))
                    .execute(conn)
                    .await?;
            }
            Holder::Operator(id) => {
                diesel::insert_into(operator_mfa_totp::table)
                    .values((operator_mfa_totp::operator_id.eq(id), operator_mfa_totp::secret.eq(sealed)))
                    .on_conflict(operator_mfa_totp::operator_id)
                    .do_update()
                    .set((operator_mfa_totp::secret.eq(sealed), operator_mfa_totp::last_step.eq(None::<i64>)))
                    .execute(conn)
                    .await?;
            }
        }
        Ok(())
    }

    /// Replaces the stored seed (sealed again under the current key).
    pub(crate) async fn store_seed(self, conn: &mut AsyncPgConnection, sealed: &[u8]) -> QueryResult<()> {
        match self {
            Holder::Account { user, .. } => {
                diesel::update(mfa_totp::table.filter(mfa_totp::user_id.eq(user)))
                    .set(mfa_totp::secret.eq(sealed))
                    .execute(conn)
                    .await?;
            }
            Holder::Operator(id) => {
                diesel::update(operator_mfa_totp::table.find(id))
                    .set(operator_mfa_totp::secret.eq(sealed))
                    .execute(conn)
                    .await?;
            }
        }
        Ok(())
    }

    /// Remembers the time step of an accepted code: it is not accepted again.
    pub(crate) async fn record_step(self, conn: &mut AsyncPgConnection, step: i64) -> QueryResult<()> {
        match self {
            Holder::Account { user, .. } => {
                diesel::update(mfa_totp::table.filter(mfa_totp::user_id.eq(user)))
                    .set(mfa_totp::last_step.eq(step))
                    .execute(conn)
                    .await?;
            }
            Holder::Operator(id) => {
                diesel::update(operator_mfa_totp::table.find(id))
                    .set(operator_mfa_totp::last_step.eq(step))
                    .execute(conn)
                    .await?;
            }
        }
        Ok(())
    }

    /// Switches the enrolled authenticator on (its first code at `step`) with a fresh set of
    /// recovery codes, which are returned, once.
    pub(crate) async fn activate(self, conn: &mut AsyncPgConnection, step: i64) -> QueryResult<Vec<String>> {
        let (codes, digests) = new_recovery_code_digests();
        match self {
            Holder::Account { user, .. } => {
                diesel::update(mfa_totp::table.filter(mfa_totp::user_id.eq(user)))
                    .set((mfa_totp::activated_at.eq(diesel::dsl::now), mfa_totp::last_step.eq(step)))
                    .execute(conn)
                    .await?;
                diesel::delete(mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(user)))
                    .execute(conn)
                    .await?;
                let rows: Vec<_> = digests
                    .into_iter()
                    .map(|d| (mfa_recovery_codes::user_id.eq(user), mfa_recovery_codes::code_hash.eq(d)))
                    .collect();
                diesel::insert_into(mfa_recovery_codes::table).values(rows).execute(conn).await?;
            }
            Holder::Operator(id) => {
                diesel::update(operator_mfa_totp::table.find(id))
                    .set((operator_mfa_totp::activated_at.eq(diesel::dsl::now), operator_mfa_totp::last_step.eq(step)))
                    .execute(conn)
                    .await?;
                diesel::delete(
                    operator_mfa_recovery_codes::table.filter(operator_mfa_recovery_codes::operator_id.eq(id)),
                )
                .execute(conn)
                .await?;
                let rows: Vec<_> = digests
                    .into_iter()
                    .map(|d| {
                        (operator_mfa_recovery_codes::operator_id.eq(id), operator_mfa_recovery_codes::code_hash.eq(d))
                    })
                    .collect();
                diesel::insert_into(operator_mfa_recovery_codes::table).values(rows).execute(conn).await?;
            }
        }
        Ok(codes)
    }

    /// Uses up the unused recovery code with this digest; false when there is none.
    pub(crate) async fn use_recovery_code(self, conn: &mut AsyncPgConnection, digest: &[u8]) -> QueryResult<bool> {
        let used = match self {
            Holder::Account { user, .. } => {
                diesel::update(
                    mfa_recovery_codes::table
                        .filter(mfa_recovery_codes::user_id.eq(user))
                        .filter(mfa_recovery_codes::code_hash.eq(digest))
                        .filter(mfa_recovery_codes::used_at.is_null()),
                )
                .set(mfa_recovery_codes::used_at.eq(diesel::dsl::now))
                .execute(conn)
                .await?
            }
            Holder::Operator(id) => {
                diesel::update(
                    operator_mfa_recovery_codes::table
                        .filter(operator_mfa_recovery_codes::operator_id.eq(id))
                        .filter(operator_mfa_recovery_codes::code_hash.eq(digest))
                        .filter(operator_mfa_recovery_codes::used_at.is_null()),
                )
                .set(operator_mfa_recovery_codes::used_at.eq(diesel::dsl::now))
                .execute(conn)
                .await?
            }
        };
        Ok(used == 1)
    }

    /// A fresh login challenge for `client` (`browser` or `api`), after tidying the holder's
    /// stale ones; returns the challenge to hand out (only its digest is stored).
    pub(crate) async fn open_challenge(self, conn: &mut AsyncPgConnection, client: Client) -> QueryResult<String> {
        let challenge = tokens::random_token(32);
        let (digest, expires_at) =
            (tokens::digest(&challenge), Utc::now() + chrono::Duration::seconds(CHALLENGE_TTL_SECS));
        match self {
            Holder::Account { user, .. } => {
                diesel::delete(
                    mfa_challenges::table
                        .filter(mfa_challenges::user_id.eq(user))
                        .filter(mfa_challenges::expires_at.lt(diesel::dsl::now)),
                )
                .execute(conn)
                .await?;
                diesel::insert_into(mfa_challenges::table)
                    .values((
                        mfa_challenges::id_hash.eq(digest),
                        mfa_challenges::user_id.eq(user),
                        mfa_challenges::client.eq(client),
                        mfa_challenges::expires_at.eq(expires_at),
                    ))
                    .execute(conn)
                    .await?;
            }
            Holder::Operator(id) => {
                diesel::delete(
                    operator_mfa_challenges::table
                        .filter(operator_mfa_challenges::operator_id.eq(id))
                        .filter(operator_mfa_challenges::expires_at.lt(diesel::dsl::now)),
                )
                .execute(conn)
                .await?;
                diesel::insert_into(operator_mfa_challenges::table)
                    .values((
                        operator_mfa_challenges::id_hash.eq(digest),
                        operator_mfa_challenges::operator_id.eq(id),
                        operator_mfa_challenges::client.eq(client),
                        operator_mfa_challenges::expires_at.eq(expires_at),
                    ))
                    .execute(conn)
                    .await?;
            }
        }
        Ok(challenge)
    }

    /// Removes the holder's authenticator, recovery codes and pending challenges.
    pub(crate) async fn remove(self, conn: &mut AsyncPgConnection) -> QueryResult<()> {
        match self {
            Holder::Account { user, .. } => {
                diesel::delete(mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(user)))
                    .execute(conn)
                    .await?;
                diesel::delete(mfa_challenges::table.filter(mfa_challenges::user_id.eq(user))).execute(conn).await?;
                diesel::delete(mfa_totp::table.filter(mfa_totp::user_id.eq(user))).execute(conn).await?;
            }
            Holder::Operator(id) => {
                diesel::delete(
                    operator_mfa_recovery_codes::table.filter(operator_mfa_recovery_codes::operator_id.eq(id)),
                )
                .execute(conn)
                .await?;
                diesel::delete(operator_mfa_challenges::table.filter(operator_mfa_challenges::operator_id.eq(id)))
                    .execute(conn)
                    .await?;
                diesel::delete(operator_mfa_totp::table.find(id)).execute(conn).await?;
            }
        }
        Ok(())
    }
}

/// Whose challenges to look in: a shop's accounts or the platform's operators.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ChallengeRealm {
    Shop(uuid::Uuid),
    Platform,
}

/// The live (unused, unexpired) challenge with this digest, locked: its holder and client.
pub(crate) async fn live_challenge(
    conn: &mut AsyncPgConnection,
    realm: ChallengeRealm,
    digest: &[u8],
) -> QueryResult<Option<(Holder, Client)>> {
    Ok(match realm {
        ChallengeRealm::Shop(tenant) => mfa_challenges::table
            .filter(mfa_challenges::id_hash.eq(digest))
            .filter(mfa_challenges::used_at.is_null())
            .filter(mfa_challenges::expires_at.gt(diesel::dsl::now))
            .select((mfa_challenges::user_id, mfa_challenges::client))
            .for_update()
            .first::<(uuid::Uuid, Client)>(conn)
            .await
            .optional()?
            .map(|(user, client)| (Holder::Account { tenant, user }, client)),
        ChallengeRealm::Platform => operator_mfa_challenges::table
            .filter(operator_mfa_challenges::id_hash.eq(digest))
            .filter(operator_mfa_challenges::used_at.is_null())
            .filter(operator_mfa_challenges::expires_at.gt(diesel::dsl::now))
            .select((operator_mfa_challenges::operator_id, operator_mfa_challenges::client))
            .for_update()
            .first::<(uuid::Uuid, Client)>(conn)
            .await
            .optional()?
            .map(|(id, client)| (Holder::Operator(id), client)),
    })
}

/// Marks the challenge used: it cannot be exchanged again.
pub(crate) async fn close_challenge(
    conn: &mut AsyncPgConnection,
    realm: ChallengeRealm,
    digest: &[u8],
) -> QueryResult<()> {
    match realm {
        ChallengeRealm::Shop(_) => {
            diesel::update(mfa_challenges::table.filter(mfa_challenges::id_hash.eq(digest)))
                .set(mfa_challenges::used_at.eq(diesel::dsl::now))
                .execute(conn)
                .await?;
        }
        ChallengeRealm::Platform => {
            diesel::update(operator_mfa_challenges::table.filter(operator_mfa_challenges::id_hash.eq(digest)))
                .set(operator_mfa_challenges::used_at.eq(diesel::dsl::now))
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// Recovery codes given when an authenticator is switched on.
pub(crate) const RECOVERY_CODES: usize = 10;
/// Long enough to open an authenticator app, short enough that a stolen challenge is stale.
pub(crate) const CHALLENGE_TTL_SECS: i64 = 300;

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

/// Ten fresh recovery codes and their stored digests.
pub(crate) fn new_recovery_code_digests() -> (Vec<String>, Vec<Vec<u8>>) {
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let digests = codes.iter().map(|c| recovery_digest(c)).collect();
    (codes, digests)
}
