//! An emulated Plivo: the REST API the adapter uses (calls by request and call id, records,
//! numbers, an application), V3-signed webhooks, and Audio Streams (`start`, `media`, `dtmf`;
//! `playAudio`, `checkpoint`, `clearAudio`, `sendDTMF`).

use std::ops::Deref;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use telephony::audio::{AudioFormat, Encoding, SampleRate};
use telephony::plivo::signature::{V3_HEADER, V3_NONCE_HEADER, sign_v3};
use telephony::plivo::{ByteOrder, KIND, PlivoConfig, PlivoMediaProtocol};
use telephony::{
    CallStatus, E164, FormParams, MediaProtocol, ProviderKind, Secret, Url, WebhookRequest,
};
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
pub const AUTH_ID: &str = "MAEMULATEDACCOUNT001";
/// Its Auth Token.
pub const AUTH_TOKEN: &str = "emulated-plivo-auth-token";
/// The application inbound calls go to.
pub const APP_ID: &str = "10000000000000001";

/// This provider's ways, with the emulated account's secret.
pub(crate) fn dialect() -> Box<dyn Dialect> {
    Box::new(PlivoDialect {
        token: Secret::new(AUTH_TOKEN),
    })
}

/// What the emulator streams, the default first.
const STREAM_FORMATS: &[AudioFormat] = &[
    AudioFormat::MULAW_8K,
    AudioFormat::new(Encoding::L16Le, SampleRate::Hz16000),
    AudioFormat::new(Encoding::L16Le, SampleRate::Hz8000),
    AudioFormat::new(Encoding::L16Be, SampleRate::Hz16000),
    AudioFormat::new(Encoding::L16Be, SampleRate::Hz8000),
];

/// Plivo's emulator, for [`Emulators`](crate::Emulators).
pub(crate) struct PlivoEmulator;

/// Plivo's emulator, registered in [`Emulators::builtin`](crate::Emulators::builtin).
pub(crate) static EMULATOR: PlivoEmulator = PlivoEmulator;

impl Emulator for PlivoEmulator {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn settings(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("PLIVO_AUTH_ID", AUTH_ID),
            ("PLIVO_AUTH_TOKEN", AUTH_TOKEN),
            ("PLIVO_APP_ID", APP_ID),
        ]
    }

    fn start(&self) -> Starting {
        Box::pin(async {
            let fake = FakePlivo::start().await?;
            Ok(Emulated::new(&EMULATOR, fake.fake.clone(), Arc::new(fake)))
        })
    }

    /// μ-law 8 kHz, or L16 at 8 or 16 kHz in either byte order.
    fn stream_formats(&self) -> &'static [AudioFormat] {
        STREAM_FORMATS
    }

    /// L16 in the format's byte order.
    fn media_protocol(&self, format: AudioFormat) -> Box<dyn MediaProtocol> {
        Box::new(PlivoMediaProtocol::new(
            if format.encoding == Encoding::L16Be {
                ByteOrder::Big
            } else {
                ByteOrder::Little
            },
        ))
    }

    fn provider_stream(&self, format: AudioFormat) -> Result<ProviderStream, String> {
        ProviderStream::emulated(
            self,
            dialect(),
            "4f2c8a1e-7b3d-4e5f-9a6b-1c2d3e4f5a6b",
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
            "4f2c8a1e-0000-4000-8000-000000000001",
            "",
            from.digits(),
            to.digits(),
            true,
        );
        let dialect = PlivoDialect {
            token: secret.clone(),
        };
        dialect.answer_request(&call, url, "POST").into_request()
    }
}

impl Line for FakePlivo {
    fn add_number(&self, number: &E164) {
        FakePlivo::add_number(self, number);
    }

    fn ring(&self, from: &E164, to: &E164) -> Result<String, String> {
        FakePlivo::ring(self, from, to)
    }
}

struct PlivoDialect {
    token: Secret,
}

