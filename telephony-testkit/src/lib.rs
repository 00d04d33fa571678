//! Emulated carriers for telephony-rs: Twilio, Plivo, Vonage and Telnyx, in-process, on
//! loopback.
//!
//! Each fake serves the part of its provider's REST API that the adapters use, with the
//! provider's paths, status codes and bodies, so an adapter only changes its base URL to use
//! it. Calls run a state machine (queued, ringing, in progress, completed; busy, no answer or
//! failed when the callee is set so); on answer the fake fetches the answer URL with a signed
//! request, reads the TwiML, Plivo XML or NCCO (Telnyx: announces the call and waits for the
//! host's answer command, which carries the stream), and when it connects a stream opens the
//! WebSocket as the provider does, plays a scripted caller, records what the agent sends
//! back, honours clear and marks, and sends signed status callbacks and a price.
//!
//! Each also serves the account's balance (`Fake::balance` sets it: a low one stages an account
//! about to stop calling) and can stage a number without voice (`add_number_with`, with
//! [`NumberFeatures`], where the carrier's numbers API can say so: all but Telnyx).
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
//! [`FakeTwilio`], [`FakePlivo`], [`FakeVonage`] and [`FakeTelnyx`] are each emulator's own handle, for tests of
//! what only that carrier does.
//!
//! # The contract suite
//!
//! With feature `contract`, the module `contract` holds the behaviour every adapter owes its hosts,
//! written once, as object_store's integration tests are for every backend. A carrier's tests
//! describe what differs about it and call one macro per concern; each rule becomes a test of
//! its own:
//!
//! - `rest_contract!`: retries that never place a call twice, `Retry-After`, timeouts, 401,
//!   403, 404, 429 and 5xx answers, unreadable bodies, hang-up (ended, already ended, failed),
//!   cost (the exact decimal, or not priced yet), inbound configuration (what was there
//!   before, nothing to change, a number not the account's, a number without voice refused
//!   before any write), the account's balance (unsupported with no request, or the carrier's
//!   exact decimal), page guards; against a wiremock fake of the carrier's API
//!   (`contract::rest::RestCarrier`).
//! - `webhook_contract!`: signed requests verify and any changed byte of what is signed does
//!   not, a missing signature names its header, replay keys name the delivery, every
//!   documented status is normalized and an unknown one kept, broken bodies are typed errors,
//!   inbound numbers come out in E.164, no secret prints
//!   (`contract::webhooks::WebhookCarrier`: the adapter, its secret, its status table).
//! - `media_contract!`: through `MediaSession`, on every wire format the carrier streams:
//!   the start, audio in at the app's rate and out in exact 20 ms frames, marks played only
//!   when echoed, clear, DTMF, stop, broken frames that cost nothing after them
//!   (`contract::media::MediaCarrier`: for a built-in carrier, its emulator's side of a
//!   stream, `MediaCarrier::emulated`; for another,
//!   a `CarrierSide` of its own).
//!
//! ```ignore
//! // telephony-twilio/tests/media.rs
//! telephony_testkit::media_contract!(MediaCarrier::emulated("twilio"));
//! ```
//!
//! `tests/custom_provider.rs` in the workspace runs all three on a carrier defined outside it.

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
pub mod redis;
mod script;
mod telnyx;
mod tls;
mod twilio;
mod vonage;
mod wire;

pub use emulator::{Emulated, Emulator, Emulators, Starting};
pub use engine::{CreateRate, Fake, Fault, NumberFeatures, Operation, Recording};
pub use listener::{Connections, serve_counted};
pub use plivo::FakePlivo;
pub use record::{CallRecord, Callee, Happening, Moment, Violation};
pub use script::{
    CallerScript, SCRIPT_RATE, parse_wav, read_wav, resample, speech_like, wav_bytes, write_wav,
};
pub use telnyx::FakeTelnyx;
pub use tls::TlsListener;
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
    /// Telnyx's.
    pub mod telnyx {
        pub use crate::telnyx::{API_KEY, CONNECTION_ID, PRIVATE_KEY, PUBLIC_KEY};
    }
    /// Vonage's.
    pub mod vonage {
        pub use crate::vonage::{
            API_KEY, API_SECRET, APPLICATION_ID, PRIVATE_KEY, SIGNATURE_SECRET,
        };
    }
}
