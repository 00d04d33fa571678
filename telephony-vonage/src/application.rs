//! Editing a Vonage application's voice webhooks while keeping every other field: the
//! Applications API's `PUT` replaces the whole application, so what is not sent back is lost.

use serde_json::{Map, Value};
use telephony_core::Url;

/// What [`point_voice_webhooks`] found and did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Whether anything changed, so the application must be written back.
    pub changed: bool,
    /// The answer URL before.
    pub previous_answer_url: Option<String>,
    /// Findings for the report.
    pub notes: Vec<String>,
}

fn object<'a>(
    parent: &'a mut Map<String, Value>,
    key: &str,
) -> Result<&'a mut Map<String, Value>, String> {
    let slot = parent
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
        .ok_or_else(|| format!("{key} is not a JSON object"))
}

/// Points `capabilities.voice.webhooks.answer_url` and `.event_url` of `app` at `answer` and
/// `event` (`POST`), keeping their other settings (timeouts) and every other field, and turns
/// on `signed_callbacks` when `signed`.
pub fn point_voice_webhooks(
    app: &mut Value,
    answer: &Url,
    event: &Url,
    signed: bool,
) -> Result<Plan, String> {
    let root = app
        .as_object_mut()
        .ok_or("the application is not a JSON object")?;
    let mut plan = Plan::default();
    let had_voice = root
        .get("capabilities")
        .and_then(|c| c.get("voice"))
        .is_some_and(|v| !v.is_null());
    let caps = object(root, "capabilities")?;
    let voice = object(caps, "voice")?;
    if !had_voice {
        plan.notes
            .push("the application had no voice capability; added it".to_owned());
        plan.changed = true;
    }
    let webhooks = object(voice, "webhooks")?;
    for (name, url) in [("answer_url", answer), ("event_url", event)] {
        let hook = object(webhooks, name)?;
        let old = hook
            .get("address")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if name == "answer_url" {
            plan.previous_answer_url.clone_from(&old);
        }
        let method_ok = hook
            .get("http_method")
            .and_then(Value::as_str)
            .is_some_and(|m| m.eq_ignore_ascii_case("POST"));
        if old.as_deref() != Some(url.as_str()) || !method_ok {
            match &old {
                Some(o) if o != url.as_str() => plan.notes.push(format!(
                    "{name} was {o}: it had drifted, or was set by hand"
                )),
                Some(_) => plan.notes.push(format!(
                    "{name} used GET; set it to POST (JSON bodies, hashed in the signature)"
                )),
                None => {}
            }
            hook.insert("address".into(), Value::String(url.to_string()));
            hook.insert("http_method".into(), Value::String("POST".into()));
            plan.changed = true;
        }
    }
    if signed && voice.get("signed_callbacks") != Some(&Value::Bool(true)) {
        voice.insert("signed_callbacks".into(), Value::Bool(true));
        plan.notes.push(
            "turned on signed callbacks, so every webhook carries a token verify_webhook checks"
                .to_owned(),
        );
        plan.changed = true;
    }
    Ok(plan)
}

/// The body to `PUT` back: the application as read, without the read-only `id` and `_links`.
pub fn put_body(app: &Value) -> Value {
    let mut body = app.clone();
    if let Some(o) = body.as_object_mut() {
        o.remove("id");
        o.remove("_links");
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_voice_webhooks_change() {
        let mut app = json!({
            "id": "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
            "name": "agent",
            "capabilities": {
                "voice": {
                    "webhooks": {
                        "answer_url": {"address": "https://old.example.com/answer", "http_method": "GET", "connect_timeout": 500},
                        "fallback_answer_url": {"address": "https://fallback.example.com", "http_method": "GET"},
                        "event_url": {"address": "https://old.example.com/events", "http_method": "POST", "socket_timeout": 3000}
                    },
                    "conversations_ttl": 48,
                    "region": "eu-west"
                },
                "messages": {"webhooks": {"inbound_url": {"address": "https://m.example.com", "http_method": "POST"}}}
            },
            "keys": {"public_key": "-----BEGIN PUBLIC KEY-----\nX\n-----END PUBLIC KEY-----\n"},
            "privacy": {"improve_ai": false},
            "_links": {"self": {"href": "/v2/applications/aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"}}
        });
        let answer: Url = "https://agent.example.com/vonage/answer".parse().unwrap();
        let event: Url = "https://agent.example.com/vonage/events".parse().unwrap();
        let plan = point_voice_webhooks(&mut app, &answer, &event, true).unwrap();
        assert!(plan.changed);
        assert_eq!(
            plan.previous_answer_url.as_deref(),
            Some("https://old.example.com/answer")
        );
        assert_eq!(plan.notes.len(), 3, "{:?}", plan.notes);
        let body = put_body(&app);
        assert_eq!(
            body,
            json!({
                "name": "agent",
                "capabilities": {
                    "voice": {
                        "webhooks": {
                            "answer_url": {"address": "https://agent.example.com/vonage/answer", "http_method": "POST", "connect_timeout": 500},
                            "fallback_answer_url": {"address": "https://fallback.example.com", "http_method": "GET"},
                            "event_url": {"address": "https://agent.example.com/vonage/events", "http_method": "POST", "socket_timeout": 3000}
                        },
                        "conversations_ttl": 48,
                        "region": "eu-west",
                        "signed_callbacks": true
                    },
                    "messages": {"webhooks": {"inbound_url": {"address": "https://m.example.com", "http_method": "POST"}}}
                },
                "keys": {"public_key": "-----BEGIN PUBLIC KEY-----\nX\n-----END PUBLIC KEY-----\n"},
                "privacy": {"improve_ai": false}
            })
        );
        // Pointing it again changes nothing.
        let again = point_voice_webhooks(&mut app, &answer, &event, true).unwrap();
        assert_eq!(
            again,
            Plan {
                changed: false,
                previous_answer_url: Some(answer.to_string()),
                notes: vec![]
            }
        );
    }

    #[test]
    fn an_application_without_voice_gets_it() {
        let mut app = json!({"id": "x", "name": "sms only", "capabilities": {"messages": {}}});
        let u: Url = "https://a.example.com/v".parse().unwrap();
        let plan = point_voice_webhooks(&mut app, &u, &u, false).unwrap();
        assert!(plan.changed && plan.previous_answer_url.is_none());
        assert_eq!(
            app["capabilities"]["voice"]["webhooks"]["event_url"]["address"],
            "https://a.example.com/v"
        );
        assert!(
            app["capabilities"]["voice"]
                .get("signed_callbacks")
                .is_none()
        );
        assert!(point_voice_webhooks(&mut json!([1]), &u, &u, false).is_err());
        assert!(point_voice_webhooks(&mut json!({"capabilities": 3}), &u, &u, false).is_err());
    }
}
