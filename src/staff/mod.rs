//! The operator's staff: platform admins and dispatchers (contract section 9). Platform admins
//! only. Staff are rows of the shared `users` table (see [`crate::accounts`]).

pub mod dto;
pub mod handlers;
pub mod models;
pub mod queries;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_staff)
        .service(handlers::create_staff)
        .service(handlers::get_staff)
        .service(handlers::patch_staff)
        .service(handlers::delete_staff);
}
