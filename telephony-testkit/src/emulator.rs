//! An emulated carrier, described once in its own file ([`Emulator`]), and the one list that
//! registers them ([`Emulators`]): what the facade's `telephony::Registry` is to the adapters,
//! this is to the emulators. Outside each emulator's own file, nothing in this crate names a
//! carrier but [`Emulators::builtin`].

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;

use telephony::audio::AudioFormat;
use telephony::{
    ConfigError, E164, MediaProtocol, ProviderConfig, ProviderKind, Registry, Secret,
    TelephonyProvider, Url, WebhookRequest,
};

use crate::engine::{Fake, NumberFeatures};
use crate::wire::ProviderStream;

/// An emulator starting: what [`Emulator::start`] returns.
pub type Starting = Pin<Box<dyn Future<Output = std::io::Result<Emulated>> + Send>>;

/// An emulated carrier, as a test or a demo knows it: which carrier it emulates, the account
/// it serves (as settings), how to start one, and its media stream's facts (the formats it
/// streams, the adapter's protocol for each, its side of a stream without a socket).
///
/// Each emulator describes itself in its own file, on the engine this crate's emulators
/// share (so the implementations are this crate's own: only it makes an [`Emulated`]);
/// [`Emulators::builtin`] lists them. With the account's settings, the adapter is built through
/// the facade's registry, without naming its type:
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use telephony::Registry;
/// use telephony_testkit::Emulators;
///
/// for emulator in Emulators::builtin().emulators() {
///     let fake = emulator.start().await?;
///     let provider = Registry::builtin()
///         .config(emulator.id(), |name| fake.setting(name))?
///         .base_url(fake.base_url())
///         .build()?; // the real adapter, pointed at the emulator
///     assert_eq!(provider.kind(), emulator.kind());
/// }
/// # Ok(()) }
/// ```
pub trait Emulator: Send + Sync + 'static {
    /// The carrier it emulates: its id, as `telephony::Registry` knows it, and its name.
    fn kind(&self) -> ProviderKind;

    /// Its id (`kind().id()`).
    fn id(&self) -> &'static str {
        self.kind().id()
    }

    /// The emulated account's settings, each named as the environment names it (the
    /// carrier's `settings()`): every emulator of this carrier serves this account. The API
    /// host is not among them: it is each started emulator's [`base_url`](Fake::base_url).
    fn settings(&self) -> &'static [(&'static str, &'static str)];

    /// Starts one on a free loopback port.
    fn start(&self) -> Starting;

    /// The wire formats its media stream carries, the default first: the formats an answer
    /// may ask for.
    fn stream_formats(&self) -> &'static [AudioFormat];

    /// The media protocol the adapter runs on a stream of this carrier in `format`, as
    /// `TelephonyProvider::media_protocol` gives it.
    fn media_protocol(&self, format: AudioFormat) -> Box<dyn MediaProtocol>;

    /// The carrier's side of a stream in `format`, message by message, without a socket.
    ///
    /// # Errors
    ///
    /// A format it does not stream.
    fn provider_stream(&self, format: AudioFormat) -> Result<ProviderStream, String>;

    /// The webhook the carrier sends to `url` to ask how to answer an inbound call from
    /// `from` to `to`, signed with `secret`: the account's own (the setting the carrier's
    /// webhook scheme names), or another, to forge one.
    fn inbound_webhook(&self, url: &Url, from: &E164, to: &E164, secret: &Secret)
    -> WebhookRequest;
}

impl fmt::Debug for dyn Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Emulator").field(&self.id()).finish()
    }
}

/// The emulators this crate has: the one list that registers them.
///
/// ```
/// use telephony_testkit::Emulators;
///
/// let emulators = Emulators::builtin();
/// assert_eq!(emulators.ids(), telephony::Registry::builtin().ids());
/// assert!(emulators.find("Twilio").is_some());
/// ```
#[derive(Clone)]
pub struct Emulators {
    emulators: Vec<&'static dyn Emulator>,
}

impl Emulators {
    /// Every built-in emulator, one for each of the facade's built-in carriers, in the
    /// registry's order.
    pub fn builtin() -> Emulators {
        Emulators {
            emulators: vec![
                &crate::twilio::EMULATOR,
                &crate::plivo::EMULATOR,
                &crate::vonage::EMULATOR,
                &crate::telnyx::EMULATOR,
            ],
        }
    }

    /// No emulator at all.
    pub fn empty() -> Emulators {
        Emulators {
            emulators: Vec::new(),
        }
    }

    /// Adds `emulator`, replacing one with the same id.
    pub fn with(mut self, emulator: &'static dyn Emulator) -> Emulators {
        self.emulators.retain(|e| e.id() != emulator.id());
        self.emulators.push(emulator);
        self
    }

    /// Every emulator, in the order registered.
    pub fn emulators(&self) -> &[&'static dyn Emulator] {
        &self.emulators
    }

