//! Twilio's [`Dialect`]: its status names, and the requests it sends to the host signed with
//! `X-Twilio-Signature`: the answer fetch (an outbound call's `Url`, an inbound call's voice
//! URL), the status callbacks a call asked for, and the Media Stream's WebSocket upgrade.

use telephony::twilio::KIND;
use telephony::twilio::signature::sign_request;
use telephony::{CallStatus, ProviderKind, Secret, Url};

use super::media::TwilioMedia;
use super::{ACCOUNT_SID, markup, rfc2822};
use crate::engine::{
    AmdMode, AmdVerdict, CallInfo, DialOutcome, Dialect, MediaDialect, Phase, Recording, Webhook,
};
use crate::markup::{Instruction, StreamTarget};

pub(super) struct TwilioDialect {
    pub(super) token: Secret,
    /// The fake's base URL: where its recordings are fetched.
    pub(super) base_url: Url,
}

impl TwilioDialect {
    fn params(&self, call: &CallInfo, status: &str) -> Vec<(String, String)> {
        let direction = if call.inbound {
            "inbound"
        } else {
            "outbound-api"
        };
        vec![
            ("AccountSid".into(), ACCOUNT_SID.into()),
            ("ApiVersion".into(), "2010-04-01".into()),
            ("CallSid".into(), call.id.clone()),
            ("CallStatus".into(), status.into()),
            ("Called".into(), call.to.clone()),
            ("Caller".into(), call.from.clone()),
            ("Direction".into(), direction.into()),
            ("From".into(), call.from.clone()),
            ("To".into(), call.to.clone()),
        ]
    }

    fn signed(&self, method: &str, url: &Url, params: &[(String, String)]) -> Webhook {
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if method.eq_ignore_ascii_case("GET") {
            let mut url = url.clone();
            url.query_pairs_mut().extend_pairs(&pairs);
            let (_, sig) = sign_request(&self.token, &crate::engine::exact(&url), &[], None);
            return Webhook {
                method: "GET".into(),
                url,
                headers: vec![("X-Twilio-Signature", sig)],
                body: Vec::new(),
            };
        }
        let (_, sig) = sign_request(&self.token, &crate::engine::exact(url), &pairs, None);
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        Webhook {
            method: "POST".into(),
            url: url.clone(),
            headers: vec![
                ("X-Twilio-Signature", sig),
                ("Content-Type", "application/x-www-form-urlencoded".into()),
            ],
            body: body.into_bytes(),
        }
    }
}

