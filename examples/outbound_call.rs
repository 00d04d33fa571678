//! One outbound call through a real carrier, followed to its end.
//!
//! ```text
//! cargo run --example outbound_call -- --provider twilio --to +14155550100 --from +14155550199 \
//!     --stream-url wss://agent.example.com/media/twilio [--status-callback URL] [--timeout 300]
//! cargo run --example outbound_call -- --provider plivo … --answer-url https://agent.example.com/answer
//! ```
//!
//! Credentials come from the environment, as for the `telephony` command (`TWILIO_ACCOUNT_SID`
//! and `TWILIO_AUTH_TOKEN`; `PLIVO_AUTH_ID` and `PLIVO_AUTH_TOKEN`; `VONAGE_APPLICATION_ID`
//! and `VONAGE_PRIVATE_KEY_PATH`). This places a real, billed call. `--base-url` sends the
//! requests to another host instead: a regional edge, a test server, or an emulated carrier
//! (telephony-testkit) with its account's credentials in the environment.
//!
//! The call is placed, its status polled every second and printed as it changes (one JSON
//! object a line) until it is over, then its price is read. A call still up after
//! `--timeout` seconds (300 by default) is hung up. Exit status: 0 when the call completed,
//! 1 when it ended otherwise (busy, no answer, failed, canceled) or a request failed, 2 on a
//! usage or configuration error.

// A program for a terminal: it prints.
#![allow(clippy::print_stdout)]

mod common;

use std::process::ExitCode;
use std::time::Duration;

use telephony::{CallStatus, ProviderConfig};

use common::cli::{outbound_args, outbound_call, place_and_follow};

#[tokio::main]
async fn main() -> ExitCode {
    let args = match outbound_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("outbound_call: {e}");
            return ExitCode::from(2);
        }
    };
    let config = match ProviderConfig::from_env(&args.provider) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("outbound_call: {e}");
            return ExitCode::from(2);
        }
    };
    let config = match &args.base_url {
        Some(url) => config.base_url(url.clone()),
        None => config,
    };
    let provider = match config.build() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("outbound_call: {e}");
            return ExitCode::from(2);
        }
    };
    let call = outbound_call(&args);
    let followed = place_and_follow(
        provider.as_ref(),
        &call,
        Duration::from_secs(1),
        args.timeout,
        |line| println!("{line}"),
    )
    .await;
    match followed {
        Ok(CallStatus::Completed) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("outbound_call: {e}");
            ExitCode::FAILURE
        }
    }
}
