//! Answer documents: what a stream needs ([`StreamSpec`]), the document itself ([`Markup`]),
//! and a small XML writer the XML dialects (TwiML, Plivo XML) share.

use std::fmt::Write as _;

use telephony_audio::AudioFormat;
use url::Url;

use crate::control::RecordingOptions;

/// A bidirectional media stream to connect a call to.
///
/// Custom parameters reach the WebSocket in the stream's start message (Twilio `<Parameter>`,
/// Plivo `extraHeaders`, Vonage `headers`): put the ids the agent needs there, not in the URL's
/// query string, which Twilio refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamSpec {
    /// The `wss://` URL of our media WebSocket.
    pub url: Url,
    /// Name/value pairs delivered to the WebSocket, in order.
    pub parameters: Vec<(String, String)>,
    /// A name for the stream (Twilio `name`).
    pub name: Option<String>,
    /// Where the provider reports the stream's own status (started, stopped, failed).
    pub status_callback: Option<Url>,
    /// The audio to ask for where the provider offers a choice (Plivo: μ-law 8 kHz or L16
    /// 16 kHz; Vonage: L16 at 8, 16 or 24 kHz). Twilio always sends μ-law 8 kHz.
    pub audio: Option<AudioFormat>,
    /// Records the call from the answer, where the carrier records through the answer
    /// (Plivo `<Record recordSession>`, a Vonage NCCO `record`, Telnyx's answer command) or
    /// on the call (Twilio, once answered).
    pub record: Option<RecordingOptions>,
}

impl StreamSpec {
    /// A stream to `url` with nothing else set.
    pub fn new(url: Url) -> StreamSpec {
        StreamSpec {
            url,
            parameters: Vec::new(),
            name: None,
            status_callback: None,
            audio: None,
            record: None,
        }
    }

    /// Adds a custom parameter.
    pub fn parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> StreamSpec {
        self.parameters.push((name.into(), value.into()));
        self
    }

    /// Names the stream.
    pub fn name(mut self, name: impl Into<String>) -> StreamSpec {
        self.name = Some(name.into());
        self
    }

    /// Sets the stream status callback.
    pub fn status_callback(mut self, url: Url) -> StreamSpec {
        self.status_callback = Some(url);
        self
    }

    /// Records the call from the answer.
    pub fn record(mut self, options: RecordingOptions) -> StreamSpec {
        self.record = Some(options);
        self
    }

    /// Asks for an audio format, where the provider offers a choice.
    pub fn audio(mut self, format: AudioFormat) -> StreamSpec {
        self.audio = Some(format);
        self
    }
}

/// Whether `url`'s host is this machine (`localhost`, `127.0.0.0/8`, `::1`): where an emulated
/// carrier reaches an agent over plain `ws://`, which no real carrier ever could.
pub fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A document to answer a provider's webhook with: TwiML, Plivo XML or an NCCO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Markup {
    /// The `Content-Type` to send it with.
    pub content_type: &'static str,
    /// The document.
    pub body: String,
}

impl Markup {
    /// An XML document.
    pub fn xml(body: String) -> Markup {
        Markup {
            content_type: "text/xml; charset=utf-8",
            body,
        }
    }

    /// A JSON document.
    pub fn json(body: String) -> Markup {
        Markup {
            content_type: "application/json",
            body,
        }
    }
}

/// One element of an XML document, with attributes and children, written with every attribute
/// value and text escaped.
///
/// ```
/// use telephony_core::XmlElement;
///
/// let doc = XmlElement::new("Response")
///     .child(XmlElement::new("Say").attr("voice", "alice").text("Fish & \"chips\" <3"));
/// assert_eq!(
///     doc.to_document(),
///     "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say voice=\"alice\">Fish &amp; \"chips\" &lt;3</Say></Response>"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlElement {
    name: &'static str,
    attrs: Vec<(&'static str, String)>,
    children: Vec<XmlNode>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum XmlNode {
    Element(XmlElement),
    Text(String),
}

impl XmlElement {
    /// An empty element.
    pub fn new(name: &'static str) -> XmlElement {
        XmlElement {
            name,
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Adds an attribute.
    pub fn attr(mut self, name: &'static str, value: impl Into<String>) -> XmlElement {
        self.attrs.push((name, value.into()));
        self
    }

    /// Adds an attribute if `value` is `Some`.
    pub fn attr_opt(self, name: &'static str, value: Option<impl Into<String>>) -> XmlElement {
        match value {
            Some(v) => self.attr(name, v),
            None => self,
        }
    }

    /// Adds a child element.
    pub fn child(mut self, child: XmlElement) -> XmlElement {
        self.children.push(XmlNode::Element(child));
        self
    }

    /// Adds text.
    pub fn text(mut self, text: impl Into<String>) -> XmlElement {
        self.children.push(XmlNode::Text(text.into()));
        self
    }

    /// The element's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The element alone, without an XML declaration.
    pub fn to_fragment(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    /// A whole document: the XML declaration, then the element.
    pub fn to_document(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(self.name);
        for (name, value) in &self.attrs {
            let _ = write!(out, " {name}=\"");
            escape(value, true, out);
            out.push('"');
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for child in &self.children {
            match child {
                XmlNode::Element(e) => e.write(out),
                XmlNode::Text(t) => escape(t, false, out),
            }
        }
        let _ = write!(out, "</{}>", self.name);
    }
}

/// Escapes XML's special characters; characters XML 1.0 cannot carry at all (most control
/// characters) are dropped.
fn escape(s: &str, attribute: bool, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\t' | '\n' | '\r' if attribute => {
                let _ = write!(out, "&#{};", c as u32);
            }
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_needs_it() {
        let e = XmlElement::new("A")
            .attr("v", "a&b<c>d\"e'f\tg\u{1}")
            .text("x & y < z > \"q\" 'r'\u{0}\n");
        assert_eq!(
            e.to_fragment(),
            "<A v=\"a&amp;b&lt;c&gt;d&quot;e&apos;f&#9;g\">x &amp; y &lt; z &gt; \"q\" 'r'\n</A>"
        );
    }

    #[test]
    fn empty_elements_self_close() {
        let e = XmlElement::new("Response").child(XmlElement::new("Hangup"));
        assert_eq!(e.to_fragment(), "<Response><Hangup/></Response>");
        let e = XmlElement::new("Pause")
            .attr_opt("length", Some("2"))
            .attr_opt("x", None::<String>);
        assert_eq!(e.to_fragment(), "<Pause length=\"2\"/>");
    }
}
