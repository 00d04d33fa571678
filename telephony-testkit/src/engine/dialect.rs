//! What each provider plugs into the carrier: its status names, signed webhooks and answer
//! documents ([`Dialect`]), and its side of a media stream ([`MediaDialect`]).

use telephony::{CallStatus, Decimal, ProviderKind, Url};
use tokio_tungstenite::tungstenite::Message;

use super::{AmdMode, AmdVerdict, Phase, Recording, Webhook};
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
    /// Where machine detection's verdict goes (Twilio `AsyncAmdStatusCallback`, Plivo
    /// `machine_detection_url`); the status URL when `None`.
    pub(crate) amd_url: Option<Url>,
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
    /// Machine detection's latest verdict, once it reached one.
    pub(crate) verdict: Option<super::control::AmdVerdict>,
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
            verdict: None,
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
    /// The ids of a new leg the carrier dials from a call (a `<Dial>`, a transfer): its id and
    /// secondary id.
    fn leg_ids(&self, seq: u64) -> (String, String) {
        (format!("leg-{seq:016x}"), String::new())
    }
    /// A new recording's id.
    fn recording_id(&self, seq: u64) -> String {
        format!("rec-{seq:016x}")
    }
    /// The callback announcing a finished recording, to `url`, signed.
    fn recording_request(
        &self,
        call: &CallInfo,
        recording: &Recording,
        url: &Url,
    ) -> Option<Webhook> {
        let _ = (call, recording, url);
        None
    }
    /// The callback reporting machine detection's verdict, to `url`, signed; `None` where
    /// the carrier does not report this verdict in this mode (Twilio's `DetectMessageEnd`
    /// reports a machine only once its greeting ended).
    fn amd_request(
        &self,
        call: &CallInfo,
        mode: AmdMode,
        verdict: AmdVerdict,
        url: &Url,
    ) -> Option<Webhook> {
        let _ = (call, mode, verdict, url);
        None
    }
    /// The request a dial's `action` gets when the dialled leg ends, signed; its reply is the
    /// call's next document.
    fn dial_action_request(
        &self,
        call: &CallInfo,
        outcome: &DialOutcome,
        url: &Url,
        method: &str,
    ) -> Option<Webhook> {
        let _ = (call, outcome, url, method);
        None
    }
    /// The callback saying `call` was bridged with `other` (Telnyx's `call.bridged`), where
    /// the carrier sends one.
    fn bridged_request(&self, call: &CallInfo, other: &str) -> Option<Webhook> {
        let _ = (call, other);
        None
    }
}

/// How a dialled leg ended.
#[derive(Debug, Clone)]
pub(crate) struct DialOutcome {
    /// The leg's id.
    pub(crate) leg: String,
    /// Its last phase.
    pub(crate) phase: Phase,
    /// Whether it was answered (and bridged).
    pub(crate) answered: bool,
    /// How long it was connected, in whole seconds.
    pub(crate) duration_secs: u64,
}
