//! Gatus-style conditions: `<left> <operator> <right>`, parsed once when a site is validated and
//! evaluated against each response.
//!
//! | left | meaning | right |
//! |---|---|---|
//! | `[STATUS]` | final status code | integer, `any(200, 201)`, `pat(2*)` |
//! | `[RESPONSE_TIME]` | ms until the response headers | number (ms) |
//! | `[BODY]` | the body as text (first `max_body_bytes`) | text, `pat(*ok*)`, `any(a, b)` |
//! | `[BODY].a.b[0].c` | a value in the JSON body (dotted names, `[n]` indexes) | text, number, `true`, `null`… |
//! | `len([BODY]…)` | length of an array, object or string (or of the body) | integer |
//! | `has([BODY].x)` | whether the path exists | `true` / `false` |
//! | `[CERTIFICATE_EXPIRATION]` | time left on the leaf certificate | duration: `48h`, `30d`, `1h30m`, `90s` |
//! | `[CONNECTED]` | a response arrived | `true` / `false` |
//!
//! Operators: `==`, `!=`, `<`, `<=`, `>`, `>=`. `pat()` (glob with `*`) and `any()` only with
//! `==` / `!=`. Ordered operators need a number (or a duration) on the right.
//!
//! ```
//! use maestro_providers::http_check::{Condition, Observation};
//! let c = Condition::parse("[BODY].status == UP").unwrap();
//! let obs = Observation { status: Some(200), body: br#"{"status": "UP"}"#, ..Observation::default() };
//! assert!(c.evaluate(&obs));
//! let err = Condition::parse("[STATUS] => 200").unwrap_err();
//! assert_eq!(err.position, 9);
//! ```

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::Value;

/// A condition that did not parse: what was wrong and where (0-based character position).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at position {position} in `{input}`")]
pub struct ConditionError {
    /// The condition as written.
    pub input: String,
    /// Character offset of the problem.
    pub position: usize,
    /// What was wrong.
    pub message: String,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Op {
    fn ordered(self) -> bool {
        !matches!(self, Op::Eq | Op::Ne)
    }
    fn cmp_f64(self, a: f64, b: f64) -> bool {
        match self {
            Op::Eq => a == b,
            Op::Ne => a != b,
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
        }
    }
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// `.name`
    Key(String),
    /// `[n]`
    Index(usize),
}

/// What a condition looks at.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// `[STATUS]`
    Status,
    /// `[RESPONSE_TIME]` (ms)
    ResponseTime,
    /// `[BODY]` or `[BODY].path`
    Body(Vec<PathStep>),
    /// `len([BODY]…)`
    Len(Vec<PathStep>),
    /// `has([BODY]…)`
    Has(Vec<PathStep>),
    /// `[CERTIFICATE_EXPIRATION]`
    CertificateExpiration,
    /// `[CONNECTED]`
    Connected,
}

/// The right-hand side.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// A literal (compared as a number when both sides are numbers).
    Literal(String),
    /// `pat(glob)`
    Pattern(String),
    /// `any(a, b, …)`
    Any(Vec<String>),
    /// A duration in seconds (`[CERTIFICATE_EXPIRATION]` only).
    Duration(i64),
}

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// As written.
    pub text: String,
    /// Left side.
    pub subject: Subject,
    /// Operator.
    pub op: Op,
    /// Right side.
    pub expected: Expected,
}

/// What a condition is evaluated against.
#[derive(Debug, Clone, Default)]
pub struct Observation<'a> {
    /// Final status, if a response arrived.
    pub status: Option<u16>,
    /// Milliseconds to headers.
    pub response_time_ms: Option<f64>,
    /// The body read (possibly capped).
    pub body: &'a [u8],
    /// Leaf certificate `notAfter`.
    pub cert_expires_at: Option<DateTime<Utc>>,
    /// The time of the check (for the certificate).
    pub now: Option<DateTime<Utc>>,
}

