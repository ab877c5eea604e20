//! `Idempotency-Key` for unsafe requests.
//!
//! Same key + same request → the first response, replayed. Same key + different request → 422.
//! Same key while the first is still running → 409. Keys are scoped to the tenant and the
//! **verified principal** (session holder, token subject, API key) and kept 24 hours. A 5xx
//! answer releases the key so the client can retry.
//!
//! The middleware runs after authentication (see the order in `src/app.rs`), so the caller it
//! scopes by is the one the identity module verified, never a header value or an address: a
//! stranger sending the same key, path and body is another scope and cannot receive a response
//! made for someone else. Anonymous requests are not stored for replay at all: the only thing an
//! anonymous client holds is the key itself, which may be guessable (`1`, `k`), and the anonymous
//! writes we have (registration, reset requests) answer the same when repeated anyway. A later
//! anonymous write that needs replay (guest checkout) must scope by a secret the client holds
//! (its guest cart token), by giving the request a principal — not by loosening this rule.
//!
//! Stored bodies may carry one-time secrets (a new API key, a TOTP seed, recovery codes, a
//! webhook secret, tokens), so every stored body is sealed (`sealing::Sealer`, bound to its
//! shop, caller and key): a copy of the database opens none of them, and a row moved to another
//! caller's scope does not open either.
//!
//! The key row is claimed before the handler runs (its own short transaction), so a concurrent
//! duplicate sees it at once; the response is stored after. A process that dies between the two
//! leaves an `in_progress` row, which is taken over once its lease has expired. A failed request
//! whose key could not be released at once (the database itself was away) is released as soon as
//! the database answers again, so the client's retry is not held off for the whole lease.

use crate::auth::Principal;
use crate::db::{Database, DbError};
use crate::error::{ApiError, ErrorKind};
use crate::http::TenantContext;
use crate::sealing::Sealer;
use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Bytea, Integer, Jsonb, Nullable, Text, Timestamptz};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// How long a key is remembered.
pub const RETENTION_HOURS: i64 = 24;
/// How long an unfinished first request holds its key before another may take it over.
pub const LEASE_SECONDS: i64 = 60;
/// How often a failed request's key is offered back while the database is away.
const RELEASE_RETRY: std::time::Duration = std::time::Duration::from_secs(1);
/// Response headers worth replaying; the rest (dates, request ids) belong to each response.
const REPLAYED_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

#[derive(Clone)]
pub struct IdempotencySettings {
    pub max_body_bytes: usize,
    /// Seals stored response bodies.
    pub sealer: Sealer,
}

/// Sealing purpose of stored response bodies.
const SEAL_PURPOSE: &str = "idempotent-response";

#[derive(QueryableByName)]
struct StoredKey {
    #[diesel(sql_type = Text)]
    request_hash: String,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Nullable<Integer>)]
    response_status: Option<i32>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    response_headers: Option<serde_json::Value>,
    #[diesel(sql_type = Nullable<Bytea>)]
    response_body: Option<Vec<u8>>,
    #[diesel(sql_type = BigInt)]
    age_seconds: i64,
}

/// When a claim was made: it tells this claim apart from a later one of the same key.
#[derive(QueryableByName)]
struct ClaimedAt {
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
}

enum Claim {
    Proceed(DateTime<Utc>),
    Replay(StoredKey),
    Mismatch,
    InFlight,
}

#[derive(Clone)]
struct Scope {
    tenant: String,
    caller: String,
    key: String,
}

impl Scope {
    /// What a sealed body is bound to: it opens only in this scope.
    fn place(&self) -> Vec<u8> {
        [self.tenant.as_bytes(), &[0], self.caller.as_bytes(), &[0], self.key.as_bytes()].concat()
    }
}

fn parse_key(value: &HeaderValue) -> Result<String, ApiError> {
    let key =
        value.to_str().ok().filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()));
    key.map(str::to_string).ok_or_else(|| {
        ApiError::new(
            ErrorKind::BadRequest,
            "bad-idempotency-key",
            "Idempotency-Key must be 1–255 visible ASCII characters",
        )
        .with_field("Idempotency-Key", "1–255 visible ASCII characters")
    })
}

