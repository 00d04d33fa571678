//! An emulated Twilio: the REST API the adapter uses (calls, numbers), signed webhooks, and
//! Media Streams (`connected`, `start`, 20 ms μ-law `media`, `dtmf`, `mark`, `stop`).

use std::ops::Deref;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use telephony::audio::AudioFormat;
use telephony::twilio::signature::sign_request;
use telephony::twilio::{KIND, TwilioConfig, TwilioMediaProtocol};
use telephony::{CallStatus, E164, MediaProtocol, ProviderKind, Secret, Url, WebhookRequest};
use tokio_tungstenite::tungstenite::Message;

use crate::emulator::{Emulated, Emulator, Line, Starting};
use crate::engine::{
    AgentSays, AnswerWith, CallInfo, Carrier, Dial, Dialect, Fake, Hooks, MediaDialect, Operation,
    Phase, Webhook, basic_auth, bind, carrier, fault_response, serve,
};
use crate::markup::{self, Instruction, StreamTarget};
use crate::record::Violation;
use crate::wire::ProviderStream;

/// The emulated account.
pub const ACCOUNT_SID: &str = "AC0000000000000000000000000000fa4e";
/// Its Auth Token.
pub const AUTH_TOKEN: &str = "emulated-twilio-auth-token";

/// This provider's ways, with the emulated account's secret.
pub(crate) fn dialect() -> Box<dyn Dialect> {
    Box::new(TwilioDialect {
        token: Secret::new(AUTH_TOKEN),
    })
}

/// Twilio's emulator, for [`Emulators`](crate::Emulators).
pub(crate) struct TwilioEmulator;

/// Twilio's emulator, registered in [`Emulators::builtin`](crate::Emulators::builtin).
pub(crate) static EMULATOR: TwilioEmulator = TwilioEmulator;

impl Emulator for TwilioEmulator {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn settings(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
            ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
        ]
    }

    fn start(&self) -> Starting {
        Box::pin(async {
            let fake = FakeTwilio::start().await?;
            Ok(Emulated::new(&EMULATOR, fake.fake.clone(), Arc::new(fake)))
        })
    }

    /// μ-law 8 kHz only.
    fn stream_formats(&self) -> &'static [AudioFormat] {
        &[AudioFormat::MULAW_8K]
    }

    fn media_protocol(&self, _format: AudioFormat) -> Box<dyn MediaProtocol> {
        Box::new(TwilioMediaProtocol::new())
    }

    fn provider_stream(&self, format: AudioFormat) -> Result<ProviderStream, String> {
        ProviderStream::emulated(
            self,
            dialect(),
            "CA0123456789abcdef0123456789abcdef",
            Vec::new(),
            format,
        )
    }

    fn inbound_webhook(
        &self,
        url: &Url,
        from: &E164,
        to: &E164,
        secret: &Secret,
    ) -> WebhookRequest {
        let call = CallInfo::detached(
            "CA0123456789abcdef0123456789abcdef",
            "",
            from.as_str(),
            to.as_str(),
            true,
        );
        let dialect = TwilioDialect {
            token: secret.clone(),
        };
        dialect.answer_request(&call, url, "POST").into_request()
    }
}

impl Line for FakeTwilio {
    fn add_number(&self, number: &E164) {
        FakeTwilio::add_number(self, number);
    }

    fn ring(&self, from: &E164, to: &E164) -> Result<String, String> {
        FakeTwilio::ring(self, from, to)
    }
}

struct TwilioDialect {
    token: Secret,
}

fn rfc2822(t: std::time::SystemTime) -> String {
    let t: time::OffsetDateTime = t.into();
    t.format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default()
}

