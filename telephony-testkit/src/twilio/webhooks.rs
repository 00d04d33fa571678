//! Twilio's [`Dialect`]: its status names, and the requests it sends to the host signed with
//! `X-Twilio-Signature`: the answer fetch (an outbound call's `Url`, an inbound call's voice
//! URL), the status callbacks a call asked for, and the Media Stream's WebSocket upgrade.

use telephony::twilio::KIND;
use telephony::twilio::signature::sign_request;
use telephony::{CallStatus, ProviderKind, Secret, Url};

use super::media::TwilioMedia;
use super::{ACCOUNT_SID, markup, rfc2822};
use crate::engine::{CallInfo, Dialect, MediaDialect, Phase, Webhook};
use crate::markup::{Instruction, StreamTarget};

pub(super) struct TwilioDialect {
    pub(super) token: Secret,
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
