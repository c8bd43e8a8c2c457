//! The one description of what dockgate publishes (`/Schemas`), stores and returns.
//!
//! Discovery, body sanitizing and PATCH all read the same static tables, so an attribute is
//! either published, writable and stored verbatim, or it does not exist for dockgate at all.

mod render;
mod sanitize;
mod tables;

pub use render::schema_resources;
pub use sanitize::{clean_element, clean_value, sanitize};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// The common attribute (RFC 7643 §3.1) dockgate stores from a client; `id` and `meta` are the
/// server's own.
pub const EXTERNAL_ID: &str = "externalId";

/// The two resource types dockgate serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    User,
    Group,
}

impl ResourceKind {
    /// The core schema URN of the resource type.
    pub fn schema(self) -> &'static str {
        match self {
            Self::User => USER_SCHEMA,
            Self::Group => GROUP_SCHEMA,
        }
    }

    /// The core attributes (without common ones and without extensions).
    pub fn attributes(self) -> &'static [Attribute] {
        match self {
            Self::User => tables::USER_ATTRIBUTES,
            Self::Group => tables::GROUP_ATTRIBUTES,
        }
    }
}

/// RFC 7643 §2.3 data types (those dockgate uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Complex,
    Reference,
    DateTime,
    Integer,
}

impl AttrType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Complex => "complex",
            Self::Reference => "reference",
            Self::DateTime => "dateTime",
            Self::Integer => "integer",
        }
    }
}

/// RFC 7643 §7 `mutability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "readOnly",
            Self::ReadWrite => "readWrite",
            Self::Immutable => "immutable",
            Self::WriteOnly => "writeOnly",
        }
    }

    /// Whether a client's value is stored: readOnly values are the server's, writeOnly ones
    /// (the password) are accepted and dropped because dockgate signs people in otherwise.
    pub fn is_stored(self) -> bool {
        matches!(self, Self::ReadWrite | Self::Immutable)
    }
}

/// RFC 7643 §7 `returned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Default,
    Never,
    Request,
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::Default => "default",
            Self::Never => "never",
            Self::Request => "request",
        }
    }
}

/// RFC 7643 §7 `uniqueness`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

impl Uniqueness {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Server => "server",
            Self::Global => "global",
        }
    }
}

/// One attribute definition with every RFC 7643 §7 characteristic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute {
    pub name: &'static str,
    pub kind: AttrType,
    pub multi_valued: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub sub_attributes: &'static [Attribute],
    pub canonical_values: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub description: &'static str,
}

impl Attribute {
    /// A single-valued, optional, readWrite attribute with RFC 7643 §2.2 defaults; the table
    /// entries change only what differs, so each line reads as its difference from the RFC.
    pub const fn new(name: &'static str, kind: AttrType, description: &'static str) -> Self {
        Self {
            name,
            kind,
            multi_valued: false,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            sub_attributes: &[],
            canonical_values: &[],
            reference_types: &[],
            description,
        }
    }
    pub const fn string(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::String, description)
    }
    pub const fn boolean(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::Boolean, description)
    }
    pub const fn reference(
        name: &'static str,
        types: &'static [&'static str],
        description: &'static str,
    ) -> Self {
        let mut a = Self::new(name, AttrType::Reference, description);
        a.reference_types = types;
        a.case_exact = true;
        a
    }
    pub const fn complex(name: &'static str, subs: &'static [Attribute], description: &'static str) -> Self {
        let mut a = Self::new(name, AttrType::Complex, description);
        a.sub_attributes = subs;
        a
    }
    pub const fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub const fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    pub const fn mutability(mut self, m: Mutability) -> Self {
        self.mutability = m;
        self
    }
    pub const fn returned(mut self, r: Returned) -> Self {
        self.returned = r;
        self
    }
    pub const fn unique(mut self) -> Self {
        self.uniqueness = Uniqueness::Server;
        self
    }
    pub const fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical_values = values;
        self
    }

    /// A sub-attribute by name, case-insensitively (RFC 7643 §2.1).
    pub fn sub(&self, name: &str) -> Option<&'static Attribute> {
        find(self.sub_attributes, name)
    }
}

