//! Recording on Telnyx (telnyx-python 4.189 `types/call_dial_params.py`,
//! `types/calls/action_answer_params.py`, `action_start_recording_params.py`,
//! `action_stop_recording_params.py`, `types/call_recording_saved.py`,
//! `types/recording_response_data.py`):
//!
//! - from the answer: `record: "record-from-answer"` with `record_channels` (`single`/`dual`),
//!   `record_format` (`wav`/`mp3`) and `record_max_length` (0–43 200 s) on `dial` and
//!   `answer` ([`RecordFields`]); where the recording is announced elsewhere than the call's
//!   webhook, `webhook_urls` sends `call.recording.saved` and `call.recording.error` there;
//! - mid-call: `actions/record_start` (`channels` and `format` required, `max_length`
//!   0–14 400 s, no beep; announced at the call's webhook URL, as it takes none of its own)
//!   and `actions/record_stop` (one recording, or all);
//! - `call.recording.saved` names the files by pre-signed links valid 10 minutes and no
//!   recording id ([`ready`]); a recording is fetched later through `GET /recordings/{id}`,
//!   whose `download_urls` are pre-signed too, so the file is fetched without the API key and
//!   only from Telnyx's or Amazon S3's hosts ([`allowed_host`]).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use telephony_core::{
    CallId, DecodeError, Error, RecordingChannels, RecordingFormat, RecordingId, RecordingOptions,
    RecordingReady, Url,
};
use time::PrimitiveDateTime;
use time::macros::format_description;

use crate::KIND;
use crate::events::{self, EventData};

/// How long `call.recording.saved`'s links work (the SDK's model: "valid for 10 minutes").
pub const LINK_LIFETIME: Duration = Duration::from_secs(600);

/// The longest recording from the answer, in seconds (`record_max_length`).
const MAX_FROM_ANSWER: u64 = 43_200;
/// The longest recording started mid-call, in seconds (`max_length`).
const MAX_MID_CALL: u64 = 14_400;

/// The recording fields of `dial` and `answer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RecordFields {
    /// `record-from-answer`.
    pub record: &'static str,
    /// `single` or `dual` (Telnyx's default is not stated in the SDK, so it is always sent).
    pub record_channels: &'static str,
    /// `wav` or `mp3`, where asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_format: Option<&'static str>,
    /// The longest recording, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_max_length: Option<u64>,
    /// Where the recording's events go, when not to the call's webhook URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_urls: Option<BTreeMap<&'static str, Vec<String>>>,
    /// `POST`, with `webhook_urls`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_urls_method: Option<&'static str>,
}

impl RecordFields {
    /// The fields for `options`.
    ///
    /// # Errors
    ///
    /// A format Telnyx does not record (Ogg), or a length over 43 200 s.
    pub fn new(options: &RecordingOptions) -> Result<RecordFields, Error> {
        let webhook_urls = options.callback.as_ref().map(|url| {
            ["call.recording.saved", "call.recording.error"]
                .into_iter()
                .map(|event| (event, vec![url.to_string()]))
                .collect::<BTreeMap<_, _>>()
        });
        Ok(RecordFields {
            record: "record-from-answer",
            record_channels: channels(options.channels)?,
            record_format: options.format.map(format).transpose()?,
            record_max_length: max_length(options, MAX_FROM_ANSWER)?,
            webhook_urls_method: webhook_urls.as_ref().map(|_| "POST"),
            webhook_urls,
        })
    }
}

fn channels(channels: RecordingChannels) -> Result<&'static str, Error> {
    match channels {
        RecordingChannels::Mono => Ok("single"),
        RecordingChannels::Dual => Ok("dual"),
        other => Err(Error::invalid_request(format!(
            "Telnyx records single or dual channel, not {other:?}"
        ))),
    }
}

fn format(format: RecordingFormat) -> Result<&'static str, Error> {
    match format {
        RecordingFormat::Wav => Ok("wav"),
        RecordingFormat::Mp3 => Ok("mp3"),
        other => Err(Error::invalid_request(format!(
            "Telnyx records WAV or MP3, not {}",
            other.extension()
        ))),
    }
}

fn max_length(options: &RecordingOptions, most: u64) -> Result<Option<u64>, Error> {
    options
        .max_length
        .map(|d| d.as_secs())
        .map(|s| {
            if s <= most {
                Ok(s)
            } else {
                Err(Error::invalid_request(format!(
                    "a recording of {s} s: Telnyx records at most {most} s here"
                )))
            }
        })
        .transpose()
}

