//! The REST client: one pooled HTTP client, Basic auth, retries that never dial twice.

use std::collections::HashSet;
use std::sync::Arc;

use reqwest::Method;
use telephony_core::rest::{self, Idempotency};
use telephony_core::{ApiError, Error, PageError, PageProblem, Url};

use crate::KIND;
use crate::config::{Credentials, TwilioConfig};
use crate::resources::{CallResource, ErrorBody, NumberPage, NumberResource};

/// Twilio's REST API, the parts a voice platform uses. Cheap to clone: clones share the
/// connection pool.
#[derive(Debug, Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    config: Arc<TwilioConfig>,
}

/// What an answered call does, for [`TwilioClient::create_call`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallInstructions {
    /// Fetch TwiML from this URL (POST).
    Url(Url),
    /// Run this TwiML.
    Twiml(String),
}

/// A call to create: the form fields of `POST /Calls.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateCall {
    /// `To`.
    pub to: String,
    /// `From`.
    pub from: String,
    /// `Url` + `Method`, or `Twiml`.
    pub instructions: CallInstructions,
    /// `StatusCallback`; every event is requested (`initiated`, `ringing`, `answered`,
    /// `completed`) with `POST`.
    pub status_callback: Option<Url>,
    /// `MachineDetection`: `Enable` or `DetectMessageEnd`.
    pub machine_detection: Option<&'static str>,
    /// `Timeout`: seconds to let it ring.
    pub timeout_secs: Option<u64>,
    /// `TimeLimit`: the longest the call may last, in seconds.
    pub time_limit_secs: Option<u64>,
    /// Any other documented field (`Record`, `CallerId`, …), sent as given.
    pub extra: Vec<(String, String)>,
}

impl CreateCall {
    /// A call with the required fields.
    pub fn new(
        to: impl Into<String>,
        from: impl Into<String>,
        instructions: CallInstructions,
    ) -> CreateCall {
        CreateCall {
            to: to.into(),
            from: from.into(),
            instructions,
            status_callback: None,
            machine_detection: None,
            timeout_secs: None,
            time_limit_secs: None,
            extra: Vec::new(),
        }
    }

    /// The form fields, in a fixed order.
    pub fn form(&self) -> Vec<(String, String)> {
        let mut f: Vec<(String, String)> = vec![
            ("To".into(), self.to.clone()),
            ("From".into(), self.from.clone()),
        ];
        match &self.instructions {
            CallInstructions::Url(u) => {
                f.push(("Url".into(), u.to_string()));
                f.push(("Method".into(), "POST".into()));
            }
            CallInstructions::Twiml(t) => f.push(("Twiml".into(), t.clone())),
        }
        if let Some(cb) = &self.status_callback {
            f.push(("StatusCallback".into(), cb.to_string()));
            f.push(("StatusCallbackMethod".into(), "POST".into()));
            for event in STATUS_EVENTS {
                f.push(("StatusCallbackEvent".into(), event.into()));
            }
        }
        if let Some(md) = self.machine_detection {
            f.push(("MachineDetection".into(), md.into()));
        }
        if let Some(t) = self.timeout_secs {
            f.push(("Timeout".into(), t.to_string()));
        }
        if let Some(t) = self.time_limit_secs {
            f.push(("TimeLimit".into(), t.to_string()));
        }
        f.extend(self.extra.iter().cloned());
        f
    }
}

/// The most pages [`TwilioClient::list_numbers`] reads: far more than any account has, so a
/// server that keeps answering with a next page cannot keep it there.
pub const MAX_PAGES: usize = 1000;

/// Every call progress event Twilio can report.
pub const STATUS_EVENTS: [&str; 4] = ["initiated", "ringing", "answered", "completed"];

impl TwilioClient {
    /// A client for these settings, which are checked first.
    pub fn new(config: TwilioConfig) -> Result<TwilioClient, Error> {
        config.validate()?;
        let http = config.http.client()?;
        Ok(TwilioClient {
            http,
            config: Arc::new(config),
        })
    }

    /// The settings.
    pub fn config(&self) -> &TwilioConfig {
        &self.config
    }

    fn account_url(&self, tail: &[&str]) -> Url {
        let mut url = self.config.base_url.clone();
        if let Ok(mut seg) = url.path_segments_mut() {
            seg.pop_if_empty()
                .extend(["2010-04-01", "Accounts", &self.config.account_sid])
                .extend(tail);
        }
        url
    }

    fn request(&self, method: Method, url: &Url) -> reqwest::RequestBuilder {
        let (user, password) = match &self.config.credentials {
            Credentials::AuthToken(t) => (self.config.account_sid.as_str(), t.expose()),
            Credentials::ApiKey { sid, secret } => (sid.as_str(), secret.expose()),
        };
        self.http
            .request(method, url.clone())
            .basic_auth(user, Some(password))
            .header(reqwest::header::ACCEPT, "application/json")
    }

