//! The one error type of the HTTP layer and the one place that turns it into a response.
//!
//! Every failure a client can see is an [`AppError`]; [`AppError::status`] is the whole
//! error-to-status policy, and [`Problem`] is the RFC 9457 body. Causes of 500s and 503s are
//! logged (with the request id, via the request span) and never sent: no SQL, stack trace, hash
//! or token leaves the process.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// The `Retry-After` of a 503: a PostgreSQL restart or failover takes seconds, and a retry
/// waits up to 5 s for a connection itself, so sooner would only add load.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

crate::text_enum! {
    /// Why a field failed validation: the closed set of `errors[].code`.
    pub enum FieldCode as "FieldErrorCode" {
        /// Only white space (or, for a password, only spaces).
        Blank = "blank",
        /// Not a code of letters, digits and `. _ / -`.
        Code = "code",
        /// On the list of common passwords.
        CommonPassword = "common_password",
        /// Holds a control character (a line break outside a description, a NUL, ...).
        ControlCharacter = "control_character",
        /// Not an ISO 3166-1 alpha-2 country code.
        Country = "country",
        /// The current default warehouse address cannot stop being the default this way.
        DefaultRequired = "default_required",
        /// Not an e-mail address.
        Email = "email",
        /// A password equal to the e-mail address.
        EqualsEmail = "equals_email",
        /// Owners and admins hold their role's permissions.
        FixedByRole = "fixed_by_role",
        /// Names something inactive (a cost center).
        Inactive = "inactive",
        /// A current password that is not the current one.
        Incorrect = "incorrect",
        /// Of the wrong type or shape, or a token that is not a live link.
        Invalid = "invalid",
        /// Too short or too long.
        Length = "length",
        /// Not allowed for this caller or in this combination.
        NotAllowed = "not_allowed",
        /// A permission the role may not be granted.
        NotGrantable = "not_grantable",
        /// `null` on a field that cannot be cleared.
        NotNullable = "not_nullable",
        /// Not a phone number.
        Phone = "phone",
        /// A number out of range.
        Range = "range",
        /// Missing but needed.
        Required = "required",
        /// Too easy to guess.
        TooWeak = "too_weak",
        /// The body is not a JSON object.
        Type = "type",
        /// Names nothing of this customer (an address, a cost center, a group, a user).
        Unknown = "unknown",
        /// A field the request does not have.
        UnknownField = "unknown_field",
        /// Ownership moves with the owner transfer.
        UseOwnerTransfer = "use_owner_transfer",
    }
}

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"field": "email", "code": "email", "message": "must be an e-mail address"}))]
pub struct FieldError {
    /// The JSON path of the field (`email`, `addresses[2].country`).
    pub field: String,
    pub code: FieldCode,
    /// A sentence for people.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: FieldCode, message: impl Into<String>) -> Self {
        Self { field: field.into(), code, message: message.into() }
    }
}

crate::text_enum! {
    /// The kinds of 409: each is its own problem type (`urn:dockgate:problem:<kind>`).
    pub enum ConflictKind {
        /// The e-mail address cannot be used (it is taken, by whomever).
        EmailTaken = "email-taken",
        /// Another customer (or cost center of the customer) has this code.
        CodeTaken = "code-taken",
        /// Another user of the customer has this external id.
        ExternalIdTaken = "external-id-taken",
        /// Another group of the customer has this name.
        NameTaken = "name-taken",
        /// The customer has an owner already.
        OwnerExists = "owner-exists",
        /// The owner keeps its role until ownership is transferred.
        OwnerRole = "owner-role",
        /// The customer is suspended or its portal is off: no logins, no invitations.
        LoginsClosed = "logins-closed",
        /// The customer no longer accepts self sign-up.
        SignupClosed = "signup-closed",
        /// Nobody changes their own role, login or status, or deletes themselves, here.
        OwnAccount = "own-account",
        /// The person's state forbids it (invited, inactive, without login).
        UserState = "user-state",
        /// The invitation was accepted, revoked or replaced.
        InvitationState = "invitation-state",
        /// The API client is revoked, which is final.
        ClientRevoked = "client-revoked",
        /// The webhook endpoint is disabled: enable it before retrying or testing.
        WebhookDisabled = "webhook-disabled",
        /// MFA cannot be set up here: `MFA_ENCRYPTION_KEY` is not set.
        MfaUnavailable = "mfa-unavailable",
        /// MFA is already on (enrol), or not on (disable, new recovery codes), or no enrolment
        /// is pending (confirm).
        MfaState = "mfa-state",
        /// Something else still refers to it (a customer's users, a group's addresses).
        StillReferenced = "still-referenced",
        /// Another conflict with an existing resource.
        Conflict = "conflict",
    }
}

