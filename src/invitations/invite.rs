//! `POST /v1/customers/{customer_id}/invitations`: inviting people in bulk.

use std::collections::HashSet;

use actix_web::{post, web};
use chrono::{DateTime, Utc};
use diesel::PgConnection;
use uuid::Uuid;

use super::dto::{CreateInvitations, InvitationView, InviteResult, InviteResults, SkipReason};
use super::handlers::send_mail;
use super::models::{NewInvitation, Terms};
use super::{TOKEN_PREFIX, VALIDITY, queries};
use crate::accounts::{AccountStatus, Actor, UserRow, queries as accounts};
use crate::audit::{self, Author};
use crate::config::Config;
use crate::db::ids::{AddressId, CostCenterId, CustomerId, InvitationId};
use crate::db::{self, types::Email};
use crate::error::AppError;
use crate::extract::Json;
use crate::mail::throttle;
use crate::openapi::sets;
use crate::permissions::Role;
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::users::dto::CustomerRole;
use crate::users::{queries as users, rules};
use crate::write;

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

/// The request, checked as far as it can be without the database: what every invitation
/// shares, and each address with its verdict.
struct Request {
    terms: Terms,
    candidates: Vec<(String, Result<Email, SkipReason>)>,
}

/// The rules of user creation for the terms (403 for an owner unless staff or the owner, 422
/// for permissions or groups the caller may not give), and each address classified; the
/// first of several spellings of one address counts.
fn validate(actor: &Actor, customer_id: CustomerId, body: CreateInvitations) -> Result<Request, AppError> {
    let role = Role::from(body.role.unwrap_or(CustomerRole::User));
    rules::require_owner_rights(actor, role, customer_id)?;
    let permissions = rules::grants(role, body.permissions.as_deref(), None)?;
    let group_ids = rules::groups_for(actor, body.group_ids)?;
    let terms = Terms {
        role,
        permissions: permissions.into_iter().map(Some).collect(),
        group_ids: group_ids.into_iter().map(Some).collect(),
        warehouse_address_id: body.warehouse_address_id.map(AddressId::from),
        cost_center_id: body.cost_center_id.map(CostCenterId::from),
    };
    let mut seen = HashSet::new();
    let candidates = body
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
    Ok(Request { terms, candidates })
}

/// Who invites, to which customer, on which terms, at which moment: one request's invitations.
struct Sender {
    actor: Actor,
    author: Author,
    config: Config,
    customer_id: CustomerId,
    customer_name: String,
    terms: Terms,
    now: DateTime<Utc>,
}

impl Sender {
    /// The invitations can go: the customer exists (404) and takes logins (409), and the terms'
    /// address, cost center and groups are the customer's and the caller's to give (422).
    fn check(conn: &mut PgConnection, sender: Sender) -> Result<Sender, AppError> {
        let customer_name = users::hold_customer(conn, sender.customer_id)?;
        rules::require_logins_open(conn, sender.customer_id)?;
        let terms = &sender.terms;
        let within = policy::group_scope(&sender.actor);
        rules::check_references(
            conn,
            sender.customer_id,
            within.as_deref(),
            terms.warehouse_address_id,
            terms.cost_center_id,
        )?;
        rules::check_groups(conn, sender.customer_id, &terms.groups())?;
        Ok(Sender { customer_name, ..sender })
    }

    /// Why `email` (held by `existing`, if anyone) is not invited, if it is not.
    fn refusal(
        &self,
        conn: &mut PgConnection,
        email: &Email,
        existing: Option<&UserRow>,
    ) -> Result<Option<SkipReason>, AppError> {
        let customer_id = Some(Uuid::from(self.customer_id));
        Ok(match existing {
            // Someone of another customer, or staff (invited, active or not): the address is
            // taken, but saying so would tell this customer who is registered elsewhere.
            Some(user) if user.customer_id != customer_id => Some(SkipReason::NotInvitable),
            Some(user) if user.status != AccountStatus::Invited => Some(SkipReason::AlreadyAUser),
            _ if queries::live_for_email(conn, email, self.now)? => Some(SkipReason::AlreadyInvited),
            // Re-inviting would take over a person outside the caller's groups.
            Some(user) if !policy::covers(&self.actor, &accounts::groups_of(conn, user)?) => {
                Some(SkipReason::AlreadyAUser)
            }
            _ => None,
        })
    }

    /// Invites `email`: its invited user (new, or the one of an expired invitation brought in
    /// line with the terms), the invitation, its mail and its event.
    fn invite(
        &self,
        conn: &mut PgConnection,
        email: Email,
        existing: Option<UserRow>,
    ) -> Result<InvitationView, AppError> {
        let user = match existing {
            Some(user) => users::update(conn, user.id.into(), &self.terms.user_changes())?,
            None => users::insert(conn, &self.terms.new_user(self.customer_id, &email))?,
        };
        rules::set_groups(conn, self.customer_id, user.id.into(), &self.terms.groups())?;
        let (token, token_hash) = crate::secrets::new_secret(TOKEN_PREFIX)?;
        let new = NewInvitation {
            customer_id: self.customer_id,
            id: InvitationId::new(),
            user_id: Some(user.id.into()),
            email,
            terms: self.terms.clone(),
            token_hash,
            expires_at: self.now + VALIDITY,
            invited_by: Some(self.actor.id().into()),
            last_sent_at: self.now,
            created_at: self.now,
            updated_at: self.now,
        };
        let row = queries::insert(conn, &new)?;
        send_mail(conn, &self.config, &row, (&self.customer_name, &self.actor.account.name), &token)?;
        // A resend within the minute is refused; the first mail itself always goes.
        throttle::record(conn, &row.email, throttle::Kind::Invitation, self.now)?;
        let view = InvitationView::new(&row, self.now);
        audit::record(conn, &self.author, write::event(audit::Action::InvitationCreated, None, Some(&view)))?;
        Ok(view)
    }

    /// The result for one address of the request.
    fn result(
        &self,
        conn: &mut PgConnection,
        raw: String,
        verdict: Result<Email, SkipReason>,
    ) -> Result<InviteResult, AppError> {
        let email = match verdict {
            Ok(email) => email,
            Err(reason) => return Ok(InviteResult::skipped(raw, reason)),
        };
        let existing = accounts::find_by_email(conn, &email)?;
        if let Some(reason) = self.refusal(conn, &email, existing.as_ref())? {
            return Ok(InviteResult::skipped(raw, reason));
        }
        Ok(InviteResult::invited(raw, self.invite(conn, email, existing)?))
    }
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
    customer_id: web::Path<CustomerId>,
    Json(body): Json<CreateInvitations>,
) -> Result<web::Json<InviteResults>, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let Request { terms, candidates } = validate(&actor, customer_id, body)?;
    let sender = Sender {
        author: Author::from(&actor),
        actor,
        config: state.config.clone(),
        customer_id,
        customer_name: String::new(),
        terms,
        now: state.config.clock.now(),
    };
    let results = db::transaction(&state.pool, move |conn| {
        let sender = Sender::check(conn, sender)?;
        candidates.into_iter().map(|(raw, verdict)| sender.result(conn, raw, verdict)).collect()
    })
    .await?;
    Ok(web::Json(InviteResults { results }))
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
