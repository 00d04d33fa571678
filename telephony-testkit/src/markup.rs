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
    /// An audio file played (noted as said: `play:URL`).
    Play(String),
    /// Keys played to the far end (Twilio `<Play digits>`).
    Digits(String),
    Stream(StreamTarget),
    Pause(Duration),
    Hangup,
    /// Dial another party and bridge it (a cold transfer's `<Dial>`, an NCCO `connect` to a
    /// phone or SIP endpoint).
    Dial(DialTarget),
    /// Join a room (a conference, a Vonage conversation).
    Conference(Room),
    /// Start recording the call (Twilio `<Start><Recording>`, Plivo `<Record recordSession>`,
    /// an NCCO `record`).
    Record(RecordRequest),
    /// A verb the emulator does not act on, by name.
    Other(String),
}

/// Who a `Dial` rings, and what it reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct DialTarget {
    /// A number or a SIP URI, as written.
    pub(crate) to: String,
    /// The caller id the target sees.
    pub(crate) caller_id: Option<String>,
    /// How long it may ring.
    pub(crate) timeout: Option<Duration>,
    /// Where the dial's outcome is fetched, and the method (Twilio and Plivo `action`, a
    /// Vonage `connect`'s synchronous `eventUrl`): its reply is the call's next document.
    pub(crate) action: Option<(telephony::Url, String)>,
    /// Where the new leg's own status goes (Twilio `<Number statusCallback>`).
    pub(crate) leg_status: Option<telephony::Url>,
    /// The events the leg's status URL asked for; `None` for all.
    pub(crate) leg_events: Option<Vec<String>>,
    /// SIP headers sent to the target.
    pub(crate) sip_headers: Vec<(String, String)>,
}

/// A room to join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Room {
    pub(crate) name: String,
    /// Whether the room starts (its members bridged) when this member enters; a member that
    /// does not start it waits, hearing the hold audio.
    pub(crate) start_on_enter: bool,
    /// Whether the room ends when this member leaves.
    pub(crate) end_on_exit: bool,
    /// What a waiting member hears.
    pub(crate) hold: Option<String>,
}

/// A recording asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecordRequest {
    /// 1 or 2.
    pub(crate) channels: u8,
    /// Where the finished recording is announced.
    pub(crate) callback: Option<telephony::Url>,
    /// `wav` or `mp3`, as asked (the emulator always writes WAV).
    pub(crate) format: String,
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
