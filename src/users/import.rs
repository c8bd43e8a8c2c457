//! `POST /v1/customers/{customer_id}/users/import`: up to [`MAX_ROWS`] people at once, from a
//! JSON array or a CSV file, in steps: the body is read (at most [`MAX_BODY_BYTES`]) and parsed
//! row by row ([`json_lines`], [`csv_lines`]: a row that cannot be read fails alone), every
//! row is checked without the database ([`check_rows`]: the rules of user creation, and
//! duplicates within the file), then the good rows are written in batches of [`BATCH`], each
//! batch one transaction and each row a savepoint in it ([`write_batch`]), through the same
//! create-or-replace as a single `PUT` ([`super::upsert::import_row`]): a row failing at the
//! database loses only itself. A dry run does all of it in transactions that are rolled back.
//!
//! Passwords are not imported: hashing 10,000 of them would hold the hashing pool (and every
//! sign-in waiting on it) for minutes, and a file of passwords is a file that should not exist.
//! People with login get `send_mail: true` (a welcome with a link to choose a password, through
//! the outbox in the row's transaction) or keep the password they have.

use std::collections::HashMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, post, web};
use diesel::{Connection, PgConnection};
use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde_json::{Map, Value};
use uuid::Uuid;
use validator::Validate;

use super::dto::{
    ImportError, ImportMode, ImportOutcome, ImportParams, ImportReport, ImportRow, ImportRowResult,
    ImportSummary,
};
use super::queries;
use super::upsert::{self, Desired};
use crate::accounts::Actor;
use crate::audit::Author;
use crate::config::Config;
use crate::db::{self, ids::CustomerId};
use crate::error::{AppError, ConflictKind, FieldCode, FieldError};
use crate::extract::{self, Query};
use crate::idempotency::{self, KeyHeader, Recorded};
use crate::openapi::sets;
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::write::Upserted;

/// The most rows one import takes; one more is a 413.
pub const MAX_ROWS: usize = 10_000;
/// The largest body of an import (every other route takes [`extract::MAX_BODY_BYTES`]).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Rows per transaction: long enough to be quick, short enough that no lock is held for long
/// and a failure loses little.
pub const BATCH: usize = 500;

/// One row as read from the body: what the report repeats of it, and the row or why it
/// cannot be one.
struct Line {
    external_id: Option<String>,
    email: Option<String>,
    parsed: Result<ImportRow, AppError>,
}

impl Line {
    /// A row of the JSON array or a CSV line made into the same object: parsed and validated
    /// as a request body would be, so its errors name fields the same way.
    fn from_value(value: Value) -> Self {
        let text = |field: &str| value.get(field).and_then(Value::as_str).map(str::to_owned);
        let (external_id, email) = (text("external_id"), text("email"));
        let parsed = extract::from_value::<ImportRow>(value)
            .and_then(|row| row.validate().map(|()| row).map_err(AppError::from));
        Self { external_id, email, parsed }
    }

    fn failed(error: AppError) -> Self {
        Self { external_id: None, email: None, parsed: Err(error) }
    }
}

fn too_many_rows() -> AppError {
    AppError::PayloadTooLarge(format!("An import holds at most {MAX_ROWS} rows; split the file."))
}

/// The rows of a JSON array, one at a time: only one row's JSON is held at once.
fn json_lines(body: &[u8]) -> Result<Vec<Line>, AppError> {
    let mut lines = Vec::new();
    let mut too_many = false;
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let read = Rows { lines: &mut lines, too_many: &mut too_many }.deserialize(&mut deserializer);
    if too_many {
        return Err(too_many_rows());
    }
    let not_json = |e: serde_json::Error| AppError::BadRequest(format!("The body is not valid JSON: {e}"));
    match read {
        Ok(()) => deserializer.end().map_err(not_json)?,
        Err(e) if e.is_data() => {
            return Err(AppError::field("", FieldCode::Type, "the body must be a JSON array of rows"));
        }
        Err(e) => return Err(not_json(e)),
    }
    Ok(lines)
}

/// Reads a JSON array into [`Line`]s, refusing the row past [`MAX_ROWS`].
struct Rows<'a> {
    lines: &'a mut Vec<Line>,
    too_many: &'a mut bool,
}

