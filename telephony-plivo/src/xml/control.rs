//! The elements call control writes: `<Record>` (a session recorded in the background) and
//! `<Conference>` (the room a warm transfer bridges in). Attribute names as plivo-python 4.63
//! writes them (`plivo/xml/recordElement.py`, `ConferenceElement.py`).

use std::time::Duration;

use telephony_core::XmlElement;

use super::{Method, PlivoResponse};

/// A recording's file format (`fileFormat`): Plivo records MP3 (its default) or WAV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFormat {
    /// `mp3`.
    Mp3,
    /// `wav`.
    Wav,
}

impl RecordFormat {
    /// `mp3` or `wav`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordFormat::Mp3 => "mp3",
            RecordFormat::Wav => "wav",
        }
    }
}

/// `recordChannelType`: both parties mixed, or one a channel. Plivo's XML docs give `stereo`
/// as the element's default (the Record API's is `mono`), so the builder always writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordChannels {
    /// `mono`.
    Mono,
    /// `stereo`.
    Stereo,
}

impl RecordChannels {
    /// `mono` or `stereo`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordChannels::Mono => "mono",
            RecordChannels::Stereo => "stereo",
        }
    }
}

/// `<Record recordSession="true">`: records the whole call in the background (no beep) while
/// the document goes on, so it goes before `<Stream>`.
///
/// ```
/// use std::time::Duration;
/// use telephony_plivo::xml::{PlivoResponse, Record, RecordChannels, RecordFormat};
///
/// let record = Record::session()
///     .format(RecordFormat::Wav)
///     .channels(RecordChannels::Stereo)
///     .max_length(Duration::from_secs(3600))
///     .callback("https://agent.example.com/status");
/// let doc = PlivoResponse::new().record(record).to_xml()?;
/// assert!(doc.contains(r#"<Record recordSession="true" redirect="false" fileFormat="wav""#));
/// # Ok::<(), telephony_plivo::xml::PlivoXmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    format: Option<RecordFormat>,
    channels: RecordChannels,
    max_length: Duration,
    callback: Option<String>,
}

impl Record {
    /// The longest recording asked for when none is given: Plivo's element defaults to 60 s,
    /// far shorter than a call, so the builder always writes `maxLength`, by default the
    /// 14400 s (4 hours) Plivo documents as a call's and a `<Dial>`'s default time limit.
    pub const DEFAULT_MAX_LENGTH: Duration = Duration::from_secs(14_400);

    /// A background recording of the call's session, mono, MP3, 4 hours at most.
    pub fn session() -> Record {
        Record {
            format: None,
            channels: RecordChannels::Mono,
            max_length: Record::DEFAULT_MAX_LENGTH,
            callback: None,
        }
    }

    /// The file format.
    pub fn format(mut self, format: RecordFormat) -> Record {
        self.format = Some(format);
        self
    }

    /// Mono or stereo.
    pub fn channels(mut self, channels: RecordChannels) -> Record {
        self.channels = channels;
        self
    }

    /// The longest recording, in whole seconds (at least 2: Plivo takes "an integer greater
    /// than 1").
    pub fn max_length(mut self, length: Duration) -> Record {
        self.max_length = length;
        self
    }

    /// Where Plivo posts the finished recording (`RecordUrl`, `RecordingID`,
    /// `RecordingDuration`…), with a POST.
    pub fn callback(mut self, url: impl Into<String>) -> Record {
        self.callback = Some(url.into());
        self
    }

    fn element(&self) -> XmlElement {
        XmlElement::new("Record")
            .attr("recordSession", "true")
            .attr("redirect", "false")
            .attr_opt("fileFormat", self.format.map(RecordFormat::as_str))
            .attr("maxLength", self.max_length.as_secs().max(2).to_string())
            .attr("recordChannelType", self.channels.as_str())
            .attr_opt("callbackUrl", self.callback.clone())
            .attr_opt(
                "callbackMethod",
                self.callback.as_ref().map(|_| Method::Post.as_str()),
            )
    }
}

