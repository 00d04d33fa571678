//! A whole call, offline, in a few seconds: an emulated carrier on loopback, an agent server,
//! and a call placed through the real adapter.
//!
//! ```text
//! cargo run --example quickstart                       # Twilio
//! cargo run --example quickstart -- --provider vonage  # or plivo
//! ```
//!
//! What happens: the emulated carrier (telephony-testkit) rings a number; its scripted caller
//! answers and speaks (speech-like audio, a key press); the agent greets it with a chime and
//! plays back each thing it says once it pauses; the call is hung up and priced. The timeline
//! prints as it happens, from the agent's side (status callbacks, the stream, DTMF, marks; the
//! call's end, which comes over both the stream and a status callback, in the order it reached
//! the agent), and both sides of the audio are written as WAV files.
//!
//! Options: `--provider ID` (which emulated carrier: one of those telephony-testkit registers,
//! which `--help` lists; the first by default), `--speed X` (how much faster than real time;
//! 1 by default), `--out DIR` (where the WAV files go; `target/quickstart` by default).

// A program for a terminal: it prints.
#![allow(clippy::print_stdout)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use telephony::audio::SampleRate;
use telephony::{CallId, E164, HangupOutcome, OutboundCall, ProviderKind, Registry, StreamSpec};
use telephony_testkit::{CallerScript, Emulators, write_wav};

use common::{AgentOptions, Brain, stream_format};

/// The rate of the PCM the agent hears and speaks.
const APP_RATE: SampleRate = SampleRate::Hz16000;

struct Args {
    provider: String,
    speed: f64,
    out: PathBuf,
}

fn usage(emulators: &Emulators) -> String {
    format!(
        "usage: quickstart [--provider {}] [--speed X] [--out DIR]",
        emulators.ids().join("|")
    )
}

