//! Plivo's REST resources as they come over the wire (the fields this adapter reads; the rest
//! is ignored, so new fields never break a parse).

use serde::{Deserialize, Deserializer};
use telephony_core::rest::string_or_number;

/// The answer to `POST /Call/`: `request_uuid` is the id answer and hangup callbacks repeat as
/// `RequestUUID` (or `ALegRequestUUID`) next to the call's own `CallUUID`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CallCreated {
    /// Plivo's id for the request.
    #[serde(default)]
    pub api_id: Option<String>,
    /// `call fired`.
    #[serde(default)]
    pub message: Option<String>,
    /// The request's id; a list when several destinations were dialled.
    #[serde(deserialize_with = "one_or_many")]
    pub request_uuid: Vec<String>,
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// A call detail record: `GET /Call/{uuid}/`, once the call ended.
///
/// Plivo's records often carry no `call_state` (plivo-python's `callGetResponse.json`, a real
/// answer, has none): the outcome is then read from `answer_time`, `bill_duration` and the
/// hangup cause ([`status::ended_call`](crate::status::ended_call)).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Cdr {
    /// The call.
    pub call_uuid: String,
    /// `ANSWER`, `BUSY`, `NOANSWER`, `CANCEL`, `FAILED`, … where sent.
    #[serde(default)]
    pub call_state: Option<String>,
    /// When the call was placed or arrived ([`timestamp`](crate::status::timestamp): `2017-05-22 17:49:30+05:30`).
    #[serde(default)]
    pub initiation_time: Option<String>,
    /// When it was answered; null for a call never answered.
    #[serde(default)]
    pub answer_time: Option<String>,
    /// When it ended.
    #[serde(default)]
    pub end_time: Option<String>,
    /// `inbound` or `outbound`.
    #[serde(default)]
    pub call_direction: Option<String>,
    /// The caller.
    #[serde(default)]
    pub from_number: Option<String>,
    /// The called party.
    #[serde(default)]
    pub to_number: Option<String>,
    /// Seconds.
    #[serde(default, deserialize_with = "string_or_number")]
    pub call_duration: Option<String>,
    /// Seconds billed.
    #[serde(default, deserialize_with = "string_or_number")]
    pub bill_duration: Option<String>,
    /// What the call cost, as a decimal string.
    #[serde(default, deserialize_with = "string_or_number")]
    pub total_amount: Option<String>,
    /// The per-minute rate, as a decimal string.
    #[serde(default, deserialize_with = "string_or_number")]
    pub total_rate: Option<String>,
    /// Why it ended: `Normal Hangup`, `Busy Line`, …
    #[serde(default)]
    pub hangup_cause_name: Option<String>,
    /// Plivo's code for the cause: 4000 (normal hangup), 1000 (canceled), 2000–2070 (the
    /// destination), …
    #[serde(default, deserialize_with = "string_or_number")]
    pub hangup_cause_code: Option<String>,
    /// Who ended it: `Caller`, `Callee`, `Plivo`, `Carrier`, `API Request`, `Answer XML`,
    /// `Error`, `Unknown`.
    #[serde(default)]
    pub hangup_source: Option<String>,
    /// The call this one was dialled from.
    #[serde(default)]
    pub parent_call_uuid: Option<String>,
}

/// A live call: `GET /Call/{uuid}/?status=live`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct LiveCall {
    /// The call.
    #[serde(default)]
    pub call_uuid: Option<String>,
    /// `in-progress`, `ringing`, …
    #[serde(default)]
    pub call_status: Option<String>,
    /// `inbound` or `outbound`.
    #[serde(default)]
    pub direction: Option<String>,
    /// The caller.
    #[serde(default)]
    pub from: Option<String>,
    /// The called party.
    #[serde(default)]
    pub to: Option<String>,
    /// The request that placed it.
    #[serde(default)]
    pub request_uuid: Option<String>,
}

/// A number the account rents.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct NumberResource {
    /// The number, digits with the country code and no `+`.
    pub number: String,
    /// A label.
    #[serde(default)]
    pub alias: Option<String>,
    /// The linked application's URI (`/v1/Account/{id}/Application/{app_id}/`), or null.
    #[serde(default)]
    pub application: Option<String>,
    /// Whether it takes voice calls.
    #[serde(default)]
    pub voice_enabled: Option<bool>,
    /// Whether it takes SMS.
    #[serde(default)]
    pub sms_enabled: Option<bool>,
}

impl NumberResource {
    /// The id of the linked application, from its URI.
    pub fn app_id(&self) -> Option<&str> {
        let uri = self.application.as_deref()?;
        uri.trim_end_matches('/')
            .rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
    }
}

/// An application.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Application {
    /// Its id.
    #[serde(default)]
    pub app_id: Option<String>,
    /// Where answered calls fetch their XML.
    #[serde(default)]
    pub answer_url: Option<String>,
    /// `GET` or `POST`.
    #[serde(default)]
    pub answer_method: Option<String>,
    /// A name.
    #[serde(default)]
    pub app_name: Option<String>,
}

/// The answer to `POST /Call/{uuid}/Record/` (202): where the file will be and, in current
/// docs, its id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RecordingStart {
    /// Plivo's id for the request.
    #[serde(default)]
    pub api_id: Option<String>,
    /// `call recording started`.
    #[serde(default)]
    pub message: Option<String>,
    /// Where the file will be.
    #[serde(default)]
    pub url: Option<String>,
    /// The recording's id.
    #[serde(default)]
    pub recording_id: Option<String>,
}

