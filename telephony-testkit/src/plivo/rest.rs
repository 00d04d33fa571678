//! Plivo's REST API, the part the adapter uses: calls (create, live by call id, queued by
//! request id, the record once over, hang up, cancel a request), the account (its
//! `cash_credits`), its numbers and the application inbound calls go to, behind Basic auth and the fault knobs, with Plivo's
//! error bodies.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use telephony::Url;

use super::{APP_ID, AUTH_ID, AUTH_TOKEN, Number, Plivo, Shared};
use crate::engine::{AnswerWith, Dial, Hooks, Operation, basic_auth, fault_response};

pub(super) fn error(status: u16, message: &str) -> Response {
    let body = serde_json::json!({"api_id": uuid::Uuid::new_v4().to_string(), "error": message});
    fault_response(status, None, body.to_string())
}

pub(super) fn accepted(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

impl Plivo {
    pub(super) fn authorized(&self, id: &str, headers: &HeaderMap) -> Result<(), Response> {
        match basic_auth(headers) {
            Some((user, password))
                if user == AUTH_ID && password == AUTH_TOKEN && id == AUTH_ID =>
            {
                Ok(())
            }
            _ => Err(error(401, "authentication failed")),
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
                let body = serde_json::json!({"api_id": "emulated", "error": "emulated fault"});
                Err(fault_response(status, retry_after, body.to_string()))
            }
            None => Ok(()),
        }
    }

    /// (call uuid, request uuid, raw status, answered, over)
    pub(super) fn find(&self, id: &str) -> Option<(String, String, String, bool, bool)> {
        let s = self.carrier.lock();
        s.calls
            .values()
            .find(|c| c.info.id == id || c.info.secondary_id == id)
            .map(|c| {
                (
                    c.info.id.clone(),
                    c.info.secondary_id.clone(),
                    c.record.raw_status.clone(),
                    c.info.answered,
                    c.record.is_over(),
                )
            })
    }

    fn live_json(&self, call_uuid: &str, status: &str) -> serde_json::Value {
        let s = self.carrier.lock();
        let c = s.calls.get(call_uuid);
        serde_json::json!({
            "api_id": uuid::Uuid::new_v4().to_string(),
            "call_uuid": call_uuid,
            "call_status": status,
            "direction": c.map(|c| if c.info.inbound { "inbound" } else { "outbound" }),
            "from": c.map(|c| c.info.from.clone()),
            "to": c.map(|c| c.info.to.clone()),
            "request_uuid": c.map(|c| c.info.secondary_id.clone()),
        })
    }

    fn cdr_json(&self, call_uuid: &str) -> serde_json::Value {
        let s = self.carrier.lock();
        let Some(c) = s.calls.get(call_uuid) else {
            return serde_json::Value::Null;
        };
        let state = match c.record.raw_status.as_str() {
            "completed" => "ANSWER",
            "busy" => "BUSY",
            "no-answer" => "NOANSWER",
            "cancel" => "CANCEL",
            _ => "FAILED",
        };
        let secs = c.info.duration_secs.unwrap_or(0);
        serde_json::json!({
            "api_id": uuid::Uuid::new_v4().to_string(),
            "call_uuid": c.info.id,
            "call_state": state,
            "call_direction": if c.info.inbound { "inbound" } else { "outbound" },
            "from_number": c.info.from,
            "to_number": c.info.to,
            "call_duration": secs,
            "bill_duration": secs.div_ceil(60) * 60,
            "total_amount": c.info.price.map(|p| format!("{p:.5}")),
            "total_rate": format!("{:.5}", c.info.rate),
            "hangup_cause_name": "Normal Hangup",
            "hangup_source": "Callee",
            "parent_call_uuid": c.parent,
        })
    }

    fn number_json(n: &Number) -> serde_json::Value {
        serde_json::json!({
            "number": n.digits,
            "alias": null,
            "application": n.app_id.as_ref().map(|a| format!("/v1/Account/{AUTH_ID}/Application/{a}/")),
            "voice_enabled": n.features.voice,
            "sms_enabled": n.features.sms,
        })
    }
}