    async fn call_api<T: serde::de::DeserializeOwned>(
        &self,
        operation: &str,
        idempotency: Idempotency,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<T, Error> {
        let answer =
            rest::exchange(KIND, operation, &self.config.http.retry, idempotency, make).await?;
        if answer.is_success() {
            return rest::decode_json(KIND, operation, &answer.body);
        }
        Err(self
            .api_error(operation, answer.status, &answer.headers, &answer.body)
            .into())
    }

    /// A Twilio error answer, with the hint its status calls for.
    fn api_error(
        &self,
        operation: &str,
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
    ) -> ApiError {
        let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
        let message = parsed
            .message
            .or(parsed.detail)
            .or(parsed.title)
            .unwrap_or_else(|| format!("no error message (body: {:?})", rest::preview(body)));
        let account = &self.config.account_sid;
        let short = &account[..account.len().min(8)];
        let hint = match status {
            401 => Some(match &self.config.credentials {
                Credentials::AuthToken(_) => format!("check TWILIO_AUTH_TOKEN for account {short}…"),
                Credentials::ApiKey { .. } => {
                    format!("check TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET for account {short}…")
                }
            }),
            403 => Some("the credentials may not do this (a restricted API key, or a suspended or trial account?)".into()),
            429 => Some("rate limited: slow down, or ask Twilio to raise the account's limits".into()),
            _ => None,
        };
        ApiError::new(KIND, operation, status, message)
            .with_code(parsed.code)
            .with_more_info(parsed.more_info)
            .with_retry_after(rest::retry_after(headers, std::time::SystemTime::now()))
            .with_hint(hint)
    }

    /// Places a call. Retried only on a 429 or a connection that never opened, so the call is
    /// never placed twice.
    pub async fn create_call(&self, call: &CreateCall) -> Result<CallResource, Error> {
        let url = self.account_url(&["Calls.json"]);
        let form = call.form();
        self.call_api("create call", Idempotency::CreatesResource, || {
            self.request(Method::POST, &url).form(&form)
        })
        .await
        .map_err(Error::after_create)
    }

    /// Fetches a call.
    pub async fn fetch_call(&self, sid: &str) -> Result<CallResource, Error> {
        let url = self.account_url(&["Calls", &format!("{sid}.json")]);
        self.call_api(
            &format!("fetch call {sid}"),
            Idempotency::Idempotent,
            || self.request(Method::GET, &url),
        )
        .await
    }

    /// Updates a live call: `Status` (`completed`, `canceled`), `Url`, `Twiml`, … Setting a
    /// status or new instructions is idempotent, so this retries like a read.
    pub async fn update_call(
        &self,
        sid: &str,
        form: &[(&str, &str)],
    ) -> Result<CallResource, Error> {
        let url = self.account_url(&["Calls", &format!("{sid}.json")]);
        self.call_api(
            &format!("update call {sid}"),
            Idempotency::Idempotent,
            || self.request(Method::POST, &url).form(form),
        )
        .await
    }

    /// The account's numbers, every page; only `number` when given.
    ///
    /// Each `next_page_uri` is followed on the configured host and path prefix only
    /// ([`rest::next_page_url`]): a link naming another host is refused, so the credentials
    /// never leave for it. A listing that has not ended after [`MAX_PAGES`] pages, or that
    /// points back at a page already read, is an [`Error::Page`], never a partial list.
    pub async fn list_numbers(&self, number: Option<&str>) -> Result<Vec<NumberResource>, Error> {
        const OPERATION: &str = "list numbers";
        let mut url = self.account_url(&["IncomingPhoneNumbers.json"]);
        url.query_pairs_mut().append_pair("PageSize", "100");
        if let Some(n) = number {
            url.query_pairs_mut().append_pair("PhoneNumber", n);
        }
        let page_error = |problem| Error::Page(PageError::new(KIND, OPERATION, problem));
        let mut read = HashSet::new();
        let mut numbers = Vec::new();
        while read.len() < MAX_PAGES {
            read.insert(url.clone());
            let page: NumberPage = self
                .call_api(OPERATION, Idempotency::Idempotent, || {
                    self.request(Method::GET, &url)
                })
                .await?;
            numbers.extend(page.incoming_phone_numbers);
            let Some(next) = page.next_page_uri.filter(|u| !u.trim().is_empty()) else {
                return Ok(numbers);
            };
            url = rest::next_page_url(&self.config.base_url, &next).map_err(page_error)?;
            if read.contains(&url) {
                return Err(page_error(PageProblem::Repeated {
                    link: next.chars().take(200).collect(),
                }));
            }
        }
        Err(page_error(PageProblem::TooManyPages { max: MAX_PAGES }))
    }

    /// Updates a number's voice settings (`VoiceUrl`, `VoiceMethod`, `VoiceApplicationSid`, …).
    pub async fn update_number(
        &self,
        sid: &str,
        form: &[(&str, &str)],
    ) -> Result<NumberResource, Error> {
        let url = self.account_url(&["IncomingPhoneNumbers", &format!("{sid}.json")]);
        self.call_api(
            &format!("update number {sid}"),
            Idempotency::Idempotent,
            || self.request(Method::POST, &url).form(form),
        )
        .await
    }
}
