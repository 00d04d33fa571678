//! `doctor::run`: the problems a telephony set-up hits most, each checked and answered with
//! what to do. What `telephony doctor` prints, as a library function a host can run at start-up
//! or behind a health endpoint.
//!
//! | check | ok | warning | failed | skipped |
//! |---|---|---|---|---|
//! | `credentials` | the carrier accepted them, and those its calls take where they differ ([`TelephonyProvider::check_call_credentials`]) | those its calls take could not be checked | missing, malformed or refused (a 401 names the settings) | |
//! | `clock` | within [`DoctorOptions::max_clock_skew`] of the carrier's `Date` | more | 5 minutes or more: signed webhooks with a time window fail | the carrier sent no `Date` |
//! | `balance` | at least `--min-balance` | the threshold is in another currency than the balance | below it | no threshold, or no balance API |
//! | `number +1…` | owned, takes voice, points at `--url`, nothing `configure_inbound` would change | the carrier does not say whether it takes voice; another setting `configure_inbound` would change | not owned, no voice, pointing elsewhere, or webhooks sent unsigned while a signature secret is set (Vonage's signed callbacks) | credentials refused |
//! | `url` | https, a public host | | plain http, localhost, a private address | no `--url` |
//! | `certificate` | valid for the host, not expiring within [`DoctorOptions::certificate_days`] | expiring within them | not trusted, expired, another host's, no TLS | no `--url`, or not https |
//! | `webhook` | a signed test request verified at the agent, and the same request unsigned refused | the URL answered, but not as the agent's router | the agent refused the signature, or took the request unsigned as well | no `--url`, no secret, unreachable, or a carrier whose key only it holds |
//!
//! The `webhook` check sends `--url` a POST signed as the carrier signs (its
//! [`WebhookScheme`](crate::WebhookScheme), with [`DoctorOptions::signing_secret`]), a form
//! with `TelephonyDoctor=probe` and a fresh `ProbeId`: not a call. An agent that serves the
//! URL with [`InboundRouter`](crate::InboundRouter) verifies the signature first; one that
//! verifies answers **400 `not an inbound call`** (the body is no call), or 200 where it takes
//! it as a repeat; one that does not answers **403 `invalid signature`**. A 403 therefore says
//! the agent rebuilt a URL other than `--url` (a proxy that does not pass the public host,
//! scheme or path through, see [`PublicUrl`](crate::PublicUrl)), or holds another secret.
//! The same request is then sent without its signature (and with another `ProbeId`): it must
//! be refused (401 or 403), or nothing at the URL checks signatures and anyone can forge the
//! carrier's webhooks.
//!
//! Where no adapter can be made (its settings are missing or malformed),
//! [`run_without_provider`] runs what needs none (the URL and its certificate) and says of
//! every other check why it did not run.
//!
//! ```no_run
//! # async fn f(provider: &dyn telephony::TelephonyProvider) -> Result<(), Box<dyn std::error::Error>> {
//! use telephony::doctor::{self, DoctorOptions, Status};
//!
//! let options = DoctorOptions::new()
//!     .number("+14155550100".parse()?)
//!     .url("https://agent.example.com/voice".parse()?)
//!     .min_balance("5".parse()?);
//! let report = doctor::run(provider, &options).await;
//! for check in &report.checks {
//!     println!("{check}");
//! }
//! assert!(!report.failed() || report.checks.iter().any(|c| c.status == Status::Failed));
//! # Ok(()) }
//! ```

mod account;
mod numbers;
mod probe;
mod tls;
mod webhook_url;

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use telephony_core::{Currency, Decimal, E164, Secret, TelephonyProvider, Url};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Nothing to do.
    Ok,
    /// Works now, but worth acting on.
    Warning,
    /// Broken: calls or webhooks fail because of it.
    Failed,
    /// Could not run; the detail says why.
    Skipped,
}

