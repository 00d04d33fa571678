//! Recording on Vonage: the NCCO `record` action asked for when a call is placed or answered,
//! the callback that announces the file, and its download.
//!
//! - **Asking.** Vonage records through the NCCO: a `record` action before the websocket
//!   `connect` records the whole call in the background (developer.vonage.com NCCO reference,
//!   "Record"; fields as vonage-python-sdk voice 1.5.1 `models/ncco.py` `Record`): `format`
//!   `mp3`, `wav` or `ogg`, `split: "conversation"` with `channels: 2` for one channel per
//!   side, `eventUrl` and `eventMethod`. `timeOut` is not used: with it (or `endOnSilence`,
//!   `endOnKey`) the action blocks the NCCO until it ends (Vonage API Support, "How do I
//!   record a certain part of the call"), so the stream would wait; a recording here lasts the
//!   call, and [`RecordingOptions::max_length`] is refused.
//! - **Mid-call.** The Voice API has no verb to start or stop a recording: refused as
//!   unsupported.
//! - **The callback** (to the record's `eventUrl`: `RecordingOptions::callback`, or else the
//!   call's or stream's status callback): `start_time`, `end_time`, `recording_url`,
//!   `recording_uuid`, `size`, `conversation_uuid`, `timestamp` (vonage-dotnet-sdk
//!   `Vonage/Voice/EventWebhooks/Record.cs`). It names no call and no format, so the adapter
//!   writes the call (where known), the format and the channels it asked for into the
//!   callback URL's query, signed ([`crate::signed_query`]), and reads them back.
//! - **The id** of a recording is the file id that ends its `recording_url`
//!   (`https://api.nexmo.com/v1/files/{id}`), not `recording_uuid`: a download is a `GET` of
//!   that URL, so the id is what [`download_recording`](telephony_core::TelephonyProvider::download_recording)
//!   needs to rebuild it on the configured Voice API host.
//! - **Download** with the application JWT (as vonage-python-sdk's `download_recording`).
//!   A URL is followed only to a `vonage.com` or `nexmo.com` host over HTTPS, or to the
//!   configured Voice API host (a fake, in tests).
//! - **Delete.** No documented API: refused as unsupported.

use telephony_core::{
    CallId, Error, FormParams, RecordingChannels, RecordingFormat, RecordingId, RecordingOptions,
    RecordingReady, Url,
};

use crate::ncco::{Method, Record, RecordFormat};
use crate::signed_query::{PREFIX, QuerySigner};
use crate::status;

/// The call the recording belongs to, in its callback URL.
const Q_CALL: &str = "telephony_rec_call";
/// The format asked for.
const Q_FORMAT: &str = "telephony_rec_format";
/// The channels asked for.
const Q_CHANNELS: &str = "telephony_rec_channels";

/// The `record` action for `options`, announcing the file to `options.callback`, or else to
/// `status_callback`; `call` is named in the callback URL where it is known.
pub(crate) fn record_action(
    options: &RecordingOptions,
    status_callback: Option<&Url>,
    call: Option<&CallId>,
    signer: &QuerySigner,
) -> Result<Record, Error> {
    if options.max_length.is_some() {
        return Err(Error::invalid_request(
            "Vonage ends a recording early only with timeOut, which blocks the NCCO until the recording ends (the stream would wait for it): leave RecordingOptions::max_length unset, a recording here lasts the call",
        ));
    }
    let Some(callback) = options.callback.as_ref().or(status_callback) else {
        return Err(Error::invalid_request(
            "a Vonage recording needs a callback URL (RecordingOptions::callback, or a status callback): the recording's URL arrives only there",
        ));
    };
    let (format, name) = match options.format {
        // Vonage's default for one or two channels is mp3 (vonage-dotnet-sdk
        // RecordAction.Format): the callback's format is known either way.
        None => (None, "mp3"),
        Some(RecordingFormat::Mp3) => (Some(RecordFormat::Mp3), "mp3"),
        Some(RecordingFormat::Wav) => (Some(RecordFormat::Wav), "wav"),
        Some(RecordingFormat::Ogg) => (Some(RecordFormat::Ogg), "ogg"),
        Some(other) => {
            return Err(Error::invalid_request(format!(
                "Vonage records mp3, wav or ogg, not {other:?}"
            )));
        }
    };
    let channels = match options.channels {
        RecordingChannels::Mono => 1,
        RecordingChannels::Dual => 2,
        other => {
            return Err(Error::invalid_request(format!(
                "Vonage records mono or one channel per side, not {other:?}"
            )));
        }
    };
    let url = callback_url(callback, call, name, channels, signer);
    let mut record = Record::new()
        .event_url(url.as_str())
        .event_method(Method::Post);
    if let Some(f) = format {
        record = record.format(f);
    }
    if channels == 2 {
        record = record.split_conversation(2);
    }
    Ok(record)
}