impl<'de> DeserializeSeed<'de> for Rows<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Rows<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(value) = seq.next_element::<Value>()? {
            if self.lines.len() == MAX_ROWS {
                *self.too_many = true;
                return Err(de::Error::custom("too many rows"));
            }
            self.lines.push(Line::from_value(value));
        }
        Ok(())
    }
}

/// What a CSV column holds.
#[derive(Clone, Copy)]
enum Column {
    Text(&'static str),
    /// `;`-separated.
    List(&'static str),
    Bool(&'static str),
}

const COLUMNS: &[Column] = &[
    Column::Text("name"),
    Column::Text("phone"),
    Column::Text("email"),
    Column::Bool("login_enabled"),
    Column::Text("role"),
    Column::List("permissions"),
    Column::List("group_ids"),
    Column::Text("data_scope"),
    Column::Text("warehouse_address_id"),
    Column::Text("cost_center_id"),
    Column::Text("external_id"),
    Column::Bool("send_mail"),
];

impl Column {
    fn name(self) -> &'static str {
        match self {
            Self::Text(name) | Self::List(name) | Self::Bool(name) => name,
        }
    }

    /// The JSON of a non-empty cell; a boolean that is not one stays text and fails the row
    /// with the field's error.
    fn value(self, cell: &str) -> Value {
        match self {
            Self::Text(_) => Value::String(cell.to_owned()),
            Self::List(_) => Value::Array(
                cell.split(';')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(|item| Value::String(item.to_owned()))
                    .collect(),
            ),
            Self::Bool(_) => match cell.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::String(cell.to_owned()),
            },
        }
    }
}

/// The header row: every column a field of [`ImportRow`], once, `name` among them (422
/// naming the column otherwise).
fn columns(header: &csv::ByteRecord) -> Result<Vec<Column>, AppError> {
    let mut found: Vec<Column> = Vec::new();
    let mut errors = Vec::new();
    for cell in header {
        let name = String::from_utf8_lossy(cell).trim().to_owned();
        match COLUMNS.iter().find(|c| c.name() == name) {
            Some(column) if found.iter().any(|f| f.name() == column.name()) => {
                errors.push(FieldError::new(name, FieldCode::Invalid, "this column comes twice"));
            }
            Some(column) => found.push(*column),
            None if name == "password" => errors.push(FieldError::new(
                name,
                FieldCode::NotAllowed,
                "passwords are not imported; use send_mail so people choose their own",
            )),
            None => {
                errors.push(FieldError::new(name, FieldCode::UnknownField, "is not a column of an import"))
            }
        }
    }
    if !found.iter().any(|c| c.name() == "name") {
        errors.push(FieldError::new("name", FieldCode::Required, "the header row needs a name column"));
    }
    if errors.is_empty() { Ok(found) } else { Err(AppError::Validation(errors)) }
}

/// The rows of a CSV file (RFC 4180, a header row, CRLF or LF, an optional UTF-8 BOM), read one
/// record at a time into the objects a JSON row would be.
fn csv_lines(body: &[u8]) -> Result<Vec<Line>, AppError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let mut reader = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(body);
    let bad = |e: csv::Error| AppError::BadRequest(format!("The body is not valid CSV: {e}"));
    let columns = columns(reader.byte_headers().map_err(bad)?)?;
    let mut lines = Vec::new();
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).map_err(bad)? {
        if lines.len() == MAX_ROWS {
            return Err(too_many_rows());
        }
        lines.push(csv_line(&columns, &record));
    }
    Ok(lines)
}

fn csv_line(columns: &[Column], record: &csv::ByteRecord) -> Line {
    if record.len() > columns.len() {
        let message = format!("has {} cells, the header {} columns", record.len(), columns.len());
        return Line::failed(AppError::field("", FieldCode::Invalid, &message));
    }
    let mut object = Map::new();
    for (column, cell) in columns.iter().zip(record) {
        let Ok(cell) = std::str::from_utf8(cell) else {
            return Line::failed(AppError::field(column.name(), FieldCode::Invalid, "is not UTF-8"));
        };
        let cell = cell.trim();
        if !cell.is_empty() {
            object.insert(column.name().to_owned(), column.value(cell));
        }
    }
    Line::from_value(Value::Object(object))
}

