//! `telephony doctor`: the set-up's common problems, one line per check.

use clap::Args;
use telephony::doctor::{self, Check, DoctorOptions, Report, Status};
use telephony::{Decimal, E164, Registry, Secret};

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
    /// The least balance that passes, in the account's currency.
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
        let min: Decimal = m
            .trim()
            .parse()
            .map_err(|_| Failure::Usage(format!("--min-balance {m:?}: not a decimal amount")))?;
        options = options.min_balance(min);
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
            let mut checks = vec![Check::new(
                "credentials",
                Status::Failed,
                reason,
                Some(format!("set {}'s settings: {settings}", carrier.kind())),
            )];
            checks.push(Check::new(
                "others",
                Status::Skipped,
                "no adapter without its settings",
                None,
            ));
            Report::new(checks)
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
