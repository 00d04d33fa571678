//! `telephony bench server`: the agent server measured through real sockets. This process is
//! the carriers' side, N real-time media streams over loopback; the agent server runs in a
//! process of its own (`telephony bench agent`, started here, on one CPU), so what it costs
//! is read from its own accounting, not guessed from wall time.
//!
//! Each step runs N streams for a while and reads, over the steady part of it:
//! - the agent's CPU time per call-second (`/proc/PID/stat`), hence the calls one core
//!   carries at that load;
//! - each reply's turnaround, from the frame sent to the agent's reply read, as p50, p99 and
//!   p99.9;
//! - the agent's resident memory per call (its RSS with the calls up, less before);
//! - replies lost or out of place, checked against what the agent must answer.
//!
//! Without `--calls` it steps N up until a step misses the latency target or loses a frame,
//! and reports the largest N that held.
//!
//! One load's run and what it reads are in `step`.

use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use serde_json::{Value, json};
use telephony::audio::{AudioFormat, Backend, Profile, SampleRate};
use telephony::{Carrier, SessionConfig};

use super::agent::Fix;
use super::floor::{self, Floor};
use super::load::{FRAME, Plan};
use super::step::{self, Step, WARMUP, round};
use super::webhook::{self, Webhooks};
use super::{media, proc};
use crate::Failure;
use crate::provider::{self, CarrierArg};

/// The loads the search tries, in order.
const STEPS: [usize; 12] = [
    100, 250, 500, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 8000, 10000,
];

/// The most calls one load may have.
const MAX_CALLS: usize = 10_000;

/// How long the machine's own stalls are measured on each CPU, before the loads.
const FLOOR_PROBE: Duration = Duration::from_secs(2);

