//! Reading Plivo XML into the instructions the emulator acts on.

use std::time::Duration;

use telephony::Url;
use telephony::audio::{AudioFormat, Encoding, SampleRate};

use crate::markup::{DialTarget, Instruction, Node, RecordRequest, Room, StreamTarget, parse_xml};

/// `k=v;k2=v2` or `k=v,k2=v2`.
fn extra_headers(s: &str) -> Vec<(String, String)> {
    s.split([';', ','])
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((k.trim().to_owned(), v.trim().to_owned()))
        })
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// Plivo XML.
pub(super) fn plivo_xml(doc: &str) -> Result<Vec<Instruction>, String> {
    let response = parse_xml(doc)?;
    let mut out = Vec::new();
    for verb in response.children {
        match verb.name.as_str() {
            "Speak" => out.push(Instruction::Say(verb.text.trim().to_owned())),
            "Play" => out.push(Instruction::Play(verb.text.trim().to_owned())),
            "DTMF" => out.push(Instruction::Digits(verb.text.trim().to_owned())),
            "Dial" => out.push(dial(&verb)?),
            "Conference" => out.push(conference(&verb)),
            "Record" => out.push(record(&verb)),
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

/// `<Dial>` to its first `<Number>` or `<User>` (Plivo rings them all at once; the emulator
/// rings the first), with `callerId`, `timeout`, and `action` (its `method`, POST by default)
/// which gets the outcome. A `<User>`'s `sipHeaders` (`Name=value,…`) reach the target with
/// Plivo's `X-PH-` prefix.
fn dial(verb: &Node) -> Result<Instruction, String> {
    let noun = verb
        .children
        .iter()
        .find(|c| c.name == "Number" || c.name == "User")
        .ok_or("<Dial> without a <Number> or <User>")?;
    let to = noun.text.trim().to_owned();
    if to.is_empty() {
        return Err(format!("an empty <{}> in <Dial>", noun.name));
    }
    let sip_headers = noun
        .attr("sipHeaders")
        .map(|h| {
            h.split(',')
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (format!("X-PH-{}", k.trim()), v.trim().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    Ok(Instruction::Dial(DialTarget {
        to,
        caller_id: verb.attr("callerId").map(str::to_owned),
        timeout: verb
            .attr("timeout")
            .and_then(|t| t.parse().ok())
            .map(Duration::from_secs),
        action: verb
            .attr("action")
            .and_then(|u| Url::parse(u).ok())
            .map(|u| (u, verb.attr("method").unwrap_or("POST").to_owned())),
        leg_status: None,
        leg_events: None,
        sip_headers,
    }))
}

/// `<Conference>`: the room its text names; Plivo's defaults are that a member starts the
/// conference when it enters and leaving ends nothing.
fn conference(verb: &Node) -> Instruction {
    Instruction::Conference(Room {
        name: verb.text.trim().to_owned(),
        start_on_enter: verb.attr("startConferenceOnEnter") != Some("false"),
        end_on_exit: verb.attr("endConferenceOnExit") == Some("true"),
        hold: verb.attr("waitSound").map(str::to_owned),
    })
}

/// `<Record recordSession="true">`: the whole call in the background, announced at
/// `callbackUrl`; `recordChannelType` is stereo unless `mono` (the element's documented
/// default), `fileFormat` mp3 unless `wav`. A voicemail-style `<Record>` (or one that starts on
/// a dial's answer) is not acted on.
fn record(verb: &Node) -> Instruction {
    if verb.attr("recordSession") != Some("true") {
        return Instruction::Other("Record".into());
    }
    Instruction::Record(RecordRequest {
        channels: if verb.attr("recordChannelType") == Some("mono") {
            1
        } else {
            2
        },
        callback: verb.attr("callbackUrl").and_then(|u| Url::parse(u).ok()),
        format: verb.attr("fileFormat").unwrap_or("mp3").to_owned(),
    })
}

/// Plivo's `contentType`: μ-law 8 kHz, or L16 (little-endian here) at 8 or 16 kHz.
fn plivo_content_type(s: &str) -> Option<AudioFormat> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plivo_stream_hangup() {
        let doc = r#"<Response><Stream bidirectional="true" keepCallAlive="true" contentType="audio/x-l16;rate=16000" extraHeaders="a=1,b=2">ws://127.0.0.1:9/p</Stream><Hangup/></Response>"#;
        let i = plivo_xml(doc).unwrap();
        let Instruction::Stream(s) = &i[0] else {
            panic!()
        };
        assert_eq!(s.format.rate, SampleRate::Hz16000);
        assert_eq!(s.parameters.len(), 2);
    }

    #[test]
    fn plivo_call_control_elements() {
        // As telephony-plivo writes them: a cold transfer's <Dial>, a warm one's rooms, and
        // the answer's <Record>.
        let cold = r#"<Response><Dial callerId="14155550199" timeout="20" action="https://a.example/s?x=1&amp;y=2" method="POST"><Number>14155550123</Number></Dial></Response>"#;
        let Instruction::Dial(d) = &plivo_xml(cold).unwrap()[0] else {
            panic!("a dial")
        };
        assert_eq!(d.to, "14155550123");
        assert_eq!(d.caller_id.as_deref(), Some("14155550199"));
        assert_eq!(d.timeout, Some(Duration::from_secs(20)));
        assert_eq!(
            d.action.as_ref().map(|(u, m)| (u.as_str(), m.as_str())),
            Some(("https://a.example/s?x=1&y=2", "POST"))
        );
        let sip = r#"<Response><Dial><User sipHeaders="Case=42,Team=b">sip:desk@pbx.example.com</User></Dial></Response>"#;
        let Instruction::Dial(d) = &plivo_xml(sip).unwrap()[0] else {
            panic!("a dial")
        };
        assert_eq!(d.to, "sip:desk@pbx.example.com");
        assert_eq!(
            d.sip_headers,
            [
                ("X-PH-Case".to_owned(), "42".to_owned()),
                ("X-PH-Team".to_owned(), "b".to_owned())
            ]
        );
        assert!(plivo_xml("<Response><Dial></Dial></Response>").is_err());
        let warm = r#"<Response><Speak>A caller about a refund.</Speak><Play>https://a.example/x.mp3</Play><Conference startConferenceOnEnter="false" endConferenceOnExit="true" waitSound="https://a.example/hold.mp3">xfer-1</Conference><Conference>plain</Conference></Response>"#;
        let i = plivo_xml(warm).unwrap();
        assert_eq!(i[0], Instruction::Say("A caller about a refund.".into()));
        assert_eq!(i[1], Instruction::Play("https://a.example/x.mp3".into()));
        assert_eq!(
            i[2],
            Instruction::Conference(Room {
                name: "xfer-1".into(),
                start_on_enter: false,
                end_on_exit: true,
                hold: Some("https://a.example/hold.mp3".into())
            })
        );
        assert!(matches!(&i[3], Instruction::Conference(r) if r.start_on_enter && !r.end_on_exit));
        let rec = r#"<Response><Record recordSession="true" redirect="false" maxLength="14400" recordChannelType="mono" callbackUrl="https://a.example/r" callbackMethod="POST"/><Record recordSession="true" fileFormat="wav"/><Record action="https://a.example/vm"/><DTMF>12#</DTMF></Response>"#;
        let i = plivo_xml(rec).unwrap();
        assert_eq!(
            i[0],
            Instruction::Record(RecordRequest {
                channels: 1,
                callback: Some(Url::parse("https://a.example/r").unwrap()),
                format: "mp3".into()
            })
        );
        assert!(matches!(&i[1], Instruction::Record(r) if r.channels == 2 && r.format == "wav"));
        assert_eq!(i[2], Instruction::Other("Record".into()));
        assert_eq!(i[3], Instruction::Digits("12#".into()));
    }
}
