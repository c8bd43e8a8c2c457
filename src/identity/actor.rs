//! The caller ([`Actor`]) as an actix extractor: any handler that takes one requires a valid
//! bearer token, of one of three forms told apart before anything is verified:
//!
//! - a person's access token (`typ: JWT`): the session must still be live and the person still
//!   allowed to sign in, so logout, deactivation and password changes take effect inside
//!   dockgate at once (other services honour tokens until they expire);
//! - an API client's access token (`typ: at+jwt`): the client must still be active and its
//!   customer active, so revoking a client ends its tokens at once;
//! - a client's long-lived token (`dgt_...`): resolved by its hash on every request, live
//!   (neither revoked nor expired), of an active client.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use super::{clients, sessions, tokens};
use crate::accounts::{Actor, Principal};
use crate::db;
use crate::error::AppError;
use crate::origin::Origin;
use crate::permissions::DataScope;
use crate::state::AppState;

const MISSING: AppError =
    AppError::Unauthorized("A bearer token is required (Authorization: Bearer <access token>).");
const INVALID: AppError = AppError::Unauthorized("The access token is missing, invalid or expired.");

pub(super) fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

impl FromRequest for Actor {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let Origin { request_id, client_addr, .. } = Origin::of(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
            let token = token.ok_or(MISSING)?;
            let (principal, data_scope, groups) = if token.starts_with(clients::TOKEN_PREFIX) {
                long_lived(&state, token).await?
            } else if tokens::typ_of(&token).as_deref() == Some(tokens::CLIENT_TYP) {
                client(&state, &token).await?
            } else {
                person(&state, &token).await?
            };
            Ok(Actor { principal, data_scope, groups, request_id, client_addr })
        })
    }
}

type Authenticated = (Principal, DataScope, Vec<uuid::Uuid>);

async fn person(state: &AppState, token: &str) -> Result<Authenticated, AppError> {
    let config = &state.config;
    let claims = tokens::verify(&state.keys, token, &config.jwt_issuer, &config.jwt_audience).await?;
    let (session_id, user_id) = (claims.sid.into(), claims.sub.into());
    let (lifetimes, now) = (config.sessions, config.clock.now());
    let (live, groups) =
        db::run(&state.pool, move |conn| sessions::live_account(conn, session_id, user_id, &lifetimes, now))
            .await?
            .ok_or(INVALID)?;
    let sessions::Live { account, amr, impersonator, customer } = live;
    let data_scope = account.data_scope;
    Ok((Principal::Person { session_id, account, amr, impersonator, customer }, data_scope, groups))
}

async fn client(state: &AppState, token: &str) -> Result<Authenticated, AppError> {
    let config = &state.config;
    let claims = tokens::verify_client(&state.keys, token, &config.jwt_issuer, &config.jwt_audience).await?;
    let now = config.clock.now();
    let (caller, data_scope, groups) = db::run(&state.pool, move |conn| {
        let Some((found, standing)) = clients::by_id(conn, claims.sub)? else { return Ok(None) };
        clients::caller(conn, found, standing, Some(&claims.permissions), now)
    })
    .await?
    .ok_or(INVALID)?;
    Ok((Principal::Client(caller), data_scope, groups))
}

async fn long_lived(state: &AppState, token: String) -> Result<Authenticated, AppError> {
    let now = state.config.clock.now();
    let (caller, data_scope, groups) = db::run(&state.pool, move |conn| {
        let Some((found, standing)) = clients::by_token(conn, &token, now)? else { return Ok(None) };
        clients::caller(conn, found, standing, None, now)
    })
    .await?
    .ok_or(INVALID)?;
    Ok((Principal::Client(caller), data_scope, groups))
}
