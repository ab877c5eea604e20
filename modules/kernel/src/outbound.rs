//! Every request Agora's servers make to a URL someone else chose goes through here: webhook
//! deliveries (the merchant picks the URL), OpenID Connect discovery, keys and token calls (the
//! shop's issuer, and whatever URLs its discovery document names), and later payment providers
//! and media fetches. Such a URL is a way into the platform's own network
//! (`http://169.254.169.254/` cloud metadata, `http://10.0.0.5/` internal services,
//! `http://localhost:5432/`), so unless the operator allows private targets
//! (`AGORA_OUTBOUND_ALLOW_PRIVATE`, for development and closed networks):
//!
//! - the scheme must be `https`;
//! - an IP-literal host must be a public address (checked by [`check_url`], since no DNS lookup
//!   happens for it);
//! - a host name must resolve only to public addresses. This is enforced by [`GuardedResolver`],
//!   the HTTP client's DNS resolver, on the very lookup the connection uses, so a name that
//!   resolves publicly when configured and privately when used (DNS rebinding) is still refused;
//! - redirects are not followed at all: a 3xx answer is handed back to the caller. Following them
//!   would need every hop re-checked;
//! - system proxies are ignored, since a proxy would resolve and connect on our behalf.
//!
//! Configuration runs the same checks early ([`check_target`], resolving the name once) to give
//! a 422 naming the field; the request-time checks are the ones that hold. [`Outbound`] is the one
//! client: build it once at start-up and hand clones to the modules that call out.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// Whether loopback, private and link-local targets (and plain http) are allowed: an operator
/// setting for development and closed networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboundPolicy {
    pub allow_private: bool,
}

/// `AGORA_OUTBOUND_ALLOW_PRIVATE`: let outbound calls reach loopback, link-local and private
/// addresses over plain http (development and closed networks only). The older name
/// `AGORA_WEBHOOKS_ALLOW_PRIVATE_TARGETS` still works.
impl crate::settings::Settings for OutboundPolicy {
    const KEYS: &'static [&'static str] = &["outbound_allow_private", "webhooks_allow_private_targets"];

    fn load(src: &crate::settings::Source<'_>) -> Result<Self, crate::settings::SettingsError> {
        use crate::settings::any;
        let allow_private = match src.raw("AGORA_OUTBOUND_ALLOW_PRIVATE") {
            Some(_) => src.parsed("AGORA_OUTBOUND_ALLOW_PRIVATE", false, any)?,
            // The name from before outbound calls had one guard, kept as an alias.
            None => src.parsed("AGORA_WEBHOOKS_ALLOW_PRIVATE_TARGETS", false, any)?,
        };
        Ok(Self { allow_private })
    }
}

