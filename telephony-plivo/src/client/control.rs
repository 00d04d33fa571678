//! The REST calls of call control: moving a call to new XML (transfer), recording, the
//! recordings' files, and DTMF. Paths and bodies as plivo-python 4.63 sends them
//! (`plivo/resources/calls.py` `update`, `start_recording`, `stop_recording`, `send_digits`;
//! `plivo/resources/recordings.py` `get`, `delete`).

use serde::Serialize;
use telephony_core::{DecodeError, Error, Url};
use tokio::io::AsyncWrite;

use super::PlivoClient;
use crate::KIND;
use crate::resources::{RecordingResource, RecordingStart};

/// A recording to start: the JSON body of `POST /Call/{uuid}/Record/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct StartRecording {
    /// The longest recording, in seconds: always sent, as Plivo's default is 60.
    pub time_limit: u64,
    /// `mp3` (Plivo's default) or `wav`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_format: Option<&'static str>,
    /// Where Plivo posts the finished recording.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// `POST` when `callback_url` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_method: Option<&'static str>,
    /// `mono` (Plivo's default) or `stereo` (docs.plivo.com "Start recording a call";
    /// plivo-python has sent it since 4.59.0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_channel_type: Option<&'static str>,
}

impl StartRecording {
    /// A recording of at most `time_limit` seconds, Plivo's defaults otherwise.
    pub fn new(time_limit: u64) -> StartRecording {
        StartRecording {
            time_limit,
            file_format: None,
            callback_url: None,
            callback_method: None,
            record_channel_type: None,
        }
    }
}

/// Where a recording's file may be fetched from, and whether it gets the account's
/// credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileHost {
    /// The configured API host (`api.plivo.com`, or a fake in tests): with Basic auth.
    Api,
    /// Another host of Plivo's, or its S3 buckets: without credentials.
    Storage,
}

