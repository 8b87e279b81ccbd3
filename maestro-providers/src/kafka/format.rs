//! What a Kafka message carries: key, value and headers of an event.

use std::io;

use maestro_core::Event;
use serde::Serialize;
use serde_json::Value;

/// The event kind the HTTP site checker emits.
pub const SITE_CHECK: &str = "site.check";

/// Header carrying the event id (the dedup key).
pub const HEADER_EVENT_ID: &str = "maestro-event-id";
/// Header carrying the event kind.
pub const HEADER_EVENT_KIND: &str = "maestro-event-kind";
/// Header carrying the tenant.
pub const HEADER_TENANT: &str = "maestro-tenant";

/// The message key: `{"site_id": <id>}` (the original's exact bytes) when the payload has a
/// `site_id`, else the event subject.
pub fn message_key(event: &Event) -> Vec<u8> {
    match event.payload.get("site_id") {
        Some(id) if !id.is_null() => python_json(&serde_json::json!({ "site_id": id })),
        _ => event.subject.as_bytes().to_vec(),
    }
}

/// The message value: the payload for `site.check` events (the original's field names), the
/// whole event otherwise. JSON written with Python's default separators (`", "`, `": "`), as
/// the original's `json.dumps` did.
pub fn message_value(event: &Event) -> Vec<u8> {
    if event.kind == SITE_CHECK {
        python_json(&event.payload)
    } else {
        python_json(&serde_json::to_value(event).expect("events serialise"))
    }
}

/// `value` as JSON with `", "` and `": "` separators (Python's `json.dumps` defaults).
pub fn python_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    value.serialize(&mut ser).expect("a JSON value serialises");
    out
}

struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }
    fn begin_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }
}
