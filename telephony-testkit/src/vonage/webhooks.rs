//! Vonage's [`Dialect`]: its status names, and the requests it sends to the host, signed
//! with an HS256 JWT over the `payload_hash`: the answer fetch (an outbound call's
//! `answer_url`, an inbound call's application, a transfer's NCCO URL), the events to the
//! `event_url` (a call's, a `connect` leg's), machine detection's verdicts, a `connect`'s
//! synchronous outcome, and a recording's announcement. With the application's signed
//! callbacks off ([`FakeVonage::signed_callbacks`](super::FakeVonage::signed_callbacks)), sent
//! unsigned, as Vonage then sends them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use telephony::vonage::KIND;
use telephony::vonage::signature::{claims_for, payload_hash_for, sign};
use telephony::{CallStatus, ProviderKind, Secret, Url};

use super::media::VonageMedia;
use super::{API_KEY, APPLICATION_ID, markup, rfc3339};
use crate::engine::{
    AmdMode, AmdVerdict, CallInfo, DialOutcome, Dialect, MediaDialect, Phase, Recording, Webhook,
};
use crate::markup::{Instruction, StreamTarget};

pub(super) struct VonageDialect {
    pub(super) secret: Secret,
    /// The fake's base URL: where its recordings are fetched (`/v1/files/{id}`).
    pub(super) base_url: Url,
    /// Each call's parties and conversation, as its first event named them: a `connect`
    /// leg's outcome, reported on its parent's behalf, names them too.
    pub(super) parties: Mutex<HashMap<String, (String, String, String)>>,
    /// The application's signed callbacks switch: off, no `Authorization` is sent.
    signs: Arc<AtomicBool>,
}

impl VonageDialect {
    /// A dialect that always signs.
    pub(super) fn new(secret: Secret, base_url: Url) -> VonageDialect {
        VonageDialect::switched(secret, base_url, Arc::new(AtomicBool::new(true)))
    }

    /// A dialect that signs while `signs` is on.
    pub(super) fn switched(secret: Secret, base_url: Url, signs: Arc<AtomicBool>) -> VonageDialect {
        VonageDialect {
            secret,
            base_url,
            parties: Mutex::new(HashMap::new()),
            signs,
        }
    }

    /// The fields every event of `call` carries.
    fn event(
        &self,
        id: &str,
        from: &str,
        to: &str,
        conversation: &str,
        status: &str,
    ) -> serde_json::Value {
        serde_json::json!({
            "from": from,
            "to": to,
            "uuid": id,
            "conversation_uuid": conversation,
            "status": status,
            "direction": "outbound",
            "timestamp": rfc3339(std::time::SystemTime::now()),
        })
    }

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
        let mut headers = Vec::new();
        if self.signs.load(Ordering::Relaxed) {
            let hash = payload_hash_for(&method, &crate::engine::exact(&url), &body);
            let claims = claims_for(
                hash,
                std::time::SystemTime::now(),
                uuid::Uuid::new_v4().to_string(),
                Some(API_KEY),
                Some(APPLICATION_ID),
            );
            headers.push((
                "Authorization",
                format!("Bearer {}", sign(&self.secret, &claims)),
            ));
        }
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
        self.parties
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(call.id.clone())
            .or_insert_with(|| {
                (
                    call.from.clone(),
                    call.to.clone(),
                    call.secondary_id.clone(),
                )
            });
        let url = call.hooks.status_url.as_ref()?;
        let status = self.raw_status(phase);
        // A synchronous `connect` takes its leg's outcome as the dial's action.
        if let Some(events) = &call.hooks.status_events
            && !events.iter().any(|e| e == status)
        {
            return None;
        }
        let mut fields = self.event(&call.id, &call.from, &call.to, &call.secondary_id, status);
        if call.inbound {
            fields["direction"] = "inbound".into();
        }
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

    /// A leg is a call of its own: a uuid, and a conversation.
    fn leg_ids(&self, _seq: u64) -> (String, String) {
        (
            uuid::Uuid::new_v4().to_string(),
            format!("CON-{}", uuid::Uuid::new_v4()),
        )
    }

