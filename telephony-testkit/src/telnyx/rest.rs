//! Telnyx's Call Control v2 API, the parts the adapter uses: dial, read a call, the answer,
//! reject and hangup commands (each run once per `command_id`, as are the call-control
//! commands [`control`](super::control) runs), numbers, the Call Control application, and
//! call-control detail records, behind a bearer API key and the fault knobs, with Telnyx's
//! `errors[]` bodies.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use telephony::Url;

use super::webhooks::leg_id;
use super::{API_KEY, CONNECTION_ID, Shared, Telnyx, rfc3339};
use crate::engine::{AnswerWith, Control, Dial, Hooks, Operation, fault_response};

pub(super) fn error(status: u16, code: &str, title: &str, detail: &str) -> Response {
    let body = serde_json::json!({"errors": [{
        "code": code,
        "title": title,
        "detail": detail,
        "meta": {"url": format!("https://developers.telnyx.com/docs/overview/errors/{code}")},
    }]});
    fault_response(status, None, body.to_string())
}

pub(super) fn ok() -> Response {
    axum::Json(serde_json::json!({"data": {"result": "ok"}})).into_response()
}

impl Telnyx {
    pub(super) fn authorized(&self, headers: &HeaderMap) -> Result<(), Response> {
        let key = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if key == Some(API_KEY) {
            Ok(())
        } else {
            Err(error(
                401,
                "10009",
                "Authentication failed",
                "The API key is missing or invalid.",
            ))
        }
    }

    pub(super) async fn fault(&self, op: Operation) -> Result<(), Response> {
        match self.carrier.fault(op).await {
            Some((status, retry_after)) => {
                let body = serde_json::json!({"errors": [{"code": "10000", "title": "Emulated fault", "detail": format!("an injected {status}")}]});
                Err(fault_response(status, retry_after, body.to_string()))
            }
            None => Ok(()),
        }
    }

    /// A call resource: alive until it ends, its state, its duration once over.
    fn call_json(&self, id: &str) -> Option<serde_json::Value> {
        let s = self.carrier.lock();
        let c = s.calls.get(id)?;
        let over = c.record.is_over();
        let state = if over {
            "hangup"
        } else if c.info.answered {
            "answered"
        } else if c.info.inbound {
            "parked"
        } else {
            "bridging"
        };
        Some(serde_json::json!({
            "record_type": "call",
            "call_control_id": c.info.id,
            "call_leg_id": leg_id(&c.info.id),
            "call_session_id": c.info.secondary_id,
            "is_alive": !over,
            "state": state,
            "call_duration": c.info.duration_secs,
            "start_time": rfc3339(c.info.created),
        }))
    }
}

