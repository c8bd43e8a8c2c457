//! Self sign-up (contract section 8): someone gives the e-mail address a customer lists as its
//! contact, a name and a password; a verification link is mailed when that customer allows self
//! sign-up, and following the link creates the user (the first becomes the customer's owner).
//!
//! The request always gets the same 202 and does its work in the background, so neither the
//! status nor the time tells whether an address belongs to a customer. The password is hashed
//! when the request is made, so the link alone finishes the sign-up.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::dto::{SignupRequest, SignupResult, VerifySignup};
use crate::accounts::{Amr, UserRow, mails::describe, queries as accounts};
use crate::audit::{self, Author, Event};
use crate::config::Config;
use crate::customers::models::{CustomerRow, CustomerStatus};
use crate::customers::queries as customers;
use crate::db::schema::{customers as customers_table, signup_requests};
use crate::db::{self, DbPool, ids::CustomerId, types::Email};
use crate::error::{AppError, ConflictKind, FieldCode};
use crate::extract::Json;
use crate::identity::hasher::HashSlot;
use crate::identity::steps::{self, SignInResponse};
use crate::identity::{passwords, rate_limit};
use crate::mail::{self, Mail, throttle};
use crate::openapi::sets;
use crate::origin::{Origin, client_addr};
use crate::permissions::{DEFAULT_USER_PERMISSIONS, DataScope, Role};
use crate::state::AppState;
use crate::users::{models::NewUser, queries as users, views};

/// Prefix that makes a leaked sign-up token recognizable to secret scanners.
const PREFIX: &str = "dgs_";

/// How long a verification link works.
const LINK_TTL: Duration = Duration::from_secs(24 * 60 * 60);

const INVALID_LINK: &str = "the link is invalid, expired or already used; sign up again";

const SIGNUP_CLOSED: &str =
    "The customer no longer accepts self sign-up; ask its administrator for an invitation.";

const ALREADY_A_USER: &str = "A user with this e-mail address already exists; sign in or reset the password.";

/// The one customer that lets `email` sign up: its contact address, active, portal and self
/// sign-up on. Two such customers sharing a contact address is ambiguous: none.
fn customer_for(conn: &mut PgConnection, email: &Email) -> QueryResult<Option<CustomerRow>> {
    let mut found: Vec<CustomerRow> = customers_table::table
        .filter(customers_table::contact_email.eq(email))
        .filter(customers_table::status.eq(CustomerStatus::Active))
        .filter(customers_table::portal_enabled.eq(true))
        .filter(customers_table::self_signup_enabled.eq(true))
        .select(CustomerRow::as_select())
        .limit(2)
        .load(conn)?;
    Ok(if found.len() == 1 { found.pop() } else { None })
}

fn allows_signup(customer: &CustomerRow, email: &Email) -> bool {
    customer.status == CustomerStatus::Active
        && customer.portal_enabled
        && customer.self_signup_enabled
        && customer.contact_email.as_ref().is_some_and(|c| c.as_str().eq_ignore_ascii_case(email.as_str()))
}

/// The customer a link may be mailed for, or `None` (no such customer, the address is already a
/// login).
fn eligible(conn: &mut PgConnection, email: &Email) -> QueryResult<Option<CustomerRow>> {
    let Some(customer) = customer_for(conn, email)? else { return Ok(None) };
    if accounts::find_by_email(conn, email)?.is_some() {
        return Ok(None);
    }
    Ok(Some(customer))
}

struct Pending {
    email: Email,
    name: String,
    password: String,
    author: Author,
}

/// The background half of a sign-up: look the address up, and when it may sign up, store the
/// request and queue the mail in one transaction.
async fn request_link(
    pool: DbPool,
    config: Config,
    slot: HashSlot,
    mut pending: Pending,
) -> Result<(), AppError> {
    let email = pending.email.clone();
    let Some(customer) = db::run(&pool, move |conn| eligible(conn, &email)).await? else {
        return Ok(());
    };
    let password_hash = slot.hash(std::mem::take(&mut pending.password)).await?;
    db::transaction(&pool, move |conn| store_request(conn, &config, &customer, &pending, &password_hash))
        .await
}

