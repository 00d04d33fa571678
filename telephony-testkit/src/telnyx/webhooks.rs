//! Telnyx's [`Dialect`]: its event names and hang-up causes, and the events it posts to the
//! host as JSON, signed with Ed25519 over `timestamp|body`: `call.initiated` (an inbound call
//! announced, parked until the host answers it by command), `call.answered`, `call.hangup`,
//! `call.bridged`, machine detection's `call.machine.detection.ended` and
//! `call.machine.greeting.ended`, `call.recording.saved`; every one carries the call's
//! `client_state` as the last command set it.

use telephony::telnyx::signature::{SIGNATURE_HEADER, SigningKey, TIMESTAMP_HEADER};
use telephony::telnyx::{KIND, events};
use telephony::{CallStatus, ProviderKind, Url};

use super::media::TelnyxMedia;
use super::{CONNECTION_ID, States, markup, rfc3339};
use crate::engine::{
    AmdMode, AmdVerdict, CallInfo, Dialect, MediaDialect, Phase, Recording, Webhook,
};
use crate::markup::{Instruction, StreamTarget};

#[derive(Clone)]
pub(super) struct TelnyxDialect {
    pub(super) key: SigningKey,
    /// The fake's base URL: where its recordings' files are fetched.
    pub(super) base_url: Url,
    /// Each call's `client_state`, echoed in its events.
    pub(super) states: States,
}

impl TelnyxDialect {
    /// An event of `call`, signed.
    pub(super) fn event(
        &self,
        call: &CallInfo,
        url: &Url,
        event_type: &str,
        extra: serde_json::Value,
    ) -> Webhook {
        let mut payload = serde_json::json!({
            "call_control_id": call.id,
            "call_leg_id": leg_id(&call.id),
            "call_session_id": call.secondary_id,
            "connection_id": CONNECTION_ID,
            "client_state": self.states.get(&call.id),
            "from": call.from,
            "to": call.to,
            "direction": if call.inbound { "incoming" } else { "outgoing" },
        });
        if let (Some(p), Some(e)) = (payload.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                p.insert(k.clone(), v.clone());
            }
        }
        let body = serde_json::json!({
            "data": {
                "record_type": "event",
                "event_type": event_type,
                "id": uuid::Uuid::new_v4().to_string(),
                "occurred_at": rfc3339(std::time::SystemTime::now()),
                "payload": payload,
            },
            "meta": {"attempt": 1, "delivered_to": url.as_str()},
        })
        .to_string()
        .into_bytes();
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            .to_string();
        let signature = self.key.sign(&timestamp, &body);
        Webhook {
            method: "POST".into(),
            url: url.clone(),
            headers: vec![
                (SIGNATURE_HEADER, signature),
                (TIMESTAMP_HEADER, timestamp),
                ("Content-Type", "application/json".into()),
                ("User-Agent", "telnyx-webhooks".into()),
            ],
            body,
        }
    }
}

/// The leg's UUID, derived from the call's id so that it is the same in every event.
pub(super) fn leg_id(call_control_id: &str) -> String {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    call_control_id.hash(&mut h);
    let x = h.finish();
    uuid::Uuid::from_u64_pair(x, x.rotate_left(29)).to_string()
}

/// The SIP code a phase's hang-up carries.
fn sip_code(phase: Phase) -> &'static str {
    match phase {
        Phase::Busy => "486",
        Phase::NoAnswer => "480",
        Phase::Failed => "603",
        Phase::Canceled => "487",
        _ => "200",
    }
}