struct Cursor<'a> {
    input: &'a str,
    chars: Vec<(usize, char)>,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(input: &'a str) -> Self {
        Self { input, chars: input.char_indices().collect(), pos: 0 }
    }
    fn err(&self, position: usize, message: impl Into<String>) -> ConditionError {
        ConditionError { input: self.input.to_string(), position, message: message.into() }
    }
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|c| c.1)
    }
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }
    fn eat(&mut self, s: &str) -> bool {
        let n = s.chars().count();
        let got: String = self.chars.iter().skip(self.pos).take(n).map(|c| c.1).collect();
        if got == s {
            self.pos += n;
            true
        } else {
            false
        }
    }
    fn rest(&self) -> String {
        self.chars.iter().skip(self.pos).map(|c| c.1).collect()
    }
}

impl Condition {
    /// Parse `text`.
    ///
    /// # Errors
    /// A [`ConditionError`] naming the position of the first problem.
    pub fn parse(text: &str) -> Result<Self, ConditionError> {
        let mut c = Cursor::new(text);
        c.skip_ws();
        let subject = parse_subject(&mut c)?;
        c.skip_ws();
        let op_at = c.pos;
        let op = if c.eat("==") {
            Op::Eq
        } else if c.eat("!=") {
            Op::Ne
        } else if c.eat("<=") {
            Op::Le
        } else if c.eat(">=") {
            Op::Ge
        } else if c.eat("<") {
            Op::Lt
        } else if c.eat(">") {
            Op::Gt
        } else {
            return Err(c.err(op_at, "expected an operator (==, !=, <, <=, >, >=)"));
        };
        // `=>`, `===`, `<>`… : a second operator character right after the operator.
        if c.peek().is_some_and(|ch| matches!(ch, '=' | '<' | '>' | '!')) {
            return Err(c.err(c.pos, "unexpected operator character"));
        }
        c.skip_ws();
        let rhs_at = c.pos;
        let rhs = c.rest().trim_end().to_string();
        if rhs.is_empty() {
            return Err(c.err(rhs_at, "expected a value after the operator"));
        }
        let expected = parse_expected(&c, &subject, op, rhs_at, &rhs)?;
        Ok(Condition { text: text.to_string(), subject, op, expected })
    }

    /// Whether the condition holds for `obs`. A missing value (no response, no certificate, a
    /// JSON path that does not exist, a body that is not JSON) makes it fail (except `has() ==
    /// false` and `[CONNECTED] == false`).
    pub fn evaluate(&self, obs: &Observation<'_>) -> bool {
        match &self.subject {
            Subject::Status => match obs.status {
                Some(s) => self.compare_value(&Value::from(s)),
                None => false,
            },
            Subject::ResponseTime => match obs.response_time_ms {
                Some(ms) => self.compare_value(&Value::from(ms)),
                None => false,
            },
            Subject::Connected => self.compare_value(&Value::Bool(obs.status.is_some())),
            Subject::CertificateExpiration => match (obs.cert_expires_at, &self.expected) {
                (Some(exp), Expected::Duration(want)) => {
                    let left = (exp - obs.now.unwrap_or_else(Utc::now)).num_seconds();
                    self.op.cmp_f64(left as f64, *want as f64)
                }
                _ => false,
            },
            Subject::Body(path) if path.is_empty() => {
                self.compare_value(&Value::String(String::from_utf8_lossy(obs.body).into_owned()))
            }
            Subject::Body(path) => match json_at(obs.body, path) {
                Some(v) => self.compare_value(&v),
                None => false,
            },
            Subject::Len(path) => {
                let n = if path.is_empty() {
                    Some(String::from_utf8_lossy(obs.body).chars().count())
                } else {
                    json_at(obs.body, path).and_then(|v| match v {
                        Value::Array(a) => Some(a.len()),
                        Value::Object(o) => Some(o.len()),
                        Value::String(s) => Some(s.chars().count()),
                        _ => None,
                    })
                };
                n.is_some_and(|n| self.compare_value(&Value::from(n)))
            }
            Subject::Has(path) => self.compare_value(&Value::Bool(json_at(obs.body, path).is_some())),
        }
    }