impl ConflictKind {
    fn title(self) -> &'static str {
        match self {
            Self::EmailTaken => "E-mail address cannot be used",
            Self::CodeTaken => "Code taken",
            Self::ExternalIdTaken => "External id taken",
            Self::NameTaken => "Name taken",
            Self::OwnerExists => "Owner exists",
            Self::OwnerRole => "Owner keeps its role",
            Self::LoginsClosed => "Logins closed",
            Self::SignupClosed => "Sign-up closed",
            Self::OwnAccount => "Own account",
            Self::UserState => "User state",
            Self::InvitationState => "Invitation state",
            Self::ClientRevoked => "API client revoked",
            Self::WebhookDisabled => "Webhook disabled",
            Self::MfaUnavailable => "MFA unavailable",
            Self::MfaState => "MFA state",
            Self::StillReferenced => "Still referenced",
            Self::Conflict => "Conflict",
        }
    }
}

/// Every problem `type` dockgate answers with (the 409s are [`ConflictKind`]).
const PROBLEM_SLUGS: &[&str] = &[
    "malformed-request",
    "unauthorized",
    "forbidden",
    "not-found",
    "method-not-allowed",
    "gone",
    "precondition-failed",
    "precondition-required",
    "payload-too-large",
    "unsupported-media-type",
    "validation-failed",
    "rate-limited",
    "idempotency-key-reused",
    "idempotency-key-in-flight",
    "unavailable",
    "overloaded",
    "internal",
];

/// The schema of `Problem.type`: the closed set of problem URIs.
pub fn problem_types() -> utoipa::openapi::Object {
    let conflicts = ConflictKind::ALL.iter().map(|kind| kind.as_str());
    let uris: Vec<String> = PROBLEM_SLUGS
        .iter()
        .copied()
        .chain(conflicts)
        .map(|slug| format!("urn:dockgate:problem:{slug}"))
        .collect();
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(uris))
        .description(Some("A URI naming the kind of problem; stable, for programs to branch on."))
        .build()
}

/// RFC 9457 problem details, as every error response carries them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:dockgate:problem:validation-failed",
    "title": "Validation failed",
    "status": 422,
    "detail": "The request body has invalid fields.",
    "errors": [{"field": "password", "code": "length", "message": "must be 12 to 128 characters"}]
}))]
pub struct Problem {
    #[serde(rename = "type")]
    #[schema(schema_with = problem_types)]
    pub problem_type: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this case.
    pub detail: String,
    /// Per-field errors (validation failures only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("malformed request: {0}")]
    BadRequest(String),
    /// Missing, invalid or expired credentials. The detail is deliberately the same for every
    /// cause a caller could learn something from.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    /// The path exists but not with this method; `allow` lists the methods it has.
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    #[error("conflict ({0}): {1}")]
    Conflict(ConflictKind, String),
    /// The resource existed but is no longer available (an expired invitation link).
    #[error("gone: {0}")]
    Gone(String),
    #[error("precondition failed")]
    PreconditionFailed,
    /// A destructive request must be made conditional (or confirmed); the detail says how.
    #[error("precondition required: {0}")]
    PreconditionRequired(String),
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("rate limited for {retry_after_secs}s")]
    RateLimited { retry_after_secs: u64 },
    /// The database cannot be reached or is not ready; the cause is logged, not sent.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; the cause is logged, not sent.
    #[error("internal error: {0}")]
    Internal(String),
    /// Every place in the password hashing pool is taken (a burst of sign-ins): retry soon.
    #[error("overloaded: the password hashing queue is full")]
    Overloaded { retry_after_secs: u64 },
    /// The `Idempotency-Key` was first sent with another request (another body, path or
    /// operation): a client bug, never replayed as if it were the same request.
    #[error("idempotency key reused with another request")]
    IdempotencyKeyReused,
    /// The first request with this `Idempotency-Key` is still being answered: retry in a second.
    #[error("idempotency key in flight")]
    IdempotencyKeyInFlight,
}

