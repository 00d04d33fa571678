//! Twilio's call-control REST: a call's recordings (start, pause, resume, stop), the Recording
//! resource (its JSON, its WAV media behind Basic auth, delete), and what placing and
//! updating a call ask of the engine (machine detection, a recording, new TwiML).

use axum::body::Body;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use telephony::Url;

use super::rest::{error, form_one};
use super::{ACCOUNT_SID, Shared, Twilio, rfc2822};
use crate::engine::{AmdMode, Next, Operation};
use crate::markup::RecordRequest;

/// What a create's form asks for beyond the call: machine detection (and where its result
/// goes), a recording.
pub(super) fn create_options(
    form: &[(String, String)],
) -> (Option<AmdMode>, Option<Url>, Option<RecordRequest>) {
    let amd = match form_one(form, "MachineDetection") {
        Some("Enable") => Some(AmdMode::Detect),
        Some("DetectMessageEnd") => Some(AmdMode::GreetingEnd),
        _ => None,
    };
    let amd_url = form_one(form, "AsyncAmdStatusCallback").and_then(|u| Url::parse(u).ok());
    let record = (form_one(form, "Record") == Some("true")).then(|| RecordRequest {
        channels: if form_one(form, "RecordingChannels") == Some("dual") {
            2
        } else {
            1
        },
        callback: form_one(form, "RecordingStatusCallback").and_then(|u| Url::parse(u).ok()),
        format: "wav".into(),
    });
    (amd, amd_url, record)
}

/// An update's new instructions: `Twiml`, or a `Url` to fetch them from.
pub(super) fn redirect(form: &[(String, String)]) -> Option<Next> {
    if let Some(twiml) = form_one(form, "Twiml") {
        return Some(Next::Document(twiml.to_owned()));
    }
    let url = form_one(form, "Url").and_then(|u| Url::parse(u).ok())?;
    Some(Next::Url(
        url,
        form_one(form, "Method").unwrap_or("POST").to_owned(),
    ))
}

impl Twilio {
    fn recording_json(&self, id: &str) -> Option<serde_json::Value> {
        let r = self.carrier.recording(id)?;
        let status = match (&r.wav, r.stopped) {
            (Some(_), _) => "completed",
            (None, Some(_)) => "processing",
            (None, None) => "in-progress",
        };
        Some(serde_json::json!({
            "sid": r.id,
            "account_sid": ACCOUNT_SID,
            "call_sid": r.call_id,
            "status": status,
            "channels": r.channels,
            "duration": r.duration.map(|d| d.as_secs().to_string()),
            "start_time": rfc2822(r.started_at),
            "source": "StartCallRecordingAPI",
            "uri": format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{}.json", r.id),
        }))
    }
}

fn not_found(what: &str) -> Response {
    error(
        404,
        20404,
        &format!("The requested resource {what} was not found"),
    )
}

/// `POST …/Calls/{CA}/Recordings.json`: 201 with the new Recording.
pub(super) async fn start_recording(
    State(t): State<Shared>,
    Path((sid, call)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = t.admit(&sid, &headers, Operation::UpdateCall).await {
        return r;
    }
    let request = RecordRequest {
        channels: if form_one(&form, "RecordingChannels") == Some("dual") {
            2
        } else {
            1
        },
        callback: form_one(&form, "RecordingStatusCallback").and_then(|u| Url::parse(u).ok()),
        format: "wav".into(),
    };
    match t.carrier.start_recording(&call, &request) {
        Some(id) => (
            StatusCode::CREATED,
            axum::Json(t.recording_json(&id).unwrap_or_default()),
        )
            .into_response(),
        None if t.call_json(&call).is_some() => error(
            400,
            21220,
            "Requested resource is not eligible for recording: the call is not in progress",
        ),
        None => not_found(&format!("/Calls/{call}")),
    }
}

/// `POST …/Calls/{CA}/Recordings/{RE|Twilio.CURRENT}.json` with `Status`.
pub(super) async fn update_recording(
    State(t): State<Shared>,
    Path((sid, call, recording)): Path<(String, String, String)>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = t.admit(&sid, &headers, Operation::UpdateCall).await {
        return r;
    }
    let recording = recording.trim_end_matches(".json");
    let which = (recording != "Twilio.CURRENT").then_some(recording);
    match form_one(&form, "Status") {
        Some("stopped") => {
            if !t.carrier.stop_recording(&call, which) {
                return not_found(&format!("/Calls/{call}/Recordings/{recording}"));
            }
            let id = which.map(str::to_owned).or_else(|| {
                let order = t.carrier.lock().recording_order.clone();
                order
                    .into_iter()
                    .rev()
                    .find(|id| t.carrier.recording(id).is_some_and(|r| r.call_id == call))
            });
            axum::Json(id.and_then(|id| t.recording_json(&id)).unwrap_or_default()).into_response()
        }
        Some("paused" | "in-progress") => match which.and_then(|id| t.recording_json(id)) {
            Some(body) => axum::Json(body).into_response(),
            None => not_found(&format!("/Calls/{call}/Recordings/{recording}")),
        },
        _ => error(400, 21201, "Status must be paused, in-progress or stopped"),
    }
}

/// `GET …/Recordings/{RE}.json` (the resource) or `{RE}`, `{RE}.wav` (the media, WAV).
pub(super) async fn fetch_recording(
    State(t): State<Shared>,
    Path((sid, recording)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = t.admit(&sid, &headers, Operation::FetchCall).await {
        return r;
    }
    if let Some(id) = recording.strip_suffix(".json") {
        return match t.recording_json(id) {
            Some(body) => axum::Json(body).into_response(),
            None => not_found(&format!("/Recordings/{id}.json")),
        };
    }
    let id = recording.trim_end_matches(".wav");
    if recording.ends_with(".mp3") {
        return error(404, 20404, "the emulator keeps recordings as WAV only");
    }
    match t.carrier.recording(id).and_then(|r| r.wav) {
        Some(wav) => (
            [(header::CONTENT_TYPE, "audio/x-wav")],
            Body::from(wav.as_ref().clone()),
        )
            .into_response(),
        None => not_found(&format!("/Recordings/{id}")),
    }
}

/// `DELETE …/Recordings/{RE}.json`: 204.
pub(super) async fn delete_recording(
    State(t): State<Shared>,
    Path((sid, recording)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = t.admit(&sid, &headers, Operation::UpdateCall).await {
        return r;
    }
    let id = recording.trim_end_matches(".json");
    if t.carrier.delete_recording(id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found(&format!("/Recordings/{id}.json"))
    }
}