pub(super) async fn create_call(
    State(t): State<Shared>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> Response {
    if let Err(r) = t.authorized(&headers) {
        return r;
    }
    if let Err(r) = t.fault(Operation::CreateCall).await {
        return r;
    }
    let text = |k: &str| body.get(k).and_then(|v| v.as_str());
    let missing = |k: &str| {
        error(
            422,
            "10004",
            "Missing required parameter",
            &format!("The '{k}' parameter is required."),
        )
    };
    let Some(connection) = text("connection_id") else {
        return missing("connection_id");
    };
    if connection != CONNECTION_ID {
        return error(
            422,
            "10005",
            "Resource not found",
            &format!("Connection {connection} does not exist."),
        );
    }
    let (Some(to), Some(from)) = (text("to"), text("from")) else {
        return missing(if text("to").is_none() { "to" } else { "from" });
    };
    for (k, v) in [("to", to), ("from", from)] {
        if telephony::E164::new(v).is_err() {
            return error(
                422,
                "10016",
                "Phone number must be in +E.164 format",
                &format!("The '{k}' parameter is invalid."),
            );
        }
    }
    // A dial whose command_id was seen is the same dial: its call, not another.
    let command = text("command_id").map(str::to_owned);
    if let Some(c) = &command {
        let known = t
            .dials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(c)
            .cloned();
        if let Some(id) = known
            && let Some(call) = t.call_json(&id)
        {
            return axum::Json(serde_json::json!({ "data": call })).into_response();
        }
    }
    let app_url = t.app_webhook();
    let status_url = text("webhook_url")
        .and_then(|u| Url::parse(u).ok())
        .or(app_url);
    let id = format!("v3:{}", uuid::Uuid::new_v4().simple());
    let session = uuid::Uuid::new_v4().to_string();
    if let Some(c) = command {
        t.dials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(c, id.clone());
    }
    // Its events carry the dial's client_state from the first.
    t.states.set(&id, text("client_state"));
    let (amd, record) = super::control::create_options(&body);
    t.carrier.place(Dial {
        id: id.clone(),
        secondary_id: session.clone(),
        from: from.to_owned(),
        to: to.to_owned(),
        inbound: false,
        answer: AnswerWith::Inline(body.to_string()),
        hooks: Hooks {
            status_url,
            status_method: Some("POST".into()),
            ..Hooks::default()
        },
        ring_timeout: body
            .get("timeout_secs")
            .and_then(serde_json::Value::as_u64)
            .map(std::time::Duration::from_secs),
        parent: None,
        amd,
        record,
    });
    axum::Json(serde_json::json!({"data": {
        "record_type": "call",
        "call_control_id": id,
        "call_leg_id": leg_id(&id),
        "call_session_id": session,
        "is_alive": false,
    }}))
    .into_response()
}

pub(super) async fn get_call(
    State(t): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = t.authorized(&headers) {
        return r;
    }
    if let Err(r) = t.fault(Operation::FetchCall).await {
        return r;
    }
    match t.call_json(&id) {
        Some(call) => axum::Json(serde_json::json!({ "data": call })).into_response(),
        None => error(404, "10005", "Resource not found", "Call not found."),
    }
}

pub(super) async fn action(
    State(t): State<Shared>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Option<axum::Json<serde_json::Value>>,
) -> Response {
    if let Err(r) = t.authorized(&headers) {
        return r;
    }
    if let Err(r) = t.fault(Operation::UpdateCall).await {
        return r;
    }
    let body = body.map(|b| b.0).unwrap_or_default();
    let (over, answered, inbound) = {
        let s = t.carrier.lock();
        match s.calls.get(&id) {
            Some(c) => (c.record.is_over(), c.info.answered, c.info.inbound),
            None => return error(404, "10005", "Resource not found", "Call not found."),
        }
    };
    // An ended call takes no command, not even one it has seen: a second hang-up is told the
    // call had ended.
    if over {
        return error(
            422,
            "90018",
            "Call has already ended",
            "This call is no longer active and can't receive commands.",
        );
    }
    // A command whose command_id this call has seen ran already.
    if let Some(c) = body.get("command_id").and_then(|c| c.as_str()) {
        let first = t
            .commands
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((id.clone(), c.to_owned()));
        if !first {
            return ok();
        }
    }
    match action.as_str() {
        "hangup" => {
            t.carrier.hangup(&id);
            ok()
        }
        "answer" | "reject" if !inbound || answered => error(
            422,
            "90019",
            "Invalid call state",
            "Only an inbound call that is not answered yet can be answered or rejected.",
        ),
        "answer" => {
            if let Some(url) = body
                .get("webhook_url")
                .and_then(|u| u.as_str())
                .and_then(|u| Url::parse(u).ok())
            {
                let mut s = t.carrier.lock();
                if let Some(c) = s.calls.get_mut(&id) {
                    c.info.hooks.status_url = Some(url);
                }
            }
            t.states
                .set(&id, body.get("client_state").and_then(|c| c.as_str()));
            if let Some(request) = super::control::record_request(&body) {
                t.record_from_answer(&id, request);
            }
            t.carrier.command(&id, Control::Answer(body.to_string()));
            ok()
        }
        "reject" => {
            t.carrier.command(&id, Control::Reject);
            ok()
        }
        other if !answered => error(
            422,
            "90019",
            "Invalid call state",
            &format!("The call must be answered before {other}."),
        ),
        other => super::control::command(&t, &id, other, &body).await,
    }
}

/// The account's balance (`GET /v2/balance`), as Telnyx documents it: decimal strings, the
/// balance and what can still be spent (the balance plus a credit limit, none here).
pub(super) async fn get_balance(State(t): State<Shared>, headers: HeaderMap) -> Response {
    if let Err(r) = t.authorized(&headers) {
        return r;
    }
    if let Err(r) = t.fault(Operation::Balance).await {
        return r;
    }
    let balance = t.carrier.lock().settings.balance.to_string();
    axum::Json(serde_json::json!({
        "data": {
            "record_type": "balance",
            "pending": "0.00",
            "balance": balance,
            "credit_limit": "0.00",
            "available_credit": balance,
            "currency": "USD",
        }
    }))
    .into_response()
}

pub(super) async fn list_numbers(
    State(t): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = t.authorized(&headers) {
        return r;
    }
    if let Err(r) = t.fault(Operation::Numbers).await {
        return r;
    }
    let page: usize = q
        .get("page[number]")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let size: usize = q
        .get("page[size]")
        .and_then(|p| p.parse().ok())
        .unwrap_or(20)
        .clamp(1, 250);
    let numbers: Vec<serde_json::Value> = t
        .numbers
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|n| {
            q.get("filter[phone_number]")
                .is_none_or(|f| *f == n.phone_number)
        })
        .map(|n| {
            serde_json::json!({
                "record_type": "phone_number",
                "id": n.id,
                "phone_number": n.phone_number,
                "status": "active",
                "connection_id": n.connection_id,
                "connection_name": n.connection_id.as_ref().map(|_| super::APPLICATION_NAME),
            })
        })
        .collect();
    let total = numbers.len();
    let data: Vec<_> = numbers
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .collect();
    axum::Json(serde_json::json!({
        "data": data,
        "meta": {
            "page_number": page,
            "page_size": size,
            "total_pages": total.div_ceil(size),
            "total_results": total,
        },
    }))
    .into_response()
}

