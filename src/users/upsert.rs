//! Create-or-replace of a person by the ERP's key, `PUT .../users/by-external-id/{external_id}`,
//! and what a bulk import ([`super::import`]) shares with it: a full body checked without the
//! database ([`Desired::check`]), then [`insert`] or [`replace`] of the locked person, the
//! choice between them made by [`write::upsert_in`]. A full body means what it says: a field
//! left out takes the value a create would give it (no phone, the default grants, no group),
//! except `password`, which only ever gives a first password (see [`replace`]).

use actix_web::{get, put, web};
use diesel::PgConnection;
use uuid::Uuid;

use super::dto::{CreateUser, CustomerRole, UserView};
use super::models::{Access, AccessRequest, NewUser, User, UserChanges};
use super::views::WithDefault;
use super::{queries, rules};
use crate::accounts::{Actor, mails};
use crate::audit::{self, Author};
use crate::config::Config;
use crate::db::ids::{AddressId, CostCenterId, CustomerId, UserId};
use crate::db::{self, types::Email};
use crate::error::{AppError, ConflictKind, FieldCode};
use crate::etag::{self, IfMatch};
use crate::extract::Json;
use crate::openapi::sets;
use crate::permissions::{DataScope, Permission, Role};
use crate::policy::{self, Action};
use crate::state::AppState;
use crate::write::{self, Tagged, UpsertActions, Upserted};

/// The audit actions of a person's create-or-replace: the same as a create and a change.
pub const ACTIONS: UpsertActions =
    UpsertActions { created: audit::Action::UserCreated, updated: audit::Action::UserUpdated };

/// A person as a full body asks for it, checked against the rules of user creation and the
/// caller's rights as far as that goes without the database.
#[derive(Debug, Clone)]
pub struct Desired {
    pub customer_id: CustomerId,
    name: String,
    phone: Option<String>,
    pub email: Option<Email>,
    login_enabled: bool,
    role: Role,
    permissions: Vec<Permission>,
    /// What a create gives (see [`rules::access_for`]).
    access: Access,
    /// The `data_scope` the body asked for: a replace widens only when it says `all`.
    asked_scope: Option<DataScope>,
    warehouse_address_id: Option<AddressId>,
    cost_center_id: Option<CostCenterId>,
    /// `None`: keep the person's (an import row keyed by e-mail that names none).
    pub external_id: Option<Option<String>>,
    password_hash: Option<String>,
    send_mail: bool,
    /// The caller's group limit: addresses of other groups are not its to hand out.
    within: Option<Vec<Uuid>>,
}

impl Desired {
    /// The role (403 for an owner unless staff or the owner), grants and groups of user
    /// creation ([`rules::grant`], 422), a well-formed e-mail (422); `password_hash` is the
    /// body's password, hashed by the caller (the import takes none).
    pub fn check(
        actor: &Actor,
        customer_id: CustomerId,
        body: CreateUser,
        password_hash: Option<String>,
    ) -> Result<Self, AppError> {
        let asked_scope = body.data_scope;
        let asked = AccessRequest { data_scope: body.data_scope, group_ids: body.group_ids };
        let grant = rules::grant(actor, customer_id, body.role, body.permissions.as_deref(), asked)?;
        let email = body.email.as_deref().map(rules::email).transpose()?;
        Ok(Self {
            customer_id,
            name: body.name.trim().to_owned(),
            phone: body.phone,
            login_enabled: body.login_enabled.unwrap_or(email.is_some()),
            email,
            role: grant.role,
            permissions: grant.permissions,
            access: Access { data_scope: grant.data_scope, group_ids: grant.group_ids },
            asked_scope,
            warehouse_address_id: body.warehouse_address_id.map(AddressId::from),
            cost_center_id: body.cost_center_id.map(CostCenterId::from),
            external_id: Some(body.external_id.map(|id| id.trim().to_owned())),
            password_hash,
            send_mail: body.send_mail.unwrap_or(false),
            within: policy::group_scope(actor),
        })
    }
}

