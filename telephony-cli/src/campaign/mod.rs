//! `telephony campaign run|status|pause|resume|cancel|results`: outbound campaigns, with
//! telephony-campaign's dialer and store.
//!
//! `run` reads a contacts file, loads it into the store (`sqlite:campaign.db` by default) and
//! dials it: paced to the account's calls per second, retried by outcome, in each contact's
//! calling window, never anyone twice. Each answered call connects to `--stream-url` (or
//! fetches `--answer-url`, where the carrier places calls only that way). The campaign's id
//! (the contacts file's stem unless `--campaign` names it) is its key in the store: the same
//! command run again resumes it, and the other subcommands read or steer it from any shell,
//! while it runs or after.
//!
//! Output of `run`: one line per finished attempt on stdout (unless `--quiet`), then a summary
//! line; on stderr, each contacts row left out (`FILE line N: REASON`), changes of the
//! campaign's state, and progress (one line redrawn in place on a terminal, a line every 2 s
//! otherwise).
//!
//! Exit status: 0 when the campaign finished (or was cancelled); 1 when the dialer or the
//! store failed, or the campaign is not in the store; 2 on a usage error (a flag, the contacts
//! file, a store that does not open, a call option the carrier cannot take); 130 when `run` is
//! interrupted (Ctrl-C): nothing more is dialled, and the same command resumes the campaign.

use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clap::{Args, Subcommand};
use telephony_campaign::store::{from_millis, redact_url};
use telephony_campaign::{
    CallingWindow, CampaignState, CampaignStore, Outcome, Progress, Retry, RetryPolicy, StoreUrl,
    csv,
};

use crate::Failure;
use crate::calls::{json, out};
use crate::provider::{self, CarrierArg};

mod dial;
mod view;

use dial::dial;

/// The store when `--store` is not given.
const DEFAULT_STORE: &str = "sqlite:campaign.db";

/// How often progress is printed when stderr is not a terminal.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// How often the progress line is redrawn on a terminal.
const REDRAW_EVERY: Duration = Duration::from_millis(500);

/// The window the achieved calls per second are measured over.
const RATE_WINDOW: Duration = Duration::from_secs(10);

#[derive(Debug, Subcommand)]
pub(crate) enum CampaignCommand {
    /// Dial every contact of a CSV file, paced, retried, in calling hours; run again to
    /// resume.
    Run(Box<RunArgs>),
    /// Show a campaign's state and counts, from the store.
    Status(StatusArgs),
    /// Pause a campaign for every dialer on the store: nothing new is dialled; calls under way
    /// go on.
    Pause(StoreArgs),
    /// Resume a paused (or cancelled) campaign.
    Resume(StoreArgs),
    /// Cancel a campaign for every dialer: nothing new is dialled, ever (unless resumed);
    /// calls under way go on and are recorded.
    Cancel(StoreArgs),
    /// Write a campaign's results as CSV: one row per contact.
    Results(ResultsArgs),
}

