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

use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clap::{Args, Subcommand};
use telephony::{MachineDetection, StreamSpec};
use telephony_campaign::store::{from_millis, redact_url};
use telephony_campaign::{
    CallingWindow, Campaign, CampaignState, CampaignStore, Dialer, DialerError, DialerEvent,
    OnMachine, Outcome, Polling, Progress, Retry, RetryPolicy, RunningCampaign, StoreUrl, csv,
};

use crate::calls::{json, out, parse_number};
use crate::provider::{self, CarrierArg};
use crate::{Failure, parse_url};

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

/// The contacts file's rows, each left-out row reported on stderr.
fn read_contacts(path: &Path) -> Result<Vec<telephony_campaign::Contact>, Failure> {
    let name = path.display();
    let file = std::fs::File::open(path).map_err(|e| Failure::Usage(format!("{name}: {e}")))?;
    let read = csv::read_contacts(std::io::BufReader::new(file))
        .map_err(|e| Failure::Usage(format!("{name}: {e}")))?;
    for row in &read.errors {
        eprintln!("{name} line {}: {}", row.line, one_line(&row.reason));
    }
    if read.contacts.is_empty() {
        return Err(Failure::Usage(format!(
            "{name}: no contact to call ({} row(s) left out)",
            read.errors.len()
        )));
    }
    Ok(read.contacts)
}

/// The campaign the flags describe, with its contacts.
fn campaign(args: &RunArgs, id: String) -> Result<Campaign, Failure> {
    let c = match (&args.stream_url, &args.answer_url) {
        (Some(s), _) => Campaign::new(id, StreamSpec::new(parse_url("--stream-url", s)?)),
        (None, Some(u)) => Campaign::answer_url(id, parse_url("--answer-url", u)?),
        (None, None) => {
            return Err(Failure::Usage(
                "no instructions for the answered calls: give --stream-url WSS_URL or \
                 --answer-url URL"
                    .into(),
            ));
        }
    };
    let contacts = read_contacts(&args.contacts)?;
    let mut policy = RetryPolicy::default();
    for (outcome, retry) in &args.retry {
        policy = policy.on(*outcome, *retry);
    }
    let concurrency = usize::try_from(args.concurrency).unwrap_or(usize::MAX);
    let mut c = c.contacts(contacts).concurrency(concurrency).retry(policy);
    for from in &args.from {
        c = c.from(parse_number("--from", from)?);
    }
    if let Some(cps) = args.cps {
        c = c.calls_per_second(cps);
    }
    if let Some(window) = &args.window {
        c = c.window(window.clone());
    }
    if let Some(zone) = &args.zone {
        c = c
            .default_zone(zone)
            .map_err(|e| Failure::Usage(format!("--zone: {e}")))?;
    }
    if args.machine_detection {
        c = c.machine_detection(MachineDetection::Detect, OnMachine::HangUp);
    }
    if let Some(secs) = args.ring_timeout {
        c = c.ring_timeout(Duration::from_secs(secs));
    }
    if let Some(url) = &args.status_callback {
        c = c.status_callback(parse_url("--status-callback", url)?);
    }
    if args.poll_first.is_some() || args.poll_max.is_some() {
        let d = Polling::default();
        let first = args.poll_first.unwrap_or(d.first);
        let max = args.poll_max.unwrap_or(d.max);
        c = c.polling(Polling::new(first, max));
    }
    if let Some(lease) = args.lease {
        c = c.lease(lease);
    }
    Ok(c)
}

/// The campaign's id: `--campaign`, or the contacts file's stem.
fn campaign_id(args: &RunArgs) -> Result<String, Failure> {
    if let Some(id) = &args.campaign {
        return Ok(id.clone());
    }
    args.contacts
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Failure::Usage(format!(
                "{}: no file name to name the campaign after; give --campaign ID",
                args.contacts.display()
            ))
        })
}

/// The flags that name the campaign and its store, for the commands a message suggests.
fn naming(id: &str, store: &str) -> String {
    if store == DEFAULT_STORE {
        format!("--campaign {id}")
    } else {
        format!("--campaign {id} --store {}", shown(store))
    }
}

