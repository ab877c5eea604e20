//! Where browser sessions live.
//!
//! A session is an opaque 256-bit id in a cookie. The server keeps only the id's SHA-256, with
//! the session's holder (a shop user or a platform operator), its CSRF token, the generation of
//! the holder's credentials it was opened under, when it was last used and when it ends for good.
//!
//! With Redis configured, sessions live there: every replica sees them, Redis expires idle ones
//! by itself, and checking a session writes nothing to the database. Otherwise they live in the
//! database (shop sessions in the shop's schema, operator sessions in the control schema). Both
//! are shipped modes and the session tests run against both.
//!
//! Database sessions change inside the caller's transaction; Redis stands outside it. So no rule
//! rests on a Redis write landing exactly with a commit: a session is honoured only while its
//! holder's credentials generation is still the one it was opened under (the caller checks, see
//! [`LiveSession::generation`]), and moving that generation (logout, password change, disable,
//! erasure) is part of the caller's transaction. Deleting the sessions is then tidying up — in the
//! database it also closes the race of a login committing just after a password change.

use crate::schema::{operator_sessions, sessions};
use crate::tokens;
use crate::IdentityError;
use agora_kernel::redis::Redis;
use chrono::{DateTime, Utc};
use deadpool_redis::redis;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::collections::HashMap;

/// A session's use is recorded at most this often: the idle timeout needs no finer clock, and
/// most requests then only read.
const TOUCH_EVERY_SECS: i64 = 60;

#[derive(Clone)]
pub(crate) enum SessionStore {
    Database,
    Redis(Redis),
}

/// Whose sessions: one shop's users, or the platform's operators.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Realm {
    Shop(uuid::Uuid),
    Platform,
}

impl Realm {
    fn redis_name(self) -> String {
        match self {
            Realm::Shop(tenant) => format!("shop:{tenant}"),
            Realm::Platform => "platform".into(),
        }
    }
}

/// Where a session is opened from, as its holder will recognise it in their list.
#[derive(Debug, Clone, Default)]
pub(crate) struct Device {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// How long sessions last: `idle` since their last use, `absolute` since they were opened.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lifetimes {
    pub idle: chrono::Duration,
    pub absolute: chrono::Duration,
}

/// A session just opened: the id for the cookie and the CSRF token for the client.
pub(crate) struct OpenedSession {
    pub id: String,
    pub csrf_token: String,
}

/// A session that is neither idle too long nor too old.
#[derive(Debug)]
pub(crate) struct LiveSession {
    pub holder: uuid::Uuid,
    pub csrf_token: String,
    /// The holder's credentials generation when the session was opened; the session counts only
    /// while it equals the current one.
    pub generation: i64,
}

/// A live session as its holder sees it in their list of signed-in browsers.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, paperclip::actix::Apiv2Schema)]
pub struct ActiveSession {
    /// Names the session (the first 8 bytes of its id's SHA-256, in hex; not the id itself).
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// When it ends however busy it is.
    pub expires_at: DateTime<Utc>,
    /// The address it was opened from.
    pub ip: Option<String>,
    /// The browser it was opened with (its `User-Agent`).
    pub user_agent: Option<String>,
    /// The session this request came with.
    pub current: bool,
}

/// The name a session goes by in lists: not the id, not enough of its hash to find it by.
pub(crate) fn handle(hash: &[u8]) -> String {
    hex::encode(hash.get(..8).unwrap_or(hash))
}

/// One listed session with its hash.
struct Listed {
    hash: Vec<u8>,
    session: ActiveSession,
}

