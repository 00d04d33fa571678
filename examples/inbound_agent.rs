//! The agent server for real numbers: one webhook for every number and provider, status
//! callbacks, media WebSockets, and an echo agent on each call.
//!
//! ```text
//! cargo run --example inbound_agent -- --public-url https://agent.example.com \
//!     --number +14155550100 [--number …] [--listen 127.0.0.1:8080] [--app-rate 16000] [--no-configure]
//! ```
//!
//! Credentials come from the environment, as for the `telephony` command: every provider
//! whose first variable is set (`TWILIO_ACCOUNT_SID`, `PLIVO_AUTH_ID`,
//! `VONAGE_APPLICATION_ID`) is served, and a missing or malformed companion variable is an
//! error naming it. On start, each `--number` is pointed at `PUBLIC_URL/inbound` with
//! `configure_inbound` through the provider that owns it (the report, drift included, is
//! logged); `--no-configure` skips that, for offline runs and numbers set up by hand.
//!
//! It serves the router's single webhook at `/inbound` (POST and GET), status callbacks at
//! `/status`, and media WebSockets under `/media/`. Every signature is checked against the
//! public URL, so `--public-url` must be the URL the providers reach. The echo agent greets
//! the caller with a chime, then plays back what it heard, 20 ms frame for 20 ms frame, once
//! the caller pauses for 300 ms, with a mark after each reply. Everything it sees is logged to
//! stdout, one JSON object a line (`configured`, `inbound`, `refused`, `rejected`, `status`,
//! `started`, `dtmf`, `reply`, `mark_played`, `closed`, `dropped`, …).
//!
//! **Behind a tunnel.** Providers must reach the agent from the internet. With a tunnel to
//! port 8080 (for example `cloudflared tunnel --url http://127.0.0.1:8080`, or
//! `ngrok http 8080`), pass the tunnel's https address as `--public-url`:
//!
//! ```text
//! export TWILIO_ACCOUNT_SID=AC… TWILIO_AUTH_TOKEN=…
//! cargo run --example inbound_agent -- --public-url https://random-words.trycloudflare.com \
//!     --number +14155550100
//! ```
//!
//! Then call the number. The tunnel terminates TLS and forwards plain HTTP: the signatures
//! still verify because the agent rebuilds URLs from `--public-url`, not from what it sees.
//!
//! **Media WebSockets are authenticated.** Every stream the agent answers with carries a token
//! for its call (`telephony::StreamAuth`), and a media WebSocket whose start does not echo a
//! valid one is closed before anything it names is acted on; Twilio's signature on the
//! upgrade is checked too. `AGENT_STREAM_KEY` sets the tokens' key: give every replica the
//! same one, and `outbound_call --stream-key` too when it places calls into this agent.

// A program for a terminal: it prints.
#![allow(clippy::print_stdout)]

mod common;

use common::cli::{configure_numbers, inbound_args, providers_from_env};
use common::{AgentOptions, Brain};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = match inbound_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("inbound_agent: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let providers = match providers_from_env(|name| std::env::var(name).ok()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("inbound_agent: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let mut agent = match common::start(AgentOptions {
        providers: providers.clone(),
        numbers: args.numbers.clone(),
        app_rate: args.app_rate,
        listen: args.listen,
        public_url: args.public_url.clone(),
        brain: Brain::Echo,
        record_audio: false,
        // The same key on every replica (and in `outbound_call --stream-key`): a stream must
        // echo a token made with it. Without it, one is drawn for this process.
        stream_key: std::env::var("AGENT_STREAM_KEY")
            .ok()
            .filter(|k| !k.is_empty())
            .map(telephony::Secret::new),
        serve: telephony::axum::ServeOptions::default(),
    })
    .await
    {
        Ok(a) => a,
        Err(e) => {
            eprintln!("inbound_agent: cannot listen on {}: {e}", args.listen);
            return std::process::ExitCode::FAILURE;
        }
    };
    let inbound = agent.url("inbound");
    println!(
        "{}",
        serde_json::json!({
            "event": "listening",
            "listen": agent.addr.to_string(),
            "inbound": inbound.as_str(),
            "providers": providers.iter().map(|p| p.kind().id()).collect::<Vec<_>>(),
        })
    );
    if args.configure {
        match configure_numbers(&providers, &args.numbers, &inbound).await {
            Ok(lines) => lines.iter().for_each(|l| println!("{l}")),
            Err(e) => {
                eprintln!("inbound_agent: {e}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    while let Some(line) = agent.log.recv().await {
        println!("{line}");
    }
    std::process::ExitCode::SUCCESS
}
