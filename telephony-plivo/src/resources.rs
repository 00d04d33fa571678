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
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Cdr {
    /// The call.
    pub call_uuid: String,
    /// `ANSWER`, `BUSY`, `NOANSWER`, `CANCEL`, `FAILED`, …
    #[serde(default)]
    pub call_state: Option<String>,
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
    /// Why it ended: `Normal Hangup`, …
    #[serde(default)]
    pub hangup_cause_name: Option<String>,
    /// Who ended it.
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
        let e: ErrorBody =
            serde_json::from_str(r#"{"api_id":"x","error":{"to":["invalid"]}}"#).unwrap();
        assert_eq!(e.text().as_deref(), Some(r#"{"to":["invalid"]}"#));
    }
}
