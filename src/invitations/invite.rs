//! `POST /v1/customers/{customer_id}/invitations`: inviting people in bulk.

use std::collections::HashSet;

use actix_web::{HttpResponse, post, web};
use diesel::prelude::*;
use uuid::Uuid;

use super::dto::{CreateInvitations, InvitationView, InviteResult, InviteResults, Outcome, SkipReason};
use super::handlers::{LOGINS_CLOSED, check_assignable, event, require_for_role, send_mail};
use super::models::{InvitationStatus, NewInvitation};
use super::{TOKEN_PREFIX, VALIDITY, queries};
use crate::accounts::Actor;
use crate::accounts::{AccountStatus, UserRow, queries as accounts};
use crate::audit::{self, Author};
use crate::customers::queries as customers;
use crate::db::schema::users;
use crate::db::{self, types::Email};
use crate::error::{AppError, ConflictKind, FieldCode};
use crate::extract::Json;
use crate::mail::throttle;
use crate::openapi::sets;
use crate::permissions::{Kind, Role};
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::users::dto::CustomerRole;
use crate::users::models::{NewUser, UserChanges};
use crate::users::{queries as user_queries, rules};

/// A well-formed address that is not from a throw-away service, or why not.
fn classify(raw: &str) -> Result<Email, SkipReason> {
    let email = Email::parse(raw).ok_or(SkipReason::InvalidEmail)?;
    let domain = email.as_str().rsplit('@').next().unwrap_or_default();
    if !domain.contains('.') {
        return Err(SkipReason::InvalidEmail);
    }
    if mailchecker::is_valid(email.as_str()) {
        return Ok(email);
    }
    // mailchecker refuses both odd syntax and disposable domains; a plain local part on the
    // same domain tells which it was.
    if mailchecker::is_valid(&format!("probe@{domain}")) {
        Err(SkipReason::InvalidEmail)
    } else {
        Err(SkipReason::NotInvitable)
    }
}

/// What every invitation of one request shares.
struct Terms {
    role: Role,
    permissions: Vec<Option<crate::permissions::Permission>>,
    group_ids: Vec<Uuid>,
    warehouse_address_id: Option<Uuid>,
    cost_center_id: Option<Uuid>,
}

/// The invited user for `email`: a new one, or the invited user of an expired invitation,
/// brought in line with the new terms.
fn invited_user(
    conn: &mut PgConnection,
    customer_id: Uuid,
    email: &Email,
    existing: Option<UserRow>,
    terms: &Terms,
) -> Result<UserRow, AppError> {
    let user = match existing {
        Some(user) => user_queries::update(
            conn,
            user.id,
            &UserChanges {
                role: Some(terms.role),
                permissions: Some(terms.permissions.clone()),
                warehouse_address_id: Some(terms.warehouse_address_id),
                cost_center_id: Some(terms.cost_center_id),
                ..UserChanges::default()
            },
        )?,
        None => diesel::insert_into(users::table)
            .values(&NewUser {
                id: Uuid::now_v7(),
                kind: Kind::CustomerUser,
                customer_id: Some(customer_id),
                email: Some(email.clone()),
                // Until the person chooses one when accepting.
                name: email.to_string(),
                phone: None,
                password_hash: None,
                role: terms.role,
                status: AccountStatus::Invited,
                login_enabled: true,
                permissions: terms.permissions.clone(),
                warehouse_address_id: terms.warehouse_address_id,
                cost_center_id: terms.cost_center_id,
                external_id: None,
            })
            .returning(UserRow::as_returning())
            .get_result(conn)?,
    };
    crate::groups::queries::set_memberships(conn, customer_id, user.id, &terms.group_ids)?;
    Ok(user)
}

