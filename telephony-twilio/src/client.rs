//! The REST client: Twilio's side of core's one request path (Basic auth, its error bodies and
//! hints), and the operations a voice platform uses.

use std::sync::Arc;

use telephony_core::rest::{self, Auth, ErrorDetails, Next, RestApi, RestClient};
use telephony_core::{Error, ProviderKind, Url};

use crate::KIND;
use crate::config::{Credentials, TwilioConfig};
use crate::resources::{CallResource, ErrorBody, NumberPage, NumberResource};

/// Twilio's REST API, the parts a voice platform uses. Cheap to clone: clones share the
/// connection pool.
#[derive(Debug, Clone)]
pub struct TwilioClient {
    pub(crate) rest: RestClient<TwilioApi>,
    pub(crate) auth: Auth,
}

/// What core's client needs to know about Twilio: its error bodies and what to check.
#[derive(Debug, Clone)]
pub(crate) struct TwilioApi {
    config: Arc<TwilioConfig>,
}

impl RestApi for TwilioApi {
    fn provider(&self) -> ProviderKind {
        KIND
    }

    /// `{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003"}`;
    /// the newer APIs write problem details (`detail`, `title`).
    fn error_details(&self, body: &[u8]) -> ErrorDetails {
        let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
        ErrorDetails::default()
            .message(parsed.message.or(parsed.detail).or(parsed.title))
            .code(parsed.code)
            .more_info(parsed.more_info)
    }

    fn hint(&self, status: u16, _: &Auth) -> Option<String> {
        let account = &self.config.account_sid;
        let short = &account[..account.len().min(8)];
        match status {
            401 => Some(match &self.config.credentials {
                Credentials::AuthToken(_) => format!("check TWILIO_AUTH_TOKEN for account {short}…"),
                Credentials::ApiKey { .. } => {
                    format!("check TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET for account {short}…")
                }
            }),
            403 => Some("the credentials may not do this (a restricted API key, or a suspended or trial account?)".into()),
            _ => None,
        }
    }
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
    /// Asynchronous detection (`AsyncAmd=true`): the call connects at once and the verdict
    /// is posted here (`AsyncAmdStatusCallback`, `POST`) when known. Without it, detection
    /// is synchronous: the call's TwiML waits for the verdict.
    pub async_amd_callback: Option<Url>,
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
            async_amd_callback: None,
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
            if let Some(cb) = &self.async_amd_callback {
                f.push(("AsyncAmd".into(), "true".into()));
                f.push(("AsyncAmdStatusCallback".into(), cb.to_string()));
                f.push(("AsyncAmdStatusCallbackMethod".into(), "POST".into()));
            }
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

/// The most pages [`TwilioClient::list_numbers`] reads unless
/// [`HttpConfig::max_pages`](telephony_core::rest::HttpConfig::max_pages) says otherwise: far
/// more than any account has, so a server that keeps answering with a next page cannot keep it
/// there.
pub const MAX_PAGES: usize = rest::MAX_PAGES;

/// Every call progress event Twilio can report.
pub const STATUS_EVENTS: [&str; 4] = ["initiated", "ringing", "answered", "completed"];

impl TwilioClient {
    /// A client for these settings, which are checked first.
    pub fn new(config: TwilioConfig) -> Result<TwilioClient, Error> {
        config.validate()?;
        let (user, password) = match &config.credentials {
            Credentials::AuthToken(t) => (config.account_sid.clone(), t.clone()),
            Credentials::ApiKey { sid, secret } => (sid.clone(), secret.clone()),
        };
        let http = config.http.clone();
        let rest = RestClient::new(
            TwilioApi {
                config: Arc::new(config),
            },
            &http,
        )?;
        Ok(TwilioClient {
            rest,
            auth: Auth::basic(user, password),
        })
    }

    /// The settings.
    pub fn config(&self) -> &TwilioConfig {
        &self.rest.api().config
    }

