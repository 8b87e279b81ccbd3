//! Reversible JSON diffs between two versions of a resource's document.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One changed path with its old and new value (`None` = absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffEntry {
    /// JSON pointer (`/attributes/state`).
    pub path: String,
    /// Value before (absent if added).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    /// Value after (absent if removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// A diff: the changed paths, objects descended key by key, arrays and scalars compared whole.
pub type Diff = Vec<DiffEntry>;

/// The diff from `old` to `new`.
///
/// ```
/// use maestro_core::diff::{diff, apply_reverse};
/// let old = serde_json::json!({"name": "a", "attributes": {"cpu": 2, "ip": "10.0.0.1"}});
/// let new = serde_json::json!({"name": "b", "attributes": {"ip": "10.0.0.1", "mem": 4}});
/// let d = diff(&old, &new);
/// assert_eq!(d.len(), 3);
/// let mut back = new.clone();
/// apply_reverse(&mut back, &d);
/// assert_eq!(back, old);
/// ```
pub fn diff(old: &Value, new: &Value) -> Diff {
    let mut out = Vec::new();
    walk(old, new, &mut String::new(), &mut out);
    out
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn unescape(seg: &str) -> String {
    seg.replace("~1", "/").replace("~0", "~")
}

fn walk(old: &Value, new: &Value, path: &mut String, out: &mut Diff) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))).collect();
            keys.sort_unstable();
            for k in keys {
                let len = path.len();
                path.push('/');
                path.push_str(&escape(k));
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => walk(x, y, path, out),
                    (Some(x), None) => out.push(DiffEntry { path: path.clone(), old: Some(x.clone()), new: None }),
                    (None, Some(y)) => out.push(DiffEntry { path: path.clone(), old: None, new: Some(y.clone()) }),
                    (None, None) => {}
                }
                path.truncate(len);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(DiffEntry { path: path.clone(), old: Some(a.clone()), new: Some(b.clone()) }),
    }
}

fn set_path(doc: &mut Value, path: &str, value: Option<Value>) {
    let segs: Vec<String> = path.split('/').skip(1).map(unescape).collect();
    if segs.is_empty() {
        if let Some(v) = value {
            *doc = v;
        }
        return;
    }
    let mut cur = doc;
    for seg in &segs[..segs.len() - 1] {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        cur = cur
            .as_object_mut()
            .expect("just made an object")
            .entry(seg.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if !cur.is_object() {
        *cur = Value::Object(Map::new());
    }
    let obj = cur.as_object_mut().expect("just made an object");
    let last = segs.last().expect("non-empty").clone();
    match value {
        Some(v) => {
            obj.insert(last, v);
        }
        None => {
            obj.remove(&last);
        }
    }
}

/// Undo `d` on `doc` (turn the new version back into the old one).
pub fn apply_reverse(doc: &mut Value, d: &Diff) {
    for e in d.iter().rev() {
        set_path(doc, &e.path, e.old.clone());
    }
}

/// Apply `d` to `doc` (turn the old version into the new one).
pub fn apply(doc: &mut Value, d: &Diff) {
    for e in d {
        set_path(doc, &e.path, e.new.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_documents_have_no_diff() {
        let v = json!({"a": [1, 2], "b": {"c": null}});
        assert!(diff(&v, &v).is_empty());
    }

    #[test]
    fn nested_add_remove_change_roundtrip() {
        let old = json!({"a": {"x": 1, "y/z": 2}, "t": [1], "gone": true});
        let new = json!({"a": {"x": 2, "w": false}, "t": [1, 2]});
        let d = diff(&old, &new);
        let paths: Vec<&str> = d.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, vec!["/a/w", "/a/x", "/a/y~1z", "/gone", "/t"]);
        let mut back = new.clone();
        apply_reverse(&mut back, &d);
        assert_eq!(back, old);
        let mut fwd = old.clone();
        apply(&mut fwd, &d);
        assert_eq!(fwd, new);
    }

    #[test]
    fn falsy_changes_are_recorded() {
        let d = diff(&json!({"e": true}), &json!({"e": false}));
        assert_eq!(d, vec![DiffEntry { path: "/e".into(), old: Some(json!(true)), new: Some(json!(false)) }]);
    }
}