/// Invite people
///
/// One result per address, in request order: `invited` (the person now exists as an `invited`
/// user and gets a mail with a link valid 7 days) or `skipped` with a `reason` (nothing created
/// or sent): `invalid_email`, `already_a_user` (a person of this customer has the address; or,
/// for a caller limited to groups, an invited person outside them whose invitation expired),
/// `already_invited` (a pending invitation of this customer that has not expired),
/// `not_invitable` (a disposable mail domain, or an address not available to this customer:
/// one reason for both, so the answer never tells whether the address is registered elsewhere),
/// `duplicate_in_request` (the first occurrence counts; case-insensitive). An address whose
/// invitation expired is invited again (same invited user). Role, permissions, groups, address
/// and cost center follow the rules of user creation; a violation is one 422 (or 403: only
/// staff and the owner may invite an owner) for the whole request, and a suspended customer or
/// one with the portal off is one 409. All or nothing: one transaction.
#[utoipa::path(
    tag = "invitations",
    operation_id = "createInvitations",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path)),
    request_body(content = CreateInvitations, content_type = "application/json"),
    responses(
        (status = 200, description = "One result per address.", body = InviteResults),
        sets::SignedIn, sets::Body, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[post("/v1/customers/{customer_id}/invitations")]
pub async fn create_invitations(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<Uuid>,
    Json(body): Json<CreateInvitations>,
) -> Result<HttpResponse, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let role = Role::from(body.role.unwrap_or(CustomerRole::User));
    require_for_role(&actor, role, customer_id)?;
    let permissions = rules::grants(role, body.permissions.as_deref(), None)?;
    let mut group_ids = match (body.group_ids, policy::group_scope(&actor)) {
        (Some(ids), _) => ids,
        (None, Some(own)) => own,
        (None, None) => Vec::new(),
    };
    check_assignable(&actor, &group_ids)?;
    group_ids.sort();
    group_ids.dedup();
    let terms = Terms {
        role,
        permissions: permissions.into_iter().map(Some).collect(),
        group_ids,
        warehouse_address_id: body.warehouse_address_id,
        cost_center_id: body.cost_center_id,
    };
    let mut seen = HashSet::new();
    let candidates: Vec<(String, Result<Email, SkipReason>)> = body
        .emails
        .into_iter()
        .map(|raw| {
            let verdict = if seen.insert(raw.trim().to_lowercase()) {
                classify(&raw)
            } else {
                Err(SkipReason::DuplicateInRequest)
            };
            (raw, verdict)
        })
        .collect();
    let author = Author::from(&actor);
    let (inviter_id, inviter_name) = (actor.id(), actor.account.name.clone());
    let config = state.config.clone();
    let results = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let now = config.clock.now();
            let customer = customers::find(conn, customer_id)?;
            if !accounts::customer_allows_logins(conn, customer_id)? {
                return Err(AppError::Conflict(ConflictKind::LoginsClosed, LOGINS_CLOSED.into()));
            }
            rules::check_references(
                conn,
                customer_id,
                policy::group_scope(&actor).as_deref(),
                terms.warehouse_address_id,
                terms.cost_center_id,
            )?;
            if !crate::groups::queries::unknown(conn, customer_id, &terms.group_ids)?.is_empty() {
                return Err(AppError::field(
                    "group_ids",
                    FieldCode::Unknown,
                    "names groups that are not this customer's",
                ));
            }
            let mut results = Vec::with_capacity(candidates.len());
            for (raw, verdict) in candidates {
                let skipped = |reason| InviteResult {
                    email: raw.clone(),
                    outcome: Outcome::Skipped,
                    reason: Some(reason),
                    invitation: None,
                };
                let email = match verdict {
                    Ok(email) => email,
                    Err(reason) => {
                        results.push(skipped(reason));
                        continue;
                    }
                };
                let existing = accounts::find_by_email(conn, &email)?;
                let refusal = match &existing {
                    // Someone of another customer, or staff (invited, active or not): the address
                    // is taken, but saying so would tell this customer who is registered elsewhere.
                    Some(user) if user.customer_id != Some(customer_id) => Some(SkipReason::NotInvitable),
                    Some(user) if user.status != AccountStatus::Invited => Some(SkipReason::AlreadyAUser),
                    _ if queries::live_for_email(conn, &email, now)? => Some(SkipReason::AlreadyInvited),
                    // Re-inviting would take over a person outside the caller's groups.
                    Some(user) if !policy::covers(&actor, &accounts::groups_of(conn, user)?) => {
                        Some(SkipReason::AlreadyAUser)
                    }
                    _ => None,
                };
                if let Some(reason) = refusal {
                    results.push(skipped(reason));
                    continue;
                }
                let user = invited_user(conn, customer_id, &email, existing, &terms)?;
                let (token, token_hash) = crate::secrets::new_secret(TOKEN_PREFIX)?;
                let row = queries::insert(
                    conn,
                    &NewInvitation {
                        customer_id,
                        id: Uuid::now_v7(),
                        user_id: Some(user.id),
                        email,
                        role: terms.role,
                        permissions: terms.permissions.clone(),
                        group_ids: terms.group_ids.iter().copied().map(Some).collect(),
                        warehouse_address_id: terms.warehouse_address_id,
                        cost_center_id: terms.cost_center_id,
                        status: InvitationStatus::Pending,
                        token_hash,
                        expires_at: now + VALIDITY,
                        invited_by: Some(inviter_id),
                        send_count: 1,
                        last_sent_at: now,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                send_mail(conn, &config, &row, &customer.row.name, &inviter_name, &token)?;
                // A resend within the minute is refused; the first mail itself always goes.
                throttle::record(conn, &row.email, throttle::Kind::Invitation, now)?;
                let view = InvitationView::new(&row, now);
                audit::record(conn, &author, event(audit::Action::InvitationCreated, None, Some(&view)))?;
                results.push(InviteResult {
                    email: raw,
                    outcome: Outcome::Invited,
                    reason: None,
                    invitation: Some(view),
                });
            }
            Ok::<_, AppError>(results)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(InviteResults { results }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_told_apart_as_invalid_disposable_or_fine() {
        assert_eq!(classify("not an address").err(), Some(SkipReason::InvalidEmail));
        assert_eq!(classify("root@localhost").err(), Some(SkipReason::InvalidEmail));
        assert_eq!(classify("someone@mailinator.com").err(), Some(SkipReason::NotInvitable));
        assert_eq!(classify("x@10minutemail.com").err(), Some(SkipReason::NotInvitable));
        assert_eq!(
            classify(" Jana.Berg@acme.example ").ok().map(|e| e.to_string()),
            Some("Jana.Berg@acme.example".into())
        );
    }

    #[test]
    fn the_mail_names_the_last_day_in_words() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-30T09:30:00Z").map(|d| d.to_utc());
        assert_eq!(at.map(super::super::handlers::expires_on).ok().as_deref(), Some("30 November 2026"));
    }
}
