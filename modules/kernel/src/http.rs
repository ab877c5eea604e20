//! Request plumbing shared by every route: request ids, the tracing root span and access log,
//! the tenant context handed to handlers, the caller's identity for limits, and the conversion of
//! any framework error (bad JSON, wrong content type, oversized body, unknown route) into
//! problem+json.

use crate::db::TenantSchema;
use crate::error::{problem_for_status, ApiError, ErrorKind, PROBLEM_CONTENT_TYPE};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error, FromRequest, HttpMessage, HttpRequest, ResponseError};
use std::future::{ready, Ready};
use std::net::IpAddr;
use std::time::Instant;
use tracing::Span;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
pub const TENANT_HEADER: HeaderName = HeaderName::from_static("x-tenant-id");

/// The id of this request: the client's `X-Request-ID` when it is sane, else a new UUIDv7.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

struct RequestStart(Instant);

fn acceptable_request_id(value: &HeaderValue) -> Option<String> {
    let s = value.to_str().ok()?;
    let ok = !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then(|| s.to_string())
}

/// Outermost middleware: assigns the request id (before the root span is built, so every log
/// line of the request carries it) and echoes it on the response.
pub async fn assign_request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(acceptable_request_id)
        .unwrap_or_else(|| crate::model::new_id().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    req.extensions_mut().insert(RequestStart(Instant::now()));
    let mut res = next.call(req).await?.map_into_boxed_body();
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    Ok(res)
}

/// Root span of every request, with our request id, and one access-log line when it ends.
pub struct AgoraRootSpan;

impl tracing_actix_web::RootSpanBuilder for AgoraRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
        let route = request.match_pattern().unwrap_or_else(|| "unmatched".to_string());
        tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %request.method(),
            path = %request.path(),
            route = %route,
            tenant = tracing::field::Empty,
            user = tracing::field::Empty,
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let (status, started) = match outcome {
            Ok(res) => (res.status().as_u16(), res.request().extensions().get::<RequestStart>().map(|s| s.0)),
            Err(e) => (e.as_response_error().status_code().as_u16(), None),
        };
        span.record("status", status);
        let elapsed_ms = started.map(|s| s.elapsed().as_secs_f64() * 1000.0).unwrap_or_default();
        span.in_scope(|| tracing::info!(status, elapsed_ms, "request completed"));
    }
}

/// Turns any error response that is not already problem+json (actix's own 404/405, extractor
/// errors that slipped through) into one, so clients only ever see one error format. The one
/// exception is an HTML page made on purpose for a browser's page load (the web apps' "no shop
/// here" or "not built" pages), which a person reads and no API client asks for.
pub async fn normalize_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let res = next.call(req).await?;
    let status = res.status();
    let content_type = res.headers().get(header::CONTENT_TYPE).map(|v| v.as_bytes()).unwrap_or_default();
    let is_problem = content_type.starts_with(PROBLEM_CONTENT_TYPE.as_bytes());
    let is_page = content_type.starts_with(b"text/html");
    if status.as_u16() < 400 || is_problem || is_page {
        return Ok(res.map_into_boxed_body());
    }
    let (req, _) = res.into_parts();
    let problem = problem_for_status(status).error_response();
    Ok(ServiceResponse::new(req, problem))
}

// Extractor configurations that report bad bodies, paths and queries as problems naming what
// was wrong.

pub fn json_config(max_body_bytes: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(max_body_bytes).error_handler(|err, _| json_error(err).into())
}

pub fn payload_config(max_body_bytes: usize) -> web::PayloadConfig {
    web::PayloadConfig::default().limit(max_body_bytes)
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _| {
        let message = err.to_string();
        let field = field_from_serde_message(&message.replace("Query deserialize error: ", ""))
            .unwrap_or_else(|| "query".to_string());
        ApiError::new(ErrorKind::BadRequest, "bad-query", format!("invalid query string: {message}"))
            .with_field(field, message)
            .into()
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _| {
        ApiError::new(ErrorKind::NotFound, "not-found", format!("no such resource ({err})")).into()
    })
}

