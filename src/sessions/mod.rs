//! `/v1/me/sessions`, `/v1/customers/{customer_id}/users/{user_id}/sessions` and
//! `/v1/staff/{staff_id}/sessions`: the sessions a person is signed in with, to see and end.
//! The sessions themselves (what is live, how one ends) are `identity::sessions`.

pub mod dto;
pub mod handlers;