    /// The file's id, which ends its `recording_url`.
    fn recording_id(&self, _seq: u64) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    /// The `record` action's event: the file's URL on the Voice API, its size, when it started
    /// and ended (vonage-dotnet-sdk `Vonage/Voice/EventWebhooks/Record.cs`; the NCCO
    /// reference's "Record" event). It names no call: the conversation only.
    fn recording_request(&self, call: &CallInfo, r: &Recording, url: &Url) -> Option<Webhook> {
        let file = self.base_url.join(&format!("v1/files/{}", r.id)).ok()?;
        let end = r.started_at + r.duration.unwrap_or_default();
        let fields = serde_json::json!({
            "start_time": rfc3339(r.started_at),
            "end_time": rfc3339(end),
            "recording_url": file.as_str(),
            "recording_uuid": uuid::Uuid::new_v4().to_string(),
            "size": r.wav.as_ref().map_or(0, |w| w.len()),
            "conversation_uuid": call.secondary_id,
            "timestamp": rfc3339(std::time::SystemTime::now()),
        });
        Some(self.signed(url, "POST", fields))
    }

    /// Machine detection's events at the call's `event_url`: `status` `human` or `machine`;
    /// with `detect_beep`, a later `machine` with `sub_state` `beep_start`, or `beep_timeout`
    /// when no beep came (Vonage reports that only after `beep_timeout`, 45 s at least; the
    /// emulator at the greeting's end).
    fn amd_request(
        &self,
        call: &CallInfo,
        mode: AmdMode,
        verdict: AmdVerdict,
        url: &Url,
    ) -> Option<Webhook> {
        let (status, sub_state) = match (mode, verdict) {
            (_, AmdVerdict::Human) => ("human", None),
            (_, AmdVerdict::Machine) => ("machine", None),
            (AmdMode::Detect, _) => return None,
            (AmdMode::GreetingEnd, AmdVerdict::MachineEndBeep) => ("machine", Some("beep_start")),
            (AmdMode::GreetingEnd, AmdVerdict::MachineEndSilence) => {
                ("machine", Some("beep_timeout"))
            }
        };
        let mut fields = self.event(&call.id, &call.from, &call.to, &call.secondary_id, status);
        if let Some(s) = sub_state {
            fields["sub_state"] = s.into();
        }
        let method = call.hooks.status_method.as_deref().unwrap_or("POST");
        Some(self.signed(url, method, fields))
    }

