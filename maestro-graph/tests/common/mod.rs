//! Shared test helpers: paths relative to the crate, a tiny SVG element reader.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use quick_xml::Reader;
use quick_xml::events::Event;

/// `tests/data/<rel>` of this crate.
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(rel)
}

/// One SVG element: tag, attributes, direct text, depth (0 = root), inside `<defs>`.
#[derive(Debug, Clone)]
pub struct El {
    pub tag: String,
    pub attrs: BTreeMap<String, String>,
    pub text: String,
    pub depth: usize,
    pub in_defs: bool,
}

/// Parse an SVG into a flat list of elements in document order.
pub fn parse(svg: &str) -> Vec<El> {
    let mut r = Reader::from_str(svg);
    let mut out: Vec<El> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut defs_depth: Option<usize> = None;
    loop {
        match r.read_event().expect("well-formed xml") {
            Event::Start(e) => {
                let el = element(&e, stack.len(), defs_depth.is_some());
                if el.tag == "defs" {
                    defs_depth = Some(stack.len());
                }
                out.push(el);
                stack.push(out.len() - 1);
            }
            Event::Empty(e) => {
                let el = element(&e, stack.len(), defs_depth.is_some());
                out.push(el);
            }
            Event::End(_) => {
                stack.pop();
                if defs_depth == Some(stack.len()) {
                    defs_depth = None;
                }
            }
            Event::Text(t) => {
                if let Some(&i) = stack.last() {
                    out[i].text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(g) => {
                if let Some(&i) = stack.last() {
                    let name = g.to_string();
                    let c = match name.as_str() {
                        "lt" => "<",
                        "gt" => ">",
                        "amp" => "&",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "?",
                    };
                    out[i].text.push_str(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn element(e: &quick_xml::events::BytesStart<'_>, depth: usize, in_defs: bool) -> El {
    let tag = e.name().as_ref().to_string();
    let mut attrs = BTreeMap::new();
    for a in e.attributes() {
        let a = a.expect("attribute");
        let k = a.key.as_ref().to_string();
        let v = a.normalized_value(quick_xml::XmlVersion::Implicit1_0).expect("value").into_owned();
        attrs.insert(k, v);
    }
    El { tag, attrs, text: String::new(), depth, in_defs }
}

/// All numbers in a string (path data, points, transforms).
pub fn numbers(s: &str) -> Vec<f64> {
    s.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .filter(|t| !t.is_empty() && *t != "-")
        .map(|t| t.parse::<f64>().unwrap_or_else(|_| panic!("number `{t}` in `{s}`")))
        .collect()
}

/// Assert two number lists are equal within `tol`.
pub fn assert_close(what: &str, a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len(), "{what}: {a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol, "{what}: {a:?} vs {b:?}");
    }
}
