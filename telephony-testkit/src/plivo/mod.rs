//! An emulated Plivo: the REST API the adapter uses (calls by request and call id, records,
//! numbers, an application; call control: transfer, recordings, DTMF, machine detection),
//! V3-signed webhooks, Plivo XML (`<Stream>`, `<Speak>`, `<Play>`, `<Dial>`, `<Conference>`,
//! `<Record recordSession>`), and Audio Streams (`start`, `media`, `dtmf`; `playAudio`,
//! `checkpoint`, `clearAudio`, `sendDTMF`).
//!
//! Here, the emulated account, its [`Emulator`] and the [`FakePlivo`] handle; [`rest`] serves
//! the REST API, [`control`] its call-control part (transfer, recordings, DTMF), [`webhooks`]
//! signs what the emulator sends to the host, [`media`] is its side of an Audio Stream, and
//! [`markup`] reads Plivo XML.

mod control;
#[cfg(test)]
mod control_tests;
mod markup;
mod media;
mod rest;
mod webhooks;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, post};
use telephony::audio::{AudioFormat, Encoding, SampleRate};
use telephony::plivo::{ByteOrder, KIND, PlivoConfig, PlivoMediaProtocol};
use telephony::{E164, MediaProtocol, ProviderKind, Secret, Url, WebhookRequest};

use self::rest::{
    cancel_request, create_call, get_account, get_application, get_call, get_number, hangup_call,
    list_live, list_numbers, update_application, update_number,
};
use self::webhooks::PlivoDialect;
use crate::emulator::{Emulated, Emulator, Starting};
use crate::engine::{
    AnswerWith, CallInfo, Carrier, Dial, Dialect, Fake, Hooks, NumberFeatures, bind, carrier, serve,
};
use crate::wire::ProviderStream;

/// The emulated account.
pub const AUTH_ID: &str = "MAEMULATEDACCOUNT001";
/// Its Auth Token.
pub const AUTH_TOKEN: &str = "emulated-plivo-auth-token";
/// The application inbound calls go to.
pub const APP_ID: &str = "10000000000000001";

/// This provider's ways, with the emulated account's secret.
pub(crate) fn dialect() -> Box<dyn Dialect> {
    Box::new(PlivoDialect::new(
        Secret::new(AUTH_TOKEN),
        Url::parse("http://127.0.0.1/").expect("a URL"),
        Arc::default(),
    ))
}

/// What the REST side tells the dialect, which the engine's records do not say: which
/// recordings the Record API started (their callback has the API's fields, not `<Record>`'s),
/// and which calls asked to be hung up on a machine (`machine_detection=hangup`).
#[derive(Debug, Default)]
struct Ledger {
    api_recordings: HashSet<String>,
    hangup_on_machine: HashSet<String>,
}

/// The ledger, shared by the REST side and the dialect.
type SharedLedger = Arc<Mutex<Ledger>>;

fn ledger(shared: &SharedLedger) -> std::sync::MutexGuard<'_, Ledger> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the emulator streams, the default first.
const STREAM_FORMATS: &[AudioFormat] = &[
    AudioFormat::MULAW_8K,
    AudioFormat::new(Encoding::L16Le, SampleRate::Hz16000),
    AudioFormat::new(Encoding::L16Le, SampleRate::Hz8000),
    AudioFormat::new(Encoding::L16Be, SampleRate::Hz16000),
    AudioFormat::new(Encoding::L16Be, SampleRate::Hz8000),
];

/// Plivo's emulator, for [`Emulators`](crate::Emulators).
pub(crate) struct PlivoEmulator;

/// Plivo's emulator, registered in [`Emulators::builtin`](crate::Emulators::builtin).
pub(crate) static EMULATOR: PlivoEmulator = PlivoEmulator;

impl Emulator for PlivoEmulator {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn settings(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("PLIVO_AUTH_ID", AUTH_ID),
            ("PLIVO_AUTH_TOKEN", AUTH_TOKEN),
            ("PLIVO_APP_ID", APP_ID),
        ]
    }

    fn start(&self) -> Starting {
        Box::pin(async {
            let fake = FakePlivo::start().await?;
            Ok(Emulated::new(&EMULATOR, fake.fake.clone(), Arc::new(fake)))
        })
    }

    /// μ-law 8 kHz, or L16 at 8 or 16 kHz in either byte order.
    fn stream_formats(&self) -> &'static [AudioFormat] {
        STREAM_FORMATS
    }

    /// L16 in the format's byte order.
    fn media_protocol(&self, format: AudioFormat) -> Box<dyn MediaProtocol> {
        Box::new(PlivoMediaProtocol::new(
            if format.encoding == Encoding::L16Be {
                ByteOrder::Big
            } else {
                ByteOrder::Little
            },
        ))
    }

    fn provider_stream(&self, format: AudioFormat) -> Result<ProviderStream, String> {
        ProviderStream::emulated(
            self,
            dialect(),
            "4f2c8a1e-7b3d-4e5f-9a6b-1c2d3e4f5a6b",
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
            "4f2c8a1e-0000-4000-8000-000000000001",
            "",
            from.digits(),
            to.digits(),
            true,
        );
        let dialect = PlivoDialect::new(secret.clone(), url.clone(), Arc::default());
        dialect.answer_request(&call, url, "POST").into_request()
    }
}

