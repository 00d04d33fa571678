//! The provider-neutral call model: status, events, calls, costs, numbers.

use std::fmt;
use std::time::{Duration, SystemTime};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::control::RecordingOptions;
use crate::error::{DecodeError, Error};
use crate::id::{CallId, E164};
use crate::markup::{Markup, StreamSpec};
use crate::provider::ProviderKind;
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

/// An ISO 4217 currency code: `USD`, `EUR`, …
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// US dollars, what Twilio, Plivo and most accounts bill in.
    pub const USD: Currency = Currency(*b"USD");
    /// Euros, what Vonage bills in.
    pub const EUR: Currency = Currency(*b"EUR");

    /// A currency from three ASCII letters, upper-cased.
    pub fn new(code: &str) -> Option<Currency> {
        let b = code.trim().as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        Some(Currency([
            b[0].to_ascii_uppercase(),
            b[1].to_ascii_uppercase(),
            b[2].to_ascii_uppercase(),
        ]))
    }

    /// The code.
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::new(&s).ok_or_else(|| serde::de::Error::custom(format!("bad currency {s:?}")))
    }
}

/// Reads a decimal a provider wrote as text (`"0.01300"`, `"-0.013"`, `"1.5E-3"`): `None` for
/// nothing or blank, a decode error naming `what` for anything else that is not a number.
///
/// ```
/// use telephony_core::{Decimal, ProviderKind, parse_decimal};
///
/// const P: ProviderKind = ProviderKind::new("acme", "Acme");
/// assert_eq!(parse_decimal(P, "price", Some(" 0.00450000 "))?, Some("0.0045".parse::<Decimal>()?));
/// assert_eq!(parse_decimal(P, "price", Some(""))?, None);
/// assert!(parse_decimal(P, "price", Some("free")).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_decimal(
    provider: ProviderKind,
    what: &str,
    value: Option<&str>,
) -> Result<Option<Decimal>, Error> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<Decimal>()
            .or_else(|_| Decimal::from_scientific(v))
            .map(Some)
            .map_err(|e| Error::Decode(DecodeError::new(provider, what, format!("{v:?}: {e}")))),
    }
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

/// What a call cost: an exact decimal amount, never a float, and its currency.
///
/// The amount is what was charged, positive (Twilio writes charges as negative prices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallCost {
    /// The amount charged.
    pub amount: Decimal,
    /// Its currency.
    pub currency: Currency,
    /// The per-minute rate, where the provider says it.
    pub rate: Option<Decimal>,
}

impl CallCost {
    /// A cost.
    pub fn new(amount: Decimal, currency: Currency) -> CallCost {
        CallCost {
            amount,
            currency,
            rate: None,
        }
    }

    /// Sets the per-minute rate.
    pub fn with_rate(mut self, rate: Option<Decimal>) -> CallCost {
        self.rate = rate;
        self
    }
}

impl fmt::Display for CallCost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
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

/// A number the account owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PhoneNumber {
    /// The number.
    pub number: E164,
    /// The provider's id for it (Twilio `PN…`), where it has one.
    pub provider_id: Option<String>,
    /// Where inbound calls to it go now (Twilio `VoiceUrl`, or the application's answer URL).
    pub voice_url: Option<String>,
    /// A label.
    pub friendly_name: Option<String>,
    /// Whether it can take voice calls, as the carrier reports it (Twilio
    /// `capabilities.voice`, Plivo `voice_enabled`, Vonage `features`); `None` where the
    /// carrier does not say (Telnyx).
    #[serde(default)]
    pub voice: Option<bool>,
    /// Whether it can take SMS, as the carrier reports it; `None` where it does not say.
    #[serde(default)]
    pub sms: Option<bool>,
}

impl PhoneNumber {
    /// A number with nothing else known.
    pub fn new(number: E164) -> PhoneNumber {
        PhoneNumber {
            number,
            provider_id: None,
            voice_url: None,
            friendly_name: None,
            voice: None,
            sms: None,
        }
    }

    /// Sets what the carrier reports the number can take: voice calls, SMS (`None`: not said).
    pub fn with_features(mut self, voice: Option<bool>, sms: Option<bool>) -> PhoneNumber {
        self.voice = voice;
        self.sms = sms;
        self
    }
}

/// What pointing a number at our webhook did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InboundUpdate {
    /// The number.
    pub number: E164,
    /// The URL its calls went to before, if any.
    pub previous_url: Option<String>,
    /// The URL they go to now.
    pub url: String,
    /// Whether anything had to change.
    pub changed: bool,
    /// Findings worth a log line: the URL had drifted from what we set, the number was not
    /// linked to the application, …
    pub notes: Vec<String>,
}

impl InboundUpdate {
    /// A report.
    pub fn new(
        number: E164,
        previous_url: Option<String>,
        url: impl Into<String>,
        changed: bool,
        notes: Vec<String>,
    ) -> InboundUpdate {
        InboundUpdate {
            number,
            previous_url,
            url: url.into(),
            changed,
            notes,
        }
    }

    /// Whether the number pointed somewhere else before: someone changed it, or it was never
    /// set up.
    pub fn drifted(&self) -> bool {
        self.changed && self.previous_url.is_some()
    }
}

/// One thing [`configure_inbound`](crate::TelephonyProvider::configure_inbound) would find
/// wrong with a number's inbound set-up, read by
/// [`inbound_drift`](crate::TelephonyProvider::inbound_drift) without changing anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Drift {
    /// The number's calls go to `found` (`None`: nowhere), not to the URL asked about;
    /// `configure_inbound` points them there.
    Url {
        /// Where they go now.
        found: Option<String>,
    },
    /// Another setting `configure_inbound` would change: the number not linked to the
    /// application, an event URL missing, a webhook without a method, …
    Setting {
        /// What is wrong and what it would become.
        detail: String,
    },
    /// The carrier sends its webhooks unsigned while this adapter verifies signatures, so it
    /// refuses every one of them. `configure_inbound` reports it but does not change it (the
    /// setting serves more than this number); `fix` says what to turn on, and where.
    Unsigned {
        /// What was found.
        detail: String,
        /// What to do.
        fix: String,
    },
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drift::Url { found: Some(url) } => write!(f, "its calls go to {url}"),
            Drift::Url { found: None } => f.write_str("its calls go nowhere"),
            Drift::Setting { detail } | Drift::Unsigned { detail, .. } => f.write_str(detail),
        }
    }
}

/// What [`configure_inbound`](crate::TelephonyProvider::configure_inbound) would change or
/// report for a number, read without changing anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InboundDrift {
    /// The number.
    pub number: E164,
    /// Where its calls go now, where the carrier says.
    pub current_url: Option<String>,
    /// What differs; empty when `configure_inbound` would change and report nothing.
    pub drift: Vec<Drift>,
}

impl InboundDrift {
    /// A finding.
    pub fn new(number: E164, current_url: Option<String>, drift: Vec<Drift>) -> InboundDrift {
        InboundDrift {
            number,
            current_url,
            drift,
        }
    }

    /// Whether nothing drifted.
    pub fn is_clean(&self) -> bool {
        self.drift.is_empty()
    }
}