/// The body of `actions/record_start`: the channels, the format (WAV unless asked), the
/// length, no beep, and a fresh `command_id` (a second recording later is a second command).
///
/// `record_start` takes no webhook URL: Telnyx announces the recording at the call's own
/// webhook URL (the status callback it was placed or answered with, else the application's),
/// whatever [`RecordingOptions::callback`] says; only a recording from the answer is announced
/// there ([`RecordFields`]).
///
/// # Errors
///
/// A format Telnyx does not record, a length over 14 400 s.
pub fn record_start(options: &RecordingOptions) -> Result<serde_json::Value, Error> {
    let mut body = serde_json::json!({
        "channels": channels(options.channels)?,
        "format": options.format.map(format).transpose()?.unwrap_or("wav"),
        "play_beep": false,
        "command_id": format!("record_start-{}", uuid::Uuid::new_v4().simple()),
    });
    if let Some(s) = max_length(options, MAX_MID_CALL)? {
        body["max_length"] = s.into();
    }
    Ok(body)
}

/// The body of `actions/record_stop`: `recording`, or every recording of the call.
pub fn record_stop(recording: Option<&RecordingId>) -> serde_json::Value {
    let mut body = serde_json::json!({
        "command_id": format!("record_stop-{}", uuid::Uuid::new_v4().simple()),
    });
    if let Some(id) = recording {
        body["recording_id"] = id.as_str().into();
    }
    body
}

/// A `call.recording.saved` event as a [`RecordingReady`]: the WAV link (else the MP3), when
/// it expires (from the link's `X-Amz-Date` and `X-Amz-Expires`, else 10 minutes after the
/// event), the channels, when it started and how long it is (from `recording_started_at` and
/// `recording_ended_at`). Without `recording_urls`, the permanent `public_recording_urls`.
///
/// # Errors
///
/// An event that links no file, or a link that is not a URL.
pub fn ready(data: &EventData) -> Result<RecordingReady, Error> {
    let payload = &data.payload;
    let decode = |detail: String| Error::Decode(DecodeError::new(KIND, "recording saved", detail));
    fn pick(urls: &events::RecordingUrls) -> Option<(&str, RecordingFormat)> {
        urls.wav
            .as_deref()
            .map(|u| (u, RecordingFormat::Wav))
            .or_else(|| urls.mp3.as_deref().map(|u| (u, RecordingFormat::Mp3)))
    }
    let (link, format, signed) = match (
        payload.recording_urls.as_ref().and_then(pick),
        payload.public_recording_urls.as_ref().and_then(pick),
    ) {
        (Some((u, f)), _) => (u, f, true),
        (None, Some((u, f))) => (u, f, false),
        (None, None) => return Err(decode("the event links no recording".to_owned())),
    };
    let url = Url::parse(link).map_err(|e| decode(format!("recording link: {e}")))?;
    let mut ready = RecordingReady::new(url);
    ready.recording_id = payload
        .recording_id
        .clone()
        .and_then(|id| RecordingId::new(id).ok());
    ready.call_id = payload
        .call_control_id
        .clone()
        .and_then(|id| CallId::new(id).ok());
    if signed {
        ready.url_expires_at = signed_until(&ready.url).or_else(|| {
            let from = data
                .occurred_at
                .as_deref()
                .and_then(events::timestamp)
                .unwrap_or_else(SystemTime::now);
            from.checked_add(LINK_LIFETIME)
        });
    }
    ready.format = Some(format);
    ready.channels = match payload.channels.as_deref() {
        Some("single") => Some(1),
        Some("dual") => Some(2),
        _ => None,
    };
    ready.started_at = payload
        .recording_started_at
        .as_deref()
        .and_then(events::timestamp);
    let ended = payload
        .recording_ended_at
        .as_deref()
        .and_then(events::timestamp);
    ready.duration = match (ready.started_at, ended) {
        (Some(start), Some(end)) => end.duration_since(start).ok(),
        _ => None,
    };
    Ok(ready)
}

