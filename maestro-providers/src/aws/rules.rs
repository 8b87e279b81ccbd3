//! The declarative mapping engine: rules are data (YAML files under `rules/`), compiled once
//! into [`RuleSet`]s and evaluated per raw item.
//!
//! # Rule vocabulary (the original's, see SPEC §2.6)
//! | rule | value |
//! |---|---|
//! | `{setV: x}` | the literal `x` |
//! | `{switch: "a.b\|c"}` | the first alternative present (not missing, `null` or `""`). `false`/`0`/`[]` are kept; in compat mode the first *truthy* one, as the original |
//! | `{switchCapitalized: path}` | `switch`, first character upper-cased, the rest lower-cased |
//! | `{switchOptions: {field, options, default}}` | `options[value at field]`, else `default` |
//! | `{arrCatcher: {field, sKey, s, catcher}}` | in the list at `field`, the first element whose `sKey` equals `s` (case-insensitive) → its `catcher`, **not re-cased** (compat: capitalised) |
//! | `{batch: {k: rule, …}}` | a sub-object; entries that yield nothing are left out |
//! | `{datacenter: {k: rule, …}}` | a `datacenters` block: `name`, `provider`, `region` from the connection and scope, plus the sub-rules |
//! | `{fctTags: {field, key, value}}` | the list at `field` → `[{key, value}]` (pairs with an empty key skipped) |
//! | `{each: {field, map: {k: rule}}}` | the list at `field`, each element mapped by the sub-rules (`fctStorage`) |
//! | `{list: path}` | every value at `path`, lists flattened at each step |
//! | `{countItem: path}` | the length of the list at `path` |
//! | `{bool: path}` / `{int: path}` / `{float: path}` | the value at `path` typed (`"false"` → `false`, `"8"` → `8`) |
//! | `{template: "{@region}/{Name}"}` | text with `{path}` placeholders; `@region`, `@connection`, `@datacenter` come from the context. Yields nothing if a placeholder is missing |
//! | `{owner: true}` / `{accountant: true}` | `{refs: connections, name, _id}` / `[connection]` |
//! | `{first: [rule, …]}` | the first rule that yields a value |
//! | `{merge: rule}` | an object result is merged into the output instead of stored under the key |
//!
//! An output key may name several keys with `|` (`created_at|updated_at`). Paths are dotted;
//! a numeric segment indexes a list.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

/// A dotted path, pre-split.
#[derive(Debug, Clone, PartialEq)]
pub struct Path(Vec<Seg>);

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

impl Path {
    /// Parse `a.b.0.c`.
    pub fn parse(s: &str) -> Self {
        Path(
            s.split('.')
                .filter(|p| !p.is_empty())
                .map(|p| p.parse::<usize>().map_or_else(|_| Seg::Key(p.to_string()), Seg::Index))
                .collect(),
        )
    }

    /// The value at this path (no list flattening).
    pub fn get<'a>(&self, v: &'a Value) -> Option<&'a Value> {
        let mut cur = v;
        for s in &self.0 {
            cur = match (s, cur) {
                (Seg::Key(k), Value::Object(o)) => lookup(o, k)?,
                (Seg::Index(i), Value::Array(a)) => a.get(*i)?,
                (Seg::Index(i), Value::Object(o)) => o.get(&i.to_string())?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// Every value at this path, flattening lists at each step; a final list is flattened too.
    pub fn all<'a>(&self, v: &'a Value, out: &mut Vec<&'a Value>) {
        fn walk<'a>(segs: &[Seg], v: &'a Value, out: &mut Vec<&'a Value>) {
            match (segs.first(), v) {
                (_, Value::Array(a)) => {
                    for x in a {
                        walk(segs, x, out);
                    }
                }
                (None, Value::Null) => {}
                (None, Value::String(s)) if s.is_empty() => {}
                (None, x) => out.push(x),
                (Some(Seg::Key(k)), Value::Object(o)) => {
                    if let Some(x) = lookup(o, k) {
                        walk(&segs[1..], x, out);
                    }
                }
                _ => {}
            }
        }
        walk(&self.0, v, out);
    }
}