/// Each row as the person it asks for, under the rules of user creation and the caller's
/// rights; a row repeating an earlier good row's e-mail or external id (compared
/// case-insensitively, as the database does) fails; in `upsert` mode a row needs a key.
fn check_rows(
    actor: &Actor,
    customer_id: CustomerId,
    mode: ImportMode,
    lines: &[Line],
) -> Vec<Result<Desired, AppError>> {
    let mut emails: HashMap<String, usize> = HashMap::new();
    let mut keys: HashMap<String, usize> = HashMap::new();
    let mut checked = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        let desired = match &line.parsed {
            Err(error) => Err(clone_error(error)),
            Ok(row) => Desired::check(actor, customer_id, CreateUserFrom::from(row), None),
        };
        let desired = desired.and_then(|desired| {
            let email = desired.email.as_ref().map(|e| e.as_str().to_lowercase());
            let key = desired.external_id.clone().flatten().map(|k| k.to_lowercase());
            if mode == ImportMode::Upsert && email.is_none() && key.is_none() {
                return Err(AppError::field(
                    "external_id",
                    FieldCode::Required,
                    "in upsert mode a row needs an external_id or an email to find its person by",
                ));
            }
            if let Some(first) = key.as_ref().and_then(|k| keys.get(k)) {
                let detail = format!("Row {} has this external id already.", first + 1);
                return Err(AppError::Conflict(ConflictKind::ExternalIdTaken, detail));
            }
            if let Some(first) = email.as_ref().and_then(|e| emails.get(e)) {
                let detail = format!("Row {} has this e-mail address already.", first + 1);
                return Err(AppError::Conflict(ConflictKind::EmailTaken, detail));
            }
            keys.extend(key.map(|k| (k, index)));
            emails.extend(email.map(|e| (e, index)));
            Ok(desired)
        });
        checked.push(desired);
    }
    checked
}

/// [`ImportRow`] is read once and checked once; the rules take a [`super::dto::CreateUser`].
struct CreateUserFrom;

impl CreateUserFrom {
    fn from(row: &ImportRow) -> super::dto::CreateUser {
        super::dto::CreateUser {
            valid_until: None,
            name: row.name.clone(),
            phone: row.phone.clone(),
            email: row.email.clone(),
            login_enabled: row.login_enabled,
            role: row.role,
            permissions: row.permissions.clone(),
            group_ids: row.group_ids.clone(),
            data_scope: row.data_scope,
            warehouse_address_id: row.warehouse_address_id,
            cost_center_id: row.cost_center_id,
            external_id: row.external_id.clone(),
            password: None,
            temporary: None,
            send_mail: row.send_mail,
        }
    }
}

/// The errors a row's report shows: what a single request would have been answered with.
fn clone_error(error: &AppError) -> AppError {
    match error {
        AppError::Validation(errors) => AppError::Validation(errors.clone()),
        AppError::Conflict(kind, detail) => AppError::Conflict(*kind, detail.clone()),
        other => AppError::BadRequest(other.problem().detail),
    }
}

/// What one written row did: its outcome and its person.
type Written = Result<(Upserted, Uuid), AppError>;

/// Everything a batch needs, moved onto the blocking pool with it.
struct Batch {
    customer_id: CustomerId,
    config: Config,
    actor: Actor,
    upsert: bool,
    rows: Vec<(usize, Desired)>,
}

/// One batch in the transaction `conn` is in: each row in a savepoint, so a row refused by
/// the database (an e-mail another customer's person took meanwhile) is undone alone.
fn write_batch(conn: &mut PgConnection, batch: Batch) -> Result<Vec<(usize, Written)>, AppError> {
    let Batch { customer_id, config, actor, upsert, rows } = batch;
    let author = Author::from(&actor);
    let held = upsert::hold(conn, customer_id)?;
    let mut written = Vec::with_capacity(rows.len());
    for (index, desired) in rows {
        let result = conn
            .transaction(|conn| upsert::import_row(conn, &config, (&actor, &author), &held, upsert, desired));
        if let Err(AppError::Internal(cause)) = &result {
            tracing::error!(cause = %cause, row = index + 1, "an import row failed");
        }
        written.push((index, result.map(|(outcome, view)| (outcome, view.id))));
    }
    Ok(written)
}

