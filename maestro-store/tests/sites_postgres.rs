//! The shared site store suite against a real PostgreSQL (address in `DATABASE_URL`). Each test
//! gets a private schema. Without `DATABASE_URL` these tests fail, saying how to start one.

use std::sync::Arc;

use maestro_store::PostgresStore;

fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "DATABASE_URL is not set: these tests need PostgreSQL. Start it with \
             `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` and set \
             DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres (bash .ci/run does both)"
        )
    })
}

async fn fresh() -> Arc<PostgresStore> {
    let schema = format!("maestro_test_sites_{}", uuid::Uuid::new_v4().simple());
    Arc::new(PostgresStore::open_in_schema(&database_url(), Some(&schema)).await.unwrap_or_else(|e| {
        panic!("cannot open PostgreSQL at DATABASE_URL ({e}); start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`")
    }))
}

maestro_core::site_store_suite!(fresh());