fn json_error(err: actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError as E;
    match err {
        E::OverflowKnownLength { length, limit } => ApiError::new(
            ErrorKind::PayloadTooLarge,
            "payload-too-large",
            format!("the body is {length} bytes; the limit is {limit}"),
        ),
        E::Overflow { limit } => ApiError::new(
            ErrorKind::PayloadTooLarge,
            "payload-too-large",
            format!("the body exceeds the limit of {limit} bytes"),
        ),
        E::ContentType => ApiError::new(
            ErrorKind::UnsupportedMediaType,
            "unsupported-media-type",
            "send the body as JSON with Content-Type: application/json",
        )
        .with_field("Content-Type", "must be application/json"),
        E::Deserialize(e) => deserialize_error(&e),
        other => ApiError::new(ErrorKind::BadRequest, "malformed-body", format!("the body could not be read: {other}")),
    }
}

/// A serde error as a problem: syntax errors are 400, well-formed JSON of the wrong shape is a
/// 422 naming the field serde complained about.
fn deserialize_error(e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let message = e.to_string();
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => ApiError::new(
            ErrorKind::BadRequest,
            "malformed-json",
            format!("the body is not valid JSON (line {}, column {})", e.line(), e.column()),
        ),
        Category::Data => {
            let field = field_from_serde_message(&message).unwrap_or_else(|| "body".to_string());
            let clean = message.split(" at line ").next().unwrap_or(&message).to_string();
            ApiError::field(field, clean)
        }
    }
}

fn field_from_serde_message(message: &str) -> Option<String> {
    // serde names the field in backticks: "missing field `name`", "unknown field `x`, expected …".
    let start = message.find('`')? + 1;
    let len = message.get(start..)?.find('`')?;
    let field = message.get(start..start + len)?;
    (message.starts_with("missing field")
        || message.starts_with("unknown field")
        || message.starts_with("duplicate field"))
    .then(|| field.to_string())
}

/// The tenant a request is for, resolved once by the tenancy middleware and handed to handlers
/// as an extractor.
#[derive(Debug, Clone)]
pub struct TenantContext {
    pub id: uuid::Uuid,
    pub slug: String,
    pub schema: TenantSchema,
}

impl FromRequest for TenantContext {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(req.extensions().get::<TenantContext>().cloned().ok_or_else(|| {
            ApiError::new(
                ErrorKind::NotFound,
                "tenant-not-found",
                "no shop is addressed: use the shop's domain or send X-Tenant-ID",
            )
        }))
    }
}

impl paperclip::v2::schema::Apiv2Schema for TenantContext {}

impl paperclip::actix::OperationModifier for TenantContext {
    fn update_parameter(op: &mut paperclip::v2::models::DefaultOperationRaw) {
        use paperclip::v2::models::{DataType, Either, Parameter, ParameterIn};
        op.parameters.push(Either::Right(Parameter {
            name: "X-Tenant-ID".into(),
            in_: ParameterIn::Header,
            description: Some("Shop slug; optional when the Host is the shop's domain".into()),
            required: false,
            data_type: Some(DataType::String),
            ..Default::default()
        }));
    }
}

/// The networks of the reverse proxies in front of Agora (`AGORA_TRUSTED_PROXIES`), whose
/// `X-Forwarded-For` entries are believed. Empty (the default): only the peer address counts.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(std::sync::Arc<Vec<ipnet::IpNet>>);