/// An attribute of a table by name, case-insensitively.
pub fn find(table: &'static [Attribute], name: &str) -> Option<&'static Attribute> {
    table.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

/// A core attribute of a resource type by name, case-insensitively (common attributes and the
/// enterprise extension are not in it; see [`enterprise_attribute`]).
pub fn attribute(kind: ResourceKind, name: &str) -> Option<&'static Attribute> {
    find(kind.attributes(), name)
}

/// An attribute of the enterprise User extension by name, case-insensitively.
pub fn enterprise_attribute(name: &str) -> Option<&'static Attribute> {
    find(tables::ENTERPRISE_ATTRIBUTES, name)
}

/// The enterprise User extension's attributes.
pub fn enterprise_attributes() -> &'static [Attribute] {
    tables::ENTERPRISE_ATTRIBUTES
}

/// Where an attribute lives in the stored representation: at the top, or inside the enterprise
/// extension's object (keyed by its URN, as RFC 7643 §3.3 represents extensions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Core,
    Enterprise,
}

/// What a top-level key of a client's body, or a PATCH path's `[urn:]name` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A published attribute of the core schema or of the extension.
    Attr(Container, &'static Attribute),
    /// `externalId` (a common attribute, stored verbatim).
    ExternalId,
    /// The enterprise extension's whole object.
    Enterprise,
    /// `schemas`, `id`, `meta`: the server's, ignored in what a client sends.
    ServerOwned,
    /// Anything else: unknown attributes and schemas are ignored (RFC 7644 §3.3 lets a service
    /// provider ignore what it does not support; Entra and Okta send attributes no one asked for).
    Unknown,
}

/// Resolve an optional schema URN and an attribute name (both case-insensitive).
pub fn resolve(kind: ResourceKind, urn: Option<&str>, name: &str) -> Key {
    let enterprise_ok = kind == ResourceKind::User;
    match urn {
        Some(urn) if urn.eq_ignore_ascii_case(kind.schema()) => resolve_core(kind, name),
        Some(urn) if enterprise_ok && urn.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA) => {
            match enterprise_attribute(name) {
                Some(a) => Key::Attr(Container::Enterprise, a),
                None => Key::Unknown,
            }
        }
        Some(_) => Key::Unknown,
        None if enterprise_ok && name.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA) => Key::Enterprise,
        None => resolve_core(kind, name),
    }
}

fn resolve_core(kind: ResourceKind, name: &str) -> Key {
    if name.eq_ignore_ascii_case(EXTERNAL_ID) {
        return Key::ExternalId;
    }
    if ["schemas", "id", "meta"].iter().any(|n| n.eq_ignore_ascii_case(name)) {
        return Key::ServerOwned;
    }
    match attribute(kind, name) {
        Some(a) => Key::Attr(Container::Core, a),
        None => Key::Unknown,
    }
}

/// Resolve a top-level key of a body: a plain name, the extension URN, or a URN-prefixed name
/// (`urn:...:enterprise:2.0:User:department`, `urn:...:core:2.0:User:userName`).
pub fn resolve_key(kind: ResourceKind, key: &str) -> Key {
    for urn in [kind.schema(), ENTERPRISE_USER_SCHEMA] {
        if let Some(rest) = strip_prefix_ci(key, urn).and_then(|r| r.strip_prefix(':')) {
            return resolve(kind, Some(urn), rest);
        }
    }
    resolve(kind, None, key)
}

/// `s` without `prefix`, compared ASCII-case-insensitively.
pub fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// The `schemas` of a stored representation in a response: the core schema, and the
/// extension's URN when the resource has extension attributes (RFC 7643 §3).
pub fn schemas_of(
    kind: ResourceKind,
    stored: &serde_json::Map<String, serde_json::Value>,
) -> Vec<&'static str> {
    let mut out = vec![kind.schema()];
    if kind == ResourceKind::User && stored.contains_key(ENTERPRISE_USER_SCHEMA) {
        out.push(ENTERPRISE_USER_SCHEMA);
    }
    out
}
