//! Ready to distribute by customer (issue 18): the migrated schema, read from pg_catalog, obeys
//! the rules that let a Citus-like system shard every customer's rows by `customer_id` and run a
//! single-customer statement on one node. Derived from the catalog, so a new table or key cannot
//! slip in unclassified: every table is either customer-owned (and checked), or listed below as
//! a reference or local table with its reason.

use std::collections::{BTreeMap, BTreeSet};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};

use crate::helpers::cluster::TestDatabase;

/// Customer-owned tables that also hold the platform's rows (customer_id NULL): staff, platform
/// API clients and webhooks, the platform's audit events and mail, and what hangs off people and
/// clients of either kind. Their primary key cannot lead with customer_id as it is; a platform
/// pseudo-customer would lift that, later. Every other rule that NULL permits still applies.
const HOLDS_PLATFORM_ROWS: &[(&str, &str)] = &[
    ("users", "staff are users with kind 'staff' and customer_id NULL"),
    ("sessions", "a session of a staff member or a customer user; no customer_id column"),
    ("refresh_tokens", "tokens of any session (staff's included), found by hash alone; no customer_id"),
    ("password_tokens", "reset and set-password links of staff and customer users; no customer_id"),
    ("mfa_recovery_codes", "recovery codes of staff and customer users; no customer_id"),
    ("sign_in_challenges", "sign-in steps of staff and customer users; no customer_id"),
    ("api_clients", "platform API clients have customer_id NULL"),
    ("api_client_tokens", "tokens of platform API clients have customer_id NULL"),
    ("scim_request_counts", "counted per API client, platform clients included; no customer_id"),
    ("webhook_endpoints", "platform endpoints (customer_id NULL) hear every customer's events"),
    ("webhook_events", "events are sent to platform endpoints too; platform events have customer_id NULL"),
    ("webhook_deliveries", "deliveries to platform endpoints; no customer_id"),
    ("audit_events", "the platform's own events (staff, customers created) have customer_id NULL"),
    ("mail_outbox", "mail to staff has customer_id NULL"),
];

/// Tables copied to every node: small, read by every customer's statements, or holding a rule
/// that spans customers.
const REFERENCE: &[(&str, &str)] = &[
    ("login_emails", "an e-mail address is unique across customers and staff: the address book of logins"),
    ("signing_keys", "a handful of JWT keys every instance signs and verifies with"),
];

/// Tables that stay on the coordinator (or one node) and are never joined with customer data.
const LOCAL: &[(&str, &str)] = &[
    ("__diesel_schema_migrations", "diesel's record of applied migrations"),
    ("login_failures", "sign-in rate limits, counted per address and per client address across customers"),
    ("mail_throttle", "mail rate limits per recipient address, whoever's it is"),
    ("idempotency_keys", "keyed by caller (a person or a client of any customer, or staff); short-lived"),
];

/// Constraints of customer-owned tables that break a rule, each with why it stays for now (and
/// what distribution would need instead).
const EXCEPTIONS: &[(&str, &str)] = &[
    (
        "customers_code_key",
        "a customer's code is unique platform-wide; distributed by id, customers would need the \
         codes in a reference table (like login_emails), or customers itself as a reference table",
    ),
    (
        "customers_access_reviewed_by_fkey",
        "the reviewer may be staff (customer_id NULL); distributed, this foreign key would be \
         dropped (the audit log names the reviewer)",
    ),
];

#[derive(QueryableByName)]
struct Table {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    has_customer_id: bool,
}

#[derive(QueryableByName)]
struct ForeignKey {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    from_table: String,
    #[diesel(sql_type = Text)]
    to_table: String,
    /// "column->referenced column" pairs, comma-separated.
    #[diesel(sql_type = Text)]
    pairs: String,
}

#[derive(QueryableByName)]
struct UniqueIndex {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Bool)]
    primary: bool,
    /// The leading column; NULL when the index leads with an expression.
    #[diesel(sql_type = Nullable<Text>)]
    first_column: Option<String>,
}

struct Catalog {
    tables: Vec<Table>,
    foreign_keys: Vec<ForeignKey>,
    unique_indexes: Vec<UniqueIndex>,
}

