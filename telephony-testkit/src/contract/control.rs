//! The call-control rules every adapter keeps: its [`Capabilities`] tell the truth both ways.
//!
//! - What a carrier cannot do is refused with a typed error before any request: an operation
//!   its capabilities deny ([`Error::Unsupported`]), an option it cannot take on an operation
//!   it has (dual-channel recording, waiting for a machine's greeting to end, a recording on a
//!   call placed by a carrier that records no call).
//! - What it says it can do reaches the carrier: each such operation sends at least one
//!   request (here to a fake that fails it, so the rule needs no carrier's bodies).
//!
//! The rules run in [`rest_contract!`](crate::rest_contract), with the carrier's
//! [`RestCarrier`]: its adapter and a call to place.

use telephony_core::{
    CallId, Capabilities, Dtmf, Error, MachineDetection, OutboundCall, RecordingChannels,
    RecordingId, RecordingOptions, SipTarget, TelephonyProvider, Transfer, TransferTarget, Url,
};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::rest::{RestCarrier, Waits, adapter};

/// A fake that fails every request with a 400: an operation that reaches it is refused by the
/// carrier, not by the adapter.
async fn refusing() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(400).set_body_json(serde_json::json!({"message": "refused"})),
        )
        .mount(&server)
        .await;
    server
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

fn events() -> Url {
    Url::parse("https://agent.example.com/status").expect("a URL")
}

fn number() -> TransferTarget {
    TransferTarget::Number("+14155550123".parse().expect("a number"))
}

fn sip() -> TransferTarget {
    SipTarget::new("sip:desk@pbx.example.com")
        .and_then(|s| s.header("Case", "42"))
        .expect("a SIP target")
        .into()
}

/// One call-control operation, the capability that allows it, and how to try it.
struct Operation {
    name: &'static str,
    allowed: fn(&Capabilities) -> bool,
}

const OPERATIONS: [Operation; 9] = [
    Operation {
        name: "cold transfer",
        allowed: |c| c.transfer,
    },
    Operation {
        name: "warm transfer",
        allowed: |c| c.warm_transfer,
    },
    Operation {
        name: "SIP transfer",
        allowed: |c| c.transfer && c.sip_transfer,
    },
    Operation {
        name: "start recording",
        allowed: |c| c.recording_control,
    },
    Operation {
        name: "start dual-channel recording",
        allowed: |c| c.recording_control && c.dual_channel_recording,
    },
    Operation {
        name: "stop recording",
        allowed: |c| c.recording_control,
    },
    Operation {
        name: "download recording",
        allowed: |c| c.recording_download,
    },
    Operation {
        name: "delete recording",
        allowed: |c| c.recording_delete,
    },
    Operation {
        name: "send DTMF",
        allowed: |c| c.dtmf_rest,
    },
];

async fn attempt(provider: &dyn TelephonyProvider, name: &str) -> Result<(), Error> {
    let call = CallId::new("call-control-contract-1").expect("an id");
    let recording = RecordingId::new("recording-contract-1").expect("an id");
    let from = "+14155550199".parse().expect("a number");
    match name {
        "cold transfer" => provider
            .transfer(
                &call,
                &Transfer::cold(number()).caller_id(from).events(events()),
            )
            .await
            .map(drop),
        "warm transfer" => provider
            .transfer(
                &call,
                &Transfer::warm(
                    number(),
                    Some(telephony_core::Brief::Say("A caller.".into())),
                )
                .caller_id(from)
                .events(events()),
            )
            .await
            .map(drop),
        "SIP transfer" => provider
            .transfer(
                &call,
                &Transfer::cold(sip()).caller_id(from).events(events()),
            )
            .await
            .map(drop),
        "start recording" => provider
            .start_recording(&call, &RecordingOptions::new().callback(events()))
            .await
            .map(drop),
        "start dual-channel recording" => provider
            .start_recording(
                &call,
                &RecordingOptions::new()
                    .channels(RecordingChannels::Dual)
                    .callback(events()),
            )
            .await
            .map(drop),
        "stop recording" => provider.stop_recording(&call, Some(&recording)).await,
        "download recording" => provider
            .download_recording(&recording, &mut tokio::io::sink())
            .await
            .map(drop),
        "delete recording" => provider.delete_recording(&recording).await,
        "send DTMF" => {
            provider
                .send_dtmf(&call, &Dtmf::new("1#").expect("digits"))
                .await
        }
        other => unreachable!("no operation {other}"),
    }
}

