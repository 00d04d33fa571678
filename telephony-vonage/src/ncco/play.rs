//! What the caller hears: `talk` (text-to-speech) and `stream` (an audio file).

use serde::{Deserialize, Serialize};

use super::{NccoError, check_level, check_url, fail};

/// `talk`: text-to-speech.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Talk {
    /// What to say, up to 1500 characters; SSML inside `<speak>` is allowed.
    pub text: String,
    /// Whether the caller's input (an `input` action next) interrupts it.
    #[serde(rename = "bargeIn", default, skip_serializing_if = "Option::is_none")]
    pub barge_in: Option<bool>,
    /// How many times to say it; 0 repeats until the call ends.
    #[serde(rename = "loop", default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
    /// Volume, -1 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<f64>,
    /// The language, BCP-47: `en-US`, `de-DE`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The voice style of the language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<u32>,
    /// Whether to use the premium voice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub premium: Option<bool>,
}

impl Talk {
    /// Says `text`.
    pub fn new(text: impl Into<String>) -> Talk {
        Talk {
            text: text.into(),
            barge_in: None,
            repeat: None,
            level: None,
            language: None,
            style: None,
            premium: None,
        }
    }

    /// Lets the caller interrupt (with an `input` action next).
    pub fn barge_in(mut self, on: bool) -> Talk {
        self.barge_in = Some(on);
        self
    }

    /// Sets how many times to say it (0: until the call ends).
    pub fn repeat(mut self, times: u32) -> Talk {
        self.repeat = Some(times);
        self
    }

    /// Sets the volume, -1 to 1.
    pub fn level(mut self, level: f64) -> Talk {
        self.level = Some(level);
        self
    }

    /// Sets the language.
    pub fn language(mut self, language: impl Into<String>) -> Talk {
        self.language = Some(language.into());
        self
    }

    /// Sets the voice style.
    pub fn style(mut self, style: u32) -> Talk {
        self.style = Some(style);
        self
    }

    /// Uses the premium voice.
    pub fn premium(mut self, on: bool) -> Talk {
        self.premium = Some(on);
        self
    }

    pub(super) fn validate(&self) -> Result<(), NccoError> {
        let n = self.text.chars().count();
        if self.text.trim().is_empty() {
            return fail("text is empty");
        }
        if n > 1500 {
            return fail(format!(
                "text has {n} characters; Vonage speaks at most 1500"
            ));
        }
        check_level(self.level)
    }
}

/// `stream`: plays an audio file (MP3 or WAV) from a URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Stream {
    /// The file's URL, as a one-element array.
    #[serde(rename = "streamUrl")]
    pub stream_url: Vec<String>,
    /// Volume, -1 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<f64>,
    /// Whether input interrupts it.
    #[serde(rename = "bargeIn", default, skip_serializing_if = "Option::is_none")]
    pub barge_in: Option<bool>,
    /// How many times to play it; 0 repeats until the call ends.
    #[serde(rename = "loop", default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
}

impl Stream {
    /// Plays the file at `url`.
    pub fn new(url: impl Into<String>) -> Stream {
        Stream {
            stream_url: vec![url.into()],
            level: None,
            barge_in: None,
            repeat: None,
        }
    }

    /// Sets the volume.
    pub fn level(mut self, level: f64) -> Stream {
        self.level = Some(level);
        self
    }

    /// Lets input interrupt.
    pub fn barge_in(mut self, on: bool) -> Stream {
        self.barge_in = Some(on);
        self
    }

    /// Sets how many times to play it.
    pub fn repeat(mut self, times: u32) -> Stream {
        self.repeat = Some(times);
        self
    }

    pub(super) fn validate(&self) -> Result<(), NccoError> {
        match self.stream_url.as_slice() {
            [one] => check_url("streamUrl", one)?,
            other => {
                return fail(format!("streamUrl holds {} URLs; exactly one", other.len()));
            }
        }
        check_level(self.level)
    }
}
