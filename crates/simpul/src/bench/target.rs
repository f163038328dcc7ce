//! The target URL, and the rule that load goes to this machine only.
//!
//! The workplace forbids load on any other address, so the check is on the host as written:
//! an IP literal must be loopback (`127.0.0.0/8` or `::1`), and the only name accepted is
//! `localhost`, which must also resolve to loopback. Anything else (a LAN address, a name
//! that merely resolves to 127.0.0.1 today, `0.0.0.0`, an IPv4-mapped IPv6 address) is
//! refused before a single request is sent.

use std::net::{IpAddr, SocketAddr};

use anyhow::{Context, bail};
use hyper::Uri;
use hyper::header::HeaderValue;

/// Where load goes: a loopback socket address and the `Host` header to send.
#[derive(Debug, Clone)]
pub struct Target {
    /// The resolved loopback address every connection dials.
    pub addr: SocketAddr,
    /// `host:port` as written in the URL, sent as the `Host` header.
    pub host_header: HeaderValue,
}

/// The host part of a target URL once it has passed the loopback rule.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    Ip(IpAddr),
    Localhost,
}

/// A target URL checked without touching the network.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parsed {
    host: Host,
    port: u16,
    authority: String,
}

/// Parses `url` and applies the loopback rule.
fn parse(url: &str) -> anyhow::Result<Parsed> {
    let uri: Uri = url
        .parse()
        .with_context(|| format!("target {url:?} is not a URL"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(other) => bail!("target scheme {other:?} is not supported: use http:// on loopback"),
        None => bail!("target {url:?} has no scheme: write it as http://127.0.0.1:PORT"),
    }
    let authority = uri
        .authority()
        .with_context(|| format!("target {url:?} has no host"))?;
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        bail!("target {url:?} must be a base URL such as http://127.0.0.1:8080, without a path");
    }
    let host_text = authority.host();
    // `Uri::host` keeps the brackets of an IPv6 literal.
    let bare = host_text.trim_start_matches('[').trim_end_matches(']');
    let host = if bare.eq_ignore_ascii_case("localhost") {
        Host::Localhost
    } else {
        let ip: IpAddr = bare.parse().map_err(|_| {
            anyhow::anyhow!(
                "target host {host_text:?} refused: only 127.0.0.0/8, ::1 or localhost may be loaded"
            )
        })?;
        if !ip.is_loopback() {
            bail!("target host {ip} refused: only 127.0.0.0/8, ::1 or localhost may be loaded");
        }
        Host::Ip(ip)
    };
    let port = authority.port_u16().unwrap_or(80);
    Ok(Parsed {
        host,
        port,
        authority: format!("{host_text}:{port}"),
    })
}

impl Target {
    /// Checks `url` against the loopback rule and resolves it to one loopback address.
    pub async fn resolve(url: &str) -> anyhow::Result<Self> {
        let parsed = parse(url)?;
        let addr = match parsed.host {
            Host::Ip(ip) => SocketAddr::new(ip, parsed.port),
            Host::Localhost => tokio::net::lookup_host(("localhost", parsed.port))
                .await
                .context("resolving localhost")?
                .find(|a| a.ip().is_loopback())
                .context("localhost does not resolve to a loopback address here")?,
        };
        let host_header = HeaderValue::from_str(&parsed.authority)
            .context("target host is not a valid Host header")?;
        Ok(Self { addr, host_header })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_loopback_addresses_and_localhost() -> anyhow::Result<()> {
        let cases = [
            (
                "http://127.0.0.1:8080",
                Host::Ip("127.0.0.1".parse()?),
                8080,
                "127.0.0.1:8080",
            ),
            (
                "http://127.1.2.3",
                Host::Ip("127.1.2.3".parse()?),
                80,
                "127.1.2.3:80",
            ),
            (
                "http://[::1]:18080/",
                Host::Ip("::1".parse()?),
                18080,
                "[::1]:18080",
            ),
            (
                "http://LocalHost:9000",
                Host::Localhost,
                9000,
                "LocalHost:9000",
            ),
        ];
        for (url, host, port, authority) in cases {
            let parsed = parse(url)?;
            assert_eq!(parsed.host, host, "{url}");
            assert_eq!(parsed.port, port, "{url}");
            assert_eq!(parsed.authority, authority, "{url}");
        }
        Ok(())
    }

    #[test]
    fn refuses_anything_off_loopback() {
        for url in [
            "http://10.0.0.1:8080",
            "http://192.168.1.20",
            "http://0.0.0.0:8080",
            "http://[::]:8080",
            "http://[::ffff:127.0.0.1]:8080",
            "http://example.com",
            "http://127.0.0.1.nip.io:8080",
            "http://localhost.example.com",
            "https://127.0.0.1:8443",
            "127.0.0.1:8080",
            "http://127.0.0.1:8080/api",
            "http://127.0.0.1:8080/?x=1",
            "not a url",
        ] {
            assert!(parse(url).is_err(), "{url} should be refused");
        }
    }

    #[tokio::test]
    async fn resolves_localhost_to_loopback() -> anyhow::Result<()> {
        let target = Target::resolve("http://localhost:18080").await?;
        assert!(target.addr.ip().is_loopback());
        assert_eq!(target.addr.port(), 18080);
        assert_eq!(target.host_header, "localhost:18080");
        Ok(())
    }
}