/// A key lookup that scans small objects instead of hashing: AWS items have a few dozen keys,
/// and comparing lengths first is cheaper than SipHash on every field read.
#[inline]
fn lookup<'a>(o: &'a Map<String, Value>, k: &str) -> Option<&'a Value> {
    if o.len() <= 48 {
        let kb = k.as_bytes();
        o.iter()
            .find(|(key, _)| {
                let b = key.as_bytes();
                // Length, then the first and last bytes, before the full comparison.
                b.len() == kb.len() && b.first() == kb.first() && b.last() == kb.last() && b == kb
            })
            .map(|(_, v)| v)
    } else {
        o.get(k)
    }
}

#[inline]
fn vget<'a>(v: &'a Value, k: &str) -> Option<&'a Value> {
    match v {
        Value::Object(o) => lookup(o, k),
        _ => None,
    }
}

/// Evaluation context: who is crawling what.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Region of the scope (`None` for global tasks).
    pub region: Option<&'a str>,
    /// Connection id.
    pub connection: &'a str,
    /// Datacenter display name.
    pub datacenter: &'a str,
    /// Provider label (`AWS`).
    pub provider: &'a str,
    /// Reproduce the original's falsy-dropping and re-casing.
    pub compat: bool,
}

/// One compiled rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// `setV`.
    Set(Value),
    /// `switch` (alternatives).
    Switch(Vec<Path>),
    /// `switchCapitalized`.
    SwitchCapitalized(Vec<Path>),
    /// `switchOptions`.
    Options {
        /// Field read.
        field: Path,
        /// Value → output.
        options: Map<String, Value>,
        /// When no option matches.
        default: Option<Value>,
    },
    /// `arrCatcher`.
    ArrCatcher {
        /// The list.
        field: Path,
        /// The key compared.
        s_key: String,
        /// The value looked for (case-insensitive).
        s: String,
        /// The key returned.
        catcher: String,
    },
    /// `batch`.
    Batch(Vec<(Vec<String>, Rule)>),
    /// `datacenter`.
    Datacenter(Vec<(Vec<String>, Rule)>),
    /// `fctTags`.
    Tags {
        /// The list.
        field: Path,
        /// Key field of each element.
        key: String,
        /// Value field of each element.
        value: String,
    },
    /// `each`.
    Each {
        /// The list.
        field: Path,
        /// Per-element rules.
        map: Vec<(Vec<String>, Rule)>,
    },
    /// `list`.
    List(Path),
    /// `countItem`.
    Count(Path),
    /// `bool`.
    Bool(Path),
    /// `int`.
    Int(Path),
    /// `float`.
    Float(Path),
    /// `template`.
    Template(Vec<Piece>),
    /// `owner`.
    Owner,
    /// `accountant`.
    Accountant,
    /// `merge`.
    Merge(Box<Rule>),
    /// `first`: the first rule that yields a value.
    First(Vec<Rule>),
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// Literal text.
    Text(String),
    /// A path into the item.
    Field(Path),
    /// `@region`, `@connection`, `@datacenter`.
    Context(String),
}

fn alternatives(v: &Value, at: &str) -> Result<Vec<Path>, String> {
    let s = v.as_str().ok_or_else(|| format!("{at}: expected a path string"))?;
    Ok(s.split('|').map(Path::parse).collect())
}

fn path(v: &Value, at: &str) -> Result<Path, String> {
    v.as_str().map(Path::parse).ok_or_else(|| format!("{at}: expected a path string"))
}

fn field<'a>(o: &'a Map<String, Value>, name: &str, at: &str) -> Result<&'a Value, String> {
    o.get(name).ok_or_else(|| format!("{at}: missing `{name}`"))
}

fn text(o: &Map<String, Value>, name: &str, at: &str) -> Result<String, String> {
    field(o, name, at)?.as_str().map(str::to_string).ok_or_else(|| format!("{at}.{name}: expected a string"))
}

