//! [`SiteStore`] for [`PostgresStore`]: `sites` and `site_checks` (migration `0004_sites.sql`).
//! A record is one transaction: results with `INSERT … ON CONFLICT DO NOTHING` on
//! `(site_id, checked_at)`, then the events of the rows actually inserted (outbox lock held to
//! commit, as for every append). Fresh site ids are `max(id) + 1` under a table lock, so they
//! never collide with the explicit ids of imported sites.

use async_trait::async_trait;
use maestro_core::StorageError;
use maestro_core::event::Event;
use maestro_core::monitor::{CheckQuery, CheckResult, RecordOutcome, Site, SiteCheckStats, SiteStore, check_event_id};
use maestro_core::repository::{PageOf, PageRequest, StoreResult};
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::PostgresStore;
use crate::common::*;
use crate::postgres::insert_events;

const SITE_COLUMNS: &str = "id, tenant, url, regexp, interval_secs, timeout_ms, method, headers, follow_redirects, \
                            conditions, enabled, resource";
const CHECK_COLUMNS: &str = "seq, site_id, tenant, url, checked_at, status_code, response_time_ms, has_regexp, \
                             cert_expires_at, error, conditions, body_truncated, success, affected";

fn site_from_row(r: &PgRow) -> Result<Site, StorageError> {
    Ok(Site {
        id: r.get("id"),
        tenant: r.get("tenant"),
        url: r.get("url"),
        regexp: r.get("regexp"),
        interval_secs: r.get::<i64, _>("interval_secs").max(0) as u64,
        timeout_ms: r.get::<i64, _>("timeout_ms").max(0) as u64,
        method: r.get("method"),
        headers: from_json("sites.headers", r.get::<Value, _>("headers"))?,
        follow_redirects: r.get("follow_redirects"),
        conditions: from_json("sites.conditions", r.get::<Value, _>("conditions"))?,
        enabled: r.get("enabled"),
        resource: r.get::<Option<Value>, _>("resource").map(|v| from_json("sites.resource", v)).transpose()?,
    })
}

fn check_from_row(r: &PgRow) -> Result<CheckResult, StorageError> {
    Ok(CheckResult {
        site_id: r.get("site_id"),
        tenant: r.get("tenant"),
        url: r.get("url"),
        checked_at: r.get("checked_at"),
        status_code: r.get::<Option<i32>, _>("status_code").map(|c| c as u16),
        response_time_ms: r.get("response_time_ms"),
        has_regexp: r.get("has_regexp"),
        cert_expires_at: r.get("cert_expires_at"),
        error: r.get("error"),
        conditions: from_json("site_checks.conditions", r.get::<Value, _>("conditions"))?,
        body_truncated: r.get("body_truncated"),
        success: r.get("success"),
        affected: from_json("site_checks.affected", r.get::<Value, _>("affected"))?,
    })
}

fn site_binds<'q>(
    q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    s: &'q Site,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    q.bind(&s.tenant)
        .bind(&s.url)
        .bind(&s.regexp)
        .bind(s.interval_secs as i64)
        .bind(s.timeout_ms as i64)
        .bind(&s.method)
        .bind(json(&s.headers))
        .bind(s.follow_redirects)
        .bind(json(&s.conditions))
        .bind(s.enabled)
        .bind(s.resource.as_ref().map(json))
}

#[async_trait]
impl SiteStore for PostgresStore {
    async fn create_site(&self, site: &Site) -> StoreResult<Site> {
        let q = sqlx::query(
            "INSERT INTO sites (tenant, url, regexp, interval_secs, timeout_ms, method, headers, follow_redirects, \
             conditions, enabled, resource, id) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9::jsonb, $10, $11::jsonb, \
             COALESCE($12, (SELECT COALESCE(max(id), 0) + 1 FROM sites))) \
             ON CONFLICT (id) DO NOTHING RETURNING id",
        );
        let mut tx = self.tx().await?;
        sqlx::query("LOCK TABLE sites IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .map_err(db_err("locking sites"))?;
        let id = site_binds(q, site)
            .bind((site.id != 0).then_some(site.id))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err("creating a site"))?
            .ok_or_else(|| StorageError::Invalid(format!("site {} already exists", site.id)))?
            .get::<i64, _>(0);
        tx.commit().await.map_err(db_err("committing a site"))?;
        Ok(Site { id, ..site.clone() })
    }