/// Which campaign, in which store.
#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    /// The campaign's id (`run` names it after the contacts file's stem by default).
    #[arg(long, value_name = "ID")]
    campaign: String,
    /// Where campaigns are kept: `sqlite:PATH`, or `redis://HOST:PORT` (plain TCP: reach a remote server over a private network or a TLS tunnel)
    /// to share them between machines.
    #[arg(long, value_name = "STORE", default_value = DEFAULT_STORE)]
    store: String,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    at: StoreArgs,
    /// Print the counts as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ResultsArgs {
    #[command(flatten)]
    at: StoreArgs,
    /// Write the CSV to this file instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "OUT.csv")]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The provider: twilio, plivo, vonage, … (the registry's).
    #[arg(value_parser = provider::parser())]
    provider: CarrierArg,
    /// The contacts: a CSV file with a header row. Its `number` column is dialled; an optional
    /// `timezone` column (IANA) sets the contact's zone; every other column is passed to the
    /// stream as a parameter. Rows that do not read are reported and left out.
    #[arg(long, value_name = "FILE.csv")]
    contacts: PathBuf,
    /// A caller id, a number of the account, E.164. Repeat it: attempts rotate through them.
    #[arg(long, value_name = "E164", required = true)]
    from: Vec<String>,
    /// The media WebSocket each answered call connects to, `wss://…`; the contact's
    /// variables are added to the stream's parameters. This or --answer-url.
    // One of the two is required: checked in `dial`, whose message names both.
    #[arg(long, value_name = "WSS_URL", conflicts_with = "answer_url")]
    stream_url: Option<String>,
    /// Fetch each answered call's instructions from this URL instead (Plivo places calls
    /// only this way); the contact's variables are added to its query. This or --stream-url.
    #[arg(long, value_name = "URL")]
    answer_url: Option<String>,
    /// Calls per second for the account, one budget for every dialer on the store [default:
    /// the carrier's documented rate: Twilio 1, Plivo 2, Vonage 3, Telnyx 1].
    #[arg(long, value_name = "N", value_parser = parse_cps)]
    cps: Option<f64>,
    /// The most calls this dialer has under way at once.
    #[arg(long, value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..))]
    concurrency: u32,
    /// When calls may be placed, in each contact's local time: `HH:MM-HH:MM`, with days if
    /// not every day (`09:00-20:00 mon-fri`, `10:00-12:00 sat,sun`) [default: any time].
    #[arg(long, value_name = "WINDOW", value_parser = parse_window)]
    window: Option<CallingWindow>,
    /// The IANA time zone of contacts without a `timezone` column [default: UTC].
    #[arg(long, value_name = "IANA")]
    zone: Option<String>,
    /// Where the campaign is kept: `sqlite:PATH`, or `redis://HOST:PORT` (plain TCP: reach a remote server over a private network or a TLS tunnel)
    /// to share it between dialers on several machines.
    #[arg(long, value_name = "STORE", default_value = DEFAULT_STORE)]
    store: String,
    /// The campaign's id in the store [default: the contacts file's stem].
    #[arg(long, value_name = "ID")]
    campaign: Option<String>,
    /// Write the results to this CSV file when the campaign ends.
    #[arg(long, value_name = "OUT.csv")]
    results: Option<PathBuf>,
    /// How an outcome is retried: `OUTCOME=ATTEMPTS[/DELAY[xFACTOR]]`, ATTEMPTS in all for
    /// the contact, DELAY after the first (`500ms`, `30s`, `5m`, `1h`), each later wait
    /// multiplied by FACTOR. Without DELAY, the default rule's. Repeat for each outcome:
    /// `--retry busy=3/5m --retry no_answer=2/1hx2 --retry machine=1`. Defaults: busy=3/10m,
    /// no_answer=3/1hx2, failed=2/15m, machine=2/2h; canceled is not retried.
    #[arg(long, value_name = "RULE", value_parser = parse_retry)]
    retry: Vec<(Outcome, Retry)>,
    /// Detect answering machines: a machine is hung up on at once, and its outcome is
    /// `machine` (retried per the `machine` rule).
    #[arg(long)]
    machine_detection: bool,
    /// How long each call rings before it counts as no answer, in seconds.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    ring_timeout: Option<u64>,
    /// Where the carrier posts each call's status changes, for your server. This command
    /// does not receive them: it learns outcomes by polling, and with this set polls as a
    /// safety net only (from --poll-max apart, up to 4 times that), so outcomes come later.
    #[arg(long, value_name = "URL")]
    status_callback: Option<String>,
    /// How long after a call is placed its status is first polled [default: 2s].
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    poll_first: Option<Duration>,
    /// The longest wait between two polls of a call's status [default: 15s].
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    poll_max: Option<Duration>,
    /// This dialer's lease on the contacts it holds: how long after it stops (a crash,
    /// Ctrl-C) they pass to the next run [default: 30s].
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    lease: Option<Duration>,
    /// Another API host: a regional edge, a test server.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Print no line per attempt; only the summary (and progress on stderr).
    #[arg(long, short)]
    quiet: bool,
}

pub(crate) async fn run(cmd: CampaignCommand) -> Result<(), Failure> {
    match cmd {
        CampaignCommand::Run(args) => dial(*args).await,
        CampaignCommand::Status(args) => status(args).await,
        CampaignCommand::Pause(args) => set_state(args, CampaignState::Paused).await,
        CampaignCommand::Resume(args) => set_state(args, CampaignState::Running).await,
        CampaignCommand::Cancel(args) => set_state(args, CampaignState::Cancelled).await,
        CampaignCommand::Results(args) => results(args).await,
    }
}

