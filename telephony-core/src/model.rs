//! The provider-neutral call model: status, events, calls, costs, numbers.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use url::Url;

use crate::control::RecordingOptions;
use crate::id::{CallId, E164};
use crate::markup::{Markup, StreamSpec};
use crate::money::CallCost;
use crate::status::{AnsweredBy, CallStatus, Direction};

/// One status change of a call, from a status callback: the normalized status plus everything
/// the provider said that a voice platform acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallEvent {
    /// The call.
    pub call_id: CallId,
    /// The normalized status.
    pub status: CallStatus,
    /// The status exactly as the provider sent it.
    pub raw_status: String,
    /// The provider's event name, when it differs from the status (Plivo `Event`, Vonage
    /// `status` for `machine`/`human`).
    pub raw_event: Option<String>,
    /// Inbound or outbound.
    pub direction: Option<Direction>,
    /// The caller, as sent (a number, a SIP URI, a client name).
    pub from: Option<String>,
    /// The called party, as sent.
    pub to: Option<String>,
    /// How long the call lasted, on terminal events.
    pub duration: Option<Duration>,
    /// The billed duration, where the provider says it.
    pub billed_duration: Option<Duration>,
    /// Answering-machine detection's verdict.
    pub answered_by: Option<AnsweredBy>,
    /// Why the call ended, as the provider says it (Plivo `HangupCause`, …).
    pub hangup_cause: Option<String>,
    /// The final SIP response code.
    pub sip_code: Option<u16>,
    /// When the provider produced the event.
    pub timestamp: Option<SystemTime>,
    /// The provider's sequence number, to order events that arrive out of order.
    pub sequence: Option<u64>,
    /// The account the call belongs to.
    pub account_id: Option<String>,
    /// The call this one was dialled from.
    pub parent_call_id: Option<CallId>,
    /// The id [`initiate_call`](crate::TelephonyProvider::initiate_call) returned for this
    /// call, when the provider repeats it apart from the call's own id (Plivo's
    /// `RequestUUID`): how a host matches events to the calls it placed.
    pub initiation_id: Option<String>,
    /// The conversation the call is a leg of, where the provider has one (Vonage
    /// `conversation_uuid`, shared by the call and the legs it connects, a WebSocket's
    /// included).
    pub conversation_id: Option<String>,
    /// What the call cost, when the event says it (Vonage's `completed`).
    pub cost: Option<CallCost>,
    /// The network the call reached, as the provider names it (Vonage: MCC and MNC).
    pub network: Option<String>,
}

impl CallEvent {
    /// An event with a status and nothing else known.
    pub fn new(call_id: CallId, status: CallStatus, raw_status: impl Into<String>) -> CallEvent {
        CallEvent {
            call_id,
            status,
            raw_status: raw_status.into(),
            raw_event: None,
            direction: None,
            from: None,
            to: None,
            duration: None,
            billed_duration: None,
            answered_by: None,
            hangup_cause: None,
            sip_code: None,
            timestamp: None,
            sequence: None,
            account_id: None,
            parent_call_id: None,
            initiation_id: None,
            conversation_id: None,
            cost: None,
            network: None,
        }
    }
}

/// How answering-machine detection should run on an outbound call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MachineDetection {
    /// Report human or machine as soon as it is known.
    Detect,
    /// On a machine, wait for the end of its greeting before reporting (to leave a message).
    DetectGreetingEnd,
}

/// What an answered outbound call does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// A stream's spec is the common target and is built once per call: boxing it would cost every
// caller a `Box::new` for nothing.
#[allow(clippy::large_enum_variant)]
pub enum CallTarget {
    /// Fetch the call's instructions from this URL when it is answered.
    AnswerUrl(Url),
    /// Connect straight to a bidirectional media stream (Twilio inline TwiML, Vonage inline
    /// NCCO; Plivo cannot, and says so).
    Stream(StreamSpec),
    /// Run this document (TwiML or NCCO) when answered.
    Markup(Markup),
}

