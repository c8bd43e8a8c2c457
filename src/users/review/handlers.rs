//! `GET /v1/customers/{customer_id}/access-review` (JSON or CSV) and
//! `POST .../access-review/reviewed`.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::dto::{AccessFlag, AccessReview, Reviewed, ReviewedApiClient, ReviewedPerson};
use super::queries;
use crate::accounts::{Actor, UserRow};
use crate::api_clients::models::ApiClientRow;
use crate::audit::{self, Author, Event, Visibility};
use crate::db::{self, ids::CustomerId};
use crate::error::AppError;
use crate::extract::NoBody;
use crate::openapi::sets;
use crate::permissions::Permission;
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::users::import::{cell, wants_csv};

/// Unused for this long, a login or client is worth a question.
const UNUSED: chrono::Duration = chrono::Duration::days(90);

/// The flags for holding a permission that matters.
fn permission_flags(permissions: &[Permission]) -> Vec<AccessFlag> {
    [
        (Permission::PricingView, AccessFlag::HoldsPricingView),
        (Permission::PaymentsManage, AccessFlag::HoldsPaymentsManage),
        (Permission::UsersManage, AccessFlag::HoldsUsersManage),
    ]
    .into_iter()
    .filter(|(permission, _)| permissions.contains(permission))
    .map(|(_, flag)| flag)
    .collect()
}

/// Unused since `last` (or, never used, since `created`) for [`UNUSED`] at `now`.
fn unused(last: Option<DateTime<Utc>>, created: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    last.unwrap_or(created) + UNUSED <= now
}

fn person(row: UserRow, groups: Vec<Uuid>, max_age: chrono::Duration, now: DateTime<Utc>) -> ReviewedPerson {
    let permissions = row.effective_permissions();
    let mut flags = permission_flags(&permissions);
    // Only a login signs in, has a password and needs a second factor.
    let login = row.login_enabled && row.email.is_some();
    if login && unused(row.last_login_at, row.created_at, now) {
        flags.push(AccessFlag::NoSignIn90Days);
    }
    if row.password_hash.is_some() && row.password_changed_at.unwrap_or(row.created_at) + max_age <= now {
        flags.push(AccessFlag::PasswordOlderThanMaxAge);
    }
    if login && !row.mfa_enabled() {
        flags.push(AccessFlag::NoMfa);
    }
    ReviewedPerson {
        id: row.id,
        email: row.email.as_ref().map(|e| e.as_str().to_owned()),
        mfa_enabled: row.mfa_enabled(),
        name: row.name,
        role: row.role,
        status: row.status,
        login_enabled: row.login_enabled,
        permissions,
        data_scope: row.data_scope,
        group_ids: groups,
        last_login_at: row.last_login_at,
        password_changed_at: row.password_changed_at,
        valid_until: row.valid_until,
        created_at: row.created_at,
        flags,
    }
}

fn client(row: ApiClientRow, groups: Vec<Uuid>, now: DateTime<Utc>) -> ReviewedApiClient {
    let permissions: Vec<Permission> = row.scopes.iter().flatten().copied().collect();
    let mut flags = permission_flags(&permissions);
    if unused(row.last_used_at, row.created_at, now) {
        flags.push(AccessFlag::NoSignIn90Days);
    }
    ReviewedApiClient {
        id: row.id.into(),
        client_id: row.client_id,
        name: row.name,
        status: row.status,
        permissions,
        data_scope: row.data_scope,
        group_ids: groups,
        last_used_at: row.last_used_at,
        created_at: row.created_at,
        flags,
    }
}

/// `(owner, group)` pairs as each owner's groups.
fn grouped(pairs: Vec<(Uuid, Uuid)>) -> HashMap<Uuid, Vec<Uuid>> {
    let mut by_owner: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (owner, group) in pairs {
        by_owner.entry(owner).or_default().push(group);
    }
    by_owner
}

/// Joins a list into one CSV cell.
fn joined<T: ToString>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(";")
}

fn time(at: Option<DateTime<Utc>>) -> String {
    at.map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default()
}

const CSV_HEADER: [&str; 17] = [
    "type",
    "id",
    "name",
    "email",
    "client_id",
    "role",
    "status",
    "login_enabled",
    "permissions",
    "data_scope",
    "group_ids",
    "mfa_enabled",
    "last_used_at",
    "password_changed_at",
    "valid_until",
    "created_at",
    "flags",
];

/// The review as CSV: a header row, then one line per person (`type` `person`) and per client
/// (`type` `api_client`); lists `;`-separated, cells a spreadsheet would run as formulas
/// defused with a leading `'`.
fn csv_review(review: &AccessReview) -> Result<Vec<u8>, AppError> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    let failed = |e: csv::Error| AppError::internal(format!("writing the access review CSV: {e}"));
    writer.write_record(CSV_HEADER).map_err(failed)?;
    for p in &review.people {
        writer
            .write_record([
                "person".to_owned(),
                p.id.to_string(),
                cell(&p.name),
                cell(p.email.as_deref().unwrap_or_default()),
                String::new(),
                p.role.to_string(),
                p.status.to_string(),
                p.login_enabled.to_string(),
                joined(&p.permissions),
                p.data_scope.to_string(),
                joined(&p.group_ids),
                p.mfa_enabled.to_string(),
                time(p.last_login_at),
                time(p.password_changed_at),
                time(p.valid_until),
                time(Some(p.created_at)),
                joined(&p.flags),
            ])
            .map_err(failed)?;
    }
    for c in &review.api_clients {
        writer
            .write_record([
                "api_client".to_owned(),
                c.id.to_string(),
                cell(&c.name),
                String::new(),
                cell(&c.client_id),
                String::new(),
                c.status.to_string(),
                String::new(),
                joined(&c.permissions),
                c.data_scope.to_string(),
                joined(&c.group_ids),
                String::new(),
                time(c.last_used_at),
                String::new(),
                String::new(),
                time(Some(c.created_at)),
                joined(&c.flags),
            ])
            .map_err(failed)?;
    }
    writer.into_inner().map_err(|e| AppError::internal(format!("the access review CSV: {e}")))
}

