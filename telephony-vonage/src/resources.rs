//! Vonage's REST resources as they come over the wire (the fields this adapter reads; the rest
//! is ignored, so new fields never break a parse).

use serde::{Deserialize, Serialize};
use telephony_core::Error;
use telephony_core::rest::string_or_number;

use crate::ncco::{AdvancedMachineDetection, Endpoint, MachineDetection, Method, Ncco, NccoError};

/// The caller id of a created call: `{"type":"phone","number":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FromNumber {
    #[serde(rename = "type")]
    kind: &'static str,
    /// Digits with the country code, no `+`.
    pub number: String,
}

impl FromNumber {
    /// A caller id (with or without `+`).
    pub fn new(number: impl AsRef<str>) -> FromNumber {
        FromNumber {
            kind: "phone",
            number: number.as_ref().trim_start_matches('+').to_owned(),
        }
    }
}

/// A call to place: the JSON body of `POST /v1/calls`. Exactly one of `answer_url` and `ncco`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CreateCall {
    /// The destination: a phone, a SIP URI, or a WebSocket.
    pub to: Vec<Endpoint>,
    /// The caller id, a number of the account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<FromNumber>,
    /// Use a random number of the account as the caller id instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub random_from_number: Option<bool>,
    /// Where the answered call fetches its NCCO.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer_url: Option<Vec<String>>,
    /// The method for `answer_url` (Vonage's default is `GET`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer_method: Option<Method>,
    /// The NCCO to run when answered, inline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ncco: Option<serde_json::Value>,
    /// Where Vonage sends the call's events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_url: Option<Vec<String>>,
    /// The method for `event_url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_method: Option<Method>,
    /// Report `machine`/`human` and go on, or hang up on a machine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine_detection: Option<MachineDetection>,
    /// Machine detection that can wait for the greeting's beep.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advanced_machine_detection: Option<AdvancedMachineDetection>,
    /// The longest the call may last, 1 to 86400 s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length_timer: Option<u32>,
    /// How long to let it ring, 1 to 120 s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ringing_timer: Option<u32>,
}

impl CreateCall {
    /// A call to `to` that fetches its NCCO from `answer_url` with `method`.
    pub fn answer_url(to: Endpoint, answer_url: impl Into<String>, method: Method) -> CreateCall {
        let mut c = CreateCall::bare(to);
        c.answer_url = Some(vec![answer_url.into()]);
        c.answer_method = Some(method);
        c
    }

    /// A call to `to` that runs `ncco` when answered; the NCCO is checked here.
    pub fn ncco(to: Endpoint, ncco: &Ncco) -> Result<CreateCall, NccoError> {
        Ok(CreateCall::raw_ncco(to, ncco.to_value()?))
    }

    /// A call to `to` that runs an NCCO written elsewhere (a JSON array of actions): only its
    /// shape is checked, when the call is placed.
    pub fn raw_ncco(to: Endpoint, ncco: serde_json::Value) -> CreateCall {
        let mut c = CreateCall::bare(to);
        c.ncco = Some(ncco);
        c
    }

    fn bare(to: Endpoint) -> CreateCall {
        CreateCall {
            to: vec![to],
            from: None,
            random_from_number: None,
            answer_url: None,
            answer_method: None,
            ncco: None,
            event_url: None,
            event_method: None,
            machine_detection: None,
            advanced_machine_detection: None,
            length_timer: None,
            ringing_timer: None,
        }
    }

    /// Sets the caller id.
    pub fn from(mut self, number: impl AsRef<str>) -> CreateCall {
        self.from = Some(FromNumber::new(number));
        self
    }

    /// Sets where events go (`POST`).
    pub fn event_url(mut self, url: impl Into<String>) -> CreateCall {
        self.event_url = Some(vec![url.into()]);
        self.event_method = Some(Method::Post);
        self
    }

    /// Checks what Vonage would refuse, before sending.
    pub fn validate(&self) -> Result<(), Error> {
        self.check()
            .map_err(|e| Error::InvalidRequest(format!("create call: {e}")))
    }

    fn check(&self) -> Result<(), String> {
        let [to] = self.to.as_slice() else {
            return Err(format!("to holds {} endpoints; exactly one", self.to.len()));
        };
        to.validate().map_err(|e| format!("to: {}", e.0))?;
        if let Some(a) = &self.advanced_machine_detection
            && let Some(b) = a.beep_timeout
            && !(45..=120).contains(&b)
        {
            return Err(format!("beep_timeout {b} s is outside 45 to 120"));
        }
        if self.machine_detection.is_some() && self.advanced_machine_detection.is_some() {
            return Err(
                "machine_detection and advanced_machine_detection exclude each other".into(),
            );
        }
        if self.answer_url.is_some() == self.ncco.is_some() {
            return Err("give exactly one of answer_url and ncco".into());
        }
        if let Some(ncco) = &self.ncco {
            let ok = ncco.as_array().is_some_and(|a| {
                !a.is_empty()
                    && a.iter()
                        .all(|x| x.get("action").is_some_and(|v| v.is_string()))
            });
            if !ok {
                return Err("ncco is not a non-empty JSON array of actions".into());
            }
        }
        if self.from.is_none() && self.random_from_number != Some(true) {
            return Err("give from, or random_from_number".into());
        }
        if self.from.is_some() && self.random_from_number == Some(true) {
            return Err("from and random_from_number exclude each other".into());
        }
        if let Some(f) = &self.from
            && !((7..=15).contains(&f.number.len()) && f.number.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(format!("from {:?}: 7 to 15 digits", f.number));
        }
        if let Some(t) = self.length_timer
            && !(1..=86_400).contains(&t)
        {
            return Err(format!("length_timer {t} s is outside 1 to 86400"));
        }
        if let Some(t) = self.ringing_timer
            && !(1..=120).contains(&t)
        {
            return Err(format!("ringing_timer {t} s is outside 1 to 120"));
        }
        Ok(())
    }
}