/// Compile an ordered map of `key(|key…): rule`.
pub fn compile_map(v: &Value, at: &str) -> Result<Vec<(Vec<String>, Rule)>, String> {
    let o = v.as_object().ok_or_else(|| format!("{at}: expected a map of key: rule"))?;
    o.iter().map(|(k, r)| Ok((k.split('|').map(str::to_string).collect(), compile(r, &format!("{at}.{k}"))?))).collect()
}

/// Compile one rule from its data form.
///
/// # Errors
/// An unknown rule name or a malformed argument, with the rule's path.
pub fn compile(v: &Value, at: &str) -> Result<Rule, String> {
    let o = v.as_object().filter(|o| o.len() == 1).ok_or_else(|| format!("{at}: a rule is a map with one key"))?;
    let (name, arg) = o.iter().next().expect("one key");
    let here = format!("{at}.{name}");
    let obj = || arg.as_object().ok_or_else(|| format!("{here}: expected a map"));
    Ok(match name.as_str() {
        "setV" => Rule::Set(arg.clone()),
        "switch" => Rule::Switch(alternatives(arg, &here)?),
        "switchCapitalized" => Rule::SwitchCapitalized(alternatives(arg, &here)?),
        "switchOptions" => {
            let o = obj()?;
            Rule::Options {
                field: path(field(o, "field", &here)?, &here)?,
                options: field(o, "options", &here)?
                    .as_object()
                    .cloned()
                    .ok_or_else(|| format!("{here}.options: expected a map"))?,
                default: o.get("default").cloned(),
            }
        }
        "arrCatcher" => {
            let o = obj()?;
            Rule::ArrCatcher {
                field: path(field(o, "field", &here)?, &here)?,
                s_key: text(o, "sKey", &here)?,
                s: text(o, "s", &here)?,
                catcher: text(o, "catcher", &here)?,
            }
        }
        "batch" => Rule::Batch(compile_map(arg, &here)?),
        "datacenter" => Rule::Datacenter(compile_map(arg, &here)?),
        "fctTags" => {
            let o = obj()?;
            Rule::Tags {
                field: path(field(o, "field", &here)?, &here)?,
                key: text(o, "key", &here)?,
                value: text(o, "value", &here)?,
            }
        }
        "each" => {
            let o = obj()?;
            Rule::Each {
                field: path(field(o, "field", &here)?, &here)?,
                map: compile_map(field(o, "map", &here)?, &format!("{here}.map"))?,
            }
        }
        "list" => Rule::List(path(arg, &here)?),
        "countItem" => Rule::Count(path(arg, &here)?),
        "bool" => Rule::Bool(path(arg, &here)?),
        "int" => Rule::Int(path(arg, &here)?),
        "float" => Rule::Float(path(arg, &here)?),
        "template" => Rule::Template(template(arg.as_str().ok_or_else(|| format!("{here}: expected a string"))?)?),
        "owner" => Rule::Owner,
        "accountant" => Rule::Accountant,
        "merge" => Rule::Merge(Box::new(compile(arg, &here)?)),
        "first" => Rule::First(
            arg.as_array()
                .ok_or_else(|| format!("{here}: expected a list of rules"))?
                .iter()
                .enumerate()
                .map(|(i, r)| compile(r, &format!("{here}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        other => {
            return Err(format!(
                "{at}: unknown rule `{other}`; known: setV, switch, switchCapitalized, switchOptions, arrCatcher, \
                 batch, datacenter, fctTags, each, list, countItem, bool, int, float, template, owner, accountant, merge, first"
            ));
        }
    })
}

fn template(s: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find('{') {
        if start > 0 {
            out.push(Piece::Text(rest[..start].to_string()));
        }
        let end = rest[start..].find('}').ok_or_else(|| format!("template `{s}`: unclosed `{{`"))? + start;
        let name = &rest[start + 1..end];
        out.push(match name.strip_prefix('@') {
            Some(c) if matches!(c, "region" | "connection" | "datacenter") => Piece::Context(c.to_string()),
            Some(c) => return Err(format!("template `{s}`: unknown context value `@{c}`")),
            None => Piece::Field(Path::parse(name)),
        });
        rest = &rest[end + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_string()));
    }
    Ok(out)
}

fn present(v: &Value, compat: bool) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Bool(b) => !compat || *b,
        Value::Number(n) => !compat || n.as_f64().is_some_and(|f| f != 0.0),
        Value::Array(a) => !compat || !a.is_empty(),
        Value::Object(o) => !compat || !o.is_empty(),
    }
}

