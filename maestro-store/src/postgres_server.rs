//! [`ServerStore`] for [`PostgresStore`]: connections, graph jobs and run requests (migration
//! `0005_server.sql`). Each write is one statement.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use maestro_core::repository::StoreResult;
use maestro_core::server_store::{ConnectionRecord, GraphJobRecord, ResourceCount, RunRequest, ServerStore};
use maestro_core::{PageOf, PageRequest, StorageError};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::PostgresStore;
use crate::common::*;

fn uuid(context: &str, s: &str) -> Result<Uuid, StorageError> {
    s.parse().map_err(|e| StorageError::Corrupt { context: context.into(), message: format!("{e}") })
}

fn connection_from_row(r: &PgRow) -> Result<ConnectionRecord, StorageError> {
    Ok(ConnectionRecord {
        tenant: r.get("tenant"),
        id: r.get("id"),
        name: r.get("name"),
        provider: r.get("provider"),
        settings: parse("connections.settings", r.get::<&str, _>("settings"))?,
        sealed_credentials: r.get("sealed_creds"),
        credential_fields: parse("connections.credential_fields", r.get::<&str, _>("credential_fields"))?,
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    })
}

fn graph_from_row(r: &PgRow, with_outputs: bool) -> Result<GraphJobRecord, StorageError> {
    Ok(GraphJobRecord {
        tenant: r.get("tenant"),
        id: r.get("id"),
        owner_id: r.get("owner_id"),
        kind: r.get("kind"),
        definition: parse("graph_jobs.definition", r.get::<&str, _>("definition"))?,
        status: r.get("status"),
        msg: r.get("msg"),
        info: parse("graph_jobs.info", r.get::<&str, _>("info"))?,
        svg: if with_outputs { r.get("svg") } else { None },
        graphml: if with_outputs { r.get("graphml") } else { None },
        json: if with_outputs {
            r.get::<Option<&str>, _>("json").map(|s| parse("graph_jobs.json", s)).transpose()?
        } else {
            None
        },
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    })
}

fn run_from_row(r: &PgRow) -> Result<RunRequest, StorageError> {
    Ok(RunRequest {
        id: uuid("run_requests.id", r.get::<&str, _>("id"))?,
        tenant: r.get("tenant"),
        connection: r.get("connection"),
        provider: r.get("provider"),
        task: r.get("task"),
        status: r.get("status"),
        run_id: r.get::<Option<&str>, _>("run_id").map(|s| uuid("run_requests.run_id", s)).transpose()?,
        error: r.get("error"),
        requested_at: r.get("requested_at"),
        finished_at: r.get("finished_at"),
    })
}

fn next_of<T>(mut items: Vec<T>, limit: u32, key: impl Fn(&T) -> String) -> PageOf<T> {
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(key)
    } else {
        None
    };
    PageOf { items, next }
}

