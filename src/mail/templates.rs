//! The mail templates (`templates/mail/`), compiled into the binary and parsed once: for each
//! [`Mail`] a subject, a plain-text part and an HTML part. The `.html` templates escape every
//! value (a name like `<script>` arrives as text); the others do not.

use std::sync::LazyLock;

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior, Value, context};

use super::Mail;

/// `(name, source)` of every template; the name's extension decides the escaping.
const SOURCES: [(&str, &str); 18] = [
    ("welcome.subject.txt", include_str!("../../templates/mail/welcome.subject.txt")),
    ("welcome.txt", include_str!("../../templates/mail/welcome.txt")),
    ("welcome.html", include_str!("../../templates/mail/welcome.html")),
    ("password_reset.subject.txt", include_str!("../../templates/mail/password_reset.subject.txt")),
    ("password_reset.txt", include_str!("../../templates/mail/password_reset.txt")),
    ("password_reset.html", include_str!("../../templates/mail/password_reset.html")),
    ("mfa_reset.subject.txt", include_str!("../../templates/mail/mfa_reset.subject.txt")),
    ("mfa_reset.txt", include_str!("../../templates/mail/mfa_reset.txt")),
    ("mfa_reset.html", include_str!("../../templates/mail/mfa_reset.html")),
    ("invitation.subject.txt", include_str!("../../templates/mail/invitation.subject.txt")),
    ("invitation.txt", include_str!("../../templates/mail/invitation.txt")),
    ("invitation.html", include_str!("../../templates/mail/invitation.html")),
    ("signup_verification.subject.txt", include_str!("../../templates/mail/signup_verification.subject.txt")),
    ("signup_verification.txt", include_str!("../../templates/mail/signup_verification.txt")),
    ("signup_verification.html", include_str!("../../templates/mail/signup_verification.html")),
    ("webhook_disabled.subject.txt", include_str!("../../templates/mail/webhook_disabled.subject.txt")),
    ("webhook_disabled.txt", include_str!("../../templates/mail/webhook_disabled.txt")),
    ("webhook_disabled.html", include_str!("../../templates/mail/webhook_disabled.html")),
];

static TEMPLATES: LazyLock<Result<Environment<'static>, minijinja::Error>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // A misspelt variable is an error, not an empty spot in a mail.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(SyntaxConfig::builder().keep_trailing_newline(true).build()?);
    for (name, source) in SOURCES {
        env.add_template(name, source)?;
    }
    Ok(env)
});

/// A mail ready to be put into a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot render the {template} mail: {message}")]
pub struct RenderError {
    pub template: &'static str,
    pub message: String,
}

/// Fails when a template does not parse; called at start so a broken template stops the
/// process instead of failing every mail.
pub fn check() -> Result<(), RenderError> {
    TEMPLATES.as_ref().map(|_| ()).map_err(|e| RenderError { template: "any", message: e.to_string() })
}

pub fn render(mail: &Mail) -> Result<Rendered, RenderError> {
    let template = mail.template();
    let fail = |e: minijinja::Error| RenderError { template, message: e.to_string() };
    let env = TEMPLATES.as_ref().map_err(|e| RenderError { template, message: e.to_string() })?;
    let values = values(mail);
    let render_one = |suffix: &str, ctx: Value| {
        env.get_template(&format!("{template}.{suffix}")).and_then(|t| t.render(ctx)).map_err(fail)
    };
    // One line, whatever a name contains: a line break would end the header.
    let subject = render_one("subject.txt", values.clone())?.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = render_one("txt", values.clone())?;
    let html = render_one("html", context! { subject => subject.clone(), ..values })?;
    Ok(Rendered { subject, text, html })
}

