//! An emulated Vonage: the Voice API (RS256 application JWTs checked with the application's
//! public key), the Numbers and Applications APIs (Basic), signed webhooks (HS256 with
//! `payload_hash`), and the WebSocket (`websocket:connected` with the headers echoed, binary
//! L16 frames of exactly 20 ms, `clear` and `notify`).

use std::ops::Deref;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use telephony::audio::{AudioFormat, Encoding, SampleRate};
use telephony::vonage::signature::{claims_for, payload_hash_for, sign};
use telephony::vonage::{AppClaims, CALL_UUID_HEADER, KIND, VonageConfig, VonageMediaProtocol};
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

/// The emulated application.
pub const APPLICATION_ID: &str = "00000000-e11a-4a7e-8a5e-00000000fa4e";
/// The account's API key.
pub const API_KEY: &str = "emulated1";
/// Its API secret.
pub const API_SECRET: &str = "emulated-vonage-api-secret";
/// Its signature secret, which signs webhooks.
pub const SIGNATURE_SECRET: &str = "emulated-vonage-signature-secret";
/// The application's private key (made for the emulator; it protects nothing).
pub const PRIVATE_KEY: &str = include_str!("../keys/emulator_private.key");
const PUBLIC_KEY: &str = include_str!("../keys/emulator_public.pem");

/// This provider's ways, with the emulated account's secret.
pub(crate) fn dialect() -> Box<dyn Dialect> {
    Box::new(VonageDialect {
        secret: Secret::new(SIGNATURE_SECRET),
    })
}

/// What the emulator streams, the default first.
const STREAM_FORMATS: &[AudioFormat] = &[
    AudioFormat::L16LE_16K,
    AudioFormat::new(Encoding::L16Le, SampleRate::Hz8000),
    AudioFormat::new(Encoding::L16Le, SampleRate::Hz24000),
];

/// Vonage's emulator, for [`Emulators`](crate::Emulators).
pub(crate) struct VonageEmulator;

/// Vonage's emulator, registered in [`Emulators::builtin`](crate::Emulators::builtin).
pub(crate) static EMULATOR: VonageEmulator = VonageEmulator;

impl Emulator for VonageEmulator {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn settings(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("VONAGE_APPLICATION_ID", APPLICATION_ID),
            ("VONAGE_PRIVATE_KEY", PRIVATE_KEY),
            ("VONAGE_API_KEY", API_KEY),
            ("VONAGE_API_SECRET", API_SECRET),
            ("VONAGE_SIGNATURE_SECRET", SIGNATURE_SECRET),
        ]
    }

    fn start(&self) -> Starting {
        Box::pin(async {
            let fake = FakeVonage::start().await?;
            Ok(Emulated::new(&EMULATOR, fake.fake.clone(), Arc::new(fake)))
        })
    }

    /// Little-endian L16 at 8, 16 or 24 kHz.
    fn stream_formats(&self) -> &'static [AudioFormat] {
        STREAM_FORMATS
    }

    fn media_protocol(&self, format: AudioFormat) -> Box<dyn MediaProtocol> {
        Box::new(VonageMediaProtocol::new(format.rate))
    }

    /// The call's uuid among the headers `websocket:connected` echoes.
    fn provider_stream(&self, format: AudioFormat) -> Result<ProviderStream, String> {
        let id = "63f61863-4a51-4f6b-86e1-46edebcf9356";
        ProviderStream::emulated(
            self,
            dialect(),
            id,
            vec![(
                CALL_UUID_HEADER.to_owned(),
                serde_json::Value::String(id.to_owned()),
            )],
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
            "63f61863-4a51-4f6b-86e1-46edebcf9356",
            "CON-f972836a-550f-45fa-956c-12a2ab5b7d22",
            from.digits(),
            to.digits(),
            true,
        );
        let dialect = VonageDialect {
            secret: secret.clone(),
        };
        dialect.answer_request(&call, url, "POST").into_request()
    }
}

impl Line for FakeVonage {
    fn add_number(&self, number: &E164) {
        FakeVonage::add_number(self, number);
    }

    fn ring(&self, from: &E164, to: &E164) -> Result<String, String> {
        FakeVonage::ring(self, from, to)
    }
}

