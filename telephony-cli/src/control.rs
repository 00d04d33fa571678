//! `telephony transfer|record|recording|dtmf`: call control on a live call.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use telephony::{
    Brief, CallId, Dtmf, NoAnswer, RecordingChannels, RecordingFormat, RecordingId,
    RecordingOptions, SipTarget, Transfer, TransferTarget,
};
use tokio::io::AsyncWrite;

use crate::calls::{json, out, parse_number};
use crate::provider::{self, CarrierArg};
use crate::{Failure, parse_url};

/// The arguments every call-control command shares.
#[derive(Debug, Args)]
pub(crate) struct Common {
    /// Another API host: a regional edge, a test server.
    #[arg(long, value_name = "URL", global = true)]
    base_url: Option<String>,
    /// Print the result as JSON.
    #[arg(long, global = true)]
    json: bool,
}

fn call_id(id: &str) -> Result<CallId, Failure> {
    CallId::new(id).map_err(|e| Failure::Usage(e.to_string()))
}

fn recording_id(id: &str) -> Result<RecordingId, Failure> {
    RecordingId::new(id).map_err(|e| Failure::Usage(e.to_string()))
}

fn usage(e: telephony::Error) -> Failure {
    Failure::Usage(e.to_string())
}

#[derive(Debug, Args)]
pub(crate) struct TransferArgs {
    /// The provider: twilio, plivo, vonage, … (the registry's).
    #[arg(value_parser = provider::parser())]
    provider: CarrierArg,
    /// The live call to transfer.
    call_id: String,
    /// Where to: an E.164 number or a SIP URI (`sip:desk@pbx.example.com`).
    #[arg(long, value_name = "E164|SIP_URI")]
    to: String,
    /// A header for a SIP target, `NAME=VALUE` (sent as `X-NAME`); repeat for each.
    #[arg(long = "header", value_name = "NAME=VALUE")]
    headers: Vec<String>,
    /// Warm: dial the target on a new leg, brief it, then move the caller to it; the caller
    /// stays with the agent until then, and if the target does not answer.
    #[arg(long)]
    warm: bool,
    /// What the target hears first (warm), spoken.
    #[arg(
        long,
        value_name = "TEXT",
        requires = "warm",
        conflicts_with = "brief_url"
    )]
    brief: Option<String>,
    /// What the target hears first (warm), an audio file's URL.
    #[arg(long, value_name = "URL", requires = "warm")]
    brief_url: Option<String>,
    /// What the caller hears while being connected (warm), an audio file's URL.
    #[arg(long, value_name = "URL", requires = "warm")]
    hold_url: Option<String>,
    /// The caller id the target sees, E.164.
    #[arg(long, value_name = "E164")]
    caller_id: Option<String>,
    /// How long the target may ring, in seconds.
    #[arg(long, value_name = "S")]
    timeout: Option<u64>,
    /// Where the transfer's callbacks go (the agent's status URL). Required for --warm.
    #[arg(long, value_name = "URL")]
    events: Option<String>,
    /// Cold: what the caller hears when the target is not reached, before the call ends.
    #[arg(long, value_name = "TEXT", conflicts_with = "warm")]
    fallback: Option<String>,
    #[command(flatten)]
    common: Common,
}

fn target(args: &TransferArgs) -> Result<TransferTarget, Failure> {
    let to = args.to.trim();
    if telephony::control::is_sip(to) {
        let mut sip = SipTarget::new(to).map_err(|e| Failure::Usage(format!("--to: {e}")))?;
        for h in &args.headers {
            let (k, v) = h
                .split_once('=')
                .ok_or_else(|| Failure::Usage(format!("--header {h:?}: expected NAME=VALUE")))?;
            sip = sip
                .header(k, v)
                .map_err(|e| Failure::Usage(format!("--header: {e}")))?;
        }
        return Ok(sip.into());
    }
    if !args.headers.is_empty() {
        return Err(Failure::Usage(
            "--header: headers go with a SIP target (--to sip:…)".into(),
        ));
    }
    Ok(parse_number("--to", to)?.into())
}

