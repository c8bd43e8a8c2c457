//! Where a webhook may be delivered (OWASP API7, server-side request forgery): an `https` URL
//! (or `http` with `WEBHOOK_ALLOW_HTTP=true`) whose host resolves only to public addresses, unless
//! an address is inside `WEBHOOK_ALLOWED_CIDRS`. Checked when an endpoint is created or its URL
//! changed, and again on every attempt: [`addresses`] resolves once, and the delivery connects to
//! exactly the addresses it approved (no second lookup a rebinding DNS server could answer
//! differently).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;
use url::Url;

use crate::config::WebhookSettings;

/// Longest wait for a host's addresses.
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2000;

/// What may be reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub allow_http: bool,
    pub allowed: Vec<IpNet>,
}

impl From<&WebhookSettings> for Policy {
    fn from(settings: &WebhookSettings) -> Self {
        Self { allow_http: settings.allow_http, allowed: settings.allowed_cidrs.clone() }
    }
}

/// Why a URL is not a webhook target; the text is the 422's message for `url`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("must be an absolute URL")]
    NotUrl,
    #[error("must be at most {MAX_URL_LEN} characters")]
    TooLong,
    #[error("must use https")]
    NotHttps,
    #[error("must use https or http")]
    NotHttp,
    #[error("must not contain a user name or password")]
    Credentials,
    #[error("must not contain a fragment")]
    Fragment,
    #[error("must name a host")]
    NoHost,
    #[error("host {0} cannot be resolved")]
    Unresolvable(String),
    // Not the address itself: the answer would map the internal network's names to addresses
    // for whoever may create an endpoint.
    #[error("resolves to a {range} address, which webhooks may not reach")]
    Forbidden { address: IpAddr, range: &'static str },
}

impl Policy {
    /// The URL's form alone: scheme, no credentials or fragment, a host. No lookup.
    pub fn parse(&self, raw: &str) -> Result<Url, Refused> {
        if raw.len() > MAX_URL_LEN {
            return Err(Refused::TooLong);
        }
        let url = Url::parse(raw).map_err(|_| Refused::NotUrl)?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            _ if self.allow_http => return Err(Refused::NotHttp),
            _ => return Err(Refused::NotHttps),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refused::Credentials);
        }
        if url.fragment().is_some() {
            return Err(Refused::Fragment);
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(Refused::NoHost);
        }
        Ok(url)
    }

    /// `Some(range)` when `ip` may not be reached: outside the allow-list and in a range named
    /// in [`FORBIDDEN`] (IPv4 carried in IPv6, mapped or translated, is judged as IPv4).
    pub fn forbidden(&self, ip: IpAddr) -> Option<&'static str> {
        if self.allowed.iter().any(|net| net.contains(&ip)) {
            return None;
        }
        if let Some(v4) = embedded_v4(ip) {
            if self.allowed.iter().any(|net| net.contains(&IpAddr::V4(v4))) {
                return None;
            }
            if let Some(range) = range_of(IpAddr::V4(v4)) {
                return Some(range);
            }
        }
        range_of(ip)
    }

    /// The addresses to connect to for `url`: its IP literal, or every address its host resolves
    /// to, each of them allowed (one forbidden address refuses the lot: a name that also points
    /// inside is not a public receiver).
    pub async fn addresses(&self, url: &Url) -> Result<Vec<SocketAddr>, Refused> {
        let port = url.port_or_known_default().ok_or(Refused::NotUrl)?;
        let addresses: Vec<SocketAddr> = match url.host() {
            None => return Err(Refused::NoHost),
            Some(url::Host::Ipv4(v4)) => vec![SocketAddr::new(IpAddr::V4(v4), port)],
            Some(url::Host::Ipv6(v6)) => vec![SocketAddr::new(IpAddr::V6(v6), port)],
            Some(url::Host::Domain(host)) => resolve(host, port).await?,
        };
        self.approve(addresses)
    }

    /// `addresses` if every one is allowed.
    pub fn approve(&self, addresses: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, Refused> {
        for address in &addresses {
            if let Some(range) = self.forbidden(address.ip()) {
                return Err(Refused::Forbidden { address: address.ip(), range });
            }
        }
        Ok(addresses)
    }
}

/// The host's addresses, from the system resolver, within [`RESOLVE_TIMEOUT`].
pub async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, Refused> {
    let unresolvable = || Refused::Unresolvable(host.to_owned());
    let lookup = tokio::net::lookup_host((host, port));
    let found: Vec<SocketAddr> = tokio::time::timeout(RESOLVE_TIMEOUT, lookup)
        .await
        .map_err(|_| unresolvable())?
        .map_err(|_| unresolvable())?
        .collect();
    if found.is_empty() { Err(unresolvable()) } else { Ok(found) }
}

