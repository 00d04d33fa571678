//! The REST client: Telnyx's side of core's one request path (a bearer API key, `errors[]`
//! bodies, `x-ratelimit-*` waits), and the Call Control v2 operations a voice platform uses.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use telephony_core::rest::{Auth, ErrorDetails, Next, RestApi, RestClient, RestRequest};
use telephony_core::{Error, HangupOutcome, ProviderKind, Url};

use crate::KIND;
use crate::commands::{self, Answer, Dial};
use crate::config::TelnyxConfig;
use crate::resources::{
    Application, CallResource, Data, DetailRecord, ErrorBody, NumberResource, Page,
};

/// The error code of a command on a call that already ended.
pub const CALL_ENDED: &str = "90018";

/// Whether `error` says the call a command was for has ended: a 422 with code
/// [`CALL_ENDED`], or a 404 (a call Telnyx no longer knows).
pub fn call_ended(error: &Error) -> bool {
    match error.http_status() {
        Some(404) => true,
        Some(422) => error.provider_code() == Some(CALL_ENDED),
        _ => false,
    }
}

/// What core's client needs to know about Telnyx.
#[derive(Debug, Clone)]
pub(crate) struct TelnyxApi {
    config: Arc<TelnyxConfig>,
}

impl RestApi for TelnyxApi {
    fn provider(&self) -> ProviderKind {
        KIND
    }

    /// `{"errors":[{"code","title","detail","meta":{"url"}}]}`: the first error's title and
    /// detail (or `description`, as the SDK's model names it), its code and its link.
    fn error_details(&self, body: &[u8]) -> ErrorDetails {
        let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
        let Some(first) = parsed.errors.into_iter().next() else {
            return ErrorDetails::default();
        };
        let message = match (first.title, first.detail.or(first.description)) {
            (Some(t), Some(d)) if t != d => Some(format!("{t}: {d}")),
            (Some(t), _) => Some(t),
            (None, d) => d,
        };
        ErrorDetails::default()
            .message(message)
            .code(first.code)
            .more_info(first.meta.and_then(|m| m.url))
    }

    fn hint(&self, status: u16, _auth: &Auth) -> Option<String> {
        match status {
            401 => Some(
                "check TELNYX_API_KEY: an API key (v2, KEY…) from Mission Control, Keys & Credentials"
                    .to_owned(),
            ),
            403 => Some(
                "the key or account may not do this (a level-1 account's limits, a destination not enabled, or TELNYX_CONNECTION_ID belongs to another account?)"
                    .to_owned(),
            ),
            _ => None,
        }
    }

    /// `retry-after-ms`, then `Retry-After`, then, when the answer says no requests remain,
    /// `x-ratelimit-reset` (seconds until the window resets).
    fn retry_after(
        &self,
        headers: &reqwest::header::HeaderMap,
        now: SystemTime,
    ) -> Option<Duration> {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok())
            && ms.is_finite()
            && ms >= 0.0
        {
            return Some(Duration::from_secs_f64((ms / 1000.0).min(86_400.0)));
        }
        if let Some(wait) = telephony_core::rest::retry_after(headers, now) {
            return Some(wait);
        }
        if text("x-ratelimit-remaining") == Some("0") {
            return text("x-ratelimit-reset")
                .and_then(|v| v.parse::<u64>().ok())
                .map(Duration::from_secs);
        }
        None
    }
}

/// Telnyx's REST API, the parts a voice platform uses. Cheap to clone.
#[derive(Debug, Clone)]
pub struct TelnyxClient {
    pub(crate) rest: RestClient<TelnyxApi>,
    pub(crate) auth: Auth,
}

impl TelnyxClient {
    /// A client for these settings, which are checked first.
    ///
    /// # Errors
    ///
    /// A setting that cannot be right.
    pub fn new(config: TelnyxConfig) -> Result<TelnyxClient, Error> {
        config.validate()?;
        let auth = Auth::Bearer(config.api_key.clone());
        let http = config.http.clone();
        let rest = RestClient::new(
            TelnyxApi {
                config: Arc::new(config),
            },
            &http,
        )?;
        Ok(TelnyxClient { rest, auth })
    }

