//! `GET /api/openapi.json`: the OpenAPI 3.1 document of every route, generated from the handlers.

use super::{admin, ai, alerts, auth, batteries, data, health, rules, twin};
use crate::server::error::ErrorBody;
use crate::server::state::AppState;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "BattSentinel API", description = "Battery analytics REST API: accounts, batteries, data, alerts and rules, digital-twin simulations, fault analysis and explanations."),
    paths(
        health::health,
        auth::register, auth::login, auth::logout, auth::me,
        batteries::list, batteries::create, batteries::get_one, batteries::update, batteries::delete,
        data::upload, data::read,
        alerts::list, alerts::create, alerts::mark_read,
        rules::list, rules::create, rules::update, rules::delete,
        twin::simulate, twin::status,
        ai::analyze, ai::explain,
        admin::list_users, admin::set_role,
    ),
    components(schemas(ErrorBody, alerts::AlertSource, alerts::Severity)),
    modifiers(&BearerAuth),
)]
pub(crate) struct ApiDoc;

/// The OpenAPI document.
pub(crate) fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(openapi_json))
}