/// Why a target URL is refused. The message is shown to merchants, after the URL's field name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetRefused {
    #[error("is not an absolute URL: {0}")]
    Malformed(String),
    #[error("must use https")]
    NotHttps,
    #[error("must use https (or http where the operator allows private targets)")]
    Scheme,
    #[error("must not contain a user name or password")]
    Credentials,
    #[error("has no host")]
    NoHost,
    #[error("points to {address}, a {kind} address; only public internet addresses can be reached")]
    NonPublicAddress { address: IpAddr, kind: &'static str },
    #[error("{host} resolves to {address}, a {kind} address; only public internet addresses can be reached")]
    ResolvesToNonPublic { host: String, address: IpAddr, kind: &'static str },
    #[error("{0} does not resolve to any address")]
    Unresolvable(String),
}

/// Checks everything about `raw` that needs no DNS: syntax, credentials, IP literals, scheme.
/// Returns the parsed URL.
pub fn check_url(raw: &str, policy: OutboundPolicy) -> Result<url::Url, TargetRefused> {
    let parsed = parse_target(raw, policy)?;
    check_scheme(&parsed, policy)?;
    Ok(parsed)
}

/// Registration's check: as [`check_url`], plus, for a host name, one lookup whose every address
/// must be public. A name that does not resolve (yet) is accepted: DNS may be down or not set up
/// yet, and the delivery-time resolver decides anyway. Where the address is at fault, that is
/// what the merchant is told, rather than the scheme.
pub async fn check_target(raw: &str, policy: OutboundPolicy) -> Result<url::Url, TargetRefused> {
    let parsed = parse_target(raw, policy)?;
    if let (Some(url::Host::Domain(host)), false) = (parsed.host(), policy.allow_private) {
        let lookup = tokio::time::timeout(Duration::from_secs(3), tokio::net::lookup_host((host, 0))).await;
        if let Ok(Ok(addresses)) = lookup {
            screen_addresses(host, addresses.collect(), policy)?;
        }
    }
    check_scheme(&parsed, policy)?;
    Ok(parsed)
}

fn parse_target(raw: &str, policy: OutboundPolicy) -> Result<url::Url, TargetRefused> {
    let parsed = url::Url::parse(raw.trim()).map_err(|e| TargetRefused::Malformed(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(TargetRefused::Scheme);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(TargetRefused::Credentials);
    }
    let address = match parsed.host() {
        None => return Err(TargetRefused::NoHost),
        Some(url::Host::Domain(_)) => None,
        Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
    };
    if let (Some(address), false) = (address, policy.allow_private) {
        if let Some(kind) = non_public_kind(address) {
            return Err(TargetRefused::NonPublicAddress { address, kind });
        }
    }
    Ok(parsed)
}

fn check_scheme(url: &url::Url, policy: OutboundPolicy) -> Result<(), TargetRefused> {
    match (url.scheme(), policy.allow_private) {
        ("https", _) | ("http", true) => Ok(()),
        ("http", false) => Err(TargetRefused::NotHttps),
        _ => Err(TargetRefused::Scheme),
    }
}

/// The addresses a name resolved to, if every one is allowed. One private address is enough to
/// refuse: the client may pick any of them.
pub fn screen_addresses(
    host: &str,
    addresses: Vec<SocketAddr>,
    policy: OutboundPolicy,
) -> Result<Vec<SocketAddr>, TargetRefused> {
    if addresses.is_empty() {
        return Err(TargetRefused::Unresolvable(host.to_string()));
    }
    if !policy.allow_private {
        for address in &addresses {
            if let Some(kind) = non_public_kind(address.ip()) {
                return Err(TargetRefused::ResolvesToNonPublic { host: host.to_string(), address: address.ip(), kind });
            }
        }
    }
    Ok(addresses)
}

/// The HTTP client's DNS resolver: the system resolver, then [`screen_addresses`].
pub struct GuardedResolver {
    pub policy: OutboundPolicy,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (host, policy) = (name.as_str().to_string(), self.policy);
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed = screen_addresses(&host, addresses, policy)?;
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The one outbound HTTP client: guarded DNS, no redirects, no proxy, bounded time. Cheap to
/// clone (the connection pool is shared).
#[derive(Clone)]
pub struct Outbound {
    policy: OutboundPolicy,
    client: reqwest::Client,
}

/// A request gives up after this long unless the caller sets its own timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl Outbound {
    pub fn new(policy: OutboundPolicy) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .dns_resolver(std::sync::Arc::new(GuardedResolver { policy }))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .https_only(!policy.allow_private)
            .connect_timeout(Duration::from_secs(5))
            .timeout(DEFAULT_TIMEOUT)
            .user_agent(concat!("Agora/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { policy, client })
    }

    pub fn policy(&self) -> OutboundPolicy {
        self.policy
    }

    /// The guarded client. Callers must still pass every URL through [`check_url`] (or
    /// [`Outbound::request`]): an IP-literal host never reaches the resolver.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// A request to `raw` after [`check_url`]: the only way a caller should start one.
    pub fn request(&self, method: reqwest::Method, raw: &str) -> Result<reqwest::RequestBuilder, TargetRefused> {
        let url = check_url(raw, self.policy)?;
        Ok(self.client.request(method, url))
    }

    /// Sends a prepared request after checking its URL.
    pub async fn send(&self, request: reqwest::Request) -> Result<reqwest::Response, OutboundError> {
        check_url(request.url().as_str(), self.policy)?;
        self.client.execute(request).await.map_err(|e| OutboundError::Failed(describe_error(&e)))
    }
}

/// Why an outbound request produced no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OutboundError {
    #[error("target refused: the URL {0}")]
    Refused(#[from] TargetRefused),
    #[error("{0}")]
    Failed(String),
}

/// An error with its causes ("error sending request …: client error (Connect): localhost
/// resolves to 127.0.0.1, a loopback address …"), since the outer message alone rarely says why.
pub fn describe_error(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}

/// `None` for a public unicast address, else what kind of non-public address it is.
pub fn non_public_kind(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => v6_kind(v6),
    }
}

/// Non-public IPv4 ranges (IANA special-purpose registry), most specific first.
const V4_RANGES: &[([u8; 4], u8, &str)] = &[
    ([255, 255, 255, 255], 32, "broadcast"),
    ([0, 0, 0, 0], 8, "unspecified (\"this network\")"),
    ([10, 0, 0, 0], 8, "private"),
    ([100, 64, 0, 0], 10, "shared (carrier-grade NAT)"),
    ([127, 0, 0, 0], 8, "loopback"),
    ([169, 254, 0, 0], 16, "link-local"),
    ([172, 16, 0, 0], 12, "private"),
    ([192, 0, 0, 0], 24, "IETF protocol assignment"),
    ([192, 0, 2, 0], 24, "documentation"),
    ([192, 88, 99, 0], 24, "6to4 relay anycast"),
    ([192, 168, 0, 0], 16, "private"),
    ([198, 18, 0, 0], 15, "benchmarking"),
    ([198, 51, 100, 0], 24, "documentation"),
    ([203, 0, 113, 0], 24, "documentation"),
    ([224, 0, 0, 0], 4, "multicast"),
    ([240, 0, 0, 0], 4, "reserved"),
];

fn v4_kind(address: Ipv4Addr) -> Option<&'static str> {
    let bits = u32::from(address);
    V4_RANGES.iter().find_map(|(network, prefix, kind)| {
        let mask = u32::MAX.checked_shl(32 - u32::from(*prefix)).unwrap_or(0);
        (bits & mask == u32::from_be_bytes(*network) & mask).then_some(*kind)
    })
}

/// How an IPv6 range is judged: refused outright, or by the IPv4 address it carries.
#[derive(Clone, Copy)]
enum V6Rule {
    Refuse(&'static str),
    /// The IPv4 address in the low 32 bits decides (IPv4-mapped, NAT64).
    EmbeddedLow,
    /// The IPv4 address in bits 16–48 decides (6to4).
    Embedded6to4,
}

/// Non-public (or IPv4-carrying) IPv6 ranges, most specific first.
const V6_RANGES: &[(u128, u8, V6Rule)] = &[
    (0, 128, V6Rule::Refuse("unspecified")),
    (1, 128, V6Rule::Refuse("loopback")),
    (0xffff_0000_0000, 96, V6Rule::EmbeddedLow),
    (0, 96, V6Rule::Refuse("IPv4-compatible (deprecated)")),
    (0x0064_ff9b_0000_0000_0000_0000_0000_0000, 96, V6Rule::EmbeddedLow),
    (0x0064_ff9b_0001_0000_0000_0000_0000_0000, 48, V6Rule::Refuse("local-use NAT64")),
    (0x0100_0000_0000_0000_0000_0000_0000_0000, 64, V6Rule::Refuse("discard-only")),
    (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32, V6Rule::Refuse("documentation")),
    (0x2001_0000_0000_0000_0000_0000_0000_0000, 23, V6Rule::Refuse("IETF protocol assignment")),
    (0x2002_0000_0000_0000_0000_0000_0000_0000, 16, V6Rule::Embedded6to4),
    (0x3fff_0000_0000_0000_0000_0000_0000_0000, 20, V6Rule::Refuse("documentation")),
    (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7, V6Rule::Refuse("private (unique local)")),
    (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10, V6Rule::Refuse("link-local")),
    (0xfec0_0000_0000_0000_0000_0000_0000_0000, 10, V6Rule::Refuse("site-local (deprecated)")),
    (0xff00_0000_0000_0000_0000_0000_0000_0000, 8, V6Rule::Refuse("multicast")),
];

fn v6_kind(address: Ipv6Addr) -> Option<&'static str> {
    let bits = u128::from(address);
    let rule = V6_RANGES.iter().find_map(|(network, prefix, rule)| {
        let mask = u128::MAX.checked_shl(128 - u32::from(*prefix)).unwrap_or(0);
        (bits & mask == network & mask).then_some(*rule)
    })?;
    // Truncating casts are the point here: they take the embedded 32 bits.
    match rule {
        V6Rule::Refuse(kind) => Some(kind),
        V6Rule::EmbeddedLow => v4_kind(Ipv4Addr::from((bits & 0xffff_ffff) as u32)),
        V6Rule::Embedded6to4 => v4_kind(Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: OutboundPolicy = OutboundPolicy { allow_private: false };
    const LENIENT: OutboundPolicy = OutboundPolicy { allow_private: true };

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn public_addresses_pass() {
        for public in
            ["8.8.8.8", "1.1.1.1", "93.184.216.34", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "2a00:1450::1"]
        {
            assert_eq!(non_public_kind(ip(public)), None, "{public}");
        }
    }

    #[test]
    fn non_public_addresses_are_named() {
        let cases = [
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("10.0.0.1", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("100.64.0.1", "shared (carrier-grade NAT)"),
            ("0.0.0.0", "unspecified (\"this network\")"),
            ("255.255.255.255", "broadcast"),
            ("224.0.0.1", "multicast"),
            ("192.0.2.10", "documentation"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.5", "documentation"),
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("fe80::1", "link-local"),
            ("fc00::1", "private (unique local)"),
            ("fd12:3456::1", "private (unique local)"),
            ("ff02::1", "multicast"),
            ("2001:db8::1", "documentation"),
            // IPv4 addresses smuggled inside IPv6 are judged by the IPv4 address.
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "link-local"),
            ("::ffff:10.1.2.3", "private"),
            ("64:ff9b::7f00:1", "loopback"),
            ("2002:c0a8:0101::1", "private"),
        ];
        for (address, kind) in cases {
            assert_eq!(non_public_kind(ip(address)), Some(kind), "{address}");
        }
        assert_eq!(non_public_kind(ip("::ffff:8.8.8.8")), None);
    }

    #[test]
    fn urls_are_checked_before_any_lookup() {
        for (url, expected) in [
            ("http://example.com/hook", TargetRefused::NotHttps),
            ("ftp://example.com/hook", TargetRefused::Scheme),
            ("https://user:pw@example.com/hook", TargetRefused::Credentials),
        ] {
            assert_eq!(check_url(url, STRICT).err(), Some(expected), "{url}");
        }
        for url in [
            "https://127.0.0.1/hook",
            "https://[::1]/hook",
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.1/",
            "https://[::ffff:127.0.0.1]/",
            // WHATWG parsing turns these spellings into 127.0.0.1, as the client would.
            "https://2130706433/",
            "https://0x7f.0.0.1/",
            "https://127.1/",
            // The address is named even when the scheme is wrong too.
            "http://127.0.0.1:8080/hook",
            "http://[::1]/",
            "http://169.254.169.254/",
        ] {
            assert!(
                matches!(check_url(url, STRICT), Err(TargetRefused::NonPublicAddress { .. })),
                "{url} must be refused"
            );
        }
        assert!(matches!(check_url("not a url", STRICT), Err(TargetRefused::Malformed(_))));
        assert!(check_url("https://hooks.example.com/agora", STRICT).is_ok());
        assert!(check_url("http://127.0.0.1:9000/hook", LENIENT).is_ok());
    }

    #[test]
    fn resolved_addresses_must_all_be_public() {
        let public: SocketAddr = "93.184.216.34:0".parse().unwrap();
        let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let metadata: SocketAddr = "[::ffff:169.254.169.254]:0".parse().unwrap();
        assert_eq!(screen_addresses("hooks.example.com", vec![public], STRICT), Ok(vec![public]));
        // A name resolving to a mix (a rebinding attacker's favourite) is refused as a whole.
        let refused = screen_addresses("rebind.example.com", vec![public, loopback], STRICT).unwrap_err();
        assert!(refused.to_string().contains("127.0.0.1, a loopback address"), "{refused}");
        assert!(matches!(
            screen_addresses("meta.example.com", vec![metadata], STRICT),
            Err(TargetRefused::ResolvesToNonPublic { kind: "link-local", .. })
        ));
        assert_eq!(screen_addresses("dev.local", vec![loopback], LENIENT), Ok(vec![loopback]));
        assert!(matches!(screen_addresses("nowhere", vec![], STRICT), Err(TargetRefused::Unresolvable(_))));
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_of_private_addresses() {
        use reqwest::dns::Resolve;
        let guarded = GuardedResolver { policy: STRICT };
        let refused = match guarded.resolve("localhost".parse().unwrap()).await {
            Ok(addresses) => panic!("localhost resolved to {:?}", addresses.collect::<Vec<_>>()),
            Err(e) => e.to_string(),
        };
        assert!(refused.contains("loopback"), "{refused}");
        let lenient = GuardedResolver { policy: LENIENT };
        assert!(lenient.resolve("localhost".parse().unwrap()).await.is_ok());
    }

    #[tokio::test]
    async fn the_client_never_connects_to_a_private_name() {
        // Something listens on loopback; the guarded client must not reach it by name.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let outbound = Outbound::new(STRICT).unwrap();
        let request = outbound.request(reqwest::Method::POST, &format!("https://localhost:{port}/hook")).unwrap();
        let error = request.send().await.unwrap_err();
        let chain = describe_error(&error);
        assert!(chain.contains("loopback"), "{chain}");
        let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
        assert!(accepted.is_err(), "no connection was made");
    }
}