/// Ranges a webhook may not reach, with the name the refusal gives. IPv4 first.
const FORBIDDEN: &[(&str, &str)] = &[
    ("0.0.0.0/8", "this-network"),
    ("10.0.0.0/8", "private (RFC 1918)"),
    ("100.64.0.0/10", "carrier-grade NAT (RFC 6598)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local (cloud metadata)"),
    ("172.16.0.0/12", "private (RFC 1918)"),
    ("192.0.0.0/24", "IETF protocol assignment"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4 relay"),
    ("192.168.0.0/16", "private (RFC 1918)"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "IPv4-compatible"),
    ("::ffff:0:0/96", "IPv4-mapped"),
    ("64:ff9b::/96", "NAT64"),
    ("64:ff9b:1::/48", "NAT64 (local)"),
    ("100::/64", "discard-only"),
    ("2001::/32", "Teredo"),
    ("2001:db8::/32", "documentation"),
    ("2002::/16", "6to4"),
    ("fc00::/7", "unique local"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
];

fn range_of(ip: IpAddr) -> Option<&'static str> {
    FORBIDDEN.iter().find_map(|(net, name)| {
        let net: IpNet = net.parse().ok()?;
        net.contains(&ip).then_some(*name)
    })
}

/// The IPv4 address an IPv6 address carries: mapped (`::ffff:a.b.c.d`), compatible
/// (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:AABB:CCDD::`).
fn embedded_v4(ip: IpAddr) -> Option<Ipv4Addr> {
    let IpAddr::V6(v6) = ip else { return None };
    let s = v6.segments();
    let low = |a: u16, b: u16| Ipv4Addr::new((a >> 8) as u8, a as u8, (b >> 8) as u8, b as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, a, b] | [0, 0, 0, 0, 0, 0, a, b]
            if v6 != Ipv6Addr::UNSPECIFIED && v6 != Ipv6Addr::LOCALHOST =>
        {
            Some(low(a, b))
        }
        [0x64, 0xff9b, 0, 0, 0, 0, a, b] => Some(low(a, b)),
        [0x2002, a, b, ..] => Some(low(a, b)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refuses(policy: &Policy, ip: &str) -> Option<&'static str> {
        policy.forbidden(ip.parse().unwrap())
    }

    #[test]
    fn every_inside_range_is_refused_and_public_addresses_are_not() {
        let policy = Policy::default();
        for ip in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "::127.0.0.1",
            "2002:7f00:1::",
        ] {
            assert!(refuses(&policy, ip).is_some(), "{ip} should be refused");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "8.8.8.8", "2606:4700:4700::1111", "172.32.0.1", "100.128.0.1"]
        {
            assert_eq!(refuses(&policy, ip), None, "{ip} is public");
        }
        // A mapped public address is judged as the public address it carries.
        assert_eq!(refuses(&policy, "::ffff:8.8.8.8"), Some("IPv4-mapped"));
    }

    #[test]
    fn the_allow_list_opens_exactly_its_blocks() {
        let policy = Policy { allow_http: true, allowed: vec!["127.0.0.0/8".parse().unwrap()] };
        assert_eq!(refuses(&policy, "127.0.0.1"), None);
        assert_eq!(refuses(&policy, "::ffff:127.0.0.1"), None);
        assert!(refuses(&policy, "10.0.0.1").is_some());
        assert!(refuses(&policy, "::1").is_some());
    }

    #[test]
    fn urls_need_https_a_host_and_no_credentials() {
        let strict = Policy::default();
        assert_eq!(strict.parse("http://example.com/hook"), Err(Refused::NotHttps));
        assert_eq!(strict.parse("ftp://example.com/hook"), Err(Refused::NotHttps));
        assert_eq!(strict.parse("https://user:pw@example.com/"), Err(Refused::Credentials));
        assert_eq!(strict.parse("https://example.com/#x"), Err(Refused::Fragment));
        assert_eq!(strict.parse("not a url"), Err(Refused::NotUrl));
        assert!(strict.parse("https://example.com/hook?x=1").is_ok());
        let open = Policy { allow_http: true, allowed: vec![] };
        assert!(open.parse("http://example.com/hook").is_ok());
        assert_eq!(open.parse("gopher://example.com/"), Err(Refused::NotHttp));
    }

    #[tokio::test]
    async fn a_name_that_resolves_inside_is_refused_and_literals_are_checked_without_lookup() {
        let policy = Policy { allow_http: true, allowed: vec![] };
        let local = Url::parse("http://localhost:9/").unwrap();
        assert!(matches!(policy.addresses(&local).await, Err(Refused::Forbidden { .. })));
        let literal = Url::parse("http://[::ffff:7f00:1]:9/").unwrap();
        assert!(matches!(policy.addresses(&literal).await, Err(Refused::Forbidden { .. })));
        let metadata = Url::parse("http://169.254.169.254/latest/meta-data/").unwrap();
        assert_eq!(
            policy.addresses(&metadata).await,
            Err(Refused::Forbidden {
                address: "169.254.169.254".parse().unwrap(),
                range: "link-local (cloud metadata)"
            })
        );
        // The refusal names the range, never the address a name resolved to.
        let refused =
            Refused::Forbidden { address: "10.1.2.3".parse().unwrap(), range: "private (RFC 1918)" };
        assert_eq!(
            refused.to_string(),
            "resolves to a private (RFC 1918) address, which webhooks may not reach"
        );
        let allowed = Policy { allow_http: true, allowed: vec!["127.0.0.0/8".parse().unwrap()] };
        let v4_only = Url::parse("http://127.0.0.1:9/").unwrap();
        assert_eq!(allowed.addresses(&v4_only).await.unwrap(), vec!["127.0.0.1:9".parse().unwrap()]);
    }
}
