//! `/v1/staff` and `/v1/staff/{staff_id}`.

use actix_web::{delete, get, patch, post, web};
use diesel::PgConnection;
use uuid::Uuid;

use super::dto::{CreateStaff, PatchStaff, StaffFilters, StaffRole, StaffStatus, StaffView};
use super::models::{Staff, StaffChanges};
use super::queries;
use crate::accounts::{AccountStatus, Actor, mails, queries as accounts};
use crate::audit;
use crate::db::{self, ids::CustomerId, ids::UserId, types::Email};
use crate::error::{AppError, ConflictKind, FieldCode};
use crate::etag::{self, IfMatch};
use crate::extract::{Json, Query};
use crate::idempotency::{Idempotent, KeyHeader};
use crate::identity::{passwords, sessions};
use crate::openapi::sets;
use crate::pagination::{List, Page, PageParams};
use crate::permissions::Role;
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::write::{self, Deleted, Tagged};

fn parse_email(raw: &str) -> Result<Email, AppError> {
    Email::parse(raw).ok_or_else(|| AppError::field("email", FieldCode::Email, "must be an e-mail address"))
}

/// A platform admin acts everywhere; only dispatchers have a customer scope.
fn check_scope(role: Role, customer_ids: &[Uuid], conn: &mut PgConnection) -> Result<(), AppError> {
    if role == Role::PlatformAdmin && !customer_ids.is_empty() {
        return Err(AppError::field(
            "customer_ids",
            FieldCode::NotAllowed,
            "only dispatchers are limited to customers",
        ));
    }
    let ids: Vec<CustomerId> = customer_ids.iter().copied().map(CustomerId::from).collect();
    if !queries::unknown_customers(conn, &ids)?.is_empty() {
        return Err(AppError::field("customer_ids", FieldCode::Unknown, "names customers that do not exist"));
    }
    Ok(())
}

/// List staff
///
/// The operator's staff, oldest first; `q` matches a substring of the name or e-mail. Platform
/// admins only.
#[utoipa::path(
    tag = "staff",
    operation_id = "listStaff",
    security(("bearer" = [])),
    params(StaffFilters, PageParams),
    responses(
        (status = 200, description = "A page of staff.", body = List<StaffView>),
        sets::SignedIn, sets::Query, sets::Forbidden,
    )
)]
#[get("/v1/staff")]
pub async fn list_staff(
    state: web::Data<AppState>,
    actor: Actor,
    Query(filters): Query<StaffFilters>,
    page: Page,
) -> Result<web::Json<List<StaffView>>, AppError> {
    policy::require_global(&actor, Action::ManageStaff)?;
    let views = db::run(&state.pool, move |conn| {
        queries::list(conn, &filters, page)?.iter().map(StaffView::try_from).collect::<Result<Vec<_>, _>>()
    })
    .await?;
    Ok(web::Json(List::from_rows(views, page, |view| view.id, |view| view)))
}

/// Add a staff member
///
/// With a password (policy: 12 to 128 characters, not the e-mail, not common or easy to guess), or
/// `send_mail: true` to e-mail a welcome with a 7-day link to choose one. The e-mail must not
/// be taken by anyone, staff or customer user (409).
#[utoipa::path(
    tag = "staff",
    operation_id = "createStaff",
    security(("bearer" = [])),
    params(KeyHeader),
    request_body(content = CreateStaff, content_type = "application/json"),
    responses(
        (status = 201, description = "Created.", body = StaffView, headers(("ETag" = String), ("Location" = String))),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Conflicting,
    )
)]
#[post("/v1/staff")]
pub async fn create_staff(
    state: web::Data<AppState>,
    actor: Actor,
    Idempotent(key, Json(mut body)): Idempotent<Json<CreateStaff>>,
) -> Result<Tagged<StaffView>, AppError> {
    policy::require_global(&actor, Action::ManageStaff)?;
    let email = parse_email(&body.email)?;
    let send_mail = body.send_mail.unwrap_or(false);
    crate::users::rules::check_login(true, true, body.password.is_some(), send_mail)?;
    let password_hash = match body.password.take() {
        Some(password) => {
            passwords::check_policy(&password, Some(email.as_str()), "password")
                .map_err(|e| AppError::Validation(vec![e]))?;
            Some(state.hasher.hash(password).await?)
        }
        None => None,
    };
    let scope = body.customer_ids.clone().unwrap_or_default();
    let temporary = password_hash.is_some()
        && body.temporary.unwrap_or(state.config.sign_in.operator_passwords_temporary);
    let account = body.into_account(email, password_hash);
    let config = state.config.clone();
    let insert = move |conn: &mut PgConnection| -> Result<Staff, AppError> {
        check_scope(account.role, &scope, conn)?;
        let mut row = accounts::insert(conn, &account)?;
        if temporary {
            row = accounts::require_password_change(conn, row.id)?;
        }
        if send_mail {
            mails::send_welcome(conn, &config, &row, None)?;
        }
        Ok(Staff(row))
    };
    write::create_once(&state, &actor, key, audit::Action::StaffCreated, insert).await
}