    /// The emulator of the carrier with this id, in any case.
    pub fn find(&self, id: &str) -> Option<&'static dyn Emulator> {
        let id = id.trim();
        self.emulators
            .iter()
            .copied()
            .find(|e| e.id().eq_ignore_ascii_case(id))
    }

    /// The ids, in the order registered.
    pub fn ids(&self) -> Vec<&'static str> {
        self.emulators.iter().map(|e| e.id()).collect()
    }
}

impl fmt::Debug for Emulators {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.ids()).finish()
    }
}

/// An emulator's own handle: `pub struct $name { fake: Fake, $state: $type }` with its doc,
/// a `Debug` that shows where it listens, a `Deref` to [`Fake`] for the knobs and records, and
/// its [`Line`] (its own `add_number` and `ring`, which each emulator writes).
macro_rules! handle {
    ($(#[$doc:meta])* $name:ident { $state:ident: $type:ty }) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name {
            fake: $crate::engine::Fake,
            $state: $type,
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("base_url", &self.fake.base_url().as_str())
                    .finish_non_exhaustive()
            }
        }

        impl std::ops::Deref for $name {
            type Target = $crate::engine::Fake;
            fn deref(&self) -> &$crate::engine::Fake {
                &self.fake
            }
        }

        impl $crate::emulator::Line for $name {
            fn add_number(&self, number: &telephony::E164) {
                $name::add_number(self, number);
            }

            fn add_number_with(
                &self,
                number: &telephony::E164,
                features: $crate::engine::NumberFeatures,
            ) -> Result<(), String> {
                $name::stage_number(self, number, features)
            }

            fn ring(&self, from: &telephony::E164, to: &telephony::E164) -> Result<String, String> {
                $name::ring(self, from, to)
            }
        }
    };
}
pub(crate) use handle;

/// What the phone network does with one emulated account: the numbers it has, and callers
/// dialling them. Each emulator's handle does it its carrier's way.
pub(crate) trait Line: Send + Sync {
    /// Gives the account `number`, pointed nowhere yet.
    fn add_number(&self, number: &E164);
    /// Gives the account `number`, able to take only `features`, where the carrier's numbers
    /// API can say so.
    fn add_number_with(&self, number: &E164, features: NumberFeatures) -> Result<(), String>;
    /// Dials `to`, one of the account's numbers, from `from`; the call's id.
    fn ring(&self, from: &E164, to: &E164) -> Result<String, String>;
}

/// A started emulator, whichever carrier it emulates: derefs to [`Fake`] for the knobs and
/// records, gives the account's settings to build the adapter with, and plays the phone
/// network (numbers, inbound calls).
#[derive(Clone)]
pub struct Emulated {
    emulator: &'static dyn Emulator,
    fake: Fake,
    line: Arc<dyn Line>,
}

impl fmt::Debug for Emulated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulated")
            .field("provider", &self.emulator.id())
            .field("base_url", &self.fake.base_url().as_str())
            .finish_non_exhaustive()
    }
}

impl Deref for Emulated {
    type Target = Fake;
    fn deref(&self) -> &Fake {
        &self.fake
    }
}

impl Emulated {
    pub(crate) fn new(emulator: &'static dyn Emulator, fake: Fake, line: Arc<dyn Line>) -> Self {
        Emulated {
            emulator,
            fake,
            line,
        }
    }

