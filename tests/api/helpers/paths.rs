//! Where things live in the API.

use uuid::Uuid;

pub fn customer_path(customer: Uuid) -> String {
    format!("/v1/customers/{customer}")
}

pub fn users_of(customer: Uuid) -> String {
    format!("/v1/customers/{customer}/users")
}

pub fn user_path(customer: Uuid, user: Uuid) -> String {
    format!("/v1/customers/{customer}/users/{user}")
}

pub fn groups_of(customer: Uuid) -> String {
    format!("/v1/customers/{customer}/groups")
}

pub fn group_path(customer: Uuid, group: Uuid) -> String {
    format!("/v1/customers/{customer}/groups/{group}")
}

pub fn members_of(customer: Uuid, group: Uuid) -> String {
    format!("/v1/customers/{customer}/groups/{group}/members")
}

pub fn addresses_of(customer: Uuid) -> String {
    format!("/v1/customers/{customer}/warehouse-addresses")
}

pub fn address_path(customer: Uuid, address: Uuid) -> String {
    format!("/v1/customers/{customer}/warehouse-addresses/{address}")
}

pub fn cost_centers_of(customer: Uuid) -> String {
    format!("/v1/customers/{customer}/cost-centers")
}

pub fn invitations_of(customer: Uuid) -> String {
    format!("/v1/customers/{customer}/invitations")
}
