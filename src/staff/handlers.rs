//! `/v1/staff` and `/v1/staff/{staff_id}`.

use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder, delete, get, patch, post, web};
use diesel::prelude::*;
use uuid::Uuid;

use super::dto::{CreateStaff, PatchStaff, StaffFilters, StaffRole, StaffStatus, StaffView};
use super::models::StaffChanges;
use super::queries;
use crate::accounts::Actor;
use crate::accounts::{AccountStatus, NewAccount, UserRow, queries as accounts};
use crate::audit::{self, Author, Event};
use crate::db::{self, types::Email};
use crate::error::{AppError, ConflictKind, FieldCode};
use crate::etag::{self, IfMatch};
use crate::extract::Json;
use crate::identity::{passwords, sessions};
use crate::openapi::sets;
use crate::pagination::{List, PageParams};
use crate::permissions::{Kind, Role};
use crate::policy::{self, Action};
use crate::state::AppState;

fn view(mut response: HttpResponseBuilder, row: &UserRow) -> HttpResponse {
    response.insert_header((header::ETAG, etag::of(row.updated_at))).json(StaffView::from(row))
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
    let unknown = queries::unknown_customers(conn, customer_ids)?;
    if !unknown.is_empty() {
        return Err(AppError::field("customer_ids", FieldCode::Unknown, "names customers that do not exist"));
    }
    Ok(())
}

/// List staff
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
    filters: web::Query<StaffFilters>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    policy::require_global(&actor, Action::ManageStaff)?;
    let page = page.page()?;
    validator::Validate::validate(&*filters)?;
    let filters = filters.into_inner();
    let rows = db::run(&state.pool, move |conn| queries::list(conn, &filters, page)).await?;
    Ok(HttpResponse::Ok().json(List::from_rows(rows, page, |row| row.id, |row| StaffView::from(&row))))
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
    Json(body): Json<CreateStaff>,
) -> Result<HttpResponse, AppError> {
    policy::require_global(&actor, Action::ManageStaff)?;
    let email = Email::parse(&body.email)
        .ok_or_else(|| AppError::field("email", FieldCode::Email, "must be an e-mail address"))?;
    let send_mail = body.send_mail.unwrap_or(false);
    crate::users::rules::check_login(true, true, body.password.is_some(), send_mail)?;
    let password_hash = match body.password {
        Some(password) => {
            passwords::check_policy(&password, Some(email.as_str()), "password")
                .map_err(|e| AppError::Validation(vec![e]))?;
            Some(state.hasher.hash(password).await?)
        }
        None => None,
    };
    let author = Author::from(&actor);
    let role = Role::from(body.role);
    let customer_ids = body.customer_ids.unwrap_or_default();
    let config = state.config.clone();
    let account = NewAccount {
        id: Uuid::now_v7(),
        kind: Kind::Staff,
        customer_id: None,
        email: Some(email),
        name: body.name.trim().to_owned(),
        phone: None,
        password_hash,
        role,
        status: AccountStatus::Active,
        login_enabled: true,
        customer_ids: customer_ids.iter().copied().map(Some).collect(),
        permissions: Vec::new(),
    };
    let row = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            check_scope(role, &customer_ids, conn)?;
            let row = accounts::insert(conn, &account)?;
            if send_mail {
                crate::accounts::mails::send_welcome(conn, &config, &row, None)?;
            }
            audit::record(
                conn,
                &author,
                Event {
                    action: audit::Action::StaffCreated,
                    target_type: audit::Target::Staff,
                    target_id: row.id,
                    customer_id: None,
                    changes: audit::changes(None, Some(&StaffView::from(&row))),
                    visibility: audit::Visibility::Everyone,
                },
            )?;
            Ok::<_, AppError>(row)
        })
    })
    .await?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/v1/staff/{}", row.id)));
    Ok(view(response, &row))
}

/// Get a staff member
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
    staff_id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    policy::require_global(&actor, Action::ManageStaff)?;
    let staff_id = staff_id.into_inner();
    let row = db::run(&state.pool, move |conn| queries::find(conn, staff_id)).await?;
    Ok(view(HttpResponse::Ok(), &row))
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
    staff_id: web::Path<Uuid>,
    if_match: IfMatch,
    Json(patch): Json<PatchStaff>,
) -> Result<HttpResponse, AppError> {
    policy::require_global(&actor, Action::ManageStaff)?;
    let staff_id = staff_id.into_inner();
    if staff_id == actor.id()
        && (patch.status == Some(StaffStatus::Deactivated) || patch.role == Some(StaffRole::Dispatcher))
    {
        return Err(AppError::Conflict(
            ConflictKind::OwnAccount,
            "You cannot deactivate or demote yourself.".into(),
        ));
    }
    let email = match &patch.email {
        Some(raw) => Some(
            Email::parse(raw)
                .ok_or_else(|| AppError::field("email", FieldCode::Email, "must be an e-mail address"))?,
        ),
        None => None,
    };
    let author = Author::from(&actor);
    let row = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let before = queries::lock(conn, staff_id)?;
            if_match.check(&etag::of(before.updated_at))?;
            let role = patch.role.map_or(before.role, Role::from);
            let scope = patch.customer_ids.clone().unwrap_or_else(|| before.customer_scope());
            // A promotion to platform admin drops the scope it no longer needs.
            let scope =
                if role == Role::PlatformAdmin && patch.customer_ids.is_none() { Vec::new() } else { scope };
            check_scope(role, &scope, conn)?;
            let changes = StaffChanges {
                name: patch.name.map(|n| n.trim().to_owned()),
                email,
                role: patch.role.map(Role::from),
                customer_ids: Some(scope.iter().copied().map(Some).collect()),
                status: patch.status.map(AccountStatus::from),
            };
            let after = queries::update(conn, staff_id, &changes)?;
            let access_changed = after.status != AccountStatus::Active
                || after.role != before.role
                || after.customer_scope() != before.customer_scope();
            if access_changed {
                sessions::end_all_for_user(conn, staff_id, sessions::reason::ACCESS_CHANGED)?;
            }
            audit::record(
                conn,
                &author,
                Event {
                    action: audit::Action::StaffUpdated,
                    target_type: audit::Target::Staff,
                    target_id: staff_id,
                    customer_id: None,
                    changes: audit::changes(Some(&StaffView::from(&before)), Some(&StaffView::from(&after))),
                    visibility: audit::Visibility::Everyone,
                },
            )?;
            Ok::<_, AppError>(after)
        })
    })
    .await?;
    Ok(view(HttpResponse::Ok(), &row))
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
    staff_id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    policy::require_global(&actor, Action::ManageStaff)?;
    let staff_id = staff_id.into_inner();
    if staff_id == actor.id() {
        return Err(AppError::Conflict(ConflictKind::OwnAccount, "You cannot delete yourself.".into()));
    }
    let author = Author::from(&actor);
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let before = queries::lock(conn, staff_id)?;
            if_match.check(&etag::of(before.updated_at))?;
            // Sessions go with the row (ON DELETE CASCADE).
            queries::delete(conn, staff_id)?;
            audit::record(
                conn,
                &author,
                Event {
                    action: audit::Action::StaffDeleted,
                    target_type: audit::Target::Staff,
                    target_id: staff_id,
                    customer_id: None,
                    changes: audit::changes(Some(&StaffView::from(&before)), None),
                    visibility: audit::Visibility::Everyone,
                },
            )?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