impl AppError {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    pub fn field(field: &str, code: FieldCode, message: &str) -> Self {
        Self::Validation(vec![FieldError::new(field, code, message)])
    }

    /// The whole error-to-status policy.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(..) => StatusCode::CONFLICT,
            Self::Gone(_) => StatusCode::GONE,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::IdempotencyKeyInFlight => StatusCode::CONFLICT,
        }
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            Self::BadRequest(_) => ("malformed-request", "Malformed request"),
            Self::Unauthorized(_) => ("unauthorized", "Unauthorized"),
            Self::Forbidden(_) => ("forbidden", "Forbidden"),
            Self::NotFound => ("not-found", "Not found"),
            Self::MethodNotAllowed { .. } => ("method-not-allowed", "Method not allowed"),
            Self::Conflict(kind, _) => (kind.as_str(), kind.title()),
            Self::Gone(_) => ("gone", "Gone"),
            Self::PreconditionFailed => ("precondition-failed", "Precondition failed"),
            Self::PreconditionRequired(_) => ("precondition-required", "Precondition required"),
            Self::PayloadTooLarge(_) => ("payload-too-large", "Payload too large"),
            Self::UnsupportedMediaType(_) => ("unsupported-media-type", "Unsupported media type"),
            Self::Validation(_) => ("validation-failed", "Validation failed"),
            Self::RateLimited { .. } => ("rate-limited", "Too many requests"),
            Self::Unavailable(_) => ("unavailable", "Service unavailable"),
            Self::Internal(_) => ("internal", "Internal server error"),
            Self::Overloaded { .. } => ("overloaded", "Service overloaded"),
            Self::IdempotencyKeyReused => ("idempotency-key-reused", "Idempotency key reused"),
            Self::IdempotencyKeyInFlight => ("idempotency-key-in-flight", "Idempotency key in flight"),
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::BadRequest(d)
            | Self::Forbidden(d)
            | Self::Conflict(_, d)
            | Self::Gone(d)
            | Self::PreconditionRequired(d)
            | Self::PayloadTooLarge(d)
            | Self::UnsupportedMediaType(d) => d.clone(),
            Self::Unauthorized(d) => (*d).to_owned(),
            Self::NotFound => "The resource does not exist or is not visible to you.".into(),
            Self::MethodNotAllowed { allow } => format!("This path supports only {allow}."),
            Self::PreconditionFailed => {
                "The resource has changed since you read it (If-Match does not match its ETag).".into()
            }
            Self::Validation(_) => "The request has invalid fields.".into(),
            Self::RateLimited { retry_after_secs } => {
                format!("Too many attempts; try again in {retry_after_secs} seconds.")
            }
            Self::Unavailable(_) => "The service cannot reach its database; try again shortly.".into(),
            Self::Internal(_) => "Something went wrong on our side; it has been logged.".into(),
            Self::Overloaded { .. } => {
                "Too many passwords are being checked right now; try again shortly.".into()
            }
            Self::IdempotencyKeyReused => {
                "This Idempotency-Key was used with another request (another body, \
                path or operation); use a new key for a new request."
                    .into()
            }
            Self::IdempotencyKeyInFlight => {
                "The first request with this Idempotency-Key is still being answered; retry shortly.".into()
            }
        }
    }

    pub fn problem(&self) -> Problem {
        let (slug, title) = self.slug_and_title();
        Problem {
            problem_type: format!("urn:dockgate:problem:{slug}"),
            title: title.into(),
            status: self.status().as_u16(),
            detail: self.detail(),
            errors: match self {
                Self::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => tracing::error!(cause = %cause, "request failed"),
            Self::Unavailable(cause) => tracing::warn!(cause = %cause, "database unavailable"),
            Self::Overloaded { .. } => tracing::warn!("password hashing queue full; turned a request away"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        match self {
            Self::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::RateLimited { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, allow.as_str()));
            }
            Self::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_AFTER_SECS.to_string()));
            }
            Self::Overloaded { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::IdempotencyKeyInFlight => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            _ => {}
        }
        response.body(problem_body(&self.problem()))
    }
}

/// Serializes a problem; a failure here cannot happen for this plain struct, but if it did the
/// client still gets a valid problem document.
pub fn problem_body(problem: &Problem) -> String {
    serde_json::to_string(problem).unwrap_or_else(|_| {
        r#"{"type":"urn:dockgate:problem:internal","title":"Internal server error","status":500,"detail":"Something went wrong on our side."}"#.into()
    })
}