impl Status {
    /// `ok`, `warning`, `failed` or `skipped`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, not `write_str`: a report's lines align their status column (`{:<8}`).
        f.pad(self.as_str())
    }
}

/// One check's answer: what was found, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Check {
    /// Which check: `credentials`, `clock`, `balance`, `number +14155550100`, `url`,
    /// `certificate`, `webhook`.
    pub name: String,
    /// How it came out.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// What to do, where there is something to do.
    pub advice: Option<String>,
}

impl Check {
    /// A check's answer.
    pub fn new(
        name: impl Into<String>,
        status: Status,
        detail: impl Into<String>,
        advice: Option<String>,
    ) -> Check {
        Check {
            name: name.into(),
            status,
            detail: detail.into(),
            advice,
        }
    }

    pub(crate) fn ok(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check::new(name, Status::Ok, detail, None)
    }

    pub(crate) fn skipped(name: impl Into<String>, why: impl Into<String>) -> Check {
        Check::new(name, Status::Skipped, why, None)
    }

    pub(crate) fn failed(
        name: impl Into<String>,
        detail: impl Into<String>,
        advice: impl Into<String>,
    ) -> Check {
        Check::new(name, Status::Failed, detail, Some(advice.into()))
    }

    pub(crate) fn warning(
        name: impl Into<String>,
        detail: impl Into<String>,
        advice: impl Into<String>,
    ) -> Check {
        Check::new(name, Status::Warning, detail, Some(advice.into()))
    }
}

/// One line: `failed  balance  4.20 USD, below 5 — top up the account`.
impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<8} {:<12} {}", self.status, self.name, self.detail)?;
        if let Some(advice) = &self.advice {
            write!(f, " — {advice}")?;
        }
        Ok(())
    }
}

/// Every check, in the order run. As JSON: `{"checks": [{"name", "status", "detail",
/// "advice"}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// The checks.
    pub checks: Vec<Check>,
}

impl Report {
    /// A report of these checks.
    pub fn new(checks: Vec<Check>) -> Report {
        Report { checks }
    }

    /// Whether any check failed.
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Failed)
    }

    /// The check named `name`.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}

/// What to check beyond the account itself.
#[derive(Clone)]
#[non_exhaustive]
pub struct DoctorOptions {
    /// Numbers that must be owned, take voice calls, and point at [`url`](Self::url).
    pub numbers: Vec<E164>,
    /// The public webhook URL the carrier calls (the agent's inbound route).
    pub url: Option<Url>,
    /// The least balance that passes; none skips the balance check.
    pub min_balance: Option<Decimal>,
    /// The currency [`min_balance`](Self::min_balance) is in; none means the account's.
    pub min_balance_currency: Option<Currency>,
    /// The carrier's webhook signing secret, to sign the test request with (the setting
    /// [`WebhookScheme::secret_setting`](crate::WebhookScheme::secret_setting) names).
    pub signing_secret: Option<Secret>,
    /// The clock difference that still passes (5 s).
    pub max_clock_skew: Duration,
    /// A certificate expiring within this many days is a warning (14).
    pub certificate_days: u32,
    /// Trust anchors besides the webpki roots, as DER: a private CA, or a test's.
    pub extra_roots: Vec<Vec<u8>>,
    /// How long a network step may take (10 s).
    pub timeout: Duration,
}

impl fmt::Debug for DoctorOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DoctorOptions")
            .field("numbers", &self.numbers)
            .field(
                "url",
                &self
                    .url
                    .as_ref()
                    .map(|u| telephony_core::redact_url(u.as_str())),
            )
            .field("min_balance", &self.min_balance)
            .field("min_balance_currency", &self.min_balance_currency)
            .field(
                "signing_secret",
                &self.signing_secret.as_ref().map(|_| "<set>"),
            )
            .field("max_clock_skew", &self.max_clock_skew)
            .field("certificate_days", &self.certificate_days)
            .field("extra_roots", &self.extra_roots.len())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Default for DoctorOptions {
    fn default() -> DoctorOptions {
        DoctorOptions {
            numbers: Vec::new(),
            url: None,
            min_balance: None,
            min_balance_currency: None,
            signing_secret: None,
            max_clock_skew: Duration::from_secs(5),
            certificate_days: 14,
            extra_roots: Vec::new(),
            timeout: Duration::from_secs(10),
        }
    }
}

