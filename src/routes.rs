//! Every route of the service, in one list, and the OpenAPI document collected from exactly that
//! list (utoipa-actix-web), so an endpoint can neither exist undocumented nor be documented and
//! missing. Nothing below this floor names a route.

use actix_web::App;
use actix_web::dev::ResourceDef;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::openapi::ApiDoc;
use crate::{
    api_clients, audit_events, authz, cost_centers, customers, groups, health, invitations, me, oauth,
    permission_catalog, scim, sessions, signin, staff, users, warehouse_addresses, webhook_endpoints,
};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::handlers::live).service(health::handlers::ready).service(health::handlers::metrics);
    cfg.service(signin::handlers::login)
        .service(signin::mfa::login_mfa)
        .service(signin::handlers::refresh)
        .service(signin::handlers::logout)
        .service(signin::recovery::forgot_password)
        .service(signin::recovery::reset_password)
        .service(signin::password_change::change_temporary_password)
        .service(signin::signup::signup)
        .service(signin::signup::verify_signup)
        .service(signin::handlers::jwks);
    cfg.service(me::handlers::get_me).service(me::handlers::patch_me).service(me::handlers::change_password);
    cfg.service(me::mfa::start_enrolment)
        .service(me::mfa::confirm_enrolment)
        .service(me::mfa::disable)
        .service(me::mfa::renew_recovery_codes);
    cfg.service(customers::handlers::list_customers)
        .service(customers::handlers::create_customer)
        .service(customers::handlers::get_customer)
        .service(customers::handlers::patch_customer)
        .service(customers::handlers::delete_customer);
    cfg.service(warehouse_addresses::handlers::list_addresses)
        .service(warehouse_addresses::handlers::create_address)
        .service(warehouse_addresses::handlers::get_address)
        .service(warehouse_addresses::handlers::patch_address)
        .service(warehouse_addresses::handlers::delete_address);
    cfg.service(cost_centers::handlers::list_cost_centers)
        .service(cost_centers::handlers::create_cost_center)
        .service(cost_centers::handlers::get_cost_center)
        .service(cost_centers::handlers::patch_cost_center)
        .service(cost_centers::handlers::delete_cost_center);
    cfg.service(staff::handlers::list_staff)
        .service(staff::handlers::create_staff)
        .service(staff::handlers::get_staff)
        .service(staff::handlers::patch_staff)
        .service(staff::handlers::delete_staff)
        .service(staff::credentials::set_staff_password)
        .service(staff::credentials::reset_staff_mfa);
    cfg.service(users::handlers::find_users)
        .service(users::handlers::list_users)
        .service(users::handlers::create_user)
        .service(users::import::import_users)
        .service(users::upsert::get_user_by_external_id)
        .service(users::upsert::upsert_user)
        .service(users::handlers::get_user)
        .service(users::handlers::patch_user)
        .service(users::lifecycle::delete_user)
        .service(users::lifecycle::deactivate_user)
        .service(users::lifecycle::reactivate_user)
        .service(users::lifecycle::set_password)
        .service(users::lifecycle::send_password_reset)
        .service(users::lifecycle::transfer_ownership)
        .service(users::mfa::reset_user_mfa)
        .service(users::impersonate::impersonate_user)
        .service(users::review::handlers::get_access_review)
        .service(users::review::handlers::record_access_review);
    // After the users' routes: `users/by-external-id/{external_id}` must be tried before
    // `users/{user_id}/sessions` (an external id may be any text, "sessions" too).
    cfg.service(sessions::handlers::list_my_sessions)
        .service(sessions::handlers::end_my_other_sessions)
        .service(sessions::handlers::end_my_session)
        .service(sessions::handlers::list_user_sessions)
        .service(sessions::handlers::end_user_sessions)
        .service(sessions::handlers::end_user_session)
        .service(sessions::handlers::end_customer_sessions)
        .service(sessions::handlers::list_staff_sessions)
        .service(sessions::handlers::end_staff_sessions)
        .service(sessions::handlers::end_staff_session);
    cfg.service(invitations::handlers::create_invitations)
        .service(invitations::handlers::list_invitations)
        .service(invitations::handlers::get_invitation)
        .service(invitations::handlers::resend_invitation)
        .service(invitations::handlers::revoke_invitation)
        .service(invitations::public::lookup_invitation)
        .service(invitations::public::accept_invitation);
    cfg.service(groups::handlers::list_groups)
        .service(groups::handlers::create_group)
        .service(groups::handlers::get_group)
        .service(groups::handlers::patch_group)
        .service(groups::handlers::delete_group)
        .service(groups::handlers::list_members);
    cfg.service(api_clients::handlers::list_api_clients)
        .service(api_clients::handlers::create_api_client)
        .service(api_clients::handlers::get_api_client)
        .service(api_clients::handlers::patch_api_client)
        .service(api_clients::handlers::delete_api_client)
        .service(api_clients::handlers::rotate_api_client_secret)
        .service(api_clients::handlers::list_api_client_tokens)
        .service(api_clients::handlers::create_api_client_token)
        .service(api_clients::handlers::revoke_api_client_token)
        .service(api_clients::handlers::list_platform_api_clients)
        .service(api_clients::handlers::create_platform_api_client)
        .service(api_clients::handlers::get_platform_api_client)
        .service(api_clients::handlers::patch_platform_api_client)
        .service(api_clients::handlers::delete_platform_api_client)
        .service(api_clients::handlers::rotate_platform_api_client_secret)
        .service(api_clients::handlers::list_platform_api_client_tokens)
        .service(api_clients::handlers::create_platform_api_client_token)
        .service(api_clients::handlers::revoke_platform_api_client_token);
    cfg.service(webhook_endpoints::handlers::list_webhook_event_types)
        .service(webhook_endpoints::customer::list_webhooks)
        .service(webhook_endpoints::customer::create_webhook)
        .service(webhook_endpoints::customer::get_webhook)
        .service(webhook_endpoints::customer::patch_webhook)
        .service(webhook_endpoints::customer::delete_webhook)
        .service(webhook_endpoints::customer::rotate_webhook_secret)
        .service(webhook_endpoints::customer::list_webhook_deliveries)
        .service(webhook_endpoints::customer::retry_webhook_delivery)
        .service(webhook_endpoints::customer::test_webhook)
        .service(webhook_endpoints::platform::list_platform_webhooks)
        .service(webhook_endpoints::platform::create_platform_webhook)
        .service(webhook_endpoints::platform::get_platform_webhook)
        .service(webhook_endpoints::platform::patch_platform_webhook)
        .service(webhook_endpoints::platform::delete_platform_webhook)
        .service(webhook_endpoints::platform::rotate_platform_webhook_secret)
        .service(webhook_endpoints::platform::list_platform_webhook_deliveries)
        .service(webhook_endpoints::platform::retry_platform_webhook_delivery)
        .service(webhook_endpoints::platform::test_platform_webhook);
    cfg.service(oauth::handlers::issue_token);
    cfg.service(authz::handlers::check);
    cfg.service(permission_catalog::handlers::get_permissions);
    cfg.service(audit_events::handlers::list_audit_events);
    cfg.service(scim::discovery::get_service_provider_config)
        .service(scim::discovery::list_resource_types)
        .service(scim::discovery::get_resource_type)
        .service(scim::discovery::list_schemas)
        .service(scim::discovery::get_schema)
        .service(scim::group_handlers::search_all)
        // `.search` before `{id}`: the literal path is the more specific one.
        .service(scim::user_handlers::search_users)
        .service(scim::user_handlers::list_users)
        .service(scim::user_handlers::create_user)
        .service(scim::user_handlers::get_user)
        .service(scim::user_handlers::replace_user)
        .service(scim::user_handlers::patch_user)
        .service(scim::user_handlers::delete_user)
        .service(scim::group_handlers::search_groups)
        .service(scim::group_handlers::list_groups)
        .service(scim::group_handlers::create_group)
        .service(scim::group_handlers::get_group)
        .service(scim::group_handlers::replace_group)
        .service(scim::group_handlers::patch_group)
        .service(scim::group_handlers::delete_group);
}