/// When a pre-signed S3 link stops working: its `X-Amz-Date` (`20261203T120000Z`) plus its
/// `X-Amz-Expires` seconds.
pub fn signed_until(url: &Url) -> Option<SystemTime> {
    let (mut date, mut expires) = (None, None);
    for (k, v) in url.query_pairs() {
        if k.eq_ignore_ascii_case("X-Amz-Date") {
            date = Some(v.into_owned());
        } else if k.eq_ignore_ascii_case("X-Amz-Expires") {
            expires = v.parse::<u64>().ok();
        }
    }
    let date = date?;
    let signed = PrimitiveDateTime::parse(
        date.trim(),
        format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .ok()?
    .assume_utc();
    SystemTime::from(signed).checked_add(Duration::from_secs(expires?))
}

/// Whether a recording's link may be followed: an `https` link to Telnyx (`telnyx.com` and
/// its subdomains) or Amazon S3 (`*.amazonaws.com`), where Telnyx keeps recordings, or any
/// link to the configured API base's own scheme, host and port (a proxy, a test's fake).
pub fn allowed_host(url: &Url, base: &Url) -> bool {
    let same_origin = url.scheme() == base.scheme()
        && url.host_str().is_some()
        && url.host_str() == base.host_str()
        && url.port_or_known_default() == base.port_or_known_default();
    if same_origin {
        return true;
    }
    let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
        return false;
    };
    url.scheme() == "https"
        && (host == "telnyx.com"
            || host.ends_with(".telnyx.com")
            || host.ends_with(".amazonaws.com"))
}

/// The link of `recording`'s file: WAV, else MP3, followed only where [`allowed_host`] says.
///
/// # Errors
///
/// A recording with no file yet, a link that is not a URL, or one to another host.
pub fn download_link(
    recording: &crate::resources::RecordingResource,
    base: &Url,
) -> Result<Url, Error> {
    let decode = |detail: String| Error::Decode(DecodeError::new(KIND, "recording", detail));
    let link = recording
        .download_urls
        .as_ref()
        .and_then(|u| u.wav.as_deref().or(u.mp3.as_deref()))
        .ok_or_else(|| decode("the recording has no download_urls".to_owned()))?;
    let url = Url::parse(link).map_err(|e| decode(format!("download link: {e}")))?;
    if !allowed_host(&url, base) {
        return Err(decode(format!(
            "the download link points at {}, neither Telnyx nor Amazon S3: not followed",
            url.host_str().unwrap_or("no host")
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_telnyx_s3_or_the_base() {
        let base = Url::parse("https://api.telnyx.com/v2/").unwrap();
        let fake = Url::parse("http://127.0.0.1:4010/v2/").unwrap();
        for ok in [
            "https://s3.amazonaws.com/telephony-recorder-prod/a.wav?X-Amz-Expires=600",
            "https://telephony-recorder-prod.s3.us-east-1.amazonaws.com/a.mp3",
            "https://api.telnyx.com/v2/recordings/x.wav",
        ] {
            assert!(allowed_host(&Url::parse(ok).unwrap(), &base), "{ok}");
        }
        for bad in [
            "http://s3.amazonaws.com/a.wav",
            "https://amazonaws.com.evil.example/a.wav",
            "https://evil.example/telnyx.com/a.wav",
            "https://nottelnyx.com/a.wav",
            "http://127.0.0.1:4010/a.wav",
        ] {
            assert!(!allowed_host(&Url::parse(bad).unwrap(), &base), "{bad}");
        }
        assert!(allowed_host(
            &Url::parse("http://127.0.0.1:4010/files/a.wav").unwrap(),
            &fake
        ));
        assert!(!allowed_host(
            &Url::parse("http://127.0.0.1:4011/files/a.wav").unwrap(),
            &fake
        ));
    }

    #[test]
    fn a_presigned_link_says_when_it_expires() {
        let url = Url::parse("https://s3.amazonaws.com/b/a.wav?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261203T120000Z&X-Amz-Expires=600&X-Amz-Signature=abc").unwrap();
        let at = signed_until(&url).unwrap();
        assert_eq!(at, events::timestamp("2026-12-03T12:10:00Z").unwrap(),);
        assert_eq!(
            signed_until(&Url::parse("https://s3.amazonaws.com/b/a.wav").unwrap()),
            None
        );
    }

    #[test]
    fn options_telnyx_cannot_record_are_refused() {
        let ogg = RecordingOptions::new().format(RecordingFormat::Ogg);
        assert!(RecordFields::new(&ogg).is_err());
        assert!(record_start(&ogg).is_err());
        let long = RecordingOptions::new().max_length(Duration::from_secs(14_401));
        assert!(RecordFields::new(&long).is_ok());
        assert!(record_start(&long).is_err());
        let elsewhere =
            RecordingOptions::new().callback(Url::parse("https://a.example/rec").unwrap());
        assert!(record_start(&elsewhere).is_ok());
        let fields = RecordFields::new(&elsewhere).unwrap();
        assert_eq!(
            serde_json::to_value(&fields).unwrap()["webhook_urls"]["call.recording.saved"][0],
            "https://a.example/rec"
        );
    }
}
