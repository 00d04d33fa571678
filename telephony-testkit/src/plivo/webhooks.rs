//! Plivo's [`Dialect`]: its status names, and the requests it sends to the host with a V3
//! signature and nonce: the answer fetch (an outbound call's `answer_url`, an inbound call's
//! application), and the ring and hangup callbacks, with the hangup cause, duration and cost.

use telephony::plivo::KIND;
use telephony::plivo::signature::{V3_HEADER, V3_NONCE_HEADER, sign_v3};
use telephony::{CallStatus, FormParams, ProviderKind, Secret, Url};

use super::markup;
use super::media::PlivoMedia;
use crate::engine::{CallInfo, Dialect, MediaDialect, Phase, Webhook};
use crate::markup::{Instruction, StreamTarget};

pub(super) struct PlivoDialect {
    pub(super) token: Secret,
}

impl PlivoDialect {
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
                let cause = match p {
                    Phase::Busy => "USER_BUSY",
                    Phase::NoAnswer => "NO_ANSWER",
                    Phase::Canceled => "ORIGINATOR_CANCEL",
                    Phase::Failed => "UNALLOCATED_NUMBER",
                    _ => "NORMAL_CLEARING",
                };
                params.push(("HangupCause".into(), cause.into()));
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
