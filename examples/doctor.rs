//! `doctor::run` (what `telephony doctor` prints) against an emulated carrier, offline: a
//! healthy account, then one with three problems the emulator stages (a low balance, a number
//! that cannot take voice calls, a carrier clock ten minutes off this machine's).
//!
//! ```text
//! cargo run --example doctor                       # Twilio
//! cargo run --example doctor -- --provider plivo   # or vonage (Telnyx does not say
//!                                                  # whether a number takes voice)
//! ```
//!
//! The webhook URL's checks (`url`, `certificate`, `webhook`) need a public https URL, which an
//! offline run has not: they say so (skipped: no `--url`). `tests/doctor.rs` runs them against
//! loopback listeners (an expired certificate, one about to expire, an agent that verifies).

// A program for a terminal: it prints.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;
use std::time::Duration;

use telephony::doctor::{self, DoctorOptions, Report};
use telephony::{E164, Url};
use telephony_testkit::{Emulated, Emulators, NumberFeatures};

/// The number the agent answers on.
const NUMBER: &str = "+14155550100";

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("doctor example: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let emulators = Emulators::builtin();
    let mut args = std::env::args().skip(1);
    let emulator = match (args.next().as_deref(), args.next()) {
        (None, _) => *emulators.emulators().first().ok_or("no emulated carrier")?,
        (Some("--provider"), Some(id)) => emulators.find(&id).ok_or_else(|| {
            format!(
                "no emulated carrier {id:?}; one of {}",
                emulators.ids().join(", ")
            )
        })?,
        _ => {
            return Err(format!(
                "usage: cargo run --example doctor [-- --provider ID], ID one of {}",
                emulators.ids().join(", ")
            )
            .into());
        }
    };
    let number: E164 = NUMBER.parse()?;
    let url: Url = "https://agent.example.com/voice".parse()?;
    let options = DoctorOptions::new()
        .number(number.clone())
        .min_balance("5".parse()?);

    // Healthy: the number is the account's, takes voice, and points at the agent; the balance
    // is the emulator's 20.00; the clock is this machine's.
    let healthy = emulator.start().await?;
    healthy.add_number(&number);
    healthy.provider()?.configure_inbound(&number, &url).await?;
    println!(
        "# healthy, as `telephony doctor {} --number {NUMBER} --min-balance 5` prints it",
        healthy.id()
    );
    print(&report(&healthy, &options).await?);

    // Three problems: 1.50 left, a number bought for SMS only (Telnyx: one not on the
    // account), the carrier's clock ten minutes ahead of this machine's.
    let broken = emulator.start().await?;
    // (configure_inbound refuses a number without voice: nothing points it anywhere.) Telnyx
    // does not say what a number takes, so there the number is simply not the account's.
    let _not_staged = broken.add_number_with(&number, NumberFeatures::new(false, true));
    broken.balance("1.50".parse()?);
    broken.clock_skew(Duration::from_secs(600), true);
    println!();
    println!(
        "# three problems, as `telephony doctor {} --number {NUMBER} --min-balance 5` prints them",
        broken.id()
    );
    print(&report(&broken, &options).await?);
    Ok(())
}

async fn report(
    fake: &Emulated,
    options: &DoctorOptions,
) -> Result<Report, Box<dyn std::error::Error>> {
    let provider = fake.provider()?;
    Ok(doctor::run(provider.as_ref(), options).await)
}

/// The report as the command prints it, with its exit status.
fn print(report: &Report) {
    for check in &report.checks {
        println!("{check}");
    }
    println!("(exit {})", u8::from(report.failed()));
}
