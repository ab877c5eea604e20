//! Typed configuration, loaded once: an optional TOML file, then environment variables, then
//! command-line flags. Every bad value is reported with the name of the setting that holds it.
//!
//! Each module owns its settings (`agora_identity::IdentitySettings`,
//! `agora_notifications::MailSettings`, `agora_webhooks::WebhookSettings`, the kernel's
//! `WorkerSettings`, `StorageSettings`, `OutboundPolicy`) and reads them itself through `agora_kernel::settings::Settings`; [`Config`]
//! composes them with the settings of the binary itself (addresses, pools, logging). A module's
//! settings may sit in their own TOML section (`[webhooks]` `retry_base_ms = …`).

use agora_identity::IdentitySettings;
use agora_kernel::http::TrustedProxies;
use agora_kernel::jobs::WorkerSettings;
use agora_kernel::outbound::OutboundPolicy;
use agora_kernel::settings::{range, Settings, Source};
use agora_kernel::storage::StorageSettings;
use agora_notifications::MailSettings;
use agora_webhooks::WebhookSettings;
use secrecy::SecretString;
use std::path::{Path, PathBuf};

pub use agora_kernel::settings::{Env, ProcessEnv, SettingsError as ConfigError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// JSON when stdout is not a terminal, pretty when it is.
    Auto,
    Json,
    Pretty,
}

#[derive(Clone)]
pub struct Config {
    /// External PostgreSQL; `None` = the embedded cluster under `data_dir`.
    pub database_url: Option<SecretString>,
    /// Redis for cache and rate limits shared by replicas; `None` = in-process.
    pub redis_url: Option<SecretString>,
    /// Prefix of every Redis key, so deployments can share a Redis server.
    pub redis_namespace: String,
    pub data_dir: PathBuf,
    pub bind: String,
    /// Shops answer at `<slug>.<base_domain>`.
    pub base_domain: String,
    /// Where shops are reached from outside, as `scheme://host[:port]`, `{slug}` standing for a
    /// shop's slug (`https://{slug}.shops.example.com`); without `{slug}`, every shop is reached
    /// at this one URL (shops told apart by `X-Tenant-ID`: local development, API-only use). The
    /// base of every absolute link Agora writes for a shop without a primary domain (emails,
    /// sign-in redirects): links never come from a request's headers. Unset:
    /// `https://<slug>.<base_domain>`, or over plain http (`AGORA_SECURE_COOKIES=false`)
    /// `http://<slug>.<base_domain>:<port of AGORA_BIND>`.
    pub public_url: Option<String>,
    /// Bootstrap secret: creates the first platform operator over HTTP while none exists.
    pub platform_token: Option<SecretString>,
    /// Identity's: the key signing access tokens and sealing secrets (`AGORA_TOKEN_KEY`, at
    /// least 32 characters; replicas must share it; unset = the key kept in the data directory,
    /// see [`Config::with_kept_token_key`]) and the one it replaced (`AGORA_TOKEN_KEY_PREVIOUS`),
    /// `Secure` cookies (`AGORA_SECURE_COOKIES`; off only to develop over plain http, which also
    /// makes shop links `http`), the password-hashing queue (`AGORA_PASSWORD_HASHING_QUEUE`).
    pub identity: IdentitySettings,
    pub db_pool_size: usize,
    /// actix worker threads (0 = one per core).
    pub http_workers: usize,
    /// Background job workers in this process (`concurrency` 0 = web only: `AGORA_WORKERS`) and
    /// their lease (`AGORA_JOB_LEASE_SECS`).
    pub jobs: WorkerSettings,
    pub max_body_bytes: usize,
    pub rate_limit_client_per_minute: u64,
    pub rate_limit_tenant_per_minute: u64,
    /// Networks of the reverse proxies whose `X-Forwarded-For` entries are believed; empty =
    /// the peer address is the client.
    pub trusted_proxies: TrustedProxies,
    /// Said once the logger is up: settings that still work but should be changed.
    pub deprecations: Vec<String>,
    pub log_format: LogFormat,
    /// OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces; off when unset.
    pub otlp_endpoint: Option<String>,
    pub shutdown_timeout_secs: u64,
    pub migrate_concurrency: usize,
    /// Outgoing mail (`AGORA_SMTP_URL`: `smtp://host:port` (STARTTLS when offered), `smtps://…`
    /// (TLS), optionally with `user:password@`; unset = mail is kept in each shop's outbox
    /// mailbox) and the sender of platform mail (`AGORA_MAIL_FROM`).
    pub mail: MailSettings,
    /// Whether outbound calls (webhooks, OIDC discovery and token calls, …) may reach loopback,
    /// link-local and private addresses over plain http (`AGORA_OUTBOUND_ALLOW_PRIVATE`).
    pub outbound: OutboundPolicy,
    /// Webhook delivery: first retry's wait (`AGORA_WEBHOOKS_RETRY_BASE_MS`), when a failing
    /// endpoint is disabled (`AGORA_WEBHOOKS_DISABLE_AFTER_SECS`).
    pub webhooks: WebhookSettings,
    /// The embedded PostgreSQL exiting this many times within a minute (a full disk, a damaged
    /// data directory) makes agora stop restarting it and exit non-zero.
    pub embedded_pg_max_exits: usize,
    /// Serve `/metrics` only on this address (e.g. an internal interface), not on `bind`.
    pub metrics_bind: Option<String>,
    /// Require `Authorization: Bearer <token>` on `/metrics` (at least 16 characters).
    pub metrics_token: Option<SecretString>,
    /// Where files (product media, exports) are kept: `AGORA_STORAGE_URL` `file:///dir` (default
    /// `<data dir>/files`) or `s3://bucket` with `AGORA_S3_ENDPOINT`, `AGORA_S3_REGION`,
    /// `AGORA_S3_ACCESS_KEY_ID` and `AGORA_S3_SECRET_ACCESS_KEY`.
    pub storage: StorageSettings,
    /// `AGORA_FRONTEND_DIR`: serve the web apps from this directory (laid out like
    /// `frontend/dist`) instead of the copy built into the binary; for working on the apps
    /// without rebuilding Rust.
    pub frontend_dir: Option<PathBuf>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never print; only whether they are set.
        f.debug_struct("Config")
            .field("database_url", &self.database_url.as_ref().map(|_| "<set>"))
            .field("redis_url", &self.redis_url.as_ref().map(|_| "<set>"))
            .field("data_dir", &self.data_dir)
            .field("bind", &self.bind)
            .field("base_domain", &self.base_domain)
            .field("platform_token", &self.platform_token.as_ref().map(|_| "<set>"))
            .field("token_key", &self.identity.token_key.as_ref().map(|_| "<set>"))
            .field("token_key_previous", &self.identity.token_key_previous.as_ref().map(|_| "<set>"))
            .field("metrics_bind", &self.metrics_bind)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "<set>"))
            .field("db_pool_size", &self.db_pool_size)
            .field("workers", &self.jobs.concurrency)
            .finish_non_exhaustive()
    }
}

