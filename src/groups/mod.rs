//! Groups (contract sections 2 and 9): sub-accounts of one customer that segregate its data. A
//! person in groups X and Y sees only data tagged X or Y (and untagged data); **a person in no
//! group sees all of its customer's data**. Memberships are set through the users' `group_ids`;
//! who sees what is decided in [`crate::policy`] from the caller's groups.

pub mod dto;
pub mod handlers;
pub mod models;
pub mod queries;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_groups)
        .service(handlers::create_group)
        .service(handlers::get_group)
        .service(handlers::patch_group)
        .service(handlers::delete_group)
        .service(handlers::list_members);
}
