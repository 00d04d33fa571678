//! Reading what an agent answers with: TwiML, Plivo XML and NCCO, into the few instructions
//! the emulator acts on.

use std::time::Duration;

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};
use telephony::audio::{AudioFormat, Encoding, SampleRate};

/// A media stream the answer connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StreamTarget {
    /// The WebSocket URL.
    pub(crate) url: String,
    /// Custom parameters (Twilio `<Parameter>`, Plivo `extraHeaders`) as text.
    pub(crate) parameters: Vec<(String, String)>,
    /// Vonage's websocket headers as JSON, echoed as they were written.
    pub(crate) headers_json: Vec<(String, serde_json::Value)>,
    /// The wire format asked for.
    pub(crate) format: AudioFormat,
    /// Whether the call goes on to the next instruction when the stream ends.
    pub(crate) then_continue: bool,
}

/// One thing the answer asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Instruction {
    Say(String),
    Stream(StreamTarget),
    Pause(Duration),
    Hangup,
    /// A verb the emulator does not act on, by name.
    Other(String),
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

fn entity(r: &BytesRef<'_>) -> String {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return c.to_string();
    }
    match r.xml10_content().as_ref() {
        "amp" => "&".into(),
        "lt" => "<".into(),
        "gt" => ">".into(),
        "quot" => "\"".into(),
        "apos" => "'".into(),
        other => format!("&{other};"),
    }
}

/// The elements of an XML answer as a small tree: name, attributes, text, children.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn node(e: &BytesStart<'_>) -> Node {
    let name = e.name().as_ref().to_owned();
    let attrs = e
        .attributes()
        .flatten()
        .map(|a| {
            let k = a.key.as_ref().to_owned();
            let v = attr(e, &k).unwrap_or_default();
            (k, v)
        })
        .collect();
    Node {
        name,
        attrs,
        ..Node::default()
    }
}

fn parse_xml(doc: &str) -> Result<Node, String> {
    let mut reader = Reader::from_str(doc);
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => stack.push(node(&e)),
            Ok(Event::Empty(e)) => {
                let n = node(&e);
                if let Some(top) = stack.last_mut() {
                    top.children.push(n);
                }
            }
            Ok(Event::End(_)) => {
                let n = stack.pop().ok_or("unbalanced XML")?;
                stack.last_mut().ok_or("unbalanced XML")?.children.push(n);
            }
            Ok(Event::Text(t)) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.into_inner());
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&entity(&r));
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("not XML: {e}")),
        }
    }
    let root = stack
        .pop()
        .filter(|_| stack.is_empty())
        .ok_or("unbalanced XML")?;
    root.children
        .into_iter()
        .find(|n| n.name == "Response")
        .ok_or_else(|| "no <Response>".to_owned())
}

/// TwiML.
pub(crate) fn twiml(doc: &str) -> Result<Vec<Instruction>, String> {
    let response = parse_xml(doc)?;
    let mut out = Vec::new();
    for verb in response.children {
        match verb.name.as_str() {
            "Say" => out.push(Instruction::Say(verb.text.trim().to_owned())),
            "Hangup" | "Reject" => out.push(Instruction::Hangup),
            "Pause" => out.push(Instruction::Pause(Duration::from_secs(
                verb.attr("length")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(1),
            ))),
            "Connect" => {
                let Some(stream) = verb.children.iter().find(|c| c.name == "Stream") else {
                    out.push(Instruction::Other("Connect".into()));
                    continue;
                };
                let url = stream.attr("url").ok_or("<Stream> without url")?.to_owned();
                let parameters = stream
                    .children
                    .iter()
                    .filter(|p| p.name == "Parameter")
                    .filter_map(|p| Some((p.attr("name")?.to_owned(), p.attr("value")?.to_owned())))
                    .collect();
                out.push(Instruction::Stream(StreamTarget {
                    url,
                    parameters,
                    headers_json: Vec::new(),
                    format: AudioFormat::MULAW_8K,
                    // After <Connect>, TwiML goes on once the WebSocket closes.
                    then_continue: true,
                }));
            }
            other => out.push(Instruction::Other(other.to_owned())),
        }
    }
    Ok(out)
}