    /// What it is an emulator of.
    pub fn emulator(&self) -> &'static dyn Emulator {
        self.emulator
    }

    /// The id of the carrier it emulates.
    pub fn id(&self) -> &'static str {
        self.emulator.id()
    }

    /// The emulated account's setting `name` (as the environment names it), if it has one:
    /// the lookup `telephony::Registry::config` takes.
    pub fn setting(&self, name: &str) -> Option<String> {
        self.emulator
            .settings()
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    }

    /// The adapter's configuration for this emulator, from `registry` (which must know its
    /// carrier): the account's settings, every API host pointed at the emulator.
    ///
    /// # Errors
    ///
    /// A carrier `registry` does not have, or settings it refuses.
    pub fn config(&self, registry: &Registry) -> Result<ProviderConfig, ConfigError> {
        Ok(registry
            .config(self.id(), |name| self.setting(name))?
            .base_url(self.base_url()))
    }

    /// The real adapter, pointed at the emulator (its carrier from
    /// `telephony::Registry::builtin`).
    ///
    /// # Errors
    ///
    /// What [`config`](Self::config) refuses, or what the adapter refuses to be built with.
    pub fn provider(&self) -> Result<Arc<dyn TelephonyProvider>, telephony::Error> {
        self.config(&Registry::builtin())?.build()
    }

    /// Gives the emulated account `number` (pointed nowhere yet: `configure_inbound` points
    /// it at a webhook).
    pub fn add_number(&self, number: &E164) {
        self.line.add_number(number);
    }

    /// Gives the emulated account `number`, able to take only `features` (a number without
    /// voice, say), as the carrier's numbers API then reports it.
    ///
    /// # Errors
    ///
    /// A carrier whose numbers API does not say what a number takes (Telnyx), asked for
    /// anything but voice and SMS: it cannot be staged on that carrier's wire.
    pub fn add_number_with(&self, number: &E164, features: NumberFeatures) -> Result<(), String> {
        self.line.add_number_with(number, features)
    }

    /// Dials `to`, one of the account's numbers, from `from`, as a caller on the phone
    /// network would: the carrier asks the webhook the number is pointed at how to answer.
    /// Returns the call's id.
    ///
    /// # Errors
    ///
    /// A number the account does not have, or one pointed nowhere.
    pub fn ring(&self, from: &E164, to: &E164) -> Result<String, String> {
        self.line.ring(from, to)
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use telephony::audio::{Encoding, SampleRate};
    use telephony::{MediaSession, Recognition, SessionConfig, SessionEvent};

    use super::*;

    #[test]
    fn one_emulator_for_each_carrier_of_the_registry() {
        let (emulators, registry) = (Emulators::builtin(), Registry::builtin());
        assert_eq!(emulators.ids(), registry.ids());
        for emulator in emulators.emulators() {
            let carrier = registry.find(emulator.id()).expect("a registered carrier");
            assert_eq!(carrier.kind(), emulator.kind());
            // It streams the carrier's default, first, and every format the carrier can.
            assert_eq!(
                emulator.stream_formats()[0],
                carrier.stream_formats()[0],
                "{}",
                emulator.id()
            );
            for format in carrier.stream_formats() {
                assert!(
                    emulator.stream_formats().contains(format),
                    "{}: {format:?}",
                    emulator.id()
                );
            }
            // The account's settings are settings the carrier reads, and build its adapter.
            for (name, _) in emulator.settings() {
                assert!(carrier.settings().contains(name), "{name}");
            }
            let lookup = |name: &str| {
                emulator
                    .settings()
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            };
            let provider = registry
                .config(emulator.id(), lookup)
                .unwrap()
                .base_url("http://127.0.0.1:9/".parse().unwrap())
                .build()
                .unwrap();
            assert_eq!(provider.kind(), emulator.kind());
        }
        assert!(emulators.find(" VONAGE ").is_some());
        assert!(emulators.find("skype").is_none());
        let one = Emulators::empty().with(emulators.emulators()[0]);
        assert_eq!(one.with(emulators.emulators()[0]).ids().len(), 1);
    }

    #[test]
    fn an_inbound_webhook_verifies_with_the_account_secret_and_no_other() {
        let url: Url = "https://agent.example.com/inbound".parse().unwrap();
        let (from, to): (E164, E164) = (
            "+14155550199".parse().unwrap(),
            "+14155550100".parse().unwrap(),
        );
        for emulator in Emulators::builtin().emulators() {
            let id = emulator.id();
            let carrier = Registry::builtin().find(id).unwrap();
            let scheme = carrier.webhooks();
            let secret = emulator
                .settings()
                .iter()
                .find(|(n, _)| *n == scheme.secret_setting())
                .map(|(_, v)| Secret::new(*v))
                .expect("the account's signing secret");
            let now = SystemTime::now();
            let genuine = emulator.inbound_webhook(&url, &from, &to, &secret);
            assert_eq!(
                carrier.recognize(&genuine),
                Recognition::BySignature,
                "{id}"
            );
            assert!(
                scheme.verify(Some(&secret), None, &genuine, now).is_ok(),
                "{id}"
            );
            let provider = Registry::builtin()
                .config(id, |name| {
                    emulator
                        .settings()
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| (*v).to_owned())
                })
                .unwrap()
                .build()
                .unwrap();
            let call = provider.parse_inbound(&genuine).unwrap();
            assert_eq!(call.to_number.as_ref(), Some(&to), "{id}");

            let forged = emulator.inbound_webhook(&url, &from, &to, &Secret::new("not-it"));
            assert!(
                scheme.verify(Some(&secret), None, &forged, now).is_err(),
                "{id}"
            );
        }
    }

    #[test]
    fn a_stream_in_each_format_the_adapter_reads_and_none_other() {
        for emulator in Emulators::builtin().emulators() {
            let id = emulator.id();
            for &format in emulator.stream_formats() {
                let mut stream = emulator.provider_stream(format).unwrap();
                let mut session = MediaSession::new(
                    emulator.media_protocol(format),
                    SessionConfig::new(format.rate),
                );
                let mut started = None;
                for message in stream.opening() {
                    if let Ok(SessionEvent::Started(start)) = session.handle(message.as_ws()) {
                        started = Some(start.format);
                    }
                }
                assert_eq!(started, Some(format), "{id}");
                let frame =
                    vec![0x55; format.rate.samples_per_20ms() * format.encoding.bytes_per_sample()];
                let media = stream.media(&frame);
                match session.handle(media.as_ws()) {
                    Ok(SessionEvent::Audio(pcm)) => {
                        assert_eq!(pcm.len(), format.rate.samples_per_20ms(), "{id}");
                    }
                    other => panic!("{id} {format:?}: {other:?}"),
                }
            }
            // A format no carrier streams is refused.
            let float = telephony::audio::AudioFormat::new(Encoding::F32Le, SampleRate::Hz48000);
            assert!(emulator.provider_stream(float).is_err(), "{id}");
        }
    }
}
