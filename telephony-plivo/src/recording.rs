//! Recording on Plivo: from the answer (`<Record recordSession>` before `<Stream>`), or on a
//! live call through the Record API; the recordings' files, fetched and deleted by id.
//!
//! Plivo's Call API has no record flag, so a call is not recorded from its placing
//! ([`OutboundCall::record`](telephony_core::OutboundCall) is refused): record it from the
//! answer document ([`StreamSpec::record`](telephony_core::StreamSpec)) or with
//! [`start_recording`](telephony_core::TelephonyProvider::start_recording) once answered.

use std::time::Duration;

use telephony_core::{
    ApiError, CallId, DecodeError, Error, RecordingChannels, RecordingFormat, RecordingId,
    RecordingOptions, RecordingStarted, Url,
};
use tokio::io::AsyncWrite;

use crate::KIND;
use crate::client::{PlivoClient, StartRecording};
use crate::xml::{PlivoXmlError, Record, RecordChannels, RecordFormat};

/// Plivo's format name for `format`, or why it cannot record in it.
fn format(format: Option<RecordingFormat>) -> Result<Option<RecordFormat>, &'static str> {
    match format {
        None => Ok(None),
        Some(RecordingFormat::Mp3) => Ok(Some(RecordFormat::Mp3)),
        Some(RecordingFormat::Wav) => Ok(Some(RecordFormat::Wav)),
        Some(_) => Err("recording in this format (Plivo records mp3 or wav)"),
    }
}

fn channels(channels: RecordingChannels) -> Result<RecordChannels, &'static str> {
    match channels {
        RecordingChannels::Mono => Ok(RecordChannels::Mono),
        RecordingChannels::Dual => Ok(RecordChannels::Stereo),
        _ => Err("recording with these channels"),
    }
}

/// The longest recording asked for: the options' length, else a call's default limit (Plivo's
/// own default for a recording is 60 s).
fn limit(options: &RecordingOptions) -> Duration {
    options
        .max_length
        .unwrap_or(Record::DEFAULT_MAX_LENGTH)
        .max(Duration::from_secs(1))
}

/// The `<Record>` an answer document starts with, for `options`. Its callback is
/// [`RecordingOptions::callback`], which a recording from the answer needs: the answer
/// document knows no status URL of the call's to announce it at.
pub(crate) fn record_element(options: &RecordingOptions) -> Result<Record, PlivoXmlError> {
    let refuse = |why: &str| PlivoXmlError::Recording(why.to_owned());
    let callback = options.callback.as_ref().ok_or_else(|| {
        refuse("a recording from the answer needs RecordingOptions::callback, where Plivo announces it (the answer document knows no other)")
    })?;
    let mut record = Record::session()
        .channels(channels(options.channels).map_err(refuse)?)
        .max_length(limit(options))
        .callback(callback.as_str());
    if let Some(f) = format(options.format).map_err(refuse)? {
        record = record.format(f);
    }
    Ok(record)
}

fn unsupported(operation: &'static str) -> Error {
    Error::Unsupported {
        provider: KIND,
        operation,
    }
}

/// Starts recording `call` (`POST /Call/{uuid}/Record/`). The callback is
/// [`RecordingOptions::callback`]; without one Plivo announces nothing, and the recording is
/// found by the id returned here. `stereo` is sent for dual channels (`mono` is Plivo's
/// default, left unsaid).
pub(crate) async fn start(
    client: &PlivoClient,
    call: &CallId,
    options: &RecordingOptions,
) -> Result<RecordingStarted, Error> {
    let file_format = format(options.format).map_err(unsupported)?;
    let channels = channels(options.channels).map_err(unsupported)?;
    let mut body = StartRecording::new(limit(options).as_secs());
    body.file_format = file_format.map(RecordFormat::as_str);
    body.record_channel_type = (channels == RecordChannels::Stereo).then_some("stereo");
    if let Some(cb) = &options.callback {
        body.callback_url = Some(cb.to_string());
        body.callback_method = Some("POST");
    }
    let started = client.start_recording(call.as_str(), &body).await?;
    Ok(RecordingStarted::new(
        started
            .recording_id
            .and_then(|id| RecordingId::new(id).ok()),
    ))
}

/// Stops `call`'s recordings (`DELETE /Call/{uuid}/Record/`). Plivo stops one recording only
/// by its file's URL, which a [`RecordingId`] does not give, so every recording of the call
/// stops, whichever is named. A call that has ended (404) has no recording left to stop.
pub(crate) async fn stop(
    client: &PlivoClient,
    call: &CallId,
    recording: Option<&RecordingId>,
) -> Result<(), Error> {
    let _ = recording;
    client.stop_recordings(call.as_str()).await.map(drop)
}

fn no_recording(id: &RecordingId, operation: &str) -> Error {
    ApiError::new(
        KIND,
        format!("{operation} {id}"),
        404,
        "Plivo has no recording with this id",
    )
    .into()
}

/// Downloads a recording: its resource (`GET /Recording/{id}/`) names the file's URL, which is
/// streamed into `out` from Plivo's hosts only, with credentials only to the API host.
pub(crate) async fn download(
    client: &PlivoClient,
    id: &RecordingId,
    out: &mut (dyn AsyncWrite + Send + Unpin),
) -> Result<u64, Error> {
    let resource = client
        .get_recording(id.as_str())
        .await?
        .ok_or_else(|| no_recording(id, "fetch recording"))?;
    let raw = resource
        .recording_url
        .filter(|u| !u.is_empty())
        .ok_or_else(|| {
            Error::Decode(DecodeError::new(
                KIND,
                "fetch recording",
                format!("recording {id} has no recording_url (not ready yet?)"),
            ))
        })?;
    let url = Url::parse(&raw).map_err(|e| {
        Error::Decode(DecodeError::new(
            KIND,
            "fetch recording",
            format!("recording_url {raw:?}: {e}"),
        ))
    })?;
    client.download_file(&url, out).await
}

/// Deletes a recording (`DELETE /Recording/{id}/`); one Plivo does not have is not found.
pub(crate) async fn delete(client: &PlivoClient, id: &RecordingId) -> Result<(), Error> {
    if client.delete_recording(id.as_str()).await? {
        Ok(())
    } else {
        Err(no_recording(id, "delete recording"))
    }
}