/// An outbound call to place.
///
/// ```
/// use telephony_core::{E164, OutboundCall, StreamSpec};
///
/// let call = OutboundCall::stream(
///     "+14155550100".parse()?,
///     "+14155550199".parse()?,
///     StreamSpec::new("wss://agent.example.com/media".parse()?).parameter("campaign", "spring"),
/// )
/// .status_callback("https://agent.example.com/status".parse()?)
/// .ring_timeout(std::time::Duration::from_secs(30));
/// assert_eq!(call.to.as_str(), "+14155550100");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutboundCall {
    /// Who to call.
    pub to: E164,
    /// The caller id, a number the account owns.
    pub from: E164,
    /// What happens when the call is answered.
    pub target: CallTarget,
    /// Where the provider posts every status change (queued, ringing, answered, completed…).
    pub status_callback: Option<Url>,
    /// Answering-machine detection.
    pub machine_detection: Option<MachineDetection>,
    /// How long to let it ring.
    pub ring_timeout: Option<Duration>,
    /// The longest the call may last.
    pub time_limit: Option<Duration>,
    /// Records the call from its answer.
    pub record: Option<RecordingOptions>,
    /// The host's key for this call, the same on every try of it: where the carrier
    /// deduplicates creates (Telnyx's `command_id`), a second create with the same key places
    /// no second call, so a create that failed with
    /// [`may_have_acted`](crate::Error::may_have_acted) can be sent again. Carriers without
    /// such a mechanism ignore it. Give each intended call its own (a campaign: one per
    /// attempt).
    pub idempotency_key: Option<String>,
}

impl OutboundCall {
    /// A call that fetches its instructions from `answer_url`.
    pub fn answer_url(to: E164, from: E164, answer_url: Url) -> OutboundCall {
        OutboundCall::with_target(to, from, CallTarget::AnswerUrl(answer_url))
    }

    /// A call connected to a media stream as soon as it is answered.
    pub fn stream(to: E164, from: E164, stream: StreamSpec) -> OutboundCall {
        OutboundCall::with_target(to, from, CallTarget::Stream(stream))
    }

    /// A call with any target.
    pub fn with_target(to: E164, from: E164, target: CallTarget) -> OutboundCall {
        OutboundCall {
            to,
            from,
            target,
            status_callback: None,
            machine_detection: None,
            ring_timeout: None,
            time_limit: None,
            record: None,
            idempotency_key: None,
        }
    }

    /// Sets the status callback URL.
    pub fn status_callback(mut self, url: Url) -> OutboundCall {
        self.status_callback = Some(url);
        self
    }

    /// Turns on answering-machine detection.
    pub fn machine_detection(mut self, mode: MachineDetection) -> OutboundCall {
        self.machine_detection = Some(mode);
        self
    }

    /// Sets how long to let it ring.
    pub fn ring_timeout(mut self, timeout: Duration) -> OutboundCall {
        self.ring_timeout = Some(timeout);
        self
    }

    /// Sets the longest the call may last.
    pub fn time_limit(mut self, limit: Duration) -> OutboundCall {
        self.time_limit = Some(limit);
        self
    }

    /// Records the call from its answer.
    pub fn record(mut self, options: RecordingOptions) -> OutboundCall {
        self.record = Some(options);
        self
    }

    /// Sets the host's key for this call (see [`idempotency_key`](Self::idempotency_key)).
    pub fn idempotency_key(mut self, key: impl Into<String>) -> OutboundCall {
        self.idempotency_key = Some(key.into());
        self
    }
}

/// What the provider said when it accepted an outbound call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallInitiation {
    /// The id later webhooks carry. For Plivo this is the `request_uuid`, which the answer and
    /// hangup callbacks repeat as `RequestUUID` next to the call's own `CallUUID`.
    pub call_id: CallId,
    /// The status at creation, usually queued.
    pub status: CallStatus,
}

impl CallInitiation {
    /// An initiation record.
    pub fn new(call_id: CallId, status: CallStatus) -> CallInitiation {
        CallInitiation { call_id, status }
    }
}