impl Dialect for TwilioDialect {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn raw_status(&self, phase: Phase) -> &'static str {
        match phase {
            Phase::Initiated => "initiated",
            Phase::Ringing => "ringing",
            Phase::Answered => "in-progress",
            Phase::Completed => "completed",
            Phase::Busy => "busy",
            Phase::NoAnswer => "no-answer",
            Phase::Failed => "failed",
            Phase::Canceled => "canceled",
        }
    }

    fn normalize(&self, raw: &str) -> CallStatus {
        telephony::twilio::status::call_status(raw)
    }

    fn answer_request(&self, call: &CallInfo, url: &Url, method: &str) -> Webhook {
        let status = if call.inbound {
            "ringing"
        } else {
            "in-progress"
        };
        self.signed(method, url, &self.params(call, status))
    }

    fn status_request(&self, call: &CallInfo, phase: Phase) -> Option<Webhook> {
        let url = call.hooks.status_url.as_ref()?;
        let event = match phase {
            Phase::Initiated => "initiated",
            Phase::Ringing => "ringing",
            Phase::Answered => "answered",
            _ => "completed",
        };
        // Without StatusCallbackEvent, Twilio reports only the end.
        let wanted = match &call.hooks.status_events {
            Some(events) => events.iter().any(|e| e == event),
            None => event == "completed",
        };
        if !wanted {
            return None;
        }
        let mut params = self.params(call, self.raw_status(phase));
        params.push(("Timestamp".into(), rfc2822(std::time::SystemTime::now())));
        params.push(("CallbackSource".into(), "call-progress-events".into()));
        params.push(("SequenceNumber".into(), (phase as u8).to_string()));
        if phase.is_final() {
            let secs = call.duration_secs.unwrap_or(0).to_string();
            params.push(("CallDuration".into(), secs.clone()));
            params.push(("Duration".into(), secs));
        }
        let method = call.hooks.status_method.as_deref().unwrap_or("POST");
        Some(self.signed(method, url, &params))
    }

    fn parse_answer(&self, body: &str) -> Result<Vec<Instruction>, String> {
        markup::twiml(body)
    }

    /// Twilio signs the WebSocket upgrade as it signs a GET: the `wss://` URL alone.
    fn upgrade_headers(&self, url: &str) -> Vec<(&'static str, String)> {
        match telephony::RequestUrl::parse(url) {
            Ok(url) => {
                let (_, sig) = sign_request(&self.token, &url, &[], None);
                vec![("X-Twilio-Signature", sig)]
            }
            Err(_) => Vec::new(),
        }
    }

    fn leg_ids(&self, seq: u64) -> (String, String) {
        (format!("CA{seq:032x}"), String::new())
    }

    fn recording_id(&self, seq: u64) -> String {
        format!("RE{seq:032x}")
    }

    /// Twilio's recording status callback (its `completed` event).
    fn recording_request(&self, call: &CallInfo, r: &Recording, url: &Url) -> Option<Webhook> {
        let base = self.base_url.join(&format!(
            "/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{}",
            r.id
        ));
        let params: Vec<(String, String)> = vec![
            ("AccountSid".into(), ACCOUNT_SID.into()),
            ("CallSid".into(), call.id.clone()),
            ("RecordingSid".into(), r.id.clone()),
            (
                "RecordingUrl".into(),
                base.map(|u| u.to_string()).unwrap_or_default(),
            ),
            ("RecordingStatus".into(), "completed".into()),
            (
                "RecordingDuration".into(),
                r.duration.map_or(0, |d| d.as_secs()).to_string(),
            ),
            ("RecordingChannels".into(), r.channels.to_string()),
            ("RecordingStartTime".into(), rfc2822(r.started_at)),
            ("RecordingSource".into(), "StartCallRecordingAPI".into()),
            ("RecordingTrack".into(), "both".into()),
        ];
        Some(self.signed("POST", url, &params))
    }

    /// Twilio's asynchronous AMD callback: `Enable` reports `human` or `machine_start` at
    /// once; `DetectMessageEnd` reports `human` at once and a machine only when its greeting
    /// ended.
    fn amd_request(
        &self,
        call: &CallInfo,
        mode: AmdMode,
        verdict: AmdVerdict,
        url: &Url,
    ) -> Option<Webhook> {
        let (answered_by, ms) = match (mode, verdict) {
            (_, AmdVerdict::Human) => ("human", 2200),
            (AmdMode::Detect, AmdVerdict::Machine) => ("machine_start", 2400),
            (AmdMode::GreetingEnd, AmdVerdict::Machine) | (AmdMode::Detect, _) => return None,
            (AmdMode::GreetingEnd, AmdVerdict::MachineEndBeep) => ("machine_end_beep", 4500),
            (AmdMode::GreetingEnd, AmdVerdict::MachineEndSilence) => ("machine_end_silence", 4500),
        };
        let params: Vec<(String, String)> = vec![
            ("AccountSid".into(), ACCOUNT_SID.into()),
            ("CallSid".into(), call.id.clone()),
            ("AnsweredBy".into(), answered_by.into()),
            ("MachineDetectionDuration".into(), ms.to_string()),
        ];
        Some(self.signed("POST", url, &params))
    }

    /// The `<Dial action>` request: the call's parameters and the dial's outcome.
    fn dial_action_request(
        &self,
        call: &CallInfo,
        outcome: &DialOutcome,
        url: &Url,
        method: &str,
    ) -> Option<Webhook> {
        let dial_status = match outcome.phase {
            Phase::Completed if outcome.answered => "completed",
            Phase::Busy => "busy",
            Phase::NoAnswer => "no-answer",
            Phase::Canceled => "canceled",
            _ => "failed",
        };
        let mut params = self.params(call, "in-progress");
        params.push(("DialCallSid".into(), outcome.leg.clone()));
        params.push(("DialCallStatus".into(), dial_status.into()));
        params.push(("DialCallDuration".into(), outcome.duration_secs.to_string()));
        Some(self.signed(method, url, &params))
    }

    fn media(&self, call: &CallInfo, target: &StreamTarget) -> Box<dyn MediaDialect> {
        Box::new(TwilioMedia {
            stream_sid: format!("MZ{}", &call.id[2..]),
            call_sid: call.id.clone(),
            parameters: target.parameters.clone(),
            seq: 0,
            chunk: 0,
        })
    }
}
