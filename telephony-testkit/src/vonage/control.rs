//! Vonage's call-control REST: machine detection asked for when a call is placed, a live
//! call moved to a new NCCO (`PUT /v1/calls/{uuid}` `transfer`), DTMF played into a call
//! (`PUT /v1/calls/{uuid}/dtmf`), and a recording's file (`GET /v1/files/{id}`), all behind
//! the application JWT. Field names as vonage-python-sdk voice 1.5.1 writes them
//! (`models/requests.py` `CreateCallRequest`, `models/common.py` `AdvancedMachineDetection`,
//! `voice.py` `transfer_call_ncco`, `transfer_call_answer_url`, `play_dtmf_into_call`,
//! `download_recording`).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use telephony::Url;

use super::Shared;
use super::markup::ncco;
use super::rest::problem;
use crate::engine::{AmdMode, Next, Operation};

/// What a create asks of machine detection: `advanced_machine_detection` (which takes
/// precedence) with `mode` `detect` (human or machine), `detect_beep` or `default` (then the
/// beep); or `machine_detection` `continue`|`hangup`. An error for a value Vonage refuses.
pub(super) fn machine_detection(body: &serde_json::Value) -> Result<Option<AmdMode>, String> {
    let behavior = |b: Option<&serde_json::Value>, what: &str| match b.map(|b| b.as_str()) {
        None | Some(Some("continue" | "hangup")) => Ok(()),
        _ => Err(format!("{what} must be continue or hangup")),
    };
    if let Some(advanced) = body.get("advanced_machine_detection") {
        if !advanced.is_object() {
            return Err("advanced_machine_detection must be an object".into());
        }
        behavior(
            advanced.get("behavior"),
            "advanced_machine_detection.behavior",
        )?;
        if let Some(t) = advanced.get("beep_timeout") {
            match t.as_u64() {
                Some(45..=120) => {}
                _ => return Err("beep_timeout must be 45 to 120".into()),
            }
        }
        return match advanced.get("mode").map(|m| m.as_str()) {
            Some(Some("detect")) => Ok(Some(AmdMode::Detect)),
            None | Some(Some("default" | "detect_beep")) => Ok(Some(AmdMode::GreetingEnd)),
            _ => {
                Err("advanced_machine_detection.mode must be default, detect or detect_beep".into())
            }
        };
    }
    match body.get("machine_detection") {
        None => Ok(None),
        b => behavior(b, "machine_detection").map(|()| Some(AmdMode::Detect)),
    }
}

/// A transfer's destination: `{"type":"ncco","ncco":[…]}` (checked now, as Vonage refuses an
/// NCCO it cannot read) or `{"type":"ncco","url":["…"]}` (fetched with `GET`, as an answer
/// URL is by default).
pub(super) fn destination(body: &serde_json::Value) -> Result<Next, String> {
    let Some(d) = body.get("destination") else {
        return Err("a transfer needs a destination".into());
    };
    if d.get("type").and_then(|t| t.as_str()) != Some("ncco") {
        return Err("destination.type must be ncco".into());
    }
    if let Some(doc) = d.get("ncco") {
        let doc = doc.to_string();
        ncco(&doc).map_err(|e| format!("destination.ncco: {e}"))?;
        return Ok(Next::Document(doc));
    }
    let url = d
        .get("url")
        .and_then(|u| u.as_array())
        .and_then(|u| u.first())
        .and_then(|u| u.as_str())
        .ok_or("destination needs ncco or url")?;
    let url = Url::parse(url).map_err(|e| format!("destination.url {url:?}: {e}"))?;
    Ok(Next::Url(url, "GET".into()))
}