/// Whether `url` is a host Plivo keeps recordings on: the configured API host (credentials
/// sent there only), `plivo.com` and its subdomains (`media.plivo.com`), or Amazon S3 buckets
/// whose name starts with `plivo` or `recordings` (the documented examples are
/// `s3.amazonaws.com/plivocloud/…` and `s3.amazonaws.com/recordings_2013/…`, path-style;
/// the virtual-hosted form `plivocloud.s3.amazonaws.com` is taken too). Anything else is
/// refused, so a recording URL never sends the adapter anywhere.
fn file_host(url: &Url, api: &Url) -> Option<FileHost> {
    if !matches!(url.scheme(), "https" | "http") {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    if Some(host.as_str()) == api.host_str().map(str::to_ascii_lowercase).as_deref()
        && url.port_or_known_default() == api.port_or_known_default()
    {
        return Some(FileHost::Api);
    }
    let plivo_bucket = |name: &str| name.starts_with("plivo") || name.starts_with("recordings");
    let storage = host == "plivo.com"
        || host.ends_with(".plivo.com")
        || (host == "s3.amazonaws.com"
            && url
                .path_segments()
                .and_then(|mut s| s.next())
                .is_some_and(plivo_bucket))
        || host
            .strip_suffix(".s3.amazonaws.com")
            .is_some_and(|bucket| !bucket.contains('.') && plivo_bucket(bucket));
    storage.then_some(FileHost::Storage)
}

impl PlivoClient {
    /// Moves a live call to the XML at `aleg_url` (`POST /Call/{uuid}/` with `legs=aleg`,
    /// fetched with a POST): Plivo abandons the call's current XML (a stream ends) and runs
    /// the new one. `false` when Plivo knows no such live call (404): it has ended.
    pub async fn transfer_call(&self, uuid: &str, aleg_url: &str) -> Result<bool, Error> {
        let body = serde_json::json!({"legs": "aleg", "aleg_url": aleg_url, "aleg_method": "POST"});
        let request = self
            .rest
            .post(self.url(&["Call", uuid]), format!("transfer call {uuid}"))
            .auth(&self.auth)
            .json(&body);
        let answer = request.send().await?;
        match answer.status {
            404 => Ok(false),
            _ if answer.is_success() => Ok(true),
            _ => Err(request.error(&answer)),
        }
    }

    /// Starts recording a live call (`POST /Call/{uuid}/Record/`, answered 202). Not retried
    /// once sent: a second start would make a second recording.
    pub async fn start_recording(
        &self,
        uuid: &str,
        recording: &StartRecording,
    ) -> Result<RecordingStart, Error> {
        self.rest
            .post(
                self.url(&["Call", uuid, "Record"]),
                format!("start recording call {uuid}"),
            )
            .auth(&self.auth)
            .json(recording)
            .decode()
            .await
    }

    /// Stops every recording of a call (`DELETE /Call/{uuid}/Record/`, answered 204). `false`
    /// when Plivo knows no such live call (404): it ended, and its recordings with it.
    pub async fn stop_recordings(&self, uuid: &str) -> Result<bool, Error> {
        self.delete(
            &format!("stop recording call {uuid}"),
            self.url(&["Call", uuid, "Record"]),
        )
        .await
    }

    /// Plays DTMF into a live call's own leg (`POST /Call/{uuid}/DTMF/` with `leg=aleg`,
    /// answered 202). Not retried once sent: the keys would be pressed twice.
    pub async fn send_digits(&self, uuid: &str, digits: &str) -> Result<(), Error> {
        self.rest
            .post(
                self.url(&["Call", uuid, "DTMF"]),
                format!("send DTMF to call {uuid}"),
            )
            .auth(&self.auth)
            .json(&serde_json::json!({"digits": digits, "leg": "aleg"}))
            .success()
            .await
            .map(drop)
    }

    /// A recording (`GET /Recording/{id}/`). `None` when Plivo has none (404).
    pub async fn get_recording(&self, id: &str) -> Result<Option<RecordingResource>, Error> {
        self.get_optional(
            &format!("fetch recording {id}"),
            self.url(&["Recording", id]),
            None,
        )
        .await
    }

    /// Deletes a recording (`DELETE /Recording/{id}/`, answered 204). `false` when Plivo has
    /// none (404).
    pub async fn delete_recording(&self, id: &str) -> Result<bool, Error> {
        self.delete(
            &format!("delete recording {id}"),
            self.url(&["Recording", id]),
        )
        .await
    }

    /// Streams the file at `url` (a recording's `recording_url`) into `out`, returning the
    /// bytes written. Only Plivo's hosts are fetched (see the module's `file_host`), and the
    /// account's credentials go to the configured API host alone.
    pub async fn download_file(
        &self,
        url: &Url,
        out: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> Result<u64, Error> {
        let operation = "download recording";
        let host = file_host(url, &self.config().base_url).ok_or_else(|| {
            Error::Decode(DecodeError::new(
                KIND,
                operation,
                format!(
                    "the recording's URL is on {:?}, not a host Plivo keeps recordings on: not fetched",
                    url.host_str().unwrap_or("")
                ),
            ))
        })?;
        let request = self.rest.get(url.clone(), operation);
        match host {
            FileHost::Api => request.auth(&self.auth).download(out).await,
            FileHost::Storage => request.download(out).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recordings_are_fetched_from_plivo_hosts_only() {
        let api = Url::parse("https://api.plivo.com").unwrap();
        let at = |u: &str| file_host(&Url::parse(u).unwrap(), &api);
        assert_eq!(at("https://api.plivo.com/v1/x.mp3"), Some(FileHost::Api));
        assert_eq!(at("https://API.plivo.com:443/x.mp3"), Some(FileHost::Api));
        for storage in [
            "https://media.plivo.com/v1/Account/MA1/Recording/r.mp3",
            "http://s3.amazonaws.com/plivocloud/8d5cd396.mp3",
            "http://s3.amazonaws.com/recordings_2013/c2186400.mp3",
            "https://plivocloud.s3.amazonaws.com/8d5cd396.mp3",
            "https://api.plivo.com:8443/x.mp3",
        ] {
            assert_eq!(at(storage), Some(FileHost::Storage), "{storage}");
        }
        for refused in [
            "https://evil.example.com/x.mp3",
            "https://plivo.com.evil.example/x.mp3",
            "https://notplivo.com/x.mp3",
            "http://s3.amazonaws.com/someone-else/x.mp3",
            "https://someone.s3.amazonaws.com/x.mp3",
            "https://a.plivocloud.s3.amazonaws.com/x.mp3",
            "ftp://media.plivo.com/x.mp3",
            "file:///etc/passwd",
        ] {
            assert_eq!(at(refused), None, "{refused}");
        }
        let fake = Url::parse("http://127.0.0.1:4010").unwrap();
        assert_eq!(
            file_host(&Url::parse("http://127.0.0.1:4010/r.wav").unwrap(), &fake),
            Some(FileHost::Api)
        );
        assert_eq!(
            file_host(&Url::parse("http://127.0.0.1:4011/r.wav").unwrap(), &fake),
            None
        );
    }
}
