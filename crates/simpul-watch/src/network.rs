//! Client addresses grouped into networks: an IPv4 /24 or an IPv6 /48.
//!
//! One address is too narrow a unit for the network rules: a spraying tool rotates through
//! neighbouring addresses, and an operator's office router or mobile carrier hands out a new
//! address within the same block from day to day. A /24 is the smallest IPv4 block routed on
//! the internet and a /48 is what RIRs assign to one site, so each stands for "one place".
//! IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, what a dual-stack socket reports for an IPv4
//! client) are grouped as the IPv4 address they carry.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Prefix length of an IPv4 network.
pub const IPV4_PREFIX: u8 = 24;
/// Prefix length of an IPv6 network.
pub const IPV6_PREFIX: u8 = 48;

/// The network an address belongs to. `Display` writes CIDR notation, e.g. `203.0.113.0/24`
/// or `2001:db8:1::/48`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Network {
    base: IpAddr,
}

impl Network {
    /// The /24 (IPv4) or /48 (IPv6) network holding `address`.
    pub fn of(address: IpAddr) -> Self {
        let base = match address.to_canonical() {
            IpAddr::V4(v4) => {
                let [a, b, c, _] = v4.octets();
                IpAddr::V4(Ipv4Addr::new(a, b, c, 0))
            }
            IpAddr::V6(v6) => {
                let [a, b, c, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, 0, 0, 0, 0, 0))
            }
        };
        Self { base }
    }

    /// The first address of the network.
    pub fn base(&self) -> IpAddr {
        self.base
    }

    /// The prefix length: [`IPV4_PREFIX`] or [`IPV6_PREFIX`].
    pub fn prefix_len(&self) -> u8 {
        match self.base {
            IpAddr::V4(_) => IPV4_PREFIX,
            IpAddr::V6(_) => IPV6_PREFIX,
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix_len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    #[rstest]
    #[case("203.0.113.7", "203.0.113.0/24")]
    #[case("203.0.113.255", "203.0.113.0/24")]
    #[case("10.1.2.3", "10.1.2.0/24")]
    #[case("2001:db8:1:ffff::1", "2001:db8:1::/48")]
    #[case("2001:db8:1:0:abcd::9", "2001:db8:1::/48")]
    #[case("::ffff:203.0.113.9", "203.0.113.0/24")]
    fn addresses_group_into_their_network(#[case] address: &str, #[case] network: &str) {
        assert_eq!(Network::of(ip(address)).to_string(), network);
    }

    #[test]
    fn neighbouring_blocks_are_different_networks() {
        assert_ne!(
            Network::of(ip("203.0.113.7")),
            Network::of(ip("203.0.114.7"))
        );
        assert_ne!(
            Network::of(ip("2001:db8:1::1")),
            Network::of(ip("2001:db8:2::1"))
        );
        assert_eq!(
            Network::of(ip("2001:db8:1:1::1")),
            Network::of(ip("2001:db8:1:2::1"))
        );
    }

    #[test]
    fn mapped_ipv4_is_the_same_network_as_plain_ipv4() {
        assert_eq!(
            Network::of(ip("::ffff:198.51.100.20")),
            Network::of(ip("198.51.100.1"))
        );
    }
}