/// A recording: `GET /Recording/{id}/`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RecordingResource {
    /// Its id.
    #[serde(default)]
    pub recording_id: Option<String>,
    /// The call recorded.
    #[serde(default)]
    pub call_uuid: Option<String>,
    /// Where the file is.
    #[serde(default)]
    pub recording_url: Option<String>,
    /// `mp3` or `wav`.
    #[serde(default)]
    pub recording_format: Option<String>,
    /// `normal` or `conference`.
    #[serde(default)]
    pub recording_type: Option<String>,
    /// Milliseconds, as a decimal string (`"345100.00000"`).
    #[serde(default, deserialize_with = "string_or_number")]
    pub recording_duration_ms: Option<String>,
    /// Milliseconds since the epoch, as a decimal string.
    #[serde(default, deserialize_with = "string_or_number")]
    pub recording_start_ms: Option<String>,
    /// Milliseconds since the epoch, as a decimal string.
    #[serde(default, deserialize_with = "string_or_number")]
    pub recording_end_ms: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct LiveCalls {
    #[serde(default)]
    pub(crate) calls: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Meta {
    #[serde(default)]
    pub(crate) next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct NumberPage {
    #[serde(default)]
    pub(crate) meta: Option<Meta>,
    #[serde(default)]
    pub(crate) objects: Vec<NumberResource>,
}

/// Plivo's error body: `{"api_id": "…", "error": "…"}`, the error sometimes an object.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub(crate) api_id: Option<String>,
    #[serde(default)]
    pub(crate) error: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) message: Option<String>,
}

impl ErrorBody {
    pub(crate) fn text(&self) -> Option<String> {
        match &self.error {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Null) | None => self.message.clone(),
            Some(other) => Some(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_from_the_docs() {
        let c: CallCreated = serde_json::from_str(r#"{"api_id":"9e4f","message":"call fired","request_uuid":"2e94fb9a-a58f-4a1c-86ac-59cba3e4a2b5"}"#).unwrap();
        assert_eq!(c.request_uuid, ["2e94fb9a-a58f-4a1c-86ac-59cba3e4a2b5"]);
        let c: CallCreated = serde_json::from_str(r#"{"request_uuid":["a","b"]}"#).unwrap();
        assert_eq!(c.request_uuid, ["a", "b"]);
        let cdr: Cdr = serde_json::from_str(
            r#"{"answer_time":"2022-10-12 21:57:47+05:30","bill_duration":1,"billed_duration":1,"call_direction":"outbound","call_duration":1,"call_state":"ANSWER","call_uuid":"5607532d-5037-4066-befc-a8b40218dd4f","from_number":"+12025551111","hangup_cause_code":8011,"hangup_cause_name":"Invalid Answer XML","hangup_source":"Error","total_amount":"0.01667","total_rate":"1.00000"}"#,
        )
        .unwrap();
        assert_eq!(cdr.call_duration.as_deref(), Some("1"));
        assert_eq!(cdr.total_amount.as_deref(), Some("0.01667"));
        let n: NumberResource = serde_json::from_str(r#"{"number":"14155550101","application":"/v1/Account/MAXXXXXXXXXXXXXXXXX1/Application/29986316244302815/"}"#).unwrap();
        assert_eq!(n.app_id(), Some("29986316244302815"));
        let r: RecordingResource = serde_json::from_str(
            r#"{"add_time":"2020-08-05 16:15:15.852059+05:30","api_id":"7abf0744-1ca0-11e4-a2d1-22000ac5040c","call_uuid":"c2c128e2-1c8c-11e4-9bff-1db8a9db0432","conference_name":"noname","recording_duration_ms":"345100.00000","recording_end_ms":"1407235509007.00000","recording_format":"mp3","recording_id":"c2186400-1c8c-11e4-a664-0026b945b52x","recording_start_ms":"1407235163907.00000","recording_type":"conference","recording_url":"http://s3.amazonaws.com/recordings_2013/c2186400-1c8c-11e4-a664-0026b945b52x.mp3","resource_uri":"/v1/Account/MA2025RK4E639VJFZAGV/Recording/c2186400-1c8c-11e4-a664-0026b945b52x/","recording_storage_duration":"723","rounded_recording_duration":"3456","recording_storage_rate":"0.0004","monthly_recording_storage_amount":"0.02304"}"#,
        )
        .unwrap();
        assert_eq!(r.recording_duration_ms.as_deref(), Some("345100.00000"));
        assert!(
            r.recording_url
                .unwrap()
                .ends_with("c2186400-1c8c-11e4-a664-0026b945b52x.mp3")
        );
        let s: RecordingStart = serde_json::from_str(r#"{"url":"http://s3.amazonaws.com/recordings_2013/48dfaf60-3b2a-11e3.mp3","message":"call recording started","recording_id":"48dfaf60-3b2a-11e3","api_id":"c7b69074-58be-11e1-86da-adf28403fe48"}"#).unwrap();
        assert_eq!(s.recording_id.as_deref(), Some("48dfaf60-3b2a-11e3"));
        let e: ErrorBody =
            serde_json::from_str(r#"{"api_id":"x","error":{"to":["invalid"]}}"#).unwrap();
        assert_eq!(e.text().as_deref(), Some(r#"{"to":["invalid"]}"#));
    }
}
