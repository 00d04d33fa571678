//! Reading the stream fields of a `dial` or `actions/answer` command into the instructions the
//! emulator acts on: Telnyx runs no document, the command carries the stream. A call without
//! a stream is parked: answered, waiting for commands (a transfer's target, dialled to be
//! briefed and bridged).

use std::time::Duration;

use telephony::audio::{AudioFormat, Encoding, SampleRate};

use crate::markup::{Instruction, StreamTarget};

/// How long a parked call waits for a command, in call time: Telnyx's longest call (a dial's
/// `time_limit_secs` is at most 14 400 s).
pub(super) const PARKED: Duration = Duration::from_secs(14_400);

/// What a call does with nothing to do: it stays up, waiting for commands.
pub(super) fn parked() -> Vec<Instruction> {
    vec![Instruction::Pause(PARKED)]
}

/// The stream a command's body asks for. Telnyx plays MP3 files in its default bidirectional
/// mode, so anything but `rtp` is refused here, as a stream an agent cannot speak on.
pub(super) fn stream_fields(body: &str) -> Result<Vec<Instruction>, String> {
    let v: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("not a JSON command: {e}"))?;
    let text = |k: &str| v.get(k).and_then(|x| x.as_str());
    let Some(url) = text("stream_url") else {
        return Ok(parked());
    };
    match text("stream_bidirectional_mode") {
        Some("rtp") => {}
        other => {
            return Err(format!(
                "stream_bidirectional_mode {other:?}: the agent's audio plays only in rtp mode (mp3 is the default)"
            ));
        }
    }
    let codec = text("stream_bidirectional_codec").unwrap_or("PCMU");
    if let Some(inbound) = text("stream_codec")
        && inbound != codec
    {
        return Err(format!(
            "stream_codec {inbound} and stream_bidirectional_codec {codec}: one codec both ways"
        ));
    }
    let format = match codec {
        "PCMU" => AudioFormat::MULAW_8K,
        "PCMA" => AudioFormat::new(Encoding::Alaw, SampleRate::Hz8000),
        other => return Err(format!("stream_bidirectional_codec {other}")),
    };
    if text("stream_track").is_some_and(|t| t != "inbound_track") {
        return Err("stream_track other than inbound_track: the agent would hear itself".into());
    }
    let parameters = text("client_state")
        .and_then(telephony::telnyx::client_state::parameters)
        .unwrap_or_default();
    Ok(vec![Instruction::Stream(StreamTarget {
        url: url.to_owned(),
        parameters,
        headers_json: Vec::new(),
        format,
        then_continue: true,
    })])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtp_streams_are_read_and_mp3_refused() {
        let state = telephony::telnyx::client_state::encode(&[("a".into(), "1".into())])
            .unwrap()
            .unwrap();
        let body = serde_json::json!({"stream_url": "ws://127.0.0.1:9/m", "stream_bidirectional_mode": "rtp", "stream_bidirectional_codec": "PCMA", "stream_codec": "PCMA", "client_state": state}).to_string();
        let i = stream_fields(&body).unwrap();
        let Instruction::Stream(s) = &i[0] else {
            panic!("{i:?}")
        };
        assert_eq!(s.format.encoding, Encoding::Alaw);
        assert_eq!(s.parameters, [("a".to_owned(), "1".to_owned())]);
        let mp3 = serde_json::json!({"stream_url": "ws://127.0.0.1:9/m"}).to_string();
        assert!(stream_fields(&mp3).is_err());
        assert!(stream_fields("nope").is_err());
        // Without a stream, the call is parked, waiting for commands.
        let none = serde_json::json!({"to": "+14155550100"}).to_string();
        assert_eq!(stream_fields(&none).unwrap(), parked());
    }
}
