//! Reading an NCCO into the instructions the emulator acts on.

use crate::markup::{Instruction, StreamTarget};

#[derive(serde::Deserialize)]
struct RawAction {
    #[serde(default)]
    action: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    endpoint: Vec<RawEndpoint>,
}

#[derive(serde::Deserialize)]
struct RawEndpoint {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    uri: Option<String>,
    #[serde(rename = "content-type", default)]
    content_type: Option<String>,
    #[serde(default, deserialize_with = "ordered")]
    headers: Vec<(String, serde_json::Value)>,
}

/// A JSON object's members in document order (serde_json's own map sorts them).
fn ordered<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<(String, serde_json::Value)>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Vec<(String, serde_json::Value)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(e) = map.next_entry::<String, serde_json::Value>()? {
                out.push(e);
            }
            Ok(out)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(V)
}

/// An NCCO.
pub(super) fn ncco(doc: &str) -> Result<Vec<Instruction>, String> {
    let actions: Vec<RawAction> = serde_json::from_str(doc)
        .map_err(|e| format!("not an NCCO (a JSON array of actions): {e}"))?;
    let mut out = Vec::new();
    for a in actions {
        match a.action.as_str() {
            "talk" => out.push(Instruction::Say(a.text.unwrap_or_default())),
            "connect" => {
                let Some(ep) = a.endpoint.into_iter().next() else {
                    return Err("connect without an endpoint".into());
                };
                if ep.kind != "websocket" {
                    out.push(Instruction::Other(format!("connect to {}", ep.kind)));
                    continue;
                }
                let url = ep.uri.ok_or("websocket endpoint without uri")?;
                let ct = ep
                    .content_type
                    .ok_or("websocket endpoint without content-type")?;
                let format = telephony::vonage::content_type_format(&ct)
                    .ok_or_else(|| format!("content-type {ct:?}"))?;
                let parameters = ep
                    .headers
                    .iter()
                    .map(|(k, v)| {
                        let text = match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        (k.clone(), text)
                    })
                    .collect();
                out.push(Instruction::Stream(StreamTarget {
                    url,
                    parameters,
                    headers_json: ep.headers,
                    format,
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
    use telephony::audio::SampleRate;

    use super::*;

    #[test]
    fn ncco_talk_connect() {
        let n = ncco(r#"[{"action":"talk","text":"hi"},{"action":"connect","endpoint":[{"type":"websocket","uri":"ws://127.0.0.1:9/v","content-type":"audio/l16;rate=24000","headers":{"z":"1","a":2}}]}]"#).unwrap();
        let Instruction::Stream(s) = &n[1] else {
            panic!()
        };
        assert_eq!(s.format.rate, SampleRate::Hz24000);
        assert_eq!(
            s.parameters,
            [("z".into(), "1".into()), ("a".into(), "2".into())]
        );
        assert!(ncco("{}").is_err());
    }
}
