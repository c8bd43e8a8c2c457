//! Customers: the operator's customer accounts (contract section 4).

pub mod dto;
pub mod handlers;
pub mod models;
pub mod queries;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_customers)
        .service(handlers::create_customer)
        .service(handlers::get_customer)
        .service(handlers::patch_customer)
        .service(handlers::delete_customer);
}
