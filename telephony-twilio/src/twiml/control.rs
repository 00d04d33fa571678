//! The TwiML of call control: a party a `<Dial>` rings with its own status callback, a
//! `<Conference>` room with its attributes, and `<Start><Recording>`.
//!
//! Attribute names as twilio-python 9.13 writes them (`twiml/voice_response.py`: `Number`,
//! `Sip`, `Conference`, `Start.recording`, each snake_case name in lowerCamelCase).
//!
//! ```
//! use telephony_twilio::twiml::{Conference, Dial, DialParty, VoiceResponse};
//!
//! let doc = VoiceResponse::new()
//!     .dial(
//!         Dial::party(DialParty::number(&"+14155550123".parse()?).status_callback("https://a.example/s"))
//!             .action("https://a.example/s?leg=caller"),
//!     )
//!     .to_xml();
//! assert!(doc.contains("<Number statusCallback=\"https://a.example/s\" statusCallbackEvent=\"initiated ringing answered completed\">+14155550123</Number>"));
//! let room = VoiceResponse::new()
//!     .dial(Dial::room(Conference::new("xfer-1").start_on_enter(false).end_on_exit(true).beep(false)))
//!     .to_xml();
//! assert!(room.contains("<Conference startConferenceOnEnter=\"false\" endConferenceOnExit=\"true\" beep=\"false\">xfer-1</Conference>"));
//! # Ok::<(), telephony_core::Error>(())
//! ```

use telephony_core::{E164, XmlElement};

use super::{Dial, VoiceResponse};

/// Every progress event a dialled party reports (`statusCallbackEvent`), space-separated:
/// these four are all Twilio has. Busy, no answer and failure are not events: they arrive as
/// `completed` with that `CallStatus`.
pub const LEG_EVENTS: &str = "initiated ringing answered completed";

/// A party a `<Dial>` rings: `<Number>` or `<Sip>`, with its own status callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialParty {
    element: XmlElement,
    address: String,
    status_callback: Option<String>,
}

impl DialParty {
    /// `<Number>`.
    pub fn number(number: &E164) -> DialParty {
        DialParty {
            element: XmlElement::new("Number"),
            address: number.to_string(),
            status_callback: None,
        }
    }

    /// `<Sip>`: a SIP URI, headers already in it ([`sip_address`]).
    pub fn sip(uri: impl Into<String>) -> DialParty {
        DialParty {
            element: XmlElement::new("Sip"),
            address: uri.into(),
            status_callback: None,
        }
    }

    /// `statusCallback`, with every event ([`LEG_EVENTS`]); Twilio posts them.
    pub fn status_callback(mut self, url: impl Into<String>) -> DialParty {
        self.status_callback = Some(url.into());
        self
    }

    fn element(&self) -> XmlElement {
        self.element
            .clone()
            .attr_opt("statusCallback", self.status_callback.clone())
            .attr_opt(
                "statusCallbackEvent",
                self.status_callback.as_ref().map(|_| LEG_EVENTS),
            )
            .text(self.address.clone())
    }
}

/// `<Conference>`: a room, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conference {
    room: String,
    start_on_enter: Option<bool>,
    end_on_exit: Option<bool>,
    beep: Option<bool>,
    wait_url: Option<String>,
}

impl Conference {
    /// The room `room`.
    pub fn new(room: impl Into<String>) -> Conference {
        Conference {
            room: room.into(),
            start_on_enter: None,
            end_on_exit: None,
            beep: None,
            wait_url: None,
        }
    }

    /// `startConferenceOnEnter`: whether this party starts the room (the others hear hold
    /// audio until someone who does enters).
    pub fn start_on_enter(mut self, yes: bool) -> Conference {
        self.start_on_enter = Some(yes);
        self
    }

    /// `endConferenceOnExit`: whether the room ends when this party leaves.
    pub fn end_on_exit(mut self, yes: bool) -> Conference {
        self.end_on_exit = Some(yes);
        self
    }

    /// `beep`: whether entering and leaving beep.
    pub fn beep(mut self, yes: bool) -> Conference {
        self.beep = Some(yes);
        self
    }

    /// `waitUrl`: what this party hears until the room starts (audio, or TwiML of `<Play>`
    /// and `<Say>`).
    pub fn wait_url(mut self, url: impl Into<String>) -> Conference {
        self.wait_url = Some(url.into());
        self
    }

    fn element(&self) -> XmlElement {
        XmlElement::new("Conference")
            .attr_opt("startConferenceOnEnter", self.start_on_enter.map(flag))
            .attr_opt("endConferenceOnExit", self.end_on_exit.map(flag))
            .attr_opt("beep", self.beep.map(flag))
            .attr_opt("waitUrl", self.wait_url.clone())
            .text(self.room.clone())
    }
}

fn flag(yes: bool) -> &'static str {
    if yes { "true" } else { "false" }
}