/// Stores the sign-up request (older unused links of the address die), queues its mail and
/// audits it, unless the address had a link within the last minute (then nothing, silently).
fn store_request(
    conn: &mut PgConnection,
    config: &Config,
    customer: &CustomerRow,
    pending: &Pending,
    password_hash: &str,
) -> Result<(), AppError> {
    let now = config.clock.now();
    if throttle::admit(conn, &pending.email, throttle::Kind::SignupVerification, now)?.is_err() {
        return Ok(());
    }
    let expires_at = now + chrono::Duration::from_std(LINK_TTL).unwrap_or_else(|_| chrono::Duration::days(1));
    diesel::delete(
        signup_requests::table
            .filter(signup_requests::customer_id.eq(customer.id))
            .filter(signup_requests::email.eq(&pending.email))
            .filter(signup_requests::used_at.is_null()),
    )
    .execute(conn)?;
    let (token, token_hash) = crate::secrets::new_secret(PREFIX)?;
    let id = Uuid::now_v7();
    diesel::insert_into(signup_requests::table)
        .values((
            signup_requests::id.eq(id),
            signup_requests::customer_id.eq(customer.id),
            signup_requests::email.eq(&pending.email),
            signup_requests::name.eq(&pending.name),
            signup_requests::password_hash.eq(password_hash),
            signup_requests::token_hash.eq(token_hash),
            signup_requests::created_at.eq(now),
            signup_requests::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    let verification = Mail::SignupVerification {
        name: pending.name.clone(),
        customer_name: customer.name.clone(),
        link: mail::link(&config.portal_url, "signup/verify", &token),
        link_valid_for: describe(LINK_TTL),
    };
    mail::enqueue(conn, Some(customer.id.into()), &pending.email, &verification)?;
    let event = Event {
        action: audit::Action::UserSignupRequested,
        target_type: audit::Target::SignupRequest,
        target_id: id,
        customer_id: Some(customer.id.into()),
        changes: serde_json::json!({}),
        // Who signs up joins no group with data scope `all` (see `insert_user`).
        visibility: audit::Visibility::Unlimited,
        data: None,
        before: None,
    };
    audit::record(conn, &pending.author, event)?;
    Ok(())
}

/// Sign up
///
/// Always 202 with an empty body once the body is valid and the caller is within the limits,
/// whether or not anything happens, and the answer does not wait for the lookup: neither the
/// status nor the time tells whether the address belongs to a customer. When the address is the
/// `contact_email` of exactly one active customer with `portal_enabled` and
/// `self_signup_enabled`, and no login has it yet, a verification link
/// (`{PORTAL_URL}/signup/verify?token=...`, valid 24 hours, single use) is e-mailed; at most one
/// per minute, and a new link replaces the older ones. Requests count against the sign-in
/// limits of the address and of the client address (429 with `Retry-After`). A malformed
/// address or a password failing the policy is a 422.
#[utoipa::path(
    tag = "auth",
    operation_id = "signup",
    request_body(content = SignupRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "If the address may sign up, a verification link is on its way."),
        sets::Body, sets::Served, sets::Limited,
    )
)]
#[post("/v1/auth/signup")]
pub async fn signup(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<SignupRequest>,
) -> Result<HttpResponse, AppError> {
    let email = Email::parse(&body.email)
        .ok_or_else(|| AppError::field("email", FieldCode::Email, "must be an e-mail address"))?;
    passwords::check_policy(&body.password, Some(email.as_str()), "password")
        .map_err(|e| AppError::Validation(vec![e]))?;
    // Taken here, not in the background: a burst beyond the hashing queue gets its 503 (which
    // tells nothing about the address) and does not count as an attempt.
    let slot = state.hasher.admit()?;

    // Every request counts, as a failed sign-in would: checked and recorded before answering.
    let limits = state.config.login_limits;
    let (counted_email, client) = (email.clone(), client_addr(&req));
    db::run(&state.pool, move |conn| rate_limit::reserve(conn, &limits, &counted_email, &client)?.admitted())
        .await?;

    let pending = Pending {
        email,
        name: body.name.trim().to_owned(),
        password: body.password,
        author: Author::anonymous(&Origin::of(&req)),
    };
    let (pool, config): (DbPool, Config) = (state.pool.clone(), state.config.clone());
    tokio::spawn(async move {
        if let Err(error) = request_link(pool, config, slot, pending).await {
            tracing::warn!(%error, "could not handle a sign-up request");
        }
    });
    Ok(HttpResponse::Accepted().finish())
}

/// A stored sign-up request, as a verification uses it up.
#[derive(Queryable)]
struct Request {
    customer_id: Uuid,
    email: Email,
    name: String,
    password_hash: String,
}

/// Uses a live request up; `None` if the token is unknown, used or expired. One conditional
/// UPDATE: of two concurrent verifications exactly one gets the row back.
fn consume(conn: &mut PgConnection, presented: &str, now: DateTime<Utc>) -> QueryResult<Option<Request>> {
    diesel::update(
        signup_requests::table
            .filter(signup_requests::token_hash.eq(crate::secrets::hash_secret(presented)))
            .filter(signup_requests::used_at.is_null())
            .filter(signup_requests::expires_at.gt(now)),
    )
    .set(signup_requests::used_at.eq(diesel::dsl::now))
    .returning((
        signup_requests::customer_id,
        signup_requests::email,
        signup_requests::name,
        signup_requests::password_hash,
    ))
    .get_result(conn)
    .optional()
}