async fn claim(db: &Database, scope: &Scope, request_hash: &str) -> Result<Claim, DbError> {
    let (tenant, caller, key, hash) =
        (scope.tenant.clone(), scope.caller.clone(), scope.key.clone(), request_hash.to_string());
    db.control_tx(async move |conn| {
        let inserted: Vec<ClaimedAt> = diesel::sql_query(
            "INSERT INTO agora.idempotency_keys (tenant_key, caller, key, request_hash, state) \
             VALUES ($1, $2, $3, $4, 'in_progress') ON CONFLICT DO NOTHING RETURNING created_at",
        )
        .bind::<Text, _>(&tenant)
        .bind::<Text, _>(&caller)
        .bind::<Text, _>(&key)
        .bind::<Text, _>(&hash)
        .load(conn)
        .await?;
        if let Some(claimed) = inserted.into_iter().next() {
            return Ok(Claim::Proceed(claimed.created_at));
        }
        let stored: StoredKey = diesel::sql_query(
            "SELECT request_hash, state, response_status, response_headers, response_body, \
                    extract(epoch FROM now() - created_at)::bigint AS age_seconds \
             FROM agora.idempotency_keys WHERE tenant_key = $1 AND caller = $2 AND key = $3 FOR UPDATE",
        )
        .bind::<Text, _>(&tenant)
        .bind::<Text, _>(&caller)
        .bind::<Text, _>(&key)
        .get_result(conn)
        .await?;
        let expired = stored.age_seconds >= RETENTION_HOURS * 3600;
        let abandoned = stored.state == "in_progress" && stored.age_seconds >= LEASE_SECONDS;
        if expired || abandoned {
            let claimed: ClaimedAt = diesel::sql_query(
                "UPDATE agora.idempotency_keys SET request_hash = $4, state = 'in_progress', created_at = now(), \
                 response_status = NULL, response_headers = NULL, response_body = NULL \
                 WHERE tenant_key = $1 AND caller = $2 AND key = $3 RETURNING created_at",
            )
            .bind::<Text, _>(&tenant)
            .bind::<Text, _>(&caller)
            .bind::<Text, _>(&key)
            .bind::<Text, _>(&hash)
            .get_result(conn)
            .await?;
            return Ok(Claim::Proceed(claimed.created_at));
        }
        Ok(if stored.request_hash != hash {
            Claim::Mismatch
        } else if stored.state == "in_progress" {
            Claim::InFlight
        } else {
            Claim::Replay(stored)
        })
    })
    .await
}

async fn finish(
    db: &Database,
    scope: &Scope,
    claimed_at: DateTime<Utc>,
    status: StatusCode,
    headers: serde_json::Value,
    body: Vec<u8>,
) -> Result<(), DbError> {
    let (tenant, caller, key) = (scope.tenant.clone(), scope.caller.clone(), scope.key.clone());
    db.control_tx(async move |conn| {
        if status.is_server_error() {
            // Only this request's own claim: after its lease another request may hold the key.
            diesel::sql_query(
                "DELETE FROM agora.idempotency_keys WHERE tenant_key = $1 AND caller = $2 AND key = $3 \
                 AND state = 'in_progress' AND created_at = $4",
            )
            .bind::<Text, _>(&tenant)
            .bind::<Text, _>(&caller)
            .bind::<Text, _>(&key)
            .bind::<Timestamptz, _>(claimed_at)
            .execute(conn)
            .await?;
        } else {
            diesel::sql_query(
                "UPDATE agora.idempotency_keys SET state = 'completed', response_status = $4, response_headers = $5, \
                 response_body = $6 WHERE tenant_key = $1 AND caller = $2 AND key = $3",
            )
            .bind::<Text, _>(&tenant)
            .bind::<Text, _>(&caller)
            .bind::<Text, _>(&key)
            .bind::<Integer, _>(i32::from(status.as_u16()))
            .bind::<Jsonb, _>(&headers)
            .bind::<Bytea, _>(&body)
            .execute(conn)
            .await?;
        }
        Ok(())
    })
    .await
}

