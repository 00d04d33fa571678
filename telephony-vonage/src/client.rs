//! The REST client: Vonage's side of core's one request path (the Voice API with the cached
//! application JWT, the Numbers and Applications APIs with Basic `api_key:api_secret`; its
//! error bodies and hints), and the operations a voice platform uses.

use std::sync::Arc;
use std::time::SystemTime;

use telephony_core::rest::{Answer, Auth, ErrorDetails, Next, RestApi, RestClient, RestRequest};
use telephony_core::{ConfigError, DecodeError, Error, HangupOutcome, ProviderKind, Url};

use crate::KIND;
use crate::config::VonageConfig;
use crate::jwt::AppJwt;
use crate::ncco::Ncco;
use crate::resources::{CallCreated, CallResource, CreateCall, ErrorBody, NumberPage, OwnedNumber};
use crate::status;

mod balance;

pub use balance::BalanceResource;

/// Which Vonage API a request goes to: they authenticate differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    /// The Voice API: the application JWT.
    Voice,
    /// The Numbers, Applications and Account (balance) APIs: Basic `api_key:api_secret`.
    Account,
}

/// What core's client needs to know about Vonage: its error bodies and what to check.
#[derive(Debug, Clone)]
struct VonageApi {
    config: Arc<VonageConfig>,
}

impl RestApi for VonageApi {
    fn provider(&self) -> ProviderKind {
        KIND
    }

    /// Problem details (`{"type", "title", "detail", "invalid_parameters"}`) from the Voice and
    /// Applications APIs; `{"error-code", "error-code-label"}` from the Numbers API.
    fn error_details(&self, body: &[u8]) -> ErrorDetails {
        let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
        ErrorDetails::default()
            .message(parsed.message())
            .code(parsed.code())
            .more_info(parsed.more_info())
    }

    fn hint(&self, status: u16, auth: &Auth) -> Option<String> {
        match (status, auth) {
            (401, Auth::Bearer(_)) => Some(format!(
                "the application JWT was refused: check that VONAGE_APPLICATION_ID ({}) is the application whose public key matches the private key",
                self.config.application_id
            )),
            (401, _) => Some("check VONAGE_API_KEY and VONAGE_API_SECRET".to_owned()),
            (403, _) => Some(
                "the account or application may not do this (voice capability off, or a restricted destination?)"
                    .to_owned(),
            ),
            _ => None,
        }
    }
}

/// A control action on a live call (`PUT /v1/calls/{uuid}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallControl {
    /// The caller's audio no longer reaches the other side.
    Mute,
    /// Undoes [`Mute`](Self::Mute).
    Unmute,
    /// The caller no longer hears the other side.
    Earmuff,
    /// Undoes [`Earmuff`](Self::Earmuff).
    Unearmuff,
}

impl CallControl {
    fn action(self) -> &'static str {
        match self {
            CallControl::Mute => "mute",
            CallControl::Unmute => "unmute",
            CallControl::Earmuff => "earmuff",
            CallControl::Unearmuff => "unearmuff",
        }
    }
}

/// Vonage's REST API, the parts a voice platform uses. Cheap to clone.
#[derive(Debug, Clone)]
pub struct VonageClient {
    rest: RestClient<VonageApi>,
    jwt: Arc<AppJwt>,
}

impl VonageClient {
    /// A client for these settings, which are checked first; the private key is parsed and
    /// signs once here, so a bad key fails now.
    pub fn new(config: VonageConfig) -> Result<VonageClient, Error> {
        config.validate()?;
        let jwt = AppJwt::with_setting(
            config.application_id.clone(),
            &config.private_key,
            config.jwt_ttl,
            config.key_setting,
        )?;
        let http = config.http.clone();
        let rest = RestClient::new(
            VonageApi {
                config: Arc::new(config),
            },
            &http,
        )?;
        Ok(VonageClient {
            rest,
            jwt: Arc::new(jwt),
        })
    }

    /// The settings.
    pub fn config(&self) -> &VonageConfig {
        &self.rest.api().config
    }

    /// The application JWT signer (its current token is what requests carry).
    pub fn jwt(&self) -> &AppJwt {
        &self.jwt
    }