impl PlivoDialect {
    fn signed(&self, url: &Url, method: &str, params: Vec<(String, String)>) -> Webhook {
        // Plivo's nonces are decimal digits (the validator refuses anything else).
        let nonce = telephony::plivo::signature::fresh_nonce();
        if method.eq_ignore_ascii_case("GET") {
            let mut url = url.clone();
            url.query_pairs_mut().extend_pairs(&params);
            let sig = sign_v3(
                &self.token,
                &http::Method::GET,
                &crate::engine::exact(&url),
                &FormParams::default(),
                &nonce,
            );
            return Webhook {
                method: "GET".into(),
                url,
                headers: vec![(V3_HEADER, sig), (V3_NONCE_HEADER, nonce)],
                body: Vec::new(),
            };
        }
        let form: FormParams = params.iter().cloned().collect();
        let sig = sign_v3(
            &self.token,
            &http::Method::POST,
            &crate::engine::exact(url),
            &form,
            &nonce,
        );
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&params)
            .finish();
        Webhook {
            method: "POST".into(),
            url: url.clone(),
            headers: vec![
                (V3_HEADER, sig),
                (V3_NONCE_HEADER, nonce),
                ("Content-Type", "application/x-www-form-urlencoded".into()),
            ],
            body: body.into_bytes(),
        }
    }

    fn params(&self, call: &CallInfo, status: &str, event: &str) -> Vec<(String, String)> {
        let mut p = vec![
            ("CallUUID".to_owned(), call.id.clone()),
            ("CallStatus".into(), status.into()),
            (
                "Direction".into(),
                if call.inbound { "inbound" } else { "outbound" }.into(),
            ),
            ("Event".into(), event.into()),
            ("From".into(), call.from.clone()),
            ("To".into(), call.to.clone()),
        ];
        if !call.inbound {
            p.push(("RequestUUID".into(), call.secondary_id.clone()));
        }
        p
    }
}

impl Dialect for PlivoDialect {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn raw_status(&self, phase: Phase) -> &'static str {
        match phase {
            Phase::Initiated => "queued",
            Phase::Ringing => "ringing",
            Phase::Answered => "in-progress",
            Phase::Completed => "completed",
            Phase::Busy => "busy",
            Phase::NoAnswer => "no-answer",
            Phase::Failed => "failed",
            Phase::Canceled => "cancel",
        }
    }

    fn normalize(&self, raw: &str) -> CallStatus {
        telephony::plivo::status::call_status(raw)
    }

    fn answer_request(&self, call: &CallInfo, url: &Url, method: &str) -> Webhook {
        let status = if call.inbound {
            "ringing"
        } else {
            "in-progress"
        };
        self.signed(url, method, self.params(call, status, "StartApp"))
    }

    fn status_request(&self, call: &CallInfo, phase: Phase) -> Option<Webhook> {
        match phase {
            Phase::Ringing => {
                let url = call.hooks.ring_url.as_ref()?;
                Some(self.signed(url, "POST", self.params(call, "ringing", "Ring")))
            }
            p if p.is_final() => {
                let url = call.hooks.hangup_url.as_ref()?;
                let mut params = self.params(call, self.raw_status(p), "Hangup");
                let cause = match p {
                    Phase::Busy => "USER_BUSY",
                    Phase::NoAnswer => "NO_ANSWER",
                    Phase::Canceled => "ORIGINATOR_CANCEL",
                    Phase::Failed => "UNALLOCATED_NUMBER",
                    _ => "NORMAL_CLEARING",
                };
                params.push(("HangupCause".into(), cause.into()));
                let secs = call.duration_secs.unwrap_or(0);
                params.push(("Duration".into(), secs.to_string()));
                params.push(("BillDuration".into(), (secs.div_ceil(60) * 60).to_string()));
                if let Some(price) = call.price {
                    params.push(("TotalCost".into(), format!("{price:.5}")));
                }
                Some(self.signed(url, "POST", params))
            }
            _ => None,
        }
    }

    fn parse_answer(&self, body: &str) -> Result<Vec<Instruction>, String> {
        markup::plivo_xml(body)
    }

    fn media(&self, call: &CallInfo, target: &StreamTarget) -> Box<dyn MediaDialect> {
        Box::new(PlivoMedia {
            stream_id: uuid::Uuid::new_v4().to_string(),
            call_id: call.id.clone(),
            format: target.format,
            parameters: target.parameters.clone(),
            seq: 0,
            epoch_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
        })
    }
}

