//! Recording: asked for when placing a call (`Record=true`), when answering one
//! (`<Start><Recording>`), or mid-call (the call's Recordings resource); stopped, downloaded
//! and deleted through the API.
//!
//! Wire facts: twilio-python 9.13 `rest/api/v2010/account/call/__init__.py` (create:
//! `Record`, `RecordingChannels`, `RecordingStatusCallback`, `RecordingStatusCallbackMethod`,
//! `RecordingStatusCallbackEvent`), `call/recording.py` (create at
//! `Calls/{CA}/Recordings.json`; update `Status=stopped` at `Calls/{CA}/Recordings/{RE}.json`),
//! `recording/__init__.py` (delete at `Recordings/{RE}.json`), `twiml/voice_response.py`
//! (`Start.recording`); the media at `Recordings/{RE}.wav` from Twilio's Recording resource page.

use telephony_core::{
    Error, RecordingChannels, RecordingFormat, RecordingId, RecordingOptions, Url,
};

use crate::KIND;
use crate::client::TwilioClient;
use crate::resources::RecordingResource;
use crate::twiml::Recording;

/// The recording Twilio stops when none is named: the call's current one.
pub const CURRENT_RECORDING: &str = "Twilio.CURRENT";

/// Refuses what Twilio cannot record as asked, before any request: a format other than WAV
/// (Twilio keeps one recording and this adapter fetches it as WAV), and a length limit
/// (Twilio records until the recording is stopped or the call ends).
pub(crate) fn check(options: &RecordingOptions) -> Result<(), Error> {
    let unsupported = |operation| Error::Unsupported {
        provider: KIND,
        operation,
    };
    match options.format {
        None | Some(RecordingFormat::Wav) => {}
        Some(_) => {
            return Err(unsupported(
                "a recording format other than WAV (Twilio's recordings are fetched as WAV)",
            ));
        }
    }
    if options.max_length.is_some() {
        return Err(unsupported(
            "a recording length limit (Twilio records until stop_recording or the call's end)",
        ));
    }
    Ok(())
}

fn channels(options: &RecordingOptions) -> &'static str {
    match options.channels {
        RecordingChannels::Dual => "dual",
        _ => "mono",
    }
}

/// Where the finished recording is announced: the options' callback, else `fallback` (the
/// call's status callback), else nowhere (the recording is still made; its id comes from
/// the API).
fn callback<'a>(options: &'a RecordingOptions, fallback: Option<&'a Url>) -> Option<&'a Url> {
    options.callback.as_ref().or(fallback)
}

/// The fields of `POST /Calls.json` that record the call from its answer.
pub(crate) fn create_fields(
    options: &RecordingOptions,
    fallback: Option<&Url>,
) -> Result<Vec<(String, String)>, Error> {
    check(options)?;
    let mut f = vec![
        ("Record".to_owned(), "true".to_owned()),
        ("RecordingChannels".to_owned(), channels(options).to_owned()),
    ];
    if let Some(cb) = callback(options, fallback) {
        f.push(("RecordingStatusCallback".into(), cb.to_string()));
        f.push(("RecordingStatusCallbackMethod".into(), "POST".into()));
        f.push(("RecordingStatusCallbackEvent".into(), "completed".into()));
    }
    Ok(f)
}

/// The `<Start><Recording>` that records an answered call before its stream.
pub(crate) fn start_element(
    options: &RecordingOptions,
    fallback: Option<&Url>,
) -> Result<Recording, Error> {
    check(options)?;
    let mut r = Recording::new().dual(options.channels == RecordingChannels::Dual);
    if let Some(cb) = callback(options, fallback) {
        r = r.status_callback(cb.to_string());
    }
    Ok(r)
}

impl TwilioClient {
    /// Starts recording a live call (`POST /Calls/{CA}/Recordings.json`, answered 201 with the
    /// recording). Not retried once Twilio may have it: a second would record twice.
    pub async fn start_call_recording(
        &self,
        call: &str,
        options: &RecordingOptions,
    ) -> Result<RecordingResource, Error> {
        check(options)?;
        let mut form = vec![("RecordingChannels", channels(options).to_owned())];
        if let Some(cb) = &options.callback {
            form.push(("RecordingStatusCallback", cb.to_string()));
            form.push(("RecordingStatusCallbackMethod", "POST".to_owned()));
            form.push(("RecordingStatusCallbackEvent", "completed".to_owned()));
        }
        let url = self.account_url(&["Calls", call, "Recordings.json"]);
        self.rest
            .post(url, format!("start recording call {call}"))
            .auth(&self.auth)
            .form(form)
            .decode()
            .await
    }

    /// Stops a call's recording: `recording`, or the current one ([`CURRENT_RECORDING`]).
    /// Setting a status is idempotent, so this retries like a read.
    pub async fn stop_call_recording(
        &self,
        call: &str,
        recording: Option<&RecordingId>,
    ) -> Result<RecordingResource, Error> {
        let sid = recording.map_or(CURRENT_RECORDING, RecordingId::as_str);
        let url = self.account_url(&["Calls", call, "Recordings", &format!("{sid}.json")]);
        self.rest
            .post(url, format!("stop recording {sid} of call {call}"))
            .auth(&self.auth)
            .form([("Status", "stopped")])
            .idempotent(true)
            .decode()
            .await
    }

    /// Deletes a recording (`DELETE /Recordings/{RE}.json`, answered 204); a 404 is
    /// [`Error::is_not_found`].
    pub async fn delete_recording(&self, recording: &RecordingId) -> Result<(), Error> {
        let sid = recording.as_str();
        let url = self.account_url(&["Recordings", &format!("{sid}.json")]);
        self.rest
            .delete(url, format!("delete recording {sid}"))
            .auth(&self.auth)
            .success()
            .await
            .map(|_| ())
    }

    /// Streams a recording's WAV (`GET /Recordings/{RE}.wav` on the configured API host, with
    /// the account's Basic auth) into `out`, returning the bytes written. The URL is always
    /// built on the configured base URL, never taken from a callback; where Twilio redirects
    /// the media to its storage, the HTTP client drops the credentials on the way to another
    /// host.
    pub async fn download_recording(
        &self,
        recording: &RecordingId,
        out: &mut (dyn tokio::io::AsyncWrite + Send + Unpin),
    ) -> Result<u64, Error> {
        let sid = recording.as_str();
        let url = self.account_url(&["Recordings", &format!("{sid}.wav")]);
        self.rest
            .get(url, format!("download recording {sid}"))
            .auth(&self.auth)
            .download(out)
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn options_twilio_cannot_honour_are_refused() {
        let ok = RecordingOptions::new().channels(RecordingChannels::Dual);
        assert!(check(&ok).is_ok());
        assert!(check(&ok.clone().format(RecordingFormat::Wav)).is_ok());
        for bad in [
            ok.clone().format(RecordingFormat::Mp3),
            ok.clone().format(RecordingFormat::Ogg),
            ok.clone().max_length(Duration::from_secs(60)),
        ] {
            assert!(
                matches!(check(&bad), Err(Error::Unsupported { .. })),
                "{bad:?}"
            );
        }
        let fallback: Url = "https://a.example/status".parse().unwrap();
        let f = create_fields(&ok, Some(&fallback)).unwrap();
        assert_eq!(f[0], ("Record".into(), "true".into()));
        assert_eq!(f[1], ("RecordingChannels".into(), "dual".into()));
        assert_eq!(
            f[2],
            ("RecordingStatusCallback".into(), fallback.to_string())
        );
        assert_eq!(
            create_fields(&RecordingOptions::new(), None).unwrap().len(),
            2
        );
    }
}
