//! `telephony doctor`: the set-up's common problems, one line per check.

use clap::Args;
use telephony::doctor::{self, DoctorOptions, Status};
use telephony::{Currency, Decimal, E164, Registry, Secret};

use crate::calls::{json, out};
use crate::provider::{self, CarrierArg};
use crate::{Failure, parse_url};

#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// The provider: twilio, plivo, vonage, … (the registry's).
    #[arg(value_parser = provider::parser())]
    provider: CarrierArg,
    /// A number that must be the account's, take voice calls and point at --url (repeat).
    #[arg(long = "number", value_name = "E164")]
    numbers: Vec<String>,
    /// The public webhook URL the carrier calls for inbound calls.
    #[arg(long)]
    url: Option<String>,
    /// The least balance that passes: an amount in the account's currency (`5`), or with its
    /// currency (`5 USD`, `5USD`); a balance in another currency is a warning.
    #[arg(long, value_name = "AMOUNT")]
    min_balance: Option<String>,
    /// Print the checks as JSON: {"checks": [{"name", "status", "detail", "advice"}]}.
    #[arg(long)]
    json: bool,
    /// Another API host: a regional edge, a test server.
    #[arg(long)]
    base_url: Option<String>,
}

/// Exit 0 when no check failed, 1 when one did; 2 on a usage error.
pub(crate) async fn doctor(args: DoctorArgs) -> Result<(), Failure> {
    let mut options = DoctorOptions::new();
    for n in &args.numbers {
        let number: E164 = n
            .parse()
            .map_err(|e| Failure::Usage(format!("--number {n:?}: {e}")))?;
        options = options.number(number);
    }
    if let Some(u) = &args.url {
        options = options.url(parse_url("--url", u)?);
    }
    if let Some(m) = &args.min_balance {
        options = match parse_min_balance(m) {
            Some((min, None)) => options.min_balance(min),
            Some((min, Some(currency))) => options.min_balance_in(min, currency),
            None => {
                return Err(Failure::Usage(format!(
                    "--min-balance {m:?}: an amount (5, 2.50) or an amount and its currency (5 USD)"
                )));
            }
        };
    }
    if let Some(secret) = std::env::var(args.provider.secret_env())
        .ok()
        .filter(|s| !s.trim().is_empty())
    {
        options = options.signing_secret(Secret::new(secret));
    }
    let carrier = args.provider.carrier();
    let report = match provider::from_env(args.provider, args.base_url.as_deref()) {
        Ok(p) => doctor::run(p.as_ref(), &options).await,
        // Missing or malformed settings are the credentials check's finding, not a usage error
        // (a malformed --base-url still is: it comes from the command line).
        Err(Failure::Usage(reason))
            if args
                .base_url
                .as_deref()
                .is_none_or(|b| parse_url("--base-url", b).is_ok()) =>
        {
            let settings = Registry::builtin()
                .find(carrier.kind().id())
                .map(|c| c.settings().join(", "))
                .unwrap_or_default();
            doctor::run_without_provider(
                reason,
                format!("set {}'s settings: {settings}", carrier.kind()),
                &options,
            )
            .await
        }
        Err(e) => return Err(e),
    };
    if args.json {
        json(&report)?;
    } else {
        for check in &report.checks {
            out(check);
        }
    }
    if report.failed() {
        let failed = report
            .checks
            .iter()
            .filter(|c| c.status == Status::Failed)
            .count();
        return Err(Failure::No(format!("{failed} check(s) failed")));
    }
    Ok(())
}

/// `5`, `2.50`, `5 USD`, `5USD` or `USD 5`: a non-negative amount, and its currency if given.
fn parse_min_balance(text: &str) -> Option<(Decimal, Option<Currency>)> {
    let text = text.trim();
    let split = |t: &str| -> Option<(Decimal, Option<Currency>)> {
        let digits_end = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (amount, rest) = t.split_at(digits_end);
        let amount: Decimal = amount.parse().ok()?;
        let rest = rest.trim();
        let currency = if rest.is_empty() {
            None
        } else {
            Some(Currency::new(rest)?)
        };
        Some((amount, currency))
    };
    let leading = text
        .split_once(char::is_whitespace)
        .and_then(|(head, tail)| Some((Currency::new(head)?, tail.trim())));
    match leading {
        Some((currency, amount)) if !amount.is_empty() => {
            let (amount, none) = split(amount)?;
            none.is_none().then_some((amount, Some(currency)))
        }
        _ => split(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_read_with_or_without_their_currency() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(parse_min_balance("5"), Some((d("5"), None)));
        assert_eq!(parse_min_balance(" 2.50 "), Some((d("2.50"), None)));
        assert_eq!(
            parse_min_balance("5 USD"),
            Some((d("5"), Some(Currency::USD)))
        );
        assert_eq!(
            parse_min_balance("5eur"),
            Some((d("5"), Some(Currency::EUR)))
        );
        assert_eq!(
            parse_min_balance("USD 7.5"),
            Some((d("7.5"), Some(Currency::USD)))
        );
        for bad in [
            "",
            "five",
            "-5",
            "5 dollars",
            "5 US",
            "USD",
            "USD 5 EUR",
            "5.5.5",
            "1e3",
        ] {
            assert_eq!(parse_min_balance(bad), None, "{bad:?}");
        }
    }
}
