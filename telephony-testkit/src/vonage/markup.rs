//! Reading an NCCO into the instructions the emulator acts on: `talk`, `stream`, `connect` (a
//! WebSocket, or a phone or SIP endpoint dialled and bridged), `conversation` (a room) and
//! `record`. Field names as Vonage's NCCO reference writes them (vonage-python-sdk voice
//! `models/ncco.py`).

use std::time::Duration;

use telephony::Url;

use crate::markup::{DialTarget, Instruction, RecordRequest, Room, StreamTarget};

#[derive(serde::Deserialize)]
struct RawAction {
    #[serde(default)]
    action: String,
    /// `talk`.
    #[serde(default)]
    text: Option<String>,
    /// `connect`.
    #[serde(default)]
    endpoint: Vec<RawEndpoint>,
    #[serde(default)]
    from: Option<String>,
    #[serde(rename = "eventType", default)]
    event_type: Option<String>,
    /// `connect`: seconds to ring.
    #[serde(default)]
    timeout: Option<u64>,
    /// `connect`, `conversation`, `record`.
    #[serde(rename = "eventUrl", default)]
    event_url: Option<Vec<String>>,
    #[serde(rename = "eventMethod", default)]
    event_method: Option<String>,
    /// `conversation`.
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "startOnEnter", default)]
    start_on_enter: Option<bool>,
    #[serde(rename = "endOnExit", default)]
    end_on_exit: Option<bool>,
    #[serde(rename = "musicOnHoldUrl", default)]
    music_on_hold_url: Option<Vec<String>>,
    /// `conversation`: record it.
    #[serde(default)]
    record: Option<bool>,
    /// `record`.
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    split: Option<String>,
    #[serde(default)]
    channels: Option<u32>,
    /// `stream`.
    #[serde(rename = "streamUrl", default)]
    stream_url: Option<Vec<String>>,
}

#[derive(serde::Deserialize)]
struct RawEndpoint {
    #[serde(rename = "type", default)]
    kind: String,
    /// `websocket`, `sip`.
    #[serde(default)]
    uri: Option<String>,
    /// `phone`.
    #[serde(default)]
    number: Option<String>,
    #[serde(rename = "content-type", default)]
    content_type: Option<String>,
    #[serde(default, deserialize_with = "ordered")]
    headers: Vec<(String, serde_json::Value)>,
}

/// A JSON object's members in document order (serde_json's own map sorts them).
fn ordered<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<(String, serde_json::Value)>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Vec<(String, serde_json::Value)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(e) = map.next_entry::<String, serde_json::Value>()? {
                out.push(e);
            }
            Ok(out)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(V)
}

/// A JSON value as text: a string as it is, anything else as JSON.
fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The first URL of an NCCO's one-element URL array.
fn first_url(urls: Option<&Vec<String>>, what: &str) -> Result<Option<Url>, String> {
    match urls.and_then(|u| u.first()) {
        Some(u) => Url::parse(u)
            .map(Some)
            .map_err(|e| format!("{what} {u:?}: {e}")),
        None => Ok(None),
    }
}

