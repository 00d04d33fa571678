//! Plivo's [`Dialect`]: its status names, and the requests it sends to the host with a V3
//! signature and nonce: the answer fetch (an outbound call's `answer_url`, an inbound call's
//! application, a transfer's `aleg_url`), the ring and hangup callbacks (with the hangup cause,
//! duration and cost), a `<Dial action>` (Plivo's "Dial status reporting" parameters), the
//! asynchronous machine-detection verdict, and a finished recording (the Record API's fields,
//! or `<Record>`'s).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use telephony::plivo::KIND;
use telephony::plivo::signature::{V3_HEADER, V3_NONCE_HEADER, sign_v3};
use telephony::{CallStatus, FormParams, ProviderKind, Secret, Url};

use super::media::PlivoMedia;
use super::{AUTH_ID, SharedLedger, ledger, markup};
use crate::engine::{
    AmdMode, AmdVerdict, CallInfo, DialOutcome, Dialect, MediaDialect, Phase, Recording, Webhook,
};
use crate::markup::{Instruction, StreamTarget};

pub(super) struct PlivoDialect {
    token: Secret,
    /// The fake's base URL: where its recordings' files are served.
    base_url: Url,
    ledger: SharedLedger,
}

/// The standard hangup cause Plivo names for a call that ended in `phase`.
fn hangup_cause(phase: Phase) -> &'static str {
    match phase {
        Phase::Busy => "USER_BUSY",
        Phase::NoAnswer => "NO_ANSWER",
        Phase::Canceled => "ORIGINATOR_CANCEL",
        Phase::Failed => "UNALLOCATED_NUMBER",
        _ => "NORMAL_CLEARING",
    }
}

/// Milliseconds as Plivo writes them in recordings (`"345100.00000"`).
fn millis(d: Duration) -> String {
    format!("{}.00000", d.as_millis())
}

/// Milliseconds since the epoch, as Plivo writes them.
fn epoch_millis(t: SystemTime) -> String {
    millis(t.duration_since(UNIX_EPOCH).unwrap_or_default())
}

/// Where a recording's file is served: the path of Plivo's media host
/// (`media.plivo.com/v1/Account/{auth_id}/Recording/{id}.mp3`) on the fake's own host, always
/// WAV (the emulator writes no MP3).
pub(super) fn recording_file_url(base: &Url, id: &str) -> String {
    base.join(&format!("/v1/Account/{AUTH_ID}/Recording/{id}.wav"))
        .map(|u| u.to_string())
        .unwrap_or_default()
}

impl PlivoDialect {
    pub(super) fn new(token: Secret, base_url: Url, ledger: SharedLedger) -> PlivoDialect {
        PlivoDialect {
            token,
            base_url,
            ledger,
        }
    }

    fn signed(&self, url: &Url, method: &str, params: Vec<(String, String)>) -> Webhook {
        // Plivo's nonces are decimal digits (the validator refuses anything else).
        let nonce = telephony::plivo::signature::fresh_nonce();
        if method.eq_ignore_ascii_case("GET") {
            let mut url = url.clone();
            url.query_pairs_mut().extend_pairs(&params);
            let sig = sign_v3(
                &self.token,
                &http::Method::GET,
                &crate::engine::exact(&url),
                &FormParams::default(),
                &nonce,
            );
            return Webhook {
                method: "GET".into(),
                url,
                headers: vec![(V3_HEADER, sig), (V3_NONCE_HEADER, nonce)],
                body: Vec::new(),
            };
        }
        let form: FormParams = params.iter().cloned().collect();
        let sig = sign_v3(
            &self.token,
            &http::Method::POST,
            &crate::engine::exact(url),
            &form,
            &nonce,
        );
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&params)
            .finish();
        Webhook {
            method: "POST".into(),
            url: url.clone(),
            headers: vec![
                (V3_HEADER, sig),
                (V3_NONCE_HEADER, nonce),
                ("Content-Type", "application/x-www-form-urlencoded".into()),
            ],
            body: body.into_bytes(),
        }
    }

    fn params(&self, call: &CallInfo, status: &str, event: &str) -> Vec<(String, String)> {
        let mut p = vec![
            ("CallUUID".to_owned(), call.id.clone()),
            ("CallStatus".into(), status.into()),
            (
                "Direction".into(),
                if call.inbound { "inbound" } else { "outbound" }.into(),
            ),
            ("Event".into(), event.into()),
            ("From".into(), call.from.clone()),
            ("To".into(), call.to.clone()),
        ];
        if !call.inbound {
            p.push(("RequestUUID".into(), call.secondary_id.clone()));
        }
        p
    }
}

