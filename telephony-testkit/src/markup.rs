//! What an agent's answer asks the emulator to do, and the small XML reader the XML dialects
//! share. Each carrier's emulator reads its own markup into these instructions.

use std::time::Duration;

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};
use telephony::audio::AudioFormat;

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
pub(crate) struct Node {
    pub(crate) name: String,
    attrs: Vec<(String, String)>,
    pub(crate) text: String,
    pub(crate) children: Vec<Node>,
}

impl Node {
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
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

/// An XML answer's `<Response>` element.
pub(crate) fn parse_xml(doc: &str) -> Result<Node, String> {
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
