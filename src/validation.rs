//! Field rules shared by request types (validator `custom` functions). Each mirrors the
//! `pattern`/`format` the OpenAPI schema states for the field, so clients can check first.

use validator::{ValidateEmail, ValidationError};

use crate::error::FieldCode;

/// The request fields that are text of several lines: line breaks and tabs are allowed there,
/// and in no other field.
pub const MULTI_LINE_FIELDS: &[&str] = &["description"];

/// The schema pattern of a single-line text: no control character (U+0000-U+001F,
/// U+007F-U+009F).
pub const SINGLE_LINE: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";
/// A single line with something besides white space (names, labels).
pub const SINGLE_LINE_NOT_BLANK: &str =
    r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";
/// The schema pattern of a multi-line text: line breaks and tabs, but no other control character.
pub const MULTI_LINE: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// What is wrong with `text` as the value of the body field `key`, if anything: a control
/// character (a line break or tab only where the field is multi-line).
pub fn control_character(key: &str, text: &str) -> Option<&'static str> {
    let multi_line = MULTI_LINE_FIELDS.contains(&key);
    let refused = |c: char| c.is_control() && !(multi_line && matches!(c, '\n' | '\r' | '\t'));
    match (text.chars().any(refused), multi_line) {
        (false, _) => None,
        (true, false) => Some("must be a single line without control characters"),
        (true, true) => Some("must not contain control characters other than line breaks and tabs"),
    }
}

/// A validator error whose code is one of [`FieldCode`], so the 422 names it exactly.
fn invalid(code: FieldCode, message: &'static str) -> ValidationError {
    ValidationError::new(code.as_str()).with_message(message.into())
}

/// An optional text as stored: trimmed, and absent when nothing is left.
pub fn trimmed(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Names must have something besides white space.
pub fn not_blank(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() { Err(invalid(FieldCode::Blank, "must not be blank")) } else { Ok(()) }
}

/// Phone numbers as people write them: an optional `+`, then digits with spaces and `( ) - . /`
/// between them, starting with a digit or `(` and ending with a digit; 3 to 32 characters after
/// the `+`. The schemas state the same rule as the pattern `^\+?[0-9(][0-9 ()./-]{1,30}[0-9]$`.
pub fn validate_phone(phone: &str) -> Result<(), ValidationError> {
    let number = phone.strip_prefix('+').unwrap_or(phone);
    let chars: Vec<char> = number.chars().collect();
    let ok = (3..=32).contains(&chars.len())
        && chars.first().is_some_and(|c| c.is_ascii_digit() || *c == '(')
        && chars.last().is_some_and(char::is_ascii_digit)
        && chars.iter().all(|c| c.is_ascii_digit() || " ()./-".contains(*c));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            FieldCode::Phone,
            "must be a phone number: digits, optionally a leading + and spaces or ( ) - . / between",
        ))
    }
}

pub fn validate_email(email: &str) -> Result<(), ValidationError> {
    if email.len() <= crate::db::types::Email::MAX_LEN && email.validate_email() {
        Ok(())
    } else {
        Err(invalid(FieldCode::Email, "must be an e-mail address"))
    }
}

/// Codes (customer codes, cost-center codes): a letter or digit, then letters, digits and
/// `. _ - /`; 1 to 64 characters.
pub fn validate_code(code: &str) -> Result<(), ValidationError> {
    let mut chars = code.chars();
    let ok = code.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            FieldCode::Code,
            "must be letters, digits and . _ / - (1 to 64, starting with a letter or digit)",
        ))
    }
}

/// ISO 3166-1 alpha-2, upper case (`DE`, `NL`).
pub fn validate_country(country: &str) -> Result<(), ValidationError> {
    let upper = country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase());
    if upper && isocountry::CountryCode::for_alpha2(country).is_ok() {
        Ok(())
    } else {
        Err(invalid(FieldCode::Country, "must be an ISO 3166-1 alpha-2 country code such as DE or NL"))
    }
}

/// The schema of a country field: the ISO 3166-1 alpha-2 codes as an enum, so clients can
/// offer exactly the values the server accepts.
pub fn country_schema() -> utoipa::openapi::Object {
    let mut codes: Vec<&'static str> = isocountry::CountryCode::iter().map(|c| c.alpha2()).collect();
    codes.sort_unstable();
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(codes))
        .description(Some("ISO 3166-1 alpha-2 country code, upper case."))
        .examples(["DE"])
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_accept_what_people_write_and_refuse_the_rest() {
        assert!(validate_phone("+49 30 1234567").is_ok());
        assert!(validate_phone("(030) 123-45").is_ok());
        assert!(validate_phone("call me").is_err());
        assert!(validate_phone("+++").is_err());
        assert!(validate_code("C-10042").is_ok());
        assert!(validate_code("-x").is_err());
        assert!(validate_code("a b").is_err());
        assert!(validate_country("DE").is_ok());
        assert!(validate_country("de").is_err());
        assert!(validate_country("XX").is_err());
        assert!(validate_email("ops@acme.example").is_ok());
        assert!(validate_email("not an email").is_err());
        assert!(not_blank("  ").is_err());
    }

    /// The schema patterns say what [`control_character`] decides, for clients that check first.
    #[test]
    fn the_text_patterns_state_the_control_character_rule() {
        let single = regex::Regex::new(SINGLE_LINE).unwrap();
        let not_blank = regex::Regex::new(SINGLE_LINE_NOT_BLANK).unwrap();
        let multi = regex::Regex::new(MULTI_LINE).unwrap();
        for text in [
            "Acme",
            "Hafenstraße 12",
            "",
            " ",
            "a\tb",
            "a\nb",
            "a\r\nb",
            "\u{0}",
            "\u{7}",
            "\u{7f}",
            "\u{85}",
            "ü\u{9f}",
        ] {
            assert_eq!(single.is_match(text), control_character("name", text).is_none(), "{text:?}");
            assert_eq!(multi.is_match(text), control_character("description", text).is_none(), "{text:?}");
            let blank = text.trim().is_empty();
            assert_eq!(
                not_blank.is_match(text),
                control_character("name", text).is_none() && !blank,
                "{text:?}"
            );
        }
    }
}
