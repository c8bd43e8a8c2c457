//! Unit tests of the pure SCIM core, as Entra ID and Okta send requests.