struct VonageDialect {
    secret: Secret,
}

fn rfc3339(t: std::time::SystemTime) -> String {
    let t: time::OffsetDateTime = t.into();
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl VonageDialect {
    fn signed(&self, url: &Url, method: &str, fields: serde_json::Value) -> Webhook {
        let get = method.eq_ignore_ascii_case("GET");
        let (url, body) = if get {
            let mut url = url.clone();
            if let Some(o) = fields.as_object() {
                let mut q = url.query_pairs_mut();
                for (k, v) in o {
                    let text = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    q.append_pair(k, &text);
                }
            }
            (url, Vec::new())
        } else {
            (url.clone(), fields.to_string().into_bytes())
        };
        let method = if get {
            http::Method::GET
        } else {
            http::Method::POST
        };
        let hash = payload_hash_for(&method, &crate::engine::exact(&url), &body);
        let claims = claims_for(
            hash,
            std::time::SystemTime::now(),
            uuid::Uuid::new_v4().to_string(),
            Some(API_KEY),
            Some(APPLICATION_ID),
        );
        let mut headers = vec![(
            "Authorization",
            format!("Bearer {}", sign(&self.secret, &claims)),
        )];
        if !get {
            headers.push(("Content-Type", "application/json".into()));
        }
        Webhook {
            method: method.to_string(),
            url,
            headers,
            body,
        }
    }
}

impl Dialect for VonageDialect {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn raw_status(&self, phase: Phase) -> &'static str {
        match phase {
            Phase::Initiated => "started",
            Phase::Ringing => "ringing",
            Phase::Answered => "answered",
            Phase::Completed => "completed",
            Phase::Busy => "busy",
            Phase::NoAnswer => "timeout",
            Phase::Failed => "failed",
            Phase::Canceled => "cancelled",
        }
    }

    fn normalize(&self, raw: &str) -> CallStatus {
        telephony::vonage::status::call_status(raw)
    }

    fn answer_request(&self, call: &CallInfo, url: &Url, method: &str) -> Webhook {
        let fields = serde_json::json!({
            "to": call.to,
            "from": call.from,
            "uuid": call.id,
            "conversation_uuid": call.secondary_id,
        });
        self.signed(url, method, fields)
    }

    fn status_request(&self, call: &CallInfo, phase: Phase) -> Option<Webhook> {
        let url = call.hooks.status_url.as_ref()?;
        let mut fields = serde_json::json!({
            "from": call.from,
            "to": call.to,
            "uuid": call.id,
            "conversation_uuid": call.secondary_id,
            "status": self.raw_status(phase),
            "direction": if call.inbound { "inbound" } else { "outbound" },
            "timestamp": rfc3339(std::time::SystemTime::now()),
        });
        if phase == Phase::Completed {
            fields["duration"] = call.duration_secs.unwrap_or(0).to_string().into();
            fields["rate"] = format!("{:.8}", call.rate).into();
            fields["price"] = call.price.map(|p| format!("{p:.8}")).into();
            fields["network"] = "GB-FIXED".into();
            fields["start_time"] = rfc3339(call.created).into();
            fields["end_time"] = rfc3339(std::time::SystemTime::now()).into();
        }
        let method = call.hooks.status_method.as_deref().unwrap_or("POST");
        Some(self.signed(url, method, fields))
    }

    fn parse_answer(&self, body: &str) -> Result<Vec<Instruction>, String> {
        markup::ncco(body)
    }

    fn media(&self, _call: &CallInfo, target: &StreamTarget) -> Box<dyn MediaDialect> {
        Box::new(VonageMedia {
            content_type: match target.format.rate.hz() {
                8000 => "audio/l16;rate=8000",
                24000 => "audio/l16;rate=24000",
                _ => "audio/l16;rate=16000",
            },
            frame_bytes: target.format.rate.samples_per_20ms() * 2,
            headers: target.headers_json.clone(),
        })
    }
}

struct VonageMedia {
    content_type: &'static str,
    frame_bytes: usize,
    headers: Vec<(String, serde_json::Value)>,
}