/// Creates the person `desired` describes, with its groups and, when asked, its welcome mail.
/// `keyed`: `None` when the customer has someone with its `external_id` already, also one a
/// concurrent request inserted meanwhile ([`queries::insert_keyed`]); unkeyed, that is a 409.
/// `held`: the customer as [`hold`] read it in this transaction (an import reads it once a
/// batch), or `None` to read it here.
pub fn insert(
    conn: &mut PgConnection,
    config: &Config,
    desired: Desired,
    keyed: bool,
    held: Option<&Held>,
) -> Result<Option<User>, AppError> {
    let d = desired;
    rules::check_login(d.login_enabled, d.email.is_some(), d.password_hash.is_some(), d.send_mail)?;
    let held = match held {
        Some(held) => held.clone(),
        None => hold(conn, d.customer_id)?,
    };
    if d.login_enabled && !held.logins_open {
        rules::require_logins_open(conn, d.customer_id)?;
    }
    let customer_name = held.name;
    let within = d.within.as_deref();
    rules::check_references(conn, d.customer_id, within, d.warehouse_address_id, d.cost_center_id)?;
    let new = NewUser {
        email: d.email,
        phone: d.phone,
        password_hash: d.password_hash,
        login_enabled: d.login_enabled,
        warehouse_address_id: d.warehouse_address_id,
        cost_center_id: d.cost_center_id,
        external_id: d.external_id.flatten(),
        ..NewUser::new(d.customer_id, d.name, d.role, d.permissions, d.access.data_scope)
    };
    let row = if keyed && new.external_id.is_some() {
        match queries::insert_keyed(conn, &new)? {
            Some(row) => row,
            None => return Ok(None),
        }
    } else {
        queries::insert(conn, &new)?
    };
    let user_id = UserId::from(row.id);
    // A new person has no memberships to replace; most imported people join no group (the
    // scope is in the row already).
    let groups = if d.access.group_ids.is_empty() {
        Vec::new()
    } else {
        rules::set_access(conn, d.customer_id, user_id, &d.access)?
    };
    if d.send_mail {
        mails::send_welcome(conn, config, &row, Some(customer_name))?;
    }
    Ok(Some(User { row, groups }))
}

/// What every insert for a customer reads of it, once per transaction.
#[derive(Debug, Clone)]
pub struct Held {
    name: String,
    logins_open: bool,
    default_address: Option<Uuid>,
}

/// The customer, held until the transaction ends (it cannot be deleted meanwhile, see
/// [`queries::hold_customer`]; 404 when there is none): its name, whether it takes logins, its
/// default warehouse address.
pub fn hold(conn: &mut PgConnection, customer_id: CustomerId) -> Result<Held, AppError> {
    let name = queries::hold_customer(conn, customer_id)?;
    let logins_open = match rules::require_logins_open(conn, customer_id) {
        Ok(()) => true,
        Err(AppError::Conflict(ConflictKind::LoginsClosed, _)) => false,
        Err(error) => return Err(error),
    };
    Ok(Held { name, logins_open, default_address: queries::default_address(conn, customer_id)? })
}