async fn dial(args: RunArgs) -> Result<(), Failure> {
    let id = campaign_id(&args)?;
    let url = store_url(&args.store)?;
    let campaign = campaign(&args, id.clone())?;
    let provider = provider::from_env(args.provider, args.base_url.as_deref())?;
    // Say which flag the carrier takes, before any contact is claimed.
    let can = provider.capabilities();
    let name = provider.kind().name();
    if args.stream_url.is_some() && !can.inline_stream_on_create {
        return Err(Failure::Usage(format!(
            "--stream-url: {name} cannot connect a call straight to a stream when placing it; \
             give --answer-url URL, whose answer connects the stream"
        )));
    }
    if args.answer_url.is_some() && !can.answer_url {
        return Err(Failure::Usage(format!(
            "--answer-url: {name} fetches no answer URL when a call is answered; give \
             --stream-url WSS_URL, the stream the answered call connects to"
        )));
    }
    let store = open(&url).await?;
    let names = naming(&id, &args.store);
    if store.state(&id).await.map_err(store_failed)? == Some(CampaignState::Cancelled) {
        eprintln!(
            "campaign {id} was cancelled: nothing is dialled until `telephony campaign resume {names}`"
        );
    }
    let mut running = Dialer::new(provider, store)
        .start(campaign)
        .await
        .map_err(|e| match e {
            DialerError::Store(e) => store_failed(e),
            other => Failure::Usage(other.to_string()),
        })?;
    let mut view = View::new(args.quiet, &id, &names);
    if follow(&mut running, &mut view).await == Stop::Interrupted {
        // Dropping the running campaign stops it: nothing new is dialled. Calls under way go
        // on at the carrier; the next run settles them from their ids once this run's lease on
        // them has run out.
        drop(running);
        view.clear();
        let lease = args.lease.unwrap_or(Duration::from_secs(30));
        return Err(Failure::Interrupted(format!(
            "interrupted: nothing more is dialled. The store keeps the campaign: run the same \
             command again to resume it (calls under way are settled then, once this run's {} \
             lease on them has run out)",
            human(lease)
        )));
    }
    let finished = running.finished().await;
    view.clear();
    let progress = match finished {
        Ok(p) => p,
        Err(e) => {
            if let Some(path) = &args.results
                && let Ok(rows) = running.results().await
            {
                let _ = write_results_file(path, &rows);
            }
            return Err(Failure::No(format!(
                "the dialer failed: {}",
                one_line(&e.to_string())
            )));
        }
    };
    if let Some(path) = &args.results {
        let rows = running.results().await.map_err(store_failed)?;
        write_results_file(path, &rows)?;
    }
    let cancelled = progress.state == Some(CampaignState::Cancelled);
    let mut summary = format!(
        "campaign {id} {}: done {}/{}, {} attempt(s)",
        if cancelled { "cancelled" } else { "finished" },
        progress.done,
        progress.total,
        progress.dialled
    );
    if !progress.outcomes.is_empty() {
        let _ = write!(summary, "; {}", outcome_counts(&progress));
    }
    out(summary);
    if cancelled {
        eprintln!(
            "campaign {id} was cancelled (`telephony campaign cancel`): {} contact(s) not \
             called; `telephony campaign resume {names}`, then this command, calls them",
            progress.total - progress.done
        );
    }
    Ok(())
}

/// `30s`, `1.5s`, `5m`: a duration as the flags write it.
fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(3_600_000) && ms > 0 {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) && ms > 0 {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Why [`follow`] returned.
#[derive(Debug, PartialEq, Eq)]
enum Stop {
    /// This dialer stopped: the campaign finished or was cancelled, or the dialer failed.
    Stopped,
    /// Ctrl-C.
    Interrupted,
}

/// Prints the campaign's events and progress until this dialer stops or Ctrl-C.
async fn follow(running: &mut RunningCampaign, view: &mut View) -> Stop {
    let period = if view.tty {
        REDRAW_EVERY
    } else {
        PROGRESS_EVERY
    };
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            event = running.next_event() => match event {
                Some(DialerEvent::Finished(_)) | None => return Stop::Stopped,
                Some(event) => view.event(event),
            },
            _ = ticker.tick() => {
                // A store that fails now says so in a StoreError event.
                if let Ok(p) = running.progress().await {
                    view.progress(&p, running.calls_per_second(RATE_WINDOW));
                }
            }
            // A handler that could not be installed disables this branch.
            Ok(()) = &mut ctrl_c => return Stop::Interrupted,
        }
    }
}

