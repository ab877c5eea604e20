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

use crate::tokens;
use crate::IdentityError;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

/// A session's use is recorded at most this often: the idle timeout needs no finer clock, and
/// most requests then only read.
const TOUCH_EVERY_SECS: i64 = 60;

/// Whose sessions: one shop's users, or the platform's operators.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Realm {
    Shop(uuid::Uuid),
    Platform,
}

impl Realm {
    pub(super) fn redis_name(self) -> String {
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
pub(super) struct Stored {
    pub holder: uuid::Uuid,
    pub csrf_token: String,
    pub generation: i64,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// One of a holder's sessions as a store lists it, before the rules filter out dead ones.
pub(super) struct Row {
    pub hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub generation: i64,
}

/// A session as a store writes it.
pub(super) struct NewSession<'a> {
    pub hash: &'a [u8],
    pub holder: uuid::Uuid,
    pub csrf_token: &'a str,
    pub generation: i64,
    pub device: &'a Device,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What a kind of session store does: keep, read, refresh and drop sessions. The rules (what is
/// live, what a holder may see and end) are written once, over this, in [`Sessions`].
pub(super) trait SessionBackend {
    async fn insert(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        session: NewSession<'_>,
        lifetimes: Lifetimes,
    ) -> Result<(), IdentityError>;

    async fn load(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        hash: &[u8],
    ) -> Result<Option<Stored>, IdentityError>;

    /// Records a use of a live session (`session` as loaded).
    async fn touch(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        hash: &[u8],
        session: &Stored,
        now: DateTime<Utc>,
        lifetimes: Lifetimes,
    ) -> Result<(), IdentityError>;

    async fn remove(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        hash: &[u8],
        holder: uuid::Uuid,
    ) -> Result<(), IdentityError>;

    async fn end_all(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        holder: uuid::Uuid,
    ) -> Result<(), IdentityError>;

    /// Every session `holder` has in the store, live or not.
    async fn rows(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        holder: uuid::Uuid,
    ) -> Result<Vec<Row>, IdentityError>;
}

/// The session rules, the same over every store.
pub(super) struct Sessions<'s, B>(pub &'s B);

impl<B: SessionBackend> Sessions<'_, B> {
    pub(super) async fn open(
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
        let session = NewSession {
            hash: &hash,
            holder,
            csrf_token: &opened.csrf_token,
            generation,
            device,
            now,
            expires_at: now + lifetimes.absolute,
        };
        self.0.insert(conn, realm, session, lifetimes).await?;
        Ok(opened)
    }

    pub(super) async fn find(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        id: &str,
        lifetimes: Lifetimes,
    ) -> Result<Option<LiveSession>, IdentityError> {
        let hash = tokens::digest(id);
        let Some(session) = self.0.load(conn, realm, &hash).await? else { return Ok(None) };
        let now = Utc::now();
        if session.expires_at <= now || session.last_seen_at + lifetimes.idle <= now {
            self.0.remove(conn, realm, &hash, session.holder).await?;
            return Ok(None);
        }
        if now - session.last_seen_at > chrono::Duration::seconds(TOUCH_EVERY_SECS) {
            self.0.touch(conn, realm, &hash, &session, now, lifetimes).await?;
        }
        Ok(Some(LiveSession { holder: session.holder, csrf_token: session.csrf_token, generation: session.generation }))
    }

    pub(super) async fn list(
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

    pub(super) async fn end_one(
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
        self.0.remove(conn, realm, &found.hash, holder).await?;
        Ok(true)
    }

    /// `holder`'s live sessions opened under credentials `generation`.
    async fn listed(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        holder: uuid::Uuid,
        generation: i64,
        lifetimes: Lifetimes,
    ) -> Result<Vec<Listed>, IdentityError> {
        let now = Utc::now();
        Ok(self
            .0
            .rows(conn, realm, holder)
            .await?
            .into_iter()
            .filter(|r| r.generation == generation && r.expires_at > now && r.last_seen_at + lifetimes.idle > now)
            .map(|r| Listed {
                session: ActiveSession {
                    id: handle(&r.hash),
                    created_at: r.created_at,
                    last_seen_at: r.last_seen_at,
                    expires_at: r.expires_at,
                    ip: r.ip,
                    user_agent: r.user_agent,
                    current: false,
                },
                hash: r.hash,
            })
            .collect())
    }
}
