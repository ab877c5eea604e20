//! Delivering recorded emails: the `notifications.deliver_email` job and the SMTP mailer.
//!
//! A delivery decides what to do in one short transaction, talks to the SMTP server with no
//! transaction open, then records the outcome in another. A crash between the server accepting
//! an email and the outcome being recorded sends it again on the retry; the email keeps its
//! Message-ID (derived from its id), so such a duplicate is recognisable.

use crate::store::{self, Delivery};
use crate::{MailSettings, Message, NotificationsError};
use agora_kernel::jobs::{Job, JobContext, JobError, JobRegistry};
use agora_kernel::Acting;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// How long one SMTP conversation may take before the attempt counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Delivers one recorded email. The payload is only the email's id: what to send is in the
/// email's row, and how to send it (the SMTP server and its credentials) never goes into the
/// job table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DeliverEmail {
    pub message_id: uuid::Uuid,
}

impl Job for DeliverEmail {
    const KIND: &'static str = "notifications.deliver_email";
    /// With the kernel's backoff (1 s, 2 s, 4 s, … capped at an hour) 16 attempts span about
    /// four hours, which rides out a mail server's maintenance window. An email that still
    /// fails is marked `failed` and stays in the mailbox, where a merchant can send it again.
    const MAX_ATTEMPTS: i32 = 16;

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        deliver(self.message_id, ctx).await
    }
}

/// Hands the delivery job this module's mailer (the kernel gives it to the job as a resource,
/// so the SMTP transport and its credentials never go into the job table).
pub(crate) fn register(mailer: Arc<Mailer>, jobs: &mut JobRegistry) {
    jobs.provide(mailer);
    jobs.register::<DeliverEmail>();
}

/// Sends email over SMTP, or says there is no server to send to.
pub(crate) struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    /// Opens the recipient's copy of an email that carries one-time links.
    sealer: agora_kernel::sealing::Sealer,
}

/// A failed attempt: `permanent` when retrying cannot help (the server refused the recipient).
struct Failure {
    message: String,
    permanent: bool,
}

impl Mailer {
    pub(crate) fn new(
        settings: &MailSettings,
        sealer: agora_kernel::sealing::Sealer,
    ) -> Result<Self, NotificationsError> {
        let from: Mailbox = settings.from.parse().map_err(|e| {
            NotificationsError::Settings(format!("AGORA_MAIL_FROM {:?} is not a sender address: {e}", settings.from))
        })?;
        let transport = settings.smtp_url.as_ref().map(|url| smtp_transport(url.expose_secret())).transpose()?;
        Ok(Self { transport, from, sealer })
    }

    /// The From of every email, as recorded with it.
    pub(crate) fn sender(&self) -> String {
        self.from.to_string()
    }

    async fn send(&self, message: &Message) -> Result<String, Failure> {
        let Some(transport) = &self.transport else {
            return Err(Failure { message: "no SMTP server is configured".into(), permanent: false });
        };
        let email = compose(message).map_err(|message| Failure { message, permanent: true })?;
        match transport.send(email).await {
            Ok(response) => {
                Ok(format!("{} {}", response.code(), response.first_line().unwrap_or_default()).trim().to_string())
            }
            Err(e) => Err(Failure { permanent: refused_for_good(&e), message: e.to_string() }),
        }
    }
}

/// Builds the transport from the SMTP URL. lettre reads host, port, credentials and `?tls=`;
/// a plain `smtp://` URL here means STARTTLS whenever the server offers it (lettre's own reading
/// would be never), so credentials do not cross the network in clear text when they need not.
fn smtp_transport(url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, NotificationsError> {
    // lettre's errors describe the problem without repeating the URL, which may hold a password.
    let invalid = |e: lettre::transport::smtp::Error| NotificationsError::Settings(format!("AGORA_SMTP_URL: {e}"));
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(invalid)?;
    if url.starts_with("smtp://") && !url.contains("tls=") {
        let host = host_of(url).ok_or_else(|| NotificationsError::Settings("AGORA_SMTP_URL names no host".into()))?;
        builder = builder.tls(Tls::Opportunistic(TlsParameters::new(host.to_string()).map_err(invalid)?));
    }
    Ok(builder.timeout(Some(SMTP_TIMEOUT)).build())
}

/// The host of `scheme://[user[:password]@]host[:port][/…][?…]`.
fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => host_port.split(':').next()?,
    };
    (!host.is_empty()).then_some(host)
}

/// SMTP 5xx replies that retrying cannot change: the recipient or the message is refused.
/// Authentication failures (53x) are 5xx too but are fixed on our side, so they are retried.
fn refused_for_good(e: &lettre::transport::smtp::Error) -> bool {
    let code = e.status().map(|c| c.to_string()).unwrap_or_default();
    e.is_permanent() && !code.starts_with("53")
}

