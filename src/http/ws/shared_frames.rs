//! Renders each live `messageEvents` event once per distinct subscription
//! query on this node and hands the encoded payload to every subscriber with
//! that query; only the operation id in the frame around it differs.
//!
//! Before, every subscriber executed the selection set, built a
//! `serde_json::Value`, wrapped it and serialised again, and resolved
//! `author` through its own DataLoader with a store read: hundreds of µs of
//! CPU per delivery. Now the per-subscriber work is a cache lookup and one
//! string concatenation.
//!
//! What stays per subscriber, untouched: which events it gets (its own
//! stream in `service/live.rs`: membership at subscribe time, the end of the
//! stream on removal, replay then live), revocation and expiry (the
//! connection), and the subscriber's own validation of its document. A
//! render runs as an anonymous request when the selection reads no viewer
//! (so a viewer-dependent field missed by the list would come out null,
//! never as someone else's value), else as the viewer, under a key that
//! includes the viewer.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, Weak};

use async_graphql::Variables;
use async_graphql::parser::types::ExecutableDocument;
use futures_util::StreamExt as _;
use tokio::sync::OnceCell;

use super::protocol::{self, Protocol};
use super::writer::Writer;
use crate::bus::BusEvent;
use crate::graphql::event_delivery::{EventSink, InjectedEvent};
use crate::graphql::shared_selection::ShareKey;
use crate::graphql::{AppSchema, Loaders, RequestContext, execution};
use crate::service::Services;
use crate::service::live::LiveMessageEvent;

/// Events whose renders are remembered. A subscriber further behind than
/// this renders for itself (correct, just not shared); at 500 events/s
/// it is several seconds of history.
const REMEMBERED_EVENTS: usize = 4096;

/// Templates kept before unused ones are swept out.
const TEMPLATES_BEFORE_SWEEP: usize = 1024;

type Payload = Arc<OnceCell<Arc<str>>>;

/// The node's rendered event payloads, by bus event and share key.
#[derive(Default)]
pub struct SharedFrames {
    inner: Mutex<Remembered>,
    /// One template per key in use, shared by its subscribers: ten thousand
    /// idle subscriptions of one query keep one parsed document, not ten
    /// thousand.
    templates: Mutex<Templates>,
}

#[derive(Default)]
struct Templates {
    by_key: HashMap<ShareKey, Weak<Template>>,
    /// Size at which unused entries are swept out next (doubling, so a
    /// sweep costs O(1) per insert on average).
    sweep_at: usize,
}

#[derive(Default)]
struct Remembered {
    /// By the address of the event's `Arc`. Each entry holds a `Weak` to it,
    /// which keeps the allocation (not the event) alive, so the address
    /// cannot be reused by another event while the entry exists.
    events: HashMap<usize, EventRenders>,
    /// Oldest first, for eviction.
    order: VecDeque<usize>,
}

struct EventRenders {
    _event: Weak<BusEvent>,
    /// Usually one or two distinct queries per event.
    payloads: Vec<(ShareKey, Payload)>,
}

impl SharedFrames {
    /// The template for this key: the one in use, else this one.
    pub(super) fn template(&self, template: Template) -> Arc<Template> {
        let mut templates = self.templates.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = templates.by_key.get(&template.key).and_then(Weak::upgrade) {
            return found;
        }
        if templates.by_key.len() >= templates.sweep_at.max(TEMPLATES_BEFORE_SWEEP) {
            templates
                .by_key
                .retain(|_, template| template.strong_count() > 0);
            templates.sweep_at = templates.by_key.len() * 2;
        }
        let template = Arc::new(template);
        templates
            .by_key
            .insert(template.key.clone(), Arc::downgrade(&template));
        template
    }

    /// The cell holding this event's payload under this key (empty until
    /// someone renders it).
    fn cell(&self, event: &Arc<BusEvent>, key: &ShareKey) -> Payload {
        let address = Arc::as_ptr(event) as usize;
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let Remembered { events, order } = &mut *inner;
        let renders = events.entry(address).or_insert_with(|| {
            order.push_back(address);
            EventRenders {
                _event: Arc::downgrade(event),
                payloads: Vec::new(),
            }
        });
        let cell = match renders.payloads.iter().find(|(other, _)| other == key) {
            Some((_, cell)) => cell.clone(),
            None => {
                let cell = Payload::default();
                renders.payloads.push((key.clone(), cell.clone()));
                cell
            }
        };
        while order.len() > REMEMBERED_EVENTS {
            if let Some(oldest) = order.pop_front() {
                events.remove(&oldest);
            }
        }
        cell
    }
}

/// What the subscribers of one key render with. Their variables may differ
/// only where the event selection does not look (the root field's
/// arguments), so each renders with its own.
pub(super) struct Template {
    pub(super) key: ShareKey,
    pub(super) document: ExecutableDocument,
    pub(super) query: String,
    pub(super) operation_name: Option<String>,
}

/// One subscriber's end: finds or renders the payload, frames it with the
/// operation id and writes it to the socket.
pub(super) struct SubscriberSink {
    pub(super) frames: Arc<SharedFrames>,
    pub(super) template: Arc<Template>,
    pub(super) variables: Option<serde_json::Value>,
    pub(super) schema: AppSchema,
    pub(super) services: Arc<Services>,
    pub(super) client_ip: IpAddr,
    pub(super) protocol: Protocol,
    pub(super) operation_id: String,
    pub(super) writer: Arc<Writer>,
}

impl SubscriberSink {
    async fn payload(&self, event: LiveMessageEvent) -> Arc<str> {
        match event.origin.clone() {
            Some(origin) => {
                let cell = self.frames.cell(&origin, &self.template.key);
                let mut rendered = false;
                let payload = cell
                    .get_or_init(|| async {
                        rendered = true;
                        self.render(event).await
                    })
                    .await
                    .clone();
                let outcome = if rendered { "rendered" } else { "reused" };
                metrics::counter!("realtalk_subscription_renders_total", "outcome" => outcome)
                    .increment(1);
                payload
            }
            None => {
                metrics::counter!("realtalk_subscription_renders_total", "outcome" => "replay")
                    .increment(1);
                self.render(event).await
            }
        }
    }

    /// Executes the subscriber's document on this one event.
    async fn render(&self, event: LiveMessageEvent) -> Arc<str> {
        let template = &self.template;
        let context = match template.key.viewer() {
            Some(viewer) => RequestContext::authenticated(self.client_ip, viewer.clone()),
            None => RequestContext::new(self.client_ip, None),
        };
        let mut request = async_graphql::Request::new(template.query.clone());
        if let Some(variables) = self.variables.clone() {
            request = request.variables(Variables::from_json(variables));
        }
        if let Some(name) = template.operation_name.clone() {
            request = request.operation_name(name);
        }
        let mut request = request
            .data(context)
            .data(Loaders::new(&self.services).immediate())
            .data(InjectedEvent::new(event));
        request.set_parsed_query(template.document.clone());
        let response = execution::execute_stream(&self.schema, request)
            .next()
            .await;
        let payload = response
            .and_then(|response| serde_json::to_string(&response).ok())
            .unwrap_or_else(|| "null".to_owned());
        payload.into()
    }
}

#[async_trait::async_trait]
impl EventSink for SubscriberSink {
    async fn deliver(&self, event: LiveMessageEvent) -> bool {
        let payload = self.payload(event).await;
        let frame = protocol::next_encoded(self.protocol, &self.operation_id, &payload);
        self.writer.text(frame).await
    }
}
