//! Each `--number`: owned, takes voice calls, points at `--url`. Read-only: nothing is changed.

use telephony_core::{PhoneNumber, TelephonyProvider};

use super::account::Account;
use super::{Check, DoctorOptions};

pub(crate) fn numbers(
    provider: &dyn TelephonyProvider,
    options: &DoctorOptions,
    account: &Account,
) -> Vec<Check> {
    options
        .numbers
        .iter()
        .map(|number| {
            let name = format!("number {number}");
            let Some(owned) = &account.numbers else {
                return Check::skipped(
                    name,
                    "the account's numbers could not be listed (see credentials)",
                );
            };
            match owned.iter().find(|n| &n.number == number) {
                None => Check::failed(
                    name,
                    format!(
                        "not a number of this {} account ({} listed)",
                        provider.kind(),
                        owned.len()
                    ),
                    "buy or port it to this account, or check the account's settings",
                ),
                Some(n) => one(provider, options, name, n),
            }
        })
        .collect()
}

fn one(
    provider: &dyn TelephonyProvider,
    options: &DoctorOptions,
    name: String,
    n: &PhoneNumber,
) -> Check {
    let number = &n.number;
    if n.voice == Some(false) {
        return Check::failed(
            name,
            format!("{} reports it cannot take voice calls", provider.kind()),
            "use a voice-capable number, or enable voice on it in the carrier's console",
        );
    }
    let fix = |url: &str| {
        format!(
            "`telephony inbound {} {number} --url {url}` points it there, reporting what was there before",
            provider.kind().id()
        )
    };
    let Some(url) = &options.url else {
        let at = n.voice_url.as_deref().unwrap_or("nowhere");
        return match n.voice {
            Some(true) => Check::ok(
                name,
                format!("owned, takes voice calls; its calls go to {at} (no --url to compare)"),
            ),
            _ => Check::warning(
                name,
                format!(
                    "owned; {} does not say whether it takes voice calls; its calls go to {at}",
                    provider.kind()
                ),
                "check its voice capability in the carrier's console",
            ),
        };
    };
    match n.voice_url.as_deref() {
        Some(current) if current == url.as_str() => match n.voice {
            Some(true) => Check::ok(name, format!("owned, takes voice calls, points at {url}")),
            _ => Check::warning(
                name,
                format!(
                    "owned, points at {url}; {} does not say whether it takes voice calls",
                    provider.kind()
                ),
                "check its voice capability in the carrier's console",
            ),
        },
        Some(current) => Check::failed(
            name,
            format!("its calls go to {current}, not {url}: the URL had drifted from what was set"),
            fix(url.as_str()),
        ),
        None => Check::warning(
            name,
            format!(
                "{} does not say where its calls go (no URL on the number: none set, or one set on an application)",
                provider.kind()
            ),
            fix(url.as_str()),
        ),
    }
}