/// The answer to `POST /v1/calls`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CallCreated {
    /// The call's id, which every event carries.
    pub uuid: String,
    /// `started`.
    #[serde(default)]
    pub status: Option<String>,
    /// `outbound`.
    #[serde(default)]
    pub direction: Option<String>,
    /// The conversation the call is a leg of.
    #[serde(default)]
    pub conversation_uuid: Option<String>,
}

/// A call: `GET /v1/calls/{uuid}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CallResource {
    /// The call.
    pub uuid: String,
    /// The conversation.
    #[serde(default)]
    pub conversation_uuid: Option<String>,
    /// `started`, `ringing`, `answered`, `completed`, …
    #[serde(default)]
    pub status: Option<String>,
    /// `inbound` or `outbound`.
    #[serde(default)]
    pub direction: Option<String>,
    /// The called endpoint: `{"type":"phone","number":"…"}`.
    #[serde(default)]
    pub to: Option<serde_json::Value>,
    /// The caller.
    #[serde(default)]
    pub from: Option<serde_json::Value>,
    /// The per-minute rate, as a decimal string.
    #[serde(default, deserialize_with = "string_or_number")]
    pub rate: Option<String>,
    /// What the call cost, as a decimal string, once ended.
    #[serde(default, deserialize_with = "string_or_number")]
    pub price: Option<String>,
    /// Seconds.
    #[serde(default, deserialize_with = "string_or_number")]
    pub duration: Option<String>,
    /// When it started.
    #[serde(default)]
    pub start_time: Option<String>,
    /// When it ended.
    #[serde(default)]
    pub end_time: Option<String>,
    /// The network (MCC-MNC).
    #[serde(default)]
    pub network: Option<String>,
}

/// An endpoint object's number, or its URI.
pub(crate) fn endpoint_text(v: &Option<serde_json::Value>) -> Option<String> {
    let v = v.as_ref()?;
    ["number", "uri", "user", "extension"]
        .iter()
        .find_map(|k| v.get(k).and_then(|x| x.as_str()))
        .map(str::to_owned)
}

/// A number the account rents: `GET /account/numbers`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct OwnedNumber {
    /// The country, ISO 3166-1 alpha-2.
    #[serde(default)]
    pub country: Option<String>,
    /// The number, digits with the country code.
    pub msisdn: String,
    /// `landline`, `mobile-lvn`, `landline-toll-free`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// What it takes: `VOICE`, `SMS`, `MMS`; `None` when the answer leaves the list out.
    #[serde(default)]
    pub features: Option<Vec<String>>,
    /// The application its calls go to.
    #[serde(default)]
    pub app_id: Option<String>,
    /// The older per-number voice setting: `app`, `sip`, `tel`.
    #[serde(rename = "voiceCallbackType", default)]
    pub voice_callback_type: Option<String>,
    /// Its value: the application id, or a URI.
    #[serde(rename = "voiceCallbackValue", default)]
    pub voice_callback_value: Option<String>,
}

impl OwnedNumber {
    /// Whether it takes `feature` (`VOICE`, `SMS`), as its `features` say; `None` when they
    /// are left out.
    pub fn takes(&self, feature: &str) -> Option<bool> {
        let features = self.features.as_ref()?;
        Some(
            features
                .iter()
                .any(|f| f.trim().eq_ignore_ascii_case(feature)),
        )
    }