/// Records a failed request's outcome (releases its key); when the database is away (a server
/// restarting), keeps trying in the background until the lease would have freed the key anyway.
async fn release_failed(db: &Database, scope: &Scope, claimed_at: DateTime<Utc>, status: StatusCode) {
    let release = move |db: Database, scope: Scope| async move {
        finish(&db, &scope, claimed_at, status, serde_json::Value::Null, Vec::new()).await
    };
    if let Err(e) = release(db.clone(), scope.clone()).await {
        tracing::warn!(error = %e, "could not release the idempotency key of a failed request; retrying");
        let (db, scope) = (db.clone(), scope.clone());
        actix_web::rt::spawn(async move {
            let give_up = tokio::time::Instant::now() + std::time::Duration::from_secs(LEASE_SECONDS.unsigned_abs());
            while tokio::time::Instant::now() < give_up {
                tokio::time::sleep(RELEASE_RETRY).await;
                if release(db.clone(), scope.clone()).await.is_ok() {
                    return;
                }
            }
        });
    }
}

/// A request sent with a key whose body is larger than a key covers. Keys fingerprint the whole
/// body in memory, so they are kept to bodies of `AGORA_MAX_BODY_BYTES`; a larger upload (an
/// image, a CSV file) is refused rather than run unprotected, naming the header so the client
/// knows to send it again without one.
fn too_large_for_a_key(limit: usize) -> ApiError {
    ApiError::new(
        ErrorKind::PayloadTooLarge,
        "idempotency-body-too-large",
        format!("an Idempotency-Key covers bodies of up to {limit} bytes; send this larger upload without the key"),
    )
    .with_field("Idempotency-Key", format!("only for bodies of up to {limit} bytes"))
}

/// Deletes keys past their retention; a recurring job.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
// Braces, not a unit struct: a job's payload is a JSON object (`{}`), as the queue's API says.
pub struct PurgeExpiredKeys {}

impl crate::jobs::Job for PurgeExpiredKeys {
    const KIND: &'static str = "kernel.purge_idempotency_keys";

    async fn run(self, ctx: crate::jobs::JobContext) -> Result<(), crate::jobs::JobError> {
        let deleted = ctx
            .db
            .control_tx(async |conn| {
                let sql = format!(
                    "DELETE FROM agora.idempotency_keys WHERE created_at < now() - interval '{RETENTION_HOURS} hours'"
                );
                Ok::<_, DbError>(diesel::sql_query(sql).execute(conn).await?)
            })
            .await?;
        if deleted > 0 {
            tracing::info!(deleted, "expired idempotency keys purged");
        }
        Ok(())
    }
}

fn replay(stored: StoredKey, body: Vec<u8>) -> HttpResponse {
    let status = stored.response_status.and_then(|s| u16::try_from(s).ok()).and_then(|s| StatusCode::from_u16(s).ok());
    let mut response = HttpResponse::build(status.unwrap_or(StatusCode::OK));
    if let Some(serde_json::Value::Object(headers)) = stored.response_headers {
        for (name, value) in headers {
            if let (Ok(name), Some(value)) = (HeaderName::try_from(name), value.as_str()) {
                if let Ok(value) = HeaderValue::from_str(value) {
                    response.insert_header((name, value));
                }
            }
        }
    }
    response.insert_header((REPLAYED, HeaderValue::from_static("true")));
    response.body(body)
}

