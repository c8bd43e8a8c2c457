//! Unit tests of the pure SCIM core, with request bodies written as Entra ID ("Develop a SCIM
//! endpoint for user provisioning", "Known issues and resolutions with SCIM 2.0 protocol
//! compliance") and Okta (SCIM 2.0 reference) show them.

mod filter;
mod patch;
mod schema;
