//! The webhook URL: https, and a host the carrier can reach (not this machine, not a private
//! network).

use std::net::IpAddr;

use telephony_core::{TrustedProxies, Url, is_loopback_host};

use super::{Check, DoctorOptions};

const NAME: &str = "url";

/// Whether `ip` is on this machine or a private network: loopback, the private ranges
/// ([`TrustedProxies::private`]), link-local, unspecified.
fn private(ip: IpAddr) -> bool {
    TrustedProxies::private().trusts(Some(ip))
        || ip.is_unspecified()
        || match ip {
            IpAddr::V4(v4) => v4.is_link_local(),
            IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
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
    if let Some(ip) = resolved.iter().copied().find(|ip| private(*ip)) {
        return Check::failed(
            NAME,
            format!(
                "{} is {ip}, a private address: the carrier cannot reach it",
                host(url)
            ),
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