    async fn update_site(&self, site: &Site) -> StoreResult<bool> {
        let q = sqlx::query(
            "UPDATE sites SET url = $2, regexp = $3, interval_secs = $4, timeout_ms = $5, method = $6, headers = $7::jsonb, \
             follow_redirects = $8, conditions = $9::jsonb, enabled = $10, resource = $11::jsonb WHERE tenant = $1 AND id = $12",
        );
        let n = site_binds(q, site)
            .bind(site.id)
            .execute(self.pool())
            .await
            .map_err(db_err("updating a site"))?
            .rows_affected();
        Ok(n == 1)
    }

    async fn get_site(&self, tenant: &str, id: i64) -> StoreResult<Option<Site>> {
        let sql = format!("SELECT {SITE_COLUMNS} FROM sites WHERE tenant = $1 AND id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant)
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("reading a site"))?;
        row.as_ref().map(site_from_row).transpose()
    }

    async fn list_sites(&self, tenant: &str, enabled_only: bool, page: &PageRequest) -> StoreResult<PageOf<Site>> {
        let limit = page.checked_limit()?;
        let after = cursor(&page.after)?;
        let sql = format!(
            "SELECT {SITE_COLUMNS} FROM sites WHERE tenant = $1 AND id > $2 AND (NOT $3 OR enabled) \
             ORDER BY id LIMIT $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant)
            .bind(after)
            .bind(enabled_only)
            .bind(i64::from(limit) + 1)
            .fetch_all(self.pool())
            .await
            .map_err(db_err("listing sites"))?;
        let mut items = rows.iter().map(site_from_row).collect::<Result<Vec<_>, _>>()?;
        let next = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|s| s.id.to_string())
        } else {
            None
        };
        Ok(PageOf { items, next })
    }

    async fn delete_site(&self, tenant: &str, id: i64) -> StoreResult<bool> {
        let n = sqlx::query("DELETE FROM sites WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(db_err("deleting a site"))?
            .rows_affected();
        Ok(n == 1)
    }

    async fn record_checks(&self, results: &[CheckResult], events: &[Event]) -> StoreResult<RecordOutcome> {
        let mut tx = self.tx().await?;
        let mut out = RecordOutcome::default();
        let mut inserted = std::collections::HashSet::new();
        for r in results {
            let n = sqlx::query(
                "INSERT INTO site_checks (site_id, tenant, url, checked_at, status_code, response_time_ms, has_regexp, \
                 cert_expires_at, error, conditions, body_truncated, success, affected) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13::jsonb) \
                 ON CONFLICT (site_id, checked_at) DO NOTHING",
            )
            .bind(r.site_id)
            .bind(&r.tenant)
            .bind(&r.url)
            .bind(r.checked_at)
            .bind(r.status_code.map(i32::from))
            .bind(r.response_time_ms)
            .bind(r.has_regexp)
            .bind(r.cert_expires_at)
            .bind(&r.error)
            .bind(json(&r.conditions))
            .bind(r.body_truncated)
            .bind(r.success)
            .bind(json(&r.affected))
            .execute(&mut *tx)
            .await
            .map_err(db_err("recording a check"))?
            .rows_affected();
            if n == 1 {
                out.stored += 1;
                inserted.insert(check_event_id(&r.tenant, r.site_id, r.checked_at));
            } else {
                out.duplicates += 1;
            }
        }
        // Events of results that were new, plus any event that is not a check event of this call.
        let ours: std::collections::HashSet<_> =
            results.iter().map(|r| check_event_id(&r.tenant, r.site_id, r.checked_at)).collect();
        let fresh: Vec<Event> =
            events.iter().filter(|e| !ours.contains(&e.id) || inserted.contains(&e.id)).cloned().collect();
        insert_events(&mut tx, &fresh).await?;
        tx.commit().await.map_err(db_err("committing checks"))?;
        Ok(out)
    }

    async fn list_checks(&self, query: &CheckQuery, page: &PageRequest) -> StoreResult<PageOf<CheckResult>> {
        let limit = page.checked_limit()?;
        let after = cursor(&page.after)?;
        // Oldest first resumes after the cursor's seq; newest first below it (no cursor: from
        // the newest).
        let (window, order) = match (query.newest_first, page.after.is_some()) {
            (false, _) => ("seq > $2", "ASC"),
            (true, true) => ("seq < $2", "DESC"),
            (true, false) => ("$2 >= 0", "DESC"),
        };
        let sql = format!(
            "SELECT {CHECK_COLUMNS} FROM site_checks WHERE tenant = $1 AND {window} \
             AND ($3::bigint IS NULL OR site_id = $3) AND ($4::timestamptz IS NULL OR checked_at >= $4) AND ($5::timestamptz IS NULL OR checked_at < $5) \
             ORDER BY seq {order} LIMIT $6"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&query.tenant)
            .bind(after)
            .bind(query.site_id)
            .bind(query.since)
            .bind(query.until)
            .bind(i64::from(limit) + 1)
            .fetch_all(self.pool())
            .await
            .map_err(db_err("listing checks"))?;
        let mut next = None;
        let mut items = Vec::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            if i == limit as usize {
                next = Some(rows[i - 1].get::<i64, _>("seq").to_string());
                break;
            }
            items.push(check_from_row(r)?);
        }
        Ok(PageOf { items, next })
    }

    async fn latest_checks(&self, tenant: &str) -> StoreResult<Vec<CheckResult>> {
        let sql = format!(
            "SELECT {CHECK_COLUMNS} FROM site_checks c WHERE tenant = $1 AND checked_at = \
             (SELECT max(checked_at) FROM site_checks m WHERE m.tenant = $1 AND m.site_id = c.site_id) ORDER BY site_id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant)
            .fetch_all(self.pool())
            .await
            .map_err(db_err("reading latest checks"))?;
        rows.iter().map(check_from_row).collect()
    }

    async fn check_stats(&self) -> StoreResult<Vec<SiteCheckStats>> {
        let columns: Vec<String> = CHECK_COLUMNS.split(',').map(|c| format!("c.{}", c.trim())).collect();
        let sql = format!(
            "SELECT {}, t.ok, t.bad FROM site_checks c \
             JOIN sites s ON s.id = c.site_id AND s.tenant = c.tenant \
             JOIN (SELECT tenant, site_id, SUM(CASE WHEN success THEN 1 ELSE 0 END) AS ok, \
                   SUM(CASE WHEN success THEN 0 ELSE 1 END) AS bad, max(checked_at) AS last_at \
                   FROM site_checks GROUP BY tenant, site_id) t \
             ON t.tenant = c.tenant AND t.site_id = c.site_id AND c.checked_at = t.last_at \
             ORDER BY c.tenant, c.site_id",
            columns.join(", ")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await
            .map_err(db_err("reading check totals"))?;
        rows.iter()
            .map(|r| {
                let last = check_from_row(r)?;
                Ok(SiteCheckStats {
                    tenant: last.tenant.clone(),
                    site_id: last.site_id,
                    successes: r.get::<i64, _>("ok").max(0) as u64,
                    failures: r.get::<i64, _>("bad").max(0) as u64,
                    last,
                })
            })
            .collect()
    }
}