impl TwilioDialect {
    fn params(&self, call: &CallInfo, status: &str) -> Vec<(String, String)> {
        let direction = if call.inbound {
            "inbound"
        } else {
            "outbound-api"
        };
        vec![
            ("AccountSid".into(), ACCOUNT_SID.into()),
            ("ApiVersion".into(), "2010-04-01".into()),
            ("CallSid".into(), call.id.clone()),
            ("CallStatus".into(), status.into()),
            ("Called".into(), call.to.clone()),
            ("Caller".into(), call.from.clone()),
            ("Direction".into(), direction.into()),
            ("From".into(), call.from.clone()),
            ("To".into(), call.to.clone()),
        ]
    }

    fn signed(&self, method: &str, url: &Url, params: &[(String, String)]) -> Webhook {
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if method.eq_ignore_ascii_case("GET") {
            let mut url = url.clone();
            url.query_pairs_mut().extend_pairs(&pairs);
            let (_, sig) = sign_request(&self.token, &crate::engine::exact(&url), &[], None);
            return Webhook {
                method: "GET".into(),
                url,
                headers: vec![("X-Twilio-Signature", sig)],
                body: Vec::new(),
            };
        }
        let (_, sig) = sign_request(&self.token, &crate::engine::exact(url), &pairs, None);
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        Webhook {
            method: "POST".into(),
            url: url.clone(),
            headers: vec![
                ("X-Twilio-Signature", sig),
                ("Content-Type", "application/x-www-form-urlencoded".into()),
            ],
            body: body.into_bytes(),
        }
    }
}

impl Dialect for TwilioDialect {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn raw_status(&self, phase: Phase) -> &'static str {
        match phase {
            Phase::Initiated => "initiated",
            Phase::Ringing => "ringing",
            Phase::Answered => "in-progress",
            Phase::Completed => "completed",
            Phase::Busy => "busy",
            Phase::NoAnswer => "no-answer",
            Phase::Failed => "failed",
            Phase::Canceled => "canceled",
        }
    }

    fn normalize(&self, raw: &str) -> CallStatus {
        telephony::twilio::status::call_status(raw)
    }

    fn answer_request(&self, call: &CallInfo, url: &Url, method: &str) -> Webhook {
        let status = if call.inbound {
            "ringing"
        } else {
            "in-progress"
        };
        self.signed(method, url, &self.params(call, status))
    }

    fn status_request(&self, call: &CallInfo, phase: Phase) -> Option<Webhook> {
        let url = call.hooks.status_url.as_ref()?;
        let event = match phase {
            Phase::Initiated => "initiated",
            Phase::Ringing => "ringing",
            Phase::Answered => "answered",
            _ => "completed",
        };
        // Without StatusCallbackEvent, Twilio reports only the end.
        let wanted = match &call.hooks.status_events {
            Some(events) => events.iter().any(|e| e == event),
            None => event == "completed",
        };
        if !wanted {
            return None;
        }
        let mut params = self.params(call, self.raw_status(phase));
        params.push(("Timestamp".into(), rfc2822(std::time::SystemTime::now())));
        params.push(("CallbackSource".into(), "call-progress-events".into()));
        params.push(("SequenceNumber".into(), (phase as u8).to_string()));
        if phase.is_final() {
            let secs = call.duration_secs.unwrap_or(0).to_string();
            params.push(("CallDuration".into(), secs.clone()));
            params.push(("Duration".into(), secs));
        }
        let method = call.hooks.status_method.as_deref().unwrap_or("POST");
        Some(self.signed(method, url, &params))
    }

    fn parse_answer(&self, body: &str) -> Result<Vec<Instruction>, String> {
        markup::twiml(body)
    }

    /// Twilio signs the WebSocket upgrade as it signs a GET: the `wss://` URL alone.
    fn upgrade_headers(&self, url: &str) -> Vec<(&'static str, String)> {
        match telephony::RequestUrl::parse(url) {
            Ok(url) => {
                let (_, sig) = sign_request(&self.token, &url, &[], None);
                vec![("X-Twilio-Signature", sig)]
            }
            Err(_) => Vec::new(),
        }
    }

    fn media(&self, call: &CallInfo, target: &StreamTarget) -> Box<dyn MediaDialect> {
        Box::new(TwilioMedia {
            stream_sid: format!("MZ{}", &call.id[2..]),
            call_sid: call.id.clone(),
            parameters: target.parameters.clone(),
            seq: 0,
            chunk: 0,
        })
    }
}