    fn voice_url(&self, segments: &[&str]) -> Url {
        join(&self.config().base_url, segments)
    }

    fn applications_url(&self, segments: &[&str]) -> Url {
        join(&self.config().applications_base_url, segments)
    }

    fn rest_url(&self, segments: &[&str]) -> Url {
        join(&self.config().rest_base_url, segments)
    }

    /// The credentials for one operation: the current application JWT, or the account's key
    /// and secret. Taken once per operation, so every retry carries the same.
    fn auth(&self, api: Api) -> Result<Auth, Error> {
        let config = self.config();
        match api {
            Api::Voice => self
                .jwt
                .token(SystemTime::now())
                .map(Auth::Bearer)
                .map_err(|e| {
                    ConfigError::new(
                        config.key_setting,
                        format!("the private key no longer signs RS256: {e}"),
                    )
                    .into()
                }),
            Api::Account => match (&config.api_key, &config.api_secret) {
                (Some(key), Some(secret)) => Ok(Auth::basic(key.clone(), secret.clone())),
                _ => Err(ConfigError::new(
                    "VONAGE_API_KEY",
                    "not set: the Numbers, Applications and Account (balance) APIs authenticate with the account's API key and secret (VONAGE_API_KEY, VONAGE_API_SECRET)",
                )
                .into()),
            },
        }
    }

    /// Places a call. Retried only on a 429 or a connection that never opened, so nobody is
    /// dialled twice.
    pub async fn create_call(&self, call: &CreateCall) -> Result<CallCreated, Error> {
        call.validate()?;
        let auth = self.auth(Api::Voice)?;
        self.rest
            .post(self.voice_url(&["v1", "calls"]), "create call")
            .auth(&auth)
            .json(call)
            .decode()
            .await
    }

    /// A call.
    pub async fn get_call(&self, uuid: &str) -> Result<CallResource, Error> {
        let auth = self.auth(Api::Voice)?;
        self.rest
            .get(
                self.voice_url(&["v1", "calls", uuid]),
                format!("fetch call {uuid}"),
            )
            .auth(&auth)
            .decode()
            .await
    }