/// `k=v;k2=v2` or `k=v,k2=v2`.
pub(crate) fn extra_headers(s: &str) -> Vec<(String, String)> {
    s.split([';', ','])
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((k.trim().to_owned(), v.trim().to_owned()))
        })
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// Plivo XML.
pub(crate) fn plivo_xml(doc: &str) -> Result<Vec<Instruction>, String> {
    let response = parse_xml(doc)?;
    let mut out = Vec::new();
    for verb in response.children {
        match verb.name.as_str() {
            "Speak" => out.push(Instruction::Say(verb.text.trim().to_owned())),
            "Hangup" => out.push(Instruction::Hangup),
            "Wait" => out.push(Instruction::Pause(Duration::from_secs(
                verb.attr("length")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(1),
            ))),
            "Stream" => {
                let url = verb.text.trim().to_owned();
                if url.is_empty() {
                    return Err("<Stream> without a URL".into());
                }
                let content = verb.attr("contentType").unwrap_or("audio/x-l16;rate=8000");
                let format = plivo_content_type(content)
                    .ok_or_else(|| format!("contentType {content:?}"))?;
                out.push(Instruction::Stream(StreamTarget {
                    url,
                    parameters: verb
                        .attr("extraHeaders")
                        .map(extra_headers)
                        .unwrap_or_default(),
                    headers_json: Vec::new(),
                    format,
                    // keepCallAlive holds the call on the stream; without it Plivo moves on.
                    then_continue: true,
                }));
            }
            other => out.push(Instruction::Other(other.to_owned())),
        }
    }
    Ok(out)
}

/// Plivo's `contentType`: μ-law 8 kHz, or L16 (little-endian here) at 8 or 16 kHz.
pub(crate) fn plivo_content_type(s: &str) -> Option<AudioFormat> {
    let mut parts = s.split(';');
    let media = parts.next()?.trim().to_ascii_lowercase();
    let rate = parts
        .find_map(|p| {
            p.trim()
                .strip_prefix("rate=")
                .and_then(|r| r.parse::<u32>().ok())
        })
        .unwrap_or(8000);
    match (media.as_str(), rate) {
        ("audio/x-mulaw", 8000) => Some(AudioFormat::MULAW_8K),
        ("audio/x-l16", 8000) => Some(AudioFormat::new(Encoding::L16Le, SampleRate::Hz8000)),
        ("audio/x-l16", 16000) => Some(AudioFormat::new(Encoding::L16Le, SampleRate::Hz16000)),
        _ => None,
    }
}

#[derive(serde::Deserialize)]
struct RawAction {
    #[serde(default)]
    action: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    endpoint: Vec<RawEndpoint>,
}

#[derive(serde::Deserialize)]
struct RawEndpoint {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    uri: Option<String>,
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

/// An NCCO.
pub(crate) fn ncco(doc: &str) -> Result<Vec<Instruction>, String> {
    let actions: Vec<RawAction> = serde_json::from_str(doc)
        .map_err(|e| format!("not an NCCO (a JSON array of actions): {e}"))?;
    let mut out = Vec::new();
    for a in actions {
        match a.action.as_str() {
            "talk" => out.push(Instruction::Say(a.text.unwrap_or_default())),
            "connect" => {
                let Some(ep) = a.endpoint.into_iter().next() else {
                    return Err("connect without an endpoint".into());
                };
                if ep.kind != "websocket" {
                    out.push(Instruction::Other(format!("connect to {}", ep.kind)));
                    continue;
                }
                let url = ep.uri.ok_or("websocket endpoint without uri")?;
                let ct = ep
                    .content_type
                    .ok_or("websocket endpoint without content-type")?;
                let format = telephony::vonage::content_type_format(&ct)
                    .ok_or_else(|| format!("content-type {ct:?}"))?;
                let parameters = ep
                    .headers
                    .iter()
                    .map(|(k, v)| {
                        let text = match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        (k.clone(), text)
                    })
                    .collect();
                out.push(Instruction::Stream(StreamTarget {
                    url,
                    parameters,
                    headers_json: ep.headers,
                    format,
                    then_continue: true,
                }));
            }
            other => out.push(Instruction::Other(other.to_owned())),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twiml_stream_say_hangup() {
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say>Tom &amp; Jerry</Say><Connect><Stream url="ws://127.0.0.1:9/media"><Parameter name="a" value="1 &lt; 2"/></Stream></Connect><Hangup/></Response>"#;
        let i = twiml(doc).unwrap();
        assert_eq!(i[0], Instruction::Say("Tom & Jerry".into()));
        let Instruction::Stream(s) = &i[1] else {
            panic!("{i:?}")
        };
        assert_eq!(s.url, "ws://127.0.0.1:9/media");
        assert_eq!(s.parameters, [("a".to_owned(), "1 < 2".to_owned())]);
        assert_eq!(i[2], Instruction::Hangup);
        assert!(twiml("<Response><Say>").is_err());
        assert!(twiml("nope").is_err());
    }

    #[test]
    fn plivo_and_ncco() {
        let doc = r#"<Response><Stream bidirectional="true" keepCallAlive="true" contentType="audio/x-l16;rate=16000" extraHeaders="a=1,b=2">ws://127.0.0.1:9/p</Stream><Hangup/></Response>"#;
        let i = plivo_xml(doc).unwrap();
        let Instruction::Stream(s) = &i[0] else {
            panic!()
        };
        assert_eq!(s.format.rate, SampleRate::Hz16000);
        assert_eq!(s.parameters.len(), 2);
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
}