/// Middleware; runs after tenant resolution and authentication, so keys are scoped to the tenant
/// and the verified caller.
pub async fn enforce(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let unsafe_method = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH | Method::DELETE);
    let header = req.headers().get(IDEMPOTENCY_KEY).cloned();
    let (Some(header), true) = (header, unsafe_method) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let (Some(db), Some(settings)) = (
        req.app_data::<web::Data<Database>>().cloned(),
        req.app_data::<web::Data<IdempotencySettings>>().map(|s| s.get_ref().clone()),
    ) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    // Anonymous callers get no replay (see the module comment): the request simply runs. So
    // does a cookie-authenticated one without its CSRF token: it is not the caller's until the
    // handler's principal extractor says so (and refuses it), so it must not claim their key.
    let caller = match crate::auth::csrf_missing(req.request()) {
        true => None,
        false => req.extensions().get::<Principal>().and_then(Principal::key),
    };
    let Some(caller) = caller else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = match parse_key(&header) {
        Ok(key) => key,
        Err(e) => return Ok(req.error_response(e).map_into_boxed_body()),
    };

    // Read the body (bounded) to fingerprint the request, then hand it back to the handler. A
    // body past the bound is refused for what it is: too large for a key (an upload that its
    // route would take without one), not too large for the route.
    let declared = crate::images::declared_length(req.request());
    if declared.is_some_and(|length| length > settings.max_body_bytes as u64) {
        return Ok(req.error_response(too_large_for_a_key(settings.max_body_bytes)).map_into_boxed_body());
    }
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > settings.max_body_bytes {
            return Ok(req.error_response(too_large_for_a_key(settings.max_body_bytes)).map_into_boxed_body());
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str());
    hasher.update([0]);
    hasher.update(req.uri().path_and_query().map(|p| p.as_str()).unwrap_or_default());
    hasher.update([0]);
    hasher.update(&body);
    let request_hash = hex::encode(hasher.finalize());
    req.set_payload(actix_web::dev::Payload::from(body));

    let tenant = req.extensions().get::<TenantContext>().map(|t| t.id.to_string()).unwrap_or_else(|| "platform".into());
    let scope = Scope { tenant, caller, key };

    let claimed_at = match claim(&db, &scope, &request_hash).await {
        Err(e) => return Ok(req.error_response(ApiError::from(e)).map_into_boxed_body()),
        Ok(Claim::Mismatch) => {
            let e = ApiError::new(
                ErrorKind::Unprocessable,
                "idempotency-key-reused",
                "this Idempotency-Key was already used for a different request",
            )
            .with_field("Idempotency-Key", "already used with a different request");
            return Ok(req.error_response(e).map_into_boxed_body());
        }
        Ok(Claim::InFlight) => {
            let e = ApiError::new(
                ErrorKind::Conflict,
                "idempotency-key-in-use",
                "a request with this Idempotency-Key is still being processed; retry later",
            );
            return Ok(req.error_response(e).map_into_boxed_body());
        }
        Ok(Claim::Replay(mut stored)) => {
            let sealed = stored.response_body.take().unwrap_or_default();
            return Ok(match settings.sealer.open(SEAL_PURPOSE, &scope.place(), &sealed) {
                Ok(opened) => req.into_response(replay(stored, opened.plain)),
                Err(e) => req.error_response(ApiError::internal(format!("stored idempotent response: {e}"))),
            });
        }
        Ok(Claim::Proceed(at)) => at,
    };

    let res = match next.call(req).await {
        Ok(res) => res,
        Err(e) => {
            // The handler failed before producing a response: release the key for a retry.
            release_failed(&db, &scope, claimed_at, StatusCode::INTERNAL_SERVER_ERROR).await;
            return Err(e);
        }
    };
    let (http_req, http_res) = res.into_parts();
    let status = http_res.status();
    let mut kept = serde_json::Map::new();
    for name in REPLAYED_HEADERS {
        if let Some(value) = http_res.headers().get(&name).and_then(|v| v.to_str().ok()) {
            kept.insert(name.to_string(), serde_json::Value::String(value.to_string()));
        }
    }
    let (head, response_body) = http_res.into_parts();
    let bytes = body::to_bytes(response_body).await.unwrap_or_default();
    let recorded = if status.is_server_error() {
        release_failed(&db, &scope, claimed_at, status).await;
        Ok(())
    } else {
        match settings.sealer.seal(SEAL_PURPOSE, &scope.place(), &bytes) {
            Ok(sealed) => finish(&db, &scope, claimed_at, status, serde_json::Value::Object(kept), sealed)
                .await
                .map_err(|e| e.to_string()),
            // Unsealable: release the key rather than keep a response in the clear.
            Err(e) => {
                release_failed(&db, &scope, claimed_at, StatusCode::INTERNAL_SERVER_ERROR).await;
                Err(e.to_string())
            }
        }
    };
    if let Err(e) = recorded {
        tracing::error!(error = %e, "could not record idempotent response");
    }
    let res = head.set_body(BoxBody::new(bytes));
    Ok(ServiceResponse::new(http_req, res))
}
