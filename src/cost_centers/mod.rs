//! Cost centers: a customer's cost centers, each with a code unique within the customer
//! (contract section 5).

pub mod dto;
pub mod handlers;
pub mod models;
pub mod queries;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_cost_centers)
        .service(handlers::create_cost_center)
        .service(handlers::get_cost_center)
        .service(handlers::patch_cost_center)
        .service(handlers::delete_cost_center);
}
