//! Plivo's call-control REST: a live call moved to new XML (`POST /Call/{uuid}/` with `legs`,
//! `aleg_url`, `aleg_method`), its recordings (`POST` and `DELETE /Call/{uuid}/Record/`), keys
//! pressed on it (`POST /Call/{uuid}/DTMF/`), the Recording resource (`GET` and
//! `DELETE /Recording/{id}/`) and its file (WAV, behind Basic auth, on the path of Plivo's
//! media host), and what placing a call asks of the engine (machine detection). Bodies as
//! plivo-python 4.63 sends them (JSON); answers as Plivo's docs show them.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use telephony::Url;

use super::rest::{accepted, error};
use super::webhooks::recording_file_url;
use super::{AUTH_ID, Plivo, Shared, ledger};
use crate::engine::{AmdMode, Control, Next, Operation};
use crate::markup::RecordRequest;

/// How long after its transfer API answers a call moves to its new XML, in call time: the
/// API is asynchronous, and the carrier's media server takes a moment to leave what the call
/// does (an estimate; Plivo documents no figure).
const MOVE_TIME: Duration = Duration::from_millis(250);

/// A JSON object body (an empty body is an empty object), or Plivo's 400.
fn json_body(body: &Bytes) -> Result<Value, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(error(400, "the request body is not a JSON object")),
    }
}

/// A field given as a non-empty string.
fn text<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
}

/// A URL field, or Plivo's 400 when it is not one.
fn url_field(body: &Value, name: &str) -> Result<Option<Url>, Response> {
    match text(body, name) {
        None => Ok(None),
        Some(u) => match Url::parse(u) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(Some(url)),
            _ => Err(error(400, &format!("{name} is not a valid URL"))),
        },
    }
}

/// An HTTP method field (`GET` or `POST`, POST when absent), or Plivo's 400.
fn method_field(body: &Value, name: &str) -> Result<String, Response> {
    match text(body, name).unwrap_or("POST") {
        m if m.eq_ignore_ascii_case("GET") => Ok("GET".into()),
        m if m.eq_ignore_ascii_case("POST") => Ok("POST".into()),
        _ => Err(error(400, &format!("{name} must be GET or POST"))),
    }
}

fn api_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn call_not_found() -> Response {
    error(404, "call not found")
}

fn recording_not_found() -> Response {
    error(404, "recording not found")
}

impl Plivo {
    /// What a create asks of machine detection: `machine_detection` `true` (report) or
    /// `hangup` (Plivo hangs up on a machine; the emulator reports it with `IfMachine=hangup`
    /// and hangs up nothing), its verdict at `machine_detection_url`, asynchronously.
    pub(super) fn machine_detection(
        &self,
        call: &str,
        body: &Value,
    ) -> Result<(Option<AmdMode>, Option<Url>), Response> {
        let mode = match body.get("machine_detection") {
            None | Some(Value::Null | Value::Bool(false)) => return Ok((None, None)),
            Some(Value::Bool(true)) => "true",
            Some(Value::String(s)) if s.is_empty() || s == "false" => return Ok((None, None)),
            Some(Value::String(s)) => s.as_str(),
            Some(_) => "",
        };
        match mode {
            "true" => {}
            "hangup" => {
                ledger(&self.ledger)
                    .hangup_on_machine
                    .insert(call.to_owned());
            }
            _ => return Err(error(400, "machine_detection must be true or hangup")),
        }
        let url = url_field(body, "machine_detection_url")?;
        Ok((Some(AmdMode::Detect), url))
    }

    /// A live call's `CallUUID` (answered, not over; a request id is not a live call's).
    fn live(&self, call: &str) -> Option<String> {
        match self.find(call)? {
            (uuid, _, _, true, false) if uuid == call => Some(uuid),
            _ => None,
        }
    }

    /// The live leg a call dialled (its B leg).
    fn b_leg(&self, call: &str) -> Option<String> {
        let s = self.carrier.lock();
        s.order
            .iter()
            .rev()
            .filter_map(|id| s.calls.get(id))
            .find(|c| c.parent.as_deref() == Some(call) && c.info.answered && !c.record.is_over())
            .map(|c| c.info.id.clone())
    }

    /// The Recording object, once its file is ready (Plivo lists a recording when it is
    /// done).
    fn recording_json(&self, id: &str) -> Option<Value> {
        let r = self.carrier.recording(id)?;
        r.wav.as_ref()?;
        let duration = r.duration.unwrap_or_default();
        let ms = |t: std::time::SystemTime| {
            let d = t
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis();
            format!("{d}.00000")
        };
        let add_time = crate::engine::rfc3339(r.started_at)
            .replacen('T', " ", 1)
            .replace('Z', "+00:00");
        Some(serde_json::json!({
            "api_id": api_id(),
            "add_time": add_time,
            "call_uuid": r.call_id,
            "conference_name": null,
            "recording_duration_ms": format!("{}.00000", duration.as_millis()),
            "recording_end_ms": ms(r.started_at + duration),
            "recording_format": "wav",
            "recording_id": r.id,
            "recording_start_ms": ms(r.started_at),
            "recording_type": "normal",
            "recording_url": recording_file_url(&self.carrier.base_url, &r.id),
            "resource_uri": format!("/v1/Account/{AUTH_ID}/Recording/{}/", r.id),
        }))
    }
}

