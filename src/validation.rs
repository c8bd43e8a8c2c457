//! Field rules shared by request types (validator `custom` functions). Each mirrors the
//! `pattern`/`format` the OpenAPI schema states for the field, so clients can check first.

use validator::{ValidateEmail, ValidationError};

fn invalid(code: &'static str, message: &'static str) -> ValidationError {
    ValidationError::new(code).with_message(message.into())
}

/// An optional text as stored: trimmed, and absent when nothing is left.
pub fn trimmed(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Names must have something besides white space.
pub fn not_blank(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() { Err(invalid("blank", "must not be blank")) } else { Ok(()) }
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
            "phone",
            "must be a phone number: digits, optionally a leading + and spaces or ( ) - . / between",
        ))
    }
}

pub fn validate_email(email: &str) -> Result<(), ValidationError> {
    if email.len() <= crate::db::types::Email::MAX_LEN && email.validate_email() {
        Ok(())
    } else {
        Err(invalid("email", "must be an e-mail address"))
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
        Err(invalid("code", "must be letters, digits and . _ / - (1 to 64, starting with a letter or digit)"))
    }
}

/// ISO 3166-1 alpha-2, upper case (`DE`, `NL`).
pub fn validate_country(country: &str) -> Result<(), ValidationError> {
    let upper = country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase());
    if upper && isocountry::CountryCode::for_alpha2(country).is_ok() {
        Ok(())
    } else {
        Err(invalid("country", "must be an ISO 3166-1 alpha-2 country code such as DE or NL"))
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
}
