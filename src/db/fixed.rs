//! A fixed SQL fragment that keeps its query a cached prepared statement.
//!
//! diesel's `sql()` marks every query it is part of unsafe to cache (it cannot know whether the
//! text was built at run time), so such a query is parsed and planned again on every call: for
//! the join of the request extractor that was most of a request's database time. A [`Fixed`]
//! fragment is a `&'static str`, so the queries it is part of are finitely many: diesel caches
//! them by their SQL text (not by type, which two fragments of one type would share).

use std::marker::PhantomData;

use diesel::expression::{
    AppearsOnTable, Expression, SelectableExpression, TypedExpressionType, ValidGrouping,
};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::QueryResult;

/// A fixed SQL expression of type `ST` (see the module).
#[derive(Debug, Clone, Copy)]
pub struct Fixed<ST> {
    sql: &'static str,
    _type: PhantomData<ST>,
}

/// The fixed SQL expression `sql` of type `ST`.
pub const fn fixed<ST>(sql: &'static str) -> Fixed<ST> {
    Fixed { sql, _type: PhantomData }
}

impl<ST: TypedExpressionType> Expression for Fixed<ST> {
    type SqlType = ST;
}

impl<ST> QueryFragment<Pg> for Fixed<ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(self.sql);
        Ok(())
    }
}

impl<ST> QueryId for Fixed<ST> {
    type QueryId = ();
    // Not identified by its type: the statement cache keys such queries by their SQL.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, QS> SelectableExpression<QS> for Fixed<ST> where Self: AppearsOnTable<QS> {}

impl<ST, QS> AppearsOnTable<QS> for Fixed<ST> where Self: Expression {}

impl<ST, GB> ValidGrouping<GB> for Fixed<ST> {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}
