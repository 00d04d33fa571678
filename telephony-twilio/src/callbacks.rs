//! Every callback that reaches the status URL, told apart and normalized ([`CallNotice`]):
//! a call's status, the async answering-machine verdict, a finished recording, and the
//! callbacks of a transfer's legs (their URL's query carries a [`TransferRef`], which
//! `X-Twilio-Signature` covers: Twilio signs the full URL, query included).
//!
//! How they are told apart, from what each carries (Twilio's voice webhook pages):
//! - a [`TransferRef`] in the URL and a `DialCallStatus`: a cold transfer's `<Dial action>`;
//! - a [`TransferRef`] in the URL and a `CallStatus`: a transfer leg's progress;
//! - `RecordingStatus` (and no `CallStatus`): a recording status callback;
//! - `AnsweredBy` and no `CallStatus`: the `AsyncAmdStatusCallback`;
//! - anything else: a call status callback ([`parse_status_callback`]).

use std::time::Duration;

use telephony_core::{
    CallEvent, CallId, CallNotice, CallStatus, DecodeError, Error, MachineResult, RecordingFormat,
    RecordingId, RecordingReady, TransferEvent, TransferFailure, TransferNotice, TransferRef, Url,
    WebhookRequest,
};

use crate::KIND;
use crate::resources::{parse_rfc2822, parse_seconds};
use crate::status::{answered_by, parse_status_callback};

/// The query pair that marks the callbacks of a cold transfer's `<Dial>`: its parties are
/// the caller's own child legs, bridged by Twilio, where a warm transfer's target is a call of
/// its own that a later step bridges.
pub(crate) const DIAL_MARK: (&str, &str) = ("telephony_twilio", "dial");

/// Any callback at the status URL.
pub fn parse_callback(request: &WebhookRequest) -> Result<CallNotice, Error> {
    if let Some(notice) = parse_transfer_callback(request)? {
        return Ok(CallNotice::Transfer(Box::new(notice)));
    }
    let p = request.params();
    let status = p.get_nonempty("CallStatus");
    if p.get_nonempty("RecordingStatus").is_some()
        || (status.is_none() && p.get_nonempty("RecordingSid").is_some())
    {
        return parse_recording_callback(request).map(|r| CallNotice::Recording(Box::new(r)));
    }
    if status.is_none() && p.get_nonempty("AnsweredBy").is_some() {
        return parse_machine_callback(request).map(CallNotice::Machine);
    }
    parse_status_callback(request).map(|e| CallNotice::Status(Box::new(e)))
}

/// The `AsyncAmdStatusCallback`: `CallSid`, `AccountSid`, `AnsweredBy` and
/// `MachineDetectionDuration` (milliseconds), mapped through [`answered_by`], the raw value
/// kept.
pub fn parse_machine_callback(request: &WebhookRequest) -> Result<MachineResult, Error> {
    let what = "answering machine detection callback";
    let p = request.params();
    let raw = p.required(KIND, "AnsweredBy", what)?;
    let mut result = MachineResult::new(p.call_id(KIND, "CallSid", what)?, answered_by(raw), raw);
    result.detection_time = p
        .get("MachineDetectionDuration")
        .and_then(|ms| ms.trim().parse::<u64>().ok())
        .map(Duration::from_millis);
    Ok(result)
}

/// A recording status callback: `RecordingSid`, `RecordingUrl`, `RecordingStatus`,
/// `RecordingDuration` (seconds), `RecordingChannels`, `RecordingStartTime`, `CallSid`.
///
/// The URL is `RecordingUrl` with `.wav`: Twilio serves the recording as WAV there (and
/// without an extension), and as MP3 with `.mp3` (which fails for encrypted recordings,
/// error 16109); so the format is [`RecordingFormat::Wav`], what
/// [`download_recording`](telephony_core::TelephonyProvider::download_recording) fetches.
/// A `RecordingUrl` that already ends in `.wav` or `.mp3` is kept, its format said.
pub fn parse_recording_callback(request: &WebhookRequest) -> Result<RecordingReady, Error> {
    let what = "recording status callback";
    let p = request.params();
    let decode = |why: String| Error::Decode(DecodeError::new(KIND, what, why));
    let Some(raw_url) = p.get_nonempty("RecordingUrl") else {
        return Err(decode(format!(
            "no RecordingUrl parameter (RecordingStatus {:?}, ErrorCode {:?})",
            p.get("RecordingStatus").unwrap_or(""),
            p.get("ErrorCode").unwrap_or("")
        )));
    };
    let mut url =
        Url::parse(raw_url).map_err(|e| decode(format!("RecordingUrl is not a URL: {e}")))?;
    let format = match url.path().rsplit_once('.').map(|(_, ext)| ext) {
        Some(ext) if RecordingFormat::from_name(ext).is_some() => RecordingFormat::from_name(ext),
        _ => {
            let path = format!("{}.wav", url.path());
            url.set_path(&path);
            Some(RecordingFormat::Wav)
        }
    };
    let mut ready = RecordingReady::new(url);
    ready.recording_id = Some(
        RecordingId::new(p.required(KIND, "RecordingSid", what)?)
            .map_err(|e| decode(e.to_string()))?,
    );
    ready.call_id = p.get_nonempty("CallSid").and_then(|s| CallId::new(s).ok());
    ready.duration = p.get("RecordingDuration").and_then(parse_seconds);
    ready.channels = p
        .get("RecordingChannels")
        .and_then(|c| c.trim().parse::<u8>().ok());
    ready.format = format;
    ready.started_at = p.get("RecordingStartTime").and_then(parse_rfc2822);
    ready.raw_status = p.get_nonempty("RecordingStatus").map(str::to_owned);
    Ok(ready)
}

