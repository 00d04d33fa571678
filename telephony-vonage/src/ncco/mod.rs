//! NCCO, the Call Control Object: the JSON array of actions that tells Vonage what a call does.
//!
//! Typed actions with serde, and [`Ncco::to_json`], which refuses what Vonage would reject or
//! what would break a call: a websocket `uri` that is not `ws(s)://`, `headers` over 512 bytes,
//! an empty `talk`, a `connect` without exactly one endpoint, numbers that are not digits,
//! options out of their documented ranges.
//!
//! ```
//! use telephony_vonage::ncco::{Connect, Endpoint, Ncco, Talk, Websocket};
//! use telephony_core::audio::SampleRate;
//!
//! let ncco = Ncco::new()
//!     .talk(Talk::new("Connecting you").language("en-GB"))
//!     .connect(
//!         Connect::to(Endpoint::Websocket(
//!             Websocket::new("wss://agent.example.com/vonage", SampleRate::Hz16000)?
//!                 .header("call_uuid", "63f61863-4a51-4f6b-86e1-46edebcf9356"),
//!         ))
//!         .synchronous("https://agent.example.com/vonage/events"),
//!     );
//! assert_eq!(
//!     ncco.to_json()?,
//!     r#"[{"action":"talk","text":"Connecting you","language":"en-GB"},{"action":"connect","endpoint":[{"type":"websocket","uri":"wss://agent.example.com/vonage","content-type":"audio/l16;rate=16000","headers":{"call_uuid":"63f61863-4a51-4f6b-86e1-46edebcf9356"}}],"eventType":"synchronous","eventUrl":["https://agent.example.com/vonage/events"]}]"#
//! );
//! # Ok::<(), telephony_vonage::ncco::NccoError>(())
//! ```

mod connect;
mod conversation;
mod endpoint;
mod input;
mod notify;
mod play;
mod record;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use connect::{AdvancedMachineDetection, AmdMode, Connect, EventType, MachineDetection};
pub use conversation::Conversation;
pub use endpoint::{ContentType, Endpoint, HEADERS_LIMIT, Phone, Sip, Websocket};
pub use input::{DtmfSettings, Input, InputType, SpeechSettings};
pub use notify::Notify;
pub use play::{Stream, Talk};
pub use record::{Record, RecordFormat};

/// Why an NCCO cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid NCCO: {0}")]
pub struct NccoError(pub String);

fn fail<T>(msg: impl Into<String>) -> Result<T, NccoError> {
    Err(NccoError(msg.into()))
}

/// An HTTP method for a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    /// `GET`.
    #[serde(rename = "GET")]
    Get,
    /// `POST`.
    #[serde(rename = "POST")]
    Post,
}

/// A whole NCCO: actions run in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ncco(pub Vec<Action>);

impl Ncco {
    /// An empty NCCO; add actions with the methods below.
    pub fn new() -> Ncco {
        Ncco(Vec::new())
    }

    /// Appends any action.
    pub fn action(mut self, action: impl Into<Action>) -> Ncco {
        self.0.push(action.into());
        self
    }

    /// Appends a `talk`.
    pub fn talk(self, talk: Talk) -> Ncco {
        self.action(talk)
    }

    /// Appends a `stream`.
    pub fn stream(self, stream: Stream) -> Ncco {
        self.action(stream)
    }

    /// Appends a `connect`.
    pub fn connect(self, connect: Connect) -> Ncco {
        self.action(connect)
    }

    /// Appends a `record`.
    pub fn record(self, record: Record) -> Ncco {
        self.action(record)
    }

    /// Appends an `input`.
    pub fn input(self, input: Input) -> Ncco {
        self.action(input)
    }

    /// Appends a `notify`.
    pub fn notify(self, notify: Notify) -> Ncco {
        self.action(notify)
    }

    /// Appends a `conversation`.
    pub fn conversation(self, conversation: Conversation) -> Ncco {
        self.action(conversation)
    }

    /// Checks every action against Vonage's documented limits.
    pub fn validate(&self) -> Result<(), NccoError> {
        if self.0.is_empty() {
            return fail("an NCCO needs at least one action");
        }
        for (i, a) in self.0.iter().enumerate() {
            a.validate()
                .map_err(|e| NccoError(format!("action {i} ({}): {}", a.name(), e.0)))?;
        }
        Ok(())
    }

    /// The JSON, compact, once [`validate`](Self::validate) passes.
    pub fn to_json(&self) -> Result<String, NccoError> {
        self.validate()?;
        serde_json::to_string(self).map_err(|e| NccoError(e.to_string()))
    }

    /// The JSON value, once [`validate`](Self::validate) passes.
    pub fn to_value(&self) -> Result<serde_json::Value, NccoError> {
        self.validate()?;
        serde_json::to_value(self).map_err(|e| NccoError(e.to_string()))
    }
}

/// One NCCO action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Action {
    /// Speak text.
    Talk(Talk),
    /// Play an audio file.
    Stream(Stream),
    /// Connect the call to a phone, a SIP URI or a WebSocket.
    Connect(Connect),
    /// Record the call.
    Record(Record),
    /// Collect DTMF or speech.
    Input(Input),
    /// Send a request to a webhook.
    Notify(Notify),
    /// Join a named conversation (a conference).
    Conversation(Conversation),
}

impl Action {
    /// The action's name on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Talk(_) => "talk",
            Action::Stream(_) => "stream",
            Action::Connect(_) => "connect",
            Action::Record(_) => "record",
            Action::Input(_) => "input",
            Action::Notify(_) => "notify",
            Action::Conversation(_) => "conversation",
        }
    }

    fn validate(&self) -> Result<(), NccoError> {
        match self {
            Action::Talk(a) => a.validate(),
            Action::Stream(a) => a.validate(),
            Action::Connect(a) => a.validate(),
            Action::Record(a) => a.validate(),
            Action::Input(a) => a.validate(),
            Action::Notify(a) => a.validate(),
            Action::Conversation(a) => a.validate(),
        }
    }
}

macro_rules! into_action {
    ($($t:ident),*) => {$(
        impl From<$t> for Action {
            fn from(a: $t) -> Action {
                Action::$t(a)
            }
        }
    )*};
}
into_action!(Talk, Stream, Connect, Record, Input, Notify, Conversation);

fn check_level(level: Option<f64>) -> Result<(), NccoError> {
    match level {
        Some(l) if !(-1.0..=1.0).contains(&l) => fail(format!("level {l} is outside -1 to 1")),
        _ => Ok(()),
    }
}

fn check_url(what: &str, url: &str) -> Result<(), NccoError> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => Ok(()),
        _ => fail(format!("{what} {url:?} is not an absolute http(s) URL")),
    }
}

fn check_event_url(urls: &Option<Vec<String>>) -> Result<(), NccoError> {
    match urls.as_deref() {
        None => Ok(()),
        Some([one]) => check_url("eventUrl", one),
        Some(other) => fail(format!(
            "eventUrl holds {} URLs; Vonage takes exactly one",
            other.len()
        )),
    }
}

fn check_range(what: &str, v: Option<f64>, lo: f64, hi: f64) -> Result<(), NccoError> {
    match v {
        Some(x) if !(lo..=hi).contains(&x) => fail(format!("{what} {x} is outside {lo} to {hi}")),
        _ => Ok(()),
    }
}

fn check_digits(what: &str, number: &str) -> Result<(), NccoError> {
    if (7..=15).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        fail(format!(
            "{what} {number:?}: Vonage takes 7 to 15 digits with the country code, no +"
        ))
    }
}