/// One stored session, whichever the store.
#[derive(Debug)]
struct Stored {
    holder: uuid::Uuid,
    csrf_token: String,
    generation: i64,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl SessionStore {
    /// Opens a session for `holder`, whose credentials are at `generation`.
    pub(crate) async fn open(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        holder: uuid::Uuid,
        generation: i64,
        device: &Device,
        lifetimes: Lifetimes,
    ) -> Result<OpenedSession, IdentityError> {
        let opened = OpenedSession { id: tokens::random_token(32), csrf_token: tokens::random_token(32) };
        let hash = tokens::digest(&opened.id);
        let now = Utc::now();
        let expires_at = now + lifetimes.absolute;
        match self {
            SessionStore::Database => {
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
                                sessions::id_hash.eq(&hash),
                                sessions::user_id.eq(holder),
                                sessions::csrf_token.eq(&opened.csrf_token),
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
                                operator_sessions::expires_at
                                    .le(now)
                                    .or(operator_sessions::last_seen_at.le(idle_since)),
                            ),
                        )
                        .execute(conn)
                        .await?;
                        diesel::insert_into(operator_sessions::table)
                            .values((
                                operator_sessions::id_hash.eq(&hash),
                                operator_sessions::operator_id.eq(holder),
                                operator_sessions::csrf_token.eq(&opened.csrf_token),
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
            }
            SessionStore::Redis(redis) => {
                let key = session_key(redis, realm, &hash);
                let index = index_key(redis, realm, holder);
                let mut fields = vec![
                    ("holder", holder.to_string()),
                    ("csrf_token", opened.csrf_token.clone()),
                    ("generation", generation.to_string()),
                    ("created_at", now.timestamp_millis().to_string()),
                    ("last_seen_at", now.timestamp_millis().to_string()),
                    ("expires_at", expires_at.timestamp_millis().to_string()),
                ];
                if let Some(ip) = &device.ip {
                    fields.push(("ip", ip.clone()));
                }
                if let Some(user_agent) = &device.user_agent {
                    fields.push(("user_agent", user_agent.clone()));
                }
                let mut conn = redis_conn(redis).await?;
                redis::pipe()
                    .atomic()
                    .hset_multiple(&key, &fields)
                    .ignore()
                    .pexpire(&key, ttl_millis(now, expires_at, now, lifetimes))
                    .ignore()
                    .sadd(&index, hex::encode(&hash))
                    .ignore()
                    // No session in the index outlives the newest one's absolute limit.
                    .pexpire(&index, lifetimes.absolute.num_milliseconds().max(1))
                    .ignore()
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(redis_error)?;
            }
        }
        Ok(opened)
    }

    /// The session with cookie id `id`, if it is live; a dead one is removed on the way.
    pub(crate) async fn find(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        id: &str,
        lifetimes: Lifetimes,
    ) -> Result<Option<LiveSession>, IdentityError> {
        let hash = tokens::digest(id);
        let Some(session) = self.load(conn, realm, &hash).await? else { return Ok(None) };
        let now = Utc::now();
        if session.expires_at <= now || session.last_seen_at + lifetimes.idle <= now {
            self.remove(conn, realm, &hash, session.holder).await?;
            return Ok(None);
        }
        if now - session.last_seen_at > chrono::Duration::seconds(TOUCH_EVERY_SECS) {
            self.touch(conn, realm, &hash, &session, now, lifetimes).await?;
        }
        Ok(Some(LiveSession { holder: session.holder, csrf_token: session.csrf_token, generation: session.generation }))
    }

    /// Ends every session of `holder`.
    pub(crate) async fn end_all(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        holder: uuid::Uuid,
    ) -> Result<(), IdentityError> {
        match self {
            SessionStore::Database => match realm {
                Realm::Shop(_) => {
                    diesel::delete(sessions::table.filter(sessions::user_id.eq(holder))).execute(conn).await?;
                }
                Realm::Platform => {
                    diesel::delete(operator_sessions::table.filter(operator_sessions::operator_id.eq(holder)))
                        .execute(conn)
                        .await?;
                }
            },
            SessionStore::Redis(redis) => {
                // One script, so a session opened meanwhile is either in the index (and ended)
                // or opened after this (under the new generation).
                let mut conn = redis_conn(redis).await?;
                redis::cmd("EVAL")
                    .arg(END_ALL_SCRIPT)
                    .arg(1)
                    .arg(index_key(redis, realm, holder))
                    .arg(session_key(redis, realm, &[]))
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(redis_error)?;
            }
        }
        Ok(())
    }

    /// `holder`'s live sessions opened under credentials `generation`, newest first; `current`
    /// is the cookie id this request came with, if any.
    pub(crate) async fn list(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        holder: uuid::Uuid,
        generation: i64,
        current: Option<&str>,
        lifetimes: Lifetimes,
    ) -> Result<Vec<ActiveSession>, IdentityError> {
        let current = current.map(|id| handle(&tokens::digest(id)));
        let mut sessions: Vec<ActiveSession> = self
            .listed(conn, realm, holder, generation, lifetimes)
            .await?
            .into_iter()
            .map(|l| ActiveSession { current: current.as_deref() == Some(l.session.id.as_str()), ..l.session })
            .collect();
        sessions.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
        Ok(sessions)
    }

    /// Ends `holder`'s session named `id` (see [`handle`]); false when they have none by that name.
    pub(crate) async fn end_one(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        holder: uuid::Uuid,
        generation: i64,
        id: &str,
        lifetimes: Lifetimes,
    ) -> Result<bool, IdentityError> {
        let listed = self.listed(conn, realm, holder, generation, lifetimes).await?;
        let Some(found) = listed.into_iter().find(|l| l.session.id == id) else { return Ok(false) };
        self.remove(conn, realm, &found.hash, holder).await?;
        Ok(true)
    }

    async fn listed(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        holder: uuid::Uuid,
        generation: i64,
        lifetimes: Lifetimes,
    ) -> Result<Vec<Listed>, IdentityError> {
        type Row = (Vec<u8>, DateTime<Utc>, DateTime<Utc>, DateTime<Utc>, Option<String>, Option<String>, i64);
        let rows: Vec<Row> = match (self, realm) {
            (SessionStore::Database, Realm::Shop(_)) => {
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
            (SessionStore::Database, Realm::Platform) => {
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
            (SessionStore::Redis(redis), _) => {
                let mut conn = redis_conn(redis).await?;
                let members: Vec<String> = redis::cmd("SMEMBERS")
                    .arg(index_key(redis, realm, holder))
                    .query_async(&mut conn)
                    .await
                    .map_err(redis_error)?;
                let hashes: Vec<Vec<u8>> = members.iter().filter_map(|m| hex::decode(m).ok()).collect();
                // One round trip for all of them, not one per session.
                let mut pipe = redis::pipe();
                for hash in &hashes {
                    pipe.cmd("HGETALL").arg(session_key(redis, realm, hash));
                }
                let all: Vec<HashMap<String, String>> = pipe.query_async(&mut conn).await.map_err(redis_error)?;
                let mut rows = Vec::new();
                for (hash, fields) in hashes.into_iter().zip(all) {
                    let Some(stored) = from_redis(&fields) else { continue };
                    let created = fields
                        .get("created_at")
                        .and_then(|v| v.parse::<i64>().ok())
                        .and_then(DateTime::from_timestamp_millis)
                        .unwrap_or(stored.last_seen_at);
                    let (ip, user_agent) = (fields.get("ip").cloned(), fields.get("user_agent").cloned());
                    rows.push((
                        hash,
                        created,
                        stored.last_seen_at,
                        stored.expires_at,
                        ip,
                        user_agent,
                        stored.generation,
                    ));
                }
                rows
            }
        };
        let now = Utc::now();
        Ok(rows
            .into_iter()
            .filter(|(_, _, seen, expires, _, _, gen)| {
                *gen == generation && *expires > now && *seen + lifetimes.idle > now
            })
            .map(|(hash, created_at, last_seen_at, expires_at, ip, user_agent, _)| Listed {
                session: ActiveSession {
                    id: handle(&hash),
                    created_at,
                    last_seen_at,
                    expires_at,
                    ip,
                    user_agent,
                    current: false,
                },
                hash,
            })
            .collect())
    }

    async fn load(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        hash: &[u8],
    ) -> Result<Option<Stored>, IdentityError> {
        type Row = (uuid::Uuid, String, i64, DateTime<Utc>, DateTime<Utc>);
        let row: Option<Row> = match (self, realm) {
            (SessionStore::Database, Realm::Shop(_)) => sessions::table
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
            (SessionStore::Database, Realm::Platform) => operator_sessions::table
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
            (SessionStore::Redis(redis), _) => {
                let mut conn = redis_conn(redis).await?;
                let fields: HashMap<String, String> = redis::cmd("HGETALL")
                    .arg(session_key(redis, realm, hash))
                    .query_async(&mut conn)
                    .await
                    .map_err(redis_error)?;
                return Ok(from_redis(&fields));
            }
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
        session: &Stored,
        now: DateTime<Utc>,
        lifetimes: Lifetimes,
    ) -> Result<(), IdentityError> {
        match (self, realm) {
            (SessionStore::Database, Realm::Shop(_)) => {
                diesel::update(sessions::table.filter(sessions::id_hash.eq(hash)))
                    .set(sessions::last_seen_at.eq(now))
                    .execute(conn)
                    .await?;
            }
            (SessionStore::Database, Realm::Platform) => {
                diesel::update(operator_sessions::table.filter(operator_sessions::id_hash.eq(hash)))
                    .set(operator_sessions::last_seen_at.eq(now))
                    .execute(conn)
                    .await?;
            }
            (SessionStore::Redis(redis), _) => {
                let key = session_key(redis, realm, hash);
                let mut conn = redis_conn(redis).await?;
                // HSET would recreate a session ended a moment ago; XX-style: only if it exists.
                redis::cmd("EVAL")
                    .arg(TOUCH_SCRIPT)
                    .arg(1)
                    .arg(&key)
                    .arg(now.timestamp_millis())
                    .arg(ttl_millis(now, session.expires_at, now, lifetimes))
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(redis_error)?;
            }
        }
        Ok(())
    }

    async fn remove(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        hash: &[u8],
        holder: uuid::Uuid,
    ) -> Result<(), IdentityError> {
        match (self, realm) {
            (SessionStore::Database, Realm::Shop(_)) => {
                diesel::delete(sessions::table.filter(sessions::id_hash.eq(hash))).execute(conn).await?;
            }
            (SessionStore::Database, Realm::Platform) => {
                diesel::delete(operator_sessions::table.filter(operator_sessions::id_hash.eq(hash)))
                    .execute(conn)
                    .await?;
            }
            (SessionStore::Redis(redis), _) => {
                let mut conn = redis_conn(redis).await?;
                redis::pipe()
                    .atomic()
                    .del(session_key(redis, realm, hash))
                    .ignore()
                    .srem(index_key(redis, realm, holder), hex::encode(hash))
                    .ignore()
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(redis_error)?;
            }
        }
        Ok(())
    }
}

/// KEYS[1]: the holder's index of session hashes; ARGV[1]: the session key prefix.
const END_ALL_SCRIPT: &str = r"
for _, hash in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  redis.call('DEL', ARGV[1] .. hash)
end
redis.call('DEL', KEYS[1])
";

/// KEYS[1]: the session; ARGV[1]: now in ms; ARGV[2]: its new time to live in ms.
const TOUCH_SCRIPT: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'last_seen_at', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
";

/// `<namespace>:session:<realm>:<hex hash>`; with an empty hash, the prefix of them all.
fn session_key(redis: &Redis, realm: Realm, hash: &[u8]) -> String {
    redis.key(&format!("session:{}:{}", realm.redis_name(), hex::encode(hash)))
}

fn index_key(redis: &Redis, realm: Realm, holder: uuid::Uuid) -> String {
    redis.key(&format!("sessions-of:{}:{holder}", realm.redis_name()))
}

/// Redis drops the session when it would be idle too long or too old, whichever comes first.
fn ttl_millis(last_seen_at: DateTime<Utc>, expires_at: DateTime<Utc>, now: DateTime<Utc>, lifetimes: Lifetimes) -> i64 {
    ((last_seen_at + lifetimes.idle).min(expires_at) - now).num_milliseconds().max(1)
}

fn from_redis(fields: &HashMap<String, String>) -> Option<Stored> {
    let millis = |name: &str| fields.get(name)?.parse::<i64>().ok().and_then(DateTime::from_timestamp_millis);
    Some(Stored {
        holder: fields.get("holder")?.parse().ok()?,
        csrf_token: fields.get("csrf_token")?.clone(),
        generation: fields.get("generation")?.parse().ok()?,
        last_seen_at: millis("last_seen_at")?,
        expires_at: millis("expires_at")?,
    })
}

async fn redis_conn(redis: &Redis) -> Result<deadpool_redis::Connection, IdentityError> {
    redis.pool.get().await.map_err(|e| IdentityError::SessionStore(e.to_string()))
}

fn redis_error(e: redis::RedisError) -> IdentityError {
    IdentityError::SessionStore(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redis_session_expires_at_its_idle_or_absolute_end_whichever_is_first() {
        let now = Utc::now();
        let lifetimes = Lifetimes { idle: chrono::Duration::hours(2), absolute: chrono::Duration::hours(12) };
        let minutes = |m: i64| now + chrono::Duration::minutes(m);
        assert_eq!(ttl_millis(now, minutes(12 * 60), now, lifetimes), 2 * 3600 * 1000, "idle end first");
        assert_eq!(ttl_millis(minutes(-30), minutes(600), now, lifetimes), 90 * 60 * 1000, "idle end, used earlier");
        assert_eq!(ttl_millis(now, minutes(5), now, lifetimes), 5 * 60 * 1000, "absolute end first");
        assert_eq!(ttl_millis(now, minutes(-5), now, lifetimes), 1, "never zero or negative: PEXPIRE would refuse");
    }

    #[test]
    fn a_redis_session_with_a_missing_or_garbled_field_is_no_session() {
        let complete: HashMap<String, String> = [
            ("holder", uuid::Uuid::nil().to_string()),
            ("csrf_token", "c".into()),
            ("generation", "42".into()),
            ("last_seen_at", "1700000000000".into()),
            ("expires_at", "1700000060000".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let session = from_redis(&complete).expect("complete session");
        assert_eq!(session.generation, 42);
        assert_eq!(session.expires_at - session.last_seen_at, chrono::Duration::minutes(1));
        for field in ["holder", "csrf_token", "generation", "last_seen_at", "expires_at"] {
            let mut partial = complete.clone();
            partial.remove(field);
            assert!(from_redis(&partial).is_none(), "without {field}");
            partial.insert(field.into(), "garbled-but-not-for-csrf".into());
            assert_eq!(from_redis(&partial).is_some(), field == "csrf_token", "garbled {field}");
        }
    }
}