impl MediaDialect for VonageMedia {
    fn opening(&mut self) -> Vec<Message> {
        // The headers come back at the top level, in the order the NCCO wrote them.
        let mut text = String::from("{\"event\":\"websocket:connected\",\"content-type\":");
        text.push_str(&serde_json::Value::String(self.content_type.into()).to_string());
        for (k, v) in &self.headers {
            text.push(',');
            text.push_str(&serde_json::Value::String(k.clone()).to_string());
            text.push(':');
            text.push_str(&v.to_string());
        }
        text.push('}');
        vec![Message::text(text)]
    }

    fn media(&mut self, frame: &[u8]) -> Message {
        Message::binary(frame.to_vec())
    }

    fn dtmf(&mut self, digit: char) -> Message {
        let m = serde_json::json!({"event": "websocket:dtmf", "digit": digit.to_string(), "duration": 260});
        Message::text(m.to_string())
    }

    fn stop(&mut self) -> Option<Message> {
        None
    }

    fn agent(&mut self, message: &Message) -> Vec<AgentSays> {
        match message {
            Message::Binary(b) if b.len() == self.frame_bytes => vec![AgentSays::Audio(b.to_vec())],
            Message::Binary(b) => vec![AgentSays::Violation(Violation::FrameSize {
                got: b.len(),
                expected: self.frame_bytes,
            })],
            Message::Text(t) => {
                let v: serde_json::Value = match serde_json::from_str(t.as_str()) {
                    Ok(v) => v,
                    Err(e) => {
                        return vec![AgentSays::Violation(Violation::Malformed(e.to_string()))];
                    }
                };
                match v.get("action").and_then(|a| a.as_str()).unwrap_or("") {
                    "clear" => vec![AgentSays::Clear],
                    "notify" => {
                        let payload = v.get("payload").cloned().unwrap_or(serde_json::Value::Null);
                        let name = match payload.get("name") {
                            Some(serde_json::Value::String(s)) => s.clone(),
                            _ => payload.to_string(),
                        };
                        let echo =
                            serde_json::json!({"event": "websocket:notify", "payload": payload});
                        vec![AgentSays::Mark(name, Message::text(echo.to_string()))]
                    }
                    other => vec![AgentSays::Violation(Violation::UnknownMessage(
                        other.to_owned(),
                    ))],
                }
            }
            _ => Vec::new(),
        }
    }