/// The binary's own settings a TOML file may hold: the environment variables' names,
/// lower-case, without the `AGORA_` prefix. Modules' keys come from their `Settings::KEYS`.
const FILE_KEYS: &[&str] = &[
    "database_url",
    "redis_url",
    "redis_namespace",
    "data_dir",
    "bind",
    "base_domain",
    "public_url",
    "platform_token",
    "db_pool_size",
    "http_workers",
    "max_body_bytes",
    "rate_limit_client_per_minute",
    "rate_limit_tenant_per_minute",
    "trusted_proxies",
    "trust_forwarded_for",
    "log_format",
    "otlp_endpoint",
    "shutdown_timeout_secs",
    "migrate_concurrency",
    "embedded_pg_max_exits",
    "metrics_bind",
    "metrics_token",
    "frontend_dir",
];

/// Every key a module reads, for refusing a file key nobody reads.
const MODULE_KEYS: &[&[&str]] = &[
    WorkerSettings::KEYS,
    StorageSettings::KEYS,
    OutboundPolicy::KEYS,
    IdentitySettings::KEYS,
    MailSettings::KEYS,
    WebhookSettings::KEYS,
];

impl Config {
    /// Loads from `file` (if any) and the environment.
    pub fn load(file: Option<&Path>, env: &dyn Env) -> Result<Self, ConfigError> {
        let file_path = file;
        let file: toml::Table = match file {
            None => toml::Table::new(),
            Some(path) => {
                let failed = |cause: String| ConfigError::File { path: path.display().to_string(), cause };
                let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
                toml::from_str(&text).map_err(|e| failed(e.to_string()))?
            }
        };
        let failed = |cause: String| ConfigError::File {
            path: file_path.map(|p| p.display().to_string()).unwrap_or_default(),
            cause,
        };
        let src = Source::new(file, env).map_err(failed)?;
        let known = |key: &str| FILE_KEYS.contains(&key) || MODULE_KEYS.iter().any(|keys| keys.contains(&key));
        if let Some(unknown) = src.file_keys().find(|k| !known(k)) {
            return Err(failed(format!("unknown setting `{}`", src.spelled(unknown))));
        }

        let database_url = src.raw("DATABASE_URL").map(|(v, _)| SecretString::from(v));
        let redis_url = match src.raw("REDIS_URL") {
            Some((v, name))
                if !(v.starts_with("redis://") || v.starts_with("rediss://") || v.starts_with("unix://")) =>
            {
                return Err(ConfigError::Invalid {
                    name,
                    value: "<hidden>".into(),
                    message: "must start with redis://, rediss:// or unix://".into(),
                })
            }
            other => other.map(|(v, _)| SecretString::from(v)),
        };
        let public_url = match src.raw("AGORA_PUBLIC_URL") {
            Some((v, name)) => Some(parse_public_url(&v).ok_or_else(|| ConfigError::Invalid {
                name,
                value: v.clone(),
                message: "expected http(s)://host[:port] without path, e.g. https://{slug}.shops.example.com".into(),
            })?),
            None => None,
        };
        let redis_namespace = match src.raw("AGORA_REDIS_NAMESPACE") {
            Some((v, name)) if v.is_empty() || v.len() > 64 || v.contains(char::is_whitespace) => {
                return Err(ConfigError::Invalid { name, value: v, message: "1–64 characters without spaces".into() })
            }
            Some((v, _)) => v,
            None => "agora".into(),
        };
        let data_dir = PathBuf::from(
            src.raw("AGORA_DATA_DIR").map_or_else(|| agora_kernel::storage::DEFAULT_DATA_DIR.into(), |(v, _)| v),
        );
        let bind = match src.raw("AGORA_BIND") {
            Some((v, name)) => {
                if v.parse::<std::net::SocketAddr>().is_err() {
                    return Err(ConfigError::Invalid {
                        name,
                        value: v,
                        message: "expected an address and port such as 127.0.0.1:8080".into(),
                    });
                }
                v
            }
            None => "127.0.0.1:8080".into(),
        };
        let base_domain = match src.raw("AGORA_BASE_DOMAIN") {
            Some((v, name)) => {
                let v = v.trim().trim_matches('.').to_ascii_lowercase();
                if v.is_empty() || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-') {
                    return Err(ConfigError::Invalid {
                        name,
                        value: v,
                        message: "expected a domain such as shops.example.com".into(),
                    });
                }
                v
            }
            None => "localhost".into(),
        };
        let platform_token = match src.raw("AGORA_PLATFORM_TOKEN") {
            Some((v, name)) if v.len() < 16 => {
                return Err(ConfigError::Invalid {
                    name,
                    value: "<hidden>".into(),
                    message: "must be at least 16 characters".into(),
                })
            }
            other => other.map(|(v, _)| SecretString::from(v)),
        };
        let metrics_bind = match src.raw("AGORA_METRICS_BIND") {
            Some((v, name)) if v.parse::<std::net::SocketAddr>().is_err() => {
                return Err(ConfigError::Invalid {
                    name,
                    value: v,
                    message: "expected an address and port such as 10.0.0.5:9100".into(),
                })
            }
            other => other.map(|(v, _)| v),
        };
        let metrics_token = match src.raw("AGORA_METRICS_TOKEN") {
            Some((v, name)) if v.len() < 16 => {
                return Err(ConfigError::Invalid {
                    name,
                    value: "<hidden>".into(),
                    message: "must be at least 16 characters".into(),
                })
            }
            other => other.map(|(v, _)| SecretString::from(v)),
        };
        let log_format = match src.raw("AGORA_LOG_FORMAT") {
            None => LogFormat::Auto,
            Some((v, name)) => match v.as_str() {
                "auto" => LogFormat::Auto,
                "json" => LogFormat::Json,
                "pretty" => LogFormat::Pretty,
                _ => return Err(ConfigError::Invalid { name, value: v, message: "one of auto, json, pretty".into() }),
            },
        };
        let otlp_endpoint = match src.raw("AGORA_OTLP_ENDPOINT") {
            Some((v, name)) if !(v.starts_with("http://") || v.starts_with("https://")) => {
                return Err(ConfigError::Invalid { name, value: v, message: "expected an http(s) URL".into() })
            }
            other => other.map(|(v, _)| v),
        };
        let (trusted_proxies, deprecations) = trusted_proxies(&src)?;
        let storage = StorageSettings::load(&src)?;
        let frontend_dir = match src.raw("AGORA_FRONTEND_DIR") {
            Some((v, name)) if !Path::new(&v).is_dir() => {
                return Err(ConfigError::Invalid { name, value: v, message: "expected an existing directory".into() })
            }
            other => other.map(|(v, _)| PathBuf::from(v)),
        };
        Ok(Config {
            database_url,
            redis_url,
            redis_namespace,
            data_dir,
            bind,
            base_domain,
            public_url,
            platform_token,
            identity: IdentitySettings::load(&src)?,
            db_pool_size: src.parsed("AGORA_DB_POOL_SIZE", 16, range(1, 1000))?,
            http_workers: src.parsed("AGORA_HTTP_WORKERS", 0, range(0, 1024))?,
            jobs: WorkerSettings::load(&src)?,
            max_body_bytes: src.parsed("AGORA_MAX_BODY_BYTES", 1024 * 1024, range(1024, 1024 * 1024 * 1024))?,
            rate_limit_client_per_minute: src.parsed("AGORA_RATE_LIMIT_CLIENT_PER_MINUTE", 6000, range(0, u64::MAX))?,
            rate_limit_tenant_per_minute: src.parsed(
                "AGORA_RATE_LIMIT_TENANT_PER_MINUTE",
                600_000,
                range(0, u64::MAX),
            )?,
            trusted_proxies,
            deprecations,
            log_format,
            otlp_endpoint,
            shutdown_timeout_secs: src.parsed("AGORA_SHUTDOWN_TIMEOUT_SECS", 30, range(1, 3600))?,
            migrate_concurrency: src.parsed("AGORA_MIGRATE_CONCURRENCY", 4, range(1, 64))?,
            mail: MailSettings::load(&src)?,
            outbound: OutboundPolicy::load(&src)?,
            webhooks: WebhookSettings::load(&src)?,
            embedded_pg_max_exits: src.parsed("AGORA_EMBEDDED_PG_MAX_EXITS", 5, range(1, 1000))?,
            metrics_bind,
            metrics_token,
            storage,
            frontend_dir,
        })
    }
}

