//! A media WebSocket is authenticated before anything acts on the call it names: an upgrade
//! Twilio did not sign is refused, and a stream whose start carries no token minted for its
//! call (any provider) is closed, reported as aborted, and never makes the agent hang up the
//! call it named, even when its connection then drops.

#[path = "../examples/common/mod.rs"]
mod common;
mod support;

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use support::AnyFake;
use telephony::RequestUrl;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

const VICTIM: &str = "CA0123456789abcdef0123456789abcdef";

fn twilio_start(token: &str) -> String {
    serde_json::json!({
        "event": "start", "sequenceNumber": "1", "streamSid": "MZ1",
        "start": {
            "accountSid": telephony_testkit::accounts::twilio::ACCOUNT_SID,
            "streamSid": "MZ1", "callSid": VICTIM, "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": {"telephonyStreamToken": token}
        }
    })
    .to_string()
}

fn plivo_start() -> String {
    serde_json::json!({
        "event": "start", "sequenceNumber": 1,
        "start": {
            "callId": "4f2c8a1e-0000-4000-8000-000000000001", "streamId": "s-1",
            "accountId": telephony_testkit::accounts::plivo::AUTH_ID, "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000}
        },
        "extra_headers": ""
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unauthenticated_media_socket_can_act_on_no_call() {
    let (twilio, plivo) = (
        AnyFake::start("twilio").await,
        AnyFake::start("plivo").await,
    );
    let mut agent = common::start(common::AgentOptions::echo(
        vec![twilio.provider(), plivo.provider()],
        vec![],
    ))
    .await
    .unwrap();
    let mut media = agent.public_url.clone();
    media.set_scheme("ws").unwrap();

    // Twilio signs its upgrades: one without the signature never becomes a socket.
    let url = media.join("media/twilio").unwrap();
    let refused = tokio_tungstenite::connect_async(url.as_str()).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403);
        }
        other => panic!("an unsigned upgrade was accepted: {other:?}"),
    }

    // A signed upgrade (a captured one: the signature covers the URL alone) with a start
    // naming someone's call and a forged token; and a Plivo stream naming a call without one.
    let token = telephony::Secret::new(telephony_testkit::accounts::twilio::AUTH_TOKEN);
    let (_, signature) = telephony::twilio::signature::sign_request(
        &token,
        &RequestUrl::try_from(&url).unwrap(),
        &[],
        None,
    );
    let mut request = url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("X-Twilio-Signature", signature.parse().unwrap());
    for (provider, request, start) in [
        (
            "twilio",
            request,
            twilio_start("s1c001800000000forged0000000000000000000000000000"),
        ),
        (
            "plivo",
            media
                .join("media/plivo")
                .unwrap()
                .as_str()
                .into_client_request()
                .unwrap(),
            plivo_start(),
        ),
    ] {
        let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        ws.send(Message::text(start)).await.unwrap();
        // The agent closes the socket: read until it does.
        while let Some(Ok(m)) = ws.next().await {
            if m.is_close() {
                break;
            }
        }
        // And the connection then drops without a word, as the hang-up attack did.
        drop(ws);
        let mut seen = Vec::new();
        let closed = common::wait_for(&mut agent.log, Duration::from_secs(30), &mut seen, |l| {
            l["event"] == "closed" && l["provider"] == provider
        })
        .await
        .unwrap_or_else(|| panic!("{provider}: no closed line in {seen:?}"));
        assert!(
            closed["aborted"]
                .as_str()
                .is_some_and(|r| r.contains("did not prove")),
            "{provider}: {closed}"
        );
        // The stream's loop has ended (that line is its last): nothing was hung up.
        assert!(
            seen.iter()
                .all(|l| l["event"] != "dropped" && l["event"] != "started"),
            "{provider}: {seen:?}"
        );
    }
    assert_eq!(twilio.calls().len() + plivo.calls().len(), 0);
}
