//! The steps of inviting people in bulk (`POST /v1/customers/{customer_id}/invitations`):
//! what a request may ask ([`validate`]), whether its invitations can go ([`Sender::check`]),
//! and each address's result ([`Sender::result`]); and the invitation mail, also of a resend.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::{PgConnection, QueryResult};
use uuid::Uuid;

use super::dto::{CreateInvitations, InvitationView, InviteResult, SkipReason};
use super::models::{InvitationRow, InvitationStatus, Terms};
use super::{TOKEN_PREFIX, VALIDITY, queries};
use crate::accounts::{AccountStatus, Actor, UserRow};
use crate::audit::{self, Author};
use crate::config::Config;
use crate::db::ids::{AddressId, CostCenterId, CustomerId, InvitationId, UserId};
use crate::db::types::Email;
use crate::error::AppError;
use crate::mail::{self, Mail, throttle};
use crate::permissions::DataScope;
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

/// What becomes of one address of the request.
enum Plan {
    Skip(SkipReason),
    /// Invited: a new user, or the invited user of an expired invitation.
    Invite(Email, Option<UserId>),
}

/// The key addresses are matched by, as the database compares them (`citext`).
fn folded(email: &Email) -> String {
    email.as_str().to_lowercase()
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
        let terms = &sender.terms;
        let within = policy::group_scope(&sender.actor);
        let references = (terms.warehouse_address_id, terms.cost_center_id);
        let admitted =
            rules::admit(conn, sender.customer_id, true, within.as_deref(), references, &terms.groups())?;
        Ok(Sender { customer_name: admitted.customer_name, ..sender })
    }

    /// What becomes of each address, in order, from one look-up of the accounts and one of the
    /// live invitations of all of them (and one of the groups of invited people to take over,
    /// when there are any in groups).
    fn plan(
        &self,
        conn: &mut PgConnection,
        verdicts: Vec<Result<Email, SkipReason>>,
    ) -> Result<Vec<Plan>, AppError> {
        let emails: Vec<Email> = verdicts.iter().filter_map(|v| v.as_ref().ok().cloned()).collect();
        if emails.is_empty() {
            return Ok(verdicts.into_iter().filter_map(Result::err).map(Plan::Skip).collect());
        }
        let customer_id = Some(Uuid::from(self.customer_id));
        let accounts: HashMap<String, UserRow> = queries::accounts_of(conn, &emails)?
            .into_iter()
            .filter_map(|row| row.email.as_ref().map(folded).map(|key| (key, row)))
            .collect();
        let live: HashSet<String> =
            queries::live_for_emails(conn, &emails, self.now)?.iter().map(folded).collect();
        // Re-inviting would take over a person outside the caller's groups: their groups decide.
        let grouped: Vec<Uuid> = accounts
            .values()
            .filter(|u| u.customer_id == customer_id && u.status == AccountStatus::Invited)
            .filter(|u| u.data_scope == DataScope::Groups)
            .map(|u| u.id)
            .collect();
        let groups = match (grouped.is_empty(), customer_id) {
            (false, Some(customer)) => crate::groups::queries::of_users(conn, &[customer], &grouped)?,
            _ => HashMap::new(),
        };
        let plan = |verdict: Result<Email, SkipReason>| {
            let email = match verdict {
                Ok(email) => email,
                Err(reason) => return Plan::Skip(reason),
            };
            let key = folded(&email);
            match accounts.get(&key) {
                // Someone of another customer, or staff (invited, active or not): the address
                // is taken, but saying so would tell this customer who is registered elsewhere.
                Some(user) if user.customer_id != customer_id => Plan::Skip(SkipReason::NotInvitable),
                Some(user) if user.status != AccountStatus::Invited => Plan::Skip(SkipReason::AlreadyAUser),
                _ if live.contains(&key) => Plan::Skip(SkipReason::AlreadyInvited),
                Some(user) => {
                    let theirs = groups.get(&user.id).map(Vec::as_slice).unwrap_or_default();
                    if policy::covers(&self.actor, user.data_scope, theirs) {
                        Plan::Invite(email, Some(user.id.into()))
                    } else {
                        Plan::Skip(SkipReason::AlreadyAUser)
                    }
                }
                None => Plan::Invite(email, None),
            }
        };
        Ok(verdicts.into_iter().map(plan).collect())
    }

    /// The result for each address of the request, in order: the invited users (new ones, and
    /// those of expired invitations brought in line with the terms), their groups, the
    /// invitations, their mails and their events, each kind written in one statement.
    pub(super) fn results(
        &self,
        conn: &mut PgConnection,
        candidates: Vec<(String, Result<Email, SkipReason>)>,
    ) -> Result<Vec<InviteResult>, AppError> {
        let (raws, verdicts): (Vec<String>, Vec<_>) = candidates.into_iter().unzip();
        let plans = self.plan(conn, verdicts)?;
        let mut new_users = Vec::new();
        let mut renewed = Vec::new();
        for plan in &plans {
            match plan {
                Plan::Invite(email, None) => new_users.push(self.terms.new_user(self.customer_id, email)),
                Plan::Invite(_, Some(user_id)) => renewed.push(*user_id),
                Plan::Skip(_) => {}
            }
        }
        let mut users_by_email: HashMap<String, UserRow> = HashMap::new();
        let inserted = users::insert_all(conn, &new_users)?;
        let updated = users::update_all(conn, self.customer_id, &renewed, &self.terms.user_changes())?;
        for row in inserted.into_iter().chain(updated) {
            if let Some(key) = row.email.as_ref().map(folded) {
                users_by_email.insert(key, row);
            }
        }
        let fresh: Vec<UserId> = new_users.iter().map(|new| new.id).collect();
        rules::set_access_of(conn, self.customer_id, &fresh, &renewed, &self.terms.access())?;

        let mut tokens = Vec::new();
        let mut new_invitations = Vec::new();
        for plan in &plans {
            let Plan::Invite(email, _) = plan else { continue };
            let user = users_by_email.get(&folded(email)).ok_or(diesel::result::Error::NotFound)?;
            let (token, token_hash) = crate::secrets::new_secret(TOKEN_PREFIX)?;
            tokens.push(token);
            new_invitations.push(InvitationRow {
                customer_id: self.customer_id,
                id: InvitationId::new(),
                user_id: Some(user.id.into()),
                email: email.clone(),
                terms: self.terms.clone(),
                status: InvitationStatus::Pending,
                token_hash,
                expires_at: self.now + VALIDITY,
                invited_by: Some(self.actor.id().into()),
                send_count: 1,
                last_sent_at: self.now,
                created_at: self.now,
                updated_at: self.now,
            });
        }
        let mut rows: HashMap<Uuid, InvitationRow> = queries::insert_all(conn, &new_invitations)?
            .into_iter()
            .map(|row| (Uuid::from(row.id), row))
            .collect();
        let names = (self.customer_name.as_str(), self.actor.name());
        let mut mails = Vec::with_capacity(new_invitations.len());
        for (new, token) in new_invitations.iter().zip(&tokens) {
            mails.push(invitation_mail(&self.config, new, names, token));
        }
        let addressed: Vec<(&Email, &Mail)> =
            new_invitations.iter().map(|new| &new.email).zip(&mails).collect();
        mail::enqueue_all(conn, Some(self.customer_id.into()), &addressed)?;
        // A resend within the minute is refused; the first mail itself always goes.
        let recipients: Vec<Email> = new_invitations.iter().map(|new| new.email.clone()).collect();
        throttle::record_all(conn, &recipients, throttle::Kind::Invitation, self.now)?;

        let mut views = HashMap::new();
        let mut events = Vec::with_capacity(new_invitations.len());
        for new in &new_invitations {
            let row = rows.remove(&Uuid::from(new.id)).ok_or(diesel::result::Error::NotFound)?;
            let view = InvitationView::new(&row, self.now);
            events.push(write::event(audit::Action::InvitationCreated, None, Some(&view)));
            views.insert(folded(&row.email), view);
        }
        audit::record_all(conn, &self.author, events)?;

        let result = |(raw, plan)| -> Result<InviteResult, AppError> {
            match plan {
                Plan::Skip(reason) => Ok(InviteResult::skipped(raw, reason)),
                Plan::Invite(email, _) => {
                    let view = views.remove(&folded(&email)).ok_or(diesel::result::Error::NotFound)?;
                    Ok(InviteResult::invited(raw, view))
                }
            }
        };
        raws.into_iter().zip(plans).map(result).collect()
    }
}

/// "30 November 2026": the day the link stops working, for the mail.
pub(super) fn expires_on(expires_at: DateTime<Utc>) -> String {
    expires_at.format("%-d %B %Y").to_string()
}

/// The invitation mail with the link of `token`.
fn invitation_mail(
    config: &Config,
    invitation: &InvitationRow,
    (customer_name, inviter_name): (&str, &str),
    token: &str,
) -> Mail {
    Mail::Invitation {
        customer_name: customer_name.to_owned(),
        inviter_name: inviter_name.to_owned(),
        link: mail::link(&config.portal_url, "invitations/accept", token),
        expires_on: expires_on(invitation.expires_at),
    }
}

/// Queues the invitation mail with the link of `token`.
pub(super) fn send_mail(
    conn: &mut PgConnection,
    config: &Config,
    invitation: &InvitationRow,
    names: (&str, &str),
    token: &str,
) -> QueryResult<()> {
    let invitation_mail = invitation_mail(config, invitation, names, token);
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
