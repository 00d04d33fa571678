//! Recording: asking for it, the recording a callback announces, and its id.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::Error;
use crate::id::CallId;

/// One channel for both parties, or one each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RecordingChannels {
    /// Both parties mixed.
    #[default]
    Mono,
    /// The caller on one channel, the other party on the other.
    Dual,
}

impl RecordingChannels {
    /// How many channels.
    pub fn count(self) -> u8 {
        match self {
            RecordingChannels::Mono => 1,
            RecordingChannels::Dual => 2,
        }
    }
}

/// A recording's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RecordingFormat {
    /// WAV (PCM).
    Wav,
    /// MP3.
    Mp3,
    /// Ogg.
    Ogg,
}

impl RecordingFormat {
    /// The file extension, and the name carriers use: `wav`.
    pub fn extension(self) -> &'static str {
        match self {
            RecordingFormat::Wav => "wav",
            RecordingFormat::Mp3 => "mp3",
            RecordingFormat::Ogg => "ogg",
        }
    }

    /// The format a carrier names, if it is one of these.
    pub fn from_name(name: &str) -> Option<RecordingFormat> {
        match name.trim().to_ascii_lowercase().as_str() {
            "wav" | "audio/wav" | "audio/x-wav" => Some(RecordingFormat::Wav),
            "mp3" | "audio/mpeg" => Some(RecordingFormat::Mp3),
            "ogg" | "audio/ogg" => Some(RecordingFormat::Ogg),
            _ => None,
        }
    }
}

/// How to record a call: when placing it ([`OutboundCall::record`](crate::OutboundCall)),
/// answering it ([`StreamSpec::record`](crate::StreamSpec)), or mid-call
/// ([`TelephonyProvider::start_recording`](crate::TelephonyProvider::start_recording)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordingOptions {
    /// Mono or dual channel, where the carrier offers the choice.
    pub channels: RecordingChannels,
    /// The file format, where the carrier offers the choice (its default otherwise).
    pub format: Option<RecordingFormat>,
    /// Where the carrier announces the finished recording; the call's status callback when
    /// `None`.
    pub callback: Option<Url>,
    /// The longest recording (carriers' defaults otherwise; Plivo's is 60 s, so the adapter
    /// asks for the call's limit there).
    pub max_length: Option<Duration>,
}

impl Default for RecordingOptions {
    fn default() -> Self {
        RecordingOptions::new()
    }
}

impl RecordingOptions {
    /// Mono, the carrier's format, announced to the status callback.
    pub fn new() -> RecordingOptions {
        RecordingOptions {
            channels: RecordingChannels::Mono,
            format: None,
            callback: None,
            max_length: None,
        }
    }

    /// Sets the channels.
    pub fn channels(mut self, channels: RecordingChannels) -> RecordingOptions {
        self.channels = channels;
        self
    }

    /// Sets the format.
    pub fn format(mut self, format: RecordingFormat) -> RecordingOptions {
        self.format = Some(format);
        self
    }

    /// Sets where the recording is announced.
    pub fn callback(mut self, url: Url) -> RecordingOptions {
        self.callback = Some(url);
        self
    }

    /// Sets the longest recording.
    pub fn max_length(mut self, length: Duration) -> RecordingOptions {
        self.max_length = Some(length);
        self
    }
}

/// A carrier's id for a recording (Twilio `RE…`, Plivo `recording_id`, Vonage
/// `recording_uuid`, Telnyx's recording id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RecordingId(String);

impl RecordingId {
    /// Validates an id: non-empty, at most 256 characters, no spaces, `/`, `?`, `#` or control
    /// characters, so it is safe in a path segment.
    pub fn new(id: impl Into<String>) -> Result<RecordingId, Error> {
        let id = id.into();
        if id.is_empty()
            || id.len() > 256
            || id
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '/' | '?' | '#' | '\\'))
        {
            return Err(Error::invalid_request(format!(
                "invalid recording id {id:?}"
            )));
        }
        Ok(RecordingId(id))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for RecordingId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RecordingId::new(s)
    }
}

impl TryFrom<String> for RecordingId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        RecordingId::new(s)
    }
}

impl From<RecordingId> for String {
    fn from(id: RecordingId) -> String {
        id.0
    }
}

/// What starting a recording gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecordingStarted {
    /// The recording's id, where the carrier names it at once.
    pub recording_id: Option<RecordingId>,
}

impl RecordingStarted {
    /// A record.
    pub fn new(recording_id: Option<RecordingId>) -> RecordingStarted {
        RecordingStarted { recording_id }
    }
}

/// A finished recording, as its callback announces it: what the call log shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecordingReady {
    /// The recording's id, where the callback names one (Telnyx's does not).
    pub recording_id: Option<RecordingId>,
    /// The call it belongs to.
    pub call_id: Option<CallId>,
    /// Where to fetch it ([`TelephonyProvider::download_recording`](crate::TelephonyProvider::download_recording)
    /// fetches it with the carrier's auth).
    pub url: Url,
    /// When the URL stops working (Telnyx's pre-signed links last 10 minutes).
    pub url_expires_at: Option<SystemTime>,
    /// How long it is.
    pub duration: Option<Duration>,
    /// How many channels.
    pub channels: Option<u8>,
    /// Its format, where known.
    pub format: Option<RecordingFormat>,
    /// When it started.
    pub started_at: Option<SystemTime>,
    /// The carrier's status for it, as sent (`completed`).
    pub raw_status: Option<String>,
}

impl RecordingReady {
    /// A recording at `url` with nothing else known.
    pub fn new(url: Url) -> RecordingReady {
        RecordingReady {
            recording_id: None,
            call_id: None,
            url,
            url_expires_at: None,
            duration: None,
            channels: None,
            format: None,
            started_at: None,
            raw_status: None,
        }
    }
}
