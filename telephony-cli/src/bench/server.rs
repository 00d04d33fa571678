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

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use serde_json::{Value, json};
use telephony::audio::{AudioFormat, Backend, Profile, SampleRate};
use telephony::{Carrier, SessionConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::agent::Fix;
use super::floor::{self, Floor};
use super::load::{self, FRAME, Plan, Seen};
use super::{media, proc};
use crate::Failure;
use crate::provider::{self, CarrierArg};

/// The loads the search tries, in order.
const STEPS: [usize; 12] = [
    100, 250, 500, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 8000, 10000,
];

/// The first second of every stream is not timed: sessions and sockets settle.
const WARMUP: Duration = Duration::from_secs(1);

/// How long the machine's own stalls are measured on each CPU, before the loads.
const FLOOR_PROBE: Duration = Duration::from_secs(2);

/// How many streams connect at once while a step sets up.
const CONNECTING: usize = 64;

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
    app_rate: u32,
    /// Resampler profile: hq or low-latency.
    #[arg(long, value_name = "PROFILE", default_value = "hq")]
    profile: String,
    /// Run this many concurrent calls once, instead of the search.
    #[arg(long, value_name = "N")]
    calls: Option<usize>,
    /// Seconds each load runs (the first is warm-up, not timed).
    #[arg(long, value_name = "S", default_value = "10")]
    seconds: u64,
    /// The p99 turnaround a load must hold, in milliseconds.
    #[arg(
        long,
        value_name = "MS",
        default_value = "2",
        allow_negative_numbers = true
    )]
    p99_ms: f64,
    /// The largest load the search tries.
    #[arg(long, value_name = "N", default_value = "10000")]
    max_calls: usize,
    /// Leave out one of the server path's settings (read-buffer, nodelay, whole-socket), to
    /// measure what it buys: the agent runs as before the fix.
    #[arg(long, value_name = "FIX")]
    without: Vec<Fix>,
    /// One JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

/// What one load measured.
#[derive(Debug, Clone)]
struct Step {
    calls: usize,
    /// The calls the agent carried over the steady window: its frames answered per second,
    /// over 50.
    carried: f64,
    /// Heap allocations the agent made per frame answered (both directions, and everything
    /// else it did meanwhile).
    allocations_per_frame: f64,
    /// How busy the agent's CPU was, where it has one to itself: the agent's time and the
    /// softirqs run there (its sockets' packets), which the process is not charged with.
    core_share: Option<f64>,
    /// The agent's CPU seconds per second of the steady window.
    agent_share: f64,
    /// This process's CPU seconds per second, per CPU it runs on.
    generator_share: f64,
    p50_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    /// The p99 of how late frames went out against their schedule (the generator's lag).
    send_late_p99_ms: f64,
    rss_per_call: f64,
    heap_per_call: f64,
    replies: usize,
    lost: usize,
    misplaced: usize,
    errors: Vec<String>,
}

impl Step {
    /// The calls one core carries at this load: those carried, per second of the agent's
    /// core busy (with the softirqs its packets cost), or of the agent's own CPU time where
    /// it shares its core.
    fn legs_per_core(&self) -> f64 {
        // The larger of the two: each is read from counters that tick.
        let busy = self.core_share.unwrap_or(0.0).max(self.agent_share);
        if busy > 0.0 { self.carried / busy } else { 0.0 }
    }

    /// The calls per second of the agent process's own CPU time (user and system), without
    /// the softirqs.
    fn legs_per_process_core(&self) -> f64 {
        if self.agent_share > 0.0 {
            self.carried / self.agent_share
        } else {
            0.0
        }
    }

    /// Why this load does not hold, if it does not.
    fn missed(&self, p99_target: f64) -> Option<String> {
        if let Some(e) = self.errors.first() {
            return Some(format!("{} streams failed ({e})", self.errors.len()));
        }
        if self.lost + self.misplaced > 0 {
            return Some(format!(
                "{} replies lost, {} out of place",
                self.lost, self.misplaced
            ));
        }
        if self.p99_ms > p99_target {
            return Some(format!(
                "p99 turnaround {:.2} ms > {p99_target} ms",
                self.p99_ms
            ));
        }
        None
    }