pub(crate) async fn transfer(args: TransferArgs) -> Result<(), Failure> {
    let id = call_id(&args.call_id)?;
    let target = target(&args)?;
    let mut t = if args.warm {
        let brief = match (&args.brief, &args.brief_url) {
            (Some(text), _) => Some(Brief::Say(text.clone())),
            (None, Some(u)) => Some(Brief::Play(parse_url("--brief-url", u)?)),
            (None, None) => None,
        };
        let mut t = Transfer::warm(target, brief);
        if let Some(h) = &args.hold_url {
            t = t.hold(parse_url("--hold-url", h)?);
        }
        t
    } else {
        Transfer::cold(target)
    };
    if let Some(n) = &args.caller_id {
        t = t.caller_id(parse_number("--caller-id", n)?);
    }
    if let Some(s) = args.timeout {
        t = t.timeout(Duration::from_secs(s));
    }
    if let Some(u) = &args.events {
        t = t.events(parse_url("--events", u)?);
    }
    if let Some(text) = &args.fallback {
        t = t.on_no_answer(NoAnswer::SayAndHangup(text.clone()));
    }
    if args.warm && args.events.is_none() {
        return Err(Failure::Usage(
            "--warm needs --events URL: the agent's status URL, where the transfer's next \
             steps are taken"
                .into(),
        ));
    }
    t.check().map_err(usage)?;
    let provider = provider::from_env(args.provider, args.common.base_url.as_deref())?;
    let started = provider.transfer(&id, &t).await.map_err(refusal)?;
    if args.common.json {
        return json(&started);
    }
    match &started.target_call {
        Some(leg) => out(format!("{} (target leg {leg})", started.transfer_id)),
        None => out(&started.transfer_id),
    }
    Ok(())
}

