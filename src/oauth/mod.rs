//! `POST /v1/oauth/token`: the OAuth 2.0 client-credentials grant (RFC 6749 section 4.4) for
//! API clients. Its answers, errors included, are RFC 6749's own shapes, never problem
//! details: OAuth client libraries read them.

pub mod dto;
pub mod handlers;
