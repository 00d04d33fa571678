//! Emulated carriers for telephony-rs: Twilio, Plivo and Vonage, in-process, on loopback.
//!
//! Each fake serves the part of its provider's REST API that the adapters use, with the
//! provider's paths, status codes and bodies, so an adapter only changes its base URL to use
//! it. Calls run a state machine (queued, ringing, in progress, completed; busy, no answer or
//! failed when the callee is set so); on answer the fake fetches the answer URL with a signed
//! request, reads the TwiML, Plivo XML or NCCO, and when it connects a stream opens the
//! WebSocket as the provider does, plays a scripted caller, records what the agent sends
//! back, honours clear and marks, and sends signed status callbacks and a price.
//!
//! It flags what the real provider would punish: a Vonage frame of the wrong size, a binary
//! frame to Twilio, a malformed message, audio right after a clear. And it has fault knobs: a
//! 429 with `Retry-After`, a 5xx, slow answers, a stream dropped mid-call.
//!
//! Each emulator is described once, in its own module, as an [`Emulator`]; [`Emulators`] is
//! the one list that registers them, by the ids of the facade's `telephony::Registry`. A test
//! that runs on every carrier iterates it, starts each, and builds the adapter from the
//! emulated account's settings through the registry, naming none:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use telephony_testkit::Emulators;
//!
//! for emulator in Emulators::builtin().emulators() {
//!     let fake = emulator.start().await?;
//!     let provider = fake.provider()?; // telephony::Registry::builtin().config(id, settings)
//!     # let _ = provider;
//! }
//! # Ok(()) }
//! ```
//!
//! [`FakeTwilio`], [`FakePlivo`] and [`FakeVonage`] are each emulator's own handle, for tests of
//! what only that carrier does.

#![forbid(unsafe_code)]
// The fakes' handlers answer errors with axum responses, as axum handlers do.
#![allow(clippy::result_large_err)]

#[cfg(feature = "contract")]
pub mod contract;
mod emulator;
mod engine;
mod listener;
mod markup;
mod plivo;
mod record;
mod script;
mod twilio;
mod vonage;
mod wire;

pub use emulator::{Emulated, Emulator, Emulators, Starting};
pub use engine::{Fake, Fault, Operation};
pub use listener::{Connections, serve_counted};
pub use plivo::FakePlivo;
pub use record::{CallRecord, Callee, Happening, Moment, Violation};
pub use script::{CallerScript, SCRIPT_RATE, read_wav, resample, speech_like, write_wav};
pub use twilio::FakeTwilio;
pub use vonage::FakeVonage;
pub use wire::{FromAgent, ProviderMessage, ProviderStream, Recorded};

/// The emulated accounts' credentials (they protect nothing).
pub mod accounts {
    /// Twilio's.
    pub mod twilio {
        pub use crate::twilio::{ACCOUNT_SID, AUTH_TOKEN};
    }
    /// Plivo's.
    pub mod plivo {
        pub use crate::plivo::{APP_ID, AUTH_ID, AUTH_TOKEN};
    }
    /// Vonage's.
    pub mod vonage {
        pub use crate::vonage::{
            API_KEY, API_SECRET, APPLICATION_ID, PRIVATE_KEY, SIGNATURE_SECRET,
        };
    }
}
