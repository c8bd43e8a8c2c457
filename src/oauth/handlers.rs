//! `POST /v1/oauth/token`.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::StreamExt;

use super::dto::{ClientTokenResponse, GrantType, OAuthError, OAuthErrorCode, TokenRequest, no_store};
use crate::db::{self, types::Email};
use crate::error::AppError;
use crate::identity::clients::{self, Credential};
use crate::identity::rate_limit;
use crate::identity::tokens::{self, ClientClaims, ClientKind, TokenType};
use crate::origin::client_addr;
use crate::permissions::Permission;
use crate::state::AppState;

/// A token request is a few short fields; anything longer is not one.
const MAX_BODY: usize = 8 * 1024;

const FORM: &str = "application/x-www-form-urlencoded";

/// Get an access token for an API client
///
/// The OAuth 2.0 client-credentials grant (RFC 6749 section 4.4). Authenticate the client with
/// HTTP Basic (RFC 6749 section 2.3.1: `client_id` and `client_secret` each
/// form-urlencoded, joined by `:`, base64) or with the form fields `client_id` and
/// `client_secret`; both at once is an `invalid_request`. `scope` (space-separated) asks for a
/// subset of the client's scopes; omitted, the token carries all of them. The access token is
/// an EdDSA JWT with `typ: at+jwt` (RFC 9068); there is no refresh token.
///
/// Errors are RFC 6749's `{"error", "error_description"}`, never problem details. An unknown
/// client and a wrong secret get the same 401 `invalid_client` (with `WWW-Authenticate: Basic
/// realm="dockgate"`) in the same time; failed attempts are limited per client and per client
/// address like sign-ins (429 `temporarily_unavailable` with `Retry-After`). Every answer
/// carries `Cache-Control: no-store` and `Pragma: no-cache`.
#[utoipa::path(
    tag = "oauth",
    operation_id = "issueClientToken",
    security((), ("client_basic" = [])),
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "An access token.", body = ClientTokenResponse,
            headers(("Cache-Control" = String, description = "`no-store`."), ("Pragma" = String, description = "`no-cache`."))),
        (status = 400, description = "`invalid_request`, `unsupported_grant_type`, `invalid_scope` or `unauthorized_client`.",
            body = OAuthError, content_type = "application/json",
            headers(("Cache-Control" = String, description = "`no-store`."), ("Pragma" = String, description = "`no-cache`.")),
            example = json!({"error": "invalid_scope", "error_description": "The client does not have the scope pricing.view."})),
        (status = 401, description = "`invalid_client`: unknown client, wrong secret, revoked client, or no client authentication.",
            body = OAuthError, content_type = "application/json",
            headers(("WWW-Authenticate" = String, description = "`Basic realm=\"dockgate\"`."),
                ("Cache-Control" = String, description = "`no-store`."), ("Pragma" = String, description = "`no-cache`.")),
            example = json!({"error": "invalid_client", "error_description": "Client authentication failed."})),
        (status = 429, description = "`temporarily_unavailable`: too many failed attempts.",
            body = OAuthError, content_type = "application/json",
            headers(("Retry-After" = String, description = "Seconds to wait."),
                ("Cache-Control" = String, description = "`no-store`."), ("Pragma" = String, description = "`no-cache`.")),
            example = json!({"error": "temporarily_unavailable", "error_description": "Too many failed attempts; retry later."})),
        (status = 503, description = "`temporarily_unavailable`: the database cannot be reached.",
            body = OAuthError, content_type = "application/json",
            headers(("Cache-Control" = String, description = "`no-store`."), ("Pragma" = String, description = "`no-cache`.")),
            example = json!({"error": "temporarily_unavailable", "error_description": "The service is unavailable; retry later."})),
    )
)]
#[post("/v1/oauth/token")]
pub async fn issue_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    match token(&state, &req, payload).await {
        Ok(answer) => no_store(&mut HttpResponse::Ok()).json(answer),
        Err(error) => error.into(),
    }
}

