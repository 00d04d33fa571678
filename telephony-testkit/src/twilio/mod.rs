//! An emulated Twilio: the REST API the adapter uses (calls, numbers), signed webhooks, and
//! Media Streams (`connected`, `start`, 20 ms μ-law `media`, `dtmf`, `mark`, `stop`).
//!
//! Here, the emulated account, its [`Emulator`] and the [`FakeTwilio`] handle; [`rest`] serves
//! the REST API, [`webhooks`] signs what the emulator sends to the host, [`media`] is its side
//! of a Media Stream, and [`markup`] reads TwiML.

mod control;
mod markup;
mod media;
mod rest;
mod webhooks;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, post};
use telephony::audio::AudioFormat;
use telephony::twilio::{KIND, TwilioConfig, TwilioMediaProtocol};
use telephony::{E164, MediaProtocol, ProviderKind, Secret, Url, WebhookRequest};

use self::rest::{
    create_call, fetch_balance, fetch_call, list_numbers, update_call, update_number,
};
use self::webhooks::TwilioDialect;
use crate::emulator::{Emulated, Emulator, Starting};
use crate::engine::{
    AnswerWith, CallInfo, Carrier, Dial, Dialect, Fake, Hooks, NumberFeatures, bind, carrier, serve,
};
use crate::wire::ProviderStream;

/// The emulated account.
pub const ACCOUNT_SID: &str = "AC0000000000000000000000000000fa4e";
/// Its Auth Token.
pub const AUTH_TOKEN: &str = "emulated-twilio-auth-token";

/// This provider's ways, with the emulated account's secret.
pub(crate) fn dialect() -> Box<dyn Dialect> {
    dialect_at(Url::parse("http://127.0.0.1/").expect("a URL"))
}

/// The dialect of a fake served at `base_url` (where its recordings are fetched).
fn dialect_at(base_url: Url) -> Box<dyn Dialect> {
    Box::new(TwilioDialect {
        token: Secret::new(AUTH_TOKEN),
        base_url,
    })
}

/// Twilio's emulator, for [`Emulators`](crate::Emulators).
pub(crate) struct TwilioEmulator;

/// Twilio's emulator, registered in [`Emulators::builtin`](crate::Emulators::builtin).
pub(crate) static EMULATOR: TwilioEmulator = TwilioEmulator;

impl Emulator for TwilioEmulator {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn settings(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
            ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
        ]
    }

    fn start(&self) -> Starting {
        Box::pin(async {
            let fake = FakeTwilio::start().await?;
            Ok(Emulated::new(&EMULATOR, fake.fake.clone(), Arc::new(fake)))
        })
    }

    /// μ-law 8 kHz only.
    fn stream_formats(&self) -> &'static [AudioFormat] {
        &[AudioFormat::MULAW_8K]
    }

    fn media_protocol(&self, _format: AudioFormat) -> Box<dyn MediaProtocol> {
        Box::new(TwilioMediaProtocol::new())
    }

    fn provider_stream(&self, format: AudioFormat) -> Result<ProviderStream, String> {
        ProviderStream::emulated(
            self,
            dialect(),
            "CA0123456789abcdef0123456789abcdef",
            Vec::new(),
            format,
        )
    }

    fn inbound_webhook(
        &self,
        url: &Url,
        from: &E164,
        to: &E164,
        secret: &Secret,
    ) -> WebhookRequest {
        let call = CallInfo::detached(
            "CA0123456789abcdef0123456789abcdef",
            "",
            from.as_str(),
            to.as_str(),
            true,
        );
        let dialect = TwilioDialect {
            token: secret.clone(),
            base_url: url.clone(),
        };
        dialect.answer_request(&call, url, "POST").into_request()
    }
}

fn rfc2822(t: std::time::SystemTime) -> String {
    let t: time::OffsetDateTime = t.into();
    t.format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default()
}

#[derive(Debug, Clone)]
struct Number {
    sid: String,
    phone_number: String,
    voice_url: Option<String>,
    voice_method: String,
    features: NumberFeatures,
}

struct Twilio {
    carrier: Arc<Carrier>,
    numbers: Mutex<Vec<Number>>,
}

type Shared = Arc<Twilio>;