/// Get a staff member
///
/// Platform admins only.
#[utoipa::path(
    tag = "staff",
    operation_id = "getStaff",
    security(("bearer" = [])),
    params(("staff_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The staff member.", body = StaffView, headers(("ETag" = String))),
        sets::SignedIn, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/staff/{staff_id}")]
pub async fn get_staff(
    state: web::Data<AppState>,
    actor: Actor,
    staff_id: web::Path<UserId>,
) -> Result<Tagged<StaffView>, AppError> {
    policy::require_global(&actor, Action::ManageStaff)?;
    let staff_id = staff_id.into_inner();
    let staff = db::run(&state.pool, move |conn| queries::find(conn, staff_id)).await?;
    Ok(Tagged::ok(StaffView::try_from(&staff.0)?))
}

/// Update a staff member
///
/// JSON merge-patch of `name`, `email`, `role`, `customer_ids`, `status`. Deactivating, or
/// changing the role or customer scope, ends the person's sessions at once. You cannot
/// deactivate or demote yourself (409). Honours `If-Match`.
#[utoipa::path(
    tag = "staff",
    operation_id = "patchStaff",
    security(("bearer" = [])),
    params(("staff_id" = Uuid, Path), etag::IfMatchHeader),
    request_body(content = PatchStaff, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated staff member.", body = StaffView, headers(("ETag" = String))),
        sets::SignedIn, sets::Body, sets::Conditional, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[patch("/v1/staff/{staff_id}")]
pub async fn patch_staff(
    state: web::Data<AppState>,
    actor: Actor,
    staff_id: web::Path<UserId>,
    if_match: IfMatch,
    Json(patch): Json<PatchStaff>,
) -> Result<Tagged<StaffView>, AppError> {
    policy::require_global(&actor, Action::ManageStaff)?;
    let staff_id = staff_id.into_inner();
    if Uuid::from(staff_id) == actor.id()
        && (patch.status == Some(StaffStatus::Deactivated) || patch.role == Some(StaffRole::Dispatcher))
    {
        return Err(AppError::Conflict(
            ConflictKind::OwnAccount,
            "You cannot deactivate or demote yourself.".into(),
        ));
    }
    let email = patch.email.as_deref().map(parse_email).transpose()?;
    let lock = move |conn: &mut _| queries::lock(conn, staff_id);
    let change = move |conn: &mut _, before| apply(conn, staff_id, patch, email, before);
    write::update(&state, &actor, audit::Action::StaffUpdated, if_match, lock, change).await
}

/// Applies a patch to the locked staff row. A promotion to platform admin drops the scope it
/// no longer needs; losing access in any way (deactivated, another role or scope) ends the
/// person's sessions in the same transaction.
fn apply(
    conn: &mut PgConnection,
    staff_id: UserId,
    patch: PatchStaff,
    email: Option<Email>,
    Staff(before): Staff,
) -> Result<Staff, AppError> {
    let role = patch.role.map_or(before.role, Role::from);
    let scope = match patch.customer_ids {
        Some(scope) => scope,
        None if role == Role::PlatformAdmin => Vec::new(),
        None => before.customer_scope(),
    };
    check_scope(role, &scope, conn)?;
    let changes = StaffChanges {
        name: patch.name.map(|n| n.trim().to_owned()),
        email,
        role: patch.role.map(Role::from),
        customer_ids: Some(scope.iter().copied().map(Some).collect()),
        status: patch.status.map(AccountStatus::from),
        valid_until: patch.valid_until,
        expired_at: patch.valid_until.map(|_| None),
    };
    let Staff(after) = queries::update(conn, staff_id, &changes)?;
    let access_changed = after.status != AccountStatus::Active
        || after.role != before.role
        || after.customer_scope() != before.customer_scope();
    if access_changed {
        sessions::end_all_for_user(conn, staff_id, sessions::reason::ACCESS_CHANGED)?;
    }
    Ok(Staff(after))
}

/// Delete a staff member
///
/// Removes the person and ends its sessions; the audit log keeps what it did. You cannot
/// delete yourself (409). Honours `If-Match`.
#[utoipa::path(
    tag = "staff",
    operation_id = "deleteStaff",
    security(("bearer" = [])),
    params(("staff_id" = Uuid, Path), etag::IfMatchHeader),
    responses(
        (status = 204, description = "Deleted."),
        sets::SignedIn, sets::Conditional, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[delete("/v1/staff/{staff_id}")]
pub async fn delete_staff(
    state: web::Data<AppState>,
    actor: Actor,
    staff_id: web::Path<UserId>,
    if_match: IfMatch,
) -> Result<Deleted, AppError> {
    policy::require_global(&actor, Action::ManageStaff)?;
    let staff_id = staff_id.into_inner();
    if Uuid::from(staff_id) == actor.id() {
        return Err(AppError::Conflict(ConflictKind::OwnAccount, "You cannot delete yourself.".into()));
    }
    let lock = move |conn: &mut _| queries::lock(conn, staff_id);
    // Sessions go with the row (ON DELETE CASCADE).
    let remove = move |conn: &mut _, _| queries::delete(conn, staff_id).map(drop);
    write::delete(&state, &actor, audit::Action::StaffDeleted, if_match, lock, remove).await
}