impl Dial {
    fn with_noun(noun: XmlElement) -> Dial {
        Dial {
            targets: Vec::new(),
            nouns: vec![noun],
            caller_id: None,
            timeout: None,
            time_limit: None,
            action: None,
        }
    }

    /// Dials one party with attributes of its own.
    pub fn party(party: DialParty) -> Dial {
        Dial::with_noun(party.element())
    }

    /// Joins a conference room.
    pub fn room(conference: Conference) -> Dial {
        Dial::with_noun(conference.element())
    }
}

/// `<Recording>`, started with `<Start>`: the call is recorded in the background while the
/// next verbs run (Twilio `<Start><Recording>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    dual: bool,
    status_callback: Option<String>,
}

impl Default for Recording {
    fn default() -> Self {
        Recording::new()
    }
}

impl Recording {
    /// A mono recording, announced nowhere.
    pub fn new() -> Recording {
        Recording {
            dual: false,
            status_callback: None,
        }
    }

    /// `channels="dual"`: each party on its own channel (`mono` otherwise).
    pub fn dual(mut self, dual: bool) -> Recording {
        self.dual = dual;
        self
    }

    /// `recordingStatusCallback`, for the `completed` event: where the finished recording is
    /// announced.
    pub fn status_callback(mut self, url: impl Into<String>) -> Recording {
        self.status_callback = Some(url.into());
        self
    }

    fn element(&self) -> XmlElement {
        XmlElement::new("Recording")
            .attr("channels", if self.dual { "dual" } else { "mono" })
            .attr_opt("recordingStatusCallback", self.status_callback.clone())
            .attr_opt(
                "recordingStatusCallbackEvent",
                self.status_callback.as_ref().map(|_| "completed"),
            )
    }
}

impl VoiceResponse {
    /// `<Start><Recording>`: records the call from here on, in the background.
    pub fn start_recording(self, recording: Recording) -> VoiceResponse {
        self.verb(XmlElement::new("Start").child(recording.element()))
    }
}

/// A SIP URI with headers for the INVITE, as Twilio takes them on `<Sip>` and a call's `To`:
/// `sip:desk@pbx.example.com?X-Case=42&X-Team=billing` (each name `X-` prefixed, each value
/// percent-encoded). Source: Twilio's "Receiving SIP" page and error 13252 ("for custom
/// headers, use the x- prefix"); the headers ride on the URI's query, joined by `&`.
pub fn sip_address(uri: &str, headers: &[(String, String)]) -> String {
    let mut out = uri.to_owned();
    for (i, (name, value)) in headers.iter().enumerate() {
        out.push(if i == 0 && !uri.contains('?') {
            '?'
        } else {
            '&'
        });
        out.push_str("X-");
        out.push_str(name);
        out.push('=');
        for b in value.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parties_rooms_and_recordings_render() {
        let doc = VoiceResponse::new()
            .start_recording(
                Recording::new()
                    .dual(true)
                    .status_callback("https://a/r?x=1&y=2"),
            )
            .dial(Dial::party(
                DialParty::sip("sip:a@b?X-A=1").status_callback("https://a/s"),
            ))
            .dial(Dial::room(
                Conference::new("xfer-1")
                    .start_on_enter(true)
                    .end_on_exit(true)
                    .beep(false)
                    .wait_url("https://a/hold.mp3"),
            ))
            .to_xml();
        for piece in [
            "<Start><Recording channels=\"dual\" recordingStatusCallback=\"https://a/r?x=1&amp;y=2\" recordingStatusCallbackEvent=\"completed\"/></Start>",
            "<Dial><Sip statusCallback=\"https://a/s\" statusCallbackEvent=\"initiated ringing answered completed\">sip:a@b?X-A=1</Sip></Dial>",
            "<Dial><Conference startConferenceOnEnter=\"true\" endConferenceOnExit=\"true\" beep=\"false\" waitUrl=\"https://a/hold.mp3\">xfer-1</Conference></Dial>",
        ] {
            assert!(doc.contains(piece), "{piece} missing from {doc}");
        }
        assert!(
            VoiceResponse::new()
                .start_recording(Recording::new())
                .to_xml()
                .contains("<Start><Recording channels=\"mono\"/></Start>")
        );
    }

    #[test]
    fn sip_headers_ride_on_the_uri() {
        let h = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(sip_address("sip:a@b", &[]), "sip:a@b");
        assert_eq!(
            sip_address(
                "sip:a@b;transport=tls",
                &h(&[("Case", "4 2&x"), ("Team", "b")])
            ),
            "sip:a@b;transport=tls?X-Case=4%202%26x&X-Team=b"
        );
        assert_eq!(
            sip_address("sip:a@b?X-Old=1", &h(&[("New", "é")])),
            "sip:a@b?X-Old=1&X-New=%C3%A9"
        );
    }
}