impl Dialect for TelnyxDialect {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    /// The event of each phase, and the hang-up cause of each end.
    fn raw_status(&self, phase: Phase) -> &'static str {
        match phase {
            Phase::Initiated => "call.initiated",
            // Telnyx posts no ringing event.
            Phase::Ringing => "ringing",
            Phase::Answered => "call.answered",
            Phase::Completed => "normal_clearing",
            Phase::Busy => "user_busy",
            Phase::NoAnswer => "timeout",
            Phase::Failed => "call_rejected",
            Phase::Canceled => "originator_cancel",
        }
    }

    fn normalize(&self, raw: &str) -> CallStatus {
        match raw {
            "call.initiated" => CallStatus::Initiated,
            "ringing" => CallStatus::Ringing,
            "call.answered" => CallStatus::InProgress,
            cause => events::hangup_status(cause),
        }
    }

    /// An inbound call's `call.initiated`, parked until the host answers it.
    fn answer_request(&self, call: &CallInfo, url: &Url, _method: &str) -> Webhook {
        self.event(
            call,
            url,
            "call.initiated",
            serde_json::json!({"state": "parked", "start_time": rfc3339(call.created)}),
        )
    }

    fn status_request(&self, call: &CallInfo, phase: Phase) -> Option<Webhook> {
        let url = call.hooks.status_url.as_ref()?;
        match phase {
            Phase::Ringing => None,
            Phase::Initiated => Some(self.event(
                call,
                url,
                "call.initiated",
                serde_json::json!({"state": "bridging", "start_time": rfc3339(call.created)}),
            )),
            Phase::Answered => Some(self.event(
                call,
                url,
                "call.answered",
                serde_json::json!({"state": "answered", "start_time": rfc3339(call.created)}),
            )),
            end => Some(self.event(
                call,
                url,
                "call.hangup",
                serde_json::json!({
                    "state": "hangup",
                    "hangup_cause": self.raw_status(end),
                    "hangup_source": if end == Phase::Canceled { "caller" } else { "callee" },
                    "sip_hangup_cause": sip_code(end),
                    "start_time": rfc3339(call.created),
                    "end_time": rfc3339(std::time::SystemTime::now()),
                }),
            )),
        }
    }

    fn parse_answer(&self, body: &str) -> Result<Vec<Instruction>, String> {
        markup::stream_fields(body)
    }

    /// A UUID, as Telnyx names recordings.
    fn recording_id(&self, _seq: u64) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    /// `call.bridged`, on each of the two calls.
    fn bridged_request(&self, call: &CallInfo, _other: &str) -> Option<Webhook> {
        let url = call.hooks.status_url.as_ref()?;
        Some(self.event(
            call,
            url,
            "call.bridged",
            serde_json::json!({"state": "bridged"}),
        ))
    }

    /// `call.machine.detection.ended` (`human` or `machine`), then in `greeting_end` mode
    /// `call.machine.greeting.ended` (`beep_detected` or `ended`) for a machine.
    fn amd_request(
        &self,
        call: &CallInfo,
        mode: AmdMode,
        verdict: AmdVerdict,
        url: &Url,
    ) -> Option<Webhook> {
        let (event_type, result) = match (mode, verdict) {
            (_, AmdVerdict::Human) => ("call.machine.detection.ended", "human"),
            (_, AmdVerdict::Machine) => ("call.machine.detection.ended", "machine"),
            (AmdMode::Detect, _) => return None,
            (AmdMode::GreetingEnd, AmdVerdict::MachineEndBeep) => {
                ("call.machine.greeting.ended", "beep_detected")
            }
            (AmdMode::GreetingEnd, AmdVerdict::MachineEndSilence) => {
                ("call.machine.greeting.ended", "ended")
            }
        };
        Some(self.event(
            call,
            url,
            event_type,
            serde_json::json!({ "result": result }),
        ))
    }

    /// `call.recording.saved`: the recording's id, its channels and times, and its file by a
    /// pre-signed link valid 10 minutes (on the fake's own host, as S3's are on Amazon's).
    fn recording_request(&self, call: &CallInfo, r: &Recording, url: &Url) -> Option<Webhook> {
        let ended = r
            .started_at
            .checked_add(r.duration.unwrap_or_default())
            .unwrap_or(r.started_at);
        let link = super::recordings::presigned(
            &self.key,
            &self.base_url,
            &r.id,
            std::time::SystemTime::now(),
        );
        Some(self.event(
            call,
            url,
            "call.recording.saved",
            serde_json::json!({
                "recording_id": r.id,
                "channels": if r.channels == 2 { "dual" } else { "single" },
                "format": "wav",
                "recording_started_at": rfc3339(r.started_at),
                "recording_ended_at": rfc3339(ended),
                "recording_urls": {"wav": link.as_str()},
                "public_recording_urls": {},
                "start_time": rfc3339(call.created),
            }),
        ))
    }

    fn media(&self, call: &CallInfo, target: &StreamTarget) -> Box<dyn MediaDialect> {
        Box::new(TelnyxMedia {
            stream_id: uuid::Uuid::new_v4().to_string().to_uppercase(),
            call_control_id: call.id.clone(),
            session_id: call.secondary_id.clone(),
            from: call.from.clone(),
            to: call.to.clone(),
            parameters: target.parameters.clone(),
            format: target.format,
            seq: 0,
        })
    }
}