/// `str.capitalize()`: first character upper-case, the rest lower-case.
pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c.flat_map(char::to_lowercase)).collect(),
        None => String::new(),
    }
}

fn as_list(v: Option<&Value>) -> &[Value] {
    match v {
        Some(Value::Array(a)) => a,
        Some(v @ Value::Object(_)) => std::slice::from_ref(v),
        Some(v @ Value::String(s)) if !s.is_empty() => std::slice::from_ref(v),
        _ => &[],
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Rule {
    /// Evaluate on `item`; `None` means "no value" (the key is not set).
    pub fn eval(&self, item: &Value, ctx: &Context<'_>) -> Option<Value> {
        match self {
            Rule::Set(v) => Some(v.clone()),
            Rule::Switch(alts) => alts.iter().find_map(|p| p.get(item).filter(|v| present(v, ctx.compat))).cloned(),
            Rule::SwitchCapitalized(alts) => {
                let v = alts.iter().find_map(|p| p.get(item).filter(|v| present(v, ctx.compat)))?;
                Some(match v {
                    Value::String(s) => Value::String(capitalize(s)),
                    other => other.clone(),
                })
            }
            Rule::Options { field, options, default } => {
                let found = match field.get(item) {
                    Some(Value::String(k)) => lookup(options, k).cloned(),
                    Some(v) => scalar_text(v).and_then(|k| options.get(&k).cloned()),
                    None => None,
                };
                found.or_else(|| default.clone())
            }
            Rule::ArrCatcher { field, s_key, s, catcher } => {
                let found = as_list(field.get(item)).iter().find(|el| {
                    vget(el, s_key.as_str()).and_then(Value::as_str).is_some_and(|k| k.eq_ignore_ascii_case(s))
                })?;
                let v = vget(found, catcher.as_str())?;
                match v {
                    Value::String(t) if ctx.compat => {
                        if t.is_empty() {
                            None
                        } else {
                            Some(Value::String(capitalize(t)))
                        }
                    }
                    Value::Null => None,
                    other => Some(other.clone()),
                }
            }
            Rule::Batch(rules) => {
                let mut out = Map::with_capacity(rules.len());
                apply(rules, item, ctx, &mut out);
                Some(Value::Object(out))
            }
            Rule::Datacenter(rules) => {
                let mut out = Map::with_capacity(rules.len() + 3);
                out.insert("name".into(), Value::String(ctx.datacenter.to_string()));
                out.insert("provider".into(), Value::String(ctx.provider.to_string()));
                if let Some(r) = ctx.region {
                    out.insert("region".into(), Value::String(r.to_string()));
                }
                apply(rules, item, ctx, &mut out);
                Some(Value::Object(out))
            }
            Rule::Tags { field, key, value } => {
                let list: Vec<Value> = as_list(field.get(item))
                    .iter()
                    .filter_map(|el| {
                        let k = vget(el, key.as_str()).and_then(scalar_text).filter(|k| !k.is_empty())?;
                        let v = vget(el, value.as_str()).and_then(scalar_text).unwrap_or_default();
                        let mut m = Map::with_capacity(2);
                        m.insert("key".into(), Value::String(k));
                        m.insert("value".into(), Value::String(v));
                        Some(Value::Object(m))
                    })
                    .collect();
                Some(Value::Array(list))
            }
            Rule::Each { field, map } => {
                let list = as_list(field.get(item))
                    .iter()
                    .map(|el| {
                        let mut out = Map::with_capacity(map.len());
                        apply(map, el, ctx, &mut out);
                        Value::Object(out)
                    })
                    .collect();
                Some(Value::Array(list))
            }
            Rule::List(p) => {
                let mut out = Vec::new();
                p.all(item, &mut out);
                Some(Value::Array(out.into_iter().cloned().collect()))
            }
            Rule::Count(p) => {
                let mut out = Vec::new();
                p.all(item, &mut out);
                Some(Value::from(out.len()))
            }
            Rule::Bool(_) | Rule::Int(_) | Rule::Float(_) if ctx.compat => {
                let strict = Context { compat: false, ..*ctx };
                self.eval(item, &strict).filter(|v| present(v, true))
            }
            Rule::Bool(p) => match p.get(item)? {
                Value::Bool(b) => Some(Value::Bool(*b)),
                Value::String(s) if s.eq_ignore_ascii_case("true") => Some(Value::Bool(true)),
                Value::String(s) if s.eq_ignore_ascii_case("false") => Some(Value::Bool(false)),
                _ => None,
            },
            Rule::Int(p) => match p.get(item)? {
                Value::Number(n) if n.is_i64() || n.is_u64() => Some(Value::Number(n.clone())),
                Value::Number(n) => n.as_f64().map(|f| Value::from(f as i64)),
                Value::String(s) => s.trim().parse::<i64>().ok().map(Value::from),
                _ => None,
            },
            Rule::Float(p) => match p.get(item)? {
                Value::Number(n) => n.as_f64().map(Value::from),
                Value::String(s) => s.trim().parse::<f64>().ok().map(Value::from),
                _ => None,
            },
            Rule::Template(pieces) => {
                let mut s = String::new();
                for p in pieces {
                    match p {
                        Piece::Text(t) => s.push_str(t),
                        Piece::Field(path) => {
                            s.push_str(&path.get(item).and_then(scalar_text).filter(|t| !t.is_empty())?)
                        }
                        Piece::Context(c) => s.push_str(match c.as_str() {
                            "region" => ctx.region?,
                            "connection" => ctx.connection,
                            _ => ctx.datacenter,
                        }),
                    }
                }
                Some(Value::String(s))
            }
            Rule::Owner => {
                let mut m = Map::new();
                m.insert("refs".into(), Value::String("connections".into()));
                m.insert("name".into(), Value::String(ctx.datacenter.to_string()));
                m.insert("_id".into(), Value::String(ctx.connection.to_string()));
                Some(Value::Object(m))
            }
            Rule::Accountant => Some(Value::Array(vec![Value::String(ctx.connection.to_string())])),
            Rule::Merge(inner) => inner.eval(item, ctx),
            Rule::First(rules) => rules.iter().find_map(|r| r.eval(item, ctx)),
        }
    }
}

/// Apply `rules` in order to `item`, writing into `out`.
pub fn apply(rules: &[(Vec<String>, Rule)], item: &Value, ctx: &Context<'_>, out: &mut Map<String, Value>) {
    for (keys, rule) in rules {
        let Some(v) = rule.eval(item, ctx) else { continue };
        if let (Rule::Merge(_), Value::Object(o)) = (rule, &v) {
            for (k, x) in o {
                out.insert(k.clone(), x.clone());
            }
            continue;
        }
        if let [only] = keys.as_slice() {
            out.insert(only.clone(), v);
        } else {
            for k in keys {
                out.insert(k.clone(), v.clone());
            }
        }
    }
}

/// One relation declared by a rule file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelationSpec {
    /// Relation name (`in_subnet`).
    pub rel: String,
    /// Target kind.
    pub kind: String,
    /// Path of the target id(s) (lists flattened).
    pub path: String,
}

/// A rule file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// The API call this file maps (`DescribeInstances`).
    pub call: String,
    /// The resource kind produced.
    pub kind: String,
    /// The native id.
    pub id: Value,
    /// The display name (falls back to the native id).
    #[serde(default)]
    pub name: Option<Value>,
    /// Tags (a `fctTags` rule): become the resource's tag map.
    #[serde(default)]
    pub tags: Option<Value>,
    /// Normalised fields, in order.
    #[serde(default)]
    pub fields: Value,
    /// Relations.
    #[serde(default)]
    pub relations: Vec<RelationSpec>,
    /// Insert-time hooks (`cpu_memory`).
    #[serde(default)]
    pub hooks: Vec<String>,
    /// Items to leave out (as if the API had not listed them): `{field, values}`.
    #[serde(default)]
    pub skip: Option<SkipSpec>,
}

