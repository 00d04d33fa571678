//! The webhook URL: https, and a host the carrier can reach (not this machine, not a private
//! network).

use std::net::IpAddr;

use telephony_core::{Url, is_loopback_host};

use super::{Check, DoctorOptions};

const NAME: &str = "url";

/// The IPv4 address an IPv6 one carries, where it is only a way of writing one: mapped
/// (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`, deprecated) or 6to4 (`2002:aabb:ccdd::/48`,
/// whose relay reaches the IPv4 address).
fn embedded_v4(v6: std::net::Ipv6Addr) -> Option<std::net::Ipv4Addr> {
    let s = v6.segments();
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    // `::` and `::1` are IPv6's own unspecified and loopback addresses, not IPv4 ones.
    if s[..6] == [0; 6] && !v6.is_unspecified() && !v6.is_loopback() {
        return v6.to_ipv4();
    }
    if s[0] == 0x2002 {
        let [a, b] = s[1].to_be_bytes();
        let [c, d] = s[2].to_be_bytes();
        return Some(std::net::Ipv4Addr::new(a, b, c, d));
    }
    None
}

/// Why a carrier on the internet cannot reach `ip`, if it cannot: this machine, a private
/// network, shared address space, link-local, or a range the internet does not route. An
/// IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is judged as the IPv4 address it is.
fn unreachable(ip: IpAddr) -> Option<&'static str> {
    let ip = match ip {
        IpAddr::V6(v6) => embedded_v4(v6).map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            if v4.is_loopback() {
                Some("a loopback address (this machine)")
            } else if v4.is_unspecified() || a == 0 {
                Some("an unspecified address (\"this network\")")
            } else if v4.is_private() {
                Some("a private address")
            } else if a == 100 && (b & 0xc0) == 64 {
                Some("a shared address (carrier-grade NAT, 100.64.0.0/10)")
            } else if v4.is_link_local() {
                Some("a link-local address")
            } else if v4.is_multicast() || a >= 240 {
                Some("a multicast or reserved address")
            } else if (a, b, c) == (192, 0, 2)
                || (a, b, c) == (198, 51, 100)
                || (a, b, c) == (203, 0, 113)
                // 192.0.0.0/24 is for protocols, but for two anycast addresses the internet
                // does route (192.0.0.9 and .10).
                || ((a, b, c) == (192, 0, 0) && !matches!(v4.octets()[3], 9 | 10))
                || (a == 198 && (b & 0xfe) == 18)
            {
                Some("an address reserved for documentation, benchmarks or protocols")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            if v6.is_loopback() {
                Some("a loopback address (this machine)")
            } else if v6.is_unspecified() {
                Some("an unspecified address")
            } else if (s[0] & 0xfe00) == 0xfc00 {
                Some("a private address (unique local, fc00::/7)")
            } else if (s[0] & 0xffc0) == 0xfe80 {
                Some("a link-local address")
            } else if (s[0] & 0xffc0) == 0xfec0 {
                Some("a site-local address (fec0::/10, private)")
            } else if s[..4] == [0x0100, 0, 0, 0] {
                Some("a discard address (100::/64)")
            } else if s[0] == 0x2001 && s[1] == 0x0002 && s[2] == 0 {
                Some("an address reserved for benchmarks (2001:2::/48)")
            } else if v6.is_multicast() {
                Some("a multicast address")
            } else if s[0] == 0x2001 && s[1] == 0x0db8 {
                Some("an address reserved for documentation")
            } else {
                None
            }
        }
    }
}

pub(crate) async fn check(options: &DoctorOptions) -> Check {
    let Some(url) = &options.url else {
        return Check::skipped(NAME, "no --url");
    };
    let tunnel = "expose the agent on a public https URL (a reverse proxy with a certificate, \
                  or a tunnel such as ngrok or cloudflared for development)";
    if is_loopback_host(url) {
        return Check::failed(
            NAME,
            format!("{} is this machine: the carrier cannot reach it", host(url)),
            tunnel,
        );
    }
    let resolved = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
        Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
        Some(url::Host::Domain(d)) => {
            let port = url.port_or_known_default().unwrap_or(443);
            match tokio::time::timeout(options.timeout, tokio::net::lookup_host((d, port))).await {
                Ok(Ok(addrs)) => addrs.map(|a| a.ip()).collect(),
                Ok(Err(e)) => {
                    return Check::failed(
                        NAME,
                        format!("{d} does not resolve: {e}"),
                        "check the host name and its DNS records",
                    );
                }
                Err(_) => {
                    return Check::failed(
                        NAME,
                        format!("{d} did not resolve within {:?}", options.timeout),
                        "check the host name and its DNS records",
                    );
                }
            }
        }
        None => return Check::failed(NAME, "the URL has no host", "give an absolute https URL"),
    };
    if let Some((ip, why)) = resolved
        .iter()
        .find_map(|ip| unreachable(*ip).map(|why| (*ip, why)))
    {
        // A host written as an address is named as the address it is.
        let named = match url.host() {
            Some(url::Host::Domain(d)) => format!("{d} is {ip},"),
            _ => format!("{ip} is"),
        };
        return Check::failed(
            NAME,
            format!("{named} {why}: the carrier cannot reach it"),
            tunnel,
        );
    }
    if url.scheme() != "https" {
        return Check::failed(
            NAME,
            format!(
                "{} is not https: webhooks and their signatures would cross the internet in clear",
                url.scheme()
            ),
            "serve the webhook over https (a reverse proxy with a certificate) and give that URL",
        );
    }
    Check::ok(NAME, format!("https, on a public host ({})", host(url)))
}

fn host(url: &Url) -> String {
    url.host_str().unwrap_or("").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_the_carrier_cannot_reach() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "192.0.2.10",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:100.64.0.1",
            "::ffff:0.0.0.0",
            "::ffff:127.0.0.1",
            "::10.0.0.1",
            "2002:c0a8:0101::1",
            "fec0::1",
            "100::1",
            "2001:2::1",
            "192.0.0.8",
        ] {
            let parsed: IpAddr = ip.parse().unwrap();
            assert!(unreachable(parsed).is_some(), "{ip} passed as public");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "54.172.60.1",
            "2600:1f18::1",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "2002:0808:0808::1",
            "192.0.0.9",
            "192.0.0.10",
        ] {
            let parsed: IpAddr = ip.parse().unwrap();
            assert_eq!(unreachable(parsed), None, "{ip} refused");
        }
    }
}
