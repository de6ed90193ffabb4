//! One subscriber socket's life during a fan-out: read `next` frames, pick
//! the marker out of the message body, record latency and count receipts.
//!
//! The marker `lt|<index>|<sent nanos>` carries the message's index within
//! its group and the moment its request was issued, on this process's
//! clock, so no table of send times is shared between tasks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use futures_util::StreamExt as _;
use hdrhistogram::Histogram;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::report;
use crate::ws::{self, Incoming, Socket};

/// Latency histograms are sharded so 10k sockets do not queue on one lock
/// (and do not each carry a histogram of their own).
const SHARDS: usize = 32;

/// What every subscriber writes to.
pub struct Shared {
    pub received: AtomicU64,
    latency: Vec<Mutex<Histogram<u64>>>,
}

impl Shared {
    pub fn new() -> Self {
        Shared {
            received: AtomicU64::new(0),
            latency: (0..SHARDS)
                .map(|_| Mutex::new(report::histogram()))
                .collect(),
        }
    }

    /// Forgets the warm-up's latencies.
    pub fn reset_latency(&self) {
        for shard in &self.latency {
            shard
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .reset();
        }
    }

    pub fn merged_latency(&self) -> Histogram<u64> {
        let mut merged = report::histogram();
        for shard in &self.latency {
            let shard = shard
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let _ = merged.add(&*shard);
        }
        merged
    }
}

/// What one socket saw.
pub struct Tally {
    /// Receipts per message index of its group.
    pub counts: Vec<u8>,
    /// `next` frames without a readable marker.
    pub malformed: u64,
    /// Why the subscription ended before the run did, if it did.
    pub ended: Option<String>,
}

/// The clock's zero: every `due` nanos count from here.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

pub fn nanos_at(at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(epoch()).as_nanos()).unwrap_or(u64::MAX)
}

pub fn now_nanos() -> u64 {
    nanos_at(Instant::now())
}

pub fn marker(index: usize, due_nanos: u64) -> String {
    format!("lt|{index}|{due_nanos}")
}

/// `(index, due nanos)` from a frame holding a marker.
fn parse_marker(text: &str) -> Option<(usize, u64)> {
    let start = text.find("lt|")? + 3;
    let rest = &text[start..];
    let end = rest.find('"')?;
    let (index, due) = rest[..end].split_once('|')?;
    Some((index.parse().ok()?, due.parse().ok()?))
}

/// Reads until told to stop or the subscription ends.
pub async fn run(
    mut socket: Socket,
    per_group: usize,
    shared: std::sync::Arc<Shared>,
    index: usize,
    mut stop: watch::Receiver<bool>,
) -> Tally {
    let mut tally = Tally {
        counts: vec![0; per_group],
        malformed: 0,
        ended: None,
    };
    let shard = &shared.latency[index % SHARDS];
    loop {
        tokio::select! {
            frame = socket.next() => match frame {
                Some(Ok(Message::Text(text))) => match ws::classify(&text) {
                    Incoming::Next(text) => match parse_marker(text) {
                        Some((local, due)) if local < tally.counts.len() => {
                            let latency = std::time::Duration::from_nanos(now_nanos().saturating_sub(due));
                            report::record(&mut shard.lock().unwrap_or_else(|poisoned| poisoned.into_inner()), latency);
                            tally.counts[local] = tally.counts[local].saturating_add(1);
                            shared.received.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => tally.malformed += 1,
                    },
                    Incoming::Ping => {
                        let _ = ws::send(&mut socket, &serde_json::json!({ "type": "pong" })).await;
                    }
                    Incoming::Ended(text) => {
                        tally.ended = Some(text.chars().take(300).collect());
                        break;
                    }
                    Incoming::Other => {}
                },
                Some(Ok(Message::Close(frame))) => {
                    tally.ended = Some(format!("closed by the server: {frame:?}"));
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => {
                    tally.ended = Some(format!("socket error: {error}"));
                    break;
                }
                None => {
                    tally.ended = Some("socket closed".to_owned());
                    break;
                }
            },
            _ = stop.changed() => break,
        }
    }
    let _ = socket.close(None).await;
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_through_a_frame() {
        let frame = format!(
            r#"{{"id":"1","payload":{{"data":{{"messageEvents":{{"message":{{"body":"{}"}}}}}}}},"type":"next"}}"#,
            marker(7, 12345)
        );
        assert_eq!(parse_marker(&frame), Some((7, 12345)));
        assert_eq!(parse_marker(r#"{"body":"hello"}"#), None);
    }
}
