//! An emulated Telnyx: Call Control v2 (dial, answer, reject and hangup by command, each run
//! once per `command_id`; a bearer API key), numbers and the Call Control application, detail
//! records with the cost, events signed with Ed25519, and the media WebSocket in
//! bidirectional RTP mode (`connected`, `start`, 20 ms `media`, `dtmf`, `mark`, `clear`,
//! `stop`).
//!
//! An inbound call is announced to the application's webhook with `call.initiated` and parked
//! until the host answers it with `actions/answer`, as Telnyx does. Call control: transfer,
//! streaming_stop, speak, playback_start, bridge, record_start/record_stop, send_dtmf, machine
//! detection and recording on dial, the recordings API and their pre-signed files.
//!
//! Here, the emulated account, its [`Emulator`] and the [`FakeTelnyx`] handle; [`rest`] serves
//! the API, [`control`] its call-control commands, [`recordings`] the recordings and their
//! files, [`webhooks`] signs the events, [`media`] is its side of the WebSocket, and
//! [`markup`] reads a command's stream.

mod control;
#[cfg(test)]
mod control_tests;
mod markup;
mod media;
mod recordings;
mod rest;
mod webhooks;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, post};
use telephony::audio::AudioFormat;
use telephony::telnyx::signature::SigningKey;
use telephony::telnyx::{KIND, STREAM_FORMATS, TelnyxConfig, TelnyxMediaProtocol};
use telephony::{E164, MediaProtocol, ProviderKind, Secret, Url, WebhookRequest};

use self::rest::{
    action, create_call, detail_records, get_application, get_balance, get_call, list_numbers,
    update_application, update_number,
};
use self::webhooks::TelnyxDialect;
use crate::emulator::{Emulated, Emulator, Starting};
use crate::engine::rfc3339;
use crate::engine::{
    AnswerWith, CallInfo, Carrier, Dial, Dialect, Fake, Hooks, NumberFeatures, bind, carrier, serve,
};
use crate::wire::ProviderStream;

/// The emulated account's API key.
pub const API_KEY: &str = "KEY0190EMULATEDTELNYX_emulated-telnyx-api-key";
/// Its Call Control application, through which calls go.
pub const CONNECTION_ID: &str = "1494404757140276705";
/// The account's public key, which its webhooks verify with.
pub const PUBLIC_KEY: &str = "loq+BDdKT2YSgmD0jXh3WPqajEjRO53TXmPlppAKBL8=";
/// The private key the emulator signs webhooks with (made for the emulator; it protects
/// nothing): `telephony webhook sign telnyx` takes it.
pub const PRIVATE_KEY: &str = "+J7m2FpAshUvMKAuznsyTr5s5w1g3nMdRE03scxfod4=";
/// The account's id, as the media stream's `start` names it.
const ACCOUNT_ID: &str = "3e6f995f-85f7-4705-9741-53b116d28237";
/// The application's name.
const APPLICATION_NAME: &str = "emulated call control application";

/// The key `secret` signs with, as the carrier's own signer takes it.
fn signing_key(secret: &str) -> SigningKey {
    SigningKey::for_signing(&Secret::new(secret))
}

/// This provider's ways, with the emulated account's key (for what runs outside a fake: its
/// recordings' links point nowhere, and no call has a `client_state`).
pub(crate) fn dialect() -> Box<dyn Dialect> {
    Box::new(dialect_for(
        Url::parse("http://127.0.0.1/").expect("a URL"),
        States::default(),
    ))
}

fn dialect_for(base_url: Url, states: States) -> TelnyxDialect {
    TelnyxDialect {
        key: signing_key(PRIVATE_KEY),
        base_url,
        states,
    }
}

/// Each call's `client_state` as the last command that carried one set it (its dial, answer,
/// transfer, speak, bridge…), echoed in every later event of the call, as Telnyx does.
#[derive(Debug, Clone, Default)]
pub(crate) struct States(Arc<Mutex<HashMap<String, String>>>);

