//! One load of `telephony bench server`: a fresh agent server in its own process, N streams
//! against it for a while, and what the steady part of it measured.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::load::{self, FRAME, Plan, Seen, micros};
use super::proc;
use super::server::ServerArgs;
use super::webhook::Webhooks;
use crate::Failure;

/// The first second of every stream is not timed: sessions and sockets settle.
pub(super) const WARMUP: Duration = Duration::from_secs(1);

/// How many streams connect at once while a step sets up.
const CONNECTING: usize = 64;

/// What one load measured.
#[derive(Debug, Clone)]
pub(super) struct Step {
    pub(super) calls: usize,
    /// The calls the agent carried over the steady window: its frames answered per second,
    /// over 50.
    pub(super) carried: f64,
    /// Heap allocations the agent made per frame answered (both directions, and everything
    /// else it did meanwhile).
    pub(super) allocations_per_frame: f64,
    /// How busy the agent's CPU was, where it has one to itself: the agent's time and the
    /// softirqs run there (its sockets' packets), which the process is not charged with.
    pub(super) core_share: Option<f64>,
    /// The agent's CPU seconds per second of the steady window.
    pub(super) agent_share: f64,
    /// This process's CPU seconds per second, per CPU it runs on.
    pub(super) generator_share: f64,
    pub(super) p50_ms: f64,
    pub(super) p99_ms: f64,
    pub(super) p999_ms: f64,
    /// The p99 of how late frames went out against their schedule (the generator's lag).
    pub(super) send_late_p99_ms: f64,
    pub(super) rss_per_call: f64,
    pub(super) heap_per_call: f64,
    pub(super) replies: usize,
    pub(super) lost: usize,
    pub(super) misplaced: usize,
    pub(super) errors: Vec<String>,
    /// The webhooks that preceded the streams, when sent.
    pub(super) webhooks: Option<Answered>,
}

/// What the agent took to answer the webhooks before the streams.
#[derive(Debug, Clone, Copy)]
pub(super) struct Answered {
    /// Time to each answer, from the request's connection to its last byte.
    pub(super) p50_ms: f64,
    pub(super) p99_ms: f64,
    /// The agent's CPU time per webhook (its process's own accounting).
    pub(super) agent_us_each: f64,
}

impl Step {
    /// The calls one core carries at this load: those carried, per second of the agent's
    /// core busy (with the softirqs its packets cost), or of the agent's own CPU time where
    /// it shares its core.
    pub(super) fn legs_per_core(&self) -> f64 {
        // The larger of the two: each is read from counters that tick.
        let busy = self.core_share.unwrap_or(0.0).max(self.agent_share);
        if busy > 0.0 { self.carried / busy } else { 0.0 }
    }

    /// The calls per second of the agent process's own CPU time (user and system), without
    /// the softirqs.
    pub(super) fn legs_per_process_core(&self) -> f64 {
        if self.agent_share > 0.0 {
            self.carried / self.agent_share
        } else {
            0.0
        }
    }

    /// Why this load does not hold, if it does not: a stream failed, a reply was lost or out
    /// of place, p99 turnaround over `p99_target` ms, or more than `kib_per_call` resident
    /// per call.
    pub(super) fn missed(&self, p99_target: f64, kib_per_call: f64) -> Option<String> {
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
                "p99 turnaround {:.2} ms > {p99_target:.2} ms",
                self.p99_ms
            ));
        }
        if self.rss_per_call / 1024.0 > kib_per_call {
            return Some(format!(
                "{:.1} KiB resident per call > {kib_per_call} KiB",
                self.rss_per_call / 1024.0
            ));
        }
        None
    }

    pub(super) fn json(&self) -> Value {
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
            "webhooks": self.webhooks.map(|w| json!({
                "p50_answer_ms": round(w.p50_ms, 3),
                "p99_answer_ms": round(w.p99_ms, 3),
                "agent_cpu_us_each": round(w.agent_us_each, 1),
            })),
        })
    }
}

pub(super) fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

/// The CPUs the agent and the generator run on: the agent alone on the first, the generator
/// on the rest (on a one-CPU machine they share it).
pub(super) struct Cpus {
    pub(super) agent: Option<usize>,
    pub(super) generator: Vec<usize>,
}

