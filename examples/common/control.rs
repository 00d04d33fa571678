//! The agent's call control: transferring a call with its stream marked, pressing keys on a
//! stream, and one log line for each callback at `/status`.

use serde_json::json;
use telephony::{ProviderKind, TelephonyProvider};

use super::{Agent, App};

impl Agent {
    /// A call from `from` to `to` that reaches this agent through its answer URL, recorded
    /// from the answer (`StreamSpec::record`, with `options`' channels, as WAV, announced at
    /// `/status`): how a carrier that records through the answer document, and cannot start
    /// a recording mid-call, records a call (Vonage).
    pub fn recorded_call(
        &self,
        to: telephony::E164,
        from: telephony::E164,
        channels: telephony::RecordingChannels,
    ) -> telephony::OutboundCall {
        let mut answer = self.url("answer");
        let channels = match channels {
            telephony::RecordingChannels::Dual => "dual",
            _ => "mono",
        };
        answer.query_pairs_mut().append_pair("record", channels);
        telephony::OutboundCall::answer_url(to, from, answer).status_callback(self.url("status"))
    }

    /// Transfers `call` to a person through `provider`, with its callbacks at this agent's
    /// `/status` (where `control::follow` takes a warm transfer's steps): the call's stream,
    /// when this agent runs it, is marked first, so its end is reported as the transfer's
    /// (`StreamEvent::Transferred`), not as a dropped connection.
    pub async fn transfer(
        &self,
        provider: &dyn TelephonyProvider,
        call: &telephony::CallId,
        transfer: telephony::Transfer,
    ) -> Result<telephony::TransferStarted, telephony::Error> {
        let transfer = transfer.events(self.url("status"));
        let sender = self
            .senders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(call.as_str())
            .cloned();
        if let Some(s) = &sender {
            let _ = s.transferring(true).await;
        }
        let started = provider.transfer(call, &transfer).await;
        if started.is_err()
            && let Some(s) = &sender
        {
            let _ = s.transferring(false).await;
        }
        started
    }

    /// Plays `digits` to the caller of `call` on its stream (the stream's DTMF message, or
    /// tones in the audio). `false` when this agent runs no stream of that call.
    pub async fn dtmf(&self, call: &telephony::CallId, digits: &str) -> bool {
        let sender = self
            .senders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(call.as_str())
            .cloned();
        match sender {
            Some(s) => s.dtmf(digits).await.is_ok(),
            None => false,
        }
    }
}

/// One log line for what a callback said: a status, a machine-detection verdict, a finished
/// recording, a transfer's step.
pub(super) fn log_notice(app: &App, provider: ProviderKind, notice: &telephony::CallNotice) {
    use telephony::CallNotice;
    match notice {
        CallNotice::Status(event) => app.log(json!({
            "event": "status",
            "provider": provider.id(),
            "call": event.call_id.as_str(),
            "status": event.status.name(),
            "raw": event.raw_status,
            "duration": event.duration.map(|d| d.as_secs()),
            "cost": event.cost.map(|c| c.to_string()),
            "answered_by": event.answered_by,
        })),
        CallNotice::Machine(m) => app.log(json!({
            "event": "machine",
            "provider": provider.id(),
            "call": m.call_id.as_str(),
            "answered_by": m.answered_by,
            "raw": m.raw,
        })),
        CallNotice::Recording(r) => app.log(json!({
            "event": "recording",
            "provider": provider.id(),
            "call": r.call_id.as_ref().map(|c| c.as_str()),
            "recording": r.recording_id.as_ref().map(|r| r.as_str()),
            // Without its query: a pre-signed link (Telnyx's) carries its signature there.
            "url": format!("{}{}", r.url.origin().ascii_serialization(), r.url.path()),
            "duration": r.duration.map(|d| d.as_secs_f64()),
            "channels": r.channels,
        })),
        CallNotice::Transfer(t) => {
            // A target that did not answer leaves the caller with the agent: the stream's end
            // is no longer the transfer's.
            if matches!(t.event, telephony::TransferEvent::TransferFailed { .. })
                && let Some(s) = app
                    .senders
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(t.transfer.caller.as_str())
                    .cloned()
            {
                tokio::spawn(async move {
                    let _ = s.transferring(false).await;
                });
            }
            app.log(json!({
                "event": "transfer",
                "provider": provider.id(),
                "transfer": t.transfer.id,
                "call": t.transfer.caller.as_str(),
                "leg": t.leg_call.as_ref().map(|c| c.as_str()),
                "step": t.event,
            }));
        }
        _ => {}
    }
}

/// The recording an answer URL asks for (`?record=mono|dual`), announced at `status`.
pub(super) fn recording_asked(
    url: &telephony::RequestUrl,
    status: &telephony::Url,
) -> Option<telephony::RecordingOptions> {
    let url = telephony::Url::parse(url.as_str()).ok()?;
    let channels = url
        .query_pairs()
        .find(|(k, _)| k == "record")
        .map(|(_, v)| v)?;
    let channels = match &*channels {
        "dual" => telephony::RecordingChannels::Dual,
        _ => telephony::RecordingChannels::Mono,
    };
    Some(
        telephony::RecordingOptions::new()
            .channels(channels)
            .format(telephony::RecordingFormat::Wav)
            .callback(status.clone()),
    )
}
