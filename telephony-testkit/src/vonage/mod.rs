//! An emulated Vonage: the Voice API (RS256 application JWTs checked with the application's
//! public key), the Numbers and Applications APIs (Basic), signed webhooks (HS256 with
//! `payload_hash`), and the WebSocket (`websocket:connected` with the headers echoed, binary
//! L16 frames of exactly 20 ms, `clear` and `notify`).
//!
//! Here, the emulated application and account, its [`Emulator`] and the [`FakeVonage`]
//! handle; [`rest`] serves the REST APIs, [`webhooks`] signs what the emulator sends to the
//! host, [`media`] is its side of the WebSocket, [`markup`] reads NCCOs, and [`control`] serves
//! call control (transfer, DTMF, recordings' files, machine detection on create).

mod control;
mod markup;
mod media;
mod rest;
mod webhooks;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, post, put};
use jsonwebtoken::DecodingKey;
use telephony::audio::{AudioFormat, Encoding, SampleRate};
use telephony::vonage::{CALL_UUID_HEADER, KIND, VonageConfig, VonageMediaProtocol};
use telephony::{E164, MediaProtocol, ProviderKind, Secret, Url, WebhookRequest};

use self::control::{fetch_file, send_dtmf};
use self::rest::{
    create_call, get_application, get_balance, get_call, list_numbers, put_application,
    update_call, update_number,
};
use self::webhooks::VonageDialect;
use crate::emulator::{Emulated, Emulator, Starting};
use crate::engine::rfc3339;
use crate::engine::{
    AnswerWith, CallInfo, Carrier, Dial, Dialect, Fake, Hooks, NumberFeatures, bind, carrier, serve,
};
use crate::wire::ProviderStream;

/// The emulated application.
pub const APPLICATION_ID: &str = "00000000-e11a-4a7e-8a5e-00000000fa4e";
/// The account's API key.
pub const API_KEY: &str = "emulated1";
/// Its API secret.
pub const API_SECRET: &str = "emulated-vonage-api-secret";
/// Its signature secret, which signs webhooks.
pub const SIGNATURE_SECRET: &str = "emulated-vonage-signature-secret";
/// The application's private key (made for the emulator; it protects nothing).
pub const PRIVATE_KEY: &str = include_str!("../../keys/emulator_private.key");
const PUBLIC_KEY: &str = include_str!("../../keys/emulator_public.pem");

/// Vonage's Voice API host: where the recordings of a dialect without a fake are.
fn voice_api() -> Url {
    Url::parse("https://api.nexmo.com/").expect("a URL")
}

/// This provider's ways, with the emulated account's secret (recordings on Vonage's host).
pub(crate) fn dialect() -> Box<dyn Dialect> {
    Box::new(VonageDialect::new(
        Secret::new(SIGNATURE_SECRET),
        voice_api(),
    ))
}

/// This provider's ways, for a fake whose Voice API (and recordings) are at `base_url`,
/// signing its webhooks while `signs` is on.
fn dialect_at(base_url: Url, signs: Arc<AtomicBool>) -> Box<dyn Dialect> {
    Box::new(VonageDialect::switched(
        Secret::new(SIGNATURE_SECRET),
        base_url,
        signs,
    ))
}

/// What the emulator streams, the default first.
const STREAM_FORMATS: &[AudioFormat] = &[
    AudioFormat::L16LE_16K,
    AudioFormat::new(Encoding::L16Le, SampleRate::Hz8000),
    AudioFormat::new(Encoding::L16Le, SampleRate::Hz24000),
];

/// Vonage's emulator, for [`Emulators`](crate::Emulators).
pub(crate) struct VonageEmulator;

/// Vonage's emulator, registered in [`Emulators::builtin`](crate::Emulators::builtin).
pub(crate) static EMULATOR: VonageEmulator = VonageEmulator;