/// Verify a sign-up
///
/// Finishes a sign-up with the token of its e-mailed link: creates the user (active, with the
/// password given at sign-up) and signs it in. The sign-up becomes the customer's `owner` only
/// while the customer has nobody who manages its users (no owner and no admin, in any status);
/// otherwise it is a `user` with the default permissions (`orders.view`, `tracking.view`,
/// `pod.download`). So an admin can never make itself owner by pointing the contact address at
/// itself. A token works once and expires after 24 hours: an invalid,
/// used or expired one is a 422 on `token`. 409 when the customer no longer accepts self
/// sign-up (suspended, portal or self sign-up off, or another contact address) or the address
/// has become a login meanwhile; the link then keeps working until it expires.
#[utoipa::path(
    tag = "auth",
    operation_id = "verifySignup",
    request_body(content = VerifySignup, content_type = "application/json"),
    responses(
        (status = 201, description = "The user is created and signed in.", body = SignupResult,
            headers(("Location" = String, description = "The new user."))),
        sets::Body, sets::Served, sets::Conflicting,
    )
)]
#[post("/v1/auth/signup/verify")]
pub async fn verify_signup(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<VerifySignup>,
) -> Result<HttpResponse, AppError> {
    let origin = Origin::of(&req);
    let config = state.config.clone();
    let token = body.token;
    let (row, user, proceed) = db::transaction(&state.pool, move |conn| {
        let row = sign_up(conn, &token, config.clock.now())?;
        let proceed = steps::proceed(conn, &config, &row, vec![Amr::Pwd], &origin)?;
        let row = accounts::find(conn, row.id)?;
        let user = views::one(conn, &row)?;
        let author = Author {
            actor_id: Some(row.id),
            actor_kind: Some(row.kind.into()),
            ..Author::anonymous(&origin)
        };
        let event = Event {
            action: audit::Action::UserSignedUp,
            target_type: audit::Target::User,
            target_id: row.id,
            customer_id: row.customer_id,
            changes: audit::changes(None, Some(&user)),
            visibility: audit::Visibility::person(user.data_scope, &user.group_ids),
            data: serde_json::to_value(&user).ok(),
            before: None,
        };
        audit::record(conn, &author, event)?;
        Ok((row, user, proceed))
    })
    .await?;
    tracing::info!(user_id = %row.id, role = %row.role.as_str(), "signed up");
    let location = format!("/v1/customers/{}/users/{}", user.customer_id, user.id);
    let tokens = SignInResponse::of(&state, &row, proceed).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::LOCATION, location))
        .json(SignupResult { user, tokens }))
}

/// Uses the request of `token` up and creates its user, while its customer still takes
/// sign-ups and the address is free; other links of the address die. Call in a transaction.
fn sign_up(conn: &mut PgConnection, token: &str, now: DateTime<Utc>) -> Result<UserRow, AppError> {
    let request = consume(conn, token, now)?
        .ok_or_else(|| AppError::field("token", FieldCode::Invalid, INVALID_LINK))?;
    let customer = customers::lock(conn, request.customer_id)?;
    if !allows_signup(&customer.row, &request.email) {
        return Err(AppError::Conflict(ConflictKind::SignupClosed, SIGNUP_CLOSED.into()));
    }
    if accounts::find_by_email(conn, &request.email)?.is_some() {
        return Err(AppError::Conflict(ConflictKind::EmailTaken, ALREADY_A_USER.into()));
    }
    let email = request.email.clone();
    let row = insert_user(conn, request)?;
    // Other links of the address are pointless now.
    diesel::delete(
        signup_requests::table
            .filter(signup_requests::email.eq(&email))
            .filter(signup_requests::used_at.is_null()),
    )
    .execute(conn)?;
    Ok(row)
}

/// Creates the user a verified request asked for, through the one users insert.
fn insert_user(conn: &mut PgConnection, request: Request) -> QueryResult<UserRow> {
    // Only a customer nobody manages yet gets its owner this way: an admin who pointed
    // the contact address at itself must not become owner. The customer row is locked,
    // so two sign-ups cannot both become its owner.
    let customer_id = CustomerId::from(request.customer_id);
    let (role, permissions) = if users::has_user_managers(conn, customer_id)? {
        (Role::User, DEFAULT_USER_PERMISSIONS.to_vec())
    } else {
        (Role::Owner, Vec::new())
    };
    users::insert(
        conn,
        &NewUser {
            email: Some(request.email),
            password_hash: Some(request.password_hash),
            login_enabled: true,
            // A verified sign-up joins in no group and sees all of the customer's data, as
            // before data scopes were explicit; an admin narrows it by giving it groups.
            ..NewUser::new(customer_id, request.name, role, permissions, DataScope::All)
        },
    )
}
