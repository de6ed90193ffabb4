//! The subscription root. Each field checks membership at subscribe time;
//! the streams themselves stop when the viewer leaves or is removed.

use async_graphql::{Context, ID, Subscription};
use futures_util::Stream;
use futures_util::StreamExt as _;
use futures_util::stream::BoxStream;

use crate::graphql::context;
use crate::graphql::event_delivery::{DeliverTo, InjectedEvent};
use crate::graphql::types::{
    MessageEvent, Notification, PresenceEvent, ReadMarkerEvent, TypingEvent,
};

#[derive(Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// Changes to messages in one conversation, or in all of the viewer's
    /// conversations when conversationId is omitted. With conversationId and
    /// afterSeq, first replays every event with seq > afterSeq from storage, then
    /// continues live: no gap, no duplicate, in seq order.
    async fn message_events(
        &self,
        ctx: &Context<'_>,
        conversation_id: Option<ID>,
        after_seq: Option<i64>,
    ) -> async_graphql::Result<BoxStream<'static, MessageEvent>> {
        // A render of one event for subscribers who were authorized by
        // their own execution (`graphql/event_delivery.rs`); only the
        // server sets this data.
        if let Some(injected) = ctx.data_opt::<InjectedEvent>() {
            return Ok(injected.stream());
        }
        let viewer = context::viewer(ctx).await?;
        let stream = context::services(ctx)?
            .live
            .message_events(viewer, conversation_id.map(|id| id.0), after_seq)
            .await?;
        // Over WebSocket the events go to a sink that shares their renders.
        match ctx.data_opt::<DeliverTo>() {
            Some(sink) => Ok(sink.drain(stream)),
            None => Ok(stream.map(MessageEvent).boxed()),
        }
    }

    /// Typing state of others in a conversation; a typing=true expires after a few seconds without renewal.
    async fn typing(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = TypingEvent> + use<>> {
        let viewer = context::viewer(ctx).await?;
        let stream = context::services(ctx)?
            .live
            .typing(viewer, conversation_id.0)
            .await?;
        Ok(stream.map(TypingEvent))
    }

    /// Others' read markers in a conversation, each time one moves forward.
    async fn read_markers(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = ReadMarkerEvent> + use<>> {
        let viewer = context::viewer(ctx).await?;
        let stream = context::services(ctx)?
            .live
            .read_markers(viewer, conversation_id.0)
            .await?;
        Ok(stream.map(ReadMarkerEvent))
    }

    /// Online/offline changes of the viewer's friends and of members of the viewer's conversations.
    async fn presence(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = PresenceEvent> + use<>> {
        let viewer = context::viewer(ctx).await?;
        let stream = context::services(ctx)?.live.presence(viewer).await?;
        Ok(stream.map(PresenceEvent))
    }

    /// Friend requests and group membership changes that concern the viewer.
    async fn notifications(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = Notification> + use<>> {
        let viewer = context::viewer(ctx).await?;
        Ok(context::services(ctx)?
            .live
            .notifications(viewer)
            .map(Notification))
    }
}