/// Review a customer's access
///
/// Every person and API client of the customer with its role, effective permissions, data
/// scope and groups, MFA, last sign-in (or use), password age and `valid_until`, and flags
/// for what deserves a look: `holds_pricing_view`, `holds_payments_manage`,
/// `holds_users_manage`, `no_sign_in_90_days` (a login or client unused for 90 days; never
/// used counts once it is 90 days old), `password_older_than_max_age`
/// (`ACCESS_REVIEW_PASSWORD_MAX_AGE`, from the last change, else from creation) and `no_mfa`
/// (people with a login). With `Accept: text/csv` the same as a CSV attachment, one line per
/// person and client (`type`: `person` or `api_client`). Staff, and the customer's people with
/// `users.manage` and the data scope `all` (403 otherwise: the review lists every group's
/// people).
#[utoipa::path(
    tag = "customers",
    operation_id = "getAccessReview",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The review.", content(
            (AccessReview = "application/json"),
            (String = "text/csv", example = json!("type,id,name,email,client_id,role,status,login_enabled,permissions,data_scope,group_ids,mfa_enabled,last_used_at,password_changed_at,valid_until,created_at,flags\r\nperson,01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d50,Jana Berg,jana.berg@acme.example,,user,active,true,orders.view;pricing.view,all,,false,2026-11-30T07:45:00Z,,,2025-10-02T10:00:00Z,holds_pricing_view;no_mfa\r\n")),
        ), headers(("Content-Disposition" = String, description = "For CSV: `attachment; filename=\"access-review-<customer_id>.csv\"`."))),
        sets::SignedIn, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}/access-review")]
pub async fn get_access_review(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    customer_id: web::Path<CustomerId>,
) -> Result<HttpResponse, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ReviewAccess, customer_id)?;
    let now = state.config.clock.now();
    let max_age = chrono::Duration::from_std(state.config.sign_in.access_review_password_max_age)
        .unwrap_or(chrono::Duration::MAX);
    let review = db::transaction(&state.pool, move |conn| {
        let (reviewed_at, reviewed_by) = queries::last_review(conn, customer_id)?;
        let mut memberships = grouped(queries::memberships(conn, customer_id)?);
        let people = queries::people(conn, customer_id)?;
        let mut client_groups = grouped(queries::client_groups(conn, customer_id)?);
        let clients = queries::clients(conn, customer_id)?;
        let people = people
            .into_iter()
            .map(|row| {
                let groups = memberships.remove(&row.id).unwrap_or_default();
                person(row, groups, max_age, now)
            })
            .collect();
        let api_clients = clients
            .into_iter()
            .map(|row| {
                let groups = client_groups.remove(&Uuid::from(row.id)).unwrap_or_default();
                client(row, groups, now)
            })
            .collect();
        Ok(AccessReview {
            customer_id: customer_id.into(),
            generated_at: now,
            reviewed_at,
            reviewed_by,
            people,
            api_clients,
        })
    })
    .await?;
    if wants_csv(&req) {
        let body = csv_review(&review)?;
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"access-review-{}.csv\"", review.customer_id),
            ))
            .body(body));
    }
    Ok(HttpResponse::Ok().json(review))
}

/// Record an access review
///
/// Records that the caller reviewed the customer's access now (`reviewed_at`, `reviewed_by`
/// in the next review), audited as `customer.access_reviewed`. Who may read the review may
/// record it.
#[utoipa::path(
    tag = "customers",
    operation_id = "recordAccessReview",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Recorded.", body = Reviewed),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing,
    )
)]
#[post("/v1/customers/{customer_id}/access-review/reviewed")]
pub async fn record_access_review(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<CustomerId>,
    _body: NoBody,
) -> Result<HttpResponse, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ReviewAccess, customer_id)?;
    let author = Author::from(&actor);
    let reviewer = actor.id();
    let reviewed = db::transaction(&state.pool, move |conn| {
        let reviewed_at = queries::mark_reviewed(conn, customer_id, reviewer)?.ok_or(AppError::NotFound)?;
        audit::record(
            conn,
            &author,
            Event {
                action: audit::Action::CustomerAccessReviewed,
                target_type: audit::Target::Customer,
                target_id: customer_id.into(),
                customer_id: Some(customer_id.into()),
                changes: serde_json::json!({
                    "access_reviewed_at": {"to": reviewed_at},
                    "access_reviewed_by": {"to": reviewer},
                }),
                visibility: Visibility::Everyone,
                data: None,
                before: None,
            },
        )?;
        Ok(Reviewed { reviewed_at, reviewed_by: reviewer })
    })
    .await?;
    Ok(HttpResponse::Ok().json(reviewed))
}
