//! Sessions in the database: shop sessions in the shop's schema, operator sessions in the
//! control schema; written in the caller's transaction.

use super::store::{Lifetimes, NewSession, Realm, Row, SessionBackend, Stored};
use crate::schema::{operator_sessions, sessions};
use crate::IdentityError;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Clone, Copy, Default)]
pub(crate) struct DatabaseSessions;

impl SessionBackend for DatabaseSessions {
    async fn insert(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        session: NewSession<'_>,
        lifetimes: Lifetimes,
    ) -> Result<(), IdentityError> {
        let NewSession { hash, holder, csrf_token, generation, device, now, expires_at } = session;
        // Sessions nobody presents again would pile up; each login clears its holder's dead ones.
        let idle_since = now - lifetimes.idle;
        match realm {
            Realm::Shop(_) => {
                diesel::delete(
                    sessions::table
                        .filter(sessions::user_id.eq(holder))
                        .filter(sessions::expires_at.le(now).or(sessions::last_seen_at.le(idle_since))),
                )
                .execute(conn)
                .await?;
                diesel::insert_into(sessions::table)
                    .values((
                        sessions::id_hash.eq(hash),
                        sessions::user_id.eq(holder),
                        sessions::csrf_token.eq(csrf_token),
                        sessions::credentials_generation.eq(generation),
                        sessions::last_seen_at.eq(now),
                        sessions::expires_at.eq(expires_at),
                        sessions::ip.eq(&device.ip),
                        sessions::user_agent.eq(&device.user_agent),
                    ))
                    .execute(conn)
                    .await?;
            }
            Realm::Platform => {
                diesel::delete(
                    operator_sessions::table.filter(operator_sessions::operator_id.eq(holder)).filter(
                        operator_sessions::expires_at.le(now).or(operator_sessions::last_seen_at.le(idle_since)),
                    ),
                )
                .execute(conn)
                .await?;
                diesel::insert_into(operator_sessions::table)
                    .values((
                        operator_sessions::id_hash.eq(hash),
                        operator_sessions::operator_id.eq(holder),
                        operator_sessions::csrf_token.eq(csrf_token),
                        operator_sessions::credentials_generation.eq(generation),
                        operator_sessions::last_seen_at.eq(now),
                        operator_sessions::expires_at.eq(expires_at),
                        operator_sessions::ip.eq(&device.ip),
                        operator_sessions::user_agent.eq(&device.user_agent),
                    ))
                    .execute(conn)
                    .await?;
            }
        }
        Ok(())
    }

    async fn load(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        hash: &[u8],
    ) -> Result<Option<Stored>, IdentityError> {
        type StoredRow = (uuid::Uuid, String, i64, DateTime<Utc>, DateTime<Utc>);
        let row: Option<StoredRow> = match realm {
            Realm::Shop(_) => sessions::table
                .filter(sessions::id_hash.eq(hash))
                .select((
                    sessions::user_id,
                    sessions::csrf_token,
                    sessions::credentials_generation,
                    sessions::last_seen_at,
                    sessions::expires_at,
                ))
                .first(conn)
                .await
                .optional()?,
            Realm::Platform => operator_sessions::table
                .filter(operator_sessions::id_hash.eq(hash))
                .select((
                    operator_sessions::operator_id,
                    operator_sessions::csrf_token,
                    operator_sessions::credentials_generation,
                    operator_sessions::last_seen_at,
                    operator_sessions::expires_at,
                ))
                .first(conn)
                .await
                .optional()?,
        };
        Ok(row.map(|(holder, csrf_token, generation, last_seen_at, expires_at)| Stored {
            holder,
            csrf_token,
            generation,
            last_seen_at,
            expires_at,
        }))
    }

    async fn touch(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        hash: &[u8],
        _session: &Stored,
        now: DateTime<Utc>,
        _lifetimes: Lifetimes,
    ) -> Result<(), IdentityError> {
        match realm {
            Realm::Shop(_) => {
                diesel::update(sessions::table.filter(sessions::id_hash.eq(hash)))
                    .set(sessions::last_seen_at.eq(now))
                    .execute(conn)
                    .await?;
            }
            Realm::Platform => {
                diesel::update(operator_sessions::table.filter(operator_sessions::id_hash.eq(hash)))
                    .set(operator_sessions::last_seen_at.eq(now))
                    .execute(conn)
                    .await?;
            }
        }
        Ok(())
    }

    async fn remove(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        hash: &[u8],
        _holder: uuid::Uuid,
    ) -> Result<(), IdentityError> {
        match realm {
            Realm::Shop(_) => {
                diesel::delete(sessions::table.filter(sessions::id_hash.eq(hash))).execute(conn).await?;
            }
            Realm::Platform => {
                diesel::delete(operator_sessions::table.filter(operator_sessions::id_hash.eq(hash)))
                    .execute(conn)
                    .await?;
            }
        }
        Ok(())
    }

    async fn end_all(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        holder: uuid::Uuid,
    ) -> Result<(), IdentityError> {
        match realm {
            Realm::Shop(_) => {
                diesel::delete(sessions::table.filter(sessions::user_id.eq(holder))).execute(conn).await?;
            }
            Realm::Platform => {
                diesel::delete(operator_sessions::table.filter(operator_sessions::operator_id.eq(holder)))
                    .execute(conn)
                    .await?;
            }
        }
        Ok(())
    }

    async fn rows(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        holder: uuid::Uuid,
    ) -> Result<Vec<Row>, IdentityError> {
        type Listed = (Vec<u8>, DateTime<Utc>, DateTime<Utc>, DateTime<Utc>, Option<String>, Option<String>, i64);
        let rows: Vec<Listed> = match realm {
            Realm::Shop(_) => {
                sessions::table
                    .filter(sessions::user_id.eq(holder))
                    .select((
                        sessions::id_hash,
                        sessions::created_at,
                        sessions::last_seen_at,
                        sessions::expires_at,
                        sessions::ip,
                        sessions::user_agent,
                        sessions::credentials_generation,
                    ))
                    .load(conn)
                    .await?
            }
            Realm::Platform => {
                operator_sessions::table
                    .filter(operator_sessions::operator_id.eq(holder))
                    .select((
                        operator_sessions::id_hash,
                        operator_sessions::created_at,
                        operator_sessions::last_seen_at,
                        operator_sessions::expires_at,
                        operator_sessions::ip,
                        operator_sessions::user_agent,
                        operator_sessions::credentials_generation,
                    ))
                    .load(conn)
                    .await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|(hash, created_at, last_seen_at, expires_at, ip, user_agent, generation)| Row {
                hash,
                created_at,
                last_seen_at,
                expires_at,
                ip,
                user_agent,
                generation,
            })
            .collect())
    }
}
