//! Telnyx's recordings (telnyx-python 4.189 `types/recording_response_data.py`): `GET` and
//! `DELETE /recordings/{id}`, and each recording's file at a link signed like S3's
//! (`X-Amz-Date`, `X-Amz-Expires` 600, `X-Amz-Signature`), served without the API key on the
//! fake's own host (as Telnyx's are on Amazon's), refused once expired or altered, gone once
//! the recording is deleted.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use telephony::Url;
use telephony::telnyx::signature::SigningKey;
use time::macros::format_description;

use super::rest::error;
use super::webhooks::leg_id;
use super::{Shared, Telnyx, rfc3339};
use crate::engine::Operation;

/// The bucket recordings' files are served from.
pub(super) const BUCKET: &str = "telephony-recorder-emulated";

/// How long a recording's link works, in seconds ("valid for 10 minutes").
const LINK_LIFETIME: u64 = 600;

/// `20261203T120000Z`, as `X-Amz-Date` writes a time.
fn amz_date(t: SystemTime) -> String {
    let t: time::OffsetDateTime = t.into();
    t.format(format_description!(
        "[year][month][day]T[hour][minute][second]Z"
    ))
    .unwrap_or_default()
}

/// The link's signature: the emulator's key over the recording, the time and the lifetime
/// (64 hex digits, as S3's are).
fn link_signature(key: &SigningKey, id: &str, date: &str, expires: &str) -> String {
    let signed = key.sign(date, format!("{BUCKET}/{id}\n{expires}").as_bytes());
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(signed)
        .unwrap_or_default();
    bytes.iter().take(32).map(|b| format!("{b:02x}")).collect()
}

/// The pre-signed link of recording `id`'s file, signed at `now`.
pub(super) fn presigned(key: &SigningKey, base: &Url, id: &str, now: SystemTime) -> Url {
    let date = amz_date(now);
    let expires = LINK_LIFETIME.to_string();
    let mut url = base
        .join(&format!("{BUCKET}/{id}.wav"))
        .unwrap_or_else(|_| base.clone());
    url.query_pairs_mut()
        .append_pair("X-Amz-Algorithm", "AWS4-HMAC-SHA256")
        .append_pair(
            "X-Amz-Credential",
            &format!(
                "EMULATEDKEY/{}/us-east-1/s3/aws4_request",
                date.get(..8).unwrap_or_default()
            ),
        )
        .append_pair("X-Amz-Date", &date)
        .append_pair("X-Amz-Expires", &expires)
        .append_pair("X-Amz-SignedHeaders", "host")
        .append_pair("X-Amz-Signature", &link_signature(key, id, &date, &expires));
    url
}

/// S3's error document.
fn s3_error(status: u16, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    let mut r = crate::engine::fault_response(status, None, body);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/xml"),
    );
    r
}

/// `GET /{bucket}/{id}.wav?X-Amz-…`: the file, without the API key, while the link's
/// signature holds and it has not expired.
pub(super) async fn recording_file(
    State(t): State<Shared>,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(id) = file.strip_suffix(".wav") else {
        return s3_error(404, "NoSuchKey", "The specified key does not exist.");
    };
    let (Some(date), Some(expires), Some(signature)) = (
        q.get("X-Amz-Date"),
        q.get("X-Amz-Expires"),
        q.get("X-Amz-Signature"),
    ) else {
        return s3_error(403, "AccessDenied", "Access Denied");
    };
    if link_signature(&t.events.key, id, date, expires) != *signature {
        return s3_error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        );
    }
    let signed = time::PrimitiveDateTime::parse(
        date,
        format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .map(|d| SystemTime::from(d.assume_utc()));
    let until = signed
        .ok()
        .zip(expires.parse::<u64>().ok())
        .and_then(|(d, e)| d.checked_add(Duration::from_secs(e)));
    if until.is_none_or(|u| u < SystemTime::now()) {
        return s3_error(403, "AccessDenied", "Request has expired");
    }
    match t.carrier.recording(id).and_then(|r| r.wav) {
        Some(wav) => (
            [(header::CONTENT_TYPE, "audio/wav")],
            Body::from(wav.as_ref().clone()),
        )
            .into_response(),
        None => s3_error(404, "NoSuchKey", "The specified key does not exist."),
    }
}

impl Telnyx {
    /// A finished recording's resource, with a fresh link to its file.
    fn recording_json(&self, id: &str) -> Option<serde_json::Value> {
        let r = self.carrier.recording(id)?;
        r.wav.as_ref()?;
        let session = self
            .carrier
            .info(&r.call_id)
            .map(|c| c.secondary_id)
            .unwrap_or_default();
        let duration = r.duration.unwrap_or_default();
        let ended = r.started_at.checked_add(duration).unwrap_or(r.started_at);
        let link = presigned(
            &self.events.key,
            &self.carrier.base_url,
            &r.id,
            SystemTime::now(),
        );
        Some(serde_json::json!({
            "record_type": "recording",
            "id": r.id,
            "call_control_id": r.call_id,
            "call_leg_id": leg_id(&r.call_id),
            "call_session_id": session,
            "channels": if r.channels == 2 { "dual" } else { "single" },
            "source": "call",
            "status": "completed",
            "duration_millis": duration.as_millis() as u64,
            "recording_started_at": rfc3339(r.started_at),
            "recording_ended_at": rfc3339(ended),
            "created_at": rfc3339(ended),
            "updated_at": rfc3339(ended),
            "download_urls": {"wav": link.as_str()},
        }))
    }
}

fn no_recording() -> Response {
    error(404, "10005", "Resource not found", "Recording not found.")
}

/// `GET /recordings/{id}`: a saved recording (one still being made is not listed yet).
pub(super) async fn get_recording(
    State(t): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = t.authorized(&headers) {
        return r;
    }
    if let Err(r) = t.fault(Operation::FetchCall).await {
        return r;
    }
    match t.recording_json(&id) {
        Some(r) => axum::Json(serde_json::json!({ "data": r })).into_response(),
        None => no_recording(),
    }
}

/// `DELETE /recordings/{id}`: the deleted resource; its file is gone.
pub(super) async fn delete_recording(
    State(t): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = t.authorized(&headers) {
        return r;
    }
    if let Err(r) = t.fault(Operation::UpdateCall).await {
        return r;
    }
    let Some(mut body) = t.recording_json(&id) else {
        return no_recording();
    };
    if !t.carrier.delete_recording(&id) {
        return no_recording();
    }
    body["status"] = "deleted".into();
    if let Some(o) = body.as_object_mut() {
        o.remove("download_urls");
    }
    axum::Json(serde_json::json!({ "data": body })).into_response()
}