#[derive(Debug, Clone)]
struct Number {
    digits: String,
    app_id: Option<String>,
    features: NumberFeatures,
}

#[derive(Debug, Clone)]
struct Application {
    answer_url: Option<String>,
    answer_method: String,
}

struct Plivo {
    carrier: Arc<Carrier>,
    numbers: Mutex<Vec<Number>>,
    app: Mutex<Application>,
    ledger: SharedLedger,
}

type Shared = Arc<Plivo>;

crate::emulator::handle!(
    /// An emulated Plivo on a loopback port. Derefs to [`Fake`] for the knobs and records.
    FakePlivo { plivo: Shared }
);

impl FakePlivo {
    /// Starts one on a free loopback port.
    pub async fn start() -> std::io::Result<FakePlivo> {
        let (listener, url) = bind().await?;
        let ledger = SharedLedger::default();
        let dialect = PlivoDialect::new(Secret::new(AUTH_TOKEN), url.clone(), ledger.clone());
        let carrier = carrier(Box::new(dialect), url);
        let plivo = Arc::new(Plivo {
            carrier: carrier.clone(),
            numbers: Mutex::new(Vec::new()),
            app: Mutex::new(Application {
                answer_url: None,
                answer_method: "POST".into(),
            }),
            ledger,
        });
        let router = Router::new()
            .route("/v1/Account/{id}/", get(get_account))
            .route("/v1/Account/{id}/Call/", post(create_call).get(list_live))
            .route(
                "/v1/Account/{id}/Call/{call}/",
                get(get_call)
                    .delete(hangup_call)
                    .post(control::transfer_call),
            )
            .route(
                "/v1/Account/{id}/Call/{call}/Record/",
                post(control::start_recording).delete(control::stop_recording),
            )
            .route(
                "/v1/Account/{id}/Call/{call}/DTMF/",
                post(control::send_digits),
            )
            .route(
                "/v1/Account/{id}/Recording/{recording}/",
                get(control::get_recording).delete(control::delete_recording),
            )
            .route(
                "/v1/Account/{id}/Recording/{file}",
                get(control::recording_file),
            )
            .route(
                "/v1/Account/{id}/Request/{request}/",
                axum::routing::delete(cancel_request),
            )
            .route("/v1/Account/{id}/Number/", get(list_numbers))
            .route(
                "/v1/Account/{id}/Number/{number}/",
                get(get_number).post(update_number),
            )
            .route(
                "/v1/Account/{id}/Application/{app}/",
                get(get_application).post(update_application),
            )
            .with_state(plivo.clone());
        serve(&carrier, listener, router);
        Ok(FakePlivo {
            fake: Fake { carrier },
            plivo,
        })
    }

    /// The adapter's settings for this fake: its account, token, application and host.
    pub fn config(&self) -> PlivoConfig {
        PlivoConfig::new(AUTH_ID, AUTH_TOKEN)
            .app_id(APP_ID)
            .base_url(self.fake.base_url())
    }

    /// Gives the account `number`, with voice and SMS, linked to no application yet.
    pub fn add_number(&self, number: &E164) {
        self.add_number_with(number, NumberFeatures::VOICE_AND_SMS);
    }

    /// [`add_number_with`](Self::add_number_with), for [`Emulated`](crate::Emulated).
    fn stage_number(&self, number: &E164, features: NumberFeatures) -> Result<(), String> {
        self.add_number_with(number, features);
        Ok(())
    }

    /// Gives the account `number`, able to take only `features` (its `voice_enabled` and
    /// `sms_enabled`): without voice, `configure_inbound` refuses it and a call to it never
    /// rings.
    pub fn add_number_with(&self, number: &E164, features: NumberFeatures) {
        let mut numbers = self.plivo.numbers.lock().unwrap_or_else(|e| e.into_inner());
        numbers.push(Number {
            digits: number.digits().to_owned(),
            app_id: None,
            features,
        });
    }

    /// Dials `to`, one of the account's numbers, from `from`: the linked application's answer
    /// URL is fetched, as Plivo does. Returns the call's `CallUUID`.
    pub fn ring(&self, from: &E164, to: &E164) -> Result<String, String> {
        let linked = {
            let numbers = self.plivo.numbers.lock().unwrap_or_else(|e| e.into_inner());
            numbers
                .iter()
                .find(|n| n.digits == to.digits())
                .map(|n| (n.features.voice, n.app_id.clone()))
        };
        let linked = match linked {
            Some((false, _)) => return Err(format!("{to} cannot take voice calls")),
            other => other.map(|(_, app)| app),
        };
        match linked {
            None => return Err(format!("{to} is not a number of the emulated account")),
            Some(None) => {
                return Err(format!(
                    "{to} is linked to no application: run configure_inbound first"
                ));
            }
            Some(Some(_)) => {}
        }
        let app = self
            .plivo
            .app
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let url = app
            .answer_url
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
            .ok_or("the application has no answer URL: run configure_inbound first")?;
        let id = uuid::Uuid::new_v4().to_string();
        self.fake.carrier.place(Dial {
            id: id.clone(),
            secondary_id: String::new(),
            from: from.digits().to_owned(),
            to: to.digits().to_owned(),
            inbound: true,
            answer: AnswerWith::Url(url, app.answer_method),
            hooks: Hooks::default(),
            ring_timeout: None,
            parent: None,
            amd: None,
            record: None,
        });
        Ok(id)
    }
}