struct TwilioMedia {
    stream_sid: String,
    call_sid: String,
    parameters: Vec<(String, String)>,
    seq: u64,
    chunk: u64,
}

impl TwilioMedia {
    fn seq(&mut self) -> String {
        self.seq += 1;
        self.seq.to_string()
    }
}

impl MediaDialect for TwilioMedia {
    fn opening(&mut self) -> Vec<Message> {
        let params: serde_json::Map<String, serde_json::Value> = self
            .parameters
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let connected =
            serde_json::json!({"event": "connected", "protocol": "Call", "version": "1.0.0"});
        let start = serde_json::json!({
            "event": "start",
            "sequenceNumber": self.seq(),
            "start": {
                "accountSid": ACCOUNT_SID,
                "streamSid": self.stream_sid,
                "callSid": self.call_sid,
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": params,
            },
            "streamSid": self.stream_sid,
        });
        vec![
            Message::text(connected.to_string()),
            Message::text(start.to_string()),
        ]
    }

    fn media(&mut self, frame: &[u8]) -> Message {
        self.chunk += 1;
        let m = serde_json::json!({
            "event": "media",
            "sequenceNumber": self.seq(),
            "media": {
                "track": "inbound",
                "chunk": self.chunk.to_string(),
                "timestamp": ((self.chunk - 1) * 20).to_string(),
                "payload": STANDARD.encode(frame),
            },
            "streamSid": self.stream_sid,
        });
        Message::text(m.to_string())
    }

    fn dtmf(&mut self, digit: char) -> Message {
        let m = serde_json::json!({
            "event": "dtmf",
            "streamSid": self.stream_sid,
            "sequenceNumber": self.seq(),
            "dtmf": {"track": "inbound_track", "digit": digit.to_string()},
        });
        Message::text(m.to_string())
    }

    fn stop(&mut self) -> Option<Message> {
        let m = serde_json::json!({
            "event": "stop",
            "sequenceNumber": self.seq(),
            "streamSid": self.stream_sid,
            "stop": {"accountSid": ACCOUNT_SID, "callSid": self.call_sid},
        });
        Some(Message::text(m.to_string()))
    }

    fn agent(&mut self, message: &Message) -> Vec<AgentSays> {
        let text = match message {
            Message::Text(t) => t.as_str(),
            Message::Binary(b) => {
                return vec![AgentSays::Violation(Violation::BinaryFrame {
                    len: b.len(),
                })];
            }
            _ => return Vec::new(),
        };
        let v: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => return vec![AgentSays::Violation(Violation::Malformed(e.to_string()))],
        };
        let event = v.get("event").and_then(|e| e.as_str()).unwrap_or("");
        if let Some(sid) = v.get("streamSid").and_then(|s| s.as_str())
            && sid != self.stream_sid
        {
            return vec![AgentSays::Violation(Violation::WrongStream(sid.to_owned()))];
        }
        match event {
            "media" => {
                let payload = v
                    .pointer("/media/payload")
                    .and_then(|p| p.as_str())
                    .and_then(|p| STANDARD.decode(p).ok());
                match payload {
                    Some(bytes) => vec![AgentSays::Audio(bytes)],
                    None => vec![AgentSays::Violation(Violation::Malformed(
                        "media without a base64 payload".into(),
                    ))],
                }
            }
            "mark" => match v.pointer("/mark/name").and_then(|n| n.as_str()) {
                Some(name) => {
                    let echo = serde_json::json!({
                        "event": "mark",
                        "sequenceNumber": self.seq(),
                        "streamSid": self.stream_sid,
                        "mark": {"name": name},
                    });
                    vec![AgentSays::Mark(
                        name.to_owned(),
                        Message::text(echo.to_string()),
                    )]
                }
                None => vec![AgentSays::Violation(Violation::Malformed(
                    "mark without a name".into(),
                ))],
            },
            "clear" => vec![AgentSays::Clear],
            other => vec![AgentSays::Violation(Violation::UnknownMessage(
                other.to_owned(),
            ))],
        }
    }

    fn cleared(&mut self, pending: Vec<(String, Message)>) -> Vec<Message> {
        // Twilio returns every pending mark at once when the audio is cleared.
        pending.into_iter().map(|(_, m)| m).collect()
    }
}