/// `AGORA_TRUSTED_PROXIES`, or the deprecated `AGORA_TRUST_FORWARDED_FOR`: `true` meant "believe
/// X-Forwarded-For", which is only sound for a proxy on this machine, so it now means loopback
/// proxies (with a warning); `false` was the default and changes nothing. Setting both is refused.
fn trusted_proxies(src: &Source<'_>) -> Result<(TrustedProxies, Vec<String>), ConfigError> {
    let old: Option<bool> = match src.raw("AGORA_TRUST_FORWARDED_FOR") {
        Some(_) => Some(src.parsed("AGORA_TRUST_FORWARDED_FOR", false, |_| Ok(()))?),
        None => None,
    };
    match (src.raw("AGORA_TRUSTED_PROXIES"), old) {
        (Some((_, name)), Some(_)) => Err(ConfigError::Invalid {
            name,
            value: "<both set>".into(),
            message: "AGORA_TRUST_FORWARDED_FOR is replaced by AGORA_TRUSTED_PROXIES; remove it".into(),
        }),
        (Some((v, name)), None) => {
            let proxies =
                TrustedProxies::parse(&v).map_err(|message| ConfigError::Invalid { name, value: v, message })?;
            Ok((proxies, Vec::new()))
        }
        (None, Some(true)) => Ok((
            TrustedProxies::loopback(),
            vec!["AGORA_TRUST_FORWARDED_FOR is deprecated: it now trusts X-Forwarded-For from loopback proxies only; \
                  set AGORA_TRUSTED_PROXIES to your proxies' networks instead"
                .into()],
        )),
        (None, Some(false)) => Ok((
            TrustedProxies::default(),
            vec!["AGORA_TRUST_FORWARDED_FOR is deprecated and ignored; see AGORA_TRUSTED_PROXIES".into()],
        )),
        (None, None) => Ok((TrustedProxies::default(), Vec::new())),
    }
}

