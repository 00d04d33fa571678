//! The REST client: one pooled HTTP client; the Voice API with the cached application JWT, the
//! Numbers and Applications APIs with Basic `api_key:api_secret`; retries that never place a
//! call twice.

use std::sync::Arc;
use std::time::SystemTime;

use reqwest::Method;
use telephony_core::rest::{self, Answer, Idempotency};
use telephony_core::{ApiError, ConfigError, DecodeError, Error, HangupOutcome, Secret, Url};

use crate::KIND;
use crate::config::VonageConfig;
use crate::jwt::AppJwt;
use crate::ncco::Ncco;
use crate::resources::{CallCreated, CallResource, CreateCall, ErrorBody, NumberPage, OwnedNumber};
use crate::status;

/// Which Vonage API a request goes to: they authenticate differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    /// The Voice API: the application JWT.
    Voice,
    /// The Numbers and Applications APIs: Basic `api_key:api_secret`.
    Account,
}

/// How one request authenticates.
enum Auth<'a> {
    Bearer(Secret),
    Basic(&'a str, &'a Secret),
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
    http: reqwest::Client,
    config: Arc<VonageConfig>,
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
        let http = config.http.client()?;
        Ok(VonageClient {
            http,
            config: Arc::new(config),
            jwt: Arc::new(jwt),
        })
    }

    /// The settings.
    pub fn config(&self) -> &VonageConfig {
        &self.config
    }

    /// The application JWT signer (its current token is what requests carry).
    pub fn jwt(&self) -> &AppJwt {
        &self.jwt
    }

    fn voice_url(&self, segments: &[&str]) -> Url {
        join(&self.config.base_url, segments)
    }

    fn applications_url(&self, segments: &[&str]) -> Url {
        join(&self.config.applications_base_url, segments)
    }

    fn rest_url(&self, segments: &[&str]) -> Url {
        join(&self.config.rest_base_url, segments)
    }

    fn account_credentials(&self) -> Result<(&str, &Secret), Error> {
        match (&self.config.api_key, &self.config.api_secret) {
            (Some(k), Some(s)) => Ok((k, s)),
            _ => Err(ConfigError::new(
                "VONAGE_API_KEY",
                "not set: the Numbers and Applications APIs authenticate with the account's API key and secret (VONAGE_API_KEY, VONAGE_API_SECRET)",
            )
            .into()),
        }
    }

    /// The credentials for one operation: the current application JWT, or the account's key
    /// and secret. Taken once per operation, so every retry carries the same.
    fn auth(&self, api: Api) -> Result<Auth<'_>, Error> {
        match api {
            Api::Voice => self
                .jwt
                .token(SystemTime::now())
                .map(Auth::Bearer)
                .map_err(|e| {
                    ConfigError::new(
                        self.config.key_setting,
                        format!("the private key no longer signs RS256: {e}"),
                    )
                    .into()
                }),
            Api::Account => {
                let (key, secret) = self.account_credentials()?;
                Ok(Auth::Basic(key, secret))
            }
        }
    }

    fn request(&self, auth: &Auth<'_>, method: Method, url: &Url) -> reqwest::RequestBuilder {
        let builder = self
            .http
            .request(method, url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        match auth {
            Auth::Bearer(token) => builder.bearer_auth(token.expose()),
            Auth::Basic(key, secret) => builder.basic_auth(key, Some(secret.expose())),
        }
    }

    async fn exchange(
        &self,
        operation: &str,
        idempotency: Idempotency,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Answer, Error> {
        rest::exchange(KIND, operation, &self.config.http.retry, idempotency, make).await
    }

    /// A Vonage error answer, with the hint its status calls for.
    fn api_error(&self, api: Api, operation: &str, answer: &Answer) -> ApiError {
        let parsed: ErrorBody = serde_json::from_slice(&answer.body).unwrap_or_default();
        let message = parsed.message().unwrap_or_else(|| {
            if answer.body.is_empty() {
                "no error body".to_owned()
            } else {
                format!("body: {:?}", rest::preview(&answer.body))
            }
        });
        let hint = match (answer.status, api) {
            (401, Api::Voice) => Some(format!(
                "the application JWT was refused: check that VONAGE_APPLICATION_ID ({}) is the application whose public key matches the private key",
                self.config.application_id
            )),
            (401, Api::Account) => {
                Some("check VONAGE_API_KEY and VONAGE_API_SECRET".to_owned())
            }
            (403, _) => Some(
                "the account or application may not do this (voice capability off, or a restricted destination?)"
                    .to_owned(),
            ),
            (429, _) => Some("rate limited: slow down".to_owned()),
            _ => None,
        };
        ApiError::new(KIND, operation, answer.status, message)
            .with_code(parsed.code())
            .with_more_info(parsed.more_info())
            .with_retry_after(rest::retry_after(&answer.headers, SystemTime::now()))
            .with_hint(hint)
    }

    async fn call_json<T: serde::de::DeserializeOwned>(
        &self,
        api: Api,
        operation: &str,
        idempotency: Idempotency,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<T, Error> {
        let answer = self.exchange(operation, idempotency, make).await?;
        if answer.is_success() {
            return rest::decode_json(KIND, operation, &answer.body);
        }
        Err(self.api_error(api, operation, &answer).into())
    }

    /// Places a call. Retried only on a 429 or a connection that never opened, so nobody is
    /// dialled twice.
    pub async fn create_call(&self, call: &CreateCall) -> Result<CallCreated, Error> {
        call.validate()?;
        let url = self.voice_url(&["v1", "calls"]);
        let auth = self.auth(Api::Voice)?;
        self.call_json(
            Api::Voice,
            "create call",
            Idempotency::CreatesResource,
            || self.request(&auth, Method::POST, &url).json(call),
        )
        .await
        .map_err(Error::after_create)
    }

    /// A call.
    pub async fn get_call(&self, uuid: &str) -> Result<CallResource, Error> {
        let url = self.voice_url(&["v1", "calls", uuid]);
        let auth = self.auth(Api::Voice)?;
        self.call_json(
            Api::Voice,
            &format!("fetch call {uuid}"),
            Idempotency::Idempotent,
            || self.request(&auth, Method::GET, &url),
        )
        .await
    }

    /// Sends one `PUT /v1/calls/{uuid}` body; the final answer, whatever its status.
    async fn update(
        &self,
        uuid: &str,
        operation: &str,
        body: &serde_json::Value,
    ) -> Result<Answer, Error> {
        let url = self.voice_url(&["v1", "calls", uuid]);
        let auth = self.auth(Api::Voice)?;
        self.exchange(operation, Idempotency::Idempotent, || {
            self.request(&auth, Method::PUT, &url).json(body)
        })
        .await
    }

    async fn update_ok(
        &self,
        uuid: &str,
        operation: &str,
        body: &serde_json::Value,
    ) -> Result<(), Error> {
        let answer = self.update(uuid, operation, body).await?;
        if answer.is_success() {
            return Ok(());
        }
        Err(self.api_error(Api::Voice, operation, &answer).into())
    }

    /// Hangs up a call: `PUT {"action":"hangup"}`. A 204 ends it. A call Vonage no longer
    /// knows (404), or refuses to hang up because it is over, is
    /// [`HangupOutcome::AlreadyEnded`]: success, not an error.
    pub async fn hangup(&self, uuid: &str) -> Result<HangupOutcome, Error> {
        let operation = format!("hang up call {uuid}");
        let answer = self
            .update(uuid, &operation, &serde_json::json!({ "action": "hangup" }))
            .await?;
        match answer.status {
            s if (200..300).contains(&s) => Ok(HangupOutcome::Ended),
            404 | 410 => Ok(HangupOutcome::AlreadyEnded),
            400 | 409 | 422 => {
                // Refused: if the call is over, that is why.
                let refused = self.api_error(Api::Voice, &operation, &answer);
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
                    _ => Err(refused.into()),
                }
            }
            _ => Err(self.api_error(Api::Voice, &operation, &answer).into()),
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
        self.update_ok(uuid, &format!("transfer call {uuid}"), &body)
            .await
    }

    /// Moves a live call to the NCCO at `url`.
    pub async fn transfer_url(&self, uuid: &str, url: &Url) -> Result<(), Error> {
        let body = serde_json::json!({
            "action": "transfer",
            "destination": { "type": "ncco", "url": [url.as_str()] }
        });
        self.update_ok(uuid, &format!("transfer call {uuid}"), &body)
            .await
    }

    /// Mutes, unmutes, earmuffs or unearmuffs a live call.
    pub async fn control(&self, uuid: &str, control: CallControl) -> Result<(), Error> {
        let body = serde_json::json!({ "action": control.action() });
        self.update_ok(uuid, &format!("{} call {uuid}", control.action()), &body)
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
        let url = self.voice_url(&["v1", "calls", uuid, "dtmf"]);
        let body = serde_json::json!({ "digits": digits });
        let operation = format!("send DTMF to call {uuid}");
        let auth = self.auth(Api::Voice)?;
        // Playing tones twice is wrong too: retried only where Vonage cannot have acted.
        let answer = self
            .exchange(&operation, Idempotency::CreatesResource, || {
                self.request(&auth, Method::PUT, &url).json(&body)
            })
            .await
            .map_err(Error::after_create)?;
        if answer.is_success() {
            return Ok(());
        }
        Err(Error::from(self.api_error(Api::Voice, &operation, &answer)).after_create())
    }

    /// The account's numbers, 100 a page (`GET /account/numbers`), optionally only those
    /// starting with `prefix` (digits).
    pub async fn list_numbers(&self, prefix: Option<&str>) -> Result<Vec<OwnedNumber>, Error> {
        let auth = self.auth(Api::Account)?;
        let mut numbers = Vec::new();
        // Far more pages than any account has: a server that keeps answering cannot keep us.
        for index in 1..=10_000u32 {
            let mut url = self.rest_url(&["account", "numbers"]);
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("size", "100")
                    .append_pair("index", &index.to_string());
                if let Some(p) = prefix {
                    q.append_pair("pattern", p)
                        .append_pair("search_pattern", "0");
                }
            }
            let page: NumberPage = self
                .call_json(
                    Api::Account,
                    "list numbers",
                    Idempotency::Idempotent,
                    || self.request(&auth, Method::GET, &url),
                )
                .await?;
            let got = page.numbers.len();
            numbers.extend(page.numbers);
            let done = match page.count {
                Some(total) => got == 0 || numbers.len() as u64 >= total,
                None => got < 100,
            };
            if done {
                break;
            }
        }
        Ok(numbers)
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
        let url = self.rest_url(&["number", "update"]);
        let form = [
            ("country", country.as_str()),
            ("msisdn", number.msisdn.as_str()),
            ("app_id", app_id),
        ];
        let operation = format!("link number {} to application {app_id}", number.msisdn);
        let answer = self
            .exchange(&operation, Idempotency::Idempotent, || {
                self.request(&auth, Method::POST, &url).form(&form)
            })
            .await?;
        if !answer.is_success() {
            return Err(self.api_error(Api::Account, &operation, &answer).into());
        }
        // The Numbers API answers 200 with its own code: "200" is success.
        let parsed: ErrorBody = serde_json::from_slice(&answer.body).unwrap_or_default();
        match parsed.error_code.as_deref() {
            None | Some("200") => Ok(()),
            Some(code) => {
                let status = code.parse().unwrap_or(answer.status);
                let mut e = self.api_error(Api::Account, &operation, &answer);
                e.status = status;
                Err(e.into())
            }
        }
    }

    /// An application, as JSON, every field kept (`GET /v2/applications/{id}`).
    pub async fn get_application(&self, id: &str) -> Result<serde_json::Value, Error> {
        let auth = self.auth(Api::Account)?;
        let url = self.applications_url(&["v2", "applications", id]);
        self.call_json(
            Api::Account,
            &format!("fetch application {id}"),
            Idempotency::Idempotent,
            || self.request(&auth, Method::GET, &url),
        )
        .await
    }

    /// Replaces an application (`PUT /v2/applications/{id}`) with `body`.
    pub async fn put_application(
        &self,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, Error> {
        let auth = self.auth(Api::Account)?;
        let url = self.applications_url(&["v2", "applications", id]);
        self.call_json(
            Api::Account,
            &format!("update application {id}"),
            Idempotency::Idempotent,
            || self.request(&auth, Method::PUT, &url).json(body),
        )
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