/// Leave an item out when the value at `field` is one of `values` (terminated instances, which
/// EC2 keeps listing for a while, are gone for maestro and get deactivated).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkipSpec {
    /// Path of the value tested.
    pub field: String,
    /// Values that make the item skipped.
    pub values: Vec<String>,
}

/// A compiled rule file.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// The call.
    pub call: String,
    /// Kind produced.
    pub kind: maestro_core::Kind,
    /// Native id rule.
    pub id: Rule,
    /// Name rule.
    pub name: Option<Rule>,
    /// Tags rule.
    pub tags: Option<Rule>,
    /// Field rules.
    pub fields: Vec<(Vec<String>, Rule)>,
    /// Relations: (rel, kind, path).
    pub relations: Vec<(String, maestro_core::Kind, Path)>,
    /// Hooks.
    pub hooks: Vec<String>,
    /// Skip rule: path and values.
    pub skip: Option<(Path, Vec<String>)>,
}

/// Hooks a rule file may name (each provider's translator implements them: `cpu_memory` fills
/// `cpu`/`memory` from an instance-type catalogue or a flavor, `ip_addresses` picks the
/// private/public IPv4 of a server).
pub const HOOKS: &[&str] = &["cpu_memory", "ip_addresses"];

impl RuleSet {
    /// Parse and compile a YAML rule file.
    ///
    /// # Errors
    /// YAML errors (with line), unknown rules or hooks, each naming `origin`.
    pub fn from_yaml(origin: &str, yaml: &str) -> Result<Self, String> {
        let f: RuleFile = serde_yaml_ng::from_str(yaml).map_err(|e| format!("{origin}: {e}"))?;
        let fields =
            if f.fields.is_null() { Vec::new() } else { compile_map(&f.fields, &format!("{origin}: fields"))? };
        for h in &f.hooks {
            if !HOOKS.contains(&h.as_str()) {
                return Err(format!("{origin}: unknown hook `{h}`; known: {}", HOOKS.join(", ")));
            }
        }
        Ok(RuleSet {
            id: compile(&f.id, &format!("{origin}: id"))?,
            name: f.name.as_ref().map(|n| compile(n, &format!("{origin}: name"))).transpose()?,
            tags: f.tags.as_ref().map(|n| compile(n, &format!("{origin}: tags"))).transpose()?,
            fields,
            relations: f
                .relations
                .iter()
                .map(|r| (r.rel.clone(), maestro_core::Kind::new(r.kind.clone()), Path::parse(&r.path)))
                .collect(),
            hooks: f.hooks,
            skip: f.skip.map(|s| (Path::parse(&s.field), s.values)),
            kind: maestro_core::Kind::new(f.kind),
            call: f.call,
        })
    }

    /// Whether `item` is to be left out.
    pub fn skips(&self, item: &Value) -> bool {
        self.skip.as_ref().is_some_and(|(p, values)| {
            p.get(item).and_then(Value::as_str).is_some_and(|v| values.iter().any(|x| x == v))
        })
    }

    /// The tag map of `item`.
    pub fn tag_map(&self, item: &Value, ctx: &Context<'_>) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if let Some(Rule::Tags { field, key, value }) = &self.tags {
            // The common case, without building the intermediate list.
            for el in as_list(field.get(item)) {
                let Some(k) = vget(el, key.as_str()).and_then(scalar_text).filter(|k| !k.is_empty()) else { continue };
                let v = vget(el, value.as_str()).and_then(scalar_text).unwrap_or_default();
                out.insert(k, v);
            }
            return out;
        }
        if let Some(Value::Array(list)) = self.tags.as_ref().and_then(|r| r.eval(item, ctx)) {
            for el in list {
                if let (Some(k), Some(v)) =
                    (vget(&el, "key").and_then(Value::as_str), vget(&el, "value").and_then(Value::as_str))
                {
                    out.insert(k.to_string(), v.to_string());
                }
            }
        }
        out
    }
}
