//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::error::{ErrorBody, ErrorDetail};
use super::routes::*;

/// The API's OpenAPI document (served at `/openapi.json`).
#[derive(OpenApi)]
#[openapi(
    info(title = "maestro API", description = "Connections, crawls, runs, resources, graphs, schedules, monitored sites and their checks, and the outbox of a maestro server."),
    paths(
        system::health, system::version, system::metrics, system::openapi,
        connections::providers, connections::create, connections::list, connections::get_one,
        connections::update, connections::delete,
        runs::start, runs::crawler, runs::list, runs::get_one,
        resources::list, resources::inventory, resources::get_one, resources::by_key,
        resources::history, resources::history_by_key,
        graphs::create, graphs::list, graphs::get_one,
        schedules::list, schedules::create, schedules::get_one, schedules::update, schedules::delete,
        outbox::status, outbox::dead_letters, outbox::replay,
        sites::list, sites::create, sites::get_one, sites::update, sites::delete, sites::checks, sites::run_now,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&Security),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        c.add_security_scheme(
            "service",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "The original private service token: `JWT <token>` whose `noauth` claim equals MAESTRO_NOAUTH",
            ))),
        );
    }
}
