//! Each `--number`: owned, takes voice calls, points at `--url`. Read-only: nothing is changed.

use telephony_core::{Drift, Error, InboundDrift, PhoneNumber, TelephonyProvider, Url, redact_url};

/// A URL as the report prints it: a password or credential in its query masked. Text that is
/// not a URL (the `PUBLIC_WEBHOOK_URL` placeholder, a carrier's garbled one) is printed as
/// it is, unless it could hold a credential (`@`, `?`).
fn shown(url: &str) -> String {
    if Url::parse(url).is_ok() || url.contains(['@', '?']) {
        redact_url(url)
    } else {
        url.to_owned()
    }
}

use super::account::Account;
use super::{Check, DoctorOptions};

pub(crate) async fn numbers(
    provider: &dyn TelephonyProvider,
    options: &DoctorOptions,
    account: &Account,
) -> Vec<Check> {
    let mut checks = Vec::with_capacity(options.numbers.len());
    for number in &options.numbers {
        let name = format!("number {number}");
        let Some(owned) = &account.numbers else {
            checks.push(Check::skipped(
                name,
                "the account's numbers could not be listed (see credentials)",
            ));
            continue;
        };
        checks.push(match owned.iter().find(|n| &n.number == number) {
            None => Check::failed(
                name,
                format!(
                    "not a number of this {} account ({} listed)",
                    provider.kind(),
                    owned.len()
                ),
                "buy or port it to this account, or check the account's settings",
            ),
            Some(n) => one(provider, options, name, n).await,
        });
    }
    checks
}

async fn one(
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
            "`telephony inbound {} --number {number} --url {}` points it there, reporting what was there before",
            provider.kind().id(),
            shown(url)
        )
    };
    // What configure_inbound would change, where the adapter can read it without changing
    // anything (without --url, what is wrong whatever the URL); the number's listing otherwise.
    let read = tokio::time::timeout(
        options.timeout,
        provider.inbound_drift(number, options.url.as_ref()),
    )
    .await;
    let Ok(read) = read else {
        return Check::warning(
            name,
            format!(
                "owned; its inbound set-up could not be read within {:?}",
                options.timeout
            ),
            "run the doctor again; if it persists, check the carrier's status page",
        );
    };
    let found = match read {
        Ok(found) => Some(found),
        Err(Error::Unsupported { .. }) => None,
        Err(e @ Error::NumberWithoutVoice { .. }) => {
            return Check::failed(
                name,
                e.to_string(),
                "use a voice-capable number, or enable voice on it in the carrier's console",
            );
        }
        Err(e) => {
            return Check::warning(
                name,
                format!("owned; its inbound set-up could not be read: {e}"),
                "run the doctor again; if it persists, check the carrier's status page",
            );
        }
    };
    if let Some(found) = &found
        && !found.is_clean()
    {
        return drifted(name, options.url.as_ref(), found, &fix);
    }
    let current = found
        .as_ref()
        .and_then(|f| f.current_url.as_deref())
        .or(n.voice_url.as_deref());
    let Some(url) = &options.url else {
        // An adapter that read the set-up says where; a bare listing without a URL does not.
        let at = match (current, &found) {
            (Some(at), _) => format!("its calls go to {}", shown(at)),
            (None, Some(_)) => "its calls go nowhere".to_owned(),
            (None, None) => format!("{} does not list where its calls go", provider.kind()),
        };
        return match n.voice {
            Some(true) => Check::ok(
                name,
                format!("owned, takes voice calls; {at} (no --url to compare)"),
            ),
            _ => Check::warning(
                name,
                format!(
                    "owned; {} does not say whether it takes voice calls; {at}",
                    provider.kind()
                ),
                "check its voice capability in the carrier's console",
            ),
        };
    };
    // A clean drift report says it points at the URL, whatever the listing shows.
    let current = if found.is_some() {
        Some(url.as_str())
    } else {
        current
    };
    match current {
        Some(current) if current == url.as_str() => match n.voice {
            Some(true) => Check::ok(
                name,
                format!(
                    "owned, takes voice calls, points at {}",
                    shown(url.as_str())
                ),
            ),
            _ => Check::warning(
                name,
                format!(
                    "owned, points at {}; {} does not say whether it takes voice calls",
                    shown(url.as_str()),
                    provider.kind()
                ),
                "check its voice capability in the carrier's console",
            ),
        },
        Some(current) => Check::failed(
            name,
            format!(
                "its calls go to {}, not {}: the URL had drifted from what was set",
                shown(current),
                shown(url.as_str())
            ),
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

/// The check from what [`TelephonyProvider::inbound_drift`] found wrong: failed when calls
/// go elsewhere or webhooks arrive unsigned (either loses every call), a warning for another
/// setting `configure_inbound` would change; each with its fix.
fn drifted(
    name: String,
    url: Option<&Url>,
    found: &InboundDrift,
    fix: &dyn Fn(&str) -> String,
) -> Check {
    let mut details = Vec::new();
    let mut advice = Vec::new();
    let mut failed = false;
    let mut configure = false;
    let wanted = url.map_or_else(|| "--url".to_owned(), |u| shown(u.as_str()));
    for drift in &found.drift {
        match drift {
            Drift::Url {
                found: Some(current),
            } => {
                failed = true;
                configure = true;
                details.push(format!(
                    "its calls go to {}, not {wanted}: the URL had drifted from what was set",
                    shown(current)
                ));
            }
            Drift::Url { found: None } => {
                failed = true;
                configure = true;
                details.push(format!("its calls go nowhere, not to {wanted}"));
            }
            Drift::Unsigned { detail, fix } => {
                failed = true;
                details.push(detail.clone());
                advice.push(fix.clone());
            }
            other => {
                configure = true;
                details.push(other.to_string());
            }
        }
    }
    if configure {
        // Without --url, the URL its calls go to now, or the operator's.
        let target = url
            .map(Url::as_str)
            .or(found.current_url.as_deref())
            .unwrap_or("PUBLIC_WEBHOOK_URL");
        advice.insert(0, fix(target));
    }
    let detail = details.join("; ");
    let advice = advice.join("; and ");
    if failed {
        Check::failed(name, detail, advice)
    } else {
        Check::warning(name, detail, advice)
    }
}
