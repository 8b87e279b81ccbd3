//! `GET /`: the server-rendered page. Every value from the store goes through maud, which
//! escapes it; the only unescaped text is the page's own constant CSS and script.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maestro_core::monitor::{CheckResult, Site};
use maestro_core::scheduler::{JobFilter, JobRecord, JobState, Schedule, Trigger, slot_key};
use maestro_core::{DeadLetter, Kind, PageRequest, Resource, ResourceFilter, RunReport};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;

use super::{WebState, error};

/// The page's query: filters of the inventory table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PageQuery {
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    /// `true`, `false` or empty (any).
    #[serde(default)]
    active: Option<String>,
    /// Text in the name or id.
    #[serde(default)]
    q: Option<String>,
    /// Cursor of the next page.
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

const KINDS: &[Kind] = &[
    Kind::SERVER,
    Kind::APPLICATION,
    Kind::SYSTEM,
    Kind::CLIENT,
    Kind::VOLUME,
    Kind::NETWORK,
    Kind::SNAPSHOT,
    Kind::IMAGE,
    Kind::FLAVOR,
    Kind::DATACENTER,
];

/// One schedule with its last firing.
struct ScheduleRow {
    schedule: Schedule,
    job: Option<JobRecord>,
    run: Option<RunReport>,
}

struct PageData {
    tenant: String,
    resources: Vec<Resource>,
    next: Option<String>,
    schedules: Vec<ScheduleRow>,
    jobs: Vec<JobRecord>,
    dead_jobs: Vec<JobRecord>,
    dead_letters: Vec<DeadLetter>,
    graphs: Vec<String>,
    /// The tenant's first sites (by id) with their newest check result.
    sites: Vec<(Site, Option<CheckResult>)>,
    /// More sites than shown.
    more_sites: bool,
}

/// Sites shown on the page (the rest: `GET /sites`).
const SITES_SHOWN: u32 = 500;

pub(super) async fn index(
    State(st): State<WebState>,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(q) = match query {
        Ok(q) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("bad query: {}", e.body_text())),
    };
    let active = match non_empty(&q.active).as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            return error(StatusCode::BAD_REQUEST, format!("active must be true, false or empty; got `{other}`"));
        }
    };
    let limit = q.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return error(StatusCode::BAD_REQUEST, "limit must be between 1 and 1000");
    }
    match load(&st, &q, active, limit).await {
        Ok(data) => Html(render(&q, active, &data).into_string()).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering the page");
            error(StatusCode::SERVICE_UNAVAILABLE, "the store could not be read; see the server log")
        }
    }
}

async fn load(st: &WebState, q: &PageQuery, active: Option<bool>, limit: u32) -> anyhow::Result<PageData> {
    let store = &st.rt.store;
    let tenant = non_empty(&q.tenant).unwrap_or_else(|| st.rt.config.tenant.clone());
    let filter = ResourceFilter {
        kind: non_empty(&q.kind).map(Kind::new),
        active,
        text: non_empty(&q.q),
        ..ResourceFilter::tenant(tenant.clone())
    };
    let page = store.list_resources(&filter, &PageRequest { after: non_empty(&q.after), limit }).await?;
    let mut schedules = Vec::new();
    for s in store.list_schedules(Some(&tenant)).await? {
        let job = match s.last_slot {
            Some(slot) => store.get_job(&slot_key(&s.tenant, &s.name, slot)).await?,
            None => None,
        };
        let run = match &job {
            Some(j) if j.kind == "crawl" => store.get_run(j.run_id).await?,
            _ => None,
        };
        schedules.push(ScheduleRow { schedule: s, job, run });
    }
    let mut jobs = Vec::new();
    for state in [JobState::Running, JobState::Enqueued, JobState::Failed] {
        let f = JobFilter { tenant: Some(tenant.clone()), state: Some(state), limit: Some(50), ..JobFilter::default() };
        jobs.extend(store.list_jobs(&f).await?);
    }
    let f = JobFilter {
        tenant: Some(tenant.clone()),
        state: Some(JobState::Dead),
        limit: Some(50),
        ..JobFilter::default()
    };
    let dead_jobs = store.list_jobs(&f).await?;
    let dead_letters: Vec<DeadLetter> = store
        .dead_letters(None, &PageRequest::first(200))
        .await?
        .items
        .into_iter()
        .filter(|d| d.event.tenant == tenant)
        .take(50)
        .collect();
    let mut graphs = Vec::new();
    if let Ok(mut dir) = tokio::fs::read_dir(&st.rt.config.server.graphs_dir).await {
        while let Ok(Some(e)) = dir.next_entry().await {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.strip_suffix(".svg").is_some_and(|stem| crate::runtime::safe_file_name(stem) == stem) {
                graphs.push(name);
            }
        }
    }
    graphs.sort();
    let site_page = store.list_sites(&tenant, false, &PageRequest::first(SITES_SHOWN)).await?;
    let mut latest: std::collections::HashMap<i64, CheckResult> =
        store.latest_checks(&tenant).await?.into_iter().map(|r| (r.site_id, r)).collect();
    let sites = site_page.items.into_iter().map(|s| {
        let last = latest.remove(&s.id);
        (s, last)
    });
    Ok(PageData {
        tenant,
        resources: page.items,
        next: page.next,
        schedules,
        jobs,
        dead_jobs,
        dead_letters,
        graphs,
        sites: sites.collect(),
        more_sites: site_page.next.is_some(),
    })
}

