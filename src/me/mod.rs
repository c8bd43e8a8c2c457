//! `/v1/me`: the signed-in person reads and edits itself and changes its password.

pub mod dto;
pub mod handlers;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(handlers::get_me).service(handlers::patch_me).service(handlers::change_password);
}