impl Emulator for VonageEmulator {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn settings(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("VONAGE_APPLICATION_ID", APPLICATION_ID),
            ("VONAGE_PRIVATE_KEY", PRIVATE_KEY),
            ("VONAGE_API_KEY", API_KEY),
            ("VONAGE_API_SECRET", API_SECRET),
            ("VONAGE_SIGNATURE_SECRET", SIGNATURE_SECRET),
        ]
    }

    fn start(&self) -> Starting {
        Box::pin(async {
            let fake = FakeVonage::start().await?;
            Ok(Emulated::new(&EMULATOR, fake.fake.clone(), Arc::new(fake)))
        })
    }

    /// Little-endian L16 at 8, 16 or 24 kHz.
    fn stream_formats(&self) -> &'static [AudioFormat] {
        STREAM_FORMATS
    }

    fn media_protocol(&self, format: AudioFormat) -> Box<dyn MediaProtocol> {
        Box::new(VonageMediaProtocol::new(format.rate))
    }

    /// The call's uuid among the headers `websocket:connected` echoes.
    fn provider_stream(&self, format: AudioFormat) -> Result<ProviderStream, String> {
        let id = "63f61863-4a51-4f6b-86e1-46edebcf9356";
        ProviderStream::emulated(
            self,
            dialect(),
            id,
            vec![(
                CALL_UUID_HEADER.to_owned(),
                serde_json::Value::String(id.to_owned()),
            )],
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
            "63f61863-4a51-4f6b-86e1-46edebcf9356",
            "CON-f972836a-550f-45fa-956c-12a2ab5b7d22",
            from.digits(),
            to.digits(),
            true,
        );
        let dialect = VonageDialect::new(secret.clone(), voice_api());
        dialect.answer_request(&call, url, "POST").into_request()
    }
}

/// Writes the signed callbacks switch into the application's voice capability (added if it
/// has none).
fn show_switch(app: &mut serde_json::Value, on: bool) {
    let Some(root) = app.as_object_mut() else {
        return;
    };
    let caps = root
        .entry("capabilities")
        .or_insert_with(|| serde_json::json!({}));
    let Some(caps) = caps.as_object_mut() else {
        return;
    };
    let voice = caps.entry("voice").or_insert_with(|| serde_json::json!({}));
    if let Some(voice) = voice.as_object_mut() {
        voice.insert("signed_callbacks".to_owned(), on.into());
    }
}

impl Vonage {
    /// An application written by `PUT`: its switch is the one the webhooks follow; one that
    /// does not say keeps the switch as it was.
    fn store_application(&self, mut app: serde_json::Value) -> serde_json::Value {
        let mut stored = self.application.lock().unwrap_or_else(|e| e.into_inner());
        match app
            .pointer("/capabilities/voice/signed_callbacks")
            .and_then(serde_json::Value::as_bool)
        {
            Some(on) => self.signs.store(on, Ordering::Relaxed),
            None => show_switch(&mut app, self.signs.load(Ordering::Relaxed)),
        }
        *stored = app.clone();
        app
    }
}

#[derive(Debug, Clone)]
struct Number {
    msisdn: String,
    app_id: Option<String>,
    features: NumberFeatures,
}

struct Vonage {
    carrier: Arc<Carrier>,
    numbers: Mutex<Vec<Number>>,
    application: Mutex<serde_json::Value>,
    /// The application's signed callbacks switch, which its webhooks follow.
    signs: Arc<AtomicBool>,
    key: DecodingKey,
}

type Shared = Arc<Vonage>;

crate::emulator::handle!(
    /// An emulated Vonage on a loopback port. Derefs to [`Fake`] for the knobs and records.
    FakeVonage { vonage: Shared }
);