/// `callback` with what the recording's callback does not say (the call, the format, the
/// channels) in its query, signed; its other parameters kept.
fn callback_url(
    callback: &Url,
    call: Option<&CallId>,
    format: &str,
    channels: u8,
    signer: &QuerySigner,
) -> Url {
    let mut url = callback.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !k.starts_with(PREFIX))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut q = url.query_pairs_mut();
        q.clear().extend_pairs(kept);
        if let Some(call) = call {
            q.append_pair(Q_CALL, call.as_str());
        }
        q.append_pair(Q_FORMAT, format)
            .append_pair(Q_CHANNELS, &channels.to_string());
    }
    signer.sign(&url)
}

/// A recording's callback (it has a `recording_url`), read; `signed` is the callback's URL
/// when its query verified, to read back what the adapter wrote there.
pub(crate) fn ready(p: &FormParams, signed: Option<&Url>) -> Result<RecordingReady, Error> {
    let what = "recording callback";
    let bad =
        |detail: String| Error::Decode(telephony_core::DecodeError::new(crate::KIND, what, detail));
    let raw = p
        .get_nonempty("recording_url")
        .ok_or_else(|| bad("no recording_url field".to_owned()))?;
    let url = Url::parse(raw.trim())
        .map_err(|e| bad(format!("recording_url {raw:?} is not a URL: {e}")))?;
    let mut ready = RecordingReady::new(url.clone());
    ready.recording_id = file_id(&url)
        .or_else(|| p.get_nonempty("recording_uuid"))
        .and_then(|id| RecordingId::new(id).ok());
    ready.started_at = p.get("start_time").and_then(status::timestamp);
    let ended = p.get("end_time").and_then(status::timestamp);
    // Vonage's callback has no duration: the file spans its start and end.
    ready.duration = match (ready.started_at, ended) {
        (Some(start), Some(end)) => end.duration_since(start).ok(),
        _ => None,
    };
    if let Some(signed) = signed {
        for (k, v) in signed.query_pairs() {
            match &*k {
                Q_CALL => ready.call_id = CallId::new(v.into_owned()).ok(),
                Q_FORMAT => ready.format = RecordingFormat::from_name(&v),
                Q_CHANNELS => ready.channels = v.parse::<u8>().ok().filter(|c| (1..=2).contains(c)),
                _ => {}
            }
        }
    }
    if ready.call_id.is_none() {
        ready.call_id = p.get_nonempty("uuid").and_then(|u| CallId::new(u).ok());
    }
    Ok(ready)
}

/// The file id a `recording_url` ends with: its last path segment.
fn file_id(url: &Url) -> Option<&str> {
    url.path_segments()?.rev().find(|s| !s.is_empty())
}

/// Whether a download may follow `url`: HTTPS to a `vonage.com` or `nexmo.com` host (as
/// vonage-python-sdk refuses others), or the configured Voice API host (`base`, same scheme,
/// host and port).
pub(crate) fn may_download(url: &Url, base: &Url) -> Result<(), Error> {
    let vonage_host = url.host_str().is_some_and(|h| {
        let h = h.to_ascii_lowercase();
        ["vonage.com", "nexmo.com"]
            .iter()
            .any(|d| h == *d || h.ends_with(&format!(".{d}")))
    });
    if url.scheme() == "https" && vonage_host {
        return Ok(());
    }
    if url.origin() == base.origin() {
        return Ok(());
    }
    Err(Error::invalid_request(format!(
        "a recording is fetched only from a vonage.com or nexmo.com host over HTTPS, or the configured Voice API host; not {}",
        url.origin().ascii_serialization()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_stay_on_vonage_hosts() {
        let base = Url::parse("http://127.0.0.1:4000").unwrap();
        for ok in [
            "https://api.nexmo.com/v1/files/a",
            "https://api-us.vonage.com/v1/files/a",
            "https://API.NEXMO.COM/v1/files/a",
            "http://127.0.0.1:4000/v1/files/a",
        ] {
            assert!(
                may_download(&Url::parse(ok).unwrap(), &base).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "http://api.nexmo.com/v1/files/a",
            "https://nexmo.com.evil.example/v1/files/a",
            "https://evilnexmo.com/a",
            "https://api.nexmo.com@evil.example/a",
            "http://127.0.0.1:4001/v1/files/a",
            "https://127.0.0.1:4000/v1/files/a",
        ] {
            assert!(
                may_download(&Url::parse(bad).unwrap(), &base).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn file_ids_end_the_url() {
        let id = |u: &str| file_id(&Url::parse(u).unwrap()).map(str::to_owned);
        assert_eq!(
            id("https://api.nexmo.com/v1/files/aaa-bbb").as_deref(),
            Some("aaa-bbb")
        );
        assert_eq!(
            id("https://api.nexmo.com/v1/files/aaa-bbb/").as_deref(),
            Some("aaa-bbb")
        );
        assert_eq!(id("https://api.nexmo.com/").as_deref(), None);
    }
}
