//! `notify`: a payload posted to a webhook while the call goes on.

use serde::{Deserialize, Serialize};

use super::{Method, NccoError, check_event_url, fail};

/// `notify`: posts a payload to a webhook, then goes on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Notify {
    /// A JSON object sent as the body.
    pub payload: serde_json::Value,
    /// Where it goes, as a one-element array.
    #[serde(rename = "eventUrl")]
    pub event_url: Vec<String>,
    /// The method.
    #[serde(
        rename = "eventMethod",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub event_method: Option<Method>,
}

impl Notify {
    /// Posts `payload` (an object) to `url`.
    pub fn new(payload: serde_json::Value, url: impl Into<String>) -> Notify {
        Notify {
            payload,
            event_url: vec![url.into()],
            event_method: None,
        }
    }

    /// Sets the method for `eventUrl`.
    pub fn event_method(mut self, method: Method) -> Notify {
        self.event_method = Some(method);
        self
    }

    pub(super) fn validate(&self) -> Result<(), NccoError> {
        if !self.payload.is_object() {
            return fail("payload is not a JSON object");
        }
        check_event_url(&Some(self.event_url.clone()))
    }
}