/// `before` made into what `desired` describes, under the rules of a change: the owner keeps
/// its role and nobody is made owner here (ownership moves with the owner transfer), nobody
/// changes its own role or closes its own login, turning login on needs a customer that takes
/// logins and a password or `send_mail`. Only what changes is checked against the database
/// (an address or cost center the person already has stays valid even if it could not be
/// given today) and written; when nothing differs `before` comes back untouched, so
/// re-sending a body changes nothing, not even `updated_at`. `password` gives a first
/// password only and never replaces one (that is `POST .../password`); `send_mail` sends the
/// welcome only when this change turns login on. Sessions end when access changed.
pub fn replace(
    conn: &mut PgConnection,
    config: &Config,
    actor: &Actor,
    before: User,
    desired: Desired,
) -> Result<User, AppError> {
    let (d, was) = (desired, &before.row);
    let asked_role = (d.role != was.role).then(|| CustomerRole::from(d.role));
    rules::owner_keeps_role(was.role, asked_role)?;
    rules::not_made_owner(asked_role)?;
    let login_closed = was.login_enabled && !d.login_enabled;
    let login_opened = d.login_enabled && !was.login_enabled;
    if asked_role.is_some() || login_closed {
        rules::not_self(actor, before.id(), "You cannot change your own role or turn off your own login.")?;
    }
    let password_hash = match (d.login_enabled, was.password_hash.is_some()) {
        (false, true) => Some(None),
        (true, false) => d.password_hash.clone().map(Some),
        _ => None,
    };
    // Someone whose login stays on keeps whatever way to a password it has (its own, or the
    // open welcome link); only a login turned on here needs one.
    let has_password = d.password_hash.is_some() || (d.login_enabled && was.login_enabled);
    rules::check_login(d.login_enabled, d.email.is_some(), has_password, d.send_mail)?;
    if login_opened {
        rules::require_logins_open(conn, before.customer_id())?;
    }
    let differs = |new: Option<Uuid>, old: Option<Uuid>| (new != old).then_some(new);
    let address = differs(d.warehouse_address_id.map(Uuid::from), was.warehouse_address_id);
    let cost_center = differs(d.cost_center_id.map(Uuid::from), was.cost_center_id);
    rules::check_references(
        conn,
        before.customer_id(),
        d.within.as_deref(),
        address.flatten().map(AddressId::from),
        cost_center.flatten().map(CostCenterId::from),
    )?;
    let permissions: Vec<Option<Permission>> = d.permissions.iter().copied().map(Some).collect();
    let mut changes = UserChanges {
        name: (d.name != was.name).then(|| d.name.clone()),
        phone: (d.phone != was.phone).then(|| d.phone.clone()),
        email: (d.email != was.email).then(|| d.email.clone()),
        login_enabled: (d.login_enabled != was.login_enabled).then_some(d.login_enabled),
        role: (d.role != was.role).then_some(d.role),
        permissions: (sorted(&permissions) != sorted(&was.permissions)).then_some(permissions),
        warehouse_address_id: address.map(|id| id.map(AddressId::from)),
        cost_center_id: cost_center.map(|id| id.map(CostCenterId::from)),
        external_id: d.external_id.clone().filter(|id| *id != was.external_id),
        password_hash,
        status: None,
        data_scope: None,
        // The ERP upsert does not manage end dates; PATCH does.
        valid_until: None,
        expired_at: None,
    };
    // A full body's groups replace the person's, but leaving groups never widens: only an
    // explicit `data_scope: "all"` does (see [`rules::access_after`]).
    let asked = AccessRequest { data_scope: d.asked_scope, group_ids: Some(d.access.group_ids.clone()) };
    let groups_change =
        rules::access_after(actor, &before.access(), asked)?.filter(|after| *after != before.access());
    if is_empty(&changes) && groups_change.is_none() {
        return Ok(before);
    }
    if is_empty(&changes) {
        // Only the groups change; the row is still written, so its `updated_at` moves.
        changes.name = Some(was.name.clone());
    }
    let (customer_id, user_id) = (before.customer_id(), before.id());
    let groups = match &groups_change {
        Some(access) => rules::set_access(conn, customer_id, user_id, access)?,
        None => before.groups.clone(),
    };
    // After the scope, so the row read back has it.
    let row = queries::update(conn, user_id, &changes)?;
    let after = User { row, groups };
    rules::track_access(conn, &before, &after)?;
    rules::record_widening(conn, &Author::from(actor), &before, &after)?;
    if login_opened && d.send_mail {
        let customer_name = queries::customer_name(conn, customer_id)?;
        mails::send_welcome(conn, config, &after.row, Some(customer_name))?;
    }
    Ok(after)
}

/// Grants compare as sets: the defaults are stored in their own order, requested ones sorted.
fn sorted(permissions: &[Option<Permission>]) -> Vec<Option<Permission>> {
    let mut permissions = permissions.to_vec();
    permissions.sort();
    permissions
}

