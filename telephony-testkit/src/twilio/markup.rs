//! Reading TwiML into the instructions the emulator acts on.

use std::time::Duration;

use telephony::audio::AudioFormat;

use telephony::Url;

use crate::markup::{DialTarget, Instruction, Node, RecordRequest, Room, StreamTarget, parse_xml};

/// TwiML.
pub(super) fn twiml(doc: &str) -> Result<Vec<Instruction>, String> {
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
            "Play" => out.push(match verb.attr("digits") {
                Some(digits) => Instruction::Digits(digits.to_owned()),
                None => Instruction::Play(verb.text.trim().to_owned()),
            }),
            "Dial" => out.push(dial(&verb)),
            "Start" => {
                for noun in &verb.children {
                    if noun.name == "Recording" {
                        out.push(Instruction::Record(RecordRequest {
                            channels: if noun.attr("channels") == Some("dual") {
                                2
                            } else {
                                1
                            },
                            callback: noun
                                .attr("recordingStatusCallback")
                                .and_then(|u| Url::parse(u).ok()),
                            format: "wav".into(),
                        }));
                    } else {
                        out.push(Instruction::Other(format!("Start {}", noun.name)));
                    }
                }
            }
            other => out.push(Instruction::Other(other.to_owned())),
        }
    }
    Ok(out)
}

/// `<Dial>`: into a `<Conference>`, or to a `<Number>` or `<Sip>` (or a bare number).
fn dial(verb: &Node) -> Instruction {
    if let Some(c) = verb.children.iter().find(|c| c.name == "Conference") {
        return Instruction::Conference(Room {
            name: c.text.trim().to_owned(),
            // Twilio's defaults: a participant starts the conference, and leaving ends
            // nothing.
            start_on_enter: c.attr("startConferenceOnEnter") != Some("false"),
            end_on_exit: c.attr("endConferenceOnExit") == Some("true"),
            hold: c.attr("waitUrl").map(str::to_owned),
        });
    }
    let noun = verb
        .children
        .iter()
        .find(|c| c.name == "Number" || c.name == "Sip");
    let to = noun.map_or_else(|| verb.text.trim().to_owned(), |n| n.text.trim().to_owned());
    let (to, sip_headers) = match (noun.map(|n| n.name.as_str()), to.split_once('?')) {
        (Some("Sip"), Some((uri, query))) => (
            uri.to_owned(),
            url::form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ),
        _ => (to, Vec::new()),
    };
    Instruction::Dial(DialTarget {
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
        leg_status: noun
            .and_then(|n| n.attr("statusCallback"))
            .and_then(|u| Url::parse(u).ok()),
        leg_events: noun
            .and_then(|n| n.attr("statusCallbackEvent"))
            .map(|e| e.split_whitespace().map(str::to_owned).collect()),
        sip_headers,
    })
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
        let cold = r#"<Response><Dial callerId="+14155550100" timeout="20" action="https://a.example/x?y=1"><Number statusCallback="https://a.example/leg" statusCallbackEvent="initiated ringing answered completed">+14155550123</Number></Dial><Hangup/></Response>"#;
        let Instruction::Dial(d) = &twiml(cold).unwrap()[0] else {
            panic!("a dial")
        };
        assert_eq!(d.to, "+14155550123");
        assert_eq!(d.timeout, Some(Duration::from_secs(20)));
        assert_eq!(d.leg_events.as_ref().map(Vec::len), Some(4));
        assert_eq!(
            d.action.as_ref().map(|(u, m)| (u.as_str(), m.as_str())),
            Some(("https://a.example/x?y=1", "POST"))
        );
        let sip =
            r#"<Response><Dial><Sip>sip:desk@pbx.example.com?X-Case=42</Sip></Dial></Response>"#;
        let Instruction::Dial(d) = &twiml(sip).unwrap()[0] else {
            panic!("a dial")
        };
        assert_eq!(d.to, "sip:desk@pbx.example.com");
        assert_eq!(d.sip_headers, [("X-Case".to_owned(), "42".to_owned())]);
        let room = r#"<Response><Start><Recording channels="dual" recordingStatusCallback="https://a.example/r"/></Start><Dial><Conference startConferenceOnEnter="false" endConferenceOnExit="true" beep="false">xfer-1</Conference></Dial></Response>"#;
        let i = twiml(room).unwrap();
        assert!(matches!(&i[0], Instruction::Record(r) if r.channels == 2));
        assert_eq!(
            i[1],
            Instruction::Conference(Room {
                name: "xfer-1".into(),
                start_on_enter: false,
                end_on_exit: true,
                hold: None
            })
        );
        assert!(twiml("nope").is_err());
    }
}