    fn json(&self) -> Value {
        json!({
            "calls": self.calls,
            "legs_per_core": self.legs_per_core().round() as u64,
            "agent_cpu": round(self.agent_share, 4),
            "agent_core_busy": self.core_share.map(|c| round(c, 4)),
            "legs_per_process_cpu": self.legs_per_process_core().round() as u64,
            "generator_cpu": round(self.generator_share, 4),
            "p50_turnaround_ms": round(self.p50_ms, 3),
            "p99_turnaround_ms": round(self.p99_ms, 3),
            "p999_turnaround_ms": round(self.p999_ms, 3),
            "send_late_p99_ms": round(self.send_late_p99_ms, 3),
            "bytes_per_call": self.rss_per_call.round() as u64,
            "allocations_per_frame": round(self.allocations_per_frame, 2),
            "heap_bytes_per_call": self.heap_per_call.round() as u64,
            "replies": self.replies,
            "lost_frames": self.lost,
            "reordered_frames": self.misplaced,
            "failed_streams": self.errors.len(),
        })
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

/// The CPUs the agent and the generator run on: the agent alone on the first, the generator
/// on the rest (on a one-CPU machine they share it).
struct Cpus {
    agent: Option<usize>,
    generator: Vec<usize>,
}

fn cpus() -> Cpus {
    let all = proc::cpus();
    match all.split_first() {
        Some((&first, rest)) if !rest.is_empty() => Cpus {
            agent: Some(first),
            generator: rest.to_vec(),
        },
        _ => Cpus {
            agent: None,
            generator: all,
        },
    }
}

/// The agent server, running in its own process.
struct AgentProcess {
    child: Child,
    address: SocketAddr,
}

impl AgentProcess {
    fn start(args: &ServerArgs, cpu: Option<usize>) -> Result<AgentProcess, Failure> {
        let exe = std::env::current_exe()
            .map_err(|e| Failure::No(format!("cannot find this command: {e}")))?;
        let mut command = Command::new(exe);
        command.args(["bench", "agent", "--listen", "127.0.0.1:0"]);
        command.args(["--app-rate", &args.app_rate.to_string()]);
        command.args(["--profile", &args.profile]);
        if let Some(cpu) = cpu {
            command.args(["--cpu", &cpu.to_string()]);
        }
        for fix in &args.without {
            command.args(["--without", fix.name()]);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| Failure::No(format!("cannot start the agent server: {e}")))?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        let address = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|a| a.parse().ok());
        match address {
            Some(address) => Ok(AgentProcess { child, address }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(Failure::No(format!(
                    "the agent server did not start (it said {line:?})"
                )))
            }
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The agent's `/stats`, as JSON.
async fn agent_stats(address: SocketAddr) -> Result<Value, String> {
    let mut tcp = tokio::net::TcpStream::connect(address)
        .await
        .map_err(|e| e.to_string())?;
    tcp.write_all(b"GET /stats HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n")
        .await
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    tcp.read_to_end(&mut response)
        .await
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&response);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).map_err(|e| format!("the agent's /stats: {e}"))
}

fn live_bytes(stats: &Value) -> f64 {
    stats["live_bytes"].as_f64().unwrap_or(0.0)
}

/// The value at quantile `q` of sorted `values`, in milliseconds.
fn quantile_ms(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    f64::from(sorted[i]) / 1000.0
}

/// Runs `calls` streams against a fresh agent for `args.seconds`.
fn step(
    runtime: &tokio::runtime::Runtime,
    args: &ServerArgs,
    plan: &Arc<Plan>,
    cpus: &Cpus,
    calls: usize,
) -> Result<Step, Failure> {
    let agent = AgentProcess::start(args, cpus.agent)?;
    let pid = agent.pid();
    let address = agent.address;
    let generator_cpus = cpus.generator.len().max(1) as f64;
    runtime.block_on(async {
        let idle = proc::usage(pid).map_err(Failure::No)?;
        let idle_heap = live_bytes(&agent_stats(address).await.map_err(Failure::No)?);
        // Connect every stream first, a few at a time, so that setting up is not measured.
        let mut sockets = Vec::with_capacity(calls);
        let mut errors = Vec::new();
        for chunk in (0..calls).collect::<Vec<_>>().chunks(CONNECTING) {
            let opened =
                futures_util::future::join_all(chunk.iter().map(|_| load::connect(address, plan)))
                    .await;
            for o in opened {
                match o {
                    Ok(s) => sockets.push(s),
                    Err(e) => errors.push(e),
                }
            }
        }
        if !errors.is_empty() {
            return Err(Failure::No(format!(
                "{} of {calls} streams could not connect: {}",
                errors.len(),
                errors[0]
            )));
        }
        // The streams start spread evenly over one frame period, as calls that began at
        // unrelated moments.
        let epoch = Instant::now() + Duration::from_millis(200);

        let tasks: Vec<_> = sockets
            .into_iter()
            .enumerate()
            .map(|(i, socket)| {
                let offset = FRAME.mul_f64(i as f64 / calls as f64);
                tokio::spawn(load::run(socket, plan.clone(), epoch + offset))
            })
            .collect();
        let window_start = epoch + WARMUP;
        let window_end = epoch + Duration::from_secs(args.seconds);
        tokio::time::sleep_until(window_start).await;
        let frames_before = agent_stats(address).await.map_err(Failure::No)?;
        let agent_before = proc::usage(pid).map_err(Failure::No)?;
        let core_before = cpus
            .agent
            .map(proc::cpu_busy)
            .transpose()
            .map_err(Failure::No)?;
        let me_before = proc::usage(std::process::id()).map_err(Failure::No)?;
        let started = Instant::now();
        tokio::time::sleep_until(window_end).await;
        let agent_after = proc::usage(pid).map_err(Failure::No)?;
        let core_after = cpus
            .agent
            .map(proc::cpu_busy)
            .transpose()
            .map_err(Failure::No)?;
        let me_after = proc::usage(std::process::id()).map_err(Failure::No)?;
        let window = started.elapsed().as_secs_f64();
        let stats = agent_stats(address).await.map_err(Failure::No)?;
        let heap = live_bytes(&stats);
        let frames = |s: &Value| s["frames_in"].as_f64().unwrap_or(0.0);
        // The calls the agent carried in the window, from the frames it answered: the same
        // as `calls` while it keeps up, fewer when it falls behind.
        let answered = frames(&stats) - frames(&frames_before);
        let carried = answered / (50.0 * window);
        let allocations = |s: &Value| s["allocations"].as_f64().unwrap_or(0.0);
        let allocations_per_frame = if answered > 0.0 {
            (allocations(&stats) - allocations(&frames_before)) / answered
        } else {
            0.0
        };
        let mut turnaround = Vec::new();
        let mut late = Vec::new();
        let (mut replies, mut lost, mut misplaced) = (0, 0, 0);
        for task in tasks {
            let seen: Seen = task
                .await
                .map_err(|e| Failure::No(format!("a stream's task failed: {e}")))?;
            turnaround.extend_from_slice(&seen.turnaround_us);
            late.extend_from_slice(&seen.send_late_us);
            replies += seen.received;
            lost += seen.lost;
            misplaced += seen.misplaced;
            if let Some(e) = seen.error {
                errors.push(e);
            }
        }
        turnaround.sort_unstable();
        late.sort_unstable();
        let cpu = |after: Duration, before: Duration| after.saturating_sub(before).as_secs_f64();
        Ok(Step {
            calls,
            agent_share: cpu(agent_after.cpu, agent_before.cpu) / window,
            core_share: match (core_after, core_before) {
                (Some(after), Some(before)) => Some(cpu(after, before) / window),
                _ => None,
            },
            carried,
            allocations_per_frame,
            generator_share: cpu(me_after.cpu, me_before.cpu) / window / generator_cpus,
            p50_ms: quantile_ms(&turnaround, 0.50),
            p99_ms: quantile_ms(&turnaround, 0.99),
            p999_ms: quantile_ms(&turnaround, 0.999),
            send_late_p99_ms: quantile_ms(&late, 0.99),
            rss_per_call: agent_after.rss.saturating_sub(idle.rss) as f64 / calls as f64,
            heap_per_call: (heap - idle_heap).max(0.0) / calls as f64,
            replies,
            lost,
            misplaced,
            errors,
        })
    })
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
    let loads: Vec<usize> = match args.calls {
        Some(0) => return Err(Failure::Usage("--calls: at least 1".into())),
        Some(n) => vec![n],
        None => STEPS
            .iter()
            .copied()
            .filter(|&n| n <= args.max_calls)
            .collect(),
    };
    let open_files = proc::raise_open_files();
    let largest = loads.iter().copied().max().unwrap_or(0);
    if largest as u64 + 64 > open_files {
        return Err(Failure::Usage(format!(
            "{largest} calls need as many sockets, and this process may open {open_files} files (ulimit -n)"
        )));
    }
    let config = SessionConfig::new(app_rate).profile(profile);
    let count = (args.seconds * 50) as usize;
    let warmup = (WARMUP.as_millis() / FRAME.as_millis()) as usize;
    let plan =
        Arc::new(Plan::new(carrier.kind(), format, config, count, warmup).map_err(Failure::No)?);
    let cpus = cpus();
    if !cpus.generator.is_empty() && cpus.agent.is_some() {
        proc::pin(&cpus.generator).map_err(Failure::No)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cpus.generator.len().max(1))
        .enable_all()
        .build()
        .map_err(|e| Failure::No(format!("cannot start a runtime: {e}")))?;
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
    let wire = format!("{}@{}", format.encoding.name(), format.rate.hz());
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
            "  a load holds when no frame is lost and p99 turnaround ≤ {limit:.2} ms ({} ms, on top of this machine's own {machine_p99:.2} ms)",
            args.p99_ms
        ));
        crate::calls::out(
            "   calls  agent CPU  core busy  legs/core   p50 ms   p99 ms  p99.9 ms  KiB/call  lost  misplaced  load late p99",
        );
    }
    let mut steps: Vec<Step> = Vec::new();
    let mut held: Option<Step> = None;
    let mut bound = None;
    for &calls in &loads {
        let s = step(&runtime, args, &plan, &cpus, calls)?;
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
        }
        let missed = s.missed(limit);
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
        return Ok(());
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
