//! Keyset pagination, one mechanism for every list: `limit` (1..=200, default 50) and an opaque
//! `cursor` naming the last item of the previous page. Lists are ordered by id (UUID v7, so by
//! creation), which an index serves whatever the page: page 1,000 costs what page 1 does, and
//! rows inserted between pages neither repeat nor go missing.

use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{AppError, FieldCode};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page; omit for the first page.
    #[param(min_length = 22, max_length = 22, pattern = "^[A-Za-z0-9_-]{22}$")]
    pub cursor: Option<String>,
}

/// A validated page request.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    /// Continue after this id (in the list's order).
    pub after: Option<Uuid>,
}

impl PageParams {
    pub fn page(&self) -> Result<Page, AppError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::field("limit", FieldCode::Range, "must be from 1 to 200"));
        }
        let after = match &self.cursor {
            None => None,
            Some(cursor) => Some(decode(cursor).ok_or_else(|| {
                AppError::field("cursor", FieldCode::Invalid, "is not a cursor this list gave out")
            })?),
        };
        Ok(Page { limit, after })
    }
}

/// A handler that takes a `Page` gets the validated `limit` and `cursor` of the query string (400
/// for a malformed one, 422 naming the parameter for one out of range); unknown parameters are
/// ignored.
impl actix_web::FromRequest for Page {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let page = actix_web::web::Query::<PageParams>::from_query(req.query_string())
            .map_err(|e| AppError::BadRequest(e.to_string()))
            .and_then(|params| params.page());
        std::future::ready(page)
    }
}

impl Page {
    /// How many rows a query fetches: one more than the page, to know whether another follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }
}

/// Lenient about the unused trailing bits, so every string the documented pattern allows is a
/// cursor (an unknown id just continues from wherever it sorts).
const CURSOR: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    base64::engine::GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

fn decode(cursor: &str) -> Option<Uuid> {
    let bytes = CURSOR.decode(cursor).ok()?;
    Uuid::from_slice(&bytes).ok()
}

fn encode(id: Uuid) -> String {
    CURSOR.encode(id.as_bytes())
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> List<T> {
    /// Builds the page from `rows` fetched with [`Page::fetch`], mapping each to its view.
    pub fn from_rows<R>(
        mut rows: Vec<R>,
        page: Page,
        id: impl Fn(&R) -> Uuid,
        view: impl Fn(R) -> T,
    ) -> Self {
        let more = rows.len() as i64 > page.limit;
        rows.truncate(page.limit as usize);
        let next_cursor = if more { rows.last().map(|row| encode(id(row))) } else { None };
        Self { items: rows.into_iter().map(view).collect(), next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = Uuid::now_v7();
        let params = PageParams { limit: Some(10), cursor: Some(encode(id)) };
        let page = params.page().unwrap();
        assert_eq!(page.after, Some(id));
        assert!(PageParams { limit: None, cursor: Some("%%%".into()) }.page().is_err());
        assert!(PageParams { limit: Some(0), cursor: None }.page().is_err());
        assert!(PageParams { limit: Some(201), cursor: None }.page().is_err());
    }
}
