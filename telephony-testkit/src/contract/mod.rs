//! Behaviour every adapter owes its hosts, written once and run by every adapter's tests, as
//! object_store's `integration` module is by every backend.
//!
//! - [`rest`]: the REST rules: what is retried and what never is, how long a retry waits,
//!   timeouts, 429s, 401s, 403s and 404s, unreadable answers, hanging up (a call already ended
//!   is success, a failure is not), cost as the carrier's exact decimal or not priced yet,
//!   pointing a number's inbound calls at a URL, and listings that must not leave the API,
//!   loop or run for ever; and call control: its capabilities tell the truth both ways (what
//!   they deny is refused before any request, what they allow reaches the carrier); the
//!   account's balance, the same both ways, and a number without voice refused before any
//!   write. An adapter's `tests/rest.rs` describes its carrier
//!   ([`rest::RestCarrier`]) and calls [`rest_contract!`](crate::rest_contract).
//! - [`webhooks`]: the webhook rules: signed requests verify and any change to what is
//!   signed does not, a missing signature names its header, replay keys name the delivery,
//!   every documented status is normalized and an unknown one kept, broken bodies are typed
//!   errors, inbound calls give E.164 numbers, and no secret prints. An adapter's
//!   `tests/signature.rs` describes its carrier ([`webhooks::WebhookCarrier`]) and calls
//!   [`webhook_contract!`](crate::webhook_contract).
//! - [`media`]: the media rules, through `MediaSession` on every wire format the carrier
//!   streams: the start, audio in at the app's rate and out in exact frames, marks played only
//!   when echoed, clear, DTMF, stop, and broken frames that cost nothing after them. An
//!   adapter's `tests/media.rs` calls [`media_contract!`](crate::media_contract) with its
//!   emulator's side of a stream ([`media::MediaCarrier::emulated`]).
//!
//! Feature `contract` (off by default): it brings wiremock, which only tests want.

mod account;
mod control;
pub mod media;
pub mod rest;
mod rest_calls;
mod side;
mod signal;
pub mod webhooks;

/// One `#[test]` a rule of `contract::$concern`, in a module `$module` of the calling crate:
/// what [`webhook_contract!`](crate::webhook_contract) and
/// [`media_contract!`](crate::media_contract) expand to.
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_tests {
    ($module:ident, $concern:ident, $carrier:expr; $($rule:ident),+) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $rule() {
                    $crate::contract::$concern::$rule(&$carrier);
                }
            )+
        }
    };
}