impl FakeVonage {
    /// Starts one on a free loopback port.
    pub async fn start() -> std::io::Result<FakeVonage> {
        let (listener, url) = bind().await?;
        let key = DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes())
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let signs = Arc::new(AtomicBool::new(true));
        let carrier = carrier(dialect_at(url.clone(), signs.clone()), url);
        let application = serde_json::json!({
            "id": APPLICATION_ID,
            "name": "emulated voice application",
            "capabilities": {"voice": {"webhooks": {}, "signed_callbacks": true}},
            "keys": {"public_key": PUBLIC_KEY},
            "privacy": {"improve_ai": false},
            "_links": {"self": {"href": format!("/v2/applications/{APPLICATION_ID}")}},
        });
        let vonage = Arc::new(Vonage {
            carrier: carrier.clone(),
            numbers: Mutex::new(Vec::new()),
            application: Mutex::new(application),
            signs,
            key,
        });
        let router = Router::new()
            .route("/v1/calls", post(create_call))
            .route("/v1/calls/{uuid}", get(get_call).put(update_call))
            .route("/v1/calls/{uuid}/dtmf", put(send_dtmf))
            .route("/v1/files/{id}", get(fetch_file))
            .route("/account/numbers", get(list_numbers))
            .route("/account/get-balance", get(get_balance))
            .route("/number/update", post(update_number))
            .route(
                "/v2/applications/{id}",
                get(get_application).put(put_application),
            )
            .with_state(vonage.clone());
        serve(&carrier, listener, router);
        Ok(FakeVonage {
            fake: Fake { carrier },
            vonage,
        })
    }

    /// The adapter's settings for this fake: the application, its key, the account's key and
    /// secrets, every host.
    pub fn config(&self) -> VonageConfig {
        VonageConfig::new(APPLICATION_ID, PRIVATE_KEY)
            .api_credentials(API_KEY, API_SECRET)
            .signature_secret(SIGNATURE_SECRET)
            .all_hosts(self.fake.base_url())
    }

    /// Turns the application's signed callbacks on (as it starts) or off
    /// (`capabilities.voice.signed_callbacks`), as the dashboard's switch does: off, Vonage
    /// sends webhooks unsigned and an adapter with a signature secret refuses every one.
    /// `configure_inbound` leaves the switch as it is.
    pub fn signed_callbacks(&self, on: bool) {
        let mut app = self
            .vonage
            .application
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        self.vonage.signs.store(on, Ordering::Relaxed);
        show_switch(&mut app, on);
    }

    /// Whether the application's signed callbacks are on: its webhooks signed.
    pub fn signs_callbacks(&self) -> bool {
        self.vonage.signs.load(Ordering::Relaxed)
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

    /// Gives the account `number`, able to take only `features` (its `features`, `VOICE` and
    /// `SMS`): without voice, `configure_inbound` refuses it and a call to it never rings.
    pub fn add_number_with(&self, number: &E164, features: NumberFeatures) {
        let mut numbers = self
            .vonage
            .numbers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        numbers.push(Number {
            msisdn: number.digits().to_owned(),
            app_id: None,
            features,
        });
    }

    /// Dials `to`, one of the account's numbers, from `from`: the linked application's answer
    /// URL is fetched and its event URL gets the events, as Vonage does. Returns the call's
    /// uuid.
    pub fn ring(&self, from: &E164, to: &E164) -> Result<String, String> {
        let linked = {
            let numbers = self
                .vonage
                .numbers
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            numbers
                .iter()
                .find(|n| n.msisdn == to.digits())
                .map(|n| (n.features.voice, n.app_id.clone()))
        };
        let linked = match linked {
            Some((false, _)) => return Err(format!("{to} cannot take voice calls")),
            other => other.map(|(_, app)| app),
        };
        match linked {
            None => return Err(format!("{to} is not a number of the emulated account")),
            Some(Some(a)) if a == APPLICATION_ID => {}
            Some(_) => {
                return Err(format!(
                    "{to} is not linked to the application: run configure_inbound first"
                ));
            }
        }
        let app = self
            .vonage
            .application
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let hook = |name: &str| {
            let h = app.pointer(&format!("/capabilities/voice/webhooks/{name}"))?;
            let url = Url::parse(h.get("address")?.as_str()?).ok()?;
            let method = h
                .get("http_method")
                .and_then(|m| m.as_str())
                .unwrap_or("POST")
                .to_owned();
            Some((url, method))
        };
        let (answer, method) = hook("answer_url")
            .ok_or("the application has no answer URL: run configure_inbound first")?;
        let events = hook("event_url");
        let id = uuid::Uuid::new_v4().to_string();
        self.fake.carrier.place(Dial {
            id: id.clone(),
            secondary_id: format!("CON-{}", uuid::Uuid::new_v4()),
            from: from.digits().to_owned(),
            to: to.digits().to_owned(),
            inbound: true,
            answer: AnswerWith::Url(answer, method),
            hooks: Hooks {
                status_url: events.as_ref().map(|(u, _)| u.clone()),
                status_method: events.map(|(_, m)| m),
                ..Hooks::default()
            },
            ring_timeout: None,
            parent: None,
            amd: None,
            record: None,
        });
        Ok(id)
    }
}