/// The report of one row.
fn row_result(row: usize, line: Line, written: Option<Written>, dry_run: bool) -> ImportRowResult {
    let (outcome, user_id, errors) = match written {
        Some(Ok((Upserted::Created, id))) => (ImportOutcome::Created, (!dry_run).then_some(id), None),
        Some(Ok((Upserted::Updated, id))) => (ImportOutcome::Updated, Some(id), None),
        Some(Ok((Upserted::Unchanged, id))) => (ImportOutcome::Unchanged, Some(id), None),
        Some(Err(error)) => (ImportOutcome::Failed, None, Some(errors_of(&error))),
        None => (ImportOutcome::Failed, None, Some(errors_of(&AppError::internal("a row was lost")))),
    };
    ImportRowResult {
        row: u32::try_from(row + 1).unwrap_or(u32::MAX),
        external_id: line.external_id,
        email: line.email,
        outcome,
        user_id,
        errors,
    }
}

fn errors_of(error: &AppError) -> Vec<ImportError> {
    let problem = error.problem();
    match problem.errors {
        Some(fields) if !fields.is_empty() => fields
            .into_iter()
            .map(|field| ImportError {
                status: problem.status,
                problem_type: problem.problem_type.clone(),
                field: (!field.field.is_empty()).then_some(field.field),
                code: Some(field.code),
                message: field.message,
            })
            .collect(),
        _ => vec![ImportError {
            status: problem.status,
            problem_type: problem.problem_type,
            field: match error {
                AppError::Conflict(ConflictKind::EmailTaken, _) => Some("email".into()),
                AppError::Conflict(ConflictKind::ExternalIdTaken, _) => Some("external_id".into()),
                _ => None,
            },
            code: None,
            message: problem.detail,
        }],
    }
}