crate::emulator::handle!(
    /// An emulated Twilio on a loopback port. Derefs to [`Fake`] for the knobs and records.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use telephony::TelephonyProvider;
    /// use telephony::twilio::Twilio;
    /// use telephony_testkit::FakeTwilio;
    ///
    /// let fake = FakeTwilio::start().await?;
    /// let twilio = Twilio::new(fake.config())?; // the adapter, pointed at the fake
    /// # let _ = twilio;
    /// # Ok(()) }
    /// ```
    FakeTwilio { twilio: Shared }
);

impl FakeTwilio {
    /// Starts one on a free loopback port.
    pub async fn start() -> std::io::Result<FakeTwilio> {
        let (listener, url) = bind().await?;
        let carrier = carrier(dialect_at(url.clone()), url);
        let twilio = Arc::new(Twilio {
            carrier: carrier.clone(),
            numbers: Mutex::new(Vec::new()),
        });
        let router = Router::new()
            .route("/2010-04-01/Accounts/{sid}/Calls.json", post(create_call))
            .route(
                "/2010-04-01/Accounts/{sid}/Calls/{call}",
                get(fetch_call).post(update_call),
            )
            .route(
                "/2010-04-01/Accounts/{sid}/Calls/{call}/Recordings.json",
                post(control::start_recording),
            )
            .route(
                "/2010-04-01/Accounts/{sid}/Calls/{call}/Recordings/{recording}",
                post(control::update_recording),
            )
            .route(
                "/2010-04-01/Accounts/{sid}/Recordings/{recording}",
                get(control::fetch_recording).delete(control::delete_recording),
            )
            .route(
                "/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json",
                get(list_numbers),
            )
            .route(
                "/2010-04-01/Accounts/{sid}/Balance.json",
                get(fetch_balance),
            )
            .route(
                "/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers/{number}",
                post(update_number),
            )
            .with_state(twilio.clone());
        serve(&carrier, listener, router);
        Ok(FakeTwilio {
            fake: Fake { carrier },
            twilio,
        })
    }

    /// The adapter's settings for this fake: its account, token and host.
    pub fn config(&self) -> TwilioConfig {
        TwilioConfig::new(ACCOUNT_SID, AUTH_TOKEN).base_url(self.fake.base_url())
    }

    /// Gives the account `number`, with voice and SMS (no voice URL yet: set it with
    /// `configure_inbound`).
    pub fn add_number(&self, number: &E164) {
        self.add_number_with(number, NumberFeatures::VOICE_AND_SMS);
    }

    /// [`add_number_with`](Self::add_number_with), for [`Emulated`](crate::Emulated).
    fn stage_number(&self, number: &E164, features: NumberFeatures) -> Result<(), String> {
        self.add_number_with(number, features);
        Ok(())
    }

    /// Gives the account `number`, able to take only `features` (its `capabilities`):
    /// without voice, `configure_inbound` refuses it and a call to it never rings.
    pub fn add_number_with(&self, number: &E164, features: NumberFeatures) {
        let mut numbers = self
            .twilio
            .numbers
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let sid = format!("PN{:032x}", numbers.len() + 1);
        numbers.push(Number {
            sid,
            phone_number: number.as_str().to_owned(),
            voice_url: None,
            voice_method: "POST".into(),
            features,
        });
    }

    /// Dials `to`, one of the account's numbers, from `from`: the number's voice URL is
    /// fetched, as Twilio does for an inbound call. Returns the call's id.
    pub fn ring(&self, from: &E164, to: &E164) -> Result<String, String> {
        let number = {
            let numbers = self
                .twilio
                .numbers
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            numbers
                .iter()
                .find(|n| n.phone_number == to.as_str())
                .cloned()
        };
        let number =
            number.ok_or_else(|| format!("{to} is not a number of the emulated account"))?;
        if !number.features.voice {
            return Err(format!("{to} cannot take voice calls"));
        }
        let url = number
            .voice_url
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
            .ok_or_else(|| format!("{to} has no voice URL: run configure_inbound first"))?;
        let id = format!("CA{:032x}", self.fake.carrier.next_seq());
        self.fake.carrier.place(Dial {
            id: id.clone(),
            secondary_id: String::new(),
            from: from.as_str().to_owned(),
            to: to.as_str().to_owned(),
            inbound: true,
            answer: AnswerWith::Url(url, number.voice_method.clone()),
            hooks: Hooks::default(),
            ring_timeout: None,
            parent: None,
            amd: None,
            record: None,
        });
        Ok(id)
    }
}