fn read_catalog(conn: &mut PgConnection) -> Catalog {
    let tables = diesel::sql_query(
        "SELECT c.relname::text AS name,
                EXISTS (SELECT 1 FROM pg_attribute a
                        WHERE a.attrelid = c.oid AND a.attname = 'customer_id' AND NOT a.attisdropped)
                    AS has_customer_id
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
         ORDER BY 1",
    )
    .load(conn)
    .expect("read the tables");
    let foreign_keys = diesel::sql_query(
        "SELECT k.conname::text AS name, f.relname::text AS from_table, t.relname::text AS to_table,
                (SELECT string_agg(fa.attname || '->' || ta.attname, ',' ORDER BY p.ord)
                 FROM unnest(k.conkey, k.confkey) WITH ORDINALITY AS p (from_col, to_col, ord)
                 JOIN pg_attribute fa ON fa.attrelid = k.conrelid AND fa.attnum = p.from_col
                 JOIN pg_attribute ta ON ta.attrelid = k.confrelid AND ta.attnum = p.to_col) AS pairs
         FROM pg_constraint k
         JOIN pg_class f ON f.oid = k.conrelid JOIN pg_namespace n ON n.oid = f.relnamespace
         JOIN pg_class t ON t.oid = k.confrelid
         WHERE k.contype = 'f' AND n.nspname = 'public'
         ORDER BY 1",
    )
    .load(conn)
    .expect("read the foreign keys");
    let unique_indexes = diesel::sql_query(
        "SELECT ic.relname::text AS name, tc.relname::text AS table_name, i.indisprimary AS primary,
                a.attname::text AS first_column
         FROM pg_index i
         JOIN pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_class tc ON tc.oid = i.indrelid JOIN pg_namespace n ON n.oid = tc.relnamespace
         LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] AND i.indkey[0] <> 0
         WHERE i.indisunique AND n.nspname = 'public'
         ORDER BY 1",
    )
    .load(conn)
    .expect("read the unique indexes");
    Catalog { tables, foreign_keys, unique_indexes }
}

/// The column a customer-owned table is distributed by.
fn distribution_column(table: &str) -> &'static str {
    if table == "customers" { "id" } else { "customer_id" }
}