struct PlivoMedia {
    stream_id: String,
    call_id: String,
    format: AudioFormat,
    parameters: Vec<(String, String)>,
    seq: u64,
    epoch_ms: u64,
}

impl PlivoMedia {
    fn content_type(&self) -> (&'static str, u32) {
        match self.format.encoding {
            Encoding::Mulaw => ("audio/x-mulaw", 8000),
            _ => ("audio/x-l16", self.format.rate.hz()),
        }
    }
}

impl MediaDialect for PlivoMedia {
    fn opening(&mut self) -> Vec<Message> {
        let (encoding, rate) = self.content_type();
        let headers = self
            .parameters
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(";");
        self.seq += 1;
        let start = serde_json::json!({
            "event": "start",
            "sequenceNumber": self.seq,
            "start": {
                "callId": self.call_id,
                "streamId": self.stream_id,
                "accountId": AUTH_ID,
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": encoding, "sampleRate": rate},
            },
            "extra_headers": headers,
        });
        vec![Message::text(start.to_string())]
    }

    fn media(&mut self, frame: &[u8]) -> Message {
        self.seq += 1;
        let m = serde_json::json!({
            "event": "media",
            "sequenceNumber": self.seq,
            "streamId": self.stream_id,
            "media": {
                "track": "inbound",
                "timestamp": (self.epoch_ms + (self.seq - 2) * 20).to_string(),
                "chunk": self.seq - 1,
                "payload": STANDARD.encode(frame),
            },
        });
        Message::text(m.to_string())
    }

    fn dtmf(&mut self, digit: char) -> Message {
        self.seq += 1;
        let m = serde_json::json!({
            "event": "dtmf",
            "sequenceNumber": self.seq,
            "streamId": self.stream_id,
            "dtmf": {"digit": digit.to_string()},
        });
        Message::text(m.to_string())
    }

    fn stop(&mut self) -> Option<Message> {
        // Plivo closes the socket; there is no stop message.
        None
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
        let stream_ok = |v: &serde_json::Value| {
            v.get("streamId")
                .and_then(|s| s.as_str())
                .is_none_or(|s| s == self.stream_id)
        };
        if !stream_ok(&v) {
            return vec![AgentSays::Violation(Violation::WrongStream(
                v["streamId"].to_string(),
            ))];
        }
        match v.get("event").and_then(|e| e.as_str()).unwrap_or("") {
            "playAudio" => {
                let (encoding, rate) = self.content_type();
                let ct = v.pointer("/media/contentType").and_then(|c| c.as_str());
                let sr = v
                    .pointer("/media/sampleRate")
                    .and_then(serde_json::Value::as_u64);
                if ct != Some(encoding) || sr != Some(u64::from(rate)) {
                    return vec![AgentSays::Violation(Violation::WrongFormat(format!(
                        "{ct:?} at {sr:?} Hz on a {encoding} stream at {rate} Hz"
                    )))];
                }
                match v
                    .pointer("/media/payload")
                    .and_then(|p| p.as_str())
                    .and_then(|p| STANDARD.decode(p).ok())
                {
                    Some(bytes) => vec![AgentSays::Audio(bytes)],
                    None => vec![AgentSays::Violation(Violation::Malformed(
                        "playAudio without a base64 payload".into(),
                    ))],
                }
            }
            "checkpoint" => match v.get("name").and_then(|n| n.as_str()) {
                Some(name) => {
                    let echo = serde_json::json!({
                        "event": "playedStream",
                        "streamId": self.stream_id,
                        "name": name,
                    });
                    vec![AgentSays::Mark(
                        name.to_owned(),
                        Message::text(echo.to_string()),
                    )]
                }
                None => vec![AgentSays::Violation(Violation::Malformed(
                    "checkpoint without a name".into(),
                ))],
            },
            "clearAudio" => vec![AgentSays::Clear],
            "sendDTMF" => vec![AgentSays::Dtmf(
                v.get("dtmf")
                    .and_then(|d| d.as_str())
                    .unwrap_or("")
                    .to_owned(),
            )],
            other => vec![AgentSays::Violation(Violation::UnknownMessage(
                other.to_owned(),
            ))],
        }
    }