/// A carrier's refusal of what it cannot do is a usage error (exit 2): nothing was sent.
fn refusal(e: telephony::Error) -> Failure {
    match e {
        telephony::Error::Unsupported { .. } | telephony::Error::InvalidRequest(_) => {
            Failure::Usage(e.to_string())
        }
        e => e.into(),
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum RecordCommand {
    /// Start recording a live call.
    Start(RecordStartArgs),
    /// Stop a call's recording.
    Stop(RecordStopArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RecordStartArgs {
    /// The provider.
    #[arg(value_parser = provider::parser())]
    provider: CarrierArg,
    /// The live call.
    call_id: String,
    /// One channel per party.
    #[arg(long)]
    dual: bool,
    /// The file format, where the carrier offers a choice: wav, mp3.
    #[arg(long, value_name = "FORMAT")]
    format: Option<String>,
    /// Where the carrier announces the finished recording.
    #[arg(long, value_name = "URL")]
    callback: Option<String>,
    /// The longest recording, in seconds.
    #[arg(long, value_name = "S")]
    max_length: Option<u64>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub(crate) struct RecordStopArgs {
    /// The provider.
    #[arg(value_parser = provider::parser())]
    provider: CarrierArg,
    /// The live call.
    call_id: String,
    /// The recording to stop (every one of the call's when not given).
    #[arg(long, value_name = "ID")]
    recording: Option<String>,
    #[command(flatten)]
    common: Common,
}

pub(crate) async fn record(cmd: RecordCommand) -> Result<(), Failure> {
    match cmd {
        RecordCommand::Start(args) => {
            let id = call_id(&args.call_id)?;
            let mut options = RecordingOptions::new();
            if args.dual {
                options = options.channels(RecordingChannels::Dual);
            }
            if let Some(f) = &args.format {
                let format = RecordingFormat::from_name(f).ok_or_else(|| {
                    Failure::Usage(format!("--format {f:?}: expected wav or mp3"))
                })?;
                options = options.format(format);
            }
            if let Some(u) = &args.callback {
                options = options.callback(parse_url("--callback", u)?);
            }
            if let Some(s) = args.max_length {
                options = options.max_length(Duration::from_secs(s));
            }
            let provider = provider::from_env(args.provider, args.common.base_url.as_deref())?;
            let started = provider
                .start_recording(&id, &options)
                .await
                .map_err(refusal)?;
            if args.common.json {
                return json(&started);
            }
            match &started.recording_id {
                Some(r) => out(format!("recording {r}")),
                None => out("recording"),
            }
            Ok(())
        }
        RecordCommand::Stop(args) => {
            let id = call_id(&args.call_id)?;
            let recording = args.recording.as_deref().map(recording_id).transpose()?;
            let provider = provider::from_env(args.provider, args.common.base_url.as_deref())?;
            provider
                .stop_recording(&id, recording.as_ref())
                .await
                .map_err(refusal)?;
            if args.common.json {
                return json(&serde_json::json!({"stopped": true}));
            }
            out("stopped");
            Ok(())
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum RecordingCommand {
    /// Download a recording with the carrier's auth.
    Get(RecordingGetArgs),
    /// Delete a recording.
    Delete(RecordingIdArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RecordingGetArgs {
    /// The provider.
    #[arg(value_parser = provider::parser())]
    provider: CarrierArg,
    /// The recording.
    recording_id: String,
    /// Where to write it (`-` for stdout). The file appears only once the download is whole.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub(crate) struct RecordingIdArgs {
    /// The provider.
    #[arg(value_parser = provider::parser())]
    provider: CarrierArg,
    /// The recording.
    recording_id: String,
    #[command(flatten)]
    common: Common,
}

pub(crate) async fn recording(cmd: RecordingCommand) -> Result<(), Failure> {
    match cmd {
        RecordingCommand::Get(args) => {
            let id = recording_id(&args.recording_id)?;
            let provider = provider::from_env(args.provider, args.common.base_url.as_deref())?;
            let bytes = if args.output == Path::new("-") {
                let mut stdout = Progress::new(tokio::io::stdout(), false);
                provider
                    .download_recording(&id, &mut stdout)
                    .await
                    .map_err(refusal)?
            } else {
                download_to_file(provider.as_ref(), &id, &args.output).await?
            };
            if args.common.json {
                return json(&serde_json::json!({
                    "recording_id": id,
                    "bytes": bytes,
                    "output": args.output,
                }));
            }
            if args.output != Path::new("-") {
                out(format!("{bytes} bytes to {}", args.output.display()));
            }
            Ok(())
        }
        RecordingCommand::Delete(args) => {
            let id = recording_id(&args.recording_id)?;
            let provider = provider::from_env(args.provider, args.common.base_url.as_deref())?;
            provider.delete_recording(&id).await.map_err(refusal)?;
            if args.common.json {
                return json(&serde_json::json!({"deleted": id}));
            }
            out("deleted");
            Ok(())
        }
    }
}

/// Downloads into `FILE.part` next to `path`, then renames it: a download cut short never
/// leaves a file that looks whole.
async fn download_to_file(
    provider: &dyn telephony::TelephonyProvider,
    id: &RecordingId,
    path: &Path,
) -> Result<u64, Failure> {
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    let part = PathBuf::from(part);
    let file = tokio::fs::File::create(&part)
        .await
        .map_err(|e| Failure::Usage(format!("{}: {e}", part.display())))?;
    let mut writer = Progress::new(file, std::io::stderr().is_terminal());
    let result = provider.download_recording(id, &mut writer).await;
    writer.done();
    match result {
        Ok(bytes) => {
            tokio::fs::rename(&part, path)
                .await
                .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
            Ok(bytes)
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&part).await;
            Err(refusal(e))
        }
    }
}

/// A writer that shows, on a terminal's stderr, how much has arrived and how fast.
struct Progress<W> {
    inner: W,
    show: bool,
    written: u64,
    started: Instant,
    shown: Option<Instant>,
}

impl<W> Progress<W> {
    fn new(inner: W, show: bool) -> Progress<W> {
        Progress {
            inner,
            show,
            written: 0,
            started: Instant::now(),
            shown: None,
        }
    }

    fn line(&self) -> String {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        format!(
            "\r{:>10} received, {:>8}/s",
            human(self.written as f64),
            human(self.written as f64 / secs)
        )
    }

    fn tick(&mut self) {
        if !self.show {
            return;
        }
        let now = Instant::now();
        if self
            .shown
            .is_some_and(|at| now.duration_since(at) < Duration::from_millis(100))
        {
            return;
        }
        self.shown = Some(now);
        eprint!("{}", self.line());
    }

    fn done(&self) {
        if self.show && self.written > 0 {
            eprintln!("{}", self.line());
        }
    }
}

fn human(bytes: f64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut v = bytes;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Progress<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            self.written += n as u64;
            self.tick();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[derive(Debug, Args)]
pub(crate) struct DtmfArgs {
    /// The provider.
    #[arg(value_parser = provider::parser())]
    provider: CarrierArg,
    /// The live call.
    call_id: String,
    /// The keys: 0-9, *, #, A-D, w/W for a pause (each carrier takes its own set).
    digits: String,
    #[command(flatten)]
    common: Common,
}

pub(crate) async fn dtmf(args: DtmfArgs) -> Result<(), Failure> {
    let id = call_id(&args.call_id)?;
    let digits = Dtmf::new(&args.digits).map_err(usage)?;
    let provider = provider::from_env(args.provider, args.common.base_url.as_deref())?;
    provider.send_dtmf(&id, &digits).await.map_err(refusal)?;
    if args.common.json {
        return json(&serde_json::json!({"sent": digits}));
    }
    out("sent");
    Ok(())
}