pub(super) fn cpus() -> Cpus {
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
    fn start(
        args: &ServerArgs,
        cpu: Option<usize>,
        webhooks: Option<&Webhooks>,
    ) -> Result<AgentProcess, Failure> {
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
        if let Some(hooks) = webhooks {
            let (env, agent_args) = hooks.agent();
            command.args(agent_args);
            command.envs(env.iter().map(|(k, v)| (k, v)));
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| Failure::No(format!("cannot start the agent server: {e}")))?;
        // Its first line says where it listens; an agent that says nothing in time is stopped.
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let mut first = String::new();
                let _ = BufReader::new(out).read_line(&mut first);
                let _ = tx.send(first);
            });
            line = rx.recv_timeout(STARTS_WITHIN).unwrap_or_default();
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

/// How long the agent may take to start listening.
const STARTS_WITHIN: Duration = Duration::from_secs(30);

/// How long the agent may take to answer `/stats`.
const STATS_WITHIN: Duration = Duration::from_secs(5);

/// The agent's `/stats`, as JSON.
async fn agent_stats(address: SocketAddr) -> Result<Value, String> {
    let read = async {
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
        Ok::<_, String>(response)
    };
    let response = tokio::time::timeout(STATS_WITHIN, read)
        .await
        .map_err(|_| format!("the agent's /stats did not answer within {STATS_WITHIN:?}"))?
        .map_err(|e| format!("the agent's /stats: {e}"))?;
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
pub(super) fn run(
    runtime: &tokio::runtime::Runtime,
    args: &ServerArgs,
    plan: &Arc<Plan>,
    cpus: &Cpus,
    calls: usize,
    webhooks: Option<&Webhooks>,
) -> Result<Step, Failure> {
    let agent = AgentProcess::start(args, cpus.agent, webhooks)?;
    let pid = agent.pid();
    let address = agent.address;
    let generator_cpus = cpus.generator.len().max(1) as f64;
    // A failure once the load is on says at which load, so the search can report it as the
    // bound it is.
    let under_load = |e: String| Failure::No(format!("the agent at {calls} calls: {e}"));
    runtime.block_on(async {
        // Each call's webhook first, when asked: the agent's CPU over them, and each one's
        // answer time.
        let hooked = match webhooks {
            Some(hooks) => {
                let before = proc::cpu_ns(pid).map_err(under_load)?;
                let mut took = Vec::with_capacity(calls);
                for chunk in (0..calls).collect::<Vec<_>>().chunks(CONNECTING) {
                    let sent = futures_util::future::join_all(
                        chunk.iter().map(|&i| hooks.send(address, i)),
                    )
                    .await;
                    for s in sent {
                        took.push(micros(s.map_err(under_load)?));
                    }
                }
                let after = proc::cpu_ns(pid).map_err(under_load)?;
                took.sort_unstable();
                Some(Answered {
                    p50_ms: quantile_ms(&took, 0.50),
                    p99_ms: quantile_ms(&took, 0.99),
                    agent_us_each: after.saturating_sub(before).as_secs_f64() * 1e6 / calls as f64,
                })
            }
            None => None,
        };
        // What the agent holds before the streams (after the webhooks, which keep nothing a
        // call needs): memory per call is what the streams add.
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
            return Err(under_load(format!(
                "{} of {calls} streams could not connect ({})",
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
        let frames_before = agent_stats(address).await.map_err(under_load)?;
        let agent_before = proc::usage(pid).map_err(under_load)?;
        let core_before = cpus
            .agent
            .map(proc::cpu_busy)
            .transpose()
            .map_err(Failure::No)?;
        let me_before = proc::usage(std::process::id()).map_err(Failure::No)?;
        let started = Instant::now();
        tokio::time::sleep_until(window_end).await;
        let agent_after = proc::usage(pid).map_err(under_load)?;
        let core_after = cpus
            .agent
            .map(proc::cpu_busy)
            .transpose()
            .map_err(Failure::No)?;
        let me_after = proc::usage(std::process::id()).map_err(Failure::No)?;
        let window = started.elapsed().as_secs_f64();
        let stats = agent_stats(address).await.map_err(under_load)?;
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
            webhooks: hooked,
        })
    })
}