/// A call as the provider sees it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallInfo {
    /// The call.
    pub call_id: CallId,
    /// The normalized status.
    pub status: CallStatus,
    /// The status as the provider wrote it.
    pub raw_status: String,
    /// Inbound or outbound.
    pub direction: Option<Direction>,
    /// The caller.
    pub from: Option<String>,
    /// The called party.
    pub to: Option<String>,
    /// When it was answered or started.
    pub start_time: Option<SystemTime>,
    /// When it ended.
    pub end_time: Option<SystemTime>,
    /// How long it lasted, once ended.
    pub duration: Option<Duration>,
    /// What it cost, once priced.
    pub cost: Option<CallCost>,
    /// Answering-machine detection's verdict.
    pub answered_by: Option<AnsweredBy>,
    /// The call this one was dialled from.
    pub parent_call_id: Option<CallId>,
}

impl CallInfo {
    /// The account's own number on the call, as the carrier wrote it: the called number of an
    /// inbound call, the caller id of an outbound one (what a transfer shows the target when
    /// no caller id is given). `None` where the direction or the number is unknown.
    pub fn number_of_ours(&self) -> Option<&str> {
        let ours = match self.direction {
            Some(Direction::Inbound) => self.to.as_deref(),
            Some(Direction::Outbound) => self.from.as_deref(),
            _ => None,
        };
        ours.map(str::trim).filter(|n| !n.is_empty())
    }

    /// A call with a status and nothing else known.
    pub fn new(call_id: CallId, status: CallStatus, raw_status: impl Into<String>) -> CallInfo {
        CallInfo {
            call_id,
            status,
            raw_status: raw_status.into(),
            direction: None,
            from: None,
            to: None,
            start_time: None,
            end_time: None,
            duration: None,
            cost: None,
            answered_by: None,
            parent_call_id: None,
        }
    }
}

/// What hanging up did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum HangupOutcome {
    /// A connected call was ended.
    Ended,
    /// A call that was still queued or ringing was canceled.
    Canceled,
    /// The call had already ended: nothing to do, and not an error.
    AlreadyEnded,
}

/// Reads a whole number of seconds a provider wrote as text (`"17"`, `" 60 "`): `None` for
/// anything else, so a duration the provider garbled never fails the message it came in.
///
/// ```
/// use std::time::Duration;
/// use telephony_core::parse_seconds;
///
/// assert_eq!(parse_seconds(" 17 "), Some(Duration::from_secs(17)));
/// assert_eq!(parse_seconds("-1"), None);
/// assert_eq!(parse_seconds("1.5"), None);
/// ```
pub fn parse_seconds(s: &str) -> Option<Duration> {
    s.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A call arriving at one of our numbers, from the provider's answer webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InboundCall {
    /// The call.
    pub call_id: CallId,
    /// The caller as sent (a number, or a SIP or client address).
    pub from: String,
    /// The number called, as sent.
    pub to: String,
    /// The number called, when it is a phone number: the key for routing.
    pub to_number: Option<E164>,
    /// The caller, when it is a phone number.
    pub from_number: Option<E164>,
    /// The provider account the call arrived on.
    pub account_id: Option<String>,
    /// The conversation the call is a leg of (Vonage `conversation_uuid`).
    pub conversation_id: Option<String>,
}

impl InboundCall {
    /// An inbound call; the numbers are parsed leniently from `from` and `to`.
    pub fn new(call_id: CallId, from: impl Into<String>, to: impl Into<String>) -> InboundCall {
        let (from, to) = (from.into(), to.into());
        InboundCall {
            call_id,
            from_number: E164::parse_lenient(&from).ok(),
            to_number: E164::parse_lenient(&to).ok(),
            from,
            to,
            account_id: None,
            conversation_id: None,
        }
    }

    /// Sets the account.
    pub fn with_account(mut self, account_id: Option<String>) -> InboundCall {
        self.account_id = account_id;
        self
    }

    /// Sets the conversation.
    pub fn with_conversation(mut self, conversation_id: Option<String>) -> InboundCall {
        self.conversation_id = conversation_id;
        self
    }
}