fn is_empty(changes: &UserChanges) -> bool {
    let UserChanges {
        name,
        phone,
        email,
        login_enabled,
        role,
        permissions,
        warehouse_address_id,
        cost_center_id,
        external_id,
        password_hash,
        status,
        data_scope,
        valid_until,
        expired_at,
    } = changes;
    name.is_none()
        && phone.is_none()
        && email.is_none()
        && login_enabled.is_none()
        && role.is_none()
        && permissions.is_none()
        && warehouse_address_id.is_none()
        && cost_center_id.is_none()
        && external_id.is_none()
        && password_hash.is_none()
        && status.is_none()
        && data_scope.is_none()
        && valid_until.is_none()
        && expired_at.is_none()
}

/// The ERP's key as a path names it: 1 to 255 characters, not only white space, no control
/// character (422 on `external_id` otherwise); trimmed like the field.
pub fn external_key(raw: &str) -> Result<String, AppError> {
    let key = raw.trim();
    if key.is_empty() || key.chars().count() > 255 {
        return Err(AppError::field("external_id", FieldCode::Length, "must be 1 to 255 characters"));
    }
    if key.chars().any(char::is_control) {
        return Err(AppError::field(
            "external_id",
            FieldCode::ControlCharacter,
            "must not hold control characters",
        ));
    }
    Ok(key.to_owned())
}

/// The path's key, and the body's `external_id`, which may be left out but not differ (422).
fn key_of(raw: &str, body: &CreateUser) -> Result<String, AppError> {
    let key = external_key(raw)?;
    match body.external_id.as_deref().map(str::trim) {
        Some(given) if given.to_lowercase() != key.to_lowercase() => Err(AppError::field(
            "external_id",
            FieldCode::NotAllowed,
            "must be the path's external_id, or be left out",
        )),
        _ => Ok(key),
    }
}

/// Create or replace a user by the ERP's key
///
/// A full user body, as for `POST .../users`: creates the person with `external_id` (201,
/// `Location`) or replaces the one the customer has with that key (200; keys compare
/// case-insensitively). Fields left out take a create's defaults, except `password`, which
/// only gives a first password and never replaces one (use `POST .../password`), and
/// `send_mail`, which sends the welcome only when login is turned on by this request. A body
/// that changes nothing answers 200 with no audit event and the same `updated_at` and `ETag`.
/// Honours `If-Match` (412 when stale, and for a key that does not exist yet). The rules of
/// create and change apply: only staff and the owner create an owner (403); nobody becomes
/// owner by a replace (422) and the owner keeps its role (409); you cannot change your own
/// role or turn off your own login (409); references, groups and login as for a create (422,
/// 409). Two requests racing for a new key give one 201 and one 200.
#[utoipa::path(
    tag = "users",
    operation_id = "upsertUserByExternalId",
    security(("bearer" = [])),
    params(
        ("customer_id" = Uuid, Path),
        ("external_id" = String, Path, description = "The ERP's key of the person: 1 to 255 characters, compared case-insensitively.", example = "ERP-10042", min_length = 1, max_length = 255),
        etag::IfMatchHeader,
    ),
    request_body(content = CreateUser, content_type = "application/json"),
    responses(
        (status = 200, description = "Replaced, or unchanged.", body = UserView, headers(("ETag" = String))),
        (status = 201, description = "Created.", body = UserView, headers(("ETag" = String), ("Location" = String))),
        sets::SignedIn, sets::Body, sets::Conditional, sets::Forbidden, sets::Missing, sets::Conflicting,
    )
)]
#[put("/v1/customers/{customer_id}/users/by-external-id/{external_id}")]
pub async fn upsert_user(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, String)>,
    if_match: IfMatch,
    Json(mut body): Json<CreateUser>,
) -> Result<Tagged<UserView>, AppError> {
    let (customer_id, raw_key) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let key = key_of(&raw_key, &body)?;
    let password_hash = match body.password.take() {
        Some(password) => {
            let login = body.email.as_deref().map(str::trim);
            Some(rules::hash_password(&state.hasher, password, login).await?)
        }
        None => None,
    };
    body.external_id = Some(key.clone());
    let desired = Desired::check(&actor, customer_id, body, password_hash)?;
    let (config, for_insert) = (state.config.clone(), desired.clone());
    let replacer = actor.clone();
    let finder = actor.clone();
    let find = move |conn: &mut PgConnection| -> Result<Option<User>, AppError> {
        queries::lock_by_external_id(conn, customer_id, &key)?
            .map(|row| rules::require_may_act(conn, &finder, row))
            .transpose()
    };
    let insert_config = config.clone();
    write::upsert(
        &state,
        &actor,
        ACTIONS,
        if_match,
        find,
        move |conn| insert(conn, &insert_config, for_insert, true, None),
        move |conn, before| replace(conn, &config, &replacer, before, desired),
    )
    .await
}

