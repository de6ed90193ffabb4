//! The sending half of one WebSocket, shared by the connection's reader loop
//! and its operations, each of which writes its own frames.
//!
//! Frames used to go through a queue to a writer task per socket: every
//! live delivery woke two tasks (the subscription's, then the writer) and
//! crossed a channel, and every socket kept a third task and its queue.
//! Now the task that produces a frame writes it, under a lock that is
//! uncontended unless two operations of one socket send at the same moment.

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::SinkExt as _;
use futures_util::stream::SplitSink;
use tokio::sync::Mutex;

pub(super) struct Writer {
    sink: Mutex<SplitSink<WebSocket, Message>>,
}

impl Writer {
    pub(super) fn new(sink: SplitSink<WebSocket, Message>) -> Self {
        Writer {
            sink: Mutex::new(sink),
        }
    }

    /// Sends a text frame; `false` once the socket is gone or closing.
    pub(super) async fn text(&self, text: String) -> bool {
        self.send(Message::Text(text.into())).await
    }

    /// Sends a WebSocket Ping.
    pub(super) async fn ping(&self) -> bool {
        self.send(Message::Ping(Default::default())).await
    }

    /// Sends a Close frame with this code, then closes the sending half.
    pub(super) async fn close(&self, code: u16, reason: &'static str) {
        let mut sink = self.sink.lock().await;
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = sink.send(Message::Close(Some(frame))).await;
        let _ = sink.close().await;
    }

    /// Closes the sending half (a Close frame without a code, unless one
    /// was sent already).
    pub(super) async fn finish(&self) {
        let _ = self.sink.lock().await.close().await;
    }

    async fn send(&self, message: Message) -> bool {
        self.sink.lock().await.send(message).await.is_ok()
    }
}