#[async_trait]
impl ServerStore for PostgresStore {
    async fn put_connection(&self, c: &ConnectionRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO connections (tenant, id, name, provider, settings, sealed_creds, credential_fields, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (tenant, id) DO UPDATE SET name = excluded.name, provider = excluded.provider, \
             settings = excluded.settings, sealed_creds = excluded.sealed_creds, \
             credential_fields = excluded.credential_fields, updated_at = excluded.updated_at",
        )
        .bind(&c.tenant)
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.provider)
        .bind(json(&c.settings))
        .bind(c.sealed_credentials.as_deref())
        .bind(json(&c.credential_fields))
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(self.pool())
        .await
        .map_err(db_err("writing a connection"))?;
        Ok(())
    }

    async fn get_connection(&self, tenant: &str, id: &str) -> StoreResult<Option<ConnectionRecord>> {
        let row = sqlx::query("SELECT * FROM connections WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("reading a connection"))?;
        row.as_ref().map(connection_from_row).transpose()
    }

    async fn list_connections(&self, tenant: &str, page: &PageRequest) -> StoreResult<PageOf<ConnectionRecord>> {
        let limit = page.checked_limit()?;
        let rows = sqlx::query("SELECT * FROM connections WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3")
            .bind(tenant)
            .bind(page.after.as_deref().unwrap_or(""))
            .bind(i64::from(limit) + 1)
            .fetch_all(self.pool())
            .await
            .map_err(db_err("listing connections"))?;
        let items = rows.iter().map(connection_from_row).collect::<Result<Vec<_>, _>>()?;
        Ok(next_of(items, limit, |c| c.id.clone()))
    }

    async fn delete_connection(&self, tenant: &str, id: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM connections WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(db_err("deleting a connection"))?;
        Ok(r.rows_affected() > 0)
    }

    async fn put_graph_job(&self, g: &GraphJobRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO graph_jobs (tenant, id, owner_id, kind, definition, status, msg, info, svg, graphml, json, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (tenant, id) DO UPDATE SET owner_id = excluded.owner_id, kind = excluded.kind, \
             definition = excluded.definition, status = excluded.status, msg = excluded.msg, info = excluded.info, \
             svg = excluded.svg, graphml = excluded.graphml, json = excluded.json, updated_at = excluded.updated_at",
        )
        .bind(&g.tenant)
        .bind(&g.id)
        .bind(&g.owner_id)
        .bind(&g.kind)
        .bind(json(&g.definition))
        .bind(&g.status)
        .bind(&g.msg)
        .bind(json(&g.info))
        .bind(g.svg.as_deref())
        .bind(g.graphml.as_deref())
        .bind(g.json.as_ref().map(json))
        .bind(g.created_at)
        .bind(g.updated_at)
        .execute(self.pool())
        .await
        .map_err(db_err("writing a graph job"))?;
        Ok(())
    }

    async fn get_graph_job(&self, tenant: &str, id: &str) -> StoreResult<Option<GraphJobRecord>> {
        let row = sqlx::query("SELECT * FROM graph_jobs WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("reading a graph job"))?;
        row.as_ref().map(|r| graph_from_row(r, true)).transpose()
    }

    async fn list_graph_jobs(&self, tenant: &str, page: &PageRequest) -> StoreResult<PageOf<GraphJobRecord>> {
        let limit = page.checked_limit()?;
        let rows = sqlx::query(
            "SELECT tenant, id, owner_id, kind, definition, status, msg, info, created_at, updated_at \
             FROM graph_jobs WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(tenant)
        .bind(page.after.as_deref().unwrap_or(""))
        .bind(i64::from(limit) + 1)
        .fetch_all(self.pool())
        .await
        .map_err(db_err("listing graph jobs"))?;
        let items = rows.iter().map(|r| graph_from_row(r, false)).collect::<Result<Vec<_>, _>>()?;
        Ok(next_of(items, limit, |g| g.id.clone()))
    }

    async fn put_run_request(&self, r: &RunRequest) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO run_requests (id, tenant, connection, provider, task, status, run_id, error, requested_at, \
             finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, run_id = excluded.run_id, \
             error = excluded.error, finished_at = excluded.finished_at",
        )
        .bind(r.id.to_string())
        .bind(&r.tenant)
        .bind(&r.connection)
        .bind(&r.provider)
        .bind(&r.task)
        .bind(&r.status)
        .bind(r.run_id.map(|u| u.to_string()))
        .bind(r.error.as_deref())
        .bind(r.requested_at)
        .bind(r.finished_at)
        .execute(self.pool())
        .await
        .map_err(db_err("writing a run request"))?;
        Ok(())
    }

    async fn get_run_request(&self, tenant: &str, id: Uuid) -> StoreResult<Option<RunRequest>> {
        let row = sqlx::query("SELECT * FROM run_requests WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err("reading a run request"))?;
        row.as_ref().map(run_from_row).transpose()
    }

    async fn list_run_requests(&self, tenant: &str, page: &PageRequest) -> StoreResult<PageOf<RunRequest>> {
        let limit = page.checked_limit()?;
        let rows = sqlx::query("SELECT * FROM run_requests WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3")
            .bind(tenant)
            .bind(page.after.as_deref().unwrap_or(""))
            .bind(i64::from(limit) + 1)
            .fetch_all(self.pool())
            .await
            .map_err(db_err("listing run requests"))?;
        let items = rows.iter().map(run_from_row).collect::<Result<Vec<_>, _>>()?;
        Ok(next_of(items, limit, |r| r.id.to_string()))
    }

    async fn interrupt_unfinished_runs(&self, at: DateTime<Utc>, reason: &str) -> StoreResult<u64> {
        let r = sqlx::query(
            "UPDATE run_requests SET status = 'interrupted', error = $1, finished_at = $2 \
             WHERE status IN ('queued', 'running')",
        )
        .bind(reason)
        .bind(at)
        .execute(self.pool())
        .await
        .map_err(db_err("interrupting unfinished run requests"))?;
        Ok(r.rows_affected())
    }

    async fn resource_counts(&self) -> StoreResult<Vec<ResourceCount>> {
        let rows = sqlx::query(
            "SELECT tenant, kind, active, COUNT(*) AS n FROM resources GROUP BY tenant, kind, active \
             ORDER BY tenant, kind, active",
        )
        .fetch_all(self.pool())
        .await
        .map_err(db_err("counting resources"))?;
        Ok(rows
            .iter()
            .map(|r| ResourceCount {
                tenant: r.get("tenant"),
                kind: r.get("kind"),
                active: r.get::<bool, _>("active"),
                count: u64::try_from(r.get::<i64, _>("n")).unwrap_or(0),
            })
            .collect())
    }

    async fn run_request_counts(&self) -> StoreResult<Vec<(String, u64)>> {
        counts(self, "SELECT status AS k, COUNT(*) AS n FROM run_requests GROUP BY status ORDER BY status").await
    }

    async fn job_counts(&self) -> StoreResult<Vec<(String, u64)>> {
        counts(self, "SELECT state AS k, COUNT(*) AS n FROM jobs GROUP BY state ORDER BY state").await
    }
}

async fn counts(s: &PostgresStore, sql: &'static str) -> StoreResult<Vec<(String, u64)>> {
    let rows = sqlx::query(sql).fetch_all(s.pool()).await.map_err(db_err("counting"))?;
    Ok(rows.iter().map(|r| (r.get("k"), u64::try_from(r.get::<i64, _>("n")).unwrap_or(0))).collect())
}