/// The whole document, as the running service serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut api) =
        App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(routes).split_for_parts();
    crate::openapi::text_patterns(&mut api);
    // utoipa collects the schemas of bodies and responses, not those only a query parameter
    // names; the `$ref` of such a parameter would point nowhere.
    let components = api.components.get_or_insert_with(Default::default);
    components.schemas.insert(
        <users::dto::ImportMode as utoipa::ToSchema>::name().into_owned(),
        <users::dto::ImportMode as utoipa::PartialSchema>::schema(),
    );
    // The body of the events dockgate sends: no operation answers or takes it, the
    // `webhooks` map (webhook_endpoints::docs) refers to it.
    components.schemas.insert(
        <webhook_endpoints::dto::WebhookPayload as utoipa::ToSchema>::name().into_owned(),
        <webhook_endpoints::dto::WebhookPayload as utoipa::PartialSchema>::schema(),
    );
    api
}

/// The document as served (`/openapi.json`) and committed (`openapi/openapi.json`): [`document`]
/// with the rules of [`crate::openapi::exact`], which work on it as JSON.
pub fn document_json() -> serde_json::Value {
    let mut value = serde_json::to_value(document()).unwrap_or_default();
    scim::docs::complete(&mut value);
    webhook_endpoints::docs::complete(&mut value);
    crate::openapi::exact::apply(&mut value);
    value
}

/// The documented paths and their methods: to tell "no such path" (404) from "not with this
/// method" (405 with `Allow`) for requests no route took, and to answer a CORS preflight with
/// the methods of the path asked about.
pub struct KnownRoutes(Vec<(ResourceDef, String)>);

impl KnownRoutes {
    pub fn from_openapi(openapi: &utoipa::openapi::OpenApi) -> Self {
        let routes = openapi
            .paths
            .paths
            .iter()
            .filter_map(|(path, item)| {
                let value = serde_json::to_value(item).ok()?;
                let methods: Vec<String> = value
                    .as_object()?
                    .keys()
                    .filter(|k| {
                        matches!(k.as_str(), "get" | "put" | "post" | "delete" | "patch" | "head" | "options")
                    })
                    .map(|k| k.to_uppercase())
                    .collect();
                Some((ResourceDef::new(path.as_str()), methods.join(", ")))
            })
            .collect();
        Self(routes)
    }

    /// The methods of the documented path `path` matches (`"GET, PATCH"`), if any.
    pub fn methods_of(&self, path: &str) -> Option<&str> {
        self.0.iter().find(|(route, _)| route.is_match(path)).map(|(_, methods)| methods.as_str())
    }
}