    /// The settings.
    pub fn config(&self) -> &TelnyxConfig {
        &self.rest.api().config
    }

    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        self.config().url(segments)
    }

    /// Places a call (`POST /calls`). Sent again only where Telnyx cannot have acted on it
    /// (a 429, a connection that never opened), with the same `command_id`.
    ///
    /// # Errors
    ///
    /// Telnyx's refusal, or a transport error that says whether the call may have been placed.
    pub async fn dial(&self, dial: &Dial) -> Result<CallResource, Error> {
        self.rest
            .post(self.url(&["calls"]), "create call")
            .auth(&self.auth)
            .json(dial)
            .decode::<Data<CallResource>>()
            .await
            .map(|d| d.data)
    }

    /// A call's state (`GET /calls/{id}`): kept for 10 minutes after it ends.
    ///
    /// # Errors
    ///
    /// Telnyx's refusal (a 404 once the call is forgotten), or a transport error.
    pub async fn get_call(&self, id: &str) -> Result<CallResource, Error> {
        self.rest
            .get(self.url(&["calls", id]), format!("fetch call {id}"))
            .auth(&self.auth)
            .decode::<Data<CallResource>>()
            .await
            .map(|d| d.data)
    }

    /// One command on a call (`POST /calls/{id}/actions/{action}`). It carries a
    /// `command_id`, so it is sent again after a 5xx or a timeout too: Telnyx runs it once.
    pub(crate) fn action<'a>(
        &'a self,
        id: &str,
        action: &str,
        body: &serde_json::Value,
    ) -> RestRequest<'a, TelnyxApi> {
        self.rest
            .post(
                self.url(&["calls", id, "actions", action]),
                format!("{} call {id}", action.replace('_', " ")),
            )
            .auth(&self.auth)
            .json(body)
            .idempotent(true)
    }

    /// Answers an inbound call with a stream (`actions/answer`).
    ///
    /// # Errors
    ///
    /// Telnyx's refusal (the call ended, or was answered by another command), or a transport
    /// error.
    pub async fn answer(&self, id: &str, answer: &Answer) -> Result<(), Error> {
        let body = serde_json::to_value(answer).map_err(Error::invalid_request)?;
        self.action(id, "answer", &body).success().await.map(drop)
    }

    /// Rejects an inbound call before answering it (`actions/reject`), with `cause`
    /// `CALL_REJECTED` or `USER_BUSY`.
    ///
    /// # Errors
    ///
    /// Telnyx's refusal, or a transport error.
    pub async fn reject(&self, id: &str, cause: &str) -> Result<(), Error> {
        let body = serde_json::json!({
            "cause": cause,
            "command_id": commands::command_id("reject", id),
        });
        self.action(id, "reject", &body).success().await.map(drop)
    }

    /// Hangs up a call (`actions/hangup`). A call that already ended (a 422 with code
    /// `90018`, or a 404) is [`HangupOutcome::AlreadyEnded`]: success, not an error.
    ///
    /// # Errors
    ///
    /// Any other refusal, or a transport error.
    pub async fn hangup(&self, id: &str) -> Result<HangupOutcome, Error> {
        let body = serde_json::json!({ "command_id": commands::command_id("hangup", id) });
        let request = self.action(id, "hangup", &body);
        let answer = request.send().await?;
        if answer.is_success() {
            return Ok(HangupOutcome::Ended);
        }
        let error = request.error(&answer);
        if call_ended(&error) {
            return Ok(HangupOutcome::AlreadyEnded);
        }
        Err(error)
    }

    /// The account's numbers, 250 a page (`GET /phone_numbers`), optionally only `number`.
    ///
    /// # Errors
    ///
    /// Telnyx's refusal, a transport error, or a listing that does not end
    /// ([`Error::Page`]).
    pub async fn list_numbers(&self, number: Option<&str>) -> Result<Vec<NumberResource>, Error> {
        const SIZE: u64 = 250;
        let page_url = |index: u64| {
            let mut url = self.url(&["phone_numbers"]);
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("page[number]", &index.to_string())
                    .append_pair("page[size]", &SIZE.to_string());
                if let Some(n) = number {
                    q.append_pair("filter[phone_number]", n);
                }
            }
            url
        };
        let mut index = 1;
        self.rest
            .get(page_url(index), "list numbers")
            .auth(&self.auth)
            .pages_by(
                &self.config().base_url,
                |n: &NumberResource| Some(n.phone_number.clone()),
                |page: Page<NumberResource>| {
                    let got = page.data.len() as u64;
                    let done = match page.meta.and_then(|m| m.total_pages) {
                        Some(total) => index >= total || got == 0,
                        None => got < SIZE,
                    };
                    index += 1;
                    let next = if done {
                        Next::Done
                    } else {
                        Next::Url(page_url(index))
                    };
                    (page.data, next)
                },
            )
            .await
    }

    /// Points a number at a Call Control application (`PATCH /phone_numbers/{id}`).
    ///
    /// # Errors
    ///
    /// Telnyx's refusal, or a transport error.
    pub async fn set_number_connection(
        &self,
        number_id: &str,
        connection_id: &str,
    ) -> Result<NumberResource, Error> {
        self.rest
            .request(
                reqwest::Method::PATCH,
                self.url(&["phone_numbers", number_id]),
                format!("update number {number_id}"),
            )
            .auth(&self.auth)
            .json(&serde_json::json!({ "connection_id": connection_id }))
            .idempotent(true)
            .decode::<Data<NumberResource>>()
            .await
            .map(|d| d.data)
    }

    /// A Call Control application (`GET /call_control_applications/{id}`).
    ///
    /// # Errors
    ///
    /// Telnyx's refusal, or a transport error.
    pub async fn get_application(&self, id: &str) -> Result<Application, Error> {
        self.rest
            .get(
                self.url(&["call_control_applications", id]),
                format!("fetch application {id}"),
            )
            .auth(&self.auth)
            .decode::<Data<Application>>()
            .await
            .map(|d| d.data)
    }

    /// Sets an application's webhook URL (`PATCH /call_control_applications/{id}`), which
    /// needs the application's name too, and the v2 event format.
    ///
    /// # Errors
    ///
    /// Telnyx's refusal, or a transport error.
    pub async fn set_application_webhook(
        &self,
        app: &Application,
        url: &Url,
    ) -> Result<Application, Error> {
        self.rest
            .request(
                reqwest::Method::PATCH,
                self.url(&["call_control_applications", &app.id]),
                format!("update application {}", app.id),
            )
            .auth(&self.auth)
            .json(&serde_json::json!({
                "application_name": app.application_name,
                "webhook_event_url": url.as_str(),
                "webhook_api_version": "2",
            }))
            .idempotent(true)
            .decode::<Data<Application>>()
            .await
            .map(|d| d.data)
    }

    /// The call-control detail records of one call, by its `call_control_id`
    /// (`GET /detail_records?filter[record_type]=call-control`). Records appear some time
    /// after the call ends.
    ///
    /// The records are asked for by `filter[telnyx_call_control_id]`, the field Telnyx's
    /// detail records name the call by. Telnyx refuses (400) a filter on a field the record
    /// type does not have; then the latest records are read instead and the call's picked out
    /// by its id. Either way a record that names another call is dropped.
    ///
    /// # Errors
    ///
    /// Telnyx's refusal, or a transport error.
    pub async fn detail_records(&self, call_control_id: &str) -> Result<Vec<DetailRecord>, Error> {
        let records = match self.records(Some(call_control_id)).await {
            Err(e) if e.http_status() == Some(400) => self.records(None).await?,
            other => other?,
        };
        Ok(records
            .into_iter()
            .filter(|r| r.names_call(call_control_id) != Some(false))
            .collect())
    }

    /// One page of call-control records: the call's, or the latest.
    async fn records(&self, call_control_id: Option<&str>) -> Result<Vec<DetailRecord>, Error> {
        let mut url = self.url(&["detail_records"]);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("filter[record_type]", "call-control");
            match call_control_id {
                Some(id) => q
                    .append_pair("filter[telnyx_call_control_id]", id)
                    .append_pair("page[size]", "20"),
                None => q
                    .append_pair("sort", "-started_at")
                    .append_pair("page[size]", "250"),
            };
        }
        let operation = match call_control_id {
            Some(id) => format!("fetch detail records of call {id}"),
            None => "fetch the latest call-control detail records".to_owned(),
        };
        self.rest
            .get(url, operation)
            .auth(&self.auth)
            .decode::<Page<DetailRecord>>()
            .await
            .map(|p| p.data)
    }
}
