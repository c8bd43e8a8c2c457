//! `GET /v1/permissions`: the catalog of permissions and roles (contract section 2), generated
//! from the enums of [`crate::permissions`].

pub mod handlers;