#[derive(Debug, Clone)]
struct Number {
    sid: String,
    phone_number: String,
    voice_url: Option<String>,
    voice_method: String,
}

struct Twilio {
    carrier: Arc<Carrier>,
    numbers: Mutex<Vec<Number>>,
}

type Shared = Arc<Twilio>;

fn error(status: u16, code: u32, message: &str) -> Response {
    let body = serde_json::json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    });
    fault_response(status, None, body.to_string())
}

impl Twilio {
    fn authorized(&self, sid: &str, headers: &HeaderMap) -> Result<(), Response> {
        match basic_auth(headers) {
            Some((user, password))
                if user == ACCOUNT_SID && password == AUTH_TOKEN && sid == ACCOUNT_SID =>
            {
                Ok(())
            }
            _ => Err(error(401, 20003, "Authenticate")),
        }
    }

    async fn fault(&self, op: Operation) -> Result<(), Response> {
        match self.carrier.fault(op).await {
            Some((status, retry_after)) => {
                let body = serde_json::json!({"code": 20000 + u32::from(status), "message": "emulated fault", "status": status});
                Err(fault_response(status, retry_after, body.to_string()))
            }
            None => Ok(()),
        }
    }

    fn call_json(&self, id: &str) -> Option<serde_json::Value> {
        let s = self.carrier.lock();
        let c = s.calls.get(id)?;
        let price = c.info.price.map(|p| format!("-{p:.5}"));
        Some(serde_json::json!({
            "sid": c.info.id,
            "account_sid": ACCOUNT_SID,
            "status": c.record.raw_status,
            "direction": if c.info.inbound { "inbound" } else { "outbound-api" },
            "from": c.info.from,
            "to": c.info.to,
            "start_time": rfc2822(c.info.created),
            "end_time": if c.record.is_over() { Some(rfc2822(std::time::SystemTime::now())) } else { None },
            "duration": c.info.duration_secs.map(|d| d.to_string()),
            "price": price,
            "price_unit": "USD",
            "answered_by": null,
            "parent_call_sid": null,
            "api_version": "2010-04-01",
        }))
    }

    fn number_json(n: &Number) -> serde_json::Value {
        serde_json::json!({
            "sid": n.sid,
            "account_sid": ACCOUNT_SID,
            "phone_number": n.phone_number,
            "friendly_name": n.phone_number,
            "voice_url": n.voice_url,
            "voice_method": n.voice_method,
            "voice_application_sid": null,
            "trunk_sid": null,
        })
    }
}

fn form_all<'a>(form: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    form.iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn form_one<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form_all(form, name)
        .into_iter()
        .next()
        .filter(|v| !v.is_empty())
}

