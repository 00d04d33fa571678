//! Vonage's [`Dialect`]: its status names, and the requests it sends to the host, signed
//! with an HS256 JWT over the `payload_hash`: the answer fetch (an outbound call's
//! `answer_url`, an inbound call's application) and the events to the `event_url`.

use telephony::vonage::KIND;
use telephony::vonage::signature::{claims_for, payload_hash_for, sign};
use telephony::{CallStatus, ProviderKind, Secret, Url};

use super::media::VonageMedia;
use super::{API_KEY, APPLICATION_ID, markup, rfc3339};
use crate::engine::{CallInfo, Dialect, MediaDialect, Phase, Webhook};
use crate::markup::{Instruction, StreamTarget};

pub(super) struct VonageDialect {
    pub(super) secret: Secret,
}

impl VonageDialect {
    fn signed(&self, url: &Url, method: &str, fields: serde_json::Value) -> Webhook {
        let get = method.eq_ignore_ascii_case("GET");
        let (url, body) = if get {
            let mut url = url.clone();
            if let Some(o) = fields.as_object() {
                let mut q = url.query_pairs_mut();
                for (k, v) in o {
                    let text = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    q.append_pair(k, &text);
                }
            }
            (url, Vec::new())
        } else {
            (url.clone(), fields.to_string().into_bytes())
        };
        let method = if get {
            http::Method::GET
        } else {
            http::Method::POST
        };
        let hash = payload_hash_for(&method, &crate::engine::exact(&url), &body);
        let claims = claims_for(
            hash,
            std::time::SystemTime::now(),
            uuid::Uuid::new_v4().to_string(),
            Some(API_KEY),
            Some(APPLICATION_ID),
        );
        let mut headers = vec![(
            "Authorization",
            format!("Bearer {}", sign(&self.secret, &claims)),
        )];
        if !get {
            headers.push(("Content-Type", "application/json".into()));
        }
        Webhook {
            method: method.to_string(),
            url,
            headers,
            body,
        }
    }
}

impl Dialect for VonageDialect {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn raw_status(&self, phase: Phase) -> &'static str {
        match phase {
            Phase::Initiated => "started",
            Phase::Ringing => "ringing",
            Phase::Answered => "answered",
            Phase::Completed => "completed",
            Phase::Busy => "busy",
            Phase::NoAnswer => "timeout",
            Phase::Failed => "failed",
            Phase::Canceled => "cancelled",
        }
    }

    fn normalize(&self, raw: &str) -> CallStatus {
        telephony::vonage::status::call_status(raw)
    }

    fn answer_request(&self, call: &CallInfo, url: &Url, method: &str) -> Webhook {
        let fields = serde_json::json!({
            "to": call.to,
            "from": call.from,
            "uuid": call.id,
            "conversation_uuid": call.secondary_id,
        });
        self.signed(url, method, fields)
    }

    fn status_request(&self, call: &CallInfo, phase: Phase) -> Option<Webhook> {
        let url = call.hooks.status_url.as_ref()?;
        let mut fields = serde_json::json!({
            "from": call.from,
            "to": call.to,
            "uuid": call.id,
            "conversation_uuid": call.secondary_id,
            "status": self.raw_status(phase),
            "direction": if call.inbound { "inbound" } else { "outbound" },
            "timestamp": rfc3339(std::time::SystemTime::now()),
        });
        if phase == Phase::Completed {
            fields["duration"] = call.duration_secs.unwrap_or(0).to_string().into();
            fields["rate"] = format!("{:.8}", call.rate).into();
            fields["price"] = call.price.map(|p| format!("{p:.8}")).into();
            fields["network"] = "GB-FIXED".into();
            fields["start_time"] = rfc3339(call.created).into();
            fields["end_time"] = rfc3339(std::time::SystemTime::now()).into();
        }
        let method = call.hooks.status_method.as_deref().unwrap_or("POST");
        Some(self.signed(url, method, fields))
    }

    fn parse_answer(&self, body: &str) -> Result<Vec<Instruction>, String> {
        markup::ncco(body)
    }

    fn media(&self, _call: &CallInfo, target: &StreamTarget) -> Box<dyn MediaDialect> {
        Box::new(VonageMedia {
            content_type: match target.format.rate.hz() {
                8000 => "audio/l16;rate=8000",
                24000 => "audio/l16;rate=24000",
                _ => "audio/l16;rate=16000",
            },
            frame_bytes: target.format.rate.samples_per_20ms() * 2,
            headers: target.headers_json.clone(),
        })
    }
}
