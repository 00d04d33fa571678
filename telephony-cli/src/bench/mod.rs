//! `telephony bench`: what a voice platform asks before it buys machines.
//!
//! - `media`: the media path in one process, no sockets: legs per core, time per frame by
//!   stage, the memory one session holds.
//! - `server`: the agent server through real WebSockets on loopback, driven by a load
//!   generator in this process against an agent server in another (`agent`, which `server`
//!   starts itself): concurrent real-time calls per core, frame turnaround, memory per call.

use clap::Subcommand;

use crate::Failure;

mod agent;
mod floor;
mod load;
mod media;
mod proc;
mod server;
mod step;
mod webhook;

#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// Run simulated calls through a provider's whole media path and report legs per core, the
    /// time per 20 ms frame by stage, and the memory one session holds.
    Media(media::MediaArgs),
    /// Drive real-time media streams through real WebSockets into an echo agent server in
    /// another process, and report the concurrent calls one core carries, how late each
    /// reply comes, and the memory each call holds.
    Server(server::ServerArgs),
    /// The agent server `bench server` measures: axum, `media_channel`, an echo agent on a
    /// current-thread runtime. Prints `listening ADDRESS` once it accepts.
    #[command(hide = true)]
    Agent(agent::AgentArgs),
}

pub(crate) fn run(cmd: BenchCommand) -> Result<(), Failure> {
    match cmd {
        BenchCommand::Media(args) => media::run(&args),
        BenchCommand::Server(args) => server::run(&args),
        BenchCommand::Agent(args) => agent::run(&args),
    }
}