const CSS: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:0 1.5rem 2rem;color:#1d2430}\
h1{margin:.8rem 0 .2rem}h2{border-bottom:1px solid #ccd;padding-bottom:.2rem;margin-top:1.6rem}\
nav a{margin-right:1rem}table{border-collapse:collapse;width:100%;margin:.4rem 0}\
th,td{border-bottom:1px solid #e3e6ec;padding:.25rem .5rem;text-align:left;vertical-align:top}\
th{background:#f3f5f8}form{display:flex;gap:1rem;align-items:end;flex-wrap:wrap}label{display:flex;flex-direction:column;font-size:12px}\
.inactive{color:#888}.state-dead,.state-failed,.Failed{color:#b00020}.state-succeeded,.Complete{color:#0a7a2f}.Partial{color:#a66300}\
.empty{color:#666;font-style:italic}.up{color:#0a7a2f;font-weight:600}.down{color:#b00020;font-weight:600}figure{display:inline-block;margin:.5rem;border:1px solid #dde;padding:.3rem}\
figure img{max-width:480px;max-height:360px}#live-events{font-family:monospace;font-size:12px;max-height:14rem;overflow:auto}";

const SCRIPT: &str = "(function(){var ul=document.getElementById('live-events');\
var s=document.getElementById('live-status');\
var ws=new WebSocket((location.protocol==='https:'?'wss://':'ws://')+location.host+'/events');\
ws.onopen=function(){s.textContent='connected';};ws.onclose=function(){s.textContent='disconnected';};\
ws.onmessage=function(m){var e;try{e=JSON.parse(m.data);}catch(x){return;}\
var li=document.createElement('li');\
li.textContent=[e.occurred_at||e.at||'',e.kind,e.subject||e.job||'',e.phase||e.outcome||'',e.summary||''].join(' ');\
ul.insertBefore(li,ul.firstChild);while(ul.children.length>100){ul.removeChild(ul.lastChild);}};})();\
(function(){var f=document.getElementById('add-site');if(!f){return;}var out=document.getElementById('add-site-status');\
f.addEventListener('submit',function(ev){ev.preventDefault();var body={url:f.elements.url.value.trim()};\
var r=f.elements.regexp.value;if(r){body.regexp=r;}var i=f.elements.interval_secs.value;if(i){body.interval_secs=Number(i);}\
var c=f.elements.condition.value.trim();if(c){body.conditions=[c];}out.textContent='adding…';\
fetch('/sites',{method:'POST',headers:{'content-type':'application/json',authorization:'Bearer '+f.elements.token.value.trim()},\
body:JSON.stringify(body)}).then(function(resp){return resp.json().then(function(v){\
if(resp.status===201){out.textContent='site '+v.id+' added';location.reload();}\
else{out.textContent=(v.error?(v.error.field?v.error.field+': ':'')+v.error.message:'HTTP '+resp.status);}});})\
.catch(function(e){out.textContent='request failed: '+e;});});})();";

fn trigger(t: &Trigger) -> String {
    match t {
        Trigger::Interval(d) => format!("every {}s", d.as_secs()),
        Trigger::Cron(c) => format!("cron {c}"),
    }
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_else(|| "—".into())
}

fn render(q: &PageQuery, active: Option<bool>, d: &PageData) -> Markup {
    let kind = non_empty(&q.kind).unwrap_or_default();
    let text = non_empty(&q.q).unwrap_or_default();
    let mut kinds: Vec<String> = KINDS.iter().map(ToString::to_string).collect();
    if !kind.is_empty() && !kinds.contains(&kind) {
        kinds.push(kind.clone());
    }
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "maestro · " (d.tenant) }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { "maestro" }
                p { "Tenant " strong #tenant { (d.tenant) } }
                nav {
                    a href="#inventory" { "Inventory" } a href="#runs" { "Schedules and runs" }
                    a href="#sites" { "Sites" } a href="#graphs" { "Graphs" } a href="#dead" { "Dead letters" }
                    a href="#live" { "Live" }
                }
                section #inventory {
                    h2 { "Inventory" }
                    form #filters method="get" action="/" {
                        input type="hidden" name="tenant" value=(d.tenant);
                        label { "Kind" select #kind name="kind" {
                            option value="" selected[kind.is_empty()] { "any" }
                            @for k in &kinds { option value=(k) selected[*k == kind] { (k) } }
                        } }
                        label { "State" select #active name="active" {
                            option value="" selected[active.is_none()] { "any" }
                            option value="true" selected[active == Some(true)] { "active" }
                            option value="false" selected[active == Some(false)] { "inactive" }
                        } }
                        label { "Text" input #q type="search" name="q" value=(text) placeholder="name or id"; }
                        button #apply type="submit" { "Filter" }
                        a href={ "/?tenant=" (urlenc(&d.tenant)) } { "clear" }
                    }
                    p #inventory-count { (d.resources.len()) " resource(s) shown" @if d.next.is_some() { " (more on the next page)" } }
                    @if d.resources.is_empty() {
                        p.empty { "No resources match." }
                    } @else {
                        table #inventory-table {
                            thead { tr { th { "kind" } th { "id" } th { "name" } th { "connection" } th { "scope" } th { "state" } th { "last seen" } } }
                            tbody {
                                @for r in &d.resources {
                                    tr.resource.inactive[!r.active] data-kind=(r.key.kind) {
                                        td { (r.key.kind) } td { (r.key.native_id) } td.name { (r.doc.name) }
                                        td { (r.key.connection) } td { (r.scope) }
                                        td { @if r.active { "active" } @else { "inactive" } }
                                        td { (time(Some(r.last_seen))) }
                                    }
                                }
                            }
                        }
                    }
                    @if let Some(next) = &d.next {
                        a #next-page href={ "/?tenant=" (urlenc(&d.tenant)) "&kind=" (urlenc(&kind)) "&active=" (active.map(|a| a.to_string()).unwrap_or_default()) "&q=" (urlenc(&text)) "&after=" (urlenc(next)) } { "next page →" }
                    }
                }
                section #runs {
                    h2 { "Schedules and runs" }
                    @if d.schedules.is_empty() {
                        p.empty { "No schedules." }
                    } @else {
                        table #schedules-table {
                            thead { tr { th { "schedule" } th { "job" } th { "when" } th { "last slot" } th { "last job" } th { "run" } th { "next slot" } } }
                            tbody {
                                @for row in &d.schedules {
                                    @let s = &row.schedule;
                                    tr.schedule {
                                        td { (s.name) @if !s.enabled { " (disabled)" } }
                                        td { (s.job.kind) " " code { (s.job.args.to_string()) } }
                                        td { (trigger(&s.trigger)) }
                                        td { (time(s.last_slot)) }
                                        td {
                                            @if let Some(j) = &row.job {
                                                span class={ "state-" (j.state.as_str()) } { (j.state.as_str()) }
                                                " (attempt " (j.attempts) ")"
                                                @if let Some(e) = &j.last_error { br; small { (e) } }
                                            } @else { "—" }
                                        }
                                        td {
                                            @if let Some(r) = &row.run {
                                                span class=(format!("{:?}", r.status)) { (format!("{:?}", r.status)) }
                                                " " (r.stats.items) " items, +" (r.stats.changes.created) " ~" (r.stats.changes.updated) " −" (r.stats.deactivated)
                                            } @else { "—" }
                                        }
                                        td { (time(s.next_slot)) }
                                    }
                                }
                            }
                        }
                    }
                    h3 { "Jobs in progress" }
                    @if d.jobs.is_empty() { p.empty { "No job is enqueued, running or waiting for a retry." } }
                    @else { (jobs_table("jobs-table", &d.jobs)) }
                }
                section #sites {
                    h2 { "Sites" }
                    (sites_table(&d.sites, d.more_sites))
                    h3 { "Add a site" }
                    p { small { "Sent to the JSON API (" code { "POST /sites" } ") with your API token; the site joins the token's tenant." } }
                    form #add-site {
                        label { "URL" input #site-url type="url" name="url" required placeholder="https://example.com/health"; }
                        label { "Regexp (optional)" input #site-regexp type="text" name="regexp"; }
                        label { "Condition (optional)" input #site-condition type="text" name="condition" placeholder="[STATUS] == 200"; }
                        label { "Every (s)" input #site-interval type="number" name="interval_secs" min="1" placeholder="600"; }
                        label { "API token" input #site-token type="password" name="token" required autocomplete="off"; }
                        button #add-site-submit type="submit" { "Add site" }
                    }
                    p #add-site-status {}
                }
                section #graphs {
                    h2 { "Graphs" }
                    @if d.graphs.is_empty() { p.empty { "No graph jobs have drawn anything yet." } }
                    @for g in &d.graphs {
                        figure { img src={ "/files/graphs/" (g) } alt=(g) loading="lazy"; figcaption { a href={ "/files/graphs/" (g) } { (g) } } }
                    }
                    form #draw method="get" action="/graph.svg" target="_blank" {
                        input type="hidden" name="tenant" value=(d.tenant);
                        label { "Kind" select name="kind" { option value="business" { "business" } option value="infra" { "infra" } } }
                        label { "Application" input type="text" name="app" placeholder="entry application"; }
                        button type="submit" { "Draw now" }
                    }
                }
                section #dead {
                    h2 { "Dead letters" }
                    @if d.dead_letters.is_empty() { p.empty { "No dead letters." } } @else {
                        table #dead-letters-table {
                            thead { tr { th { "id" } th { "sink" } th { "event" } th { "subject" } th { "attempts" } th { "error" } th { "state" } th { "at" } } }
                            tbody { @for l in &d.dead_letters { tr {
                                td { (l.id) } td { (l.sink) } td { (l.event.kind) } td { (l.event.subject) } td { (l.attempts) }
                                td { (l.error) } td { (l.state) } td { (time(Some(l.dead_at))) }
                            } } }
                        }
                    }
                    h3 { "Dead jobs" }
                    @if d.dead_jobs.is_empty() { p.empty { "No dead jobs." } } @else { (jobs_table("dead-jobs-table", &d.dead_jobs)) }
                }
                section #live {
                    h2 { "Live" " " small #live-status { "connecting…" } }
                    ul #live-events {}
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
}

