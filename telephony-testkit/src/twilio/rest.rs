//! Twilio's REST API, the part the adapter uses: calls (create, fetch, update), the account's
//! incoming phone numbers (list, update) and its balance, behind Basic auth and the fault knobs,
//! with Twilio's error bodies.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use telephony::{E164, Url};

use super::{ACCOUNT_SID, AUTH_TOKEN, Number, Shared, Twilio, rfc2822};
use crate::engine::{
    AmdVerdict, AnswerWith, Control, Dial, Hooks, Operation, basic_auth, fault_response,
};

pub(super) fn error(status: u16, code: u32, message: &str) -> Response {
    let body = serde_json::json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    });
    fault_response(status, None, body.to_string())
}

impl Twilio {
    pub(super) fn authorized(&self, sid: &str, headers: &HeaderMap) -> Result<(), Response> {
        match basic_auth(headers) {
            Some((user, password))
                if user == ACCOUNT_SID && password == AUTH_TOKEN && sid == ACCOUNT_SID =>
            {
                Ok(())
            }
            _ => Err(error(401, 20003, "Authenticate")),
        }
    }

    /// Every REST handler's door: the account's auth, then the fault knobs for `op`.
    pub(super) async fn admit(
        &self,
        account: &str,
        headers: &HeaderMap,
        op: Operation,
    ) -> Result<(), Response> {
        self.authorized(account, headers)?;
        self.fault(op).await
    }

    pub(super) async fn fault(&self, op: Operation) -> Result<(), Response> {
        match self.carrier.fault(op).await {
            Some((status, retry_after)) => {
                let body = serde_json::json!({"code": 20000 + u32::from(status), "message": "emulated fault", "status": status});
                Err(fault_response(status, retry_after, body.to_string()))
            }
            None => Ok(()),
        }
    }

    pub(super) fn call_json(&self, id: &str) -> Option<serde_json::Value> {
        let s = self.carrier.lock();
        let c = s.calls.get(id)?;
        let price = c.info.price.map(|p| format!("-{p:.5}"));
        Some(serde_json::json!({
            "sid": c.info.id,
            "account_sid": ACCOUNT_SID,
            "status": c.record.raw_status,
            "direction": if c.info.inbound { "inbound" } else { "outbound-api" },
            "from": c.info.from,
            "to": c.info.to,
            "start_time": rfc2822(c.info.created),
            "end_time": if c.record.is_over() { Some(rfc2822(std::time::SystemTime::now())) } else { None },
            "duration": c.info.duration_secs.map(|d| d.to_string()),
            "price": price,
            "price_unit": "USD",
            // Twilio's call resource carries machine detection's verdict once reached.
            "answered_by": c.info.verdict.map(|v| match v {
                AmdVerdict::Human => "human",
                AmdVerdict::Machine => "machine_start",
                AmdVerdict::MachineEndBeep => "machine_end_beep",
                AmdVerdict::MachineEndSilence => "machine_end_silence",
            }),
            "parent_call_sid": c.parent,
            "api_version": "2010-04-01",
        }))
    }

    fn number_json(n: &Number) -> serde_json::Value {
        serde_json::json!({
            "sid": n.sid,
            "account_sid": ACCOUNT_SID,
            "phone_number": n.phone_number,
            "friendly_name": n.phone_number,
            "voice_url": n.voice_url,
            "voice_method": n.voice_method,
            "voice_application_sid": null,
            "trunk_sid": null,
            "capabilities": {
                "voice": n.features.voice, "sms": n.features.sms, "mms": false, "fax": false
            },
        })
    }
}

fn form_all<'a>(form: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    form.iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

pub(super) fn form_one<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form_all(form, name)
        .into_iter()
        .next()
        .filter(|v| !v.is_empty())
}