/// `POST /Call/{uuid}/`: transfers a live call: `legs` `aleg` (the default), `bleg` or `both`
/// leave what they do and run the XML at `aleg_url`/`bleg_url` (fetched as the call's answer
/// is, signed). 202.
pub(super) async fn transfer_call(
    State(p): State<Shared>,
    Path((id, call)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = p.admit(&id, &headers, Operation::UpdateCall).await {
        return r;
    }
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(uuid) = p.live(&call) else {
        return call_not_found();
    };
    let legs = text(&body, "legs").unwrap_or("aleg");
    let (a, b) = match legs {
        "aleg" => (true, false),
        "bleg" => (false, true),
        "both" => (true, true),
        _ => return error(400, "legs must be aleg, bleg or both"),
    };
    let next = |leg: &str| -> Result<Next, Response> {
        let url = url_field(&body, &format!("{leg}_url"))?
            .ok_or_else(|| error(400, &format!("{leg}_url is required for legs={legs}")))?;
        Ok(Next::Url(
            url,
            method_field(&body, &format!("{leg}_method"))?,
        ))
    };
    let mut moves = Vec::new();
    if a {
        match next("aleg") {
            Ok(n) => moves.push((uuid.clone(), n)),
            Err(r) => return r,
        }
    }
    if b {
        let Some(leg) = p.b_leg(&uuid) else {
            return error(400, "the call has no B leg to transfer");
        };
        match next("bleg") {
            Ok(n) => moves.push((leg, n)),
            Err(r) => return r,
        }
    }
    // Plivo's transfer is asynchronous: the API answers, then the call moves, a moment later.
    // So the move is made once the answer is written, after MOVE_TIME: a host that asks for it
    // while answering a callback has answered before the fetch the move makes reaches it.
    let carrier = p.carrier.clone();
    let answer = serde_json::json!({"api_id": api_id(), "message": "call transferred"});
    after_answer(StatusCode::ACCEPTED, &answer, move || {
        let wall = carrier.wall(MOVE_TIME);
        tokio::spawn(async move {
            tokio::time::sleep(wall).await;
            for (call, next) in moves {
                carrier.command(&call, Control::Redirect(next));
            }
        });
    })
}

/// Runs `then` once dropped.
struct Then(Option<Box<dyn FnOnce() + Send>>);

impl Drop for Then {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

/// A JSON answer whose body runs `then` once written (or once the connection is gone).
pub(super) fn after_answer(
    status: StatusCode,
    body: &Value,
    then: impl FnOnce() + Send + 'static,
) -> Response {
    use futures_util::StreamExt as _;
    // The stream owns the guard: it runs when hyper drops the body, once written.
    let guard = Then(Some(Box::new(then)));
    let bytes = Bytes::from(body.to_string());
    let chunks =
        futures_util::stream::iter([Ok::<_, std::convert::Infallible>(bytes)]).map(move |chunk| {
            let Then(_) = &guard;
            chunk
        });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(chunks),
    )
        .into_response()
}

/// `POST /Call/{uuid}/Record/`: starts recording a live call (`time_limit`, 60 s by default,
/// after which it stops; `file_format` mp3 or wav, the file always WAV here;
/// `record_channel_type` mono or stereo; `callback_url`). 202 with its `recording_id` and
/// `url`.
pub(super) async fn start_recording(
    State(p): State<Shared>,
    Path((id, call)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = p.admit(&id, &headers, Operation::UpdateCall).await {
        return r;
    }
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let limit = match body.get("time_limit") {
        None | Some(Value::Null) => Some(60),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        Some(_) => None,
    };
    let Some(limit) = limit.filter(|l| *l > 0) else {
        return error(400, "time_limit must be a positive integer");
    };
    let format = match text(&body, "file_format").unwrap_or("mp3") {
        f @ ("mp3" | "wav") => f.to_owned(),
        _ => return error(400, "file_format must be mp3 or wav"),
    };
    let channels = match text(&body, "record_channel_type").unwrap_or("mono") {
        "mono" => 1,
        "stereo" => 2,
        _ => return error(400, "record_channel_type must be mono or stereo"),
    };
    let callback = match url_field(&body, "callback_url") {
        Ok(u) => u,
        Err(r) => return r,
    };
    if let Err(r) = method_field(&body, "callback_method") {
        return r;
    }
    let Some(uuid) = p.live(&call) else {
        return call_not_found();
    };
    let request = RecordRequest {
        channels,
        callback,
        format,
    };
    let Some(recording) = p.carrier.start_recording(&uuid, &request) else {
        return call_not_found();
    };
    ledger(&p.ledger).api_recordings.insert(recording.clone());
    stop_after(&p, &uuid, &recording, Duration::from_secs(limit));
    accepted(
        StatusCode::ACCEPTED,
        serde_json::json!({
            "api_id": api_id(),
            "message": "call recording started",
            "recording_id": recording,
            "url": recording_file_url(&p.carrier.base_url, &recording),
        }),
    )
}

/// Stops `recording` of `call` once `limit` (call time) has passed, unless the call ends
/// first.
fn stop_after(p: &Plivo, call: &str, recording: &str, limit: Duration) {
    let carrier = p.carrier.clone();
    let Some(mut done) = carrier.lock().calls.get(call).map(|c| c.done.subscribe()) else {
        return;
    };
    let wall = carrier.wall(limit);
    let (call, recording) = (call.to_owned(), recording.to_owned());
    tokio::spawn(async move {
        tokio::select! {
            () = tokio::time::sleep(wall) => {
                carrier.stop_recording(&call, Some(&recording));
            }
            _ = done.wait_for(|d| *d) => {}
        }
    });
}

/// `DELETE /Call/{uuid}/Record/`: stops the live call's recordings, or the one whose file is
/// `URL`. 204.
pub(super) async fn stop_recording(
    State(p): State<Shared>,
    Path((id, call)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = p.admit(&id, &headers, Operation::UpdateCall).await {
        return r;
    }
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(uuid) = p.live(&call) else {
        return call_not_found();
    };
    let which = text(&body, "URL").map(|u| {
        let file = u.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        file.split_once('.').map_or(file, |(id, _)| id).to_owned()
    });
    if !p.carrier.stop_recording(&uuid, which.as_deref()) && which.is_some() {
        return recording_not_found();
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /Call/{uuid}/DTMF/`: `digits` (0-9, `*`, `#`, A-D; `w` and `W` pause) played to the
/// far end of `leg` (`aleg`, the default, or `bleg`). 202.
pub(super) async fn send_digits(
    State(p): State<Shared>,
    Path((id, call)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = p.admit(&id, &headers, Operation::UpdateCall).await {
        return r;
    }
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(digits) = text(&body, "digits") else {
        return error(400, "digits is required");
    };
    if !digits
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D' | 'w' | 'W'))
    {
        return error(400, "digits may be 0-9, *, #, A-D, w and W only");
    }
    let Some(uuid) = p.live(&call) else {
        return call_not_found();
    };
    let target = match text(&body, "leg").unwrap_or("aleg") {
        "aleg" => uuid,
        "bleg" => match p.b_leg(&uuid) {
            Some(leg) => leg,
            None => return error(400, "the call has no B leg"),
        },
        _ => return error(400, "leg must be aleg or bleg"),
    };
    let keys: String = digits.chars().filter(|c| !matches!(c, 'w' | 'W')).collect();
    if !keys.is_empty() && !p.carrier.dtmf_to_far_end(&target, &keys) {
        return call_not_found();
    }
    accepted(
        StatusCode::ACCEPTED,
        serde_json::json!({"api_id": api_id(), "message": "digits sent"}),
    )
}

/// `GET /Recording/{id}/`: the Recording object, once the file is ready.
pub(super) async fn get_recording(
    State(p): State<Shared>,
    Path((id, recording)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = p.admit(&id, &headers, Operation::FetchCall).await {
        return r;
    }
    match p.recording_json(&recording) {
        Some(body) => accepted(StatusCode::OK, body),
        None => recording_not_found(),
    }
}

/// `DELETE /Recording/{id}/`: 204.
pub(super) async fn delete_recording(
    State(p): State<Shared>,
    Path((id, recording)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = p.admit(&id, &headers, Operation::UpdateCall).await {
        return r;
    }
    if p.carrier.delete_recording(&recording) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        recording_not_found()
    }
}

/// `GET /v1/Account/{id}/Recording/{id}.wav`: the file (what `recording_url` names), with the
/// account's Basic auth, as Plivo serves recordings when their URLs are protected. WAV only:
/// the emulator writes no MP3.
pub(super) async fn recording_file(
    State(p): State<Shared>,
    Path((id, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = p.admit(&id, &headers, Operation::FetchCall).await {
        return r;
    }
    let Some(recording) = file.strip_suffix(".wav") else {
        return recording_not_found();
    };
    match p.carrier.recording(recording).and_then(|r| r.wav) {
        Some(wav) => (
            [(header::CONTENT_TYPE, "audio/wav")],
            Body::from(wav.as_ref().clone()),
        )
            .into_response(),
        None => recording_not_found(),
    }
}
