//! `input`: keys (DTMF) or speech collected from the caller, with the settings of each.

use serde::{Deserialize, Serialize};

use super::{Method, NccoError, check_event_url, check_range, fail};

/// What `input` listens for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputType {
    /// Keys.
    Dtmf,
    /// Speech recognition.
    Speech,
}

/// `input` DTMF settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DtmfSettings {
    /// Seconds to wait after a key for the next, 0 to 10.
    #[serde(rename = "timeOut", default, skip_serializing_if = "Option::is_none")]
    pub time_out: Option<u32>,
    /// Keys to collect, 1 to 20.
    #[serde(rename = "maxDigits", default, skip_serializing_if = "Option::is_none")]
    pub max_digits: Option<u32>,
    /// Whether `#` ends the input.
    #[serde(
        rename = "submitOnHash",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub submit_on_hash: Option<bool>,
}

impl DtmfSettings {
    /// Vonage's defaults (wait 3 s after a key, collect 4, `#` does not submit).
    pub fn new() -> DtmfSettings {
        DtmfSettings::default()
    }

    /// Sets the seconds to wait after a key.
    pub fn time_out(mut self, seconds: u32) -> DtmfSettings {
        self.time_out = Some(seconds);
        self
    }

    /// Sets how many keys to collect.
    pub fn max_digits(mut self, digits: u32) -> DtmfSettings {
        self.max_digits = Some(digits);
        self
    }

    /// Lets `#` end the input.
    pub fn submit_on_hash(mut self, on: bool) -> DtmfSettings {
        self.submit_on_hash = Some(on);
        self
    }
}

/// `input` speech settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SpeechSettings {
    /// The leg to listen to (the call's uuid), as a one-element array.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<Vec<String>>,
    /// Seconds of silence that end the utterance, 0.4 to 10.
    #[serde(
        rename = "endOnSilence",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub end_on_silence: Option<f64>,
    /// The language, BCP-47.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Hints: words and phrases likely said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Vec<String>>,
    /// Seconds to wait for speech to start, 1 to 60.
    #[serde(
        rename = "startTimeout",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub start_timeout: Option<u32>,
    /// The longest utterance, 1 to 60 s.
    #[serde(
        rename = "maxDuration",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_duration: Option<u32>,
    /// Whether to keep the audio.
    #[serde(rename = "saveAudio", default, skip_serializing_if = "Option::is_none")]
    pub save_audio: Option<bool>,
    /// Voice activity sensitivity, 0 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<u32>,
}

impl SpeechSettings {
    /// Vonage's defaults.
    pub fn new() -> SpeechSettings {
        SpeechSettings::default()
    }

    /// Listens to this leg (the call's uuid).
    pub fn uuid(mut self, uuid: impl Into<String>) -> SpeechSettings {
        self.uuid = Some(vec![uuid.into()]);
        self
    }

    /// Sets the seconds of silence that end the utterance.
    pub fn end_on_silence(mut self, seconds: f64) -> SpeechSettings {
        self.end_on_silence = Some(seconds);
        self
    }

    /// Sets the language.
    pub fn language(mut self, language: impl Into<String>) -> SpeechSettings {
        self.language = Some(language.into());
        self
    }

    /// Sets hints: words and phrases likely said.
    pub fn context<I, S>(mut self, hints: I) -> SpeechSettings
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.context = Some(hints.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the seconds to wait for speech to start.
    pub fn start_timeout(mut self, seconds: u32) -> SpeechSettings {
        self.start_timeout = Some(seconds);
        self
    }

    /// Sets the longest utterance.
    pub fn max_duration(mut self, seconds: u32) -> SpeechSettings {
        self.max_duration = Some(seconds);
        self
    }

    /// Keeps the audio.
    pub fn save_audio(mut self, on: bool) -> SpeechSettings {
        self.save_audio = Some(on);
        self
    }

    /// Sets the voice activity sensitivity.
    pub fn sensitivity(mut self, sensitivity: u32) -> SpeechSettings {
        self.sensitivity = Some(sensitivity);
        self
    }
}

/// `input`: collects keys or speech and posts them to `eventUrl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Input {
    /// What to listen for.
    #[serde(rename = "type")]
    pub kind: Vec<InputType>,
    /// DTMF settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtmf: Option<DtmfSettings>,
    /// Speech settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speech: Option<SpeechSettings>,
    /// Where the result goes.
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

impl Input {
    /// Collects keys.
    pub fn dtmf(settings: DtmfSettings) -> Input {
        Input {
            kind: vec![InputType::Dtmf],
            dtmf: Some(settings),
            speech: None,
            event_url: None,
            event_method: None,
        }
    }

    /// Listens for speech.
    pub fn speech(settings: SpeechSettings) -> Input {
        Input {
            kind: vec![InputType::Speech],
            dtmf: None,
            speech: Some(settings),
            event_url: None,
            event_method: None,
        }
    }

    /// Also listens for the other kind.
    pub fn and_speech(mut self, settings: SpeechSettings) -> Input {
        if !self.kind.contains(&InputType::Speech) {
            self.kind.push(InputType::Speech);
        }
        self.speech = Some(settings);
        self
    }

    /// Sets where the result goes.
    pub fn event_url(mut self, url: impl Into<String>) -> Input {
        self.event_url = Some(vec![url.into()]);
        self
    }

    /// Sets the method for `eventUrl`.
    pub fn event_method(mut self, method: Method) -> Input {
        self.event_method = Some(method);
        self
    }

    pub(super) fn validate(&self) -> Result<(), NccoError> {
        if self.kind.is_empty() {
            return fail("type is empty: dtmf, speech or both");
        }
        if let Some(d) = &self.dtmf {
            check_range("dtmf.timeOut", d.time_out.map(f64::from), 0.0, 10.0)?;
            check_range("dtmf.maxDigits", d.max_digits.map(f64::from), 1.0, 20.0)?;
        }
        if let Some(s) = &self.speech {
            check_range("speech.endOnSilence", s.end_on_silence, 0.4, 10.0)?;
            check_range(
                "speech.startTimeout",
                s.start_timeout.map(f64::from),
                1.0,
                60.0,
            )?;
            check_range(
                "speech.maxDuration",
                s.max_duration.map(f64::from),
                1.0,
                60.0,
            )?;
            check_range(
                "speech.sensitivity",
                s.sensitivity.map(f64::from),
                0.0,
                100.0,
            )?;
        }
        check_event_url(&self.event_url)
    }
}
