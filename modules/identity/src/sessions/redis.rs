//! Sessions in Redis: every replica sees them, Redis expires idle ones by itself, and checking
//! a session writes nothing to the database. Redis stands outside the caller's transaction (see
//! `store` for why no rule depends on it).

use super::store::{Lifetimes, NewSession, Realm, Row, SessionBackend, Stored};
use crate::IdentityError;
use agora_kernel::redis::Redis;
use chrono::{DateTime, Utc};
use deadpool_redis::redis;
use diesel_async::AsyncPgConnection;
use std::collections::HashMap;

#[derive(Clone)]
pub(crate) struct RedisSessions(pub Redis);

impl SessionBackend for RedisSessions {
    async fn insert(
        &self,
        _conn: &mut AsyncPgConnection,
        realm: Realm,
        session: NewSession<'_>,
        lifetimes: Lifetimes,
    ) -> Result<(), IdentityError> {
        let redis = &self.0;
        let NewSession { hash, holder, csrf_token, generation, device, now, expires_at } = session;
        let key = session_key(redis, realm, hash);
        let index = index_key(redis, realm, holder);
        let mut fields = vec![
            ("holder", holder.to_string()),
            ("csrf_token", csrf_token.to_string()),
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
            .sadd(&index, hex::encode(hash))
            .ignore()
            // No session in the index outlives the newest one's absolute limit.
            .pexpire(&index, lifetimes.absolute.num_milliseconds().max(1))
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_error)
    }

    async fn load(
        &self,
        _conn: &mut AsyncPgConnection,
        realm: Realm,
        hash: &[u8],
    ) -> Result<Option<Stored>, IdentityError> {
        let mut conn = redis_conn(&self.0).await?;
        let fields: HashMap<String, String> = redis::cmd("HGETALL")
            .arg(session_key(&self.0, realm, hash))
            .query_async(&mut conn)
            .await
            .map_err(redis_error)?;
        Ok(from_redis(&fields))
    }

    async fn touch(
        &self,
        _conn: &mut AsyncPgConnection,
        realm: Realm,
        hash: &[u8],
        session: &Stored,
        now: DateTime<Utc>,
        lifetimes: Lifetimes,
    ) -> Result<(), IdentityError> {
        let key = session_key(&self.0, realm, hash);
        let mut conn = redis_conn(&self.0).await?;
        // HSET would recreate a session ended a moment ago; XX-style: only if it exists.
        redis::cmd("EVAL")
            .arg(TOUCH_SCRIPT)
            .arg(1)
            .arg(&key)
            .arg(now.timestamp_millis())
            .arg(ttl_millis(now, session.expires_at, now, lifetimes))
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_error)
    }

    async fn remove(
        &self,
        _conn: &mut AsyncPgConnection,
        realm: Realm,
        hash: &[u8],
        holder: uuid::Uuid,
    ) -> Result<(), IdentityError> {
        let mut conn = redis_conn(&self.0).await?;
        redis::pipe()
            .atomic()
            .del(session_key(&self.0, realm, hash))
            .ignore()
            .srem(index_key(&self.0, realm, holder), hex::encode(hash))
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_error)
    }

    async fn end_all(
        &self,
        _conn: &mut AsyncPgConnection,
        realm: Realm,
        holder: uuid::Uuid,
    ) -> Result<(), IdentityError> {
        // One script, so a session opened meanwhile is either in the index (and ended) or
        // opened after this (under the new generation).
        let mut conn = redis_conn(&self.0).await?;
        redis::cmd("EVAL")
            .arg(END_ALL_SCRIPT)
            .arg(1)
            .arg(index_key(&self.0, realm, holder))
            .arg(session_key(&self.0, realm, &[]))
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_error)
    }

    async fn rows(
        &self,
        _conn: &mut AsyncPgConnection,
        realm: Realm,
        holder: uuid::Uuid,
    ) -> Result<Vec<Row>, IdentityError> {
        let redis = &self.0;
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
            let created_at = fields
                .get("created_at")
                .and_then(|v| v.parse::<i64>().ok())
                .and_then(DateTime::from_timestamp_millis)
                .unwrap_or(stored.last_seen_at);
            rows.push(Row {
                hash,
                created_at,
                last_seen_at: stored.last_seen_at,
                expires_at: stored.expires_at,
                ip: fields.get("ip").cloned(),
                user_agent: fields.get("user_agent").cloned(),
                generation: stored.generation,
            });
        }
        Ok(rows)
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
