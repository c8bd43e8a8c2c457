//! The steps of inviting people in bulk (`POST /v1/customers/{customer_id}/invitations`):
//! what a request may ask ([`validate`]), whether its invitations can go ([`Sender::check`]),
//! and each address's result ([`Sender::result`]); and the invitation mail, also of a resend.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::{PgConnection, QueryResult};
use uuid::Uuid;

use super::dto::{CreateInvitations, InvitationView, InviteResult, SkipReason};
use super::models::{InvitationRow, InvitationStatus, Terms};
use super::{TOKEN_PREFIX, VALIDITY, queries};
use crate::accounts::{AccountStatus, Actor, UserRow, queries as accounts};
use crate::audit::{self, Author};
use crate::config::Config;
use crate::db::ids::{AddressId, CostCenterId, CustomerId, InvitationId};
use crate::db::types::Email;
use crate::error::AppError;
use crate::mail::{self, Mail, throttle};
use crate::policy;
use crate::users::models::AccessRequest;
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
pub(super) struct Request {
    pub terms: Terms,
    pub candidates: Vec<(String, Result<Email, SkipReason>)>,
}

/// The rules of user creation for the terms (403 for an owner unless staff or the owner, 422
/// for permissions or groups the caller may not give), and each address classified; the
/// first of several spellings of one address counts.
pub(super) fn validate(
    actor: &Actor,
    customer_id: CustomerId,
    body: CreateInvitations,
) -> Result<Request, AppError> {
    let access = AccessRequest { data_scope: body.data_scope, group_ids: body.group_ids };
    let grant = rules::grant(actor, customer_id, body.role, body.permissions.as_deref(), access)?;
    let terms = Terms {
        role: grant.role,
        permissions: grant.permissions.into_iter().map(Some).collect(),
        group_ids: grant.group_ids.into_iter().map(Some).collect(),
        warehouse_address_id: body.warehouse_address_id.map(AddressId::from),
        cost_center_id: body.cost_center_id.map(CostCenterId::from),
        data_scope: grant.data_scope,
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
pub(super) struct Sender {
    actor: Actor,
    author: Author,
    config: Config,
    customer_id: CustomerId,
    customer_name: String,
    terms: Terms,
    now: DateTime<Utc>,
}

impl Sender {
    /// `actor` invites to `customer_id` on `terms`, now; [`Sender::check`] before it does.
    pub(super) fn new(actor: Actor, config: &Config, customer_id: CustomerId, terms: Terms) -> Self {
        let (author, now) = (Author::from(&actor), config.clock.now());
        let config = config.clone();
        Self { actor, author, config, customer_id, customer_name: String::new(), terms, now }
    }

    /// The invitations can go: the customer exists (404) and takes logins (409), and the terms'
    /// address, cost center and groups are the customer's and the caller's to give (422).
    pub(super) fn check(conn: &mut PgConnection, sender: Sender) -> Result<Sender, AppError> {
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
            Some(user)
                if !policy::covers(&self.actor, user.data_scope, &accounts::groups_of(conn, user)?) =>
            {
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
        rules::set_access(conn, self.customer_id, user.id.into(), &self.terms.access())?;
        let (token, token_hash) = crate::secrets::new_secret(TOKEN_PREFIX)?;
        let new = InvitationRow {
            customer_id: self.customer_id,
            id: InvitationId::new(),
            user_id: Some(user.id.into()),
            email,
            terms: self.terms.clone(),
            status: InvitationStatus::Pending,
            token_hash,
            expires_at: self.now + VALIDITY,
            invited_by: Some(self.actor.id().into()),
            send_count: 1,
            last_sent_at: self.now,
            created_at: self.now,
            updated_at: self.now,
        };
        let row = queries::insert(conn, &new)?;
        send_mail(conn, &self.config, &row, (&self.customer_name, self.actor.name()), &token)?;
        // A resend within the minute is refused; the first mail itself always goes.
        throttle::record(conn, &row.email, throttle::Kind::Invitation, self.now)?;
        let view = InvitationView::new(&row, self.now);
        audit::record(conn, &self.author, write::event(audit::Action::InvitationCreated, None, Some(&view)))?;
        Ok(view)
    }

    /// The result for one address of the request.
    pub(super) fn result(
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

/// "30 November 2026": the day the link stops working, for the mail.
pub(super) fn expires_on(expires_at: DateTime<Utc>) -> String {
    expires_at.format("%-d %B %Y").to_string()
}

/// Queues the invitation mail with the link of `token`.
pub(super) fn send_mail(
    conn: &mut PgConnection,
    config: &Config,
    invitation: &InvitationRow,
    (customer_name, inviter_name): (&str, &str),
    token: &str,
) -> QueryResult<()> {
    let invitation_mail = Mail::Invitation {
        customer_name: customer_name.to_owned(),
        inviter_name: inviter_name.to_owned(),
        link: mail::link(&config.portal_url, "invitations/accept", token),
        expires_on: expires_on(invitation.expires_at),
    };
    mail::enqueue(conn, Some(invitation.customer_id.into()), &invitation.email, &invitation_mail).map(drop)
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
        assert_eq!(at.map(super::expires_on).ok().as_deref(), Some("30 November 2026"));
    }
}