/// An NCCO.
pub(super) fn ncco(doc: &str) -> Result<Vec<Instruction>, String> {
    let actions: Vec<RawAction> = serde_json::from_str(doc)
        .map_err(|e| format!("not an NCCO (a JSON array of actions): {e}"))?;
    let mut out = Vec::new();
    for a in actions {
        match a.action.as_str() {
            "talk" => out.push(Instruction::Say(a.text.unwrap_or_default())),
            "stream" => {
                let url = first_url(a.stream_url.as_ref(), "streamUrl")?
                    .ok_or("stream without a streamUrl")?;
                out.push(Instruction::Play(url.to_string()));
            }
            "connect" => out.push(connect(a)?),
            "conversation" => {
                let name = a
                    .name
                    .filter(|n| !n.is_empty())
                    .ok_or("conversation without a name")?;
                let events = first_url(a.event_url.as_ref(), "eventUrl")?;
                if a.record == Some(true) {
                    // A conversation's recording is announced at its eventUrl.
                    out.push(Instruction::Record(RecordRequest {
                        channels: 1,
                        callback: events,
                        format: "mp3".into(),
                    }));
                }
                out.push(Instruction::Conference(Room {
                    name,
                    // Vonage's defaults: entering starts it, leaving ends nothing.
                    start_on_enter: a.start_on_enter.unwrap_or(true),
                    end_on_exit: a.end_on_exit.unwrap_or(false),
                    hold: first_url(a.music_on_hold_url.as_ref(), "musicOnHoldUrl")?
                        .map(|u| u.to_string()),
                }));
            }
            "record" => {
                // `split: conversation` puts each side on its own channel: two unless
                // `channels` says otherwise.
                let split = a.split.as_deref() == Some("conversation");
                let channels = if split && a.channels.unwrap_or(2) >= 2 {
                    2
                } else {
                    1
                };
                let format = a.format.unwrap_or_else(|| "mp3".into());
                if !["mp3", "wav", "ogg"].contains(&format.as_str()) {
                    return Err(format!("record format {format:?}: mp3, wav or ogg"));
                }
                out.push(Instruction::Record(RecordRequest {
                    channels,
                    callback: first_url(a.event_url.as_ref(), "eventUrl")?,
                    format,
                }));
            }
            other => out.push(Instruction::Other(other.to_owned())),
        }
    }
    Ok(out)
}