    /// The application inbound calls to this number go to.
    pub fn application(&self) -> Option<&str> {
        let legacy = match self.voice_callback_type.as_deref() {
            Some("app") => self.voice_callback_value.as_deref(),
            _ => None,
        };
        self.app_id.as_deref().filter(|a| !a.is_empty()).or(legacy)
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct NumberPage {
    #[serde(default)]
    pub(crate) count: Option<u64>,
    #[serde(default)]
    pub(crate) numbers: Vec<OwnedNumber>,
}

/// An error body: RFC 7807 problem details (`type`, `title`, `detail`, `instance`,
/// `invalid_parameters`), or the older REST APIs' `error-code` and `error-code-label`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(rename = "type", default)]
    pub(crate) kind: Option<String>,
    #[serde(default)]
    pub(crate) title: Option<String>,
    #[serde(default)]
    pub(crate) detail: Option<String>,
    #[serde(default)]
    pub(crate) instance: Option<String>,
    #[serde(default)]
    pub(crate) invalid_parameters: Vec<InvalidParameter>,
    #[serde(rename = "error-code", default, deserialize_with = "string_or_number")]
    pub(crate) error_code: Option<String>,
    #[serde(rename = "error-code-label", default)]
    pub(crate) error_code_label: Option<String>,
    #[serde(default)]
    pub(crate) error_title: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct InvalidParameter {
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) reason: Option<String>,
}

impl ErrorBody {
    /// The message: title and detail, then each invalid parameter.
    pub(crate) fn message(&self) -> Option<String> {
        let mut parts: Vec<String> = Vec::new();
        for s in [
            &self.title,
            &self.error_title,
            &self.detail,
            &self.error_code_label,
        ]
        .into_iter()
        .flatten()
        {
            if !s.is_empty() && !parts.iter().any(|p| p == s) {
                parts.push(s.clone());
            }
        }
        let params: Vec<String> = self
            .invalid_parameters
            .iter()
            .map(|p| {
                format!(
                    "{}: {}",
                    p.name.as_deref().unwrap_or("?"),
                    p.reason.as_deref().unwrap_or("invalid")
                )
            })
            .collect();
        if !params.is_empty() {
            parts.push(format!("invalid parameters: {}", params.join("; ")));
        }
        if let Some(i) = &self.instance {
            parts.push(format!("instance {i}"));
        }
        (!parts.is_empty()).then(|| parts.join(": "))
    }

    /// The code: the `type` URL's fragment (`…/api-errors#unauthorized` → `unauthorized`), or
    /// `error-code`.
    pub(crate) fn code(&self) -> Option<String> {
        self.kind
            .as_deref()
            .map(|t| t.rsplit(['#', '/']).next().unwrap_or(t).to_owned())
            .filter(|c| !c.is_empty())
            .or_else(|| self.error_code.clone())
    }

    /// The documentation link: `type`, when it is a URL.
    pub(crate) fn more_info(&self) -> Option<String> {
        self.kind
            .clone()
            .filter(|t| t.starts_with("http://") || t.starts_with("https://"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_details_read_well() {
        let e: ErrorBody = serde_json::from_str(
            r#"{"type":"https://developer.nexmo.com/api-errors#bad-request","title":"Bad Request","detail":"The request failed due to validation errors","invalid_parameters":[{"name":"to[0].number","reason":"must match \"^[1-9]\\d{6,14}$\""}],"instance":"bf0ca0bf927b3b52e3cb03217e1a1ddf"}"#,
        )
        .unwrap();
        assert_eq!(e.code().as_deref(), Some("bad-request"));
        assert_eq!(
            e.more_info().as_deref(),
            Some("https://developer.nexmo.com/api-errors#bad-request")
        );
        let m = e.message().unwrap();
        assert!(m.starts_with("Bad Request: The request failed due to validation errors: invalid parameters: to[0].number: must match"), "{m}");
        let e: ErrorBody = serde_json::from_str(
            r#"{"error-code":"401","error-code-label":"authentication failed"}"#,
        )
        .unwrap();
        assert_eq!(e.code().as_deref(), Some("401"));
        assert_eq!(e.message().as_deref(), Some("authentication failed"));
    }

    #[test]
    fn numbers_and_calls() {
        let n: OwnedNumber = serde_json::from_str(r#"{"country":"GB","msisdn":"447700900000","type":"mobile-lvn","features":["VOICE","SMS"],"app_id":"aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"}"#).unwrap();
        assert_eq!(
            n.application(),
            Some("aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab")
        );
        assert_eq!((n.takes("VOICE"), n.takes("SMS")), (Some(true), Some(true)));
        // vonage-python-sdk's list_owned_numbers_basic.json: an SMS-only number.
        let n: OwnedNumber = serde_json::from_str(
            r#"{"country": "ES", "msisdn": "3400000000", "type": "mobile-lvn", "features": ["SMS"]}"#,
        )
        .unwrap();
        assert_eq!(
            (n.takes("VOICE"), n.takes("SMS")),
            (Some(false), Some(true))
        );
        let n: OwnedNumber = serde_json::from_str(
            r#"{"msisdn":"447700900000","voiceCallbackType":"app","voiceCallbackValue":"x-app"}"#,
        )
        .unwrap();
        assert_eq!(n.application(), Some("x-app"));
        assert_eq!(n.takes("VOICE"), None, "no features: not said");
        let c: CallResource = serde_json::from_str(r#"{"uuid":"u","to":{"type":"phone","number":"447700900000"},"from":{"type":"sip","uri":"sip:a@b"},"price":0.0123,"duration":"60"}"#).unwrap();
        assert_eq!(endpoint_text(&c.to).as_deref(), Some("447700900000"));
        assert_eq!(endpoint_text(&c.from).as_deref(), Some("sip:a@b"));
        assert_eq!(c.price.as_deref(), Some("0.0123"));
    }
}
