//! The REST client: Plivo's side of core's one request path (Basic `auth_id:auth_token`, its
//! error bodies and hints), and the operations a voice platform uses.

use std::sync::Arc;

use serde::Serialize;
use telephony_core::rest::{Auth, ErrorDetails, Next, RestApi, RestClient};
use telephony_core::{Error, ProviderKind, Url};

use crate::KIND;
use crate::config::PlivoConfig;
use crate::resources::{
    Application, CallCreated, Cdr, ErrorBody, LiveCall, LiveCalls, NumberPage, NumberResource,
};

mod account;
mod control;

pub use account::AccountResource;
pub use control::StartRecording;

/// Plivo's REST API, the parts a voice platform uses. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PlivoClient {
    rest: RestClient<PlivoApi>,
    auth: Auth,
}

/// What core's client needs to know about Plivo: its error bodies and what to check.
#[derive(Debug, Clone)]
struct PlivoApi {
    config: Arc<PlivoConfig>,
}

impl RestApi for PlivoApi {
    fn provider(&self) -> ProviderKind {
        KIND
    }

    /// `{"api_id": "…", "error": "…"}`, the error sometimes an object; the `api_id` is what
    /// Plivo's support asks for.
    fn error_details(&self, body: &[u8]) -> ErrorDetails {
        let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
        ErrorDetails::default()
            .message(parsed.text())
            .request_id(parsed.api_id)
    }

    fn hint(&self, status: u16, _: &Auth) -> Option<String> {
        match status {
            401 => Some(format!(
                "check PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN for account {}",
                self.config.auth_id
            )),
            403 => Some("the account may not do this (a subaccount's limits, geo permissions, or a suspended account?)".into()),
            _ => None,
        }
    }
}

/// A call to place: the JSON body of `POST /Call/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CreateCall {
    /// The caller id, digits with the country code.
    pub from: String,
    /// The destination, digits with the country code.
    pub to: String,
    /// Where the answered call fetches its XML.
    pub answer_url: String,
    /// `POST`.
    pub answer_method: &'static str,
    /// Where Plivo posts the end of the call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hangup_url: Option<String>,
    /// `POST` when `hangup_url` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hangup_method: Option<&'static str>,
    /// Where Plivo posts that the call is ringing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ring_url: Option<String>,
    /// `POST` when `ring_url` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ring_method: Option<&'static str>,
    /// `true` (report) or `hangup` (hang up on a machine).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine_detection: Option<&'static str>,
    /// Where Plivo posts the machine-detection verdict; without it the verdict comes with the
    /// answer or hangup request instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine_detection_url: Option<String>,
    /// `POST` when `machine_detection_url` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine_detection_method: Option<&'static str>,
    /// SIP headers for a SIP destination: `Name=value,Other=value` (Plivo adds `X-PH-`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sip_headers: Option<String>,
    /// The longest the call may last, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_limit: Option<u64>,
    /// How long to let it ring, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ring_timeout: Option<u64>,
}

impl CreateCall {
    /// A call with the required fields.
    pub fn new(
        from: impl Into<String>,
        to: impl Into<String>,
        answer_url: impl Into<String>,
    ) -> CreateCall {
        CreateCall {
            from: from.into(),
            to: to.into(),
            answer_url: answer_url.into(),
            answer_method: "POST",
            hangup_url: None,
            hangup_method: None,
            ring_url: None,
            ring_method: None,
            machine_detection: None,
            machine_detection_url: None,
            machine_detection_method: None,
            sip_headers: None,
            time_limit: None,
            ring_timeout: None,
        }
    }
}

impl PlivoClient {
    /// A client for these settings, which are checked first.
    pub fn new(config: PlivoConfig) -> Result<PlivoClient, Error> {
        config.validate()?;
        let auth = Auth::basic(config.auth_id.clone(), config.auth_token.clone());
        let http = config.http.clone();
        let rest = RestClient::new(
            PlivoApi {
                config: Arc::new(config),
            },
            &http,
        )?;
        Ok(PlivoClient { rest, auth })
    }

    /// The settings.
    pub fn config(&self) -> &PlivoConfig {
        &self.rest.api().config
    }

    /// `https://api.plivo.com/v1/Account/{auth_id}/{tail…}/`, Plivo's paths ending in a slash.
    fn url(&self, tail: &[&str]) -> Url {
        let config = self.config();
        let mut url = config.base_url.clone();
        if let Ok(mut seg) = url.path_segments_mut() {
            seg.pop_if_empty()
                .extend(["v1", "Account", &config.auth_id])
                .extend(tail)
                .push("");
        }
        url
    }

    /// Places a call. Retried only on a 429 or a connection that never opened.
    pub async fn create_call(&self, call: &CreateCall) -> Result<CallCreated, Error> {
        self.rest
            .post(self.url(&["Call"]), "create call")
            .auth(&self.auth)
            .json(call)
            .decode()
            .await
    }

    /// A call's detail record, once it ended. `None` when Plivo has none (404).
    pub async fn get_cdr(&self, uuid: &str) -> Result<Option<Cdr>, Error> {
        self.get_optional(
            &format!("fetch call {uuid}"),
            self.url(&["Call", uuid]),
            None,
        )
        .await
    }

    /// A live call (`?status=live`). `None` when it is not live (404).
    pub async fn get_live_call(&self, uuid: &str) -> Result<Option<LiveCall>, Error> {
        self.get_optional(
            &format!("fetch live call {uuid}"),
            self.url(&["Call", uuid]),
            Some("live"),
        )
        .await
    }