impl Dialect for PlivoDialect {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn raw_status(&self, phase: Phase) -> &'static str {
        match phase {
            Phase::Initiated => "queued",
            Phase::Ringing => "ringing",
            Phase::Answered => "in-progress",
            Phase::Completed => "completed",
            Phase::Busy => "busy",
            Phase::NoAnswer => "no-answer",
            Phase::Failed => "failed",
            Phase::Canceled => "cancel",
        }
    }

    fn normalize(&self, raw: &str) -> CallStatus {
        telephony::plivo::status::call_status(raw)
    }

    fn answer_request(&self, call: &CallInfo, url: &Url, method: &str) -> Webhook {
        let status = if call.inbound {
            "ringing"
        } else {
            "in-progress"
        };
        self.signed(url, method, self.params(call, status, "StartApp"))
    }

    fn status_request(&self, call: &CallInfo, phase: Phase) -> Option<Webhook> {
        match phase {
            Phase::Ringing => {
                let url = call.hooks.ring_url.as_ref()?;
                Some(self.signed(url, "POST", self.params(call, "ringing", "Ring")))
            }
            p if p.is_final() => {
                let url = call.hooks.hangup_url.as_ref()?;
                let mut params = self.params(call, self.raw_status(p), "Hangup");
                params.push(("HangupCause".into(), hangup_cause(p).into()));
                let secs = call.duration_secs.unwrap_or(0);
                params.push(("Duration".into(), secs.to_string()));
                params.push(("BillDuration".into(), (secs.div_ceil(60) * 60).to_string()));
                if let Some(price) = call.price {
                    params.push(("TotalCost".into(), format!("{price:.5}")));
                }
                Some(self.signed(url, "POST", params))
            }
            _ => None,
        }
    }

    fn parse_answer(&self, body: &str) -> Result<Vec<Instruction>, String> {
        markup::plivo_xml(body)
    }

    /// A leg Plivo dials (a `<Dial>`): its own `CallUUID`, and a request id.
    fn leg_ids(&self, _seq: u64) -> (String, String) {
        (
            uuid::Uuid::new_v4().to_string(),
            uuid::Uuid::new_v4().to_string(),
        )
    }

    fn recording_id(&self, _seq: u64) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    /// A finished recording: the Record API's callback (`record_url`, `recording_id`, …, per
    /// "Start recording a call") for one it started, else `<Record>`'s (`RecordUrl`,
    /// `RecordingID`, `RecordingDuration`, `RecordingDurationMs`, `RecordingStartMs`,
    /// `RecordingEndMs`, with the call's parameters).
    fn recording_request(&self, call: &CallInfo, r: &Recording, url: &Url) -> Option<Webhook> {
        let file = recording_file_url(&self.base_url, &r.id);
        let duration = r.duration.unwrap_or_default();
        let start = epoch_millis(r.started_at);
        let end = epoch_millis(r.started_at + duration);
        let from_api = ledger(&self.ledger).api_recordings.contains(&r.id);
        let params = if from_api {
            vec![
                ("api_id".to_owned(), uuid::Uuid::new_v4().to_string()),
                ("record_url".into(), file),
                ("call_uuid".into(), call.id.clone()),
                ("recording_id".into(), r.id.clone()),
                ("recording_duration".into(), duration.as_secs().to_string()),
                ("recording_duration_ms".into(), millis(duration)),
                ("recording_start_ms".into(), start),
                ("recording_end_ms".into(), end),
            ]
        } else {
            let mut p = self.params(call, "in-progress", "");
            p.retain(|(k, _)| k != "Event");
            p.extend([
                ("RecordUrl".to_owned(), file),
                ("RecordingID".into(), r.id.clone()),
                ("RecordingDuration".into(), duration.as_secs().to_string()),
                ("RecordingDurationMs".into(), millis(duration)),
                ("RecordingStartMs".into(), start),
                ("RecordingEndMs".into(), end),
            ]);
            p
        };
        Some(self.signed(url, "POST", params))
    }

    /// The asynchronous verdict at `machine_detection_url` ("Asynchronous machine
    /// detection"): `Machine=true|false` as soon as known. Plivo tells a machine from a person
    /// only, so the greeting's end is never reported.
    fn amd_request(
        &self,
        call: &CallInfo,
        _mode: AmdMode,
        verdict: AmdVerdict,
        url: &Url,
    ) -> Option<Webhook> {
        let machine = match verdict {
            AmdVerdict::Human => "false",
            AmdVerdict::Machine => "true",
            AmdVerdict::MachineEndBeep | AmdVerdict::MachineEndSilence => return None,
        };
        let if_machine = if ledger(&self.ledger).hangup_on_machine.contains(&call.id) {
            "hangup"
        } else {
            "continue"
        };
        let params = vec![
            ("From".to_owned(), call.from.clone()),
            ("Machine".into(), machine.into()),
            ("To".into(), call.to.clone()),
            ("RequestUUID".into(), call.secondary_id.clone()),
            ("ALegRequestUUID".into(), call.secondary_id.clone()),
            ("CallUUID".into(), call.id.clone()),
            ("IfMachine".into(), if_machine.into()),
            ("Direction".into(), "outbound".into()),
            ("ALegUUID".into(), call.id.clone()),
            ("Event".into(), "MachineDetection".into()),
            ("CallStatus".into(), "in-progress".into()),
        ];
        Some(self.signed(url, "POST", params))
    }

    /// The `<Dial action>` request: the call's parameters and Plivo's "Dial status reporting"
    /// ones (`DialStatus` completed, busy, failed, timeout or no-answer; `DialBLegUUID` empty
    /// when nobody answered).
    fn dial_action_request(
        &self,
        call: &CallInfo,
        outcome: &DialOutcome,
        url: &Url,
        method: &str,
    ) -> Option<Webhook> {
        let status = match outcome.phase {
            Phase::Completed if outcome.answered => "completed",
            Phase::Busy => "busy",
            Phase::NoAnswer => "no-answer",
            _ => "failed",
        };
        let rang = !matches!(outcome.phase, Phase::Busy | Phase::Failed);
        let mut params = self.params(call, "in-progress", "");
        params.retain(|(k, _)| k != "Event");
        params.extend([
            ("DialRingStatus".to_owned(), rang.to_string()),
            ("DialHangupCause".into(), hangup_cause(outcome.phase).into()),
            ("DialStatus".into(), status.into()),
            ("DialALegUUID".into(), call.id.clone()),
            (
                "DialBLegUUID".into(),
                if outcome.answered {
                    outcome.leg.clone()
                } else {
                    String::new()
                },
            ),
        ]);
        Some(self.signed(url, method, params))
    }

    fn media(&self, call: &CallInfo, target: &StreamTarget) -> Box<dyn MediaDialect> {
        Box::new(PlivoMedia {
            stream_id: uuid::Uuid::new_v4().to_string(),
            call_id: call.id.clone(),
            format: target.format,
            parameters: target.parameters.clone(),
            seq: 0,
            epoch_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
        })
    }
}
