//! `telephony`: the telephony-rs library at a terminal.
//!
//! Exit status: 0 on success; 1 when the answer is "no" (an invalid signature) or the provider
//! refused; 2 on a usage or configuration error; 130 when `campaign run` is interrupted
//! (Ctrl-C). A one-line reason on stderr, except for `webhook verify`, whose verdict
//! (`invalid: REASON`) is its output, on stdout alone.

mod alloc;
mod audio;
mod bench;
mod calls;
mod campaign;
mod control;
mod doctor;
mod provider;
mod webhook;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use telephony::Url;

/// telephony-rs at a terminal: audio conversion, webhook signatures, answer documents,
/// calls and outbound campaigns, for Twilio, Plivo and Vonage. Credentials come from the
/// environment: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN (or TWILIO_API_KEY_SID and
/// TWILIO_API_KEY_SECRET); PLIVO_AUTH_ID, PLIVO_AUTH_TOKEN, PLIVO_APP_ID;
/// VONAGE_APPLICATION_ID, VONAGE_PRIVATE_KEY_PATH, VONAGE_API_KEY, VONAGE_API_SECRET,
/// VONAGE_SIGNATURE_SECRET.
#[derive(Debug, Parser)]
#[command(name = "telephony", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Telephony audio: G.711, L16, resampling, as on a call's media path.
    #[command(subcommand)]
    Audio(audio::AudioCommand),
    /// Webhook signatures: check a request as received, or sign one as the provider would.
    #[command(subcommand)]
    Webhook(webhook::WebhookCommand),
    /// Print the answer document that connects a call to a bidirectional media stream.
    Markup(calls::MarkupArgs),
    /// Place an outbound call.
    Call(calls::CallArgs),
    /// Show a call as the provider sees it now.
    Status(calls::CallIdArgs),
    /// End a call (an already ended call is success).
    Hangup(calls::CallIdArgs),
    /// Show what a call cost.
    Cost(calls::CallIdArgs),
    /// Show the account's balance, an exact decimal in its currency.
    Balance(calls::BalanceArgs),
    /// List the account's numbers.
    Numbers(calls::NumbersArgs),
    /// Point a number's inbound calls at a URL, reporting what was there before.
    Inbound(calls::InboundArgs),
    /// Transfer a live call to a person: cold, or warm with a brief first.
    Transfer(control::TransferArgs),
    /// Start or stop recording a live call.
    #[command(subcommand)]
    Record(control::RecordCommand),
    /// A recording: download it with the carrier's auth, or delete it.
    #[command(subcommand)]
    Recording(control::RecordingCommand),
    /// Press keys on a live call, through the carrier's API.
    Dtmf(control::DtmfArgs),
    /// Measure the media path: simulated calls in-process, no sockets.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Outbound campaigns: dial a contacts file at the carrier's pace, with retries and calling
    /// hours, and steer it (status, pause, resume, cancel, results) from any shell.
    #[command(subcommand)]
    Campaign(campaign::CampaignCommand),
    /// Check a set-up: credentials, clock, balance, numbers, the webhook URL and its
    /// certificate, a signed test request. Exit 0 when no check failed, 1 when one did.
    Doctor(doctor::DoctorArgs),
}

/// Why a command failed, and the exit status that says so.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Usage, configuration or local I/O: exit 2.
    Usage(String),
    /// The answer is no, or the provider refused: exit 1.
    No(String),
    /// The answer is no, and stdout already says why (`webhook verify`'s verdict): exit 1,
    /// nothing more on stderr.
    Verdict,
    /// Interrupted (Ctrl-C), with what to do next: exit 130.
    Interrupted(String),
}

impl Failure {
    fn exit(self) -> ExitCode {
        let (line, code) = match self {
            Failure::Usage(reason) => (reason, 2),
            Failure::No(reason) => (reason, 1),
            Failure::Interrupted(reason) => (reason, 130),
            Failure::Verdict => return ExitCode::from(1),
        };
        // One line, whatever the message holds.
        let line = line.replace(['\n', '\r'], " ");
        eprintln!("telephony: {line}");
        ExitCode::from(code)
    }
}

impl From<telephony::Error> for Failure {
    fn from(e: telephony::Error) -> Failure {
        if e.is_config() || e.is_auth() {
            Failure::Usage(e.to_string())
        } else {
            Failure::No(e.to_string())
        }
    }
}

/// Reads the URL given to `flag`: absolute, with a host. Anything else is a usage error that
/// says what was expected (`--url "foo": not an absolute URL; expected https://host/path`),
/// never the parser's "relative URL without a base".
pub(crate) fn parse_url(flag: &str, text: &str) -> Result<Url, Failure> {
    let expected = if flag == "--stream-url" {
        "wss://host/path"
    } else {
        "https://host/path"
    };
    // `SCHEME://` in front: whatever else is wrong, the parser's reason says it (a bad port,
    // an empty host); without it the text is not an absolute URL.
    let has_scheme = text.split_once("://").is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    match Url::parse(text) {
        // `example.com:8080/x` parses, as a URL of scheme `example.com` without a host.
        Ok(url) if url.has_host() => Ok(url),
        Err(e) if has_scheme => Err(Failure::Usage(format!("{flag} {text:?}: {e}"))),
        _ => Err(Failure::Usage(format!(
            "{flag} {text:?}: not an absolute URL; expected {expected}"
        ))),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let result = match cli.command {
        Command::Audio(cmd) => audio::run(cmd),
        Command::Webhook(cmd) => webhook::run(cmd),
        Command::Markup(args) => calls::markup(&args),
        Command::Call(args) => calls::block_on(calls::call(args)),
        Command::Status(args) => calls::block_on(calls::status(args)),
        Command::Hangup(args) => calls::block_on(calls::hangup(args)),
        Command::Cost(args) => calls::block_on(calls::cost(args)),
        Command::Balance(args) => calls::block_on(calls::balance(args)),
        Command::Numbers(args) => calls::block_on(calls::numbers(args)),
        Command::Inbound(args) => calls::block_on(calls::inbound(args)),
        Command::Transfer(args) => calls::block_on(control::transfer(args)),
        Command::Record(cmd) => calls::block_on(control::record(cmd)),
        Command::Recording(cmd) => calls::block_on(control::recording(cmd)),
        Command::Dtmf(args) => calls::block_on(control::dtmf(args)),
        Command::Bench(cmd) => bench::run(cmd),
        Command::Campaign(cmd) => calls::block_on(campaign::run(cmd)),
        Command::Doctor(args) => calls::block_on(doctor::doctor(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.exit(),
    }
}

/// Help and version go to stdout with status 0; anything else clap rejects becomes one line on
/// stderr and status 2.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::from(2)
        }
        _ => {
            // clap explains over several lines, then prints usage: keep the explanation, on one.
            let text = e.render().to_string();
            let reason: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .filter(|l| !l.is_empty())
                .collect();
            let line = reason.join(" ");
            let line = line.trim_start_matches("error: ");
            Failure::Usage(format!("{line} (see --help)")).exit()
        }
    }
}
