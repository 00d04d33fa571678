//! What each provider plugs into the carrier: its status names, signed webhooks and answer
//! documents ([`Dialect`]), and its side of a media stream ([`MediaDialect`]).

use telephony::{CallStatus, Decimal, ProviderKind, Url};
use tokio_tungstenite::tungstenite::Message;

use super::{Phase, Webhook};
use crate::markup::{Instruction, StreamTarget};
use crate::record::Violation;

/// Where a call's events go.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hooks {
    /// Twilio `StatusCallback`, Vonage `event_url`.
    pub(crate) status_url: Option<Url>,
    /// Its method.
    pub(crate) status_method: Option<String>,
    /// Twilio `StatusCallbackEvent`s asked for; `None` for all.
    pub(crate) status_events: Option<Vec<String>>,
    /// Plivo `ring_url`.
    pub(crate) ring_url: Option<Url>,
    /// Plivo `hangup_url`.
    pub(crate) hangup_url: Option<Url>,
}

/// A call as dialects see it: ids, parties, hooks, and what the end produced.
#[derive(Debug, Clone)]
pub(crate) struct CallInfo {
    pub(crate) id: String,
    /// Plivo's request id, Vonage's conversation.
    pub(crate) secondary_id: String,
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) inbound: bool,
    pub(crate) hooks: Hooks,
    pub(crate) answered: bool,
    pub(crate) duration_secs: Option<u64>,
    pub(crate) price: Option<Decimal>,
    pub(crate) rate: Decimal,
    pub(crate) created: std::time::SystemTime,
}

impl CallInfo {
    /// A call that has not begun: `inbound` ringing, or an outbound one just answered. For
    /// what a dialect makes outside a call's life (a webhook on its own, a stream for benches).
    pub(crate) fn detached(
        id: &str,
        secondary_id: &str,
        from: &str,
        to: &str,
        inbound: bool,
    ) -> Self {
        CallInfo {
            id: id.to_owned(),
            secondary_id: secondary_id.to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
            inbound,
            hooks: Hooks::default(),
            answered: !inbound,
            duration_secs: None,
            price: None,
            rate: Decimal::ZERO,
            created: std::time::SystemTime::now(),
        }
    }
}

/// What an agent's message asks of the emulated provider.
#[derive(Debug, Clone)]
pub(crate) enum AgentSays {
    /// Audio in the wire format.
    Audio(Vec<u8>),
    /// A mark, and the message that echoes it once the audio before it played.
    Mark(String, Message),
    /// Drop buffered audio.
    Clear,
    /// Play DTMF.
    Dtmf(String),
    /// A protocol violation.
    Violation(Violation),
}

/// One provider's media stream, the provider's side.
pub(crate) trait MediaDialect: Send {
    /// What opens the stream.
    fn opening(&mut self) -> Vec<Message>;
    /// One 20 ms frame of caller audio.
    fn media(&mut self, frame: &[u8]) -> Message;
    /// A key press.
    fn dtmf(&mut self, digit: char) -> Message;
    /// What closes it, when the provider sends something.
    fn stop(&mut self) -> Option<Message>;
    /// Reads an agent's message.
    fn agent(&mut self, message: &Message) -> Vec<AgentSays>;
    /// What the provider sends when the agent clears, given the marks still pending.
    fn cleared(&mut self, pending: Vec<(String, Message)>) -> Vec<Message>;
    /// The provider's id for the stream, where its start names one.
    fn stream_id(&self) -> Option<&str> {
        None
    }
}

/// One provider's ways: status names, webhooks, answer documents, media.
pub(crate) trait Dialect: Send + Sync + 'static {
    fn kind(&self) -> ProviderKind;
    /// The provider's name for a phase.
    fn raw_status(&self, phase: Phase) -> &'static str;
    /// The adapter's normalization of it (for the record).
    fn normalize(&self, raw: &str) -> CallStatus;
    /// The answer request for a call, signed.
    fn answer_request(&self, call: &CallInfo, url: &Url, method: &str) -> Webhook;
    /// The status callback for a phase, when the call asked for one, signed.
    fn status_request(&self, call: &CallInfo, phase: Phase) -> Option<Webhook>;
    /// Reads the answer document.
    fn parse_answer(&self, body: &str) -> Result<Vec<Instruction>, String>;
    /// A media stream for the call.
    fn media(&self, call: &CallInfo, target: &StreamTarget) -> Box<dyn MediaDialect>;
    /// Headers the WebSocket upgrade to `url` carries (Twilio signs it).
    fn upgrade_headers(&self, url: &str) -> Vec<(&'static str, String)> {
        let _ = url;
        Vec::new()
    }
}
