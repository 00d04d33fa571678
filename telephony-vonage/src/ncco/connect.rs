//! `connect`: the call joined to one endpoint, with its caller id, ringing and length
//! limits, answering-machine detection and the leg's events.

use serde::{Deserialize, Serialize};

use super::{Endpoint, Method, NccoError, check_digits, check_event_url, check_url, fail};

/// What a `connect` does on an answering machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MachineDetection {
    /// Report `machine` or `human` and go on.
    Continue,
    /// Hang up on a machine.
    Hangup,
}

/// Advanced machine detection (it can wait for the greeting's beep).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AdvancedMachineDetection {
    /// Go on, or hang up on a machine.
    pub behavior: MachineDetection,
    /// `default`, `detect` or `detect_beep`.
    pub mode: AmdMode,
    /// How long to wait for a beep, 45 to 120 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beep_timeout: Option<u32>,
}

impl AdvancedMachineDetection {
    /// Detection with `behavior` in `mode`.
    pub fn new(behavior: MachineDetection, mode: AmdMode) -> AdvancedMachineDetection {
        AdvancedMachineDetection {
            behavior,
            mode,
            beep_timeout: None,
        }
    }

    /// Sets how long to wait for the beep, 45 to 120 s.
    pub fn beep_timeout(mut self, seconds: u32) -> AdvancedMachineDetection {
        self.beep_timeout = Some(seconds);
        self
    }
}

/// How advanced machine detection runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmdMode {
    /// Vonage's default.
    Default,
    /// Human or machine only.
    Detect,
    /// Human or machine, then the end of the machine's greeting (its beep).
    DetectBeep,
}

/// The only `eventType`: `synchronous`, which sends the connect leg's failure to `eventUrl` and
/// takes an NCCO in answer, for a fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// `synchronous`.
    Synchronous,
}

/// `connect`: connects the call to one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Connect {
    /// The endpoint, as a one-element array.
    pub endpoint: Vec<Endpoint>,
    /// The caller id for phone endpoints: digits, no `+`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Use a random number of the account as the caller id.
    #[serde(
        rename = "randomFromNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub random_from_number: Option<bool>,
    /// `synchronous`: the leg's failure goes to `eventUrl`, which may answer with an NCCO.
    #[serde(rename = "eventType", default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<EventType>,
    /// Seconds to let it ring, 1 to 120 (Vonage's default is 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    /// The longest the leg may last, in seconds (up to 7200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Answering-machine detection.
    #[serde(
        rename = "machineDetection",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub machine_detection: Option<MachineDetection>,
    /// Advanced answering-machine detection.
    #[serde(
        rename = "advancedMachineDetection",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub advanced_machine_detection: Option<AdvancedMachineDetection>,
    /// Where the leg's events go, as a one-element array.
    #[serde(rename = "eventUrl", default, skip_serializing_if = "Option::is_none")]
    pub event_url: Option<Vec<String>>,
    /// The method for `eventUrl`.
    #[serde(
        rename = "eventMethod",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub event_method: Option<Method>,
    /// A ringback tone URL played while the endpoint rings.
    #[serde(
        rename = "ringbackTone",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ringback_tone: Option<String>,
}

impl Connect {
    /// Connects to `endpoint`.
    pub fn to(endpoint: Endpoint) -> Connect {
        Connect {
            endpoint: vec![endpoint],
            from: None,
            random_from_number: None,
            event_type: None,
            timeout: None,
            limit: None,
            machine_detection: None,
            advanced_machine_detection: None,
            event_url: None,
            event_method: None,
            ringback_tone: None,
        }
    }

    /// Sets the caller id (with or without `+`).
    pub fn from(mut self, number: impl AsRef<str>) -> Connect {
        self.from = Some(number.as_ref().trim_start_matches('+').to_owned());
        self
    }

    /// `eventType: synchronous` with `eventUrl`: the leg's events, its failure included
    /// (`failed`, `unanswered`, a WebSocket `disconnected`), go to `url`, which can answer
    /// with a fallback NCCO.
    pub fn synchronous(mut self, url: impl Into<String>) -> Connect {
        self.event_type = Some(EventType::Synchronous);
        self.event_url = Some(vec![url.into()]);
        self
    }

    /// Sets where events go, without `eventType`.
    pub fn event_url(mut self, url: impl Into<String>) -> Connect {
        self.event_url = Some(vec![url.into()]);
        self
    }

    /// Sets the method for `eventUrl`.
    pub fn event_method(mut self, method: Method) -> Connect {
        self.event_method = Some(method);
        self
    }

    /// Uses a random number of the account as the caller id.
    pub fn random_from_number(mut self) -> Connect {
        self.random_from_number = Some(true);
        self
    }

    /// Sets advanced answering-machine detection.
    pub fn advanced_machine_detection(mut self, amd: AdvancedMachineDetection) -> Connect {
        self.advanced_machine_detection = Some(amd);
        self
    }

    /// Sets how long to ring.
    pub fn timeout(mut self, seconds: u32) -> Connect {
        self.timeout = Some(seconds);
        self
    }

    /// Sets the longest the leg may last.
    pub fn limit(mut self, seconds: u32) -> Connect {
        self.limit = Some(seconds);
        self
    }

    /// Sets answering-machine detection.
    pub fn machine_detection(mut self, behavior: MachineDetection) -> Connect {
        self.machine_detection = Some(behavior);
        self
    }

    /// Sets a ringback tone.
    pub fn ringback_tone(mut self, url: impl Into<String>) -> Connect {
        self.ringback_tone = Some(url.into());
        self
    }

    pub(super) fn validate(&self) -> Result<(), NccoError> {
        let [endpoint] = self.endpoint.as_slice() else {
            return fail(format!(
                "endpoint holds {} endpoints; connect takes exactly one",
                self.endpoint.len()
            ));
        };
        endpoint.validate()?;
        if let Some(f) = &self.from {
            check_digits("from", f)?;
        }
        if self.from.is_some() && self.random_from_number == Some(true) {
            return fail("from and randomFromNumber exclude each other");
        }
        if self.event_type.is_some() && self.event_url.is_none() {
            return fail("eventType synchronous needs an eventUrl to send the events to");
        }
        check_event_url(&self.event_url)?;
        if let Some(l) = self.limit
            && !(1..=7200).contains(&l)
        {
            return fail(format!("limit {l} s is outside 1 to 7200"));
        }
        if let Some(t) = self.timeout
            && !(1..=120).contains(&t)
        {
            return fail(format!("timeout {t} s is outside 1 to 120"));
        }
        if let Some(a) = &self.advanced_machine_detection
            && let Some(b) = a.beep_timeout
            && !(45..=120).contains(&b)
        {
            return fail(format!("beep_timeout {b} s is outside 45 to 120"));
        }
        if self.machine_detection.is_some() && self.advanced_machine_detection.is_some() {
            return fail("machineDetection and advanced_machine_detection exclude each other");
        }
        if let Some(r) = &self.ringback_tone {
            check_url("ringbackTone", r)?;
        }
        Ok(())
    }
}
