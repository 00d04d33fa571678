//! The account: credentials, the carrier's clock, the balance.

use telephony_core::rest::{ServerDate, observe_server_date};
use telephony_core::{ApiError, Error, PhoneNumber, TelephonyProvider};

use super::{Check, DoctorOptions};

/// The credentials' check, and what its request brought back: the numbers, the carrier's
/// clock.
pub(crate) struct Account {
    pub(crate) check: Check,
    pub(crate) numbers: Option<Vec<PhoneNumber>>,
    pub(crate) date: Option<ServerDate>,
    /// The carrier answered the credentials' request (whatever it said).
    pub(crate) answered: bool,
}

impl Account {
    /// The account's credentials were accepted: its numbers were listed (those its calls
    /// take, where they differ, are the credentials check's to report).
    pub(crate) fn accepted(&self) -> bool {
        self.numbers.is_some()
    }
}

/// The settings the carrier reads, as the advice names them.
fn settings(provider: &dyn TelephonyProvider) -> String {
    provider.carrier().settings().join(", ")
}

/// Present and well formed (no request), then accepted: the account's numbers are listed, the
/// cheapest authenticated read every carrier has.
pub(crate) async fn credentials(
    provider: &dyn TelephonyProvider,
    options: &DoctorOptions,
) -> Account {
    const NAME: &str = "credentials";
    if let Err(e) = provider.validate_config() {
        return Account {
            check: Check::failed(
                NAME,
                e.to_string(),
                format!("set {}'s settings: {}", provider.kind(), settings(provider)),
            ),
            numbers: None,
            date: None,
            answered: false,
        };
    }
    let listing = tokio::time::timeout(
        options.timeout,
        observe_server_date(provider.phone_numbers()),
    );
    let Ok((result, date)) = listing.await else {
        return Account {
            check: Check::failed(
                NAME,
                format!(
                    "{} did not answer within {:?}",
                    provider.kind(),
                    options.timeout
                ),
                "check the network path to the carrier's API (a proxy, a firewall, --base-url)",
            ),
            numbers: None,
            date: None,
            answered: false,
        };
    };
    let check = match &result {
        Ok(numbers) => {
            let listed = format!(
                "{} accepted them ({} numbers on the account",
                provider.kind(),
                numbers.len()
            );
            call_credentials(provider, options, listed).await
        }
        Err(Error::Api(api)) if api.status == 401 || api.status == 403 => {
            refused(provider, api, "the credentials")
        }
        // A setting the request needed and does not have (Vonage's numbers take the API key
        // and secret, which its calls do not): the setting is the fix, not the network.
        Err(e @ Error::Config(_)) => Check::failed(
            NAME,
            e.to_string(),
            format!("set {}'s settings: {}", provider.kind(), settings(provider)),
        ),
        Err(e) => Check::failed(
            NAME,
            format!("could not check them: {e}"),
            "check the network path to the carrier's API and its status page, then run again",
        ),
    };
    // A request that failed on the way (no connection, a timeout in the client) has no
    // answer either.
    let answered = date.is_some() || matches!(&result, Ok(_) | Err(Error::Api(_)));
    Account {
        check,
        numbers: result.ok(),
        date,
        answered,
    }
}

/// A 401 or 403 to the credentials' request, as the check reports it, naming the settings.
fn refused(provider: &dyn TelephonyProvider, api: &ApiError, which: &str) -> Check {
    let advice = api
        .hint
        .clone()
        .unwrap_or_else(|| format!("check {}", settings(provider)));
    let refused = if api.status == 401 {
        format!("refused {which}")
    } else {
        format!("accepted {which} but refused the request")
    };
    Check::failed(
        "credentials",
        format!(
            "{} {refused} ({} to {}: {})",
            provider.kind(),
            api.status,
            api.operation,
            api.message
        ),
        advice,
    )
}