    fn cleared(&mut self, _pending: Vec<(String, Message)>) -> Vec<Message> {
        vec![Message::text(r#"{"event":"websocket:cleared"}"#)]
    }
}

#[derive(Debug, Clone)]
struct Number {
    msisdn: String,
    app_id: Option<String>,
}

struct Vonage {
    carrier: Arc<Carrier>,
    numbers: Mutex<Vec<Number>>,
    application: Mutex<serde_json::Value>,
    key: DecodingKey,
}

type Shared = Arc<Vonage>;

fn problem(status: u16, kind: &str, title: &str, detail: &str) -> Response {
    let body = serde_json::json!({
        "type": format!("https://developer.nexmo.com/api-errors#{kind}"),
        "title": title,
        "detail": detail,
        "instance": uuid::Uuid::new_v4().simple().to_string(),
    });
    fault_response(status, None, body.to_string())
}

impl Vonage {
    /// The Voice API's check: an RS256 application JWT for this application, unexpired.
    fn voice_authorized(&self, headers: &HeaderMap) -> Result<(), Response> {
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let unauthorized = || {
            problem(
                401,
                "unauthorized",
                "Unauthorized",
                "You did not provide correct credentials.",
            )
        };
        let Some(token) = token else {
            return Err(unauthorized());
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = 5;
        match jsonwebtoken::decode::<AppClaims>(token, &self.key, &validation) {
            Ok(data) if data.claims.application_id == APPLICATION_ID => Ok(()),
            _ => Err(unauthorized()),
        }
    }

    fn account_authorized(&self, headers: &HeaderMap) -> Result<(), Response> {
        match basic_auth(headers) {
            Some((k, s)) if k == API_KEY && s == API_SECRET => Ok(()),
            _ => Err(fault_response(
                401,
                None,
                serde_json::json!({"error-code": "401", "error-code-label": "authentication failed"}).to_string(),
            )),
        }
    }

    async fn fault(&self, op: Operation) -> Result<(), Response> {
        match self.carrier.fault(op).await {
            Some((status, retry_after)) => {
                let body = serde_json::json!({"type": "https://developer.nexmo.com/api-errors#emulated", "title": "Emulated fault"});
                Err(fault_response(status, retry_after, body.to_string()))
            }
            None => Ok(()),
        }
    }

    fn call_json(&self, id: &str) -> Option<serde_json::Value> {
        let s = self.carrier.lock();
        let c = s.calls.get(id)?;
        Some(serde_json::json!({
            "_links": {"self": {"href": format!("/v1/calls/{id}")}},
            "uuid": c.info.id,
            "conversation_uuid": c.info.secondary_id,
            "to": {"type": "phone", "number": c.info.to},
            "from": {"type": "phone", "number": c.info.from},
            "status": c.record.raw_status,
            "direction": if c.info.inbound { "inbound" } else { "outbound" },
            "rate": format!("{:.8}", c.info.rate),
            "price": c.info.price.map(|p| format!("{p:.8}")),
            "duration": c.info.duration_secs.map(|d| d.to_string()),
            "start_time": rfc3339(c.info.created),
            "network": "GB-FIXED",
        }))
    }
}

fn first_url(v: &serde_json::Value) -> Option<Url> {
    v.as_array()?
        .first()?
        .as_str()
        .and_then(|u| Url::parse(u).ok())
}

async fn create_call(
    State(v): State<Shared>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> Response {
    if let Err(r) = v.voice_authorized(&headers) {
        return r;
    }
    if let Err(r) = v.fault(Operation::CreateCall).await {
        return r;
    }
    let bad = |detail: &str| problem(400, "bad-request", "Bad Request", detail);
    let Some(to) = body.pointer("/to/0") else {
        return bad("to is required");
    };
    if to.get("type").and_then(|t| t.as_str()) != Some("phone") {
        return bad("the emulator dials phone endpoints");
    }
    let Some(to) = to.get("number").and_then(|n| n.as_str()) else {
        return bad("to[0].number is required");
    };
    let from = body
        .pointer("/from/number")
        .and_then(|n| n.as_str())
        .unwrap_or("447700900000");
    let answer = if let Some(ncco) = body.get("ncco") {
        AnswerWith::Inline(ncco.to_string())
    } else if let Some(url) = body.get("answer_url").and_then(first_url) {
        let method = body
            .get("answer_method")
            .and_then(|m| m.as_str())
            .unwrap_or("GET");
        AnswerWith::Url(url, method.to_owned())
    } else {
        return bad("answer_url or ncco is required");
    };
    let hooks = Hooks {
        status_url: body.get("event_url").and_then(first_url),
        status_method: body
            .get("event_method")
            .and_then(|m| m.as_str())
            .map(str::to_owned),
        ..Hooks::default()
    };
    let id = uuid::Uuid::new_v4().to_string();
    let conversation = format!("CON-{}", uuid::Uuid::new_v4());
    v.carrier.place(Dial {
        id: id.clone(),
        secondary_id: conversation.clone(),
        from: from.to_owned(),
        to: to.to_owned(),
        inbound: false,
        answer,
        hooks,
        ring_timeout: body
            .get("ringing_timer")
            .and_then(serde_json::Value::as_u64)
            .map(std::time::Duration::from_secs),
    });
    (
        StatusCode::CREATED,
        axum::Json(serde_json::json!({"uuid": id, "status": "started", "direction": "outbound", "conversation_uuid": conversation})),
    )
        .into_response()
}

async fn get_call(State(v): State<Shared>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Err(r) = v.voice_authorized(&headers) {
        return r;
    }
    if let Err(r) = v.fault(Operation::FetchCall).await {
        return r;
    }
    match v.call_json(&id) {
        Some(body) => axum::Json(body).into_response(),
        None => problem(404, "not-found", "Not Found", "Call not found"),
    }
}

async fn update_call(
    State(v): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> Response {
    if let Err(r) = v.voice_authorized(&headers) {
        return r;
    }
    if let Err(r) = v.fault(Operation::UpdateCall).await {
        return r;
    }
    let Some(call) = v.call_json(&id) else {
        return problem(404, "not-found", "Not Found", "Call not found");
    };
    let over = v
        .carrier
        .lock()
        .calls
        .get(&id)
        .is_some_and(|c| c.record.is_over());
    match body.get("action").and_then(|a| a.as_str()) {
        Some(_) if over => problem(
            400,
            "bad-request",
            "Bad Request",
            &format!("The call is {}", call["status"].as_str().unwrap_or("over")),
        ),
        Some("hangup") => {
            v.carrier.hangup(&id);
            StatusCode::NO_CONTENT.into_response()
        }
        Some("mute" | "unmute" | "earmuff" | "unearmuff" | "transfer") => {
            StatusCode::NO_CONTENT.into_response()
        }
        _ => problem(400, "bad-request", "Bad Request", "unknown action"),
    }
}

async fn send_dtmf(
    State(v): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = v.voice_authorized(&headers) {
        return r;
    }
    match v.call_json(&id) {
        Some(_) => {
            axum::Json(serde_json::json!({"message": "DTMF sent", "uuid": id})).into_response()
        }
        None => problem(404, "not-found", "Not Found", "Call not found"),
    }
}

#[derive(serde::Deserialize)]
struct NumberQuery {
    pattern: Option<String>,
}

async fn list_numbers(
    State(v): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<NumberQuery>,
) -> Response {
    if let Err(r) = v.account_authorized(&headers) {
        return r;
    }
    if let Err(r) = v.fault(Operation::Numbers).await {
        return r;
    }
    let numbers = v.numbers.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let list: Vec<serde_json::Value> = numbers
        .iter()
        .filter(|n| q.pattern.as_deref().is_none_or(|p| n.msisdn.starts_with(p)))
        .map(|n| serde_json::json!({"country": "GB", "msisdn": n.msisdn, "type": "mobile-lvn", "features": ["VOICE", "SMS"], "app_id": n.app_id}))
        .collect();
    axum::Json(serde_json::json!({"count": list.len(), "numbers": list})).into_response()
}

async fn update_number(
    State(v): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = v.account_authorized(&headers) {
        return r;
    }
    if let Err(r) = v.fault(Operation::Numbers).await {
        return r;
    }
    let get = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let mut numbers = v.numbers.lock().unwrap_or_else(|e| e.into_inner());
    let Some(n) = get("msisdn").and_then(|m| numbers.iter_mut().find(|n| n.msisdn == m)) else {
        return axum::Json(
            serde_json::json!({"error-code": "420", "error-code-label": "method failed"}),
        )
        .into_response();
    };
    n.app_id = get("app_id");
    axum::Json(serde_json::json!({"error-code": "200", "error-code-label": "success"}))
        .into_response()
}

async fn get_application(
    State(v): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = v.account_authorized(&headers) {
        return r;
    }
    if let Err(r) = v.fault(Operation::Numbers).await {
        return r;
    }
    if id != APPLICATION_ID {
        return problem(404, "not-found", "Not Found", "Application not found");
    }
    axum::Json(
        v.application
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone(),
    )
    .into_response()
}

async fn put_application(
    State(v): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::Json(mut body): axum::Json<serde_json::Value>,
) -> Response {
    if let Err(r) = v.account_authorized(&headers) {
        return r;
    }
    if let Err(r) = v.fault(Operation::Numbers).await {
        return r;
    }
    if id != APPLICATION_ID {
        return problem(404, "not-found", "Not Found", "Application not found");
    }
    if body.get("name").and_then(|n| n.as_str()).is_none() {
        return problem(400, "bad-request", "Bad Request", "name is required");
    }
    body["id"] = APPLICATION_ID.into();
    *v.application.lock().unwrap_or_else(|e| e.into_inner()) = body.clone();
    axum::Json(body).into_response()
}

/// An emulated Vonage on a loopback port. Derefs to [`Fake`] for the knobs and records.
#[derive(Clone)]
pub struct FakeVonage {
    fake: Fake,
    vonage: Shared,
}

impl std::fmt::Debug for FakeVonage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeVonage")
            .field("base_url", &self.fake.base_url().as_str())
            .finish_non_exhaustive()
    }
}

impl Deref for FakeVonage {
    type Target = Fake;
    fn deref(&self) -> &Fake {
        &self.fake
    }
}

impl FakeVonage {
    /// Starts one on a free loopback port.
    pub async fn start() -> std::io::Result<FakeVonage> {
        let (listener, url) = bind().await?;
        let key = DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes())
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let carrier = carrier(dialect(), url);
        let application = serde_json::json!({
            "id": APPLICATION_ID,
            "name": "emulated voice application",
            "capabilities": {"voice": {"webhooks": {}, "signed_callbacks": true}},
            "keys": {"public_key": PUBLIC_KEY},
            "privacy": {"improve_ai": false},
            "_links": {"self": {"href": format!("/v2/applications/{APPLICATION_ID}")}},
        });
        let vonage = Arc::new(Vonage {
            carrier: carrier.clone(),
            numbers: Mutex::new(Vec::new()),
            application: Mutex::new(application),
            key,
        });
        let router = Router::new()
            .route("/v1/calls", post(create_call))
            .route("/v1/calls/{uuid}", get(get_call).put(update_call))
            .route("/v1/calls/{uuid}/dtmf", put(send_dtmf))
            .route("/account/numbers", get(list_numbers))
            .route("/number/update", post(update_number))
            .route(
                "/v2/applications/{id}",
                get(get_application).put(put_application),
            )
            .with_state(vonage.clone());
        serve(&carrier, listener, router);
        Ok(FakeVonage {
            fake: Fake { carrier },
            vonage,
        })
    }

    /// The adapter's settings for this fake: the application, its key, the account's key and
    /// secrets, every host.
    pub fn config(&self) -> VonageConfig {
        VonageConfig::new(APPLICATION_ID, PRIVATE_KEY)
            .api_credentials(API_KEY, API_SECRET)
            .signature_secret(SIGNATURE_SECRET)
            .all_hosts(self.fake.base_url())
    }

    /// Gives the account `number`, linked to no application yet.
    pub fn add_number(&self, number: &E164) {
        let mut numbers = self
            .vonage
            .numbers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        numbers.push(Number {
            msisdn: number.digits().to_owned(),
            app_id: None,
        });
    }

    /// Dials `to`, one of the account's numbers, from `from`: the linked application's answer
    /// URL is fetched and its event URL gets the events, as Vonage does. Returns the call's
    /// uuid.
    pub fn ring(&self, from: &E164, to: &E164) -> Result<String, String> {
        let linked = {
            let numbers = self
                .vonage
                .numbers
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            numbers
                .iter()
                .find(|n| n.msisdn == to.digits())
                .map(|n| n.app_id.clone())
        };
        match linked {
            None => return Err(format!("{to} is not a number of the emulated account")),
            Some(Some(a)) if a == APPLICATION_ID => {}
            Some(_) => {
                return Err(format!(
                    "{to} is not linked to the application: run configure_inbound first"
                ));
            }
        }
        let app = self
            .vonage
            .application
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let hook = |name: &str| {
            let h = app.pointer(&format!("/capabilities/voice/webhooks/{name}"))?;
            let url = Url::parse(h.get("address")?.as_str()?).ok()?;
            let method = h
                .get("http_method")
                .and_then(|m| m.as_str())
                .unwrap_or("POST")
                .to_owned();
            Some((url, method))
        };
        let (answer, method) = hook("answer_url")
            .ok_or("the application has no answer URL: run configure_inbound first")?;
        let events = hook("event_url");
        let id = uuid::Uuid::new_v4().to_string();
        self.fake.carrier.place(Dial {
            id: id.clone(),
            secondary_id: format!("CON-{}", uuid::Uuid::new_v4()),
            from: from.digits().to_owned(),
            to: to.digits().to_owned(),
            inbound: true,
            answer: AnswerWith::Url(answer, method),
            hooks: Hooks {
                status_url: events.as_ref().map(|(u, _)| u.clone()),
                status_method: events.map(|(_, m)| m),
                ..Hooks::default()
            },
            ring_timeout: None,
        });
        Ok(id)
    }
}
