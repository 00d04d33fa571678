//! `telephony`: the telephony-rs library at a terminal.
//!
//! Exit status: 0 on success, 1 when the answer is "no" (an invalid signature), 2 on a usage,
//! configuration or I/O error, always with a one-line reason on stderr.

mod audio;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// telephony-rs at a terminal: audio conversion now; webhooks, markup and calls as the
/// provider adapters land.
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
}

/// Why a command failed, and the exit status that says so.
#[derive(Debug)]
enum Failure {
    /// Usage, configuration or I/O: exit 2.
    Usage(String),
}

impl Failure {
    fn exit(self) -> ExitCode {
        match self {
            Failure::Usage(reason) => {
                eprintln!("telephony: {reason}");
                ExitCode::from(2)
            }
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let result = match cli.command {
        Command::Audio(cmd) => audio::run(cmd),
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
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
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
