//! Call control on [`TelnyxClient`]: any command on a call by name (`transfer`, `bridge`,
//! `speak`, `playback_start`, `record_start`, `record_stop`, `send_dtmf`, `streaming_stop`),
//! a call leg dialled without a stream, and the recordings API.
//!
//! The bodies are built where the steps are (`transfer`, `recording`); each carries a
//! `command_id`, so a command sent again after a 5xx or a timeout runs once.

use telephony_core::{Error, Url};
use tokio::io::AsyncWrite;

use crate::client::TelnyxClient;
use crate::resources::{CallResource, Data, RecordingResource};

impl TelnyxClient {
    /// Sends command `action` on call `id` (`POST /calls/{id}/actions/{action}`) with `body`,
    /// which carries its `command_id`.
    ///
    /// # Errors
    ///
    /// Telnyx's refusal (a call that ended is a 422 with code
    /// [`CALL_ENDED`](crate::CALL_ENDED): see [`call_ended`](crate::call_ended)), or a
    /// transport error.
    pub async fn command(
        &self,
        id: &str,
        action: &str,
        body: &serde_json::Value,
    ) -> Result<(), Error> {
        self.action(id, action, body).success().await.map(drop)
    }

    /// Dials a leg with `body` (`POST /calls`), as [`dial`](Self::dial) does a call with a
    /// stream: a transfer's target. Sent again only where Telnyx cannot have acted on it,
    /// with the same `command_id`.
    ///
    /// # Errors
    ///
    /// Telnyx's refusal, or a transport error that says whether the call may have been placed.
    pub async fn dial_leg(&self, body: &serde_json::Value) -> Result<CallResource, Error> {
        self.rest
            .post(self.url(&["calls"]), "create call")
            .auth(&self.auth)
            .json(body)
            .decode::<Data<CallResource>>()
            .await
            .map(|d| d.data)
    }

    /// A recording (`GET /recordings/{id}`), with links to its files.
    ///
    /// # Errors
    ///
    /// Telnyx's refusal (a 404 for a recording it does not know), or a transport error.
    pub async fn get_recording(&self, id: &str) -> Result<RecordingResource, Error> {
        self.rest
            .get(
                self.url(&["recordings", id]),
                format!("fetch recording {id}"),
            )
            .auth(&self.auth)
            .decode::<Data<RecordingResource>>()
            .await
            .map(|d| d.data)
    }

    /// Deletes a recording (`DELETE /recordings/{id}`); Telnyx answers with the deleted
    /// resource.
    ///
    /// # Errors
    ///
    /// Telnyx's refusal (a 404 for a recording it does not know), or a transport error.
    pub async fn delete_recording(&self, id: &str) -> Result<(), Error> {
        self.rest
            .delete(
                self.url(&["recordings", id]),
                format!("delete recording {id}"),
            )
            .auth(&self.auth)
            .success()
            .await
            .map(drop)
    }

    /// Streams the file at `url` into `out` without the API key: Telnyx's recording links are
    /// pre-signed (S3), and the key is not sent to the storage's host. Check the host first
    /// ([`recording::allowed_host`](crate::recording::allowed_host)).
    ///
    /// # Errors
    ///
    /// The storage's refusal (an expired link is a 403), a transport error, or a writer that
    /// fails.
    pub async fn download_file(
        &self,
        url: &Url,
        what: &str,
        out: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> Result<u64, Error> {
        self.rest.get(url.clone(), what).download(out).await
    }
}
