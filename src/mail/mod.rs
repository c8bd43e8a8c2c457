//! Outgoing e-mail through an outbox (contract section 8): [`enqueue`] writes a row in the
//! caller's transaction, so a mail exists exactly when the change that causes it commits; the
//! worker in every instance delivers due rows, retrying while the mail server is away.
//!
//! A mail is stored as its template data ([`Mail`]), rendered at delivery ([`templates`]).
//! [`outbox`] claims and records, [`transport`] delivers, [`worker`] runs the loop.

pub mod outbox;
pub mod templates;
pub mod throttle;
pub mod transport;
pub mod worker;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

use crate::db::schema::mail_outbox;
use crate::db::types::Email;

/// Every mail dockgate sends, with the data its templates need. Links carry single-use tokens;
/// the row's payload is emptied once the mail is delivered or given up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "template", rename_all = "snake_case")]
pub enum Mail {
    /// "You have a login": names the login and the portal; `set_password_link` when the person
    /// has no password yet. Never a password.
    Welcome {
        name: String,
        login: String,
        portal_url: String,
        /// The customer the person works for; `None` for staff.
        customer_name: Option<String>,
        set_password_link: Option<String>,
        /// How long the link works, for the text ("valid for 7 days").
        link_valid_for: Option<String>,
    },
    /// A link to choose a new password.
    PasswordReset { name: String, link: String, link_valid_for: String },
    /// An admin switched the person's MFA off: it signs in with its password alone (or is
    /// asked to enrol again, where MFA is required) until it sets MFA up anew.
    MfaReset { name: String, portal_url: String },
    /// An invitation to a customer's portal, from someone there (or the operator's staff).
    Invitation { customer_name: String, inviter_name: String, link: String, expires_on: String },
    /// The verification link of a self sign-up.
    SignupVerification { name: String, customer_name: String, link: String, link_valid_for: String },
    /// A webhook endpoint was disabled after `failures` deliveries in a row were given up; to the
    /// customer's owner and admins (a platform endpoint: the platform admins).
    WebhookDisabled {
        name: String,
        url: String,
        /// `None` for a platform endpoint.
        customer_name: Option<String>,
        failures: i32,
    },
}

impl Mail {
    /// The template name stored in the outbox row.
    pub fn template(&self) -> &'static str {
        match self {
            Mail::Welcome { .. } => "welcome",
            Mail::PasswordReset { .. } => "password_reset",
            Mail::MfaReset { .. } => "mfa_reset",
            Mail::Invitation { .. } => "invitation",
            Mail::SignupVerification { .. } => "signup_verification",
            Mail::WebhookDisabled { .. } => "webhook_disabled",
        }
    }
}

/// `{PORTAL_URL}/<path>?token=<token>` (contract section 8), keeping any path prefix of the
/// portal address.
pub fn link(portal_url: &Url, path: &str, token: &str) -> String {
    let mut url = portal_url.clone();
    let base = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{base}/{}", path.trim_start_matches('/')));
    url.query_pairs_mut().clear().append_pair("token", token);
    url.to_string()
}

/// Queues `mail` for `recipient`; call inside the transaction of the change that causes it.
pub fn enqueue(
    conn: &mut PgConnection,
    customer_id: Option<Uuid>,
    recipient: &Email,
    mail: &Mail,
) -> QueryResult<Uuid> {
    let ids = enqueue_all(conn, customer_id, &[(recipient, mail)])?;
    ids.into_iter().next().ok_or(diesel::result::Error::NotFound)
}

/// [`enqueue`] of many mails about `customer_id` in one statement (none for no mails); their
/// ids, in order.
pub fn enqueue_all(
    conn: &mut PgConnection,
    customer_id: Option<Uuid>,
    mails: &[(&Email, &Mail)],
) -> QueryResult<Vec<Uuid>> {
    let mut ids = Vec::with_capacity(mails.len());
    let mut rows = Vec::with_capacity(mails.len());
    for (recipient, mail) in mails {
        let id = Uuid::now_v7();
        let payload =
            serde_json::to_value(mail).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        rows.push((
            mail_outbox::id.eq(id),
            mail_outbox::customer_id.eq(customer_id),
            mail_outbox::template.eq(mail.template()),
            mail_outbox::recipient.eq(recipient.as_str()),
            mail_outbox::payload.eq(payload),
        ));
        ids.push(id);
    }
    if !rows.is_empty() {
        diesel::insert_into(mail_outbox::table).values(rows).execute(conn)?;
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_portal_path_and_encode_the_token() {
        let portal = Url::parse("https://portal.example/app/").unwrap();
        assert_eq!(
            link(&portal, "password-reset", "dgp_a+b"),
            "https://portal.example/app/password-reset?token=dgp_a%2Bb"
        );
        let bare = Url::parse("http://localhost:3000").unwrap();
        assert_eq!(
            link(&bare, "/invitations/accept", "t"),
            "http://localhost:3000/invitations/accept?token=t"
        );
    }
}
