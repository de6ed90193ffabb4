//! Outgoing mail through `lettre`: SMTP when `SMTP_URL` is set, otherwise
//! `.eml` files under `DATA_DIR/outbox` (so a laptop install needs no mail
//! server). Sending never blocks a request: mails go through a queue to a
//! worker that retries, counts failures and reports them in `/status`.

pub mod templates;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use serde::Serialize;
use tokio::sync::mpsc;
use uuid::Uuid;

use templates::Composed;

const QUEUE_CAPACITY: usize = 1000;
const ATTEMPTS: u32 = 4;

/// Where mail goes.
pub enum Delivery {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
}

/// One mail waiting in the queue.
struct Outgoing {
    to: String,
    composed: Composed,
}

/// What `/status` shows about mail.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MailStatus {
    pub transport: &'static str,
    pub sent: u64,
    pub failed: u64,
    pub last_error: Option<String>,
}

#[derive(Clone)]
pub struct Mailer {
    queue: mpsc::Sender<Outgoing>,
    status: Arc<Mutex<MailStatus>>,
}

impl Mailer {
    /// Starts the worker for `delivery`, sending as `from`.
    pub fn start(delivery: Delivery, from: Mailbox) -> Self {
        let transport = match delivery {
            Delivery::Smtp(_) => "smtp",
            Delivery::Outbox(_) => "outbox",
        };
        let status = Arc::new(Mutex::new(MailStatus {
            transport,
            ..MailStatus::default()
        }));
        let (queue, pending) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(work(delivery, from, pending, status.clone()));
        Mailer { queue, status }
    }

    /// The transport an `SMTP_URL` names (`smtp://`, `smtps://`, with
    /// credentials and `?tls=` as lettre reads them), or the outbox.
    pub fn delivery(smtp_url: Option<&str>, outbox: PathBuf) -> anyhow::Result<Delivery> {
        match smtp_url {
            Some(url) => Ok(Delivery::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|error| anyhow::anyhow!("SMTP_URL: {error}"))?
                    .timeout(Some(Duration::from_secs(10)))
                    .build(),
            )),
            None => {
                std::fs::create_dir_all(&outbox)?;
                Ok(Delivery::Outbox(outbox))
            }
        }
    }

    /// Queues a mail; never waits. A full queue counts as a failure.
    pub fn send(&self, to: &str, composed: Composed) {
        let queued = self.queue.try_send(Outgoing {
            to: to.to_owned(),
            composed,
        });
        if queued.is_err() {
            self.record(Err("mail queue full".to_owned()));
        }
    }

    pub fn status(&self) -> MailStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn record(&self, outcome: Result<(), String>) {
        record(&self.status, outcome);
    }
}

fn record(status: &Mutex<MailStatus>, outcome: Result<(), String>) {
    let mut status = status.lock().unwrap_or_else(|p| p.into_inner());
    match outcome {
        Ok(()) => {
            status.sent += 1;
            metrics::counter!("realtalk_mail_sent_total").increment(1);
        }
        Err(error) => {
            tracing::error!(%error, "mail not delivered");
            status.failed += 1;
            status.last_error = Some(error);
            metrics::counter!("realtalk_mail_failed_total").increment(1);
        }
    }
}

async fn work(
    delivery: Delivery,
    from: Mailbox,
    mut pending: mpsc::Receiver<Outgoing>,
    status: Arc<Mutex<MailStatus>>,
) {
    while let Some(mail) = pending.recv().await {
        let outcome = deliver(&delivery, &from, mail).await;
        record(&status, outcome);
    }
}

async fn deliver(delivery: &Delivery, from: &Mailbox, mail: Outgoing) -> Result<(), String> {
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|error| format!("bad recipient: {error}"))?;
    let message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.composed.subject)
        .multipart(MultiPart::alternative_plain_html(
            mail.composed.text,
            mail.composed.html,
        ))
        .map_err(|error| format!("cannot build mail: {error}"))?;
    let mut delay = Duration::from_millis(500);
    let mut last_error = String::new();
    for attempt in 1..=ATTEMPTS {
        let result = match delivery {
            Delivery::Smtp(transport) => transport
                .send(message.clone())
                .await
                .map(|_| ())
                .map_err(|error| error.to_string()),
            Delivery::Outbox(dir) => {
                let path = dir.join(format!("{}.eml", Uuid::now_v7()));
                let written = tokio::fs::write(&path, message.formatted())
                    .await
                    .map_err(|error| error.to_string());
                if written.is_ok() {
                    tracing::info!(path = %path.display(), "mail written to the outbox (no SMTP_URL)");
                }
                written
            }
        };
        match result {
            Ok(()) => return Ok(()),
            Err(error) => {
                tracing::warn!(attempt, %error, "mail attempt failed");
                last_error = error;
            }
        }
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
    Err(last_error)
}