/// `<Conference>`: the call joins the room named by the element's text.
///
/// ```
/// use telephony_plivo::xml::{Conference, PlivoResponse};
///
/// let room = Conference::new("xfer-1").start_on_enter(false).end_on_exit(true);
/// let doc = PlivoResponse::new().conference(room).to_xml()?;
/// assert!(doc.ends_with(
///     r#"<Conference startConferenceOnEnter="false" endConferenceOnExit="true">xfer-1</Conference></Response>"#
/// ));
/// # Ok::<(), telephony_plivo::xml::PlivoXmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conference {
    room: String,
    start_on_enter: Option<bool>,
    end_on_exit: Option<bool>,
    wait_sound: Option<String>,
}

impl Conference {
    /// The room `room`, with Plivo's defaults: the member starts the conference when it
    /// enters, and leaving does not end it.
    pub fn new(room: impl Into<String>) -> Conference {
        Conference {
            room: room.into(),
            start_on_enter: None,
            end_on_exit: None,
            wait_sound: None,
        }
    }

    /// `startConferenceOnEnter`: whether this member starts the conference; one that does not
    /// waits (hearing `waitSound`) until one that does enters.
    pub fn start_on_enter(mut self, yes: bool) -> Conference {
        self.start_on_enter = Some(yes);
        self
    }

    /// `endConferenceOnExit`: whether this member leaving ends it for everyone.
    pub fn end_on_exit(mut self, yes: bool) -> Conference {
        self.end_on_exit = Some(yes);
        self
    }

    /// `waitSound`: what a member waiting for the conference to start hears. Plivo's current
    /// docs describe it as audio to play; older pages said a URL answering XML of `<Play>`,
    /// `<Speak>` and `<Wait>` only, so which a live account takes is unverified.
    pub fn wait_sound(mut self, url: impl Into<String>) -> Conference {
        self.wait_sound = Some(url.into());
        self
    }

    fn element(&self) -> XmlElement {
        let flag = |b: Option<bool>| b.map(|b| if b { "true" } else { "false" });
        XmlElement::new("Conference")
            .attr_opt("startConferenceOnEnter", flag(self.start_on_enter))
            .attr_opt("endConferenceOnExit", flag(self.end_on_exit))
            .attr_opt("waitSound", self.wait_sound.clone())
            .text(self.room.clone())
    }
}

impl PlivoResponse {
    /// `<Record>`.
    pub fn record(self, record: Record) -> PlivoResponse {
        self.push(record.element())
    }

    /// `<Conference>`.
    pub fn conference(self, conference: Conference) -> PlivoResponse {
        self.push(conference.element())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_always_says_its_length_and_channels() {
        let doc = PlivoResponse::new()
            .record(Record::session())
            .to_xml()
            .unwrap();
        assert!(
            doc.ends_with(
                "<Response><Record recordSession=\"true\" redirect=\"false\" maxLength=\"14400\" recordChannelType=\"mono\"/></Response>"
            ),
            "{doc}"
        );
        let doc = PlivoResponse::new()
            .record(
                Record::session()
                    .format(RecordFormat::Mp3)
                    .channels(RecordChannels::Stereo)
                    .max_length(Duration::from_millis(10))
                    .callback("https://a/rec?x=1&y=2"),
            )
            .to_xml()
            .unwrap();
        assert!(
            doc.contains(
                "<Record recordSession=\"true\" redirect=\"false\" fileFormat=\"mp3\" maxLength=\"2\" recordChannelType=\"stereo\" callbackUrl=\"https://a/rec?x=1&amp;y=2\" callbackMethod=\"POST\"/>"
            ),
            "{doc}"
        );
    }

    #[test]
    fn conference_writes_only_what_is_set() {
        let doc = PlivoResponse::new()
            .conference(Conference::new("room"))
            .conference(
                Conference::new("xfer-2")
                    .start_on_enter(true)
                    .end_on_exit(false)
                    .wait_sound("https://a/hold.mp3"),
            )
            .to_xml()
            .unwrap();
        assert!(
            doc.ends_with(
                "<Response><Conference>room</Conference><Conference startConferenceOnEnter=\"true\" endConferenceOnExit=\"false\" waitSound=\"https://a/hold.mp3\">xfer-2</Conference></Response>"
            ),
            "{doc}"
        );
    }
}