    /// The ids of the account's live calls (`GET /Call/?status=live`).
    pub async fn live_call_ids(&self) -> Result<Vec<String>, Error> {
        let page: Option<LiveCalls> = self
            .get_optional("list live calls", self.url(&["Call"]), Some("live"))
            .await?;
        Ok(page.map(|p| p.calls).unwrap_or_default())
    }

    /// The live call placed by `request_uuid`: once answered, Plivo knows the call by its own
    /// `CallUUID`, and its live record names the request.
    pub async fn find_live_call_by_request(
        &self,
        request_uuid: &str,
    ) -> Result<Option<LiveCall>, Error> {
        for id in self.live_call_ids().await? {
            if let Some(mut live) = self.get_live_call(&id).await?
                && live.request_uuid.as_deref() == Some(request_uuid)
            {
                live.call_uuid.get_or_insert(id);
                return Ok(Some(live));
            }
        }
        Ok(None)
    }

    /// A call that is queued, by its request id (`?status=queued`). `None` on a 404.
    pub async fn get_queued_call(&self, request_uuid: &str) -> Result<Option<LiveCall>, Error> {
        self.get_optional(
            &format!("fetch queued call {request_uuid}"),
            self.url(&["Call", request_uuid]),
            Some("queued"),
        )
        .await
    }

    async fn get_optional<T: serde::de::DeserializeOwned>(
        &self,
        operation: &str,
        mut url: Url,
        status: Option<&str>,
    ) -> Result<Option<T>, Error> {
        if let Some(s) = status {
            url.query_pairs_mut().append_pair("status", s);
        }
        self.rest
            .get(url, operation)
            .auth(&self.auth)
            .decode_optional()
            .await
    }

    /// Hangs up a call (`DELETE /Call/{uuid}/`). `false` when Plivo does not know the call (404):
    /// it already ended.
    pub async fn hangup_call(&self, uuid: &str) -> Result<bool, Error> {
        self.delete(&format!("hang up call {uuid}"), self.url(&["Call", uuid]))
            .await
    }

    /// Cancels a call not yet answered, by its request id (`DELETE /Request/{uuid}/`). `false`
    /// on a 404.
    pub async fn cancel_request(&self, request_uuid: &str) -> Result<bool, Error> {
        self.delete(
            &format!("cancel request {request_uuid}"),
            self.url(&["Request", request_uuid]),
        )
        .await
    }

    async fn delete(&self, operation: &str, url: Url) -> Result<bool, Error> {
        let request = self.rest.delete(url, operation).auth(&self.auth);
        let answer = request.send().await?;
        match answer.status {
            404 => Ok(false),
            _ if answer.is_success() => Ok(true),
            _ => Err(request.error(&answer)),
        }
    }

    /// Every number the account rents, 20 a page, following `meta.next` on the configured API
    /// only; a listing that never ends or loops is an [`Error::Page`].
    pub async fn list_numbers(&self) -> Result<Vec<NumberResource>, Error> {
        let mut url = self.url(&["Number"]);
        url.query_pairs_mut()
            .append_pair("limit", "20")
            .append_pair("offset", "0");
        self.rest
            .get(url, "list numbers")
            .auth(&self.auth)
            .pages_by(
                &self.config().base_url,
                |n: &NumberResource| Some(n.number.clone()),
                |page: NumberPage| {
                    let next = match page.meta.and_then(|m| m.next) {
                        // An empty page ends the listing whatever it links to.
                        next if !page.objects.is_empty() => Next::link(next),
                        _ => Next::Done,
                    };
                    (page.objects, next)
                },
            )
            .await
    }

    /// One rented number (digits, no `+`). `None` when the account does not rent it.
    pub async fn get_number(&self, digits: &str) -> Result<Option<NumberResource>, Error> {
        self.get_optional(
            &format!("fetch number {digits}"),
            self.url(&["Number", digits]),
            None,
        )
        .await
    }

    /// Links a number to an application (`POST /Number/{number}/ {"app_id"}`).
    pub async fn link_number(&self, digits: &str, app_id: &str) -> Result<(), Error> {
        self.set(
            self.url(&["Number", digits]),
            format!("link number {digits} to application {app_id}"),
            &serde_json::json!({ "app_id": app_id }),
        )
        .await
    }

    /// An application. `None` when it does not exist.
    pub async fn get_application(&self, app_id: &str) -> Result<Option<Application>, Error> {
        self.get_optional(
            &format!("fetch application {app_id}"),
            self.url(&["Application", app_id]),
            None,
        )
        .await
    }

    /// Sets an application's answer URL (`POST`), touching nothing else.
    pub async fn set_answer_url(&self, app_id: &str, answer_url: &str) -> Result<(), Error> {
        self.set(
            self.url(&["Application", app_id]),
            format!("update application {app_id}"),
            &serde_json::json!({ "answer_url": answer_url, "answer_method": "POST" }),
        )
        .await
    }

    /// A `POST` of `body` that sets values on a resource: idempotent, so retried like a read.
    async fn set(
        &self,
        url: Url,
        operation: String,
        body: &serde_json::Value,
    ) -> Result<(), Error> {
        self.rest
            .post(url, operation)
            .auth(&self.auth)
            .json(body)
            .idempotent(true)
            .success()
            .await
            .map(drop)
    }
}
