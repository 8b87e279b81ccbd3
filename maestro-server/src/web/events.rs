//! `GET /events`: the live websocket.

use std::collections::HashSet;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::WebState;

/// `?kinds=resource.created,run.progress` (a trailing `*` matches a prefix: `resource.*`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EventsQuery {
    #[serde(default)]
    kinds: Option<String>,
}

/// Which message kinds a subscriber wants (`None` = all).
#[derive(Debug, Clone, Default)]
pub(super) struct KindFilter {
    exact: HashSet<String>,
    prefixes: Vec<String>,
    all: bool,
}

impl KindFilter {
    pub(super) fn parse(kinds: Option<&str>) -> Self {
        let mut f = Self { all: true, ..Self::default() };
        for k in kinds.unwrap_or("").split(',').map(str::trim).filter(|k| !k.is_empty()) {
            f.all = false;
            match k.strip_suffix('*') {
                Some(p) => f.prefixes.push(p.to_string()),
                None => {
                    f.exact.insert(k.to_string());
                }
            }
        }
        f
    }

    pub(super) fn wants(&self, kind: &str) -> bool {
        self.all || self.exact.contains(kind) || self.prefixes.iter().any(|p| kind.starts_with(p.as_str()))
    }
}

pub(super) async fn events(ws: WebSocketUpgrade, State(st): State<WebState>, Query(q): Query<EventsQuery>) -> Response {
    let filter = KindFilter::parse(q.kinds.as_deref());
    ws.on_upgrade(move |socket| stream(socket, st, filter))
}

async fn stream(mut socket: WebSocket, st: WebState, filter: KindFilter) {
    let mut rx = st.rt.hub.subscribe();
    // Tell the client it is subscribed: everything published from now on reaches it.
    let hello = json!({"kind": "subscribed", "kinds": q_kinds(&filter)});
    if socket.send(Message::Text(hello.to_string().into())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            m = rx.recv() => match m {
                Ok(v) => {
                    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
                    if filter.wants(kind) && socket.send(Message::Text(v.to_string().into())).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    let m = json!({"kind": "lagged", "missed": n});
                    if socket.send(Message::Text(m.to_string().into())).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Closed) => break,
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
            _ = st.shutdown.wait() => break,
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

fn q_kinds(f: &KindFilter) -> Value {
    if f.all {
        return Value::Null;
    }
    let mut v: Vec<String> = f.exact.iter().cloned().collect();
    v.extend(f.prefixes.iter().map(|p| format!("{p}*")));
    v.sort();
    json!(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_filters() {
        let all = KindFilter::parse(None);
        assert!(all.wants("anything"));
        let f = KindFilter::parse(Some("run.progress, resource.*,,"));
        assert!(f.wants("run.progress") && f.wants("resource.created") && f.wants("resource.deactivated"));
        assert!(!f.wants("run.finished") && !f.wants("job.finished"));
        assert_eq!(q_kinds(&f), json!(["resource.*", "run.progress"]));
    }
}