async fn create_call(
    State(t): State<Shared>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = t.authorized(&sid, &headers) {
        return r;
    }
    if let Err(r) = t.fault(Operation::CreateCall).await {
        return r;
    }
    let (Some(to), Some(from)) = (form_one(&form, "To"), form_one(&form, "From")) else {
        return error(400, 21201, "No 'To' or 'From' number is specified");
    };
    if E164::new(to).is_err() {
        return error(400, 21211, &format!("Invalid 'To' Phone Number: {to}"));
    }
    let answer = if let Some(twiml) = form_one(&form, "Twiml") {
        AnswerWith::Inline(twiml.to_owned())
    } else if let Some(url) = form_one(&form, "Url").and_then(|u| Url::parse(u).ok()) {
        AnswerWith::Url(url, form_one(&form, "Method").unwrap_or("POST").to_owned())
    } else {
        return error(400, 21205, "Url or Twiml is required");
    };
    let events: Vec<String> = form_all(&form, "StatusCallbackEvent")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let hooks = Hooks {
        status_url: form_one(&form, "StatusCallback").and_then(|u| Url::parse(u).ok()),
        status_method: form_one(&form, "StatusCallbackMethod").map(str::to_owned),
        status_events: (!events.is_empty()).then_some(events),
        ring_url: None,
        hangup_url: None,
    };
    let id = format!("CA{:032x}", t.carrier.next_seq());
    t.carrier.place(Dial {
        id: id.clone(),
        secondary_id: String::new(),
        from: from.to_owned(),
        to: to.to_owned(),
        inbound: false,
        answer,
        hooks,
        ring_timeout: form_one(&form, "Timeout")
            .and_then(|s| s.parse().ok())
            .map(std::time::Duration::from_secs),
    });
    let mut body = t.call_json(&id).unwrap_or_default();
    body["status"] = "queued".into();
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

async fn fetch_call(
    State(t): State<Shared>,
    Path((sid, call)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = t.authorized(&sid, &headers) {
        return r;
    }
    if let Err(r) = t.fault(Operation::FetchCall).await {
        return r;
    }
    let id = call.trim_end_matches(".json");
    match t.call_json(id) {
        Some(body) => axum::Json(body).into_response(),
        None => error(
            404,
            20404,
            &format!(
                "The requested resource /2010-04-01/Accounts/{sid}/Calls/{id}.json was not found"
            ),
        ),
    }
}

async fn update_call(
    State(t): State<Shared>,
    Path((sid, call)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = t.authorized(&sid, &headers) {
        return r;
    }
    if let Err(r) = t.fault(Operation::UpdateCall).await {
        return r;
    }
    let id = call.trim_end_matches(".json").to_owned();
    if t.call_json(&id).is_none() {
        return error(404, 20404, "The requested resource was not found");
    }
    if matches!(form_one(&form, "Status"), Some("completed" | "canceled")) {
        t.carrier.hangup(&id);
        // The answer shows the call ending.
        tokio::task::yield_now().await;
    }
    axum::Json(t.call_json(&id).unwrap_or_default()).into_response()
}

#[derive(serde::Deserialize)]
struct NumberQuery {
    #[serde(rename = "PhoneNumber")]
    phone_number: Option<String>,
}

async fn list_numbers(
    State(t): State<Shared>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    Query(q): Query<NumberQuery>,
) -> Response {
    if let Err(r) = t.authorized(&sid, &headers) {
        return r;
    }
    if let Err(r) = t.fault(Operation::Numbers).await {
        return r;
    }
    let numbers = t.numbers.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let list: Vec<serde_json::Value> = numbers
        .iter()
        .filter(|n| {
            q.phone_number
                .as_deref()
                .is_none_or(|p| p == n.phone_number)
        })
        .map(Twilio::number_json)
        .collect();
    axum::Json(
        serde_json::json!({"incoming_phone_numbers": list, "next_page_uri": null, "page": 0}),
    )
    .into_response()
}

async fn update_number(
    State(t): State<Shared>,
    Path((sid, number)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = t.authorized(&sid, &headers) {
        return r;
    }
    if let Err(r) = t.fault(Operation::Numbers).await {
        return r;
    }
    let pn = number.trim_end_matches(".json");
    let mut numbers = t.numbers.lock().unwrap_or_else(|p| p.into_inner());
    let Some(n) = numbers.iter_mut().find(|n| n.sid == pn) else {
        return error(404, 20404, "The requested resource was not found");
    };
    if let Some(u) = form_one(&form, "VoiceUrl") {
        n.voice_url = Some(u.to_owned());
    }
    if let Some(m) = form_one(&form, "VoiceMethod") {
        n.voice_method = m.to_owned();
    }
    axum::Json(Twilio::number_json(n)).into_response()
}

/// An emulated Twilio on a loopback port. Derefs to [`Fake`] for the knobs and records.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use telephony::TelephonyProvider;
/// use telephony::twilio::Twilio;
/// use telephony_testkit::FakeTwilio;
///
/// let fake = FakeTwilio::start().await?;
/// let twilio = Twilio::new(fake.config())?; // the adapter, pointed at the fake
/// # let _ = twilio;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct FakeTwilio {
    fake: Fake,
    twilio: Shared,
}

impl std::fmt::Debug for FakeTwilio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeTwilio")
            .field("base_url", &self.fake.base_url().as_str())
            .finish_non_exhaustive()
    }
}

impl Deref for FakeTwilio {
    type Target = Fake;
    fn deref(&self) -> &Fake {
        &self.fake
    }
}

impl FakeTwilio {
    /// Starts one on a free loopback port.
    pub async fn start() -> std::io::Result<FakeTwilio> {
        let (listener, url) = bind().await?;
        let carrier = carrier(dialect(), url);
        let twilio = Arc::new(Twilio {
            carrier: carrier.clone(),
            numbers: Mutex::new(Vec::new()),
        });
        let router = Router::new()
            .route("/2010-04-01/Accounts/{sid}/Calls.json", post(create_call))
            .route(
                "/2010-04-01/Accounts/{sid}/Calls/{call}",
                get(fetch_call).post(update_call),
            )
            .route(
                "/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json",
                get(list_numbers),
            )
            .route(
                "/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers/{number}",
                post(update_number),
            )
            .with_state(twilio.clone());
        serve(&carrier, listener, router);
        Ok(FakeTwilio {
            fake: Fake { carrier },
            twilio,
        })
    }

    /// The adapter's settings for this fake: its account, token and host.
    pub fn config(&self) -> TwilioConfig {
        TwilioConfig::new(ACCOUNT_SID, AUTH_TOKEN).base_url(self.fake.base_url())
    }

    /// Gives the account `number` (no voice URL yet: set it with `configure_inbound`).
    pub fn add_number(&self, number: &E164) {
        let mut numbers = self
            .twilio
            .numbers
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let sid = format!("PN{:032x}", numbers.len() + 1);
        numbers.push(Number {
            sid,
            phone_number: number.as_str().to_owned(),
            voice_url: None,
            voice_method: "POST".into(),
        });
    }

    /// Dials `to`, one of the account's numbers, from `from`: the number's voice URL is
    /// fetched, as Twilio does for an inbound call. Returns the call's id.
    pub fn ring(&self, from: &E164, to: &E164) -> Result<String, String> {
        let number = {
            let numbers = self
                .twilio
                .numbers
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            numbers
                .iter()
                .find(|n| n.phone_number == to.as_str())
                .cloned()
        };
        let number =
            number.ok_or_else(|| format!("{to} is not a number of the emulated account"))?;
        let url = number
            .voice_url
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
            .ok_or_else(|| format!("{to} has no voice URL: run configure_inbound first"))?;
        let id = format!("CA{:032x}", self.fake.carrier.next_seq());
        self.fake.carrier.place(Dial {
            id: id.clone(),
            secondary_id: String::new(),
            from: from.as_str().to_owned(),
            to: to.as_str().to_owned(),
            inbound: true,
            answer: AnswerWith::Url(url, number.voice_method.clone()),
            hooks: Hooks::default(),
            ring_timeout: None,
        });
        Ok(id)
    }
}