    fn cleared(&mut self, _pending: Vec<(String, Message)>) -> Vec<Message> {
        self.seq += 1;
        let m = serde_json::json!({
            "event": "clearedAudio",
            "sequenceNumber": self.seq,
            "streamId": self.stream_id,
        });
        vec![Message::text(m.to_string())]
    }
}

#[derive(Debug, Clone)]
struct Number {
    digits: String,
    app_id: Option<String>,
}

#[derive(Debug, Clone)]
struct Application {
    answer_url: Option<String>,
    answer_method: String,
}

struct Plivo {
    carrier: Arc<Carrier>,
    numbers: Mutex<Vec<Number>>,
    app: Mutex<Application>,
}

type Shared = Arc<Plivo>;

fn error(status: u16, message: &str) -> Response {
    let body = serde_json::json!({"api_id": uuid::Uuid::new_v4().to_string(), "error": message});
    fault_response(status, None, body.to_string())
}

fn accepted(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

impl Plivo {
    fn authorized(&self, id: &str, headers: &HeaderMap) -> Result<(), Response> {
        match basic_auth(headers) {
            Some((user, password))
                if user == AUTH_ID && password == AUTH_TOKEN && id == AUTH_ID =>
            {
                Ok(())
            }
            _ => Err(error(401, "authentication failed")),
        }
    }

    async fn fault(&self, op: Operation) -> Result<(), Response> {
        match self.carrier.fault(op).await {
            Some((status, retry_after)) => {
                let body = serde_json::json!({"api_id": "emulated", "error": "emulated fault"});
                Err(fault_response(status, retry_after, body.to_string()))
            }
            None => Ok(()),
        }
    }

    /// (call uuid, request uuid, raw status, answered, over)
    fn find(&self, id: &str) -> Option<(String, String, String, bool, bool)> {
        let s = self.carrier.lock();
        s.calls
            .values()
            .find(|c| c.info.id == id || c.info.secondary_id == id)
            .map(|c| {
                (
                    c.info.id.clone(),
                    c.info.secondary_id.clone(),
                    c.record.raw_status.clone(),
                    c.info.answered,
                    c.record.is_over(),
                )
            })
    }

    fn live_json(&self, call_uuid: &str, status: &str) -> serde_json::Value {
        let s = self.carrier.lock();
        let c = s.calls.get(call_uuid);
        serde_json::json!({
            "api_id": uuid::Uuid::new_v4().to_string(),
            "call_uuid": call_uuid,
            "call_status": status,
            "direction": c.map(|c| if c.info.inbound { "inbound" } else { "outbound" }),
            "from": c.map(|c| c.info.from.clone()),
            "to": c.map(|c| c.info.to.clone()),
            "request_uuid": c.map(|c| c.info.secondary_id.clone()),
        })
    }

    fn cdr_json(&self, call_uuid: &str) -> serde_json::Value {
        let s = self.carrier.lock();
        let Some(c) = s.calls.get(call_uuid) else {
            return serde_json::Value::Null;
        };
        let state = match c.record.raw_status.as_str() {
            "completed" => "ANSWER",
            "busy" => "BUSY",
            "no-answer" => "NOANSWER",
            "cancel" => "CANCEL",
            _ => "FAILED",
        };
        let secs = c.info.duration_secs.unwrap_or(0);
        serde_json::json!({
            "api_id": uuid::Uuid::new_v4().to_string(),
            "call_uuid": c.info.id,
            "call_state": state,
            "call_direction": if c.info.inbound { "inbound" } else { "outbound" },
            "from_number": c.info.from,
            "to_number": c.info.to,
            "call_duration": secs,
            "bill_duration": secs.div_ceil(60) * 60,
            "total_amount": c.info.price.map(|p| format!("{p:.5}")),
            "total_rate": format!("{:.5}", c.info.rate),
            "hangup_cause_name": "Normal Hangup",
            "hangup_source": "Callee",
        })
    }

    fn number_json(n: &Number) -> serde_json::Value {
        serde_json::json!({
            "number": n.digits,
            "alias": null,
            "application": n.app_id.as_ref().map(|a| format!("/v1/Account/{AUTH_ID}/Application/{a}/")),
            "voice_enabled": true,
        })
    }
}

async fn create_call(
    State(p): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> Response {
    if let Err(r) = p.authorized(&id, &headers) {
        return r;
    }
    if let Err(r) = p.fault(Operation::CreateCall).await {
        return r;
    }
    let field = |name: &str| {
        body.get(name)
            .and_then(|v| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let (Some(from), Some(to), Some(answer)) = (field("from"), field("to"), field("answer_url"))
    else {
        return error(400, "from, to and answer_url are required");
    };
    let Ok(answer) = Url::parse(answer) else {
        return error(400, "answer_url is not a URL");
    };
    let request_uuid = uuid::Uuid::new_v4().to_string();
    let hooks = Hooks {
        ring_url: field("ring_url").and_then(|u| Url::parse(u).ok()),
        hangup_url: field("hangup_url").and_then(|u| Url::parse(u).ok()),
        ..Hooks::default()
    };
    p.carrier.place(Dial {
        id: uuid::Uuid::new_v4().to_string(),
        secondary_id: request_uuid.clone(),
        from: from.to_owned(),
        to: to.to_owned(),
        inbound: false,
        answer: AnswerWith::Url(answer, field("answer_method").unwrap_or("POST").to_owned()),
        hooks,
        ring_timeout: body
            .get("ring_timeout")
            .and_then(serde_json::Value::as_u64)
            .map(std::time::Duration::from_secs),
    });
    accepted(
        StatusCode::CREATED,
        serde_json::json!({"api_id": uuid::Uuid::new_v4().to_string(), "message": "call fired", "request_uuid": request_uuid}),
    )
}

#[derive(serde::Deserialize)]
struct CallQuery {
    status: Option<String>,
}

async fn get_call(
    State(p): State<Shared>,
    Path((id, call)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<CallQuery>,
) -> Response {
    if let Err(r) = p.authorized(&id, &headers) {
        return r;
    }
    if let Err(r) = p.fault(Operation::FetchCall).await {
        return r;
    }
    let not_found = || error(404, "call not found");
    let Some((uuid, request, status, answered, over)) = p.find(&call) else {
        return not_found();
    };
    match q.status.as_deref() {
        Some("live") if call == uuid && !over && status != "queued" => {
            accepted(StatusCode::OK, p.live_json(&uuid, &status))
        }
        Some("queued") if call == request && !answered && !over => {
            accepted(StatusCode::OK, p.live_json(&uuid, "queued"))
        }
        None if call == uuid && over => accepted(StatusCode::OK, p.cdr_json(&uuid)),
        _ => not_found(),
    }
}

async fn list_live(
    State(p): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<CallQuery>,
) -> Response {
    if let Err(r) = p.authorized(&id, &headers) {
        return r;
    }
    if let Err(r) = p.fault(Operation::FetchCall).await {
        return r;
    }
    if q.status.as_deref() != Some("live") {
        return error(400, "the emulator lists live calls only");
    }
    let calls: Vec<String> = {
        let s = p.carrier.lock();
        s.order
            .iter()
            .filter_map(|id| s.calls.get(id))
            .filter(|c| !c.record.is_over() && c.record.raw_status != "queued")
            .map(|c| c.info.id.clone())
            .collect()
    };
    accepted(
        StatusCode::OK,
        serde_json::json!({"api_id": uuid::Uuid::new_v4().to_string(), "calls": calls}),
    )
}

async fn hangup_call(
    State(p): State<Shared>,
    Path((id, call)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = p.authorized(&id, &headers) {
        return r;
    }
    if let Err(r) = p.fault(Operation::UpdateCall).await {
        return r;
    }
    match p.find(&call) {
        Some((uuid, _, _, answered, false)) if call == uuid && answered => {
            p.carrier.hangup(&uuid);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => error(404, "call not found"),
    }
}

async fn cancel_request(
    State(p): State<Shared>,
    Path((id, request)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = p.authorized(&id, &headers) {
        return r;
    }
    if let Err(r) = p.fault(Operation::UpdateCall).await {
        return r;
    }
    match p.find(&request) {
        Some((uuid, req, _, false, false)) if req == request => {
            p.carrier.hangup(&uuid);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => error(404, "request not found"),
    }
}

async fn list_numbers(
    State(p): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = p.authorized(&id, &headers) {
        return r;
    }
    if let Err(r) = p.fault(Operation::Numbers).await {
        return r;
    }
    let numbers = p.numbers.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let objects: Vec<_> = numbers.iter().map(Plivo::number_json).collect();
    accepted(
        StatusCode::OK,
        serde_json::json!({
            "api_id": uuid::Uuid::new_v4().to_string(),
            "meta": {"limit": 20, "next": null, "offset": 0, "previous": null, "total_count": objects.len()},
            "objects": objects,
        }),
    )
}

async fn get_number(
    State(p): State<Shared>,
    Path((id, number)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = p.authorized(&id, &headers) {
        return r;
    }
    if let Err(r) = p.fault(Operation::Numbers).await {
        return r;
    }
    let numbers = p.numbers.lock().unwrap_or_else(|e| e.into_inner());
    match numbers.iter().find(|n| n.digits == number) {
        Some(n) => accepted(StatusCode::OK, Plivo::number_json(n)),
        None => error(404, "number not found"),
    }
}

async fn update_number(
    State(p): State<Shared>,
    Path((id, number)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> Response {
    if let Err(r) = p.authorized(&id, &headers) {
        return r;
    }
    if let Err(r) = p.fault(Operation::Numbers).await {
        return r;
    }
    let mut numbers = p.numbers.lock().unwrap_or_else(|e| e.into_inner());
    let Some(n) = numbers.iter_mut().find(|n| n.digits == number) else {
        return error(404, "number not found");
    };
    if let Some(app) = body.get("app_id").and_then(|a| a.as_str()) {
        if app != APP_ID {
            return error(404, "application not found");
        }
        n.app_id = Some(app.to_owned());
    }
    accepted(
        StatusCode::ACCEPTED,
        serde_json::json!({"api_id": "emulated", "message": "changed"}),
    )
}

async fn get_application(
    State(p): State<Shared>,
    Path((id, app)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = p.authorized(&id, &headers) {
        return r;
    }
    if let Err(r) = p.fault(Operation::Numbers).await {
        return r;
    }
    if app != APP_ID {
        return error(404, "application not found");
    }
    let a = p.app.lock().unwrap_or_else(|e| e.into_inner()).clone();
    accepted(
        StatusCode::OK,
        serde_json::json!({"app_id": APP_ID, "app_name": "emulated", "answer_url": a.answer_url, "answer_method": a.answer_method}),
    )
}

async fn update_application(
    State(p): State<Shared>,
    Path((id, app)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> Response {
    if let Err(r) = p.authorized(&id, &headers) {
        return r;
    }
    if let Err(r) = p.fault(Operation::Numbers).await {
        return r;
    }
    if app != APP_ID {
        return error(404, "application not found");
    }
    let mut a = p.app.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(u) = body.get("answer_url").and_then(|u| u.as_str()) {
        a.answer_url = Some(u.to_owned());
    }
    if let Some(m) = body.get("answer_method").and_then(|u| u.as_str()) {
        m.clone_into(&mut a.answer_method);
    }
    accepted(
        StatusCode::ACCEPTED,
        serde_json::json!({"api_id": "emulated", "message": "changed"}),
    )
}

/// An emulated Plivo on a loopback port. Derefs to [`Fake`] for the knobs and records.
#[derive(Clone)]
pub struct FakePlivo {
    fake: Fake,
    plivo: Shared,
}

impl std::fmt::Debug for FakePlivo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakePlivo")
            .field("base_url", &self.fake.base_url().as_str())
            .finish_non_exhaustive()
    }
}

impl Deref for FakePlivo {
    type Target = Fake;
    fn deref(&self) -> &Fake {
        &self.fake
    }
}

impl FakePlivo {
    /// Starts one on a free loopback port.
    pub async fn start() -> std::io::Result<FakePlivo> {
        let (listener, url) = bind().await?;
        let carrier = carrier(dialect(), url);
        let plivo = Arc::new(Plivo {
            carrier: carrier.clone(),
            numbers: Mutex::new(Vec::new()),
            app: Mutex::new(Application {
                answer_url: None,
                answer_method: "POST".into(),
            }),
        });
        let router = Router::new()
            .route("/v1/Account/{id}/Call/", post(create_call).get(list_live))
            .route(
                "/v1/Account/{id}/Call/{call}/",
                get(get_call).delete(hangup_call),
            )
            .route(
                "/v1/Account/{id}/Request/{request}/",
                axum::routing::delete(cancel_request),
            )
            .route("/v1/Account/{id}/Number/", get(list_numbers))
            .route(
                "/v1/Account/{id}/Number/{number}/",
                get(get_number).post(update_number),
            )
            .route(
                "/v1/Account/{id}/Application/{app}/",
                get(get_application).post(update_application),
            )
            .with_state(plivo.clone());
        serve(&carrier, listener, router);
        Ok(FakePlivo {
            fake: Fake { carrier },
            plivo,
        })
    }

    /// The adapter's settings for this fake: its account, token, application and host.
    pub fn config(&self) -> PlivoConfig {
        PlivoConfig::new(AUTH_ID, AUTH_TOKEN)
            .app_id(APP_ID)
            .base_url(self.fake.base_url())
    }

    /// Gives the account `number`, linked to no application yet.
    pub fn add_number(&self, number: &E164) {
        let mut numbers = self.plivo.numbers.lock().unwrap_or_else(|e| e.into_inner());
        numbers.push(Number {
            digits: number.digits().to_owned(),
            app_id: None,
        });
    }

    /// Dials `to`, one of the account's numbers, from `from`: the linked application's answer
    /// URL is fetched, as Plivo does. Returns the call's `CallUUID`.
    pub fn ring(&self, from: &E164, to: &E164) -> Result<String, String> {
        let linked = {
            let numbers = self.plivo.numbers.lock().unwrap_or_else(|e| e.into_inner());
            numbers
                .iter()
                .find(|n| n.digits == to.digits())
                .map(|n| n.app_id.clone())
        };
        match linked {
            None => return Err(format!("{to} is not a number of the emulated account")),
            Some(None) => {
                return Err(format!(
                    "{to} is linked to no application: run configure_inbound first"
                ));
            }
            Some(Some(_)) => {}
        }
        let app = self
            .plivo
            .app
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let url = app
            .answer_url
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
            .ok_or("the application has no answer URL: run configure_inbound first")?;
        let id = uuid::Uuid::new_v4().to_string();
        self.fake.carrier.place(Dial {
            id: id.clone(),
            secondary_id: String::new(),
            from: from.digits().to_owned(),
            to: to.digits().to_owned(),
            inbound: true,
            answer: AnswerWith::Url(url, app.answer_method),
            hooks: Hooks::default(),
            ring_timeout: None,
        });
        Ok(id)
    }
}