fn args(emulators: &Emulators) -> Result<Args, String> {
    let mut a = Args {
        provider: emulators
            .ids()
            .first()
            .copied()
            .unwrap_or_default()
            .to_owned(),
        speed: 1.0,
        out: PathBuf::from("target/quickstart"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--provider" => a.provider = value()?.to_ascii_lowercase(),
            "--speed" => {
                a.speed = value()?
                    .parse()
                    .map_err(|_| "--speed takes a number".to_owned())?;
            }
            "--out" => a.out = PathBuf::from(value()?),
            "--help" | "-h" => return Err(usage(emulators)),
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    if emulators.find(&a.provider).is_none() {
        return Err(format!(
            "--provider {:?}: one of {}",
            a.provider,
            emulators.ids().join(", ")
        ));
    }
    Ok(a)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quickstart: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let emulators = Emulators::builtin();
    let args = args(&emulators)?;
    let callee: E164 = "+14155550100".parse()?;
    let caller_id: E164 = "+14155550199".parse()?;

    // 1. The emulated carrier, and the adapter pointed at it: the carrier as the registry
    //    knows it, with the emulated account's settings.
    let emulator = emulators
        .find(&args.provider)
        .ok_or("no such emulated carrier")?;
    let fake = emulator.start().await?;
    let provider = Registry::builtin()
        .config(emulator.id(), |name| fake.setting(name))?
        .base_url(fake.base_url())
        .build()?;
    fake.speed(args.speed);
    fake.script(
        CallerScript::speech_like(Duration::from_millis(2600))
            .dtmf(Duration::from_millis(1200), '5')
            .linger(Duration::from_secs(10)),
    );
    println!(
        "{} emulated at {} (offline, loopback)",
        provider.kind(),
        fake.base_url()
    );

    // 2. The agent: router, status callbacks, media; an echo agent on each stream.
    let mut agent = common::start(AgentOptions {
        providers: vec![provider.clone()],
        numbers: vec![caller_id.clone()],
        app_rate: APP_RATE,
        listen: "127.0.0.1:0".parse()?,
        public_url: None,
        brain: Brain::Echo,
        record_audio: false,
        stream_key: None,
        serve: telephony::axum::ServeOptions::default(),
    })
    .await?;
    println!("agent listening at {}", agent.public_url);

    // 3. The call: straight into a stream where the provider can (Twilio TwiML, Vonage NCCO),
    //    else through the agent's answer URL (Plivo).
    let target = if provider.capabilities().inline_stream_on_create {
        let mut media = agent.public_url.clone();
        media.set_scheme("ws").ok();
        // The format the agent's answers ask for too: the carrier's closest to the app's rate.
        let spec = StreamSpec::new(media.join(&format!("media/{}", provider.kind().id()))?)
            .parameter("campaign", "quickstart")
            .audio(stream_format(provider.carrier(), APP_RATE));
        // A token the agent checks when the stream starts: no one else can open a stream
        // that the agent would take for this call.
        OutboundCall::stream(callee.clone(), caller_id.clone(), agent.protect(spec))
    } else {
        OutboundCall::answer_url(callee.clone(), caller_id.clone(), agent.url("answer"))
    }
    .status_callback(agent.url("status"));
    let began = Instant::now();
    let placed = provider.initiate_call(&call_with_timeouts(target)).await?;

    // 4. The timeline, as the agent sees it. Once the agent's second reply has played, the
    //    host hangs up through the API (a call that ended already would be success too).
    let (mut closed, mut ended, mut hung_up) = (false, false, false);
    // The call's own id, as the status callbacks name it (Plivo's CallUUID, not its request id).
    let mut call_id = placed.call_id.clone();
    // The price, when a status callback carries it (Plivo, Vonage).
    let mut callback_cost: Option<String> = None;
    // The call's end comes twice, over the stream (closed) and as a status callback, on two
    // connections that race: from the first of them on, lines wait here to print in time order.
    let mut ending: Vec<common::Log> = Vec::new();
    let mut announced = false;
    while !(closed && ended) {
        let Ok(Some(line)) = tokio::time::timeout(Duration::from_secs(30), agent.log.recv()).await
        else {
            return Err("the call stalled: no event for 30 s".into());
        };
        if !announced {
            announce(&placed.call_id, provider.kind(), &line);
            announced = true;
        }
        let event = line["event"].as_str().unwrap_or("");
        let terminal = ["completed", "busy", "no-answer", "failed", "canceled"];
        let is_terminal = event == "closed"
            || (event == "status" && terminal.contains(&line["status"].as_str().unwrap_or("")));
        if is_terminal || !ending.is_empty() {
            ending.push(line.clone());
        } else {
            print_line(&line);
        }
        match event {
            "mark_played" if line["name"] == "reply-2" && !hung_up => {
                hung_up = true;
                let outcome = provider.hangup(&placed.call_id).await?;
                println!("        the host hangs up: {}", describe(outcome));
            }
            "closed" => closed = true,
            "status" => {
                if let Some(id) = line["call"].as_str().and_then(|c| CallId::new(c).ok()) {
                    call_id = id;
                }
                if let Some(cost) = line["cost"].as_str() {
                    callback_cost = Some(cost.to_owned());
                }
                ended |= is_terminal;
            }
            _ => {}
        }
    }
    let took = began.elapsed();
    ending.sort_by(|a, b| time(a).total_cmp(&time(b)));
    ending.iter().for_each(print_line);
    println!(
        "        (the stream and a status callback each report the end, over separate \
         connections: either may come first)"
    );
    if !hung_up {
        let outcome = provider.hangup(&placed.call_id).await?;
        println!("        the host hangs up: {}", describe(outcome));
    }

    // 5. The price.
    let record = fake
        .wait(placed.call_id.as_str())
        .await
        .ok_or("the call vanished")?;
    // Once: from the API, else as the final status callback said it.
    let cost = provider.call_cost(&call_id).await?;
    println!(
        "        cost: {}",
        cost.map(|c| c.to_string())
            .or(callback_cost)
            .unwrap_or_else(|| "not priced".to_owned())
    );

    // 6. Both sides of the audio.
    std::fs::create_dir_all(&args.out)?;
    let rate = record.wire_rate.unwrap_or(SampleRate::Hz8000);
    let caller = args.out.join(format!("{}-caller.wav", emulator.id()));
    let heard = args.out.join(format!("{}-agent.wav", emulator.id()));
    println!();
    for (path, pcm, what) in [
        (&caller, &record.caller_audio, "what the caller said"),
        (&heard, &record.heard, "what the caller heard"),
    ] {
        wav(path, pcm, rate, what)?;
    }
    if !record.violations.is_empty() {
        return Err(format!("protocol violations: {:?}", record.violations).into());
    }
    // Call time is the emulated carrier's clock, which runs --speed times faster than the wall.
    let pace = if args.speed == 1.0 {
        "real time".to_owned()
    } else {
        format!("--speed {}", args.speed)
    };
    println!(
        "call {}: {}; {} s of call time, as the carrier billed it; {:.1} s of wall time ({pace}); \
         no protocol violations",
        record.id,
        record.raw_status,
        record.duration.map_or(0, |d| d.as_secs()),
        took.as_secs_f64()
    );
    Ok(())
}

/// Writes `pcm` as a WAV file, saying what it holds and whether it replaced an earlier run's.
fn wav(path: &Path, pcm: &[i16], rate: SampleRate, what: &str) -> std::io::Result<()> {
    let replaced = path.exists();
    write_wav(path, pcm, rate)?;
    println!(
        "wrote {}: {what}, {} Hz{}",
        path.display(),
        rate.hz(),
        if replaced {
            " (replaced the previous run's file)"
        } else {
            ""
        }
    );
    Ok(())
}

/// The placed call's line, once the first event names the call. The id `initiate_call`
/// returned is the call's own (Twilio, Vonage), or, where the events name the call otherwise,
/// the request's (Plivo: its `request_uuid`, then the call's `CallUUID`).
fn announce(placed: &CallId, provider: ProviderKind, first: &common::Log) {
    match first["call"].as_str().filter(|c| !c.is_empty()) {
        Some(call) if call != placed.as_str() => println!(
            "placed call: request {placed} ({provider} names the call itself {call} once it dials)"
        ),
        _ => println!("placed call {placed}"),
    }
    println!();
    println!("  time  event");
}

fn time(line: &common::Log) -> f64 {
    line["t"].as_f64().unwrap_or(0.0)
}

fn describe(outcome: HangupOutcome) -> &'static str {
    match outcome {
        HangupOutcome::Ended => "ended",
        HangupOutcome::Canceled => "canceled",
        HangupOutcome::AlreadyEnded => "it had already ended",
        _ => "done",
    }
}

fn call_with_timeouts(call: OutboundCall) -> OutboundCall {
    call.ring_timeout(Duration::from_secs(30))
        .time_limit(Duration::from_secs(600))
}

fn print_line(line: &common::Log) {
    let t = time(line);
    let event = line["event"].as_str().unwrap_or("?");
    let detail = match event {
        // A callback's price is printed once, as the call's cost at the end.
        "status" => format!(
            "{} ({})",
            line["status"].as_str().unwrap_or("?"),
            line["raw"].as_str().unwrap_or("?"),
        ),
        "started" => format!(
            "stream started: {}, parameters {}",
            line["format"].as_str().unwrap_or("?"),
            line["parameters"]
        ),
        "dtmf" => format!("caller pressed {}", line["digit"].as_str().unwrap_or("?")),
        "reply" => format!("agent replies: {} ms echoed", line["ms"]),
        "mark_played" => format!("mark {} played", line["name"].as_str().unwrap_or("?")),
        "mark_cleared" => format!("mark {} cleared", line["name"].as_str().unwrap_or("?")),
        "closed" => format!(
            "stream closed ({} ms of caller audio heard)",
            line["heard_ms"]
        ),
        "answer" => "answer URL fetched".to_owned(),
        other => other.to_owned(),
    };
    println!("{t:6.2}s  {detail}");
}
