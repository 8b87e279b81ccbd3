//! AWS Query/XML responses → JSON, generically (no schema per call).
//!
//! - An element with no child elements becomes its text (a string; values are never re-typed
//!   here, the mapping rules convert where needed). An empty element becomes `""`, or `[]` when
//!   its name ends with `Set` (EC2 list wrappers).
//! - An element whose children are all `item` or `member` becomes an array of them.
//! - Otherwise an object; a child name that repeats becomes an array (`<DBInstances>` holding
//!   several `<DBInstance>`). Attributes (`xmlns`) are ignored.
//!
//! The root element is kept as the single key of the returned object.

use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Map, Value};

/// Why a document could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed XML at byte {position}: {message}")]
pub struct XmlError {
    /// Byte offset of the problem.
    pub position: u64,
    /// What was wrong.
    pub message: String,
}

struct Frame {
    name: String,
    children: Vec<(String, Value)>,
    text: String,
}

impl Frame {
    fn finish(self) -> (String, Value) {
        let Frame { name, children, text } = self;
        if children.is_empty() {
            if text.trim().is_empty() && name.ends_with("Set") {
                return (name, Value::Array(Vec::new()));
            }
            return (name, Value::String(text));
        }
        if children.iter().all(|(n, _)| n == "item" || n == "member") {
            return (name, Value::Array(children.into_iter().map(|(_, v)| v).collect()));
        }
        // Repeated names were already folded into arrays by `push_child`.
        let map: Map<String, Value> = children.into_iter().collect();
        (name, Value::Object(map))
    }
}

/// Convert an XML document to JSON: `{"<Root>": …}`.
///
/// # Errors
/// Truncated or malformed XML (unclosed elements, mismatched tags, bad escapes).
pub fn to_json(xml: &[u8]) -> Result<Value, XmlError> {
    let mut reader = Reader::from_reader(xml);
    let mut stack: Vec<Frame> = Vec::new();
    // Counts of each child name per open element, so that the 3rd+ repeat appends.
    let mut repeats: Vec<std::collections::HashMap<String, usize>> = Vec::new();
    let mut buf = Vec::new();
    let err = |reader: &Reader<&[u8]>, message: String| XmlError { position: reader.buffer_position(), message };
    loop {
        let ev = reader.read_event_into(&mut buf).map_err(|e| err(&reader, e.to_string()))?;
        match ev {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_string();
                stack.push(Frame { name, children: Vec::new(), text: String::new() });
                repeats.push(std::collections::HashMap::new());
            }
            Event::Empty(e) => {
                let name = e.local_name().as_ref().to_string();
                let frame = Frame { name, children: Vec::new(), text: String::new() };
                let (n, v) = frame.finish();
                match stack.last_mut() {
                    Some(parent) => push_child(parent, repeats.last_mut(), n, v),
                    None => return Ok(single(n, v)),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    let s = t.xml10_content();
                    top.text.push_str(&s);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t);
                }
            }
            Event::GeneralRef(r) => {
                if let Some(top) = stack.last_mut() {
                    let name = r.to_string();
                    let ch = match name.as_str() {
                        "amp" => "&".to_string(),
                        "lt" => "<".to_string(),
                        "gt" => ">".to_string(),
                        "quot" => "\"".to_string(),
                        "apos" => "'".to_string(),
                        other => match r.resolve_char_ref() {
                            Ok(Some(c)) => c.to_string(),
                            _ => return Err(err(&reader, format!("unknown entity `&{other};`"))),
                        },
                    };
                    top.text.push_str(&ch);
                }
            }
            Event::End(_) => {
                let frame = stack.pop().ok_or_else(|| err(&reader, "unexpected end tag".into()))?;
                repeats.pop();
                let (n, v) = frame.finish();
                match stack.last_mut() {
                    Some(parent) => push_child(parent, repeats.last_mut(), n, v),
                    None => return Ok(single(n, v)),
                }
            }
            Event::Eof => {
                return Err(err(
                    &reader,
                    if stack.is_empty() {
                        "empty document".into()
                    } else {
                        format!("document ends inside <{}>", stack.last().map_or("", |f| f.name.as_str()))
                    },
                ));
            }
            _ => {}
        }
        buf.clear();
    }
}

fn single(n: String, v: Value) -> Value {
    let mut m = Map::with_capacity(1);
    m.insert(n, v);
    Value::Object(m)
}

fn push_child(
    parent: &mut Frame,
    counts: Option<&mut std::collections::HashMap<String, usize>>,
    name: String,
    value: Value,
) {
    let Some(counts) = counts else {
        parent.children.push((name, value));
        return;
    };
    let c = counts.entry(name.clone()).or_insert(0);
    *c += 1;
    if *c >= 3 && name != "item" && name != "member" {
        // Third and later repeats: append to the array built on the second occurrence.
        if let Some((_, Value::Array(a))) = parent.children.iter_mut().rev().find(|(n, _)| *n == name) {
            a.push(value);
            return;
        }
    }
    if *c == 2
        && name != "item"
        && name != "member"
        && let Some((_, existing)) = parent.children.iter_mut().rev().find(|(n, _)| *n == name)
    {
        let first = existing.take();
        *existing = Value::Array(vec![first, value]);
        return;
    }
    parent.children.push((name, value));
}

/// The value at a dotted `path` of a converted document, as a list: an array as is, a single
/// object or string as a one-element list, nothing as an empty list. `path` segments name
/// object keys; `*` steps into the only key of an object (the response root).
pub fn list_at<'a>(doc: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut cur = vec![doc];
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        let mut next = Vec::new();
        for v in cur {
            let stepped = if seg == "*" { v.as_object().and_then(|o| o.values().next()) } else { v.get(seg) };
            match stepped {
                Some(Value::Array(a)) => next.extend(a.iter()),
                Some(Value::String(s)) if s.is_empty() => {}
                Some(x) => next.push(x),
                None => {}
            }
        }
        cur = next;
    }
    cur
}

/// The string at a dotted `path` (see [`list_at`]), if any and non-empty.
pub fn str_at<'a>(doc: &'a Value, path: &str) -> Option<&'a str> {
    list_at(doc, path).into_iter().find_map(Value::as_str).filter(|s| !s.is_empty())
}