async fn token(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<ClientTokenResponse, OAuthError> {
    let form = read_form(req, payload).await?;
    let basic = basic_credentials(req)?;
    let (client_id, secret) = match (basic, form.get("client_id"), form.get("client_secret")) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(OAuthError::invalid_request(
                "Authenticate the client one way only: HTTP Basic or the form fields, not both.",
            ));
        }
        (Some(credentials), None, None) => credentials,
        (None, Some(id), Some(secret)) => (id.clone(), secret.clone()),
        (None, _, _) => return Err(OAuthError::invalid_client()),
    };
    match form.get("grant_type").map(String::as_str) {
        None => return Err(OAuthError::invalid_request("grant_type is required.")),
        Some(grant) if grant.parse::<GrantType>().is_err() => {
            return Err(OAuthError::new(
                OAuthErrorCode::UnsupportedGrantType,
                "Only grant_type=client_credentials is supported.",
            ));
        }
        Some(_) => {}
    }
    let asked = form.get("scope").map(|scope| requested_scopes(scope)).transpose()?;
    let client = authenticate(state, req, client_id, secret).await?;

    let now = state.config.clock.now();
    let granted = match asked {
        None => client.scopes(),
        Some(asked) => {
            let held = client.scopes();
            if let Some(missing) = asked.iter().find(|scope| !held.contains(scope)) {
                return Err(OAuthError::new(
                    OAuthErrorCode::InvalidScope,
                    format!("The client does not have the scope {missing}."),
                ));
            }
            asked
        }
    };
    let (caller, data_scope, groups) = db::run(&state.pool, move |conn| {
        let standing = clients::standing(conn, client.id)?;
        clients::caller(conn, client, standing, Some(&granted), now)
    })
    .await?
    .ok_or_else(|| {
        OAuthError::new(OAuthErrorCode::UnauthorizedClient, "The client's customer is suspended.")
    })?;

    let config = &state.config;
    let issued_at = now.timestamp();
    let ttl = config.access_token_ttl.as_secs();
    let scope = caller.permissions.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" ");
    let claims = ClientClaims {
        iss: config.jwt_issuer.clone(),
        aud: config.jwt_audience.clone(),
        sub: caller.id,
        client_id: caller.client_id.clone(),
        exp: issued_at + i64::try_from(ttl).unwrap_or(900),
        iat: issued_at,
        jti: uuid::Uuid::now_v7(),
        scope: scope.clone(),
        kind: ClientKind::ApiClient,
        customer_id: caller.customer_id,
        permissions: caller.permissions.clone(),
        groups: crate::accounts::UserRow::groups_claim(data_scope, &groups),
    };
    let access_token = tokens::sign_client(&state.keys, &claims).await?;
    Ok(ClientTokenResponse { access_token, token_type: TokenType::Bearer, expires_in: ttl, scope })
}

/// The form's parameters; a body that is not a form, is too long, or repeats a parameter (RFC
/// 6749 section 3.2) is an `invalid_request`.
async fn read_form(
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<BTreeMap<String, String>, OAuthError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case(FORM) {
        return Err(OAuthError::invalid_request(format!("The body must be {FORM}.")));
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| OAuthError::invalid_request("The body could not be read."))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(OAuthError::invalid_request("The body is too long for a token request."));
        }
        body.extend_from_slice(&chunk);
    }
    let text =
        std::str::from_utf8(&body).map_err(|_| OAuthError::invalid_request("The body is not UTF-8."))?;
    let mut form = BTreeMap::new();
    for (name, value) in url::form_urlencoded::parse(text.as_bytes()) {
        if form.insert(name.clone().into_owned(), value.into_owned()).is_some() {
            return Err(OAuthError::invalid_request(format!("The parameter {name} is repeated.")));
        }
    }
    Ok(form)
}

/// The client id and secret of an `Authorization: Basic` header, each form-urlencoded as RFC
/// 6749 section 2.3.1 says (so `%2D` is `-` and `+` a space); `None` without the header.
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else { return Ok(None) };
    let malformed = || OAuthError::invalid_request("The Authorization header is not valid HTTP Basic.");
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = value.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_request("Authenticate the client with HTTP Basic or the form."));
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    Ok(Some((form_decode(id), form_decode(secret))))
}

fn form_decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// The permissions of a `scope` parameter: space-separated, each one of the catalog.
fn requested_scopes(scope: &str) -> Result<Vec<Permission>, OAuthError> {
    let mut scopes = Vec::new();
    for name in scope.split(' ') {
        let permission = name.parse::<Permission>().map_err(|_| {
            OAuthError::new(OAuthErrorCode::InvalidScope, format!("{name:?} is not a scope dockgate has."))
        })?;
        scopes.push(permission);
    }
    scopes.sort();
    scopes.dedup();
    Ok(scopes)
}

/// The client, if `secret` is its own and it is active. The attempt is counted before the
/// secret is compared (like a sign-in: per client from one address, per client, per address),
/// and released when it succeeds. An unknown client costs the same lookup and comparison as a
/// wrong secret, and gets the same answer.
async fn authenticate(
    state: &AppState,
    req: &HttpRequest,
    client_id: String,
    secret: String,
) -> Result<Credential, OAuthError> {
    let address = client_addr(req);
    let limits = state.config.login_limits;
    let now = state.config.clock.now();
    // Failures are counted by client id in the sign-in table. Client ids start with `dgc_` and
    // have no `@`, so they never meet a person's e-mail address there; anything else presented
    // as an id is counted in one bucket of its own, so that no request here can use up a
    // person's sign-in attempts.
    let well_formed = client_id.starts_with(clients::CLIENT_ID_PREFIX) && !client_id.contains('@');
    let key = if well_formed {
        Email::lookup(&client_id)
    } else {
        Email::lookup(&format!("{}malformed", clients::CLIENT_ID_PREFIX))
    };
    db::run(&state.pool, move |conn| -> Result<Result<Credential, OAuthError>, AppError> {
        let reserved = rate_limit::reserve(conn, &limits, &key, &address)?.admitted()?;
        let found = clients::by_client_id(conn, &client_id)?;
        let matches = clients::secret_matches(found.as_ref(), &secret, now);
        match found {
            Some(client) if matches && client.status == clients::ClientStatus::Active => {
                rate_limit::release(conn, reserved, &key, &address)?;
                Ok(Ok(client))
            }
            _ => Ok(Err(OAuthError::invalid_client())),
        }
    })
    .await
    .map_err(OAuthError::from)?
}
