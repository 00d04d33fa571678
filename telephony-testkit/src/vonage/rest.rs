//! Vonage's REST APIs, the parts the adapter uses: the Voice API (create, get and update a
//! call; call control's parts in [`super::control`]) behind an RS256 application JWT, and the
//! Numbers, Applications and Account (balance) APIs behind Basic auth, with the fault knobs and Vonage's problem
//! bodies.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, Validation};
use telephony::Url;
use telephony::vonage::AppClaims;

use super::{API_KEY, API_SECRET, APPLICATION_ID, Shared, Vonage, rfc3339};
use crate::engine::{AnswerWith, Control, Dial, Hooks, Operation, basic_auth, fault_response};

pub(super) fn problem(status: u16, kind: &str, title: &str, detail: &str) -> Response {
    let body = serde_json::json!({
        "type": format!("https://developer.nexmo.com/api-errors#{kind}"),
        "title": title,
        "detail": detail,
        "instance": uuid::Uuid::new_v4().simple().to_string(),
    });
    fault_response(status, None, body.to_string())
}

impl Vonage {
    /// The Voice API's check: an RS256 application JWT for this application, unexpired.
    pub(super) fn voice_authorized(&self, headers: &HeaderMap) -> Result<(), Response> {
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let unauthorized = || {
            problem(
                401,
                "unauthorized",
                "Unauthorized",
                "You did not provide correct credentials.",
            )
        };
        let Some(token) = token else {
            return Err(unauthorized());
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = 5;
        match jsonwebtoken::decode::<AppClaims>(token, &self.key, &validation) {
            Ok(data) if data.claims.application_id == APPLICATION_ID => Ok(()),
            _ => Err(unauthorized()),
        }
    }

    fn account_authorized(&self, headers: &HeaderMap) -> Result<(), Response> {
        match basic_auth(headers) {
            Some((k, s)) if k == API_KEY && s == API_SECRET => Ok(()),
            _ => Err(fault_response(
                401,
                None,
                serde_json::json!({"error-code": "401", "error-code-label": "authentication failed"}).to_string(),
            )),
        }
    }

    pub(super) async fn fault(&self, op: Operation) -> Result<(), Response> {
        match self.carrier.fault(op).await {
            Some((status, retry_after)) => {
                let body = serde_json::json!({"type": "https://developer.nexmo.com/api-errors#emulated", "title": "Emulated fault"});
                Err(fault_response(status, retry_after, body.to_string()))
            }
            None => Ok(()),
        }
    }

    pub(super) fn call_json(&self, id: &str) -> Option<serde_json::Value> {
        let s = self.carrier.lock();
        let c = s.calls.get(id)?;
        Some(serde_json::json!({
            "_links": {"self": {"href": format!("/v1/calls/{id}")}},
            "uuid": c.info.id,
            "conversation_uuid": c.info.secondary_id,
            "to": {"type": "phone", "number": c.info.to},
            "from": {"type": "phone", "number": c.info.from},
            "status": c.record.raw_status,
            "direction": if c.info.inbound { "inbound" } else { "outbound" },
            "rate": format!("{:.8}", c.info.rate),
            "price": c.info.price.map(|p| format!("{p:.8}")),
            "duration": c.info.duration_secs.map(|d| d.to_string()),
            "start_time": rfc3339(c.info.created),
            "network": "GB-FIXED",
        }))
    }
}

fn first_url(v: &serde_json::Value) -> Option<Url> {
    v.as_array()?
        .first()?
        .as_str()
        .and_then(|u| Url::parse(u).ok())
}

pub(super) async fn create_call(
    State(v): State<Shared>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> Response {
    if let Err(r) = v.voice_authorized(&headers) {
        return r;
    }
    if let Err(r) = v.fault(Operation::CreateCall).await {
        return r;
    }
    let bad = |detail: &str| problem(400, "bad-request", "Bad Request", detail);
    let Some(to) = body.pointer("/to/0") else {
        return bad("to is required");
    };
    let to = match to.get("type").and_then(|t| t.as_str()) {
        Some("phone") => to.get("number").and_then(|n| n.as_str()),
        // A SIP URI rings as the callee of the digits in it (a person, without any).
        Some("sip") => to.get("uri").and_then(|n| n.as_str()),
        _ => return bad("the emulator dials phone and sip endpoints"),
    };
    let Some(to) = to.filter(|t| !t.is_empty()) else {
        return bad("to[0] needs a number (phone) or a uri (sip)");
    };
    let amd = match super::control::machine_detection(&body) {
        Ok(amd) => amd,
        Err(e) => return bad(&e),
    };
    let from = body
        .pointer("/from/number")
        .and_then(|n| n.as_str())
        .unwrap_or("447700900000");
    let answer = if let Some(ncco) = body.get("ncco") {
        AnswerWith::Inline(ncco.to_string())
    } else if let Some(url) = body.get("answer_url").and_then(first_url) {
        let method = body
            .get("answer_method")
            .and_then(|m| m.as_str())
            .unwrap_or("GET");
        AnswerWith::Url(url, method.to_owned())
    } else {
        return bad("answer_url or ncco is required");
    };
    let hooks = Hooks {
        status_url: body.get("event_url").and_then(first_url),
        status_method: body
            .get("event_method")
            .and_then(|m| m.as_str())
            .map(str::to_owned),
        ..Hooks::default()
    };
    let id = uuid::Uuid::new_v4().to_string();
    let conversation = format!("CON-{}", uuid::Uuid::new_v4());
    v.carrier.place(Dial {
        id: id.clone(),
        secondary_id: conversation.clone(),
        from: from.to_owned(),
        to: to.to_owned(),
        inbound: false,
        answer,
        hooks,
        ring_timeout: body
            .get("ringing_timer")
            .and_then(serde_json::Value::as_u64)
            .map(std::time::Duration::from_secs),
        parent: None,
        amd,
        record: None,
    });
    (
        StatusCode::CREATED,
        axum::Json(serde_json::json!({"uuid": id, "status": "started", "direction": "outbound", "conversation_uuid": conversation})),
    )
        .into_response()
}

pub(super) async fn get_call(
    State(v): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = v.voice_authorized(&headers) {
        return r;
    }
    if let Err(r) = v.fault(Operation::FetchCall).await {
        return r;
    }
    match v.call_json(&id) {
        Some(body) => axum::Json(body).into_response(),
        None => problem(404, "not-found", "Not Found", "Call not found"),
    }
}

pub(super) async fn update_call(
    State(v): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> Response {
    if let Err(r) = v.voice_authorized(&headers) {
        return r;
    }
    if let Err(r) = v.fault(Operation::UpdateCall).await {
        return r;
    }
    let Some(call) = v.call_json(&id) else {
        return problem(404, "not-found", "Not Found", "Call not found");
    };
    let (over, answered) = v
        .carrier
        .lock()
        .calls
        .get(&id)
        .map_or((false, false), |c| (c.record.is_over(), c.info.answered));
    match body.get("action").and_then(|a| a.as_str()) {
        Some(_) if over => problem(
            400,
            "bad-request",
            "Bad Request",
            &format!("The call is {}", call["status"].as_str().unwrap_or("over")),
        ),
        Some("hangup") => {
            v.carrier.hangup(&id);
            StatusCode::NO_CONTENT.into_response()
        }
        // The call leaves what it does (its WebSocket closes) for the new NCCO.
        Some("transfer") => match super::control::destination(&body) {
            Err(e) => problem(400, "bad-request", "Bad Request", &e),
            Ok(_) if !answered => problem(
                400,
                "bad-request",
                "Bad Request",
                "The call is not answered yet: only an answered call can be transferred",
            ),
            Ok(next) => {
                if v.carrier.command(&id, Control::Redirect(next)) {
                    StatusCode::NO_CONTENT.into_response()
                } else {
                    problem(400, "bad-request", "Bad Request", "The call is over")
                }
            }
        },
        Some("mute" | "unmute" | "earmuff" | "unearmuff") => StatusCode::NO_CONTENT.into_response(),
        _ => problem(400, "bad-request", "Bad Request", "unknown action"),
    }
}

#[derive(serde::Deserialize)]
pub(super) struct NumberQuery {
    pattern: Option<String>,
}

pub(super) async fn list_numbers(
    State(v): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<NumberQuery>,
) -> Response {
    if let Err(r) = v.account_authorized(&headers) {
        return r;
    }
    if let Err(r) = v.fault(Operation::Numbers).await {
        return r;
    }
    let numbers = v.numbers.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let list: Vec<serde_json::Value> = numbers
        .iter()
        .filter(|n| q.pattern.as_deref().is_none_or(|p| n.msisdn.starts_with(p)))
        .map(|n| {
            let features: Vec<&str> = [(n.features.voice, "VOICE"), (n.features.sms, "SMS")]
                .into_iter()
                .filter_map(|(on, name)| on.then_some(name))
                .collect();
            serde_json::json!({"country": "GB", "msisdn": n.msisdn, "type": "mobile-lvn", "features": features, "app_id": n.app_id})
        })
        .collect();
    axum::Json(serde_json::json!({"count": list.len(), "numbers": list})).into_response()
}

/// The account's balance (`GET /account/get-balance`, on the REST host), as Vonage writes it:
/// `{"value": 29.18202293, "autoReload": false}`, the value a JSON number, in euros. Written
/// from the decimal's own digits, never through a float.
pub(super) async fn get_balance(State(v): State<Shared>, headers: HeaderMap) -> Response {
    if let Err(r) = v.account_authorized(&headers) {
        return r;
    }
    if let Err(r) = v.fault(Operation::Balance).await {
        return r;
    }
    let value = v.carrier.lock().settings.balance;
    let body = format!(r#"{{"value":{value},"autoReload":false}}"#);
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

pub(super) async fn update_number(
    State(v): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = v.account_authorized(&headers) {
        return r;
    }
    if let Err(r) = v.fault(Operation::Numbers).await {
        return r;
    }
    let get = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let mut numbers = v.numbers.lock().unwrap_or_else(|e| e.into_inner());
    let Some(n) = get("msisdn").and_then(|m| numbers.iter_mut().find(|n| n.msisdn == m)) else {
        return axum::Json(
            serde_json::json!({"error-code": "420", "error-code-label": "method failed"}),
        )
        .into_response();
    };
    n.app_id = get("app_id");
    axum::Json(serde_json::json!({"error-code": "200", "error-code-label": "success"}))
        .into_response()
}

pub(super) async fn get_application(
    State(v): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = v.account_authorized(&headers) {
        return r;
    }
    if let Err(r) = v.fault(Operation::Numbers).await {
        return r;
    }
    if id != APPLICATION_ID {
        return problem(404, "not-found", "Not Found", "Application not found");
    }
    axum::Json(
        v.application
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone(),
    )
    .into_response()
}

pub(super) async fn put_application(
    State(v): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::Json(mut body): axum::Json<serde_json::Value>,
) -> Response {
    if let Err(r) = v.account_authorized(&headers) {
        return r;
    }
    if let Err(r) = v.fault(Operation::Numbers).await {
        return r;
    }
    if id != APPLICATION_ID {
        return problem(404, "not-found", "Not Found", "Application not found");
    }
    if body.get("name").and_then(|n| n.as_str()).is_none() {
        return problem(400, "bad-request", "Bad Request", "name is required");
    }
    body["id"] = APPLICATION_ID.into();
    axum::Json(v.store_application(body)).into_response()
}
