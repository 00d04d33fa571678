//! Telnyx's REST resources, as the API returns them: the fields this adapter reads, every
//! other field ignored, numbers read whether written as numbers or strings.

use serde::Deserialize;
use telephony_core::rest::string_or_number;

/// `{"data": …}`, the envelope of every answer.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Data<T> {
    pub(crate) data: T,
}

/// A page of a listing: `{"data": […], "meta": {…}}`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Page<T> {
    #[serde(default = "Vec::new")]
    pub(crate) data: Vec<T>,
    #[serde(default)]
    pub(crate) meta: Option<PageMeta>,
}

/// A listing's position.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PageMeta {
    #[serde(default)]
    pub(crate) total_pages: Option<u64>,
}

/// A call, as `POST /calls` and `GET /calls/{id}` give it.
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct CallResource {
    /// The id commands take (`v3:…`).
    pub call_control_id: String,
    /// The leg's UUID.
    #[serde(default)]
    pub call_leg_id: Option<String>,
    /// The session's UUID.
    #[serde(default)]
    pub call_session_id: Option<String>,
    /// Whether the call is up. Always false in the answer to a dial, which is asynchronous.
    #[serde(default)]
    pub is_alive: bool,
    /// How long it lasted, in seconds.
    #[serde(default, deserialize_with = "string_or_number")]
    pub call_duration: Option<String>,
    /// When it started (RFC 3339).
    #[serde(default)]
    pub start_time: Option<String>,
    /// When it ended (RFC 3339).
    #[serde(default)]
    pub end_time: Option<String>,
    /// Its state, where the answer says it (`parked`, `bridging`, `answered`, `hangup`).
    #[serde(default)]
    pub state: Option<String>,
    /// The caller, where the answer says it (telnyx-python's model does not declare it).
    #[serde(default)]
    pub from: Option<String>,
    /// The called party, where the answer says it (telnyx-python's model does not declare
    /// it).
    #[serde(default)]
    pub to: Option<String>,
    /// `incoming` or `outgoing`, where the answer says it (telnyx-python's model does not
    /// declare it).
    #[serde(default)]
    pub direction: Option<String>,
}

/// A call recording (`GET /recordings/{id}`; telnyx-python 4.189
/// `types/recording_response_data.py`).
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct RecordingResource {
    /// Its id.
    #[serde(default)]
    pub id: Option<String>,
    /// The call it recorded.
    #[serde(default)]
    pub call_control_id: Option<String>,
    /// `single` or `dual`.
    #[serde(default)]
    pub channels: Option<String>,
    /// Where to fetch it: pre-signed links, fetched without the API key.
    #[serde(default)]
    pub download_urls: Option<crate::events::RecordingUrls>,
    /// How long it is, in milliseconds.
    #[serde(default, deserialize_with = "string_or_number")]
    pub duration_millis: Option<String>,
    /// `completed`.
    #[serde(default)]
    pub status: Option<String>,
}

/// A number the account owns.
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct NumberResource {
    /// The number's resource id, which `PATCH /phone_numbers/{id}` takes.
    #[serde(default, deserialize_with = "string_or_number")]
    pub id: Option<String>,
    /// The number, +E.164.
    pub phone_number: String,
    /// `active`, `purchase-pending`, …
    #[serde(default)]
    pub status: Option<String>,
    /// The application (connection) its calls go to.
    #[serde(default, deserialize_with = "string_or_number")]
    pub connection_id: Option<String>,
    /// That application's name.
    #[serde(default)]
    pub connection_name: Option<String>,
}

/// A Call Control application.
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct Application {
    /// Its id: the `connection_id` numbers and calls name.
    #[serde(deserialize_with = "required_text")]
    pub id: String,
    /// Its name, which every update must send again.
    #[serde(default)]
    pub application_name: Option<String>,
    /// Where its events go.
    #[serde(default)]
    pub webhook_event_url: Option<String>,
    /// `1` or `2`.
    #[serde(default, deserialize_with = "string_or_number")]
    pub webhook_api_version: Option<String>,
}

/// A detail record: what a call cost, in the account's currency.
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct DetailRecord {
    /// The cost, a decimal string.
    #[serde(default, deserialize_with = "string_or_number")]
    pub cost: Option<String>,
    /// Its currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// The rate.
    #[serde(default, deserialize_with = "string_or_number")]
    pub rate: Option<String>,
    /// Billed seconds.
    #[serde(default, deserialize_with = "string_or_number")]
    pub billed_sec: Option<String>,
    /// The call it is for, as detail records name it.
    #[serde(default)]
    pub telnyx_call_control_id: Option<String>,
    /// The call it is for, as some record types name it.
    #[serde(default)]
    pub call_control_id: Option<String>,
}

impl DetailRecord {
    /// Whether the record is for call `id`: `None` when it names no call (an empty id counts
    /// as none).
    pub fn names_call(&self, id: &str) -> Option<bool> {
        [&self.telnyx_call_control_id, &self.call_control_id]
            .into_iter()
            .flatten()
            .find(|named| !named.is_empty())
            .map(|named| named == id)
    }
}

/// An error answer: `{"errors": [{…}]}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub(crate) errors: Vec<ApiErrorItem>,
}

/// One error: the code is a string (sometimes a number), the text in `detail` or, as the
/// SDK's model names it, `description`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ApiErrorItem {
    #[serde(default, deserialize_with = "string_or_number")]
    pub(crate) code: Option<String>,
    #[serde(default)]
    pub(crate) title: Option<String>,
    #[serde(default)]
    pub(crate) detail: Option<String>,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) meta: Option<ErrorMeta>,
}

/// An error's documentation link.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ErrorMeta {
    #[serde(default)]
    pub(crate) url: Option<String>,
}

fn required_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    string_or_number(d)?.ok_or_else(|| serde::de::Error::custom("missing id"))
}
