//! Who may speak SCIM: an API client of a customer (its long-lived `dgt_` token, the static
//! bearer token identity providers paste, or its client-credentials access token; the house's
//! [`Actor`] extractor verifies both) with `users.manage`, seeing all of its customer's data.
//! A directory syncs the whole customer, so a client limited to groups is refused (403) rather
//! than shown a part of the directory it would then "fix"; people's tokens and platform
//! clients are refused too. Each client's requests are counted against SCIM's own limit.

use actix_web::{FromRequest, HttpRequest, web};

use super::limits;
use super::response::{BASE_PATH, ScimError};
use crate::accounts::Actor;
use crate::db::{self, ids::CustomerId};
use crate::policy::{self, Action};
use crate::state::AppState;

/// An authenticated, authorized SCIM caller.
pub struct Caller {
    pub actor: Actor,
    pub customer_id: CustomerId,
    /// `https://host/scim/v2`, for `meta.location` and `Location`.
    pub base: String,
}

const CLIENTS_ONLY: &str =
    "SCIM is for API clients of a customer (a dgt_ token or a client-credentials access token).";
const ALL_DATA_ONLY: &str = "A SCIM client provisions the whole customer; this client is limited to groups. \
     Use a client that sees all of the customer's data.";

/// Authenticates (401), authorizes (403) and counts (429) the request.
pub async fn caller(req: &HttpRequest, state: &web::Data<AppState>) -> Result<Caller, ScimError> {
    let actor = Actor::extract(req).await.map_err(ScimError::from)?;
    let Some(client) = actor.client() else { return Err(ScimError::forbidden(CLIENTS_ONLY)) };
    let Some(customer_id) = client.customer_id else { return Err(ScimError::forbidden(CLIENTS_ONLY)) };
    let customer_id = CustomerId::from(customer_id);
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    if policy::group_scope(&actor).is_some() {
        return Err(ScimError::forbidden(ALL_DATA_ONLY));
    }
    let (client_id, per_minute) = (client.id, state.config.scim_requests_per_minute);
    if let Some(wait) = db::run(&state.pool, move |conn| limits::count(conn, client_id, per_minute)).await? {
        return Err(ScimError::too_many(wait));
    }
    let info = req.connection_info();
    let base = format!("{}://{}{BASE_PATH}", info.scheme(), info.host());
    Ok(Caller { actor, customer_id, base })
}
