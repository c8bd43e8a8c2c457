//! The people who work for a customer (contract section 6): with or without a portal login,
//! their roles and permissions, their lifecycle (deactivate, reactivate, delete), passwords set
//! by an admin or chosen through an e-mailed link, and ownership. Rows of the shared `users`
//! table (see [`crate::accounts`]); who may do what is decided in [`crate::policy`].

pub mod dto;
pub mod handlers;
pub mod lifecycle;
pub mod models;
pub mod queries;
pub mod rules;
pub mod views;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::find_users)
        .service(handlers::list_users)
        .service(handlers::create_user)
        .service(handlers::get_user)
        .service(handlers::patch_user)
        .service(handlers::delete_user)
        .service(lifecycle::deactivate_user)
        .service(lifecycle::reactivate_user)
        .service(lifecycle::set_password)
        .service(lifecycle::send_password_reset)
        .service(lifecycle::transfer_ownership);
}