/// Import users
///
/// A JSON array of rows (`application/json`) or a CSV file (`text/csv`: a header row naming
/// the columns `name, phone, email, login_enabled, role, permissions, group_ids, data_scope,
/// warehouse_address_id, cost_center_id, external_id, send_mail`; `permissions` and `group_ids`
/// `;`-separated; CRLF or LF; a UTF-8 BOM is fine). `data_scope` as for one user; in `upsert`
/// mode a row without it never widens the person it replaces. At most 10,000 rows and 16 MiB (413).
/// Staff, or `users.manage` with the rules of `POST .../users` for each row (a caller limited
/// to groups gives its own groups). Passwords are not imported: use `send_mail: true`.
///
/// `mode=create` (default) creates every row; `mode=upsert` replaces the person with the row's
/// `external_id`, else its `email`, as `PUT .../users/by-external-id/{external_id}` does.
/// A bad row never blocks the good ones: rows are written in transactions of 500, each row
/// with its audit event and welcome mail; a row repeating an earlier row's e-mail or external
/// id fails. `dry_run=true` checks everything and writes nothing. The report lists every row
/// in the order of the file; with `Accept: text/csv` it comes as CSV, every cell that a
/// spreadsheet would run as a formula (starting with `= + - @`, a tab or a CR) prefixed with `'`.
#[utoipa::path(
    tag = "users",
    operation_id = "importUsers",
    security(("bearer" = [])),
    params(("customer_id" = Uuid, Path), ImportParams, KeyHeader),
    request_body(
        description = "The rows: a JSON array of them, or CSV with a header row.",
        content(
            (Vec<ImportRow> = "application/json"),
            (String = "text/csv", example = json!("name,email,external_id,send_mail\r\nJana Berg,jana.berg@acme.example,ERP-10042,true\r\n")),
        ),
    ),
    responses(
        (status = 200, description = "What happened to each row.", content(
            (ImportReport = "application/json"),
            (String = "text/csv", example = json!("row,external_id,email,outcome,user_id,errors\r\n1,ERP-10042,jana.berg@acme.example,created,01936f0e-7c1a-7d2b-9a51-3f1f2b7c4d50,\r\n")),
        )),
        sets::SignedIn, sets::Body, sets::Query, sets::Forbidden, sets::Missing,
    )
)]
#[post("/v1/customers/{customer_id}/users/import")]
pub async fn import_users(
    state: web::Data<AppState>,
    actor: Actor,
    customer_id: web::Path<CustomerId>,
    Query(params): Query<ImportParams>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<Recorded, AppError> {
    let customer_id = customer_id.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let csv_in = is_csv(req.headers().get(header::CONTENT_TYPE));
    if !csv_in && !extract::is_json(&req) {
        return Err(AppError::UnsupportedMediaType(
            "The body must be JSON (application/json) or CSV (text/csv).".into(),
        ));
    }
    let mut payload = payload.into_inner();
    let body = extract::read_at_most(&req, &mut payload, MAX_BODY_BYTES).await?;
    let key = idempotency::key_of(&req, &body)?;
    db::run(&state.pool, move |conn| queries::customer_name(conn, customer_id)).await?;
    let lines = if csv_in { csv_lines(&body)? } else { json_lines(&body)? };
    drop(body);
    let csv_out = wants_csv(&req);
    let author = Author::from(&actor);
    idempotency::around(&state, &author, key, || import(&state, actor, customer_id, params, lines, csv_out))
        .await
}

/// Checks every row, writes the good ones in batches, and reports on each.
async fn import(
    state: &AppState,
    actor: Actor,
    customer_id: CustomerId,
    params: ImportParams,
    lines: Vec<Line>,
    csv_out: bool,
) -> Result<Recorded, AppError> {
    let (mode, dry_run) = (params.mode.unwrap_or(ImportMode::Create), params.dry_run.unwrap_or(false));
    let checked = check_rows(&actor, customer_id, mode, &lines);
    let mut written: Vec<Option<Written>> = (0..lines.len()).map(|_| None).collect();
    let mut good = Vec::new();
    for (index, desired) in checked.into_iter().enumerate() {
        match desired {
            Ok(desired) => good.push((index, desired)),
            Err(error) => written[index] = Some(Err(error)),
        }
    }
    let mut good = good.into_iter().peekable();
    while good.peek().is_some() {
        let rows: Vec<_> = good.by_ref().take(BATCH).collect();
        let batch = Batch {
            customer_id,
            config: state.config.clone(),
            actor: actor.clone(),
            upsert: mode == ImportMode::Upsert,
            rows,
        };
        let work = move |conn: &mut PgConnection| write_batch(conn, batch);
        let results = if dry_run {
            db::rolled_back(&state.pool, work).await?
        } else {
            db::transaction(&state.pool, work).await?
        };
        for (index, result) in results {
            written[index] = Some(result);
        }
    }
    let mut summary = ImportSummary::default();
    let rows: Vec<ImportRowResult> = lines
        .into_iter()
        .zip(written)
        .enumerate()
        .map(|(index, (line, written))| {
            let result = row_result(index, line, written, dry_run);
            let count = match result.outcome {
                ImportOutcome::Created => &mut summary.created,
                ImportOutcome::Updated => &mut summary.updated,
                ImportOutcome::Unchanged => &mut summary.unchanged,
                ImportOutcome::Failed => &mut summary.failed,
            };
            *count += 1;
            result
        })
        .collect();
    let report = ImportReport { summary, rows };
    if csv_out { csv_report(&report) } else { Recorded::json(StatusCode::OK, None, None, &report) }
}

fn is_csv(content_type: Option<&header::HeaderValue>) -> bool {
    let Some(Ok(value)) = content_type.map(|v| v.to_str()) else { return false };
    value.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("text/csv")
}

/// Whether `Accept` names `text/csv` (the report is JSON otherwise).
pub(super) fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|range| range.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("text/csv"))
}

/// A cell a spreadsheet would run as a formula (OWASP's CSV injection list) made text by a
/// leading `'`.
pub(super) fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() }
}

/// The report as CSV: one line per row, the errors of a row in one cell.
fn csv_report(report: &ImportReport) -> Result<Recorded, AppError> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    let failed = |e: csv::Error| AppError::internal(format!("writing the CSV report: {e}"));
    writer.write_record(["row", "external_id", "email", "outcome", "user_id", "errors"]).map_err(failed)?;
    for row in &report.rows {
        let errors = row.errors.as_deref().unwrap_or_default().iter().map(|e| match &e.field {
            Some(field) => format!("{field}: {}", e.message),
            None => e.message.clone(),
        });
        let errors: Vec<String> = errors.collect();
        writer
            .write_record([
                row.row.to_string(),
                cell(row.external_id.as_deref().unwrap_or_default()),
                cell(row.email.as_deref().unwrap_or_default()),
                row.outcome.to_string(),
                row.user_id.map(|id| id.to_string()).unwrap_or_default(),
                cell(&errors.join("; ")),
            ])
            .map_err(failed)?;
    }
    let body = writer.into_inner().map_err(|e| AppError::internal(format!("the CSV report: {e}")))?;
    Ok(Recorded::bytes(StatusCode::OK, "text/csv; charset=utf-8", body))
}