impl States {
    pub(crate) fn get(&self, call: &str) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(call)
            .cloned()
    }

    /// Sets `call`'s state, where a command carries one (a command without keeps it).
    pub(crate) fn set(&self, call: &str, state: Option<&str>) {
        if let Some(state) = state {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(call.to_owned(), state.to_owned());
        }
    }
}

/// Telnyx's emulator, for [`Emulators`](crate::Emulators).
pub(crate) struct TelnyxEmulator;

/// Telnyx's emulator, registered in [`Emulators::builtin`](crate::Emulators::builtin).
pub(crate) static EMULATOR: TelnyxEmulator = TelnyxEmulator;

impl Emulator for TelnyxEmulator {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn settings(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("TELNYX_API_KEY", API_KEY),
            ("TELNYX_CONNECTION_ID", CONNECTION_ID),
            ("TELNYX_PUBLIC_KEY", PUBLIC_KEY),
        ]
    }

    fn start(&self) -> Starting {
        Box::pin(async {
            let fake = FakeTelnyx::start().await?;
            Ok(Emulated::new(&EMULATOR, fake.fake.clone(), Arc::new(fake)))
        })
    }

    /// PCMU or PCMA at 8 kHz, the same both ways.
    fn stream_formats(&self) -> &'static [AudioFormat] {
        STREAM_FORMATS
    }

    fn media_protocol(&self, _format: AudioFormat) -> Box<dyn MediaProtocol> {
        Box::new(TelnyxMediaProtocol::new())
    }

    fn provider_stream(&self, format: AudioFormat) -> Result<ProviderStream, String> {
        ProviderStream::emulated(
            self,
            dialect(),
            "v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg",
            Vec::new(),
            format,
        )
    }

    /// The `call.initiated` of an incoming call, signed with `secret`: the account's public
    /// key stands for its private key (the emulator's own); any other secret signs with a key
    /// of its own, a forgery.
    fn inbound_webhook(
        &self,
        url: &Url,
        from: &E164,
        to: &E164,
        secret: &Secret,
    ) -> WebhookRequest {
        let call = CallInfo::detached(
            "v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg",
            "428c31b6-abf3-3bc1-b7f4-5013ef9657c1",
            from.as_str(),
            to.as_str(),
            true,
        );
        let key = if secret.expose() == PUBLIC_KEY {
            signing_key(PRIVATE_KEY)
        } else {
            signing_key(secret.expose())
        };
        TelnyxDialect {
            key,
            ..dialect_for(url.clone(), States::default())
        }
        .answer_request(&call, url, "POST")
        .into_request()
    }
}

#[derive(Debug, Clone)]
struct Number {
    id: String,
    phone_number: String,
    connection_id: Option<String>,
}

struct Telnyx {
    carrier: Arc<Carrier>,
    numbers: Mutex<Vec<Number>>,
    /// The application's webhook URL.
    webhook: Mutex<Option<Url>>,
    /// Each dial's `command_id`, and the call it placed.
    dials: Mutex<HashMap<String, String>>,
    /// The `(call, command_id)` pairs run.
    commands: Mutex<HashSet<(String, String)>>,
    /// Each call's `client_state`, shared with the dialect that echoes it.
    states: States,
    /// The dialect, for the events the commands' own work sends (`call.speak.ended`, …).
    events: TelnyxDialect,
}

type Shared = Arc<Telnyx>;

