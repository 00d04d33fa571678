//! What an emulated call did, for tests to assert on and demos to print.

use std::fmt;
use std::time::Duration;

use telephony::audio::SampleRate;
use telephony::{CallStatus, Decimal};

/// What the emulated callee does when the call rings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Callee {
    /// Answers (the default).
    #[default]
    Answer,
    /// Is busy.
    Busy,
    /// Lets it ring out.
    NoAnswer,
    /// The call fails to connect (a bad number, a carrier error).
    Fail,
    /// An answering machine answers: its greeting, then a beep (or none).
    Machine {
        /// Whether the greeting ends with a beep.
        beep: bool,
    },
}

/// A way the agent broke the provider's media protocol: what the real provider would punish
/// (drop the call, ignore the message, play garbage).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// A binary message where the provider takes only text (Twilio, Plivo).
    BinaryFrame {
        /// Its size.
        len: usize,
    },
    /// A binary audio frame of the wrong size (Vonage drops the call over it).
    FrameSize {
        /// The size sent.
        got: usize,
        /// The size required.
        expected: usize,
    },
    /// Text that is not a message of the protocol.
    Malformed(String),
    /// A message with an event or action the provider does not know.
    UnknownMessage(String),
    /// Audio in a format other than the stream's.
    WrongFormat(String),
    /// A message for another stream.
    WrongStream(String),
    /// Audio that arrived right after a clear, before any mark: the agent's own pending audio,
    /// which it should have dropped when it cleared.
    AudioAfterClear,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::BinaryFrame { len } => {
                write!(f, "a binary frame ({len} bytes) where only text is taken")
            }
            Violation::FrameSize { got, expected } => {
                write!(
                    f,
                    "a {got}-byte audio frame; every frame must be {expected} bytes"
                )
            }
            Violation::Malformed(m) => write!(f, "a malformed message: {m}"),
            Violation::UnknownMessage(m) => write!(f, "an unknown message: {m}"),
            Violation::WrongFormat(m) => write!(f, "audio in the wrong format: {m}"),
            Violation::WrongStream(m) => write!(f, "a message for another stream: {m}"),
            Violation::AudioAfterClear => f.write_str("audio right after a clear, before any mark"),
        }
    }
}

/// Something that happened on an emulated call, at a time from the call's creation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Happening {
    /// The call's status changed (the provider's value, and the normalized one).
    Status {
        /// As the provider names it.
        raw: String,
        /// Normalized.
        status: CallStatus,
    },
    /// A status callback was sent, and what the host answered.
    Callback {
        /// The provider's event or status.
        event: String,
        /// The HTTP status the host answered (`None` when unreachable).
        answered: Option<u16>,
    },
    /// The answer document was fetched (or given inline).
    Answered {
        /// Where from (`inline` for a document given at creation).
        url: String,
        /// The HTTP status the host answered.
        status: Option<u16>,
    },
    /// The answer said something to the caller.
    Said(String),
    /// A media stream opened.
    StreamOpened {
        /// Its URL.
        url: String,
    },
    /// The stream could not be opened.
    StreamFailed(String),
    /// The caller pressed a key.
    DtmfSent(char),
    /// The agent's audio up to a mark played, and the mark went back.
    MarkEchoed(String),
    /// The agent cleared its audio.
    Cleared {
        /// Marks pending when it cleared.
        pending_marks: Vec<String>,
    },
    /// The agent sent DTMF on the stream.
    DtmfReceived(String),
    /// The agent closed the stream.
    AgentClosed,
    /// The stream was dropped (a fault knob).
    StreamDropped,
    /// The call was hung up through the API.
    HungUp,
    /// A protocol violation.
    Violation(Violation),
    /// The call left what it was doing for new instructions (a transfer).
    Redirected,
    /// The call dialled another party (a cold transfer's leg), and how that ended.
    Dialed {
        /// Who.
        to: String,
        /// The new leg's id.
        leg: String,
        /// How it ended, as the provider names it.
        outcome: String,
    },
    /// The call joined a room (a conference).
    JoinedRoom(String),
    /// The call was bridged with another (in a room, or by a dial).
    Bridged {
        /// The other call.
        with: String,
    },
    /// A recording started.
    RecordingStarted(String),
    /// A recording finished: its file is ready.
    RecordingReady {
        /// Its id.
        id: String,
        /// How long it is.
        duration: Duration,
    },
    /// Machine detection reached a verdict (`Human`, `Machine`, `MachineEndBeep`…).
    MachineDetected(String),
}