/// The email as it goes over the wire: From and To as recorded, a Message-ID made from the
/// email's id, and text with an HTML alternative when the template has one.
fn compose(message: &Message) -> Result<lettre::Message, String> {
    let from: Mailbox = message.from.parse().map_err(|e| format!("sender {:?}: {e}", message.from))?;
    let to: Mailbox = message.to.parse().map_err(|e| format!("recipient {:?}: {e}", message.to))?;
    let message_id = format!("<{}@{}>", message.id, from.email.domain());
    let builder = lettre::Message::builder().from(from).to(to).subject(&message.subject).message_id(Some(message_id));
    let built = match &message.body_html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(message.body_text.clone(), html.clone())),
        None => builder.header(ContentType::TEXT_PLAIN).body(message.body_text.clone()),
    };
    built.map_err(|e| format!("cannot build the email: {e}"))
}

/// Who the delivery job acts as (`system:notifications`, as the email rows record it).
fn system() -> Acting {
    Acting::system("notifications")
}

async fn deliver(id: uuid::Uuid, ctx: JobContext) -> Result<(), JobError> {
    let tenant = ctx.tenant.clone().ok_or_else(|| JobError::permanent("an email delivery job without a shop"))?;
    let mailer = ctx.resource::<Mailer>()?;
    let (smtp, sealer, tenant_id, acting) = (mailer.transport.is_some(), &mailer.sealer, tenant.id, system());
    let next = ctx
        .db
        .in_tenant(&tenant, &acting, async |tx| {
            let stamp = tx.stamp();
            store::prepare_delivery(tx.conn(), tenant_id, id, smtp, sealer, &stamp).await.map_err(|e| match e {
                NotificationsError::Common(agora_kernel::CommonError::Db(db)) => JobError::from(db),
                // A sealed copy that does not open will not open on a retry either.
                other => JobError::permanent(format!("email {id} cannot be prepared: {other}")),
            })
        })
        .await?;
    let message = match next {
        Delivery::Done(status) => {
            tracing::info!(email = %id, status = status.as_str(), "email needs no sending");
            return Ok(());
        }
        Delivery::Send(message) => message,
    };
    // No transaction is open while the SMTP server takes its time.
    match mailer.send(&message).await {
        Ok(reply) => {
            ctx.db
                .in_tenant(&tenant, &acting, async |tx| {
                    let stamp = tx.stamp();
                    Ok::<_, JobError>(store::record_sent(tx.conn(), id, &reply, &stamp).await?)
                })
                .await?;
            tracing::info!(email = %id, "email sent");
            Ok(())
        }
        Err(failure) => {
            let give_up = failure.permanent || ctx.attempt >= DeliverEmail::MAX_ATTEMPTS;
            let error = failure.message.clone();
            ctx.db
                .in_tenant(&tenant, &acting, async |tx| {
                    let stamp = tx.stamp();
                    Ok::<_, JobError>(store::record_failure(tx.conn(), id, &error, give_up, &stamp).await?)
                })
                .await?;
            if failure.permanent {
                Err(JobError::permanent(format!("email {id} refused: {}", failure.message)))
            } else {
                Err(JobError::retry(format!("email {id} not sent: {}", failure.message)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_come_out_of_smtp_urls() {
        assert_eq!(host_of("smtp://127.0.0.1:2525"), Some("127.0.0.1"));
        assert_eq!(host_of("smtp://user:p%40ss@mail.example.com:587/helo?tls=required"), Some("mail.example.com"));
        assert_eq!(host_of("smtps://[::1]:465"), Some("::1"));
        assert_eq!(host_of("smtp://"), None);
    }

    fn sealer() -> agora_kernel::sealing::Sealer {
        agora_kernel::sealing::Sealer::new(&"a test key that is long enough".to_string().into(), None)
    }

    #[test]
    fn settings_are_checked_up_front() {
        let ok =
            MailSettings { smtp_url: Some("smtp://127.0.0.1:2525".to_string().into()), from: "Shop <s@x.test>".into() };
        assert!(Mailer::new(&ok, sealer()).is_ok());
        let bad_from = MailSettings { from: "nobody".into(), ..ok.clone() };
        assert!(matches!(Mailer::new(&bad_from, sealer()), Err(NotificationsError::Settings(_))));
        let bad_url = MailSettings { smtp_url: Some("smtp://user:secret@:25".to_string().into()), ..ok };
        match Mailer::new(&bad_url, sealer()) {
            Err(NotificationsError::Settings(message)) => assert!(!message.contains("secret"), "{message}"),
            _ => panic!("a URL without host is refused"),
        }
    }
}
