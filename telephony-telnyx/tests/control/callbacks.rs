//! The transfer legs' callbacks, signed as Telnyx signs them, read as steps of the transfer.

use serde_json::json;
use telephony_core::{CallNotice, TransferEvent, TransferFailure, TransferLeg};
use telephony_telnyx::transfer::new_ref;
use wiremock::MockServer;

use crate::transfer::{cold, state, transfer_notice, warm};
use crate::{CALLER, TARGET, call, callback, event, requests, telnyx};

#[tokio::test]
async fn each_legs_callback_is_a_step_of_the_transfer() {
    let server = MockServer::start().await;
    let t = telnyx(&server);
    let warm_ref = new_ref(&call(CALLER), &warm(None));
    let cold_ref = new_ref(&call(CALLER), &cold());
    let target = state(&warm_ref, TransferLeg::Target);
    let step = |event_type: &str, extra: serde_json::Value| {
        transfer_notice(callback(
            &t,
            &event(event_type, TARGET, Some(&target), extra),
        ))
    };
    let answered = step(
        "call.answered",
        json!({"from": "+14155550100", "to": "+14155550123", "state": "answered"}),
    );
    assert_eq!(answered.event, TransferEvent::TransferAnswered);
    assert_eq!(answered.transfer, warm_ref);
    assert_eq!(answered.leg_call, Some(call(TARGET)));
    let status = answered.status.unwrap();
    assert_eq!(status.raw_event.as_deref(), Some("call.answered"));
    assert_eq!(status.call_id, call(TARGET));
    for (event_type, expected) in [
        ("call.initiated", TransferEvent::TransferStarted),
        ("call.bridged", TransferEvent::Bridged),
    ] {
        assert_eq!(step(event_type, json!({})).event, expected, "{event_type}");
    }
    for (cause, reason) in [
        ("user_busy", TransferFailure::Busy),
        ("timeout", TransferFailure::NoAnswer),
        ("no_answer", TransferFailure::NoAnswer),
        ("call_rejected", TransferFailure::Failed),
        ("unallocated_number", TransferFailure::Failed),
        ("originator_cancel", TransferFailure::Failed),
        ("something_new", TransferFailure::Failed),
    ] {
        let n = step(
            "call.hangup",
            json!({"hangup_cause": cause, "hangup_source": "callee", "sip_hangup_cause": "486"}),
        );
        assert_eq!(
            n.event,
            TransferEvent::TransferFailed {
                reason,
                raw: cause.to_owned()
            },
            "{cause}"
        );
    }
    let ended = step("call.hangup", json!({"hangup_cause": "normal_clearing"}));
    assert_eq!(ended.event, TransferEvent::TargetEnded);
    // A cold transfer's target cancelled because the caller hung up while it rang.
    let cold_target = state(&cold_ref, TransferLeg::Target);
    let cancelled = transfer_notice(callback(
        &t,
        &event(
            "call.hangup",
            TARGET,
            Some(&cold_target),
            json!({"hangup_cause": "originator_cancel"}),
        ),
    ));
    assert_eq!(
        cancelled.event,
        TransferEvent::TransferFailed {
            reason: TransferFailure::CallerGone,
            raw: "originator_cancel".into()
        }
    );
    // What is not a step of the transfer is the leg's status.
    let caller = state(&cold_ref, TransferLeg::Caller);
    for (call_id, state, event_type) in [
        (TARGET, &target, "streaming.started"),
        (CALLER, &caller, "call.hangup"),
        (TARGET, &target, "call.speak.ended"),
    ] {
        let n = callback(&t, &event(event_type, call_id, Some(state), json!({})));
        assert!(matches!(n, CallNotice::Status(_)), "{event_type}: {n:?}");
    }
    let bridged = transfer_notice(callback(
        &t,
        &event("call.bridged", CALLER, Some(&caller), json!({})),
    ));
    assert_eq!(bridged.event, TransferEvent::Bridged);
    assert_eq!(bridged.transfer.leg, TransferLeg::Caller);
    // A stream's parameters in client_state are no transfer.
    let params = telephony_telnyx::client_state::encode(&[("lead".into(), "42".into())])
        .unwrap()
        .unwrap();
    let n = callback(&t, &event("call.bridged", CALLER, Some(&params), json!({})));
    assert!(matches!(n, CallNotice::Status(_)));
    assert!(requests(&server).await.is_empty());
}
