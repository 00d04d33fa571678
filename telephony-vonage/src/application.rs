//! Editing a Vonage application's voice webhooks while keeping every other field: the
//! Applications API's `PUT` replaces the whole application, so what is not sent back is lost.

use std::fmt;

use serde_json::{Map, Value};
use telephony_core::Url;

/// What [`point_voice_webhooks`] found and did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Whether anything changed, so the application must be written back.
    pub changed: bool,
    /// The answer URL before.
    pub previous_answer_url: Option<String>,
    /// Findings for the report, in the order found.
    pub findings: Vec<Finding>,
}

impl Plan {
    /// The findings as report lines.
    pub fn notes(&self) -> Vec<String> {
        self.findings.iter().map(ToString::to_string).collect()
    }
}

/// One thing [`point_voice_webhooks`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    /// A voice webhook (`answer_url`, `event_url`) held another address, now replaced.
    Drifted {
        /// Which webhook.
        webhook: &'static str,
        /// The address it held.
        was: String,
    },
    /// Something missing was added: the voice capability, an event URL.
    Added(String),
    /// Signed callbacks are off while the host verifies signatures: every webhook is refused.
    /// Reported, never changed, as the setting serves every number of the application.
    Unsigned,
}

/// What to turn on when signed callbacks are off.
pub const SIGNED_CALLBACKS_FIX: &str = "turn on signed callbacks for the application (capabilities.voice.signed_callbacks in the Applications API, or the dashboard's voice settings)";

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Drifted { webhook, was } => {
                write!(f, "{webhook} was {was}: it had drifted, or was set by hand")
            }
            Finding::Added(what) => f.write_str(what),
            Finding::Unsigned => f.write_str(
                "signed callbacks are off for this application: Vonage sends its webhooks unsigned and verify_webhook refuses them; turn on capabilities.voice.signed_callbacks",
            ),
        }
    }
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

/// The answer URL an application's voice capability holds.
pub fn answer_url(app: &Value) -> Option<&str> {
    app.pointer("/capabilities/voice/webhooks/answer_url/address")
        .and_then(Value::as_str)
}

/// Whether `app` sends its webhooks unsigned (`capabilities.voice.signed_callbacks` not
/// `true`) while the host verifies signatures (`signed`).
pub fn unsigned(app: &Value, signed: bool) -> bool {
    signed && app.pointer("/capabilities/voice/signed_callbacks") != Some(&Value::Bool(true))
}

/// Points `capabilities.voice.webhooks.answer_url` of `app` at `answer`, and `event_url` at
/// `event` when given, keeping each webhook's method (`POST` where none was set), timeouts and
/// every other field. Without `event`, an existing event URL stays; a missing one becomes the
/// answer URL. `signed` says the host verifies signatures: signed callbacks that are off are
/// reported, not changed, as the setting serves every number of the application.
pub fn point_voice_webhooks(
    app: &mut Value,
    answer: &Url,
    event: Option<&Url>,
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
        plan.findings.push(Finding::Added(
            "the application had no voice capability; added it".to_owned(),
        ));
        plan.changed = true;
    }
    let unsigned = signed && voice.get("signed_callbacks") != Some(&Value::Bool(true));
    let webhooks = object(voice, "webhooks")?;
    let has_event = webhooks
        .get("event_url")
        .and_then(|h| h.get("address"))
        .and_then(Value::as_str)
        .is_some_and(|a| !a.is_empty());
    let event = match event {
        Some(e) => Some(e),
        None if has_event => None,
        None => {
            plan.findings.push(Finding::Added(format!(
                "the application had no event URL; set it to {answer} (set VONAGE_EVENT_URL to send events elsewhere)"
            )));
            Some(answer)
        }
    };
    for (name, url) in [("answer_url", Some(answer)), ("event_url", event)] {
        let Some(url) = url else { continue };
        let hook = object(webhooks, name)?;
        let old = hook
            .get("address")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if name == "answer_url" {
            plan.previous_answer_url.clone_from(&old);
        }
        if old.as_deref() != Some(url.as_str()) {
            if let Some(o) = &old {
                plan.findings.push(Finding::Drifted {
                    webhook: name,
                    was: o.clone(),
                });
            }
            hook.insert("address".into(), Value::String(url.to_string()));
            plan.changed = true;
        }
        if hook.get("http_method").and_then(Value::as_str).is_none() {
            hook.insert("http_method".into(), Value::String("POST".into()));
            plan.changed = true;
        }
    }
    if unsigned {
        plan.findings.push(Finding::Unsigned);
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

    fn app() -> Value {
        json!({
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
        })
    }

    #[test]
    fn only_the_addresses_change() {
        let mut app = app();
        let answer: Url = "https://agent.example.com/vonage/answer".parse().unwrap();
        let event: Url = "https://agent.example.com/vonage/events".parse().unwrap();
        let plan = point_voice_webhooks(&mut app, &answer, Some(&event), true).unwrap();
        assert!(plan.changed);
        assert_eq!(
            plan.previous_answer_url.as_deref(),
            Some("https://old.example.com/answer")
        );
        assert_eq!(plan.findings.len(), 3, "{:?}", plan.findings);
        assert_eq!(plan.findings[2], Finding::Unsigned);
        assert!(plan.notes()[2].contains("signed callbacks are off"));
        let mut expected = app.clone();
        expected["capabilities"]["voice"]["webhooks"]["answer_url"]["address"] =
            json!("https://agent.example.com/vonage/answer");
        expected["capabilities"]["voice"]["webhooks"]["event_url"]["address"] =
            json!("https://agent.example.com/vonage/events");
        assert_eq!(app, expected);
        let body = put_body(&app);
        assert!(body.get("id").is_none() && body.get("_links").is_none());
        assert_eq!(
            body["capabilities"]["voice"]["webhooks"]["answer_url"]["http_method"],
            "GET"
        );
        assert_eq!(body["capabilities"]["voice"]["region"], "eu-west");
        assert!(
            body["capabilities"]["voice"]
                .get("signed_callbacks")
                .is_none()
        );
        // Pointing it again changes nothing.
        let again = point_voice_webhooks(&mut app, &answer, Some(&event), false).unwrap();
        assert_eq!(
            again,
            Plan {
                changed: false,
                previous_answer_url: Some(answer.to_string()),
                findings: vec![]
            }
        );
        // Without an event URL of its own, the application's stays.
        let plan = point_voice_webhooks(&mut app, &answer, None, false).unwrap();
        assert!(!plan.changed);
    }

    #[test]
    fn an_application_without_voice_gets_it() {
        let mut app = json!({"id": "x", "name": "sms only", "capabilities": {"messages": {}}});
        let u: Url = "https://a.example.com/v".parse().unwrap();
        let plan = point_voice_webhooks(&mut app, &u, None, false).unwrap();
        assert!(plan.changed && plan.previous_answer_url.is_none());
        assert_eq!(
            app["capabilities"]["voice"]["webhooks"]["event_url"],
            json!({"address": "https://a.example.com/v", "http_method": "POST"})
        );
        assert_eq!(answer_url(&app), Some("https://a.example.com/v"));
        assert!(point_voice_webhooks(&mut json!([1]), &u, None, false).is_err());
        assert!(point_voice_webhooks(&mut json!({"capabilities": 3}), &u, None, false).is_err());
    }
}