pub(super) async fn update_number(
    State(t): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> Response {
    if let Err(r) = t.authorized(&headers) {
        return r;
    }
    if let Err(r) = t.fault(Operation::Numbers).await {
        return r;
    }
    let mut numbers = t.numbers.lock().unwrap_or_else(|e| e.into_inner());
    let Some(n) = numbers.iter_mut().find(|n| n.id == id) else {
        return error(404, "10005", "Resource not found", "Number not found.");
    };
    if let Some(c) = body.get("connection_id") {
        n.connection_id = c.as_str().map(str::to_owned);
    }
    axum::Json(serde_json::json!({"data": {
        "record_type": "phone_number",
        "id": n.id,
        "phone_number": n.phone_number,
        "connection_id": n.connection_id,
    }}))
    .into_response()
}

pub(super) async fn get_application(
    State(t): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = t.authorized(&headers) {
        return r;
    }
    if let Err(r) = t.fault(Operation::Numbers).await {
        return r;
    }
    if id != CONNECTION_ID {
        return error(404, "10005", "Resource not found", "Application not found.");
    }
    axum::Json(serde_json::json!({ "data": t.application_json() })).into_response()
}

pub(super) async fn update_application(
    State(t): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> Response {
    if let Err(r) = t.authorized(&headers) {
        return r;
    }
    if let Err(r) = t.fault(Operation::Numbers).await {
        return r;
    }
    if id != CONNECTION_ID {
        return error(404, "10005", "Resource not found", "Application not found.");
    }
    // Telnyx requires both on every update.
    for k in ["application_name", "webhook_event_url"] {
        if body.get(k).and_then(|v| v.as_str()).is_none() {
            return error(
                422,
                "10004",
                "Missing required parameter",
                &format!("The '{k}' parameter is required."),
            );
        }
    }
    let url = body
        .get("webhook_event_url")
        .and_then(|v| v.as_str())
        .and_then(|u| Url::parse(u).ok());
    let Some(url) = url else {
        return error(
            422,
            "10015",
            "Bad request",
            "webhook_event_url must be a URL with a scheme.",
        );
    };
    *t.webhook.lock().unwrap_or_else(|e| e.into_inner()) = Some(url);
    axum::Json(serde_json::json!({ "data": t.application_json() })).into_response()
}

pub(super) async fn detail_records(
    State(t): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = t.authorized(&headers) {
        return r;
    }
    if let Err(r) = t.fault(Operation::FetchCall).await {
        return r;
    }
    if q.get("filter[record_type]").map(String::as_str) != Some("call-control") {
        return error(
            422,
            "10004",
            "Missing required parameter",
            "filter[record_type] is required.",
        );
    }
    let wanted = q.get("filter[telnyx_call_control_id]");
    let s = t.carrier.lock();
    let data: Vec<serde_json::Value> = s
        .calls
        .values()
        .filter(|c| wanted.is_none_or(|w| *w == c.info.id))
        .filter_map(|c| {
            let price = c.info.price?;
            Some(serde_json::json!({
                "record_type": "call-control",
                "telnyx_call_control_id": c.info.id,
                "telnyx_leg_id": leg_id(&c.info.id),
                "telnyx_session_id": c.info.secondary_id,
                "cost": format!("{price:.4}"),
                "currency": "USD",
                "rate": format!("{:.4}", c.info.rate),
                "rate_measured_in": "minute",
                "billed_sec": c.info.duration_secs.map(|d| d.div_ceil(60) * 60),
                "call_sec": c.info.duration_secs,
                "is_telnyx_billable": true,
            }))
        })
        .collect();
    axum::Json(serde_json::json!({"data": data, "meta": {"total_pages": 1, "page_number": 1}}))
        .into_response()
}