impl From<DieselError> for AppError {
    fn from(error: DieselError) -> Self {
        if connection_lost(&error) {
            return Self::Unavailable(format!("database connection lost: {error}"));
        }
        match error {
            DieselError::NotFound => Self::NotFound,
            DieselError::DatabaseError(kind, info) => match kind {
                DatabaseErrorKind::UniqueViolation => {
                    let (kind, detail) = conflict_of(info.constraint_name());
                    Self::Conflict(kind, detail.into())
                }
                DatabaseErrorKind::ForeignKeyViolation => match info.constraint_name() {
                    Some("users_customer_id_fkey") if info.message().contains("update or delete") => {
                        Self::Conflict(
                            ConflictKind::StillReferenced,
                            "The customer still has users; delete them first.".into(),
                        )
                    }
                    // The address or cost center went away between our check and the write.
                    Some("users_warehouse_address_fkey") => Self::field(
                        "warehouse_address_id",
                        FieldCode::Unknown,
                        "names no warehouse address of this customer",
                    ),
                    Some("warehouse_addresses_group_fkey") if info.message().contains("update or delete") => {
                        Self::Conflict(
                            ConflictKind::StillReferenced,
                            "The group still tags warehouse addresses; untag them first.".into(),
                        )
                    }
                    Some("warehouse_addresses_group_fkey") => {
                        Self::field("group_id", FieldCode::Unknown, "names no group of this customer")
                    }
                    Some("api_client_groups_group_fkey") if info.message().contains("update or delete") => {
                        Self::Conflict(
                            ConflictKind::StillReferenced,
                            "API clients are limited to the group; change or delete them first.".into(),
                        )
                    }
                    Some("api_client_groups_group_fkey") => Self::field(
                        "group_ids",
                        FieldCode::Unknown,
                        "names groups that are not this customer's",
                    ),
                    Some("group_members_group_fkey") => Self::field(
                        "group_ids",
                        FieldCode::Unknown,
                        "names groups that are not this customer's",
                    ),
                    Some("users_cost_center_fkey") => Self::field(
                        "cost_center_id",
                        FieldCode::Unknown,
                        "names no cost center of this customer",
                    ),
                    _ => Self::Internal(format!("database error: {}", info.message())),
                },
                DatabaseErrorKind::ReadOnlyTransaction => Self::Unavailable(info.message().to_owned()),
                DatabaseErrorKind::SerializationFailure => {
                    Self::Unavailable(format!("serialization failure: {}", info.message()))
                }
                // A NUL character in a query parameter: the caller's doing, not ours.
                _ if info.message().starts_with("invalid byte sequence for encoding") => {
                    Self::BadRequest("Text must not contain NUL characters.".into())
                }
                _ => Self::Internal(format!("database error: {}", info.message())),
            },
            // What the commit ran into is what the caller should hear (a lost connection is
            // handled above, whichever of the two ran into it).
            DieselError::RollbackErrorOnCommit { commit_error, .. } => Self::from(*commit_error),
            other => Self::Internal(format!("database error: {other}")),
        }
    }
}

/// Whether `error` means the connection to PostgreSQL is gone, or the server is going away or
/// not serving yet: the request failed for want of a database, not because of anything in it.
fn connection_lost(error: &DieselError) -> bool {
    match error {
        // diesel reports `ClosedConnection` for SQLSTATE class 08 and whenever libpq says the
        // connection is bad, and `UnableToSendCommand` when libpq refuses to send a query
        // (it has no connection, or writing to the socket failed).
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
        | DieselError::DatabaseError(DatabaseErrorKind::UnableToSendCommand, _) => true,
        // diesel does not expose the SQLSTATE, so the rest is told by the message alone.
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            names_an_unavailable_server(info.message())
        }
        // The transaction bookkeeping broke, which diesel does when libpq no longer knows
        // the connection's state: a broken connection.
        DieselError::BrokenTransactionManager => true,
        DieselError::RollbackErrorOnCommit { commit_error, rollback_error } => {
            connection_lost(commit_error) || connection_lost(rollback_error)
        }
        _ => false,
    }
}

