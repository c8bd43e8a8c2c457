//! The attribute tables: RFC 7643 §4.1, §4.2 and §4.3, restricted to what dockgate stores and
//! returns verbatim (the issue: publish only what round-trips).

use super::{Attribute as A, Mutability::*, Returned};

const EMAIL_TYPES: &[&str] = &["work", "home", "other"];
const PHONE_TYPES: &[&str] = &["work", "home", "mobile", "fax", "pager", "other"];
const ADDRESS_TYPES: &[&str] = &["work", "home", "other"];

const NAME: &[A] = &[
    A::string("formatted", "The full name, formatted for display."),
    A::string("familyName", "The family name (last name in most Western languages)."),
    A::string("givenName", "The given name (first name in most Western languages)."),
    A::string("middleName", "The middle name(s)."),
    A::string("honorificPrefix", "The honorific prefix(es), e.g. 'Ms.'."),
    A::string("honorificSuffix", "The honorific suffix(es), e.g. 'III'."),
];

const EMAILS: &[A] = &[
    A::string("value", "The e-mail address."),
    A::string("display", "A human-readable name for display."),
    A::string("type", "A label: 'work', 'home' or 'other'.").canonical(EMAIL_TYPES),
    A::boolean("primary", "Whether this is the primary e-mail address."),
];

const PHONE_NUMBERS: &[A] = &[
    A::string("value", "The phone number."),
    A::string("display", "A human-readable name for display."),
    A::string("type", "A label: 'work', 'home', 'mobile', 'fax', 'pager' or 'other'.").canonical(PHONE_TYPES),
    A::boolean("primary", "Whether this is the primary phone number."),
];

const ADDRESSES: &[A] = &[
    A::string("formatted", "The full mailing address, formatted for display."),
    A::string("streetAddress", "The street address."),
    A::string("locality", "The city or locality."),
    A::string("region", "The state or region."),
    A::string("postalCode", "The zip or postal code."),
    A::string("country", "The country."),
    A::string("type", "A label: 'work', 'home' or 'other'.").canonical(ADDRESS_TYPES),
    A::boolean("primary", "Whether this is the primary address."),
];

const USER_GROUPS: &[A] = &[
    A::string("value", "The id of the group.").mutability(ReadOnly),
    A::reference("$ref", &["Group"], "The URI of the group.").mutability(ReadOnly),
    A::string("display", "The group's displayName.").mutability(ReadOnly),
    A::string("type", "How the membership came about: 'direct'.")
        .canonical(&["direct", "indirect"])
        .mutability(ReadOnly),
];

pub(super) const USER_ATTRIBUTES: &[A] = &[
    A::string("userName", "Unique identifier for the user, unique per customer (case-insensitive).")
        .required()
        .unique(),
    A::complex("name", NAME, "The components of the user's real name."),
    A::string("displayName", "The name of the user, suitable for display."),
    A::string("nickName", "The casual way to address the user."),
    A::string("title", "The user's title, such as 'Vice President'."),
    A::string("userType", "The relationship between the organization and the user."),
    A::string("preferredLanguage", "The user's preferred written or spoken language."),
    A::string("locale", "The user's default location, e.g. 'en-US'."),
    A::string("timezone", "The user's time zone in the IANA format, e.g. 'Europe/Berlin'."),
    A::boolean("active", "Whether the user may sign in; false deactivates the user."),
    A::string("password", "Accepted on create and update, never stored or returned.")
        .mutability(WriteOnly)
        .returned(Returned::Never),
    A::complex("emails", EMAILS, "E-mail addresses of the user.").multi(),
    A::complex("phoneNumbers", PHONE_NUMBERS, "Phone numbers of the user.").multi(),
    A::complex("addresses", ADDRESSES, "Physical mailing addresses of the user.").multi(),
    A::complex(
        "groups",
        USER_GROUPS,
        "The groups the user is a direct member of (change them through Groups).",
    )
    .multi()
    .mutability(ReadOnly),
];

const MANAGER: &[A] = &[
    A::string("value", "The id of the user's manager."),
    A::reference("$ref", &["User"], "The URI of the manager."),
    A::string("displayName", "The manager's displayName.").mutability(ReadOnly),
];

pub(super) const ENTERPRISE_ATTRIBUTES: &[A] = &[
    A::string("employeeNumber", "A number identifying the user within the organization."),
    A::string("costCenter", "The user's cost center."),
    A::string("organization", "The user's organization."),
    A::string("division", "The user's division."),
    A::string("department", "The user's department."),
    A::complex("manager", MANAGER, "The user's manager."),
];

const MEMBERS: &[A] = &[
    A::string("value", "The id of a user of the same customer.")
        .required()
        .mutability(Immutable)
        .case_exact(),
    A::reference("$ref", &["User"], "The URI of the member.").mutability(Immutable),
    A::string("display", "The member's displayName."),
    A::string("type", "The type of the member: 'User'.").canonical(&["User"]),
];

pub(super) const GROUP_ATTRIBUTES: &[A] = &[
    A::string("displayName", "The name of the group, unique per customer.").required().unique(),
    A::complex("members", MEMBERS, "The users in the group (unknown or foreign ids are ignored).").multi(),
];