impl TrustedProxies {
    /// Comma-separated CIDRs (`10.0.0.0/8, 2001:db8::/32`); a bare address is a /32 or /128.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let net = item
                .parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("`{item}` is not a network such as 10.0.0.0/8 or an address"))?;
            nets.push(net.trunc());
        }
        Ok(Self(std::sync::Arc::new(nets)))
    }

    /// Loopback only: a proxy on the same machine.
    pub fn loopback() -> Self {
        Self::parse("127.0.0.0/8,::1/128").unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn networks(&self) -> &[ipnet::IpNet] {
        &self.0
    }

    fn trusts(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        self.0.iter().any(|net| net.contains(&addr))
    }

    /// The client behind `peer`: walking `X-Forwarded-For` from its right (the hop our own
    /// proxy appended) while the hop we stand at is a trusted proxy, the first address that is
    /// not. Entries left of that point are whatever the client wrote and are never read.
    pub fn client_behind(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        let mut client = canonical(peer);
        let hops = forwarded_for.iter().flat_map(|h| h.split(',')).map(str::trim).collect::<Vec<_>>();
        for hop in hops.into_iter().rev() {
            if !self.trusts(client) {
                break;
            }
            match parse_hop(hop) {
                Some(addr) => client = canonical(addr),
                // Garbage from a trusted hop's left: the trusted hop is the best we know.
                None => break,
            }
        }
        client
    }
}

/// `::ffff:10.0.0.1` is 10.0.0.1: dual-stack listeners report IPv4 peers that way.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(addr),
        v4 => v4,
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>().ok().or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
}

/// The client's address — the one function every limit, throttle, audit entry and session uses.
/// The peer address, or behind configured trusted proxies the right-most untrusted
/// `X-Forwarded-For` hop (see [`TrustedProxies::client_behind`]).
pub fn client_addr(req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let Some(trusted) = req.app_data::<web::Data<TrustedProxies>>().filter(|t| !t.is_empty()) else {
        return Some(canonical(peer));
    };
    let forwarded: Vec<&str> = req.headers().get_all(X_FORWARDED_FOR).filter_map(|v| v.to_str().ok()).collect();
    Some(trusted.client_behind(peer, &forwarded))
}

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The path as routing matched it (`%76` decoded to `v`, as actix does before matching), for
/// every path-based rule, so an encoded path cannot reach a route while skipping its rules.
pub fn routing_path(req: &ServiceRequest) -> &str {
    req.match_info().as_str()
}

/// Who is calling, for rate limits: the verified principal (so two API keys of one shop are two
/// clients), else the client's address. Never anything the client merely sent: an unverified
/// `Authorization` value would let every request be a new client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey(pub String);

impl ClientKey {
    /// Run after authentication, which leaves the verified principal on the request.
    pub fn of(req: &ServiceRequest) -> Self {
        if let Some(who) = req.extensions().get::<crate::auth::Principal>().and_then(crate::auth::Principal::key) {
            return ClientKey(who);
        }
        Self::address(req.request())
    }

    /// The client address alone (failed authentication is counted here).
    pub fn address(req: &HttpRequest) -> Self {
        ClientKey(format!("ip:{}", client_addr(req).map(|a| a.to_string()).unwrap_or_else(|| "unknown".into())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_hop() {
        let none = TrustedProxies::default();
        assert_eq!(none.client_behind(ip("203.0.113.5"), &["1.1.1.1"]), ip("203.0.113.5"), "no proxies: the peer");
        let lb = TrustedProxies::parse("10.0.0.0/8, 192.168.1.1").unwrap_or_default();
        // The client wrote 6.6.6.6 itself; the proxy appended the address it saw.
        assert_eq!(lb.client_behind(ip("10.0.0.2"), &["6.6.6.6, 198.51.100.7"]), ip("198.51.100.7"));
        assert_eq!(lb.client_behind(ip("10.0.0.2"), &["6.6.6.6", "198.51.100.7, 192.168.1.1"]), ip("198.51.100.7"));
        assert_eq!(lb.client_behind(ip("198.51.100.9"), &["6.6.6.6"]), ip("198.51.100.9"), "an untrusted peer");
        assert_eq!(lb.client_behind(ip("10.0.0.2"), &["junk, 10.0.0.3"]), ip("10.0.0.3"), "garbage stops the walk");
        assert_eq!(lb.client_behind(ip("::ffff:10.0.0.2"), &["198.51.100.7:4711"]), ip("198.51.100.7"));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.internal").is_err());
    }
}
