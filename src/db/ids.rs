//! Typed ids for the query layer, so a customer's id and a cost center's cannot be swapped in
//! `find(conn, customer_id, id)`: each is a UUID to the database and to JSON (`transparent`),
//! and its own type to the compiler. Paths extract them directly
//! (`web::Path<(CustomerId, CostCenterId)>`); views keep plain UUIDs, which is what the
//! document shows.

macro_rules! id_types {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default,
            serde::Serialize, serde::Deserialize,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A new, time-ordered id (UUIDv7).
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(id: uuid::Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for uuid::Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Uuid, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <uuid::Uuid as diesel::serialize::ToSql<diesel::sql_types::Uuid, diesel::pg::Pg>>::to_sql(
                    &self.0, out,
                )
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Uuid, diesel::pg::Pg> for $name {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                <uuid::Uuid as diesel::deserialize::FromSql<diesel::sql_types::Uuid, diesel::pg::Pg>>::from_sql(
                    bytes,
                )
                .map(Self)
            }
        }
    )+};
}

id_types!(
    /// A customer.
    CustomerId,
    /// A person of the `users` table: staff or a customer's user.
    UserId,
    /// A customer's warehouse address.
    AddressId,
    /// A customer's cost center.
    CostCenterId,
    /// A customer's group.
    GroupId,
    /// An invitation.
    InvitationId,
    /// A session (one sign-in).
    SessionId,
    /// An API client (its row id, not the public `dgc_` id).
    ApiClientId,
    /// A long-lived token of an API client.
    ApiClientTokenId,
    /// A webhook endpoint of a customer or of the platform.
    WebhookEndpointId,
    /// One event's delivery to one webhook endpoint.
    WebhookDeliveryId,
);