    /// One `PUT /v1/calls/{uuid}` with `body`, to send.
    fn update<'a>(
        &'a self,
        auth: &'a Auth,
        uuid: &str,
        operation: String,
        body: &serde_json::Value,
    ) -> RestRequest<'a, VonageApi> {
        self.rest
            .put(self.voice_url(&["v1", "calls", uuid]), operation)
            .auth(auth)
            .json(body)
    }

    async fn update_ok(
        &self,
        uuid: &str,
        operation: String,
        body: &serde_json::Value,
    ) -> Result<(), Error> {
        let auth = self.auth(Api::Voice)?;
        self.update(&auth, uuid, operation, body)
            .success()
            .await
            .map(drop)
    }

    /// Hangs up a call: `PUT {"action":"hangup"}`. A 204 ends it. A call Vonage no longer
    /// knows (404), or refuses to hang up because it is over, is
    /// [`HangupOutcome::AlreadyEnded`]: success, not an error.
    pub async fn hangup(&self, uuid: &str) -> Result<HangupOutcome, Error> {
        let auth = self.auth(Api::Voice)?;
        let request = self.update(
            &auth,
            uuid,
            format!("hang up call {uuid}"),
            &serde_json::json!({ "action": "hangup" }),
        );
        let answer = request.send().await?;
        match answer.status {
            s if (200..300).contains(&s) => Ok(HangupOutcome::Ended),
            404 | 410 => Ok(HangupOutcome::AlreadyEnded),
            400 | 409 | 422 => {
                // Refused: if the call is over, that is why.
                match self.get_call(uuid).await {
                    Ok(call)
                        if call
                            .status
                            .as_deref()
                            .map(status::call_status)
                            .is_some_and(|s| s.is_terminal()) =>
                    {
                        Ok(HangupOutcome::AlreadyEnded)
                    }
                    Err(e) if e.is_not_found() => Ok(HangupOutcome::AlreadyEnded),
                    _ => Err(request.error(&answer)),
                }
            }
            _ => Err(request.error(&answer)),
        }
    }

    /// Moves a live call to a new NCCO.
    pub async fn transfer_ncco(&self, uuid: &str, ncco: &Ncco) -> Result<(), Error> {
        let ncco = ncco
            .to_value()
            .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let body = serde_json::json!({
            "action": "transfer",
            "destination": { "type": "ncco", "ncco": ncco }
        });
        self.update_ok(uuid, format!("transfer call {uuid}"), &body)
            .await
    }

    /// [`transfer_ncco`](Self::transfer_ncco), telling a call that is gone from a failure:
    /// `Ok(true)` when the call moved, `Ok(false)` when Vonage no longer knows it (404, 410)
    /// or refused because it is over (a 400, 409 or 422 on a call that reads as ended or
    /// unknown), as [`hangup`](Self::hangup) tells them.
    pub async fn transfer_ncco_if_live(&self, uuid: &str, ncco: &Ncco) -> Result<bool, Error> {
        let ncco = ncco
            .to_value()
            .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let body = serde_json::json!({
            "action": "transfer",
            "destination": { "type": "ncco", "ncco": ncco }
        });
        let auth = self.auth(Api::Voice)?;
        let request = self.update(&auth, uuid, format!("transfer call {uuid}"), &body);
        let answer = request.send().await?;
        match answer.status {
            s if (200..300).contains(&s) => Ok(true),
            404 | 410 => Ok(false),
            400 | 409 | 422 => match self.get_call(uuid).await {
                Ok(call)
                    if call
                        .status
                        .as_deref()
                        .map(status::call_status)
                        .is_some_and(|s| s.is_terminal()) =>
                {
                    Ok(false)
                }
                Err(e) if e.is_not_found() => Ok(false),
                _ => Err(request.error(&answer)),
            },
            _ => Err(request.error(&answer)),
        }
    }

    /// Downloads a file of the Voice API (a recording: `GET /v1/files/{id}`, or the
    /// `recording_url` a recording's callback gives) with the application JWT, into `out` as
    /// it arrives, returning the bytes written. Where the URL may point is the caller's check
    /// (see [`Vonage::download_recording_url`](crate::Vonage::download_recording_url)).
    pub async fn download(
        &self,
        url: &Url,
        out: &mut (dyn tokio::io::AsyncWrite + Send + Unpin),
    ) -> Result<u64, Error> {
        // The application JWT goes to Vonage's hosts (or the configured one) only.
        crate::recording::may_download(url, &self.config().base_url)?;
        let auth = self.auth(Api::Voice)?;
        self.rest
            .get(url.clone(), "download recording")
            .auth(&auth)
            .download(out)
            .await
    }

    /// The URL of a Voice API file (`{base}/v1/files/{id}`), where recordings are fetched.
    pub fn file_url(&self, id: &str) -> Url {
        self.voice_url(&["v1", "files", id])
    }

    /// Moves a live call to the NCCO at `url`.
    pub async fn transfer_url(&self, uuid: &str, url: &Url) -> Result<(), Error> {
        let body = serde_json::json!({
            "action": "transfer",
            "destination": { "type": "ncco", "url": [url.as_str()] }
        });
        self.update_ok(uuid, format!("transfer call {uuid}"), &body)
            .await
    }

    /// Mutes, unmutes, earmuffs or unearmuffs a live call.
    pub async fn control(&self, uuid: &str, control: CallControl) -> Result<(), Error> {
        let body = serde_json::json!({ "action": control.action() });
        self.update_ok(uuid, format!("{} call {uuid}", control.action()), &body)
            .await
    }

    /// Plays DTMF into a live call (`PUT /v1/calls/{uuid}/dtmf`): `0`–`9`, `*`, `#`, and `p`
    /// for a 500 ms pause. Vonage's WebSocket cannot send DTMF; this can.
    pub async fn send_dtmf(&self, uuid: &str, digits: &str) -> Result<(), Error> {
        if digits.is_empty()
            || !digits
                .chars()
                .all(|c| c.is_ascii_digit() || "*#p".contains(c))
        {
            return Err(Error::InvalidRequest(format!(
                "DTMF {digits:?}: digits, *, # and p only"
            )));
        }
        let auth = self.auth(Api::Voice)?;
        self.rest
            .put(
                self.voice_url(&["v1", "calls", uuid, "dtmf"]),
                format!("send DTMF to call {uuid}"),
            )
            .auth(&auth)
            .json(&serde_json::json!({ "digits": digits }))
            // Playing tones twice is wrong too: retried only where Vonage cannot have acted.
            .idempotent(false)
            .success()
            .await
            .map(drop)
    }

    /// The account's numbers, 100 a page (`GET /account/numbers`), optionally only those
    /// starting with `prefix` (digits). A listing still going after the configured
    /// [`max_pages`](telephony_core::rest::HttpConfig::max_pages) is an [`Error::Page`].
    pub async fn list_numbers(&self, prefix: Option<&str>) -> Result<Vec<OwnedNumber>, Error> {
        const SIZE: usize = 100;
        let auth = self.auth(Api::Account)?;
        let page_url = |index: u32| {
            let mut url = self.rest_url(&["account", "numbers"]);
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("size", &SIZE.to_string())
                    .append_pair("index", &index.to_string());
                if let Some(p) = prefix {
                    q.append_pair("pattern", p)
                        .append_pair("search_pattern", "0");
                }
            }
            url
        };
        let (mut index, mut listed) = (1, 0u64);
        self.rest
            .get(page_url(index), "list numbers")
            .auth(&auth)
            .pages_by(
                &self.config().rest_base_url,
                |n: &OwnedNumber| Some(n.msisdn.clone()),
                |page: NumberPage| {
                    let got = page.numbers.len();
                    listed += got as u64;
                    let done = match page.count {
                        Some(total) => got == 0 || listed >= total,
                        None => got < SIZE,
                    };
                    index += 1;
                    let next = if done {
                        Next::Done
                    } else {
                        Next::Url(page_url(index))
                    };
                    (page.numbers, next)
                },
            )
            .await
    }

    /// One rented number (digits, no `+`), or `None`.
    pub async fn get_number(&self, msisdn: &str) -> Result<Option<OwnedNumber>, Error> {
        Ok(self
            .list_numbers(Some(msisdn))
            .await?
            .into_iter()
            .find(|n| n.msisdn == msisdn))
    }

    /// Links a number to an application (`POST /number/update`, form): its inbound calls
    /// then go to the application's answer URL.
    pub async fn link_number(&self, number: &OwnedNumber, app_id: &str) -> Result<(), Error> {
        let auth = self.auth(Api::Account)?;
        let country = number.country.clone().ok_or_else(|| {
            Error::Decode(DecodeError::new(
                KIND,
                "number",
                format!("{} has no country", number.msisdn),
            ))
        })?;
        let request = self
            .rest
            .post(
                self.rest_url(&["number", "update"]),
                format!("link number {} to application {app_id}", number.msisdn),
            )
            .auth(&auth)
            .form([
                ("country", country.as_str()),
                ("msisdn", number.msisdn.as_str()),
                ("app_id", app_id),
            ])
            .idempotent(true);
        let answer = request.success().await?;
        // The Numbers API answers 200 with its own code: "200" is success, anything else is
        // the status it stands for.
        let parsed: ErrorBody = serde_json::from_slice(&answer.body).unwrap_or_default();
        match parsed.error_code.as_deref() {
            None | Some("200") => Ok(()),
            Some(code) => Err(request.error(&Answer {
                status: code.parse().unwrap_or(answer.status),
                ..answer
            })),
        }
    }

    /// An application, as JSON, every field kept (`GET /v2/applications/{id}`).
    pub async fn get_application(&self, id: &str) -> Result<serde_json::Value, Error> {
        let auth = self.auth(Api::Account)?;
        self.rest
            .get(
                self.applications_url(&["v2", "applications", id]),
                format!("fetch application {id}"),
            )
            .auth(&auth)
            .decode()
            .await
    }

    /// Replaces an application (`PUT /v2/applications/{id}`) with `body`.
    pub async fn put_application(
        &self,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, Error> {
        let auth = self.auth(Api::Account)?;
        self.rest
            .put(
                self.applications_url(&["v2", "applications", id]),
                format!("update application {id}"),
            )
            .auth(&auth)
            .json(body)
            .decode()
            .await
    }
}

fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut seg) = url.path_segments_mut() {
        seg.pop_if_empty().extend(segments);
    }
    url
}
