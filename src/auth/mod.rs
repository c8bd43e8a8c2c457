//! Signing in: passwords, sessions and refresh tokens, access tokens and their keys, the
//! failed-login limits, and the [`Actor`] extractor that every protected handler takes.

pub mod actor;
pub mod dto;
pub mod handlers;
pub mod hasher;
pub mod keys;
pub mod password_tokens;
pub mod passwords;
pub mod rate_limit;
pub mod recovery;
pub mod sessions;
pub mod signup;
pub mod tokens;

pub use actor::Actor;

use actix_web::HttpRequest;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(handlers::login)
        .service(handlers::refresh)
        .service(handlers::logout)
        .service(recovery::forgot_password)
        .service(recovery::reset_password)
        .service(signup::signup)
        .service(signup::verify_signup)
        .service(handlers::jwks);
}

/// The client address rate limits are counted by: the TCP peer. A proxy in front of dockgate
/// makes every caller one address; the per-account limits still hold (see README).
pub fn client_addr(req: &HttpRequest) -> String {
    req.peer_addr().map_or_else(|| "unknown".to_owned(), |addr| addr.ip().to_string())
}