/// Reads a duration: a number and its unit, `ms`, `s`, `m` or `h` (`500ms`, `2s`, `1.5m`,
/// `1h`).
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("{text:?} has no unit; expected e.g. 500ms, 30s, 5m or 1h"))?;
    let (number, unit) = t.split_at(split);
    let scale = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit {unit:?}; expected ms, s, m or h"
            ));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?}: {number:?} is not a number"))?;
    // A week is the longest any wait here makes sense; far longer is a typo.
    let secs = value * scale;
    if !(secs.is_finite() && secs <= 7.0 * 24.0 * 3600.0) {
        return Err(format!("{text:?}: longer than a week"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A duration that is not zero (a poll interval, a lease).
fn parse_interval(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d < Duration::from_millis(1) {
        return Err(format!("{text:?}: must be at least 1ms"));
    }
    Ok(d)
}

fn parse_cps(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 => Ok(n),
        _ => Err(format!(
            "{text:?}: expected a number of calls per second above 0"
        )),
    }
}

fn parse_window(text: &str) -> Result<CallingWindow, String> {
    text.parse::<CallingWindow>().map_err(|e| e.to_string())
}

/// Reads `OUTCOME=ATTEMPTS[/DELAY[xFACTOR]]`.
pub(crate) fn parse_retry(text: &str) -> Result<(Outcome, Retry), String> {
    let expected = "expected OUTCOME=ATTEMPTS[/DELAY[xFACTOR]], e.g. busy=3/5m or no_answer=2/1hx2";
    let (name, rule) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: {expected}"))?;
    let outcome = Outcome::from_str(name).map_err(|e| e.to_string())?;
    if matches!(
        outcome,
        Outcome::Answered | Outcome::DoNotCall | Outcome::Unconfirmed
    ) {
        return Err(format!("{outcome} is never retried"));
    }
    let (attempts, delay) = match rule.split_once('/') {
        Some((a, d)) => (a, Some(d)),
        None => (rule, None),
    };
    let attempts: u32 = match attempts.trim().parse() {
        Ok(n) if n >= 1 => n,
        _ => {
            return Err(format!(
                "{text:?}: ATTEMPTS is the number of attempts in all, 1 or more; {expected}"
            ));
        }
    };
    let retry = match delay {
        Some(d) => {
            let (delay, factor) = match d.split_once('x') {
                Some((d, f)) => (d, Some(f)),
                None => (d, None),
            };
            let mut retry = Retry::new(attempts, parse_duration(delay)?);
            if let Some(f) = factor {
                match f.trim().parse::<f64>() {
                    Ok(f) if f.is_finite() && f >= 1.0 => retry = retry.backoff(f),
                    _ => {
                        return Err(format!(
                            "{text:?}: FACTOR {f:?} must be a number, 1 or more"
                        ));
                    }
                }
            }
            retry
        }
        None => match RetryPolicy::default().rule(outcome) {
            Some(default) => Retry::new(attempts, default.delay).backoff(default.backoff),
            // Only an outcome retried at most once needs no delay.
            None if attempts == 1 => Retry::never(),
            None => {
                return Err(format!(
                    "{text:?}: {outcome} has no default delay; give one ({outcome}={attempts}/5m)"
                ));
            }
        },
    };
    Ok((outcome, retry))
}

/// The store a flag names, as it may be shown (a Redis password hidden).
fn shown(store: &str) -> String {
    if store.contains("://") && !store.starts_with("sqlite:") {
        redact_url(store)
    } else {
        store.to_owned()
    }
}

fn store_url(store: &str) -> Result<StoreUrl, Failure> {
    // The library's reason shows the URL with its password hidden.
    store
        .parse::<StoreUrl>()
        .map_err(|e| Failure::Usage(format!("--store: {e}")))
}

async fn open(url: &StoreUrl) -> Result<Arc<dyn CampaignStore>, Failure> {
    url.open()
        .await
        .map_err(|e| Failure::Usage(format!("--store: {e}")))
}

/// Opens the store for a command about a campaign it must already hold: a SQLite file that is
/// not there is not created.
async fn open_existing(at: &StoreArgs) -> Result<Arc<dyn CampaignStore>, Failure> {
    let url = store_url(&at.store)?;
    if let StoreUrl::Sqlite(path) = &url
        && !path.exists()
    {
        return Err(Failure::No(format!(
            "no campaign {:?}: there is no store at {} (no such file)",
            at.campaign,
            path.display()
        )));
    }
    open(&url).await
}

fn unknown(at: &StoreArgs) -> Failure {
    Failure::No(format!(
        "no campaign {:?} in {}",
        at.campaign,
        shown(&at.store)
    ))
}

fn store_failed(e: impl std::fmt::Display) -> Failure {
    Failure::No(e.to_string())
}

async fn status(args: StatusArgs) -> Result<(), Failure> {
    let store = open_existing(&args.at).await?;
    let progress = store
        .progress(&args.at.campaign)
        .await
        .map_err(store_failed)?;
    let Some(state) = progress.state else {
        return Err(unknown(&args.at));
    };
    if args.json {
        return json(&progress);
    }
    out(format!(
        "{} {state}: done {}/{}  pending {}  retrying {}  in progress {}  dialled {}",
        args.at.campaign,
        progress.done,
        progress.total,
        progress.pending,
        progress.retrying,
        progress.in_progress,
        progress.dialled
    ));
    if !progress.outcomes.is_empty() {
        out(format!("outcomes: {}", outcome_counts(&progress)));
    }
    if let Some(due) = progress.next_due_ms {
        out(format!("next due {}", timestamp(from_millis(due))));
    }
    Ok(())
}

async fn set_state(args: StoreArgs, state: CampaignState) -> Result<(), Failure> {
    let store = open_existing(&args).await?;
    if !store
        .set_state(&args.campaign, state)
        .await
        .map_err(store_failed)?
    {
        return Err(unknown(&args));
    }
    out(state);
    Ok(())
}

async fn results(args: ResultsArgs) -> Result<(), Failure> {
    let store = open_existing(&args.at).await?;
    if store
        .state(&args.at.campaign)
        .await
        .map_err(store_failed)?
        .is_none()
    {
        return Err(unknown(&args.at));
    }
    let rows = store
        .results(&args.at.campaign)
        .await
        .map_err(store_failed)?;
    match &args.output {
        Some(path) => write_results_file(path, &rows),
        None => csv::write_results(std::io::stdout().lock(), &rows)
            .map_err(|e| Failure::No(format!("writing the results: {e}"))),
    }
}

fn write_results_file(
    path: &Path,
    rows: &[telephony_campaign::store::ContactResult],
) -> Result<(), Failure> {
    let file = std::fs::File::create(path)
        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    csv::write_results(std::io::BufWriter::new(file), rows)
        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))
}

