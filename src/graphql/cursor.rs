//! Opaque pagination cursors. Clients must not parse them; we keep them
//! base64 so that nobody is tempted to.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{TimeZone as _, Utc};

use crate::error::{AppError, AppResult};
use crate::store::{ConversationCursor, ConversationRecord};

/// A message position: its seq.
pub fn encode_message(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("m{seq}"))
}

pub fn decode_message(cursor: &str, field: &'static str) -> AppResult<i64> {
    decode(cursor)
        .and_then(|text| text.strip_prefix('m').and_then(|seq| seq.parse().ok()))
        .ok_or_else(|| AppError::bad_input(field, "invalid cursor"))
}

/// A conversation-list position: (last activity, id).
pub fn encode_conversation(conversation: &ConversationRecord) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "c{}:{}",
        conversation.last_activity_at.timestamp_millis(),
        conversation.id
    ))
}

pub fn decode_conversation(cursor: &str, field: &'static str) -> AppResult<ConversationCursor> {
    decode(cursor)
        .and_then(|text| {
            let (millis, id) = text.strip_prefix('c')?.split_once(':')?;
            let at = Utc.timestamp_millis_opt(millis.parse().ok()?).single()?;
            Some(ConversationCursor {
                last_activity_at: at,
                id: id.to_owned(),
            })
        })
        .ok_or_else(|| AppError::bad_input(field, "invalid cursor"))
}

fn decode(cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_bad_input() {
        assert_eq!(decode_message(&encode_message(42), "before").ok(), Some(42));
        assert!(decode_message("!!", "before").is_err());
        assert!(decode_message(&URL_SAFE_NO_PAD.encode("c1:x"), "before").is_err());
        assert!(decode_conversation(&encode_message(1), "after").is_err());
    }

    // Fuzzing: cursors come from clients, so any string (and any base64 of
    // any text) decodes or is BAD_USER_INPUT on the named field.
    proptest::proptest! {
        #[test]
        fn any_cursor_decodes_or_is_bad_input(raw in "\\PC*", text in "[cm]?\\PC{0,30}") {
            let encoded = URL_SAFE_NO_PAD.encode(&text);
            for cursor in [raw.as_str(), encoded.as_str()] {
                if let Err(error) = decode_message(cursor, "before") {
                    proptest::prop_assert_eq!(error.field, Some("before"));
                }
                if let Err(error) = decode_conversation(cursor, "after") {
                    proptest::prop_assert_eq!(error.field, Some("after"));
                }
            }
        }

        #[test]
        fn message_cursors_round_trip(seq in proptest::prelude::any::<i64>()) {
            proptest::prop_assert_eq!(decode_message(&encode_message(seq), "before").ok(), Some(seq));
        }
    }
}