/// Where a process without `AGORA_TOKEN_KEY` keeps the key it made (inside the data directory).
pub const KEPT_TOKEN_KEY_FILE: &str = "token-key";

impl Config {
    /// Without `AGORA_TOKEN_KEY`: the key made on the first run and kept in the data directory,
    /// readable by its owner only. Tokens and sealed secrets (authenticator seeds, webhook and
    /// OIDC secrets) then outlive a restart, as a single-node install expects; replicas must
    /// still be given one shared key, which is said when the database is not the embedded one.
    pub fn with_kept_token_key(mut self) -> Result<Self, ConfigError> {
        if self.identity.token_key.is_some() {
            return Ok(self);
        }
        let path = self.data_dir.join(KEPT_TOKEN_KEY_FILE);
        let failed =
            |cause: std::io::Error| ConfigError::File { path: path.display().to_string(), cause: cause.to_string() };
        std::fs::create_dir_all(&self.data_dir).map_err(failed)?;
        let key = match read_kept_key(&path) {
            Some(key) => key,
            None => {
                use std::io::Write;
                use std::os::unix::fs::OpenOptionsExt;
                let key = agora_identity::tokens::random_token(32);
                // create_new: of two processes starting at once, one writes and both read its key.
                match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
                    Ok(mut file) => file.write_all(key.as_bytes()).and_then(|()| file.sync_all()).map_err(failed)?,
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(failed(e)),
                }
                read_kept_key(&path).ok_or_else(|| failed(std::io::Error::other("the key file is empty")))?
            }
        };
        if self.database_url.is_some() {
            tracing::warn!(
                path = %path.display(),
                "AGORA_TOKEN_KEY is not set: using the key kept in the data directory; replicas must share one AGORA_TOKEN_KEY"
            );
        } else {
            tracing::info!(path = %path.display(), "AGORA_TOKEN_KEY is not set: using the key kept in the data directory");
        }
        self.identity.token_key = Some(SecretString::from(key));
        Ok(self)
    }
}

