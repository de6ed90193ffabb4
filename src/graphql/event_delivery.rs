//! The two modes in which `messageEvents` runs besides the plain one, set
//! through request data by the WebSocket layer (clients cannot set request
//! data):
//!
//! - [`DeliverTo`]: the subscriber's own execution. Its stream still decides
//!   which events the viewer gets (membership at subscribe time, removal,
//!   replay then live), but hands each event to a sink instead of rendering
//!   it, and yields nothing itself.
//! - [`InjectedEvent`]: a render. The field skips authorization and the
//!   store and yields the one event it was given, so the selection set runs
//!   once and its result can go to every subscriber with the same query.

use std::sync::{Arc, Mutex};

use futures_util::StreamExt as _;
use futures_util::stream::BoxStream;

use super::types::MessageEvent;
use crate::service::live::LiveMessageEvent;

/// Receives the events a subscriber may see, in order.
#[async_trait::async_trait]
pub trait EventSink: Send + Sync {
    /// Sends the event on; `false` when the subscriber is gone.
    async fn deliver(&self, event: LiveMessageEvent) -> bool;
}

/// Request data: deliver events to this sink instead of rendering them.
pub struct DeliverTo(pub Arc<dyn EventSink>);

impl DeliverTo {
    /// Drains `events` into the sink; the result never yields, and ends
    /// when `events` ends or the subscriber is gone.
    pub fn drain(
        &self,
        events: BoxStream<'static, LiveMessageEvent>,
    ) -> BoxStream<'static, MessageEvent> {
        let sink = self.0.clone();
        events
            .then(move |event| {
                let sink = sink.clone();
                async move { sink.deliver(event).await }
            })
            .take_while(|delivered| std::future::ready(*delivered))
            .filter_map(|_| std::future::ready(None))
            .boxed()
    }
}

/// Request data of a render: the one event to resolve the selection on.
pub struct InjectedEvent(Mutex<Option<LiveMessageEvent>>);

impl InjectedEvent {
    pub fn new(event: LiveMessageEvent) -> Self {
        InjectedEvent(Mutex::new(Some(event)))
    }

    /// The event, as a stream of one.
    pub fn stream(&self) -> BoxStream<'static, MessageEvent> {
        let event = self
            .0
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .take();
        futures_util::stream::iter(event.map(MessageEvent)).boxed()
    }
}
