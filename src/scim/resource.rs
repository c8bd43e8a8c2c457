//! A SCIM resource as answered and as the write path audits and tags it: the one shape of
//! Users and Groups (`id`, the customer, `Location`, `meta`, the body), told apart by what
//! [`Represented`] says about the row it was made from.

use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::errors::ScimInputError;
use super::schema::{ResourceKind, sanitize};
use crate::audit::{Target, Visibility};
use crate::write::Tracked;

/// A row of a SCIM resource type, as its representation: what it shows and what a client's
/// representation of it asks for.
pub trait Represented: Sized {
    /// What audit events about it name as their target type.
    const TARGET: Target;
    /// `meta.resourceType` (RFC 7643 §3.1), and the path segment under `/scim/v2`.
    const RESOURCE_TYPE: &'static str;
    /// Its schema: what a client's body of it keeps ([`sanitize`]).
    const KIND: ResourceKind;
    /// What a client's (sanitized) representation asks for; a 400 when dockgate cannot keep it.
    type Desired: TryFrom<Map<String, Value>, Error = ScimInputError> + Clone + Send + 'static;

    /// The resource as a client reads it, without `meta`.
    fn body(&self) -> Map<String, Value>;

    /// The resource as answered (and the write path's view of it).
    fn resource(&self) -> Resource<Self>;

    /// What a client may write back: the body without read-only parts, as stored.
    fn writable(&self) -> Result<Map<String, Value>, ScimInputError> {
        sanitize(Self::KIND, &Value::Object(self.body()))
    }
}

/// A resource as answered, and as the write path audits it and tags it.
#[derive(Debug, Clone)]
pub struct Resource<K> {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub location: String,
    created: DateTime<Utc>,
    last_modified: DateTime<Utc>,
    /// Which readers of the customer's audit log may see events about it.
    visibility: Visibility,
    pub body: Map<String, Value>,
    kind: PhantomData<fn() -> K>,
}

/// When a resource was created and last changed.
#[derive(Debug, Clone, Copy)]
pub struct Times {
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
}

impl<K: Represented> Resource<K> {
    /// The resource `id` of `customer_id` under `base` (`https://host/scim/v2`).
    pub fn new(
        (id, customer_id): (Uuid, Uuid),
        base: &str,
        times: Times,
        visibility: Visibility,
        body: Map<String, Value>,
    ) -> Self {
        Self {
            id,
            customer_id,
            location: format!("{base}/{}s/{id}", K::RESOURCE_TYPE),
            created: times.created,
            last_modified: times.last_modified,
            visibility,
            body,
            kind: PhantomData,
        }
    }

    /// The whole resource with `meta` (RFC 7643 §3.1), whose `version` is the ETag.
    pub fn full(&self) -> Map<String, Value> {
        let mut body = self.body.clone();
        let at = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let meta = json!({
            "resourceType": K::RESOURCE_TYPE,
            "created": at(self.created),
            "lastModified": at(self.last_modified),
            "location": self.location,
            "version": crate::etag::of_view(&self.body),
        });
        body.insert("meta".into(), meta);
        body
    }
}

impl<K: Represented> Serialize for Resource<K> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.full().serialize(serializer)
    }
}

impl<K: Represented + 'static> Tracked for Resource<K> {
    const TARGET: Target = K::TARGET;

    fn subject(&self) -> (Uuid, Option<Uuid>) {
        (self.id, Some(self.customer_id))
    }

    fn location(&self) -> String {
        self.location.clone()
    }

    fn visibility(&self) -> Visibility {
        self.visibility.clone()
    }

    /// A hash of the body: not of `meta`, which holds the ETag itself and the host the client
    /// used.
    fn etag(&self) -> String {
        crate::etag::of_view(&self.body)
    }
}