    fn compare_value(&self, actual: &Value) -> bool {
        let text = match actual {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let eq = |want: &str| match (actual.as_f64(), want.parse::<f64>().ok()) {
            (Some(a), Some(b)) => a == b,
            _ => text == want,
        };
        match &self.expected {
            Expected::Literal(want) if self.op.ordered() => match (actual.as_f64(), want.parse::<f64>().ok()) {
                (Some(a), Some(b)) => self.op.cmp_f64(a, b),
                _ => false,
            },
            Expected::Literal(want) => eq(want) == (self.op == Op::Eq),
            Expected::Pattern(p) => glob(p, &text) == (self.op == Op::Eq),
            Expected::Any(list) => list.iter().any(|w| eq(w)) == (self.op == Op::Eq),
            Expected::Duration(_) => false,
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn parse_subject(c: &mut Cursor<'_>) -> Result<Subject, ConditionError> {
    let start = c.pos;
    for (func, make) in [("len(", Subject::Len as fn(Vec<PathStep>) -> Subject), ("has(", Subject::Has)] {
        if c.eat(func) {
            c.skip_ws();
            if !c.eat("[BODY]") {
                return Err(c.err(c.pos, format!("`{func}` takes [BODY] or a [BODY] path")));
            }
            let path = parse_path(c)?;
            c.skip_ws();
            if !c.eat(")") {
                return Err(c.err(c.pos, "expected `)`"));
            }
            return Ok(make(path));
        }
    }
    for (name, subject) in [
        ("[STATUS]", Subject::Status),
        ("[RESPONSE_TIME]", Subject::ResponseTime),
        ("[CERTIFICATE_EXPIRATION]", Subject::CertificateExpiration),
        ("[CONNECTED]", Subject::Connected),
    ] {
        if c.eat(name) {
            return Ok(subject);
        }
    }
    if c.eat("[BODY]") {
        return Ok(Subject::Body(parse_path(c)?));
    }
    Err(c.err(
        start,
        "expected [STATUS], [RESPONSE_TIME], [BODY], [BODY].path, len(…), has(…), [CERTIFICATE_EXPIRATION] or [CONNECTED]",
    ))
}

fn parse_path(c: &mut Cursor<'_>) -> Result<Vec<PathStep>, ConditionError> {
    let mut steps = Vec::new();
    loop {
        match c.peek() {
            Some('.') => {
                c.pos += 1;
                let at = c.pos;
                let mut name = String::new();
                while let Some(ch) = c.peek() {
                    if ch == '.' || ch == '[' || ch == ')' || ch.is_whitespace() {
                        break;
                    }
                    name.push(ch);
                    c.pos += 1;
                }
                if name.is_empty() {
                    return Err(c.err(at, "expected a field name after `.`"));
                }
                steps.push(PathStep::Key(name));
            }
            Some('[') => {
                c.pos += 1;
                let at = c.pos;
                let mut digits = String::new();
                while let Some(ch) = c.peek().filter(char::is_ascii_digit) {
                    digits.push(ch);
                    c.pos += 1;
                }
                if digits.is_empty() || !c.eat("]") {
                    return Err(c.err(at, "expected an index like [0]"));
                }
                steps.push(PathStep::Index(digits.parse().map_err(|_| c.err(at, "index too large"))?));
            }
            _ => return Ok(steps),
        }
    }
}

fn parse_list(c: &Cursor<'_>, at: usize, inner: &str) -> Result<Vec<String>, ConditionError> {
    let items: Vec<String> = inner.split(',').map(|s| s.trim().to_string()).collect();
    if items.iter().any(String::is_empty) {
        return Err(c.err(at, "any(…) needs comma-separated, non-empty values"));
    }
    Ok(items)
}

fn parse_expected(c: &Cursor<'_>, subject: &Subject, op: Op, at: usize, rhs: &str) -> Result<Expected, ConditionError> {
    let func = |name: &str| -> Result<Option<String>, ConditionError> {
        match rhs.strip_prefix(name) {
            Some(rest) => match rest.strip_suffix(')') {
                Some(inner) => Ok(Some(inner.to_string())),
                None => Err(c.err(at + rhs.chars().count(), format!("`{name}` is not closed with `)`"))),
            },
            None => Ok(None),
        }
    };
    let expected = if let Some(p) = func("pat(")? {
        Expected::Pattern(p)
    } else if let Some(list) = func("any(")? {
        Expected::Any(parse_list(c, at, &list)?)
    } else if matches!(subject, Subject::CertificateExpiration) {
        Expected::Duration(
            parse_duration(rhs)
                .ok_or_else(|| c.err(at, format!("`{rhs}` is not a duration (examples: 48h, 30d, 1h30m, 90s)")))?,
        )
    } else {
        Expected::Literal(rhs.to_string())
    };
    if op.ordered() && matches!(expected, Expected::Pattern(_) | Expected::Any(_)) {
        return Err(c.err(at, "pat() and any() only work with == and !="));
    }
    let number = |e: &Expected| matches!(e, Expected::Literal(s) if s.parse::<f64>().is_ok());
    match subject {
        Subject::Status if matches!(&expected, Expected::Literal(s) if s.parse::<u16>().is_err()) => {
            Err(c.err(at, format!("[STATUS] is compared with an integer status code, not `{rhs}`")))
        }
        Subject::Status => match &expected {
            Expected::Any(list) if list.iter().any(|s| s.parse::<u16>().is_err()) => {
                Err(c.err(at, "any(…) of [STATUS] needs integer status codes"))
            }
            _ => Ok(expected),
        },
        Subject::ResponseTime | Subject::Len(_) if !number(&expected) => {
            Err(c.err(at, format!("expected a number, got `{rhs}`")))
        }
        Subject::Has(_) | Subject::Connected => {
            if op.ordered() || !matches!(&expected, Expected::Literal(s) if s == "true" || s == "false") {
                Err(c.err(at, "compare with == or != and true / false"))
            } else {
                Ok(expected)
            }
        }
        Subject::Body(_) if op.ordered() && !number(&expected) => {
            Err(c.err(at, format!("<, <=, >, >= need a number, got `{rhs}`")))
        }
        _ => Ok(expected),
    }
}

/// `48h`, `30d`, `1h30m`, `90s`, `2w` → seconds.
fn parse_duration(s: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut num = String::new();
    let mut any = false;
    for ch in s.chars() {
        if ch.is_ascii_digit() {
            num.push(ch);
            continue;
        }
        let unit = match ch {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        let n: i64 = num.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        num.clear();
        any = true;
    }
    (num.is_empty() && any).then_some(total)
}

/// Glob with `*` (any run of characters, possibly empty); everything else is literal.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn json_at(body: &[u8], path: &[PathStep]) -> Option<Value> {
    let root: Value = serde_json::from_slice(body).ok()?;
    let mut v = &root;
    for step in path {
        v = match step {
            PathStep::Key(k) => v.get(k.as_str())?,
            PathStep::Index(i) => v.get(*i)?,
        };
    }
    Some(v.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_stars_only() {
        assert!(glob("*ok*", "all ok here"));
        assert!(glob("2*", "204"));
        assert!(!glob("2*", "500"));
        assert!(glob("*", ""));
        assert!(!glob("a?c", "abc"), "? is literal");
        assert!(glob("a*b*c", "aXXbYYc"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("48h"), Some(172_800));
        assert_eq!(parse_duration("1h30m"), Some(5_400));
        assert_eq!(parse_duration("30d"), Some(2_592_000));
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("3x"), None);
    }
}