/// What the templates of `mail` see: its fields, named as in [`Mail`].
fn values(mail: &Mail) -> Value {
    match mail {
        Mail::Welcome { name, login, portal_url, customer_name, set_password_link, link_valid_for } => {
            context! { name, login, portal_url, customer_name, set_password_link, link_valid_for }
        }
        Mail::PasswordReset { name, link, link_valid_for } => context! { name, link, link_valid_for },
        Mail::MfaReset { name, portal_url } => context! { name, portal_url },
        Mail::Invitation { customer_name, inviter_name, link, expires_on } => {
            context! { customer_name, inviter_name, link, expires_on }
        }
        Mail::SignupVerification { name, customer_name, link, link_valid_for } => {
            context! { name, customer_name, link, link_valid_for }
        }
        Mail::WebhookDisabled { name, url, customer_name, failures } => {
            context! { name, url, customer_name, failures }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn welcome(customer_name: Option<&str>, link: Option<&str>) -> Mail {
        Mail::Welcome {
            name: "Ada <script>alert(1)</script>".into(),
            login: "ada@customer.example".into(),
            portal_url: "http://localhost:3000/".into(),
            customer_name: customer_name.map(Into::into),
            set_password_link: link.map(Into::into),
            link_valid_for: link.map(|_| "7 days".into()),
        }
    }

    /// How minijinja writes a value into HTML (it escapes `/` too, which browsers read back).
    fn html_escaped(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('/', "&#x2f;")
    }

    fn rendered(mail: &Mail) -> Rendered {
        render(mail).unwrap()
    }

    #[test]
    fn the_mfa_reset_mail_names_the_person_and_the_portal() {
        let mail = rendered(&Mail::MfaReset {
            name: "Uwe & Co".into(),
            portal_url: "http://localhost:3000/".into(),
        });
        assert_eq!(mail.subject, "Your two-step sign-in was switched off");
        assert!(
            mail.text.contains("Uwe & Co") && mail.text.contains("http://localhost:3000/"),
            "{}",
            mail.text
        );
        assert!(mail.html.contains("Uwe &amp; Co"), "{}", mail.html);
    }

    #[test]
    fn every_template_parses() {
        check().unwrap();
    }

    #[test]
    fn the_welcome_mail_names_login_customer_portal_and_link() {
        let link = "http://localhost:3000/set-password?token=dgp_abc";
        let mail = rendered(&welcome(Some("Acme & Sons"), Some(link)));
        assert_eq!(mail.subject, "Your login for Acme & Sons on the customer portal");
        for (part, escape) in [(&mail.text, false), (&mail.html, true)] {
            let shown = |s: &str| if escape { html_escaped(s) } else { s.to_owned() };
            assert!(part.contains("ada@customer.example"), "{part}");
            assert!(part.contains(&shown("http://localhost:3000/")), "{part}");
            assert!(part.contains(&shown(link)), "{part}");
            assert!(part.contains("7 days"), "{part}");
        }
        assert!(mail.text.contains("Acme & Sons"), "{}", mail.text);
        assert!(mail.html.contains("Acme &amp; Sons"), "{}", mail.html);
    }

    #[test]
    fn html_escapes_names_and_text_keeps_them() {
        let mail = rendered(&welcome(Some("<b>Evil</b> Corp"), None));
        assert!(!mail.html.contains("<script>") && !mail.html.contains("<b>Evil"), "{}", mail.html);
        assert!(mail.html.contains("&lt;script&gt;"), "{}", mail.html);
        assert!(mail.html.contains("<title>Your login for &lt;b&gt;Evil"), "{}", mail.html);
        assert!(mail.text.contains("Hello Ada <script>alert(1)</script>,"), "{}", mail.text);
    }

    #[test]
    fn a_welcome_without_link_or_customer_still_reads() {
        let mail = rendered(&welcome(None, None));
        assert_eq!(mail.subject, "Your dockgate login");
        assert!(!mail.text.contains("token="), "{}", mail.text);
        assert!(mail.text.contains("Forgot password"), "{}", mail.text);
        assert!(!mail.text.to_lowercase().contains("none"), "no empty values show: {}", mail.text);
    }

    #[test]
    fn no_mail_has_a_password_to_show() {
        // The template data is the whole of what a mail can contain: no field carries a password.
        let fields = [serde_json::to_value(welcome(Some("C"), Some("l"))), serde_json::to_value(reset())];
        for value in fields {
            let value = value.unwrap();
            let keys: Vec<&String> = value.as_object().map(|o| o.keys().collect()).unwrap_or_default();
            assert!(keys.iter().all(|k| !k.contains("password") || k.ends_with("_link")), "{keys:?}");
        }
    }

    fn reset() -> Mail {
        Mail::PasswordReset {
            name: "Ada".into(),
            link: "http://localhost:3000/password-reset?token=dgp_a%2Bb".into(),
            link_valid_for: "1 hour".into(),
        }
    }

    #[test]
    fn the_reset_mail_carries_the_link_and_how_long_it_works() {
        let mail = rendered(&reset());
        assert_eq!(mail.subject, "Choose a new password");
        assert!(mail.text.contains("http://localhost:3000/password-reset?token=dgp_a%2Bb"), "{}", mail.text);
        assert!(mail.text.contains("1 hour") && mail.html.contains("1 hour"));
        let href =
            format!(r#"href="{}""#, html_escaped("http://localhost:3000/password-reset?token=dgp_a%2Bb"));
        assert!(mail.html.contains(&href), "{}", mail.html);
    }

    #[test]
    fn a_subject_stays_on_one_line() {
        let mail = rendered(&welcome(Some("Acme\r\nBcc: victim@example.com"), None));
        assert!(!mail.subject.contains(['\r', '\n']), "{}", mail.subject);
    }

    #[test]
    fn the_webhook_disabled_mail_names_the_endpoint_the_customer_and_the_count() {
        let disabled = |customer_name: Option<&str>| Mail::WebhookDisabled {
            name: "Ada".into(),
            url: "https://hooks.example/<in>?a=1&b=2".into(),
            customer_name: customer_name.map(Into::into),
            failures: 20,
        };
        let mail = rendered(&disabled(Some("Acme & Sons")));
        assert_eq!(mail.subject, "A webhook endpoint of Acme & Sons was disabled");
        assert!(mail.text.contains("https://hooks.example/<in>?a=1&b=2"), "{}", mail.text);
        assert!(mail.text.contains("20 deliveries in a row"), "{}", mail.text);
        assert!(mail.html.contains(&html_escaped("https://hooks.example/<in>?a=1&b=2")), "{}", mail.html);
        let platform = rendered(&disabled(None));
        assert_eq!(platform.subject, "A webhook endpoint was disabled");
        assert!(!platform.text.to_lowercase().contains("none"), "{}", platform.text);
    }
}