fn sites_table(sites: &[(Site, Option<CheckResult>)], more: bool) -> Markup {
    html! {
        @if sites.is_empty() {
            p.empty #sites-empty { "No sites are monitored." }
        } @else {
            table #sites-table {
                thead { tr { th { "id" } th { "url" } th { "status" } th { "code" } th { "response time" } th { "checked at" } th { "every" } th { "details" } } }
                tbody { @for (s, last) in sites {
                    tr.site.inactive[!s.enabled] data-site-id=(s.id) {
                        td { (s.id) }
                        td.url { (s.url) @if !s.enabled { " (disabled)" } }
                        @if let Some(r) = last {
                            td.status { @if r.success { span.up { "up" } } @else { span.down { "down" } } }
                            td.code { (r.status_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into())) }
                            td.response-time { (r.response_time_ms.map(|ms| format!("{ms:.0} ms")).unwrap_or_else(|| "—".into())) }
                            td.checked-at { (time(Some(r.checked_at))) }
                        } @else {
                            td.status { span.empty { "not checked yet" } } td.code { "—" } td.response-time { "—" } td.checked-at { "—" }
                        }
                        td { (s.interval_secs) "s" }
                        td { @if let Some(r) = last {
                            @if let Some(e) = &r.error { small { (e) } }
                            @for c in r.conditions.iter().filter(|c| !c.success) { small { "failed: " (c.condition) } br; }
                        } }
                    }
                } }
            }
            @if more { p { small { "More sites than shown: see " code { "GET /sites" } "." } } }
        }
    }
}