    /// A synchronous `connect`'s outcome: the leg's last event, to the connect's `eventUrl`;
    /// an NCCO in answer replaces the call's.
    fn dial_action_request(
        &self,
        call: &CallInfo,
        outcome: &DialOutcome,
        url: &Url,
        method: &str,
    ) -> Option<Webhook> {
        let (from, to, conversation) = self
            .parties
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&outcome.leg)
            .cloned()
            .unwrap_or_else(|| (String::new(), String::new(), call.secondary_id.clone()));
        let status = self.raw_status(outcome.phase);
        let mut fields = self.event(&outcome.leg, &from, &to, &conversation, status);
        if outcome.phase == Phase::Completed {
            fields["duration"] = outcome.duration_secs.to_string().into();
        }
        Some(self.signed(url, method, fields))
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant, SystemTime};

    use telephony::vonage::signature::VonageValidator;

    use super::*;
    use crate::engine::Hooks;

    fn dialect() -> VonageDialect {
        VonageDialect::new(
            Secret::new(super::super::SIGNATURE_SECRET),
            Url::parse("http://127.0.0.1:4000/").unwrap(),
        )
    }

    fn call(status_url: &str) -> CallInfo {
        let mut c = CallInfo::detached("aaaa-1", "CON-1", "14155550199", "14155550100", false);
        c.hooks = Hooks {
            status_url: Some(Url::parse(status_url).unwrap()),
            ..Hooks::default()
        };
        c
    }

    /// The body, after checking the request is signed as Vonage signs, to the URL given.
    fn body(hook: &Webhook, url: &str) -> serde_json::Value {
        assert_eq!(hook.url.as_str(), url, "posted to the URL as given");
        assert_eq!(hook.method, "POST");
        let request = hook.clone().into_request();
        VonageValidator::new(Secret::new(super::super::SIGNATURE_SECRET))
            .validate(&request, SystemTime::now())
            .expect("signed as Vonage signs");
        serde_json::from_slice(&hook.body).unwrap()
    }

    #[test]
    fn with_signed_callbacks_off_webhooks_go_unsigned_and_are_refused() {
        let signs = Arc::new(AtomicBool::new(true));
        let d = VonageDialect::switched(
            Secret::new(super::super::SIGNATURE_SECRET),
            Url::parse("http://127.0.0.1:4000/").unwrap(),
            signs.clone(),
        );
        let c = call("http://127.0.0.1:9/events");
        let url = Url::parse("http://127.0.0.1:9/answer").unwrap();
        body(&d.answer_request(&c, &url, "POST"), url.as_str());
        signs.store(false, Ordering::Relaxed);
        let hook = d.answer_request(&c, &url, "POST");
        assert!(
            hook.headers
                .iter()
                .all(|(name, _)| *name != "Authorization"),
            "{:?}",
            hook.headers
        );
        let refused = VonageValidator::new(Secret::new(super::super::SIGNATURE_SECRET))
            .validate(&hook.into_request(), SystemTime::now());
        assert!(refused.is_err());
    }

    #[test]
    fn machine_verdicts_as_the_adapter_reads_them() {
        let d = dialect();
        let url = "http://127.0.0.1:9/status?telephony_x=1&telephony_sig=ab";
        let c = call(url);
        let u = Url::parse(url).unwrap();
        let amd = |mode, verdict| d.amd_request(&c, mode, verdict, &u).map(|h| body(&h, url));
        let human = amd(AmdMode::Detect, AmdVerdict::Human).unwrap();
        assert_eq!(
            (human["status"].as_str(), human.get("sub_state")),
            (Some("human"), None)
        );
        assert_eq!(human["uuid"], "aaaa-1");
        assert_eq!(
            amd(AmdMode::GreetingEnd, AmdVerdict::Machine).unwrap()["status"],
            "machine"
        );
        let beep = amd(AmdMode::GreetingEnd, AmdVerdict::MachineEndBeep).unwrap();
        assert_eq!(
            (beep["status"].as_str(), beep["sub_state"].as_str()),
            (Some("machine"), Some("beep_start"))
        );
        let silent = amd(AmdMode::GreetingEnd, AmdVerdict::MachineEndSilence).unwrap();
        assert_eq!(silent["sub_state"], "beep_timeout");
        assert!(amd(AmdMode::Detect, AmdVerdict::MachineEndBeep).is_none());
    }

    #[test]
    fn a_recording_is_announced_with_its_file_on_the_voice_api() {
        let d = dialect();
        let url = "http://127.0.0.1:9/status?telephony_rec_call=aaaa-1&telephony_sig=cd";
        let started_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let r = Recording {
            id: "f1le".into(),
            call_id: "aaaa-1".into(),
            channels: 2,
            format: "mp3".into(),
            callback: None,
            started: Instant::now(),
            stopped: None,
            started_at,
            wav: Some(Arc::new(vec![0; 44])),
            duration: Some(Duration::from_secs(9)),
            rate: None,
            deleted: false,
        };
        let b = body(
            &d.recording_request(&call(url), &r, &Url::parse(url).unwrap())
                .unwrap(),
            url,
        );
        assert_eq!(b["recording_url"], "http://127.0.0.1:4000/v1/files/f1le");
        assert_eq!(b["size"], 44);
        assert_eq!(b["conversation_uuid"], "CON-1");
        assert_eq!(b["start_time"], "2027-01-15T08:00:00Z");
        assert_eq!(b["end_time"], "2027-01-15T08:00:09Z");
        assert!(b.get("status").is_none() && b["recording_uuid"].is_string());
    }

    #[test]
    fn a_synchronous_connect_reports_its_outcome_as_the_dial_action() {
        let d = dialect();
        let url = "http://127.0.0.1:9/status?telephony_transfer=x&telephony_sig=ef";
        let mut leg = call(url);
        leg.id = "leg-1".into();
        leg.to = "14155550122".into();
        // Its progress only: the outcome is the action's.
        leg.hooks.status_events = Some(vec!["started".into(), "ringing".into(), "answered".into()]);
        assert!(d.status_request(&leg, Phase::Ringing).is_some());
        assert!(d.status_request(&leg, Phase::NoAnswer).is_none());
        let outcome = DialOutcome {
            leg: "leg-1".into(),
            phase: Phase::NoAnswer,
            answered: false,
            duration_secs: 0,
        };
        let hook = d
            .dial_action_request(
                &call("http://127.0.0.1:9/e"),
                &outcome,
                &Url::parse(url).unwrap(),
                "POST",
            )
            .unwrap();
        let b = body(&hook, url);
        assert_eq!(
            (b["uuid"].as_str(), b["status"].as_str()),
            (Some("leg-1"), Some("timeout"))
        );
        assert_eq!(b["to"], "14155550122");
    }
}