/// One timeline entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moment {
    /// Wall time from the call's creation.
    pub at: Duration,
    /// What happened.
    pub what: Happening,
}

/// An emulated call as it stands: who, what happened, what was said both ways, what it cost.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallRecord {
    /// The provider's id for the call.
    pub id: String,
    /// `true` for a call that rang one of the account's numbers.
    pub inbound: bool,
    /// The caller.
    pub from: String,
    /// The called party.
    pub to: String,
    /// The status now, normalized.
    pub status: CallStatus,
    /// The status now, as the provider names it.
    pub raw_status: String,
    /// Everything that happened, in order.
    pub timeline: Vec<Moment>,
    /// The stream's wire rate, once a stream opened.
    pub wire_rate: Option<SampleRate>,
    /// What the caller said (at the wire rate).
    pub caller_audio: Vec<i16>,
    /// The agent's audio as it arrived (decoded, at the wire rate).
    pub agent_audio: Vec<i16>,
    /// What the caller heard, frame by frame: the agent's audio as played, silence between.
    pub heard: Vec<i16>,
    /// The stream's custom parameters as the agent's answer set them.
    pub stream_parameters: Vec<(String, String)>,
    /// How long the call lasted once answered, in whole seconds as the provider bills.
    pub duration: Option<Duration>,
    /// What it cost, once ended.
    pub price: Option<Decimal>,
    /// Protocol violations.
    pub violations: Vec<Violation>,
    /// When the carrier accepted it (the create's arrival, or the inbound call's ring).
    pub created: std::time::SystemTime,
}

impl CallRecord {
    pub(crate) fn new(id: String, inbound: bool, from: String, to: String) -> CallRecord {
        CallRecord {
            id,
            inbound,
            from,
            to,
            status: CallStatus::Queued,
            raw_status: "queued".into(),
            timeline: Vec::new(),
            wire_rate: None,
            caller_audio: Vec::new(),
            agent_audio: Vec::new(),
            heard: Vec::new(),
            stream_parameters: Vec::new(),
            duration: None,
            price: None,
            violations: Vec::new(),
            created: std::time::SystemTime::now(),
        }
    }

    /// Whether the call is over.
    pub fn is_over(&self) -> bool {
        self.status.is_terminal()
    }

    /// The marks echoed, in order.
    pub fn marks_echoed(&self) -> Vec<&str> {
        self.timeline
            .iter()
            .filter_map(|m| match &m.what {
                Happening::MarkEchoed(n) => Some(n.as_str()),
                _ => None,
            })
            .collect()
    }

    /// How many times the agent cleared.
    pub fn clears(&self) -> usize {
        self.timeline
            .iter()
            .filter(|m| matches!(m.what, Happening::Cleared { .. }))
            .count()
    }

    /// What was said to this call by the carrier (`<Say>`, a brief), in order.
    pub fn said(&self) -> Vec<&str> {
        self.timeline
            .iter()
            .filter_map(|m| match &m.what {
                Happening::Said(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The calls this one was bridged with, in order.
    pub fn bridged_with(&self) -> Vec<&str> {
        self.timeline
            .iter()
            .filter_map(|m| match &m.what {
                Happening::Bridged { with } => Some(with.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The keys the far end heard on this call: sent through the API, or played as tones in
    /// the agent's audio (detected in what the caller heard).
    pub fn keys_heard(&self) -> String {
        let mut keys: String = self
            .timeline
            .iter()
            .filter_map(|m| match &m.what {
                Happening::DtmfReceived(d) => Some(d.as_str()),
                _ => None,
            })
            .collect();
        if let Some(rate) = self.wire_rate {
            keys.extend(telephony::audio::dtmf::detect(&self.heard, rate));
        }
        keys
    }

    /// The statuses the call went through, as the provider names them.
    pub fn statuses(&self) -> Vec<&str> {
        self.timeline
            .iter()
            .filter_map(|m| match &m.what {
                Happening::Status { raw, .. } => Some(raw.as_str()),
                _ => None,
            })
            .collect()
    }
}