impl Telnyx {
    fn app_webhook(&self) -> Option<Url> {
        self.webhook
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn application_json(&self) -> serde_json::Value {
        serde_json::json!({
            "record_type": "call_control_application",
            "id": CONNECTION_ID,
            "application_name": APPLICATION_NAME,
            "active": true,
            "webhook_event_url": self.app_webhook().map(|u| u.to_string()),
            "webhook_api_version": "2",
            "webhook_timeout_secs": 25,
        })
    }
}

crate::emulator::handle!(
    /// An emulated Telnyx on a loopback port. Derefs to [`Fake`] for the knobs and records.
    FakeTelnyx { telnyx: Shared }
);

impl FakeTelnyx {
    /// Starts one on a free loopback port.
    pub async fn start() -> std::io::Result<FakeTelnyx> {
        let (listener, url) = bind().await?;
        let states = States::default();
        let events = dialect_for(url.clone(), states.clone());
        let carrier = carrier(Box::new(events.clone()), url);
        let telnyx = Arc::new(Telnyx {
            carrier: carrier.clone(),
            numbers: Mutex::new(Vec::new()),
            webhook: Mutex::new(None),
            dials: Mutex::new(HashMap::new()),
            commands: Mutex::new(HashSet::new()),
            states,
            events,
        });
        let router = Router::new()
            .route("/calls", post(create_call))
            .route("/calls/{id}", get(get_call))
            .route("/calls/{id}/actions/{action}", post(action))
            .route(
                "/recordings/{id}",
                get(recordings::get_recording).delete(recordings::delete_recording),
            )
            .route(
                &format!("/{}/{{file}}", recordings::BUCKET),
                get(recordings::recording_file),
            )
            .route("/phone_numbers", get(list_numbers))
            .route("/phone_numbers/{id}", axum::routing::patch(update_number))
            .route(
                "/call_control_applications/{id}",
                get(get_application).patch(update_application),
            )
            .route("/detail_records", get(detail_records))
            .route("/balance", get(get_balance))
            .with_state(telnyx.clone());
        serve(&carrier, listener, router);
        Ok(FakeTelnyx {
            fake: Fake { carrier },
            telnyx,
        })
    }

    /// The adapter's settings for this fake: the API key, the application, the public key.
    pub fn config(&self) -> TelnyxConfig {
        let key = telephony::telnyx::signature::PublicKey::from_base64(PUBLIC_KEY)
            .unwrap_or_else(|_| signing_key(PRIVATE_KEY).public_key());
        TelnyxConfig::new(API_KEY, CONNECTION_ID)
            .public_key(key)
            .base_url(self.fake.base_url())
    }

    /// Only voice and SMS: Telnyx's number resource cannot say anything else.
    fn stage_number(&self, number: &E164, features: NumberFeatures) -> Result<(), String> {
        if features != NumberFeatures::VOICE_AND_SMS {
            return Err(format!(
                "Telnyx's numbers say nothing of what they can take: {number} cannot be staged as {features:?}"
            ));
        }
        self.add_number(number);
        Ok(())
    }

    /// Gives the account `number`, on no application yet. Telnyx's number resource says
    /// nothing of what a number can take (no voice or SMS flag), so there is no
    /// `add_number_with` here: a number without voice cannot be staged on Telnyx's wire.
    pub fn add_number(&self, number: &E164) {
        let mut numbers = self
            .telnyx
            .numbers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let id = format!("{}", 1_293_384_261_075_731_000u64 + numbers.len() as u64);
        numbers.push(Number {
            id,
            phone_number: number.as_str().to_owned(),
            connection_id: None,
        });
    }

    /// Dials `to`, one of the account's numbers, from `from`: the application's webhook gets
    /// `call.initiated`, and the call waits for the host's `actions/answer`, as Telnyx does.
    /// Returns the call's `call_control_id`.
    pub fn ring(&self, from: &E164, to: &E164) -> Result<String, String> {
        let connection = {
            let numbers = self
                .telnyx
                .numbers
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            numbers
                .iter()
                .find(|n| n.phone_number == to.as_str())
                .map(|n| n.connection_id.clone())
        };
        match connection {
            None => return Err(format!("{to} is not a number of the emulated account")),
            Some(Some(c)) if c == CONNECTION_ID => {}
            Some(_) => {
                return Err(format!(
                    "{to} is not on the Call Control application: run configure_inbound first"
                ));
            }
        }
        let url = self
            .telnyx
            .app_webhook()
            .ok_or("the application has no webhook URL: run configure_inbound first")?;
        let id = format!("v3:{}", uuid::Uuid::new_v4().simple());
        self.fake.carrier.place(Dial {
            id: id.clone(),
            secondary_id: uuid::Uuid::new_v4().to_string(),
            from: from.as_str().to_owned(),
            to: to.as_str().to_owned(),
            inbound: true,
            answer: AnswerWith::Command(url.clone()),
            hooks: Hooks {
                status_url: Some(url),
                status_method: Some("POST".into()),
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