    pub(crate) fn account_url(&self, tail: &[&str]) -> Url {
        let config = self.config();
        let mut url = config.base_url.clone();
        if let Ok(mut seg) = url.path_segments_mut() {
            seg.pop_if_empty()
                .extend(["2010-04-01", "Accounts", &config.account_sid])
                .extend(tail);
        }
        url
    }

    /// Places a call. Retried only on a 429 or a connection that never opened, so the call is
    /// never placed twice.
    pub async fn create_call(&self, call: &CreateCall) -> Result<CallResource, Error> {
        self.rest
            .post(self.account_url(&["Calls.json"]), "create call")
            .auth(&self.auth)
            .form(call.form())
            .decode()
            .await
    }

    /// Fetches a call.
    pub async fn fetch_call(&self, sid: &str) -> Result<CallResource, Error> {
        let url = self.account_url(&["Calls", &format!("{sid}.json")]);
        self.rest
            .get(url, format!("fetch call {sid}"))
            .auth(&self.auth)
            .decode()
            .await
    }

    /// Updates a live call: `Status` (`completed`, `canceled`), `Url`, `Twiml`, … Setting a
    /// status or new instructions is idempotent, so this retries like a read.
    pub async fn update_call(
        &self,
        sid: &str,
        form: &[(&str, &str)],
    ) -> Result<CallResource, Error> {
        let tail = ["Calls", &format!("{sid}.json")];
        self.set(&tail, format!("update call {sid}"), form).await
    }

    /// Replaces a live call's TwiML (`Twiml`, at most 4000 characters): a transfer's
    /// `<Dial>`, or a move into a conference. Not retried once Twilio may have it: a second
    /// `<Dial>` would ring the target again.
    pub async fn redirect_call(&self, sid: &str, twiml: &str) -> Result<CallResource, Error> {
        let url = self.account_url(&["Calls", &format!("{sid}.json")]);
        self.rest
            .post(url, format!("redirect call {sid}"))
            .auth(&self.auth)
            .form([("Twiml", twiml)])
            .decode()
            .await
    }

    /// The account's numbers, every page; only `number` when given.
    ///
    /// Each `next_page_uri` is followed on the configured host and path prefix only
    /// ([`rest::next_page_url`]): a link naming another host is refused, so the credentials
    /// never leave for it. A listing that has not ended after [`MAX_PAGES`] pages (or the
    /// configured [`max_pages`](telephony_core::rest::HttpConfig::max_pages)), or that points
    /// back at a page already read, is an [`Error::Page`], never a partial list.
    pub async fn list_numbers(&self, number: Option<&str>) -> Result<Vec<NumberResource>, Error> {
        let mut url = self.account_url(&["IncomingPhoneNumbers.json"]);
        url.query_pairs_mut().append_pair("PageSize", "100");
        if let Some(n) = number {
            url.query_pairs_mut().append_pair("PhoneNumber", n);
        }
        self.rest
            .get(url, "list numbers")
            .auth(&self.auth)
            .pages_by(
                &self.config().base_url,
                |n: &NumberResource| Some(n.sid.clone()),
                |page: NumberPage| (page.incoming_phone_numbers, Next::link(page.next_page_uri)),
            )
            .await
    }

    /// Updates a number's voice settings (`VoiceUrl`, `VoiceMethod`, `VoiceApplicationSid`, …).
    pub async fn update_number(
        &self,
        sid: &str,
        form: &[(&str, &str)],
    ) -> Result<NumberResource, Error> {
        let tail = ["IncomingPhoneNumbers", &format!("{sid}.json")];
        self.set(&tail, format!("update number {sid}"), form).await
    }

    /// A `POST` of `form` to a resource of the account that sets values: idempotent, so
    /// retried like a read.
    async fn set<T: serde::de::DeserializeOwned>(
        &self,
        tail: &[&str],
        operation: String,
        form: &[(&str, &str)],
    ) -> Result<T, Error> {
        self.rest
            .post(self.account_url(tail), operation)
            .auth(&self.auth)
            .form(form.iter().copied())
            .idempotent(true)
            .decode()
            .await
    }
}