/// `connect`: a WebSocket streams; a phone or SIP endpoint is dialled. Its `eventUrl` gets the
/// leg's events; with `eventType: synchronous`, the leg's outcome goes there as the dial's
/// action and an NCCO in answer replaces the call's.
fn connect(a: RawAction) -> Result<Instruction, String> {
    let Some(ep) = a.endpoint.into_iter().next() else {
        return Err("connect without an endpoint".into());
    };
    match ep.kind.as_str() {
        "websocket" => {
            let url = ep.uri.ok_or("websocket endpoint without uri")?;
            let ct = ep
                .content_type
                .ok_or("websocket endpoint without content-type")?;
            let format = telephony::vonage::content_type_format(&ct)
                .ok_or_else(|| format!("content-type {ct:?}"))?;
            let parameters = ep
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), text(v)))
                .collect();
            Ok(Instruction::Stream(StreamTarget {
                url,
                parameters,
                headers_json: ep.headers,
                format,
                then_continue: true,
            }))
        }
        "phone" | "sip" => {
            let to = if ep.kind == "phone" {
                ep.number.ok_or("phone endpoint without number")?
            } else {
                ep.uri.ok_or("sip endpoint without uri")?
            };
            if let Some(t) = a.timeout
                && !(1..=120).contains(&t)
            {
                return Err(format!("connect timeout {t}: 1 to 120 s"));
            }
            let events = first_url(a.event_url.as_ref(), "eventUrl")?;
            let method = a.event_method.unwrap_or_else(|| "POST".into());
            let synchronous = match a.event_type.as_deref() {
                None => false,
                Some("synchronous") => true,
                Some(other) => return Err(format!("eventType {other:?}: only synchronous")),
            };
            let (action, leg_events) = match (&events, synchronous) {
                // The outcome is the action's; the leg's progress goes there too.
                (Some(url), true) => (
                    Some((url.clone(), method)),
                    Some(
                        ["started", "ringing", "answered"]
                            .map(String::from)
                            .to_vec(),
                    ),
                ),
                _ => (None, None),
            };
            Ok(Instruction::Dial(DialTarget {
                to,
                caller_id: a.from,
                // Vonage rings a connect's endpoint for 60 s unless told.
                timeout: Some(Duration::from_secs(a.timeout.unwrap_or(60))),
                action,
                leg_status: events,
                leg_events,
                sip_headers: ep
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), text(v)))
                    .collect(),
            }))
        }
        other => Ok(Instruction::Other(format!("connect to {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use telephony::audio::SampleRate;

    use super::*;

    #[test]
    fn ncco_talk_connect() {
        let n = ncco(r#"[{"action":"talk","text":"hi"},{"action":"connect","endpoint":[{"type":"websocket","uri":"ws://127.0.0.1:9/v","content-type":"audio/l16;rate=24000","headers":{"z":"1","a":2}}]}]"#).unwrap();
        let Instruction::Stream(s) = &n[1] else {
            panic!()
        };
        assert_eq!(s.format.rate, SampleRate::Hz24000);
        assert_eq!(
            s.parameters,
            [("z".into(), "1".into()), ("a".into(), "2".into())]
        );
        assert!(ncco("{}").is_err());
    }

    #[test]
    fn ncco_call_control() {
        let cold = r#"[{"action":"connect","from":"14155550199","timeout":20,"eventType":"synchronous","eventUrl":["https://a.example/s?telephony_sig=1"],"eventMethod":"POST","endpoint":[{"type":"phone","number":"14155550122"}]}]"#;
        let Instruction::Dial(d) = &ncco(cold).unwrap()[0] else {
            panic!("a dial")
        };
        assert_eq!(d.to, "14155550122");
        assert_eq!(d.caller_id.as_deref(), Some("14155550199"));
        assert_eq!(d.timeout, Some(Duration::from_secs(20)));
        assert_eq!(
            d.action.as_ref().map(|(u, m)| (u.as_str(), m.as_str())),
            Some(("https://a.example/s?telephony_sig=1", "POST"))
        );
        assert_eq!(d.leg_events.as_ref().map(Vec::len), Some(3));
        let sip = r#"[{"action":"connect","eventUrl":["https://a.example/e"],"endpoint":[{"type":"sip","uri":"sip:desk@pbx.example.com","headers":{"X-Case":42}}]}]"#;
        let Instruction::Dial(d) = &ncco(sip).unwrap()[0] else {
            panic!("a dial")
        };
        assert_eq!(d.to, "sip:desk@pbx.example.com");
        assert_eq!(d.sip_headers, [("X-Case".to_owned(), "42".to_owned())]);
        assert!(d.action.is_none() && d.leg_events.is_none());
        assert_eq!(
            d.leg_status.as_ref().map(Url::as_str),
            Some("https://a.example/e")
        );
        let warm = r#"[{"action":"record","split":"conversation","channels":2,"eventUrl":["https://a.example/r"]},{"action":"stream","streamUrl":["https://a.example/brief.mp3"]},{"action":"conversation","name":"xfer-1","startOnEnter":false,"endOnExit":true,"musicOnHoldUrl":["https://a.example/hold.mp3"]}]"#;
        let i = ncco(warm).unwrap();
        assert!(
            matches!(&i[0], Instruction::Record(r) if r.channels == 2 && r.format == "mp3" && r.callback.is_some())
        );
        assert_eq!(
            i[1],
            Instruction::Play("https://a.example/brief.mp3".into())
        );
        assert_eq!(
            i[2],
            Instruction::Conference(Room {
                name: "xfer-1".into(),
                start_on_enter: false,
                end_on_exit: true,
                hold: Some("https://a.example/hold.mp3".into()),
            })
        );
        let room = ncco(r#"[{"action":"conversation","name":"r"}]"#).unwrap();
        assert!(
            matches!(&room[0], Instruction::Conference(r) if r.start_on_enter && !r.end_on_exit)
        );
        for bad in [
            r#"[{"action":"conversation"}]"#,
            r#"[{"action":"connect","endpoint":[{"type":"phone"}]}]"#,
            r#"[{"action":"connect","timeout":0,"endpoint":[{"type":"phone","number":"1"}]}]"#,
            r#"[{"action":"connect","eventType":"async","endpoint":[{"type":"phone","number":"1"}]}]"#,
            r#"[{"action":"record","format":"flac"}]"#,
            r#"[{"action":"stream"}]"#,
            r#"[{"action":"record","eventUrl":["not a url"]}]"#,
        ] {
            assert!(ncco(bad).is_err(), "{bad}");
        }
    }
}