/// A transfer leg's callback, where the URL's query carries a [`TransferRef`]; `None` for
/// any other callback (or a status no transfer step names).
///
/// - A cold transfer's `<Dial action>` (`DialCallStatus`): `completed`/`answered` →
///   [`TargetEnded`](TransferEvent::TargetEnded), `busy` → failed (busy), `no-answer` →
///   failed (no answer), `failed`/`canceled` and anything else → failed, the raw value kept.
/// - A target leg's progress (`CallStatus`): `initiated` → started, `ringing` → ringing,
///   `in-progress` (the `answered` event) → answered, `completed` → target ended, and
///   `busy`, `no-answer`, `failed`, `canceled` (each a `completed` event) → failed.
pub fn parse_transfer_callback(request: &WebhookRequest) -> Result<Option<TransferNotice>, Error> {
    let Ok(url) = request.url.to_url() else {
        return Ok(None);
    };
    let Some(transfer) = TransferRef::from_query(&url) else {
        return Ok(None);
    };
    let p = request.params();
    if let Some(raw) = p.get_nonempty("DialCallStatus") {
        let event = match raw {
            "completed" | "answered" => TransferEvent::TargetEnded,
            other => failed(other),
        };
        let leg = p
            .get_nonempty("DialCallSid")
            .and_then(|s| CallId::new(s).ok());
        let notice = TransferNotice::new(transfer, event)
            .leg_call(leg)
            .status(parse_status_callback(request).ok());
        return Ok(Some(notice));
    }
    if p.get_nonempty("CallStatus").is_none() {
        return Ok(None);
    }
    let mut status: CallEvent = parse_status_callback(request)?;
    let event = match &status.status {
        CallStatus::Initiated => TransferEvent::TransferStarted,
        CallStatus::Ringing => TransferEvent::TransferRinging,
        CallStatus::InProgress => TransferEvent::TransferAnswered,
        CallStatus::Completed => TransferEvent::TargetEnded,
        CallStatus::Busy | CallStatus::NoAnswer | CallStatus::Failed | CallStatus::Canceled => {
            failed(&status.raw_status)
        }
        _ => return Ok(None),
    };
    let dial_leg = url
        .query_pairs()
        .any(|(k, v)| k == DIAL_MARK.0 && v == DIAL_MARK.1);
    if dial_leg && status.parent_call_id.is_none() {
        // A party of the caller's own <Dial> (the signed URL says so): its parent is the
        // caller, whether or not Twilio repeated `ParentCallSid`.
        status.parent_call_id = Some(transfer.caller.clone());
    }
    let leg = Some(status.call_id.clone());
    Ok(Some(
        TransferNotice::new(transfer, event)
            .leg_call(leg)
            .status(Some(status)),
    ))
}

/// A failure to reach the target, by Twilio's word for it.
fn failed(raw: &str) -> TransferEvent {
    TransferEvent::TransferFailed {
        reason: match raw {
            "busy" => TransferFailure::Busy,
            "no-answer" => TransferFailure::NoAnswer,
            _ => TransferFailure::Failed,
        },
        raw: raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A target of wide characters (where a parser might cut one) is read or dropped, never a
    /// panic, and the rest of the reference stays.
    #[test]
    fn a_target_of_wide_characters_is_not_a_panic() {
        for target in ["/ಿמ./(", "sip:é@b", "sipsé:a@b", "+1415"] {
            let mut url: Url = "https://a.example/s".parse().unwrap();
            url.query_pairs_mut()
                .append_pair("telephony_transfer", "xfer-1")
                .append_pair("telephony_caller", "CA1")
                .append_pair("telephony_leg", "target")
                .append_pair("telephony_target", target);
            let r = TransferRef::from_query(&url).expect("the rest of the reference");
            assert_eq!(r.id, "xfer-1", "{target}");
        }
    }
}