/// `answered 5, busy 2, no_answer 1`, in the outcomes' order.
fn outcome_counts(p: &Progress) -> String {
    let parts: Vec<String> = p
        .outcomes
        .iter()
        .map(|(outcome, n)| format!("{outcome} {n}"))
        .collect();
    parts.join(", ")
}

/// A time in UTC, to the second: `2026-12-03T18:05:00Z`.
fn timestamp(at: SystemTime) -> String {
    let t = time::OffsetDateTime::from(at);
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "?".into())
}

/// One line, whatever `text` holds.
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::dial::human;
    use super::*;

    #[test]
    fn durations_read_with_their_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5m"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        for bad in [
            "", "5", "5y", "-1s", "s", "1..2s", "9999999h", "1e3s", "NaNs",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_interval("0ms").is_err());
        assert_eq!(human(Duration::from_secs(30)), "30s");
        assert_eq!(human(Duration::from_millis(1500)), "1500ms");
        assert_eq!(human(Duration::from_secs(300)), "5m");
    }

    #[test]
    fn retry_rules_read() {
        let (o, r) = parse_retry("busy=3/5m").unwrap();
        assert_eq!(o, Outcome::Busy);
        assert_eq!(
            (r.max_attempts, r.delay, r.backoff),
            (3, Duration::from_secs(300), 1.0)
        );
        let (o, r) = parse_retry("no_answer=2/1hx2").unwrap();
        assert_eq!(o, Outcome::NoAnswer);
        assert_eq!(
            (r.max_attempts, r.delay, r.backoff),
            (2, Duration::from_secs(3600), 2.0)
        );
        let (o, r) = parse_retry("machine=1").unwrap();
        assert_eq!((o, r.max_attempts), (Outcome::Machine, 1));
        // Without a delay, the default rule's.
        let (_, r) = parse_retry("no-answer=5").unwrap();
        assert_eq!(
            (r.max_attempts, r.delay, r.backoff),
            (5, Duration::from_secs(3600), 2.0)
        );
        assert_eq!(parse_retry("canceled=1").unwrap().1.max_attempts, 1);
        for bad in [
            "busy",
            "busy=0",
            "busy=x",
            "busy=2/5y",
            "busy=2/5mx0.5",
            "busy=2/5mxz",
            "sometimes=2/1m",
            "answered=2/1m",
            "canceled=2",
        ] {
            assert!(parse_retry(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redis_passwords_are_not_shown() {
        let s = shown("redis://:hunter2@cache.internal:6379");
        assert!(!s.contains("hunter2"), "{s}");
        assert_eq!(shown("sqlite:campaign.db"), "sqlite:campaign.db");
    }
}