/// Every broken rule, one line each naming the table and constraint.
fn violations(catalog: &Catalog) -> Vec<String> {
    let listed = |list: &[(&str, &str)], table: &str| list.iter().any(|(name, _)| *name == table);
    let platform = |table: &str| listed(HOLDS_PLATFORM_ROWS, table);
    let excepted = |constraint: &str| listed(EXCEPTIONS, constraint);
    let has_customer_id: BTreeMap<&str, bool> =
        catalog.tables.iter().map(|t| (t.name.as_str(), t.has_customer_id)).collect();

    // Customer-owned: customers, anything with customer_id, and anything that references a
    // customer-owned table, transitively.
    // A reference table may carry customer_id as a pointer (login_emails: which customer's
    // shard holds the login) without being distributed by it.
    let mut owned: BTreeSet<&str> = catalog
        .tables
        .iter()
        .filter(|t| t.has_customer_id && !listed(REFERENCE, &t.name))
        .map(|t| t.name.as_str())
        .collect();
    owned.insert("customers");
    loop {
        let before = owned.len();
        for fk in &catalog.foreign_keys {
            if owned.contains(fk.to_table.as_str()) && !listed(REFERENCE, &fk.from_table) {
                owned.insert(fk.from_table.as_str());
            }
        }
        if owned.len() == before {
            break;
        }
    }

    let mut out = Vec::new();
    for table in &catalog.tables {
        let name = table.name.as_str();
        let lists = [
            ("HOLDS_PLATFORM_ROWS", listed(HOLDS_PLATFORM_ROWS, name)),
            ("REFERENCE", listed(REFERENCE, name)),
            ("LOCAL", listed(LOCAL, name)),
        ];
        let in_lists: Vec<&str> = lists.iter().filter(|(_, yes)| *yes).map(|(list, _)| *list).collect();
        if owned.contains(name) {
            if in_lists.iter().any(|list| *list != "HOLDS_PLATFORM_ROWS") {
                out.push(format!("{name}: customer-owned, but listed in {in_lists:?}"));
            }
            if !table.has_customer_id && name != "customers" && !platform(name) {
                out.push(format!(
                    "{name}: customer-owned (references a customer table) but has no customer_id"
                ));
            }
        } else {
            match in_lists.len() {
                0 => out.push(format!("{name}: not customer-owned and not listed as REFERENCE or LOCAL")),
                1 if in_lists[0] == "HOLDS_PLATFORM_ROWS" => {
                    out.push(format!("{name}: listed in HOLDS_PLATFORM_ROWS but is not customer-owned"))
                }
                1 => {}
                _ => out.push(format!("{name}: listed more than once: {in_lists:?}")),
            }
        }
    }
    for (list, entries) in
        [("HOLDS_PLATFORM_ROWS", HOLDS_PLATFORM_ROWS), ("REFERENCE", REFERENCE), ("LOCAL", LOCAL)]
    {
        for (name, _) in entries {
            if !has_customer_id.contains_key(name) {
                out.push(format!("{name}: listed in {list} but there is no such table"));
            }
        }
    }
    for (name, _) in EXCEPTIONS {
        let exists = catalog.foreign_keys.iter().any(|fk| fk.name == *name)
            || catalog.unique_indexes.iter().any(|ix| ix.name == *name);
        if !exists {
            out.push(format!("{name}: listed in EXCEPTIONS but there is no such constraint"));
        }
    }

    for index in &catalog.unique_indexes {
        let table = index.table_name.as_str();
        if !owned.contains(table) || excepted(&index.name) {
            continue;
        }
        let column = distribution_column(table);
        let kind = if index.primary { "primary key" } else { "unique index" };
        // A platform-row table cannot lead its primary key with a column that is NULL for some
        // rows; without a customer_id column it cannot lead anything with it.
        if platform(table) && (index.primary || !has_customer_id[table]) {
            continue;
        }
        if index.first_column.as_deref() != Some(column) {
            out.push(format!(
                "{table}: {kind} {} leads with {} instead of {column}",
                index.name,
                index.first_column.as_deref().unwrap_or("an expression"),
            ));
        }
    }
    if !catalog.unique_indexes.iter().any(|ix| ix.table_name == "customers" && ix.primary) {
        out.push("customers: no primary key".into());
    }
    for table in owned.iter().filter(|t| !platform(t)) {
        if !catalog.unique_indexes.iter().any(|ix| ix.table_name == *table && ix.primary) {
            out.push(format!("{table}: customer-owned without a primary key"));
        }
    }

    for fk in &catalog.foreign_keys {
        let (from, to) = (fk.from_table.as_str(), fk.to_table.as_str());
        if listed(REFERENCE, from) && owned.contains(to) {
            out.push(format!("{from}: reference table with foreign key {} to customer-owned {to}", fk.name));
        }
        if !owned.contains(from) || !owned.contains(to) || excepted(&fk.name) {
            continue;
        }
        // A platform-row table may point at another one by id alone (its rows may be the
        // platform's); pointing at a table of customer rows only, it must say whose.
        if platform(from) && platform(to) {
            continue;
        }
        let wanted = format!("{}->{}", distribution_column(from), distribution_column(to));
        if !fk.pairs.split(',').any(|pair| pair == wanted) {
            out.push(format!(
                "{from}: foreign key {} to {to} ({}) does not include {wanted}",
                fk.name, fk.pairs
            ));
        }
    }
    out
}

#[test]
fn every_customer_owned_table_is_keyed_and_referenced_by_customer_id() {
    let db = TestDatabase::create();
    let catalog = read_catalog(&mut db.connect());
    assert!(catalog.tables.len() > 20, "the catalog query found the migrated tables");
    let found = violations(&catalog);
    assert!(found.is_empty(), "the schema is not ready to distribute by customer:\n{}", found.join("\n"));
}

#[test]
fn a_table_keyed_without_customer_id_is_named() {
    // The rules can fail: a new customer table keyed by id alone, another table nobody
    // classified, and a link between customer tables by id alone are each reported.
    let db = TestDatabase::create();
    let mut conn = db.connect();
    conn.batch_execute(
        "CREATE TABLE parcels (customer_id uuid NOT NULL REFERENCES customers (id), id uuid PRIMARY KEY,
                               cost_center_id uuid, tracking text UNIQUE);
         CREATE TABLE parcel_notes (id uuid PRIMARY KEY, parcel_id uuid REFERENCES parcels (id));
         CREATE TABLE unclassified (id int PRIMARY KEY)",
    )
    .expect("create the offending tables");
    let found = violations(&read_catalog(&mut conn)).join("\n");
    for expected in [
        "parcels: primary key parcels_pkey leads with id instead of customer_id",
        "parcels: unique index parcels_tracking_key leads with tracking instead of customer_id",
        "parcel_notes: customer-owned (references a customer table) but has no customer_id",
        "parcel_notes: foreign key parcel_notes_parcel_id_fkey to parcels (parcel_id->id) does not include customer_id->customer_id",
        "unclassified: not customer-owned and not listed as REFERENCE or LOCAL",
    ] {
        assert!(found.contains(expected), "expected {expected:?} among:\n{found}");
    }
}