/// Get a user by the ERP's key
///
/// The person of the customer with this `external_id` (compared case-insensitively). For a
/// caller limited to groups, a user outside them is a 404, exactly like a missing one.
#[utoipa::path(
    tag = "users",
    operation_id = "getUserByExternalId",
    security(("bearer" = [])),
    params(
        ("customer_id" = Uuid, Path),
        ("external_id" = String, Path, description = "The ERP's key of the person: 1 to 255 characters, compared case-insensitively.", example = "ERP-10042", min_length = 1, max_length = 255),
    ),
    responses(
        (status = 200, description = "The user.", body = UserView, headers(("ETag" = String))),
        sets::SignedIn, sets::Invalid, sets::Forbidden, sets::Missing,
    )
)]
#[get("/v1/customers/{customer_id}/users/by-external-id/{external_id}")]
pub async fn get_user_by_external_id(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(CustomerId, String)>,
) -> Result<Tagged<UserView>, AppError> {
    let (customer_id, raw_key) = path.into_inner();
    policy::require(&actor, Action::ManageUsers, customer_id)?;
    let key = external_key(&raw_key)?;
    let view = db::run(&state.pool, move |conn| {
        let row = queries::find_by_external_id(conn, customer_id, &key)?.ok_or(AppError::NotFound)?;
        let user = rules::require_visible(conn, &actor, row)?;
        write::Viewed::view(&user, conn)
    })
    .await?;
    Ok(Tagged::ok(view))
}

/// What one row of an import did, for its report.
pub type RowResult = Result<(Upserted, UserView), AppError>;

/// One row of an import in the caller's transaction: created (`mode=create`, or no one has its
/// key), or replaced by [`write::upsert_in`] keyed on its `external_id`, else its e-mail.
pub fn import_row(
    conn: &mut PgConnection,
    config: &Config,
    (actor, author): (&Actor, &Author),
    held: &Held,
    upsert: bool,
    mut desired: Desired,
) -> RowResult {
    if upsert && desired.external_id == Some(None) {
        // Found by e-mail, the person keeps the key it has: the row just does not name one.
        desired.external_id = None;
    }
    let customer_id = desired.customer_id;
    let key = desired.external_id.clone().flatten();
    let email = desired.email.clone();
    let finder = actor.clone();
    let default_address = held.default_address;
    let shown = move |user: User| WithDefault { user, default_address };
    let find = move |conn: &mut PgConnection| -> Result<Option<WithDefault>, AppError> {
        if !upsert {
            return Ok(None);
        }
        let row = match (&key, &email) {
            (Some(key), _) => queries::lock_by_external_id(conn, customer_id, key)?,
            (None, Some(email)) => queries::lock_by_email(conn, customer_id, email)?,
            (None, None) => None,
        };
        row.map(|row| rules::require_may_act(conn, &finder, row).map(shown)).transpose()
    };
    let for_insert = desired.clone();
    let inserting = move |conn: &mut PgConnection| {
        insert(conn, config, for_insert, false, Some(held)).map(|user| user.map(shown))
    };
    let replacing = move |conn: &mut PgConnection, before: WithDefault| {
        replace(conn, config, actor, before.user, desired).map(shown)
    };
    write::upsert_in(conn, author, ACTIONS, &IfMatch::default(), find, inserting, replacing)
}
