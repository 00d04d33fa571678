//! The HTTP webhook that precedes each stream (`bench server --webhooks`): the carrier asks
//! the agent how to answer an inbound call, signed as the carrier signs, and the agent
//! verifies it, routes the number and answers with its stream. Each call's webhook is its
//! emulator's own (`Emulator::inbound_webhook`), from a caller of its own, so no two are the
//! same request (the agent's replay guard would take a repeat for a replay).
//!
//! Telnyx answers a call through its REST API rather than in the reply: the generator serves
//! that API's command endpoint on loopback (every command accepted), where the agent's adapter
//! is pointed.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::response::IntoResponse;
use telephony::{Carrier, E164, Secret, Url};
use telephony_testkit::{Emulator, Emulators};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// How long the agent may take to answer one webhook.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// The most of an answer that is read.
const ANSWER_LIMIT: usize = 64 * 1024;

/// The number every webhook's call is to (the agent routes it to its stream).
pub(crate) const TO: &str = "+14155550100";

/// What the generator needs to send a carrier's inbound webhooks, and what the agent needs to
/// verify them.
pub(crate) struct Webhooks {
    emulator: &'static dyn Emulator,
    secret: Secret,
    /// The carrier's settings, as the emulated account has them, for the agent's environment
    /// (its API's base URL the command stub's).
    env: Vec<(String, String)>,
    /// The agent's arguments: the provider whose webhooks it answers, and with what stream.
    args: Vec<String>,
}

impl Webhooks {
    /// `carrier`'s, from its emulator's account, answered with streams in `wire`; its API at
    /// `api` (the command stub).
    pub(crate) fn new(
        carrier: &'static dyn Carrier,
        wire: &str,
        api: &Url,
    ) -> Result<Webhooks, String> {
        let id = carrier.kind().id();
        let emulator = Emulators::builtin()
            .find(id)
            .ok_or_else(|| format!("--webhooks: no emulator of {id} signs its webhooks"))?;
        let setting = carrier.webhooks().secret_setting();
        let secret = emulator
            .settings()
            .iter()
            .find(|(n, _)| *n == setting)
            .map(|(_, v)| Secret::new(*v))
            .ok_or_else(|| format!("--webhooks: the emulated {id} account has no {setting}"))?;
        let base_url = format!("{}BASE_URL", carrier.settings_prefix());
        let mut env: Vec<(String, String)> = emulator
            .settings()
            .iter()
            .filter(|(n, _)| *n != base_url)
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        if carrier.settings().contains(&base_url.as_str()) {
            env.push((base_url, api.to_string()));
        }
        let args = ["--inbound", id, "--inbound-to", TO, "--inbound-wire", wire]
            .map(str::to_owned)
            .to_vec();
        Ok(Webhooks {
            emulator,
            secret,
            env,
            args,
        })
    }

    /// The agent's environment and arguments for answering these webhooks.
    pub(crate) fn agent(&self) -> (&[(String, String)], &[String]) {
        (&self.env, &self.args)
    }

    /// Call `i`'s webhook to the agent at `agent`, and how long its answer took.
    pub(crate) async fn send(&self, agent: SocketAddr, i: usize) -> Result<Duration, String> {
        let url = Url::parse(&format!("http://{agent}/inbound")).map_err(|e| e.to_string())?;
        let from: E164 = format!("+1312{:07}", i % 10_000_000)
            .parse()
            .map_err(|e| format!("caller {i}: {e}"))?;
        let to: E164 = TO.parse().map_err(|e| format!("{TO}: {e}"))?;
        let request = self
            .emulator
            .inbound_webhook(&url, &from, &to, &self.secret);
        let target = request.url.to_url().map_err(|e| e.to_string())?;
        let mut head = format!(
            "{} {}{} HTTP/1.1\r\nhost: {agent}\r\ncontent-length: {}\r\nconnection: close\r\n",
            request.method,
            target.path(),
            target.query().map(|q| format!("?{q}")).unwrap_or_default(),
            request.body.len()
        );
        for (name, value) in &request.headers {
            if matches!(name.as_str(), "host" | "content-length" | "connection") {
                continue;
            }
            head.push_str(name.as_str());
            head.push_str(": ");
            head.push_str(value.to_str().map_err(|e| e.to_string())?);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        let started = Instant::now();
        let exchange = async {
            let mut tcp = TcpStream::connect(agent).await?;
            tcp.set_nodelay(true)?;
            tcp.write_all(head.as_bytes()).await?;
            tcp.write_all(&request.body).await?;
            let mut answer = Vec::new();
            (&mut tcp)
                .take(ANSWER_LIMIT as u64)
                .read_to_end(&mut answer)
                .await?;
            Ok::<_, std::io::Error>(answer)
        };
        let answer = tokio::time::timeout(ANSWER_WITHIN, exchange)
            .await
            .map_err(|_| format!("no answer to the webhook within {ANSWER_WITHIN:?}"))?
            .map_err(|e| format!("the webhook: {e}"))?;
        let took = started.elapsed();
        let text = String::from_utf8_lossy(&answer);
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(0);
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        // An answer document names the stream; a carrier answered through its API (Telnyx)
        // gets an empty 200.
        if status != 200 || !(body.trim().is_empty() || body.contains("/media/")) {
            return Err(format!(
                "the agent answered the webhook {status}: {}",
                body.chars().take(200).collect::<String>()
            ));
        }
        Ok(took)
    }
}

/// A carrier's REST API as far as answering a call goes: every request accepted with the
/// command result Telnyx documents. Serves on loopback until the runtime stops; its base URL.
pub(crate) async fn command_stub() -> Result<Url, String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("the command stub: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let app = Router::new().fallback(|| async {
        axum::Json(serde_json::json!({"data": {"result": "ok"}})).into_response()
    });
    // Served as the agent is (each answer written at once, no Nagle delay).
    drop(telephony::axum::serve(listener, app));
    Url::parse(&format!("http://{address}/v2/")).map_err(|e| e.to_string())
}