/// With the numbers listed (`listed`, its parenthesis open), the credentials that calls take
/// where they are others (Vonage's application JWT).
async fn call_credentials(
    provider: &dyn TelephonyProvider,
    options: &DoctorOptions,
    listed: String,
) -> Check {
    const NAME: &str = "credentials";
    match tokio::time::timeout(options.timeout, provider.check_call_credentials()).await {
        Ok(Err(Error::Unsupported { .. })) => Check::ok(NAME, format!("{listed})")),
        Ok(Ok(())) => Check::ok(
            NAME,
            format!("{listed}, and the credentials its calls take as well)"),
        ),
        Ok(Err(Error::Api(api))) if api.status == 401 || api.status == 403 => {
            refused(provider, &api, "the credentials its calls take")
        }
        Ok(Err(e @ Error::Config(_))) => Check::failed(
            NAME,
            format!("{listed}); its calls cannot authenticate: {e}"),
            format!("set {}'s settings: {}", provider.kind(), settings(provider)),
        ),
        Ok(Err(e)) => Check::warning(
            NAME,
            format!("{listed}); those its calls take could not be checked: {e}"),
            "run the doctor again; if it persists, check the carrier's status page",
        ),
        Err(_) => Check::warning(
            NAME,
            format!(
                "{listed}); those its calls take were not answered for within {:?}",
                options.timeout
            ),
            "run the doctor again; if it persists, check the carrier's status page",
        ),
    }
}

/// The carrier's clock against this machine's.
pub(crate) fn clock(account: &Account, options: &DoctorOptions) -> Check {
    const NAME: &str = "clock";
    /// Vonage's signed callbacks and Telnyx's webhooks are refused past this difference.
    const WINDOW: u64 = 300;
    let Some(date) = account.date else {
        return Check::skipped(
            NAME,
            if account.answered {
                "the carrier's answer carried no Date header"
            } else {
                "no answer from the carrier to read its clock from (see credentials)"
            },
        );
    };
    let skew = date.skew_seconds();
    let said = if skew >= 0.0 {
        format!("the carrier's clock is {skew:.0} s ahead of this machine's")
    } else {
        format!(
            "the carrier's clock is {:.0} s behind this machine's",
            -skew
        )
    };
    let advice = "synchronise this machine's clock (NTP: `timedatectl set-ntp true`, chrony): \
                  Vonage's signed callbacks and Telnyx's webhooks carry a signing time checked \
                  against it, within 5 minutes by default";
    let off = date.skew();
    if off.as_secs() >= WINDOW {
        Check::failed(
            NAME,
            format!("{said}: signed webhooks fail their time window"),
            advice,
        )
    } else if off > options.max_clock_skew + std::time::Duration::from_secs(1) {
        // An HTTP date has whole seconds: a second more is the header's rounding.
        Check::warning(NAME, said, advice)
    } else {
        Check::ok(
            NAME,
            format!("within {:?} of the carrier's", options.max_clock_skew),
        )
    }
}

/// The balance against `--min-balance`.
pub(crate) async fn balance(
    provider: &dyn TelephonyProvider,
    options: &DoctorOptions,
    accepted: bool,
) -> Check {
    const NAME: &str = "balance";
    if !provider.capabilities().balance {
        return Check::skipped(NAME, format!("{} has no balance API", provider.kind()));
    }
    if !accepted {
        return Check::skipped(NAME, "the credentials check did not pass (see credentials)");
    }
    let balance = match tokio::time::timeout(options.timeout, provider.balance()).await {
        Ok(Ok(b)) => b,
        Ok(Err(Error::Unsupported { .. })) => {
            return Check::skipped(NAME, format!("{} has no balance API", provider.kind()));
        }
        Ok(Err(e)) => {
            return Check::failed(
                NAME,
                format!("could not read it: {e}"),
                "run again; if it persists, check the account in the carrier's console",
            );
        }
        Err(_) => {
            return Check::failed(
                NAME,
                format!(
                    "{} did not answer within {:?}",
                    provider.kind(),
                    options.timeout
                ),
                "run again; if it persists, check the account in the carrier's console",
            );
        }
    };
    let spendable = balance.spendable();
    let said = match balance.available {
        Some(available) if available != balance.amount => {
            format!("{balance} ({available} {} available)", balance.currency)
        }
        _ => balance.to_string(),
    };
    match options.min_balance {
        None => Check::skipped(NAME, format!("{said}; no --min-balance to compare with")),
        Some(min)
            if options
                .min_balance_currency
                .is_some_and(|c| c != balance.currency) =>
        {
            let wanted = options.min_balance_currency.unwrap_or(balance.currency);
            Check::warning(
                NAME,
                format!("{said}; --min-balance is {min} {wanted}, another currency: not compared"),
                format!(
                    "give --min-balance in {} (the account's currency)",
                    balance.currency
                ),
            )
        }
        Some(min) if spendable < min => Check::failed(
            NAME,
            format!("{said}, below {min} {}", balance.currency),
            format!(
                "top up the {} account: calls stop when the balance runs out",
                provider.kind()
            ),
        ),
        Some(min) => Check::ok(NAME, format!("{said}, at least {min} {}", balance.currency)),
    }
}
