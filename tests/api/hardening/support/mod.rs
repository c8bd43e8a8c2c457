//! Support access (issue 16): staff acting as a customer's person for a short, audited
//! support session, and the access review of a customer.

mod access_review;
mod impersonation;