/// What `run` prints as the campaign goes.
struct View {
    quiet: bool,
    tty: bool,
    /// A progress line is on the terminal, to clear before anything else is printed.
    drawn: bool,
    /// The campaign's state as the dialer last reported it.
    state: Option<CampaignState>,
    id: String,
    names: String,
}

impl View {
    fn new(quiet: bool, id: &str, names: &str) -> View {
        View {
            quiet,
            tty: std::io::stderr().is_terminal(),
            drawn: false,
            state: None,
            id: id.to_owned(),
            names: names.to_owned(),
        }
    }

    /// Takes the progress line off the terminal.
    fn clear(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.drawn = false;
        }
    }

    fn event(&mut self, event: DialerEvent) {
        match event {
            DialerEvent::Ended {
                number,
                result,
                retry_at,
            } => {
                if self.quiet {
                    return;
                }
                let mut line = format!("{number} {} attempt {}", result.outcome, result.attempts);
                match (&result.call_id, result.duration_secs) {
                    (Some(id), Some(secs)) => {
                        let _ = write!(line, " ({id}, {secs} s)");
                    }
                    (Some(id), None) => {
                        let _ = write!(line, " ({id})");
                    }
                    (None, _) => {}
                }
                if let Some(detail) = &result.detail {
                    let _ = write!(line, ": {}", one_line(detail));
                }
                if let Some(at) = retry_at {
                    let _ = write!(line, ", retry at {}", timestamp(at));
                }
                self.clear();
                out(line);
            }
            DialerEvent::State(state) => {
                let before = self.state.replace(state);
                let note = match state {
                    CampaignState::Paused => format!(
                        "campaign {} is paused: waiting for `telephony campaign resume {}`",
                        self.id, self.names
                    ),
                    CampaignState::Cancelled => format!(
                        "campaign {} is cancelled: calls under way end, then this stops",
                        self.id
                    ),
                    // Running from the start goes without saying.
                    CampaignState::Running if before.is_none() => return,
                    CampaignState::Running => format!("campaign {} is running again", self.id),
                };
                self.clear();
                eprintln!("{note}");
            }
            DialerEvent::StoreError(e) => {
                self.clear();
                eprintln!("telephony: {} (trying again)", one_line(&e));
            }
            DialerEvent::Reconciling { number, attempt } => {
                self.clear();
                eprintln!(
                    "{number}: attempt {} was left under way by a dialer that stopped; settling \
                     it from the carrier, not dialling again",
                    attempt.number
                );
            }
            // Dialing, Placed and Deferred show in the counts.
            _ => {}
        }
    }

    fn progress(&mut self, p: &Progress, cps: f64) {
        let mut line = String::new();
        if let Some(state) = p.state.filter(|s| *s != CampaignState::Running) {
            let _ = write!(line, "{state}  ");
        }
        let _ = write!(
            line,
            "dialled {}  in progress {}  retrying {}  done {}/{}  {cps:.1} calls/s",
            p.dialled, p.in_progress, p.retrying, p.done, p.total
        );
        // Nothing under way, and the next contact not due yet: a retry's delay, or a calling
        // window that is closed.
        if p.in_progress == 0
            && let Some(due) = p.next_due_ms.map(from_millis)
            && due > SystemTime::now() + Duration::from_secs(1)
        {
            let _ = write!(line, "  next call at {}", timestamp(due));
        }
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[K{line}");
            let _ = err.flush();
            self.drawn = true;
        } else {
            let _ = writeln!(err, "{line}");
        }
    }
}

#[cfg(test)]
mod tests {
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