impl DoctorOptions {
    /// No numbers, no URL, no threshold: the account's own checks.
    pub fn new() -> DoctorOptions {
        DoctorOptions::default()
    }

    /// Checks `number` too.
    pub fn number(mut self, number: E164) -> DoctorOptions {
        self.numbers.push(number);
        self
    }

    /// The public webhook URL.
    pub fn url(mut self, url: Url) -> DoctorOptions {
        self.url = Some(url);
        self
    }

    /// The least balance that passes, in the account's currency.
    pub fn min_balance(mut self, min: Decimal) -> DoctorOptions {
        self.min_balance = Some(min);
        self.min_balance_currency = None;
        self
    }

    /// The least balance that passes, in `currency`: an account that reports another
    /// currency is a warning (the two are not compared), not a pass.
    pub fn min_balance_in(mut self, min: Decimal, currency: Currency) -> DoctorOptions {
        self.min_balance = Some(min);
        self.min_balance_currency = Some(currency);
        self
    }

    /// The webhook signing secret.
    pub fn signing_secret(mut self, secret: Secret) -> DoctorOptions {
        self.signing_secret = Some(secret);
        self
    }

    /// The clock difference that still passes.
    pub fn max_clock_skew(mut self, skew: Duration) -> DoctorOptions {
        self.max_clock_skew = skew;
        self
    }

    /// The days of validity a certificate must have left.
    pub fn certificate_days(mut self, days: u32) -> DoctorOptions {
        self.certificate_days = days;
        self
    }

    /// Trusts `der` (a CA certificate) besides the webpki roots.
    pub fn extra_root(mut self, der: Vec<u8>) -> DoctorOptions {
        self.extra_roots.push(der);
        self
    }

    /// How long a network step may take.
    pub fn timeout(mut self, timeout: Duration) -> DoctorOptions {
        self.timeout = timeout;
        self
    }
}

/// Runs every check against `provider` and returns them all; never fails as a whole (a check
/// that cannot run says why).
pub async fn run(provider: &dyn TelephonyProvider, options: &DoctorOptions) -> Report {
    let mut checks = Vec::new();
    let account = account::credentials(provider, options).await;
    checks.push(account.check.clone());
    checks.push(account::clock(&account, options));
    checks.push(account::balance(provider, options, account.accepted()).await);
    checks.extend(numbers::numbers(provider, options, &account).await);
    let url = webhook_url::check(options).await;
    checks.push(url);
    let certificate = tls::certificate(options).await;
    let certificate_ok = certificate.status != Status::Failed;
    checks.push(certificate);
    checks.push(probe::probe(provider, options, certificate_ok).await);
    Report { checks }
}

/// The report where no adapter could be made: `credentials` failed with `reason` (the
/// settings missing or malformed) and `advice`, the URL and its certificate checked (they need
/// no adapter), and every other check skipped, saying why.
pub async fn run_without_provider(
    reason: impl Into<String>,
    advice: impl Into<String>,
    options: &DoctorOptions,
) -> Report {
    const WHY: &str = "no adapter without its settings (see credentials)";
    let mut checks = vec![
        Check::failed("credentials", reason, advice),
        Check::skipped("clock", WHY),
        Check::skipped("balance", WHY),
    ];
    checks.extend(
        options
            .numbers
            .iter()
            .map(|n| Check::skipped(format!("number {n}"), WHY)),
    );
    checks.push(webhook_url::check(options).await);
    checks.push(tls::certificate(options).await);
    checks.push(Check::skipped("webhook", WHY));
    Report { checks }
}
