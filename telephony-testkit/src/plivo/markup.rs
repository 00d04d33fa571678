//! Reading Plivo XML into the instructions the emulator acts on.

use std::time::Duration;

use telephony::audio::{AudioFormat, Encoding, SampleRate};

use crate::markup::{Instruction, StreamTarget, parse_xml};

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
}