#[derive(Debug, Args)]
pub(crate) struct ServerArgs {
    /// The provider whose streams to send: twilio, plivo, vonage, … (the registry's).
    #[arg(value_name = "PROVIDER", value_parser = provider::parser())]
    provider: CarrierArg,
    /// The streams' wire format, ENCODING@RATE; by default what the provider streams most.
    #[arg(long, value_name = "FORMAT")]
    wire: Option<String>,
    /// The rate of the PCM the agent hears and speaks.
    #[arg(long, value_name = "HZ", default_value = "16000")]
    pub(super) app_rate: u32,
    /// Resampler profile: hq or low-latency.
    #[arg(long, value_name = "PROFILE", default_value = "hq")]
    pub(super) profile: String,
    /// Run this many concurrent calls once, instead of the search.
    #[arg(long, value_name = "N")]
    calls: Option<usize>,
    /// Seconds each load runs (the first is warm-up, not timed).
    #[arg(long, value_name = "S", default_value = "10")]
    pub(super) seconds: u64,
    /// The p99 turnaround a load must hold, in milliseconds.
    #[arg(
        long,
        value_name = "MS",
        default_value = "2",
        allow_negative_numbers = true
    )]
    p99_ms: f64,
    /// The largest load the search tries.
    #[arg(long, value_name = "N")]
    max_calls: Option<usize>,
    /// The resident memory a call may hold, in KiB: a load over it does not hold.
    #[arg(long, value_name = "KIB", default_value = "64")]
    kib_per_call: f64,
    /// Leave out one of the server path's settings (read-buffer, nodelay, whole-socket), to
    /// measure what it buys: the agent runs as before the fix.
    #[arg(long, value_name = "FIX")]
    pub(super) without: Vec<Fix>,
    /// Send each call's inbound webhook first, signed as the carrier signs, to the agent's
    /// inbound router, which verifies it and answers with the stream: how long the answers
    /// take, and the agent's CPU per webhook.
    #[arg(long)]
    webhooks: bool,
    /// One JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &ServerArgs) -> Result<(), Failure> {
    let carrier: &'static dyn Carrier = args.provider.carrier();
    let format = match &args.wire {
        Some(w) => w
            .parse::<AudioFormat>()
            .map_err(|e| Failure::Usage(format!("--wire {w}: {e}")))?,
        None => carrier.stream_formats()[0],
    };
    if !carrier.stream_formats().contains(&format) {
        return Err(Failure::Usage(format!(
            "--wire: {} does not stream {}@{}",
            carrier.kind(),
            format.encoding.name(),
            format.rate.hz()
        )));
    }
    let app_rate = SampleRate::from_hz(args.app_rate).ok_or_else(|| {
        Failure::Usage(format!(
            "--app-rate {}: one of 8000, 16000, 24000, 32000, 48000",
            args.app_rate
        ))
    })?;
    let profile: Profile = args
        .profile
        .parse()
        .map_err(|e| Failure::Usage(format!("--profile: {e}")))?;
    if !(2..=3600).contains(&args.seconds) {
        return Err(Failure::Usage(format!(
            "--seconds {}: from 2 to 3600",
            args.seconds
        )));
    }
    if !(args.p99_ms.is_finite() && args.p99_ms > 0.0) {
        return Err(Failure::Usage(format!("--p99-ms {}", args.p99_ms)));
    }
    if !(args.kib_per_call.is_finite() && args.kib_per_call > 0.0) {
        return Err(Failure::Usage(format!(
            "--kib-per-call {}",
            args.kib_per_call
        )));
    }
    let open_files = proc::raise_open_files();
    // Each call is a socket on each side, and the process needs a few files of its own.
    let fits = |n: usize| (n as u64).saturating_add(64) <= open_files;
    let loads: Vec<usize> = match (args.calls, args.max_calls) {
        (Some(_), Some(_)) => {
            return Err(Failure::Usage(
                "--max-calls bounds the search; --calls runs one load instead".into(),
            ));
        }
        (Some(0), None) => return Err(Failure::Usage("--calls: at least 1".into())),
        (Some(n), None) if n > MAX_CALLS => {
            return Err(Failure::Usage(format!("--calls {n}: at most {MAX_CALLS}")));
        }
        (Some(n), None) if !fits(n) => {
            return Err(Failure::Usage(format!(
                "--calls {n}: {n} calls need as many sockets, and this process may open {open_files} files (raise ulimit -n)"
            )));
        }
        (Some(n), None) => vec![n],
        (None, max) => {
            let max = max.unwrap_or(MAX_CALLS);
            if max < STEPS[0] {
                return Err(Failure::Usage(format!(
                    "--max-calls {max}: the search starts at {} calls (for fewer, run one load with --calls)",
                    STEPS[0]
                )));
            }
            // The search goes as far as the open-files limit lets it, and says so.
            let loads: Vec<usize> = STEPS
                .iter()
                .copied()
                .filter(|&n| n <= max && fits(n))
                .collect();
            if loads.is_empty() {
                return Err(Failure::Usage(format!(
                    "this process may open {open_files} files (ulimit -n): too few for {} calls",
                    STEPS[0]
                )));
            }
            loads
        }
    };
    let config = SessionConfig::new(app_rate).profile(profile);
    let count = (args.seconds * 50) as usize;
    let warmup = (WARMUP.as_millis() / FRAME.as_millis()) as usize;
    let plan =
        Arc::new(Plan::new(carrier.kind(), format, config, count, warmup).map_err(Failure::No)?);
    let cpus = step::cpus();
    if !cpus.generator.is_empty() && cpus.agent.is_some() {
        proc::pin(&cpus.generator).map_err(Failure::No)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cpus.generator.len().max(1))
        .enable_all()
        .build()
        .map_err(|e| Failure::No(format!("cannot start a runtime: {e}")))?;
    let wire = format!("{}@{}", format.encoding.name(), format.rate.hz());
    let webhooks = if args.webhooks {
        let api = runtime
            .block_on(webhook::command_stub())
            .map_err(Failure::No)?;
        Some(Webhooks::new(carrier, &wire, &api).map_err(Failure::Usage)?)
    } else {
        None
    };
    // What this machine adds with no work at all, on each CPU the measurement uses: the
    // turnaround limit is the target on top of it.
    let floors: Vec<Floor> = cpus
        .agent
        .into_iter()
        .chain(cpus.generator.iter().copied())
        .map(|c| floor::measure(Some(c), FLOOR_PROBE))
        .collect();
    let machine_p99 = floors
        .iter()
        .map(|f| f.p99.as_secs_f64() * 1000.0)
        .fold(0.0, f64::max);
    let limit = args.p99_ms + machine_p99;
    let header = format!(
        "telephony bench server: {}, wire {wire}, app {} Hz, {profile}, an echo agent over axum and media_channel (current-thread runtime{}); {} s a load, the first not timed; {}",
        carrier.kind(),
        app_rate.hz(),
        cpus.agent.map(|c| format!(", CPU {c}")).unwrap_or_default(),
        args.seconds,
        Backend::detect().description(),
    );
    let header = if args.without.is_empty() {
        header
    } else {
        let names: Vec<_> = args.without.iter().map(|f| f.name()).collect();
        format!("{header}; without {}", names.join(", "))
    };
    if !args.json {
        crate::calls::out(&header);
        for f in &floors {
            crate::calls::out(format!(
                "  this machine, CPU {}: a thread that never sleeps lost {:.1} % of its time in stalls of up to {:.2} ms; a moment picked at random waits {:.2} ms at p99",
                f.cpu.map_or_else(|| "any".to_owned(), |c| c.to_string()),
                100.0 * f.stalled,
                f.longest.as_secs_f64() * 1000.0,
                f.p99.as_secs_f64() * 1000.0,
            ));
        }
        crate::calls::out(format!(
            "  a load holds when no frame is lost, p99 turnaround ≤ {limit:.2} ms ({} ms, on top of this machine's own {machine_p99:.2} ms) and a call holds ≤ {} KiB",
            args.p99_ms, args.kib_per_call
        ));
        crate::calls::out(
            "   calls  agent CPU  core busy  legs/core   p50 ms   p99 ms  p99.9 ms  KiB/call  lost  misplaced  load late p99",
        );
    }
    let mut steps: Vec<Step> = Vec::new();
    let mut held: Option<Step> = None;
    let mut bound = None;
    for &calls in &loads {
        let s = match step::run(&runtime, args, &plan, &cpus, calls, webhooks.as_ref()) {
            Ok(s) => s,
            // The agent failed under a load after a smaller one held: that is where it is
            // bound, and the loads that held are the answer.
            Err(Failure::No(why)) if held.is_some() => {
                if !args.json {
                    crate::calls::out(format!("  {calls:>6}  failed: {why}"));
                }
                bound = Some(why);
                break;
            }
            Err(e) => return Err(e),
        };
        if !args.json {
            crate::calls::out(format!(
                "  {:>6}  {:>8.1} %  {:>8}  {:>9.0}  {:>7.3}  {:>7.3}  {:>8.3}  {:>8.1}  {:>4}  {:>9}  {:>7.2} ms",
                s.calls,
                100.0 * s.agent_share,
                s.core_share
                    .map_or_else(|| "-".to_owned(), |c| format!("{:.1} %", 100.0 * c)),
                s.legs_per_core(),
                s.p50_ms,
                s.p99_ms,
                s.p999_ms,
                s.rss_per_call / 1024.0,
                s.lost,
                s.misplaced,
                s.send_late_p99_ms,
            ));
            if let Some(w) = &s.webhooks {
                crate::calls::out(format!(
                    "          each call's webhook first: answered in {:.3} ms (p50), {:.3} ms (p99); {:.0} µs of the agent's CPU each",
                    w.p50_ms, w.p99_ms, w.agent_us_each
                ));
            }
        }
        let missed = s.missed(limit, args.kib_per_call);
        // A generator that fell a frame behind its own schedule measures itself, not the
        // agent (sending a little late changes no turnaround: each is timed from its send).
        let generator_behind = s.send_late_p99_ms > FRAME.as_secs_f64() * 1000.0;
        steps.push(s.clone());
        match missed {
            None if !generator_behind => held = Some(s),
            None => {
                bound = Some(format!(
                    "the load generator: it sent frames up to {:.2} ms late (p99) at {calls} calls, using {:.0} % of its CPUs",
                    s.send_late_p99_ms,
                    100.0 * s.generator_share
                ));
                held = Some(s);
                break;
            }
            Some(why) => {
                bound = Some(format!("the agent at {calls} calls: {why}"));
                break;
            }
        }
    }
    if bound.is_none()
        && let Some(largest) = loads.last()
        && args.calls.is_none()
        && STEPS
            .iter()
            .any(|&n| n > *largest && n <= args.max_calls.unwrap_or(MAX_CALLS))
    {
        bound = Some(format!(
            "this process's open-files limit ({open_files}, ulimit -n): no load above {largest} calls was tried"
        ));
    }
    let in_process = media::legs_per_core(carrier.kind(), format, config, 20.0)?;
    let best = held.clone().or_else(|| steps.last().cloned());
    let Some(best) = best else {
        return Err(Failure::No("no load ran".into()));
    };
    let ratio = best.legs_per_core() / in_process;
    if args.json {
        let mut v = json!({
            "provider": carrier.kind().id(),
            "wire": wire,
            "app_rate": app_rate.hz(),
            "profile": profile.to_string(),
            "seconds": args.seconds,
            "without": args.without.iter().map(|f| f.name()).collect::<Vec<_>>(),
            "held": held.is_some(),
            "concurrent_calls": best.calls,
            "expected_replies": best.calls * plan.expected.len(),
            "in_process_legs_per_core": in_process.round() as u64,
            "socket_to_in_process": round(ratio, 3),
            "bound": bound,
            "p99_target_ms": args.p99_ms,
            "kib_per_call_target": args.kib_per_call,
            "machine_p99_ms": round(machine_p99, 3),
            "p99_limit_ms": round(limit, 3),
            "machine": floors.iter().map(|f| json!({
                "cpu": f.cpu,
                "stalled": round(f.stalled, 4),
                "longest_stall_ms": round(f.longest.as_secs_f64() * 1000.0, 3),
                "p99_wait_ms": round(f.p99.as_secs_f64() * 1000.0, 3),
            })).collect::<Vec<_>>(),
            "steps": steps.iter().map(Step::json).collect::<Vec<_>>(),
        });
        if let (Some(o), Value::Object(b)) = (v.as_object_mut(), best.json()) {
            for (k, x) in b {
                if k != "calls" {
                    o.insert(k, x);
                }
            }
        }
        crate::calls::out(serde_json::to_string_pretty(&v).unwrap_or_default());
        // The same exit status as the table: 1 when no load held the target.
        return if held.is_some() {
            Ok(())
        } else {
            Err(Failure::No("no load held the target".into()))
        };
    }
    match &held {
        Some(h) => crate::calls::out(format!(
            "  holds {} concurrent calls (p99 {:.2} ms ≤ {limit:.2} ms, none lost): {:.0} legs per core, {:.1} KiB per call",
            h.calls,
            h.p99_ms,
            h.legs_per_core(),
            h.rss_per_call / 1024.0
        )),
        None => crate::calls::out(format!(
            "  no load held the target (p99 ≤ {limit:.2} ms, none lost)"
        )),
    }
    if let Some(b) = &bound {
        crate::calls::out(format!("  bound by {b}"));
    }
    crate::calls::out(format!(
        "  in process (telephony bench media): {in_process:.0} legs per core; through sockets {:.1} % of it",
        100.0 * ratio
    ));
    if held.is_none() {
        return Err(Failure::No("no load held the target".into()));
    }
    Ok(())
}