/// Messages of libpq and of the server, as diesel passes them on untyped, that mean the
/// connection is lost or the server is shutting down, starting up or recovering
/// (SQLSTATEs 57P01-57P05, 25P03). English only: a server with another `lc_messages` is
/// recognised only where diesel's error kind says so.
fn names_an_unavailable_server(message: &str) -> bool {
    const FRAGMENTS: [&str; 9] = [
        "no connection to the server",
        "server closed the connection unexpectedly",
        "could not receive data from server",
        "could not send data to server",
        "lost synchronization with server",
        "SSL connection has been closed unexpectedly",
        "SSL SYSCALL error",
        // due to administrator command (a fast shutdown), idle timeouts, a crash of another
        // server process, conflict with recovery, an unexpected postmaster exit
        "terminating connection ",
        // is shutting down, starting up, in recovery mode, not (yet) accepting connections
        "the database system is ",
    ];
    FRAGMENTS.iter().any(|fragment| message.contains(fragment))
}

/// Names the conflicting field for the unique constraints a client can run into; the constraint
/// name itself is an internal detail and is not echoed.
fn conflict_of(constraint: Option<&str>) -> (ConflictKind, &'static str) {
    match constraint {
        // The same words whoever holds the address (this customer, another one, staff), so the
        // answer does not tell a customer who is registered elsewhere.
        // login_emails_pkey holds the rule since issue 18 (the users trigger inserts there);
        // users_email_key held it before, and still does on a database not yet migrated.
        Some("login_emails_pkey" | "users_email_key") => {
            (ConflictKind::EmailTaken, "This e-mail address cannot be used; choose another.")
        }
        Some("customers_code_key") => (ConflictKind::CodeTaken, "A customer with this code already exists."),
        Some("cost_centers_code_key") => {
            (ConflictKind::CodeTaken, "This customer already has a cost center with this code.")
        }
        Some("users_external_id_key") => {
            (ConflictKind::ExternalIdTaken, "This customer already has a user with this external id.")
        }
        Some("groups_name_key") => {
            (ConflictKind::NameTaken, "This customer already has a group with this name.")
        }
        Some("users_one_owner") => (
            ConflictKind::OwnerExists,
            "The customer already has an owner; transfer ownership with POST /v1/customers/{customer_id}/owner.",
        ),
        _ => (ConflictKind::Conflict, "The resource conflicts with an existing one."),
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(format!("no database connection: {error}"))
    }
}

/// Flattens validator's nested errors into `field` paths.
pub fn field_errors(errors: &validator::ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    collect(errors, "", &mut out);
    out
}

fn collect(errors: &validator::ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() { field.to_string() } else { format!("{prefix}.{field}") };
        match kind {
            validator::ValidationErrorsKind::Field(list) => out.extend(list.iter().map(|error| {
                let message =
                    error.message.as_ref().map_or_else(|| error.code.to_string(), ToString::to_string);
                // validator's codes are ours (`length`, and the custom rules' codes); anything
                // else is an invalid value.
                let code = error.code.parse().unwrap_or(FieldCode::Invalid);
                FieldError::new(path.clone(), code, message)
            })),
            validator::ValidationErrorsKind::Struct(inner) => collect(inner, &path, out),
            validator::ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect(inner, &format!("{path}[{index}]"), out);
                }
            }
        }
    }
}

impl From<validator::ValidationErrors> for AppError {
    fn from(errors: validator::ValidationErrors) -> Self {
        Self::Validation(field_errors(&errors))
    }
}

/// The problem type of an error the framework answered by itself (before any handler), from
/// the closed set the document lists.
fn framework_slug(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not-found",
        405 => "method-not-allowed",
        413 => "payload-too-large",
        415 => "unsupported-media-type",
        503 => "unavailable",
        400..=499 => "malformed-request",
        _ => "internal",
    }
}

/// Marks a response whose error body has a format of its own that [`normalize`] leaves alone:
/// the token endpoint's RFC 6749 errors, which OAuth client libraries read.
#[derive(Debug, Clone, Copy)]
pub struct OwnErrorFormat;