/// `scheme://host[:port]` with scheme http or https and nothing after the authority but an
/// optional `/`; `{slug}` may stand in the host.
fn parse_public_url(raw: &str) -> Option<String> {
    let raw = raw.trim().trim_end_matches('/');
    let (scheme, authority) = raw.split_once("://")?;
    let host_chars = |c: char| c.is_ascii_alphanumeric() || ".-:[]{}".contains(c);
    let valid = matches!(scheme, "http" | "https")
        && !authority.is_empty()
        && authority.chars().all(host_chars)
        && authority.replace("{slug}", "x").chars().all(|c| c != '{' && c != '}');
    valid.then(|| format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

impl Config {
    /// The scheme shop links use.
    pub fn public_scheme(&self) -> &str {
        match &self.public_url {
            Some(url) => url.split_once("://").map_or("https", |(scheme, _)| scheme),
            None if self.identity.secure_cookies => "https",
            None => "http",
        }
    }

    /// The base URL of shop `slug` when it has no primary domain (see `public_url`).
    pub fn shop_url(&self, slug: &str) -> String {
        match &self.public_url {
            Some(url) => url.replace("{slug}", slug),
            None if self.identity.secure_cookies => format!("https://{slug}.{}", self.base_domain),
            None => {
                let port = self.bind.rsplit(':').next().unwrap_or("80");
                format!("http://{slug}.{}:{port}", self.base_domain)
            }
        }
    }
}

fn read_kept_key(path: &std::path::Path) -> Option<String> {
    let key = std::fs::read_to_string(path).ok()?.trim().to_string();
    (key.len() >= 32).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn shop_links_come_from_the_public_url() {
        let load = |pairs: &[(&str, &str)]| {
            let env: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            Config::load(None, &env)
        };
        let c = load(&[("AGORA_PUBLIC_URL", "https://{slug}.Shops.example.com/")]).unwrap();
        assert_eq!(c.shop_url("acme"), "https://acme.shops.example.com");
        let c = load(&[("AGORA_PUBLIC_URL", "http://127.0.0.1:8080")]).unwrap();
        assert_eq!(c.shop_url("acme"), "http://127.0.0.1:8080", "one address for every shop");
        assert_eq!(c.public_scheme(), "http");
        let c = load(&[("AGORA_BASE_DOMAIN", "shops.test")]).unwrap();
        assert_eq!(c.shop_url("acme"), "https://acme.shops.test");
        let c = load(&[("AGORA_SECURE_COOKIES", "false"), ("AGORA_BIND", "127.0.0.1:9000")]).unwrap();
        assert_eq!(c.shop_url("acme"), "http://acme.localhost:9000");
        for bad in
            ["shops.example.com", "ftp://x.test", "https://x.test/path", "https://x.test?q=1", "https://{oops}.x"]
        {
            assert!(load(&[("AGORA_PUBLIC_URL", bad)]).is_err(), "{bad}");
        }
    }

    #[test]
    fn file_storage_is_a_directory_under_the_data_dir_unless_an_s3_bucket_is_named() {
        let c = Config::load(None, &env(&[("AGORA_DATA_DIR", "/srv/agora")])).unwrap();
        assert!(matches!(&c.storage, StorageSettings::Local { root } if root == Path::new("/srv/agora/files")));
        let c = Config::load(None, &env(&[("AGORA_STORAGE_URL", "file:///mnt/media")])).unwrap();
        assert!(matches!(&c.storage, StorageSettings::Local { root } if root == Path::new("/mnt/media")));
        let s3 = [
            ("AGORA_STORAGE_URL", "s3://shop-media"),
            ("AGORA_S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("AGORA_S3_ACCESS_KEY_ID", "key"),
            ("AGORA_S3_SECRET_ACCESS_KEY", "very-secret-value"),
        ];
        let c = Config::load(None, &env(&s3)).unwrap();
        let StorageSettings::S3(settings) = &c.storage else { panic!("s3 expected") };
        assert_eq!(
            (settings.bucket.as_str(), settings.endpoint.as_deref(), settings.region.as_str()),
            ("shop-media", Some("http://127.0.0.1:9000"), "us-east-1")
        );
        let err = Config::load(None, &env(&s3[..3])).err().unwrap().to_string();
        assert!(err.contains("AGORA_S3_SECRET_ACCESS_KEY"), "{err}");
        for bad in ["files", "file://relative/dir", "s3://A", "ftp://x"] {
            let err = Config::load(None, &env(&[("AGORA_STORAGE_URL", bad)])).err().unwrap().to_string();
            assert!(err.contains("AGORA_STORAGE_URL"), "{bad}: {err}");
        }
        let err =
            Config::load(None, &env(&[("AGORA_STORAGE_URL", "s3://shop-media"), ("AGORA_S3_ENDPOINT", "minio:9000")]))
                .err()
                .unwrap()
                .to_string();
        assert!(err.contains("AGORA_S3_ENDPOINT"), "{err}");
    }

    #[test]
    fn identity_reads_its_own_settings_under_the_same_names() {
        let c = Config::load(None, &env(&[])).unwrap();
        assert!(c.identity.token_key.is_none() && c.identity.secure_cookies);
        let file = std::env::temp_dir().join(format!("agora-identity-{}.toml", uuid::Uuid::now_v7()));
        std::fs::write(&file, "password_hashing_queue = 7\n").unwrap();
        let key = "k".repeat(32);
        let c = Config::load(Some(&file), &env(&[("AGORA_SECURE_COOKIES", "false"), ("AGORA_TOKEN_KEY", &key)]));
        std::fs::remove_file(&file).unwrap();
        let c = c.unwrap();
        assert!(!c.identity.secure_cookies);
        assert_eq!(c.identity.hashing_queue, 7, "read from the file");
        assert!(c.identity.token_key.is_some());
        let err = Config::load(None, &env(&[("AGORA_TOKEN_KEY", "too-short-a-key")])).err().unwrap().to_string();
        assert!(
            err.contains("AGORA_TOKEN_KEY") && !err.contains("too-short-a-key"),
            "secret must not be echoed: {err}"
        );
        let err = Config::load(None, &env(&[("AGORA_PASSWORD_HASHING_QUEUE", "lots")])).err().unwrap().to_string();
        assert!(err.contains("AGORA_PASSWORD_HASHING_QUEUE"), "{err}");
    }

    #[test]
    fn defaults() {
        let c = Config::load(None, &env(&[])).unwrap();
        assert_eq!(c.bind, "127.0.0.1:8080");
        assert_eq!(c.base_domain, "localhost");
        assert!(c.database_url.is_none());
        assert_eq!(c.db_pool_size, 16);
    }

    #[test]
    fn bad_values_name_the_setting() {
        let err = Config::load(None, &env(&[("AGORA_DB_POOL_SIZE", "lots")])).err().unwrap().to_string();
        assert!(err.contains("AGORA_DB_POOL_SIZE"), "{err}");
        let err = Config::load(None, &env(&[("AGORA_BIND", "localhost")])).err().unwrap().to_string();
        assert!(err.contains("AGORA_BIND"), "{err}");
        let err = Config::load(None, &env(&[("AGORA_PLATFORM_TOKEN", "short")])).err().unwrap().to_string();
        assert!(err.contains("AGORA_PLATFORM_TOKEN") && !err.contains("short"), "secret must not be echoed: {err}");
    }

    #[test]
    fn trusted_proxies_replace_trust_forwarded_for() {
        let c = Config::load(None, &env(&[])).unwrap();
        assert!(c.trusted_proxies.is_empty() && c.deprecations.is_empty(), "default: the peer address only");
        let c = Config::load(None, &env(&[("AGORA_TRUSTED_PROXIES", "10.0.0.0/8, fd00::/8")])).unwrap();
        assert_eq!(c.trusted_proxies.networks().len(), 2);
        let err = Config::load(None, &env(&[("AGORA_TRUSTED_PROXIES", "10.0.0.0/40")])).err().unwrap().to_string();
        assert!(err.contains("AGORA_TRUSTED_PROXIES"), "{err}");
        let c = Config::load(None, &env(&[("AGORA_TRUST_FORWARDED_FOR", "true")])).unwrap();
        assert_eq!(c.trusted_proxies.networks().len(), 2, "loopback v4 and v6");
        assert_eq!(c.deprecations.len(), 1);
        let both = env(&[("AGORA_TRUST_FORWARDED_FOR", "true"), ("AGORA_TRUSTED_PROXIES", "10.0.0.0/8")]);
        assert!(Config::load(None, &both).is_err());
    }

    #[test]
    fn file_then_env() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agora.toml");
        std::fs::write(&path, "bind = \"0.0.0.0:9000\"\ndb_pool_size = 7\n").unwrap();
        let c = Config::load(Some(&path), &env(&[])).unwrap();
        assert_eq!((c.bind.as_str(), c.db_pool_size), ("0.0.0.0:9000", 7));
        let c = Config::load(Some(&path), &env(&[("AGORA_DB_POOL_SIZE", "9")])).unwrap();
        assert_eq!(c.db_pool_size, 9);
        std::fs::write(&path, "db_pool_size = 0\n").unwrap();
        let err = Config::load(Some(&path), &env(&[])).err().unwrap().to_string();
        assert!(err.contains("db_pool_size (config file)"), "{err}");
        std::fs::write(&path, "no_such_setting = 1\n").unwrap();
        assert!(Config::load(Some(&path), &env(&[])).is_err());
    }

    #[test]
    fn modules_read_their_own_settings_flat_or_in_their_section() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agora.toml");
        let load = |text: &str| {
            std::fs::write(&path, text).unwrap();
            Config::load(Some(&path), &env(&[]))
        };
        let c = load("[webhooks]\nretry_base_ms = 250\n").unwrap();
        assert_eq!(c.webhooks.retry_base, std::time::Duration::from_millis(250));
        let c = load("webhooks_retry_base_ms = 300\nworkers = 2\nmail_from = \"shop@example.com\"\n").unwrap();
        assert_eq!(c.webhooks.retry_base, std::time::Duration::from_millis(300));
        assert_eq!((c.jobs.concurrency, c.mail.from.as_str()), (2, "shop@example.com"));
        let err = load("[webhooks]\nretry_base_ms = 0\n").err().unwrap().to_string();
        assert!(err.contains("webhooks.retry_base_ms (config file)"), "{err}");
        let err = load("[webhooks]\nno_such = 1\n").err().unwrap().to_string();
        assert!(err.contains("webhooks.no_such"), "{err}");
        let err = load("webhooks_retry_base_ms = 1\n[webhooks]\nretry_base_ms = 2\n").err().unwrap().to_string();
        assert!(err.contains("twice"), "{err}");
        let err = Config::load(None, &env(&[("AGORA_SMTP_URL", "mail.example.com")])).err().unwrap().to_string();
        assert!(err.contains("AGORA_SMTP_URL") && err.contains("smtp://"), "{err}");
        let c = Config::load(None, &env(&[("AGORA_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true")])).unwrap();
        assert!(c.outbound.allow_private, "the older name still works");
    }
}