pub(super) async fn create_call(
    State(t): State<Shared>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = t.admit(&sid, &headers, Operation::CreateCall).await {
        return r;
    }
    let (Some(to), Some(from)) = (form_one(&form, "To"), form_one(&form, "From")) else {
        return error(400, 21201, "No 'To' or 'From' number is specified");
    };
    if E164::new(to).is_err() {
        return error(400, 21211, &format!("Invalid 'To' Phone Number: {to}"));
    }
    let answer = if let Some(twiml) = form_one(&form, "Twiml") {
        AnswerWith::Inline(twiml.to_owned())
    } else if let Some(url) = form_one(&form, "Url").and_then(|u| Url::parse(u).ok()) {
        AnswerWith::Url(url, form_one(&form, "Method").unwrap_or("POST").to_owned())
    } else {
        return error(400, 21205, "Url or Twiml is required");
    };
    let events: Vec<String> = form_all(&form, "StatusCallbackEvent")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let (amd, amd_url, record) = super::control::create_options(&form);
    let hooks = Hooks {
        status_url: form_one(&form, "StatusCallback").and_then(|u| Url::parse(u).ok()),
        status_method: form_one(&form, "StatusCallbackMethod").map(str::to_owned),
        status_events: (!events.is_empty()).then_some(events),
        ring_url: None,
        hangup_url: None,
        amd_url,
    };
    let id = format!("CA{:032x}", t.carrier.next_seq());
    t.carrier.place(Dial {
        id: id.clone(),
        secondary_id: String::new(),
        from: from.to_owned(),
        to: to.to_owned(),
        inbound: false,
        answer,
        hooks,
        ring_timeout: form_one(&form, "Timeout")
            .and_then(|s| s.parse().ok())
            .map(std::time::Duration::from_secs),
        parent: None,
        amd,
        record,
    });
    let mut body = t.call_json(&id).unwrap_or_default();
    body["status"] = "queued".into();
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

pub(super) async fn fetch_call(
    State(t): State<Shared>,
    Path((sid, call)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = t.admit(&sid, &headers, Operation::FetchCall).await {
        return r;
    }
    let id = call.trim_end_matches(".json");
    match t.call_json(id) {
        Some(body) => axum::Json(body).into_response(),
        None => error(
            404,
            20404,
            &format!(
                "The requested resource /2010-04-01/Accounts/{sid}/Calls/{id}.json was not found"
            ),
        ),
    }
}

pub(super) async fn update_call(
    State(t): State<Shared>,
    Path((sid, call)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = t.admit(&sid, &headers, Operation::UpdateCall).await {
        return r;
    }
    let id = call.trim_end_matches(".json").to_owned();
    if t.call_json(&id).is_none() {
        return error(404, 20404, "The requested resource was not found");
    }
    if matches!(form_one(&form, "Status"), Some("completed" | "canceled")) {
        t.carrier.hangup(&id);
        // The answer shows the call ending.
        tokio::task::yield_now().await;
    } else if let Some(next) = super::control::redirect(&form) {
        // New TwiML: the call leaves what it was doing (a stream gets its stop) for it.
        if !t.carrier.command(&id, Control::Redirect(next)) {
            return error(400, 21220, "Call is not in-progress. Cannot redirect.");
        }
    }
    axum::Json(t.call_json(&id).unwrap_or_default()).into_response()
}

/// The account's balance (`GET /Accounts/{sid}/Balance.json`), as twilio-python's fixture
/// writes it: `{"account_sid", "balance": "0.05", "currency": "USD"}`.
pub(super) async fn fetch_balance(
    State(t): State<Shared>,
    Path(sid): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = t.admit(&sid, &headers, Operation::Balance).await {
        return r;
    }
    let balance = t.carrier.lock().settings.balance;
    axum::Json(serde_json::json!({
        "account_sid": sid,
        "balance": balance.to_string(),
        "currency": "USD",
    }))
    .into_response()
}

#[derive(serde::Deserialize)]
pub(super) struct NumberQuery {
    #[serde(rename = "PhoneNumber")]
    phone_number: Option<String>,
}

pub(super) async fn list_numbers(
    State(t): State<Shared>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    Query(q): Query<NumberQuery>,
) -> Response {
    if let Err(r) = t.admit(&sid, &headers, Operation::Numbers).await {
        return r;
    }
    let numbers = t.numbers.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let list: Vec<serde_json::Value> = numbers
        .iter()
        .filter(|n| {
            q.phone_number
                .as_deref()
                .is_none_or(|p| p == n.phone_number)
        })
        .map(Twilio::number_json)
        .collect();
    axum::Json(
        serde_json::json!({"incoming_phone_numbers": list, "next_page_uri": null, "page": 0}),
    )
    .into_response()
}

pub(super) async fn update_number(
    State(t): State<Shared>,
    Path((sid, number)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = t.admit(&sid, &headers, Operation::Numbers).await {
        return r;
    }
    let pn = number.trim_end_matches(".json");
    let mut numbers = t.numbers.lock().unwrap_or_else(|p| p.into_inner());
    let Some(n) = numbers.iter_mut().find(|n| n.sid == pn) else {
        return error(404, 20404, "The requested resource was not found");
    };
    if let Some(u) = form_one(&form, "VoiceUrl") {
        n.voice_url = Some(u.to_owned());
    }
    if let Some(m) = form_one(&form, "VoiceMethod") {
        n.voice_method = m.to_owned();
    }
    axum::Json(Twilio::number_json(n)).into_response()
}
