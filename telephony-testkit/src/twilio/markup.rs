//! Reading TwiML into the instructions the emulator acts on.

use std::time::Duration;

use telephony::audio::AudioFormat;

use crate::markup::{Instruction, StreamTarget, parse_xml};

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
}
