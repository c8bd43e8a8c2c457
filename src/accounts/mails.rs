//! The mails about a person's login, built in one place for customer users, staff and the
//! public password endpoints: the welcome (with a set-password link when there is no password
//! yet) and the password-reset link. Both go through the outbox in the caller's transaction.

use std::time::Duration;

use diesel::prelude::*;

use super::UserRow;
use super::password_tokens::{self, Purpose};
use crate::config::Config;
use crate::mail::{self, Mail};

/// Queues the welcome mail: the login, the portal address, the customer's name, and a link to
/// choose a password when the person has none. Never a password.
pub fn send_welcome(
    conn: &mut PgConnection,
    config: &Config,
    account: &UserRow,
    customer_name: Option<String>,
) -> QueryResult<()> {
    let Some(email) = account.email.as_ref() else { return Ok(()) };
    let (set_password_link, link_valid_for) = if account.password_hash.is_none() {
        let ttl = config.set_password_link_ttl;
        let token = password_tokens::issue(conn, account.id, Purpose::SetPassword, ttl, config.clock.now())?;
        (Some(mail::link(&config.portal_url, "password-reset", &token)), Some(describe(ttl)))
    } else {
        (None, None)
    };
    let welcome = Mail::Welcome {
        name: account.name.clone(),
        login: email.to_string(),
        portal_url: config.portal_url.to_string(),
        customer_name,
        set_password_link,
        link_valid_for,
    };
    mail::enqueue(conn, account.customer_id, email, &welcome).map(drop)
}

/// Queues a password-reset link (older links of the person die).
pub fn send_password_reset(conn: &mut PgConnection, config: &Config, account: &UserRow) -> QueryResult<()> {
    let Some(email) = account.email.as_ref() else { return Ok(()) };
    let ttl = config.password_reset_ttl;
    let token = password_tokens::issue(conn, account.id, Purpose::PasswordReset, ttl, config.clock.now())?;
    let reset = Mail::PasswordReset {
        name: account.name.clone(),
        link: mail::link(&config.portal_url, "password-reset", &token),
        link_valid_for: describe(ttl),
    };
    mail::enqueue(conn, account.customer_id, email, &reset).map(drop)
}

/// Tells the person its MFA was switched off by an admin (it may not have been them who asked:
/// a reset that the person did not expect is the alarm worth raising).
pub fn send_mfa_reset(conn: &mut PgConnection, config: &Config, account: &UserRow) -> QueryResult<()> {
    let Some(email) = account.email.as_ref() else { return Ok(()) };
    let reset = Mail::MfaReset { name: account.name.clone(), portal_url: config.portal_url.to_string() };
    mail::enqueue(conn, account.customer_id, email, &reset).map(drop)
}

/// "7 days", "1 hour", "30 minutes": how long a link works, in words.
pub fn describe(ttl: Duration) -> String {
    let secs = ttl.as_secs();
    let (n, unit) = if secs >= 86_400 && secs % 86_400 == 0 {
        (secs / 86_400, "day")
    } else if secs >= 3600 && secs % 3600 == 0 {
        (secs / 3600, "hour")
    } else {
        (secs.div_ceil(60).max(1), "minute")
    };
    if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_reads_as_words() {
        assert_eq!(describe(Duration::from_secs(7 * 86_400)), "7 days");
        assert_eq!(describe(Duration::from_secs(3600)), "1 hour");
        assert_eq!(describe(Duration::from_secs(5400)), "90 minutes");
        assert_eq!(describe(Duration::from_secs(10)), "1 minute");
    }
}
