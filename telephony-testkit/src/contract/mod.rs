//! Behaviour every adapter owes its hosts, written once and run by every adapter's tests, as
//! object_store's `integration` module is by every backend.
//!
//! - [`rest`]: the REST rules: what is retried and what never is, how long a retry waits,
//!   timeouts, 429s, 401s and 403s, unreadable answers, and listings that must not leave the
//!   API, loop or run for ever. An adapter's `tests/rest.rs` describes its carrier
//!   ([`rest::RestCarrier`]) and calls [`rest_contract!`](crate::rest_contract).
//!
//! Feature `contract` (off by default): it brings wiremock, which only tests want.

pub mod rest;