fn jobs_table(id: &str, jobs: &[JobRecord]) -> Markup {
    html! {
        table id=(id) {
            thead { tr { th { "job" } th { "kind" } th { "state" } th { "attempts" } th { "worker" } th { "last error" } } }
            tbody { @for j in jobs { tr {
                td { (j.id) } td { (j.kind) } td class={ "state-" (j.state.as_str()) } { (j.state.as_str()) }
                td { (j.attempts) } td { (j.worker.clone().unwrap_or_default()) } td { (j.last_error.clone().unwrap_or_default()) }
            } } }
        }
    }
}

fn urlenc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_text_is_escaped() {
        let q = PageQuery { q: Some("<script>alert(1)</script>".into()), ..PageQuery::default() };
        let d = PageData {
            tenant: "t\"><img src=x onerror=alert(1)>".into(),
            resources: Vec::new(),
            next: None,
            schedules: Vec::new(),
            jobs: Vec::new(),
            dead_jobs: Vec::new(),
            dead_letters: Vec::new(),
            graphs: Vec::new(),
            sites: vec![(
                Site::new("t", "https://x.test/<script>alert(2)</script>"),
                Some(CheckResult {
                    error: Some("<b>refused</b>".into()),
                    ..CheckResult::new(&Site::new("t", "https://x.test/"), chrono::Utc::now())
                }),
            )],
            more_sites: false,
        };
        let page = render(&q, None, &d).into_string();
        assert!(!page.contains("<script>alert(1)"), "query text must be escaped");
        assert!(!page.contains("<img src=x"), "tenant must be escaped");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("<script>alert(2)") && !page.contains("<b>refused"), "site values must be escaped");
        assert!(page.contains("&lt;b&gt;refused&lt;/b&gt;"));
        assert!(page.contains(r#"<span class="down">down</span>"#), "a failed last check shows as down");
    }
}