/// Whether `e` is a refusal made before any request: unsupported, or a request the carrier
/// cannot take.
fn refused_early(e: &Error) -> bool {
    matches!(e, Error::Unsupported { .. } | Error::InvalidRequest(_))
}

/// Every call-control operation the capabilities deny is refused with a typed error, and no
/// request leaves.
pub async fn unsupported_control_is_refused_before_any_request(carrier: &RestCarrier) {
    let server = refusing().await;
    let provider = adapter(carrier, &server, Waits::default().http());
    let caps = provider.capabilities();
    for op in OPERATIONS.iter().filter(|op| !(op.allowed)(&caps)) {
        let before = requests(&server).await;
        let result = attempt(provider.as_ref(), op.name).await;
        let after = requests(&server).await;
        match result {
            Err(Error::Unsupported { .. }) => {}
            other => panic!(
                "{}: {} is not in its capabilities, so it must be Unsupported, yet gave {other:?}",
                carrier.name, op.name
            ),
        }
        assert_eq!(
            after, before,
            "{}: {} is not in its capabilities, yet sent a request",
            carrier.name, op.name
        );
    }
}

/// Every call-control operation the capabilities allow reaches the carrier: at least one
/// request leaves (the fake refuses it; the error is the carrier's, not the adapter's).
pub async fn supported_control_reaches_the_carrier(carrier: &RestCarrier) {
    let server = refusing().await;
    let provider = adapter(carrier, &server, Waits::default().http());
    let caps = provider.capabilities();
    for op in OPERATIONS.iter().filter(|op| (op.allowed)(&caps)) {
        let before = requests(&server).await;
        let result = attempt(provider.as_ref(), op.name).await;
        let after = requests(&server).await;
        if let Err(e) = &result {
            assert!(
                !matches!(e, Error::Unsupported { .. }),
                "{}: {} is in its capabilities, yet refused as unsupported: {e}",
                carrier.name,
                op.name
            );
        }
        assert!(
            after > before,
            "{}: {} is in its capabilities, yet sent no request ({result:?})",
            carrier.name,
            op.name
        );
    }
}

/// Placing a call with an option the carrier cannot take (machine detection that waits for
/// the greeting's end, machine detection at all, a recording) is refused before the call is
/// placed, not silently dropped.
pub async fn unsupported_call_options_are_refused_before_any_request(carrier: &RestCarrier) {
    let server = refusing().await;
    let provider = adapter(carrier, &server, Waits::default().http());
    let caps = provider.capabilities();
    let base: OutboundCall = carrier.outbound.clone();
    let mut denied: Vec<(&str, OutboundCall)> = Vec::new();
    if !caps.machine_detection {
        denied.push((
            "machine detection",
            base.clone().machine_detection(MachineDetection::Detect),
        ));
    }
    if !caps.machine_detection_greeting_end {
        denied.push((
            "machine detection to the greeting's end",
            base.clone()
                .machine_detection(MachineDetection::DetectGreetingEnd),
        ));
    }
    if !caps.recording {
        denied.push(("recording", base.clone().record(RecordingOptions::new())));
    }
    if !caps.dual_channel_recording {
        denied.push((
            "dual-channel recording",
            base.clone()
                .record(RecordingOptions::new().channels(RecordingChannels::Dual)),
        ));
    }
    for (what, call) in denied {
        let before = requests(&server).await;
        let result = provider.initiate_call(&call).await;
        let after = requests(&server).await;
        match result {
            Err(e) if refused_early(&e) => {}
            other => panic!(
                "{}: a call with {what}, which its capabilities deny, gave {other:?}",
                carrier.name
            ),
        }
        assert_eq!(
            after, before,
            "{}: a call with {what} sent a request",
            carrier.name
        );
    }
    // What it allows is not refused by the adapter.
    let mut allowed: Vec<(&str, OutboundCall)> = Vec::new();
    if caps.machine_detection {
        allowed.push((
            "machine detection",
            base.clone().machine_detection(MachineDetection::Detect),
        ));
    }
    if caps.recording {
        allowed.push(("recording", base.clone().record(RecordingOptions::new())));
    }
    for (what, call) in allowed {
        let result = provider.initiate_call(&call).await;
        assert!(
            !matches!(&result, Err(e) if refused_early(e)),
            "{}: a call with {what}, which its capabilities allow, was refused: {result:?}",
            carrier.name
        );
    }
}