/// `PUT /v1/calls/{uuid}/dtmf` `{"digits": …}`: `0`-`9`, `*`, `#`, and `p` for a 500 ms
/// pause (vonage_utils `Dtmf`, `^[0-9#*p]+$`). The keys reach the far end.
pub(super) async fn send_dtmf(
    State(v): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = v.voice_authorized(&headers) {
        return r;
    }
    if let Err(r) = v.fault(Operation::UpdateCall).await {
        return r;
    }
    let bad = |detail: &str| problem(400, "bad-request", "Bad Request", detail);
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let digits = body.get("digits").and_then(|d| d.as_str()).unwrap_or("");
    if digits.is_empty()
        || !digits
            .chars()
            .all(|c| c.is_ascii_digit() || "*#p".contains(c))
    {
        return bad("digits must match ^[0-9#*p]+$");
    }
    if v.call_json(&id).is_none() {
        return problem(404, "not-found", "Not Found", "Call not found");
    }
    // The pauses are time between keys, not keys.
    let keys: String = digits.chars().filter(|c| *c != 'p').collect();
    if !keys.is_empty() && !v.carrier.dtmf_to_far_end(&id, &keys) {
        return bad("The call is not in progress");
    }
    axum::Json(serde_json::json!({"message": "DTMF sent", "uuid": id})).into_response()
}

/// `GET /v1/files/{id}`: a recording's file, once the call it recorded ended.
pub(super) async fn fetch_file(
    State(v): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = v.voice_authorized(&headers) {
        return r;
    }
    if let Err(r) = v.fault(Operation::FetchCall).await {
        return r;
    }
    match v.carrier.recording(&id).and_then(|r| r.wav) {
        Some(wav) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "audio/wav")],
            Body::from(wav.as_ref().clone()),
        )
            .into_response(),
        None => problem(404, "not-found", "Not Found", "File not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_detection_as_vonage_takes_it() {
        let amd = |v: serde_json::Value| machine_detection(&v);
        assert_eq!(amd(serde_json::json!({})), Ok(None));
        assert_eq!(
            amd(serde_json::json!({"machine_detection": "continue"})),
            Ok(Some(AmdMode::Detect))
        );
        assert_eq!(
            amd(
                serde_json::json!({"machine_detection": "continue", "advanced_machine_detection": {"behavior": "continue", "mode": "detect_beep", "beep_timeout": 45}})
            ),
            Ok(Some(AmdMode::GreetingEnd))
        );
        assert_eq!(
            amd(serde_json::json!({"advanced_machine_detection": {"mode": "detect"}})),
            Ok(Some(AmdMode::Detect))
        );
        for bad in [
            serde_json::json!({"machine_detection": "maybe"}),
            serde_json::json!({"advanced_machine_detection": "detect"}),
            serde_json::json!({"advanced_machine_detection": {"mode": "beep"}}),
            serde_json::json!({"advanced_machine_detection": {"beep_timeout": 10}}),
            serde_json::json!({"advanced_machine_detection": {"behavior": "stop"}}),
        ] {
            assert!(amd(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn destinations() {
        let next = destination(
            &serde_json::json!({"action": "transfer", "destination": {"type": "ncco", "ncco": [{"action": "talk", "text": "hi"}]}}),
        );
        assert!(matches!(next, Ok(Next::Document(d)) if d.contains("talk")));
        let next = destination(
            &serde_json::json!({"destination": {"type": "ncco", "url": ["https://a.example/n?x=1"]}}),
        );
        assert!(
            matches!(next, Ok(Next::Url(u, m)) if u.as_str() == "https://a.example/n?x=1" && m == "GET")
        );
        for bad in [
            serde_json::json!({"action": "transfer"}),
            serde_json::json!({"destination": {"type": "url", "url": ["https://a.example"]}}),
            serde_json::json!({"destination": {"type": "ncco"}}),
            serde_json::json!({"destination": {"type": "ncco", "ncco": {"action": "talk"}}}),
            serde_json::json!({"destination": {"type": "ncco", "url": ["nope"]}}),
        ] {
            assert!(destination(&bad).is_err(), "{bad}");
        }
    }
}
