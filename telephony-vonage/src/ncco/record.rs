//! `record`: the call recorded, its file format and when the recording stops.

use serde::{Deserialize, Serialize};

use super::{Method, NccoError, check_event_url, check_range, fail};

/// A recording's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordFormat {
    /// MP3 (the default).
    Mp3,
    /// WAV.
    Wav,
    /// Ogg.
    Ogg,
}

/// `record`: records the call; the recording's URL goes to `eventUrl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Record {
    /// The file format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<RecordFormat>,
    /// `conversation`: each side on its own channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    /// Channels when split, 1 to 32.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<u32>,
    /// Stop after this many seconds of silence, 3 to 10.
    #[serde(
        rename = "endOnSilence",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub end_on_silence: Option<u32>,
    /// Stop when this key is pressed.
    #[serde(rename = "endOnKey", default, skip_serializing_if = "Option::is_none")]
    pub end_on_key: Option<String>,
    /// The longest recording, 3 to 7200 s.
    #[serde(rename = "timeOut", default, skip_serializing_if = "Option::is_none")]
    pub time_out: Option<u32>,
    /// Beep when recording starts.
    #[serde(rename = "beepStart", default, skip_serializing_if = "Option::is_none")]
    pub beep_start: Option<bool>,
    /// Where the recording's URL goes.
    #[serde(rename = "eventUrl", default, skip_serializing_if = "Option::is_none")]
    pub event_url: Option<Vec<String>>,
    /// The method for `eventUrl`.
    #[serde(
        rename = "eventMethod",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub event_method: Option<Method>,
}

impl Record {
    /// A recording with Vonage's defaults.
    pub fn new() -> Record {
        Record {
            format: None,
            split: None,
            channels: None,
            end_on_silence: None,
            end_on_key: None,
            time_out: None,
            beep_start: None,
            event_url: None,
            event_method: None,
        }
    }

    /// Sets the format.
    pub fn format(mut self, format: RecordFormat) -> Record {
        self.format = Some(format);
        self
    }

    /// Each side on its own channel.
    pub fn split_conversation(mut self, channels: u32) -> Record {
        self.split = Some("conversation".into());
        self.channels = Some(channels);
        self
    }

    /// Stops after seconds of silence.
    pub fn end_on_silence(mut self, seconds: u32) -> Record {
        self.end_on_silence = Some(seconds);
        self
    }

    /// Stops on a key.
    pub fn end_on_key(mut self, key: char) -> Record {
        self.end_on_key = Some(key.to_string());
        self
    }

    /// Sets the longest recording.
    pub fn time_out(mut self, seconds: u32) -> Record {
        self.time_out = Some(seconds);
        self
    }

    /// Beeps at the start.
    pub fn beep_start(mut self, on: bool) -> Record {
        self.beep_start = Some(on);
        self
    }

    /// Sets where the recording's URL goes.
    pub fn event_url(mut self, url: impl Into<String>) -> Record {
        self.event_url = Some(vec![url.into()]);
        self
    }

    /// Sets the method for `eventUrl`.
    pub fn event_method(mut self, method: Method) -> Record {
        self.event_method = Some(method);
        self
    }

    pub(super) fn validate(&self) -> Result<(), NccoError> {
        check_range("channels", self.channels.map(f64::from), 1.0, 32.0)?;
        check_range(
            "endOnSilence",
            self.end_on_silence.map(f64::from),
            3.0,
            10.0,
        )?;
        check_range("timeOut", self.time_out.map(f64::from), 3.0, 7200.0)?;
        if let Some(k) = &self.end_on_key
            && !(k.len() == 1
                && k.chars()
                    .all(|c| c.is_ascii_digit() || c == '*' || c == '#'))
        {
            return fail(format!("endOnKey {k:?}: one of 0-9, * and #"));
        }
        if let Some(s) = &self.split
            && s != "conversation"
        {
            return fail(format!("split {s:?}: only conversation"));
        }
        check_event_url(&self.event_url)
    }
}

impl Default for Record {
    fn default() -> Self {
        Record::new()
    }
}