/// Turns every error response that is not already problem+json (actix's own 404/405, for
/// example) into one, so clients see a single error format.
pub fn normalize<B>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    use actix_web::middleware::ErrorHandlerResponse;
    let already_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if already_problem || res.response().extensions().get::<OwnErrorFormat>().is_some() {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let reason = status.canonical_reason().unwrap_or("Error");
    let problem = Problem {
        problem_type: format!("urn:dockgate:problem:{}", framework_slug(status)),
        title: reason.into(),
        status: status.as_u16(),
        detail: reason.into(),
        errors: None,
    };
    let (req, old) = res.into_parts();
    let mut response = HttpResponse::build(status);
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            response.append_header((name.clone(), value.clone()));
        }
    }
    let response = response.content_type(PROBLEM_JSON).body(problem_body(&problem));
    Ok(ErrorHandlerResponse::Response(
        actix_web::dev::ServiceResponse::new(req, response).map_into_right_body(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    fn status_of(error: DieselError) -> StatusCode {
        AppError::from(error).status()
    }

    #[test]
    fn messages_of_a_lost_connection_or_an_unavailable_server_are_recognised() {
        for message in [
            "no connection to the server\n",
            "server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally\n",
            "could not receive data from server: Connection reset by peer\n",
            "could not send data to server: Broken pipe\n",
            "lost synchronization with server: got message type \"Z\", length 5\n",
            "SSL connection has been closed unexpectedly\n",
            "SSL SYSCALL error: EOF detected\n",
            "terminating connection due to administrator command",
            "terminating connection due to idle-session timeout",
            "terminating connection because of crash of another server process",
            "the database system is shutting down",
            "the database system is starting up",
            "the database system is in recovery mode",
            "the database system is not yet accepting connections",
        ] {
            assert!(names_an_unavailable_server(message), "{message}");
        }
        for message in [
            "deadlock detected",
            "canceling statement due to statement timeout",
            "invalid byte sequence for encoding \"UTF8\": 0x00",
            "relation \"customers\" does not exist",
        ] {
            assert!(!names_an_unavailable_server(message), "{message}");
        }
    }

    #[test]
    fn a_lost_connection_is_a_503_whatever_diesel_calls_it() {
        for error in [
            database_error(DatabaseErrorKind::ClosedConnection, "server closed the connection unexpectedly"),
            database_error(DatabaseErrorKind::UnableToSendCommand, "no connection to the server\n"),
            database_error(DatabaseErrorKind::Unknown, "terminating connection due to administrator command"),
            database_error(DatabaseErrorKind::Unknown, "the database system is starting up"),
            database_error(
                DatabaseErrorKind::ReadOnlyTransaction,
                "cannot execute INSERT in a read-only transaction",
            ),
            DieselError::BrokenTransactionManager,
            DieselError::RollbackErrorOnCommit {
                commit_error: Box::new(database_error(DatabaseErrorKind::ClosedConnection, "gone")),
                rollback_error: Box::new(database_error(DatabaseErrorKind::UnableToSendCommand, "gone")),
            },
            DieselError::RollbackErrorOnCommit {
                commit_error: Box::new(database_error(DatabaseErrorKind::UniqueViolation, "duplicate key")),
                rollback_error: Box::new(database_error(DatabaseErrorKind::UnableToSendCommand, "gone")),
            },
        ] {
            assert_eq!(status_of(error), StatusCode::SERVICE_UNAVAILABLE);
        }
    }

    #[test]
    fn other_database_errors_keep_their_status() {
        assert_eq!(status_of(DieselError::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(
            status_of(database_error(DatabaseErrorKind::Unknown, "deadlock detected")),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        // A commit that failed on its own merits (a deferred constraint), the connection fine:
        // the caller hears what the commit ran into.
        let commit = DieselError::RollbackErrorOnCommit {
            commit_error: Box::new(database_error(DatabaseErrorKind::UniqueViolation, "duplicate key")),
            rollback_error: Box::new(database_error(DatabaseErrorKind::Unknown, "rollback failed")),
        };
        assert_eq!(status_of(commit), StatusCode::CONFLICT);
        // Ours to give, never diesel's: reaching a client means a bug.
        assert_eq!(status_of(DieselError::RollbackTransaction), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(status_of(DieselError::NotInTransaction), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_503_says_when_to_retry_and_nothing_of_its_cause() {
        let response = AppError::from(database_error(
            DatabaseErrorKind::UnableToSendCommand,
            "no connection to the server",
        ))
        .error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let retry_after = response.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok());
        assert_eq!(retry_after, Some(UNAVAILABLE_RETRY_AFTER_SECS.to_string().as_str()));
        let problem = AppError::Unavailable("no connection to the server".into()).problem();
        assert_eq!(problem.problem_type, "urn:dockgate:problem:unavailable");
        assert!(!problem.detail.contains("no connection"), "{}", problem.detail);
    }
}