pub(super) async fn create_call(
    State(p): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> Response {
    if let Err(r) = p.admit(&id, &headers, Operation::CreateCall).await {
        return r;
    }
    let field = |name: &str| {
        body.get(name)
            .and_then(|v| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let (Some(from), Some(to), Some(answer)) = (field("from"), field("to"), field("answer_url"))
    else {
        return error(400, "from, to and answer_url are required");
    };
    let Ok(answer) = Url::parse(answer) else {
        return error(400, "answer_url is not a URL");
    };
    let request_uuid = uuid::Uuid::new_v4().to_string();
    let id = uuid::Uuid::new_v4().to_string();
    let (amd, amd_url) = match p.machine_detection(&id, &body) {
        Ok(asked) => asked,
        Err(r) => return r,
    };
    let hooks = Hooks {
        ring_url: field("ring_url").and_then(|u| Url::parse(u).ok()),
        hangup_url: field("hangup_url").and_then(|u| Url::parse(u).ok()),
        amd_url,
        ..Hooks::default()
    };
    p.carrier.place(Dial {
        id,
        secondary_id: request_uuid.clone(),
        from: from.to_owned(),
        to: to.to_owned(),
        inbound: false,
        answer: AnswerWith::Url(answer, field("answer_method").unwrap_or("POST").to_owned()),
        hooks,
        ring_timeout: body
            .get("ring_timeout")
            .and_then(serde_json::Value::as_u64)
            .map(std::time::Duration::from_secs),
        parent: None,
        amd,
        // Plivo's Call API has no record flag.
        record: None,
    });
    accepted(
        StatusCode::CREATED,
        serde_json::json!({"api_id": uuid::Uuid::new_v4().to_string(), "message": "call fired", "request_uuid": request_uuid}),
    )
}

#[derive(serde::Deserialize)]
pub(super) struct CallQuery {
    status: Option<String>,
}

pub(super) async fn get_call(
    State(p): State<Shared>,
    Path((id, call)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<CallQuery>,
) -> Response {
    if let Err(r) = p.admit(&id, &headers, Operation::FetchCall).await {
        return r;
    }
    let not_found = || error(404, "call not found");
    let Some((uuid, request, status, answered, over)) = p.find(&call) else {
        return not_found();
    };
    match q.status.as_deref() {
        Some("live") if call == uuid && !over && status != "queued" => {
            accepted(StatusCode::OK, p.live_json(&uuid, &status))
        }
        Some("queued") if call == request && !answered && !over => {
            accepted(StatusCode::OK, p.live_json(&uuid, "queued"))
        }
        None if call == uuid && over => accepted(StatusCode::OK, p.cdr_json(&uuid)),
        _ => not_found(),
    }
}

pub(super) async fn list_live(
    State(p): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<CallQuery>,
) -> Response {
    if let Err(r) = p.admit(&id, &headers, Operation::FetchCall).await {
        return r;
    }
    if q.status.as_deref() != Some("live") {
        return error(400, "the emulator lists live calls only");
    }
    let calls: Vec<String> = {
        let s = p.carrier.lock();
        s.order
            .iter()
            .filter_map(|id| s.calls.get(id))
            .filter(|c| !c.record.is_over() && c.record.raw_status != "queued")
            .map(|c| c.info.id.clone())
            .collect()
    };
    accepted(
        StatusCode::OK,
        serde_json::json!({"api_id": uuid::Uuid::new_v4().to_string(), "calls": calls}),
    )
}

pub(super) async fn hangup_call(
    State(p): State<Shared>,
    Path((id, call)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = p.admit(&id, &headers, Operation::UpdateCall).await {
        return r;
    }
    match p.find(&call) {
        Some((uuid, _, _, answered, false)) if call == uuid && answered => {
            p.carrier.hangup(&uuid);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => error(404, "call not found"),
    }
}

pub(super) async fn cancel_request(
    State(p): State<Shared>,
    Path((id, request)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = p.admit(&id, &headers, Operation::UpdateCall).await {
        return r;
    }
    match p.find(&request) {
        Some((uuid, req, _, false, false)) if req == request => {
            p.carrier.hangup(&uuid);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => error(404, "request not found"),
    }
}

/// The account (`GET /v1/Account/{auth_id}/`), as Plivo documents it: its balance is
/// `cash_credits`, a decimal string in US dollars.
pub(super) async fn get_account(
    State(p): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = p.admit(&id, &headers, Operation::Balance).await {
        return r;
    }
    let credits = p.carrier.lock().settings.balance;
    accepted(
        StatusCode::OK,
        serde_json::json!({
            "account_type": "standard",
            "address": "",
            "api_id": uuid::Uuid::new_v4().to_string(),
            "auth_id": AUTH_ID,
            "auto_recharge": false,
            "billing_mode": "prepaid",
            "cash_credits": credits.to_string(),
            "city": "",
            "name": "Emulated account",
            "resource_uri": format!("/v1/Account/{AUTH_ID}/"),
            "state": "",
            "timezone": "Etc/UTC",
        }),
    )
}

pub(super) async fn list_numbers(
    State(p): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = p.admit(&id, &headers, Operation::Numbers).await {
        return r;
    }
    let numbers = p.numbers.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let objects: Vec<_> = numbers.iter().map(Plivo::number_json).collect();
    accepted(
        StatusCode::OK,
        serde_json::json!({
            "api_id": uuid::Uuid::new_v4().to_string(),
            "meta": {"limit": 20, "next": null, "offset": 0, "previous": null, "total_count": objects.len()},
            "objects": objects,
        }),
    )
}

pub(super) async fn get_number(
    State(p): State<Shared>,
    Path((id, number)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = p.admit(&id, &headers, Operation::Numbers).await {
        return r;
    }
    let numbers = p.numbers.lock().unwrap_or_else(|e| e.into_inner());
    match numbers.iter().find(|n| n.digits == number) {
        Some(n) => accepted(StatusCode::OK, Plivo::number_json(n)),
        None => error(404, "number not found"),
    }
}

pub(super) async fn update_number(
    State(p): State<Shared>,
    Path((id, number)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> Response {
    if let Err(r) = p.admit(&id, &headers, Operation::Numbers).await {
        return r;
    }
    let mut numbers = p.numbers.lock().unwrap_or_else(|e| e.into_inner());
    let Some(n) = numbers.iter_mut().find(|n| n.digits == number) else {
        return error(404, "number not found");
    };
    if let Some(app) = body.get("app_id").and_then(|a| a.as_str()) {
        if app != APP_ID {
            return error(404, "application not found");
        }
        n.app_id = Some(app.to_owned());
    }
    accepted(
        StatusCode::ACCEPTED,
        serde_json::json!({"api_id": "emulated", "message": "changed"}),
    )
}

pub(super) async fn get_application(
    State(p): State<Shared>,
    Path((id, app)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = p.admit(&id, &headers, Operation::Numbers).await {
        return r;
    }
    if app != APP_ID {
        return error(404, "application not found");
    }
    let a = p.app.lock().unwrap_or_else(|e| e.into_inner()).clone();
    accepted(
        StatusCode::OK,
        serde_json::json!({"app_id": APP_ID, "app_name": "emulated", "answer_url": a.answer_url, "answer_method": a.answer_method}),
    )
}

pub(super) async fn update_application(
    State(p): State<Shared>,
    Path((id, app)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> Response {
    if let Err(r) = p.admit(&id, &headers, Operation::Numbers).await {
        return r;
    }
    if app != APP_ID {
        return error(404, "application not found");
    }
    let mut a = p.app.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(u) = body.get("answer_url").and_then(|u| u.as_str()) {
        a.answer_url = Some(u.to_owned());
    }
    if let Some(m) = body.get("answer_method").and_then(|u| u.as_str()) {
        m.clone_into(&mut a.answer_method);
    }
    accepted(
        StatusCode::ACCEPTED,
        serde_json::json!({"api_id": "emulated", "message": "changed"}),
    )
}
