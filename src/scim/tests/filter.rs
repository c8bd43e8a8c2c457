use crate::scim::errors::ScimType;
use crate::scim::filter::{Cond, FilterValue, GroupAttr, MAX_TERMS, Op, UserAttr, parse_groups, parse_users};

fn text(s: &str) -> FilterValue {
    FilterValue::Text(s.into())
}

fn users(raw: &str) -> Cond<UserAttr> {
    parse_users(raw).unwrap_or_else(|e| panic!("{raw}: {e}"))
}

fn groups(raw: &str) -> Cond<GroupAttr> {
    parse_groups(raw).unwrap_or_else(|e| panic!("{raw}: {e}"))
}

fn refused_users(raw: &str) -> String {
    let e = parse_users(raw).expect_err(raw);
    assert_eq!(e.scim_type, ScimType::InvalidFilter, "{raw}");
    e.detail
}

#[test]
fn entra_and_okta_lookups() {
    // Entra ID's "Get User by query" and Okta's existence check.
    assert_eq!(
        users(r#"userName eq "Test_User_dfeef4c5-5681-4387-b016-bdf221e82081""#),
        Cond::Compare(UserAttr::UserName, Op::Eq, text("Test_User_dfeef4c5-5681-4387-b016-bdf221e82081"))
    );
    assert_eq!(
        users(r#"userName eq "test.user@okta.local""#),
        Cond::Compare(UserAttr::UserName, Op::Eq, text("test.user@okta.local"))
    );
    // Entra ID's matching on externalId and on the work e-mail.
    assert_eq!(
        users(r#"externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef""#),
        Cond::Compare(UserAttr::ExternalId, Op::Eq, text("0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"))
    );
    let work = Cond::Compare(UserAttr::WorkEmailValue, Op::Eq, text("x@example.com"));
    assert_eq!(users(r#"emails[type eq "work"].value eq "x@example.com""#), work);
    assert_eq!(users(r#"emails[type eq "work" and value eq "x@example.com"]"#), work);
    assert_eq!(users(r#"emails[value eq "x@example.com" and type eq "Work"]"#), work);
    // Entra ID's "Get Group by displayName", Okta's group lookup, and member checks.
    assert_eq!(
        groups(r#"displayName eq "Group1DisplayName""#),
        Cond::Compare(GroupAttr::DisplayName, Op::Eq, text("Group1DisplayName"))
    );
    let member = Cond::Compare(GroupAttr::MemberValue, Op::Eq, text("u-1"));
    assert_eq!(groups(r#"members.value eq "u-1""#), member);
    assert_eq!(groups(r#"members[value eq "u-1"]"#), member);
    assert_eq!(
        groups(r#"id eq "g-1" and members[value eq "u-1"]"#),
        Cond::And(vec![Cond::Compare(GroupAttr::Id, Op::Eq, text("g-1")), member])
    );
    assert_eq!(groups(r#"externalId eq "e""#), Cond::Compare(GroupAttr::ExternalId, Op::Eq, text("e")));
}

#[test]
fn any_e_mail() {
    let any = Cond::Compare(UserAttr::EmailValue, Op::Eq, text("x@y"));
    assert_eq!(users(r#"emails.value eq "x@y""#), any);
    assert_eq!(users(r#"emails[value eq "x@y"]"#), any);
    assert_eq!(users("emails.value pr"), Cond::Present(UserAttr::EmailValue));
    assert_eq!(users(r#"emails[type eq "work"]"#), Cond::Present(UserAttr::WorkEmailValue));
    assert_eq!(users(r#"emails[type eq "work"].value pr"#), Cond::Present(UserAttr::WorkEmailValue));
    assert_eq!(
        users(r#"emails[type eq "work"].value co "@example""#),
        Cond::Compare(UserAttr::WorkEmailValue, Op::Co, text("@example"))
    );
}

#[test]
fn names_operators_and_urns_in_any_case() {
    let expected = Cond::Compare(UserAttr::UserName, Op::Eq, text("Bjensen"));
    for raw in [
        r#"USERNAME EQ "Bjensen""#,
        r#"username Eq "Bjensen""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "Bjensen""#,
        r#"URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:USERNAME eq "Bjensen""#,
        r#"  userName eq "Bjensen"  "#,
    ] {
        assert_eq!(users(raw), expected, "{raw}");
    }
    assert_eq!(
        groups(r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "g""#),
        Cond::Compare(GroupAttr::DisplayName, Op::Eq, text("g"))
    );
}

#[test]
fn active_takes_booleans_and_their_text() {
    for (raw, b) in [
        (r#"active eq "True""#, true),
        ("active eq true", true),
        (r#"active eq "false""#, false),
        (r#"active eq "FALSE""#, false),
    ] {
        assert_eq!(users(raw), Cond::Compare(UserAttr::Active, Op::Eq, FilterValue::Bool(b)), "{raw}");
    }
    assert_eq!(users("active ne true"), Cond::Compare(UserAttr::Active, Op::Ne, FilterValue::Bool(true)));
    assert_eq!(users("active pr"), Cond::Present(UserAttr::Active));
    refused_users(r#"active eq "yes""#);
    // compValue's literals are lower-case in RFC 7644's ABNF; the crate holds to it.
    refused_users("active eq FALSE");
    refused_users(r#"active co "t""#);
    refused_users("userName eq true");
}

#[test]
fn composites_keep_their_shape() {
    assert_eq!(
        users(r#"userName eq "a" and (active eq true or not (displayName co "x"))"#),
        Cond::And(vec![
            Cond::Compare(UserAttr::UserName, Op::Eq, text("a")),
            Cond::Or(vec![
                Cond::Compare(UserAttr::Active, Op::Eq, FilterValue::Bool(true)),
                Cond::Not(Box::new(Cond::Compare(UserAttr::DisplayName, Op::Co, text("x")))),
            ]),
        ])
    );
    // n-ary, as the grammar gives; `and` binds tighter than `or`.
    assert_eq!(
        users(r#"userName sw "a" or userName ew "b" or id eq "c" and displayName ne "d""#),
        Cond::Or(vec![
            Cond::Compare(UserAttr::UserName, Op::Sw, text("a")),
            Cond::Compare(UserAttr::UserName, Op::Ew, text("b")),
            Cond::And(vec![
                Cond::Compare(UserAttr::Id, Op::Eq, text("c")),
                Cond::Compare(UserAttr::DisplayName, Op::Ne, text("d")),
            ]),
        ])
    );
    assert_eq!(
        users(r#"emails[type eq "work"].value eq "a]b" and emails[type eq "work"].value ne "c\"d""#),
        Cond::And(vec![
            Cond::Compare(UserAttr::WorkEmailValue, Op::Eq, text("a]b")),
            Cond::Compare(UserAttr::WorkEmailValue, Op::Ne, text("c\"d")),
        ])
    );
    assert_eq!(
        users(r#"not (emails[type eq "work"].value sw "x") or userName eq null"#),
        Cond::Or(vec![
            Cond::Not(Box::new(Cond::Compare(UserAttr::WorkEmailValue, Op::Sw, text("x")))),
            Cond::Compare(UserAttr::UserName, Op::Eq, FilterValue::Null),
        ])
    );
}

#[test]
fn anything_else_is_invalid_filter_naming_what() {
    for (raw, named) in [
        (r#"title eq "x""#, "title"),
        (r#"name.givenName eq "x""#, "name.givenName"),
        (r#"userName gt "a""#, "gt"),
        (r#"userName le "a""#, "le"),
        (r#"emails[type eq "home"].value eq "x""#, "emails"),
        (r#"emails[type eq "work" or type eq "home"]"#, "emails"),
        (r#"emails[value co "x" and value sw "y"]"#, "emails"),
        (r#"phoneNumbers[type eq "work"]"#, "phoneNumbers"),
        (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x""#, "department"),
        (r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "x""#, "displayName"),
        ("userName eq 5", "userName"),
        ("meta.lastModified gt \"2011-05-13T04:42:34Z\"", "meta.lastModified"),
        ("userName eq", "parse"),
        ("userName eq \"unterminated", "parse"),
        ("", "parse"),
        ("(userName eq \"a\"", "parse"),
        ("emails[type eq \"work\"].value", "parse"),
    ] {
        let detail = refused_users(raw);
        assert!(detail.contains(named), "{raw}: {detail} should name {named}");
    }
    let e = parse_groups(r#"userName eq "a""#).expect_err("not a group attribute");
    assert_eq!(e.scim_type, ScimType::InvalidFilter);
    let e = parse_groups(r#"members[display eq "a"]"#).expect_err("only value");
    assert_eq!(e.scim_type, ScimType::InvalidFilter);
}

#[test]
fn at_most_fifty_terms() {
    let terms = |n: usize| (0..n).map(|i| format!(r#"id eq "{i}""#)).collect::<Vec<_>>().join(" or ");
    assert!(matches!(users(&terms(MAX_TERMS)), Cond::Or(items) if items.len() == MAX_TERMS));
    let detail = refused_users(&terms(MAX_TERMS + 1));
    assert!(detail.contains("51"), "{detail}");
    // Terms inside value filters count once per translated term, rewritten ones too.
    let many =
        (0..MAX_TERMS + 1).map(|i| format!(r#"emails[type eq "work"].value eq "{i}""#)).collect::<Vec<_>>();
    refused_users(&many.join(" or "));
}
