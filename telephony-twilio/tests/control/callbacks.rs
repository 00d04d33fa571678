//! Every callback at the status URL, signed as Twilio signs it, verified, then read:
//! transfer legs, a cold transfer's `<Dial action>`, the async AMD verdict, a finished
//! recording, and plain status callbacks (with their synchronous `AnsweredBy`).

use std::time::{Duration, SystemTime};

use telephony_core::control::CallNotice;
use telephony_core::{
    AnsweredBy, CallStatus, Error, MachineResult, RecordingFormat, TelephonyProvider, Transfer,
    TransferEvent, TransferFailure, TransferLeg, TransferNotice, TransferRef, WebhookRequest,
};

use super::*;

/// Verifies `request` as the adapter would, then reads it.
fn read(request: &WebhookRequest) -> Result<CallNotice, Error> {
    let t = offline();
    t.verify_webhook(request, SystemTime::now())
        .expect("signed as Twilio signs");
    t.parse_callback(request)
}

fn transfer(notice: CallNotice) -> TransferNotice {
    match notice {
        CallNotice::Transfer(n) => *n,
        other => panic!("not a transfer: {other:?}"),
    }
}

fn the_ref() -> TransferRef {
    let t = Transfer::warm("+14155550123".parse().unwrap(), None).events(EVENTS.parse().unwrap());
    TransferRef::for_transfer(caller(), &t, TransferLeg::Target)
}

fn failed(reason: TransferFailure, raw: &str) -> TransferEvent {
    TransferEvent::TransferFailed {
        reason,
        raw: raw.into(),
    }
}

#[test]
fn a_target_legs_progress_maps_to_the_transfers_steps() {
    let r = the_ref();
    let url = r.to_query(&EVENTS.parse().unwrap()).to_string();
    for (status, source, event) in [
        (
            "initiated",
            "call-progress-events",
            TransferEvent::TransferStarted,
        ),
        (
            "ringing",
            "call-progress-events",
            TransferEvent::TransferRinging,
        ),
        (
            "in-progress",
            "call-progress-events",
            TransferEvent::TransferAnswered,
        ),
        (
            "completed",
            "call-progress-events",
            TransferEvent::TargetEnded,
        ),
        // Not events of their own: `completed` callbacks with these statuses.
        (
            "busy",
            "call-progress-events",
            failed(TransferFailure::Busy, "busy"),
        ),
        (
            "no-answer",
            "call-progress-events",
            failed(TransferFailure::NoAnswer, "no-answer"),
        ),
        (
            "failed",
            "call-progress-events",
            failed(TransferFailure::Failed, "failed"),
        ),
        (
            "canceled",
            "call-progress-events",
            failed(TransferFailure::Failed, "canceled"),
        ),
    ] {
        let pairs = [
            ("AccountSid", SID),
            ("CallSid", LEG),
            ("CallStatus", status),
            ("Direction", "outbound-api"),
            ("From", "+14155550100"),
            ("To", "+14155550123"),
            ("CallbackSource", source),
            ("SequenceNumber", "0"),
            ("Timestamp", "Wed, 19 Sep 2018 20:00:01 +0000"),
        ];
        let n = transfer(read(&signed(&url, &pairs)).unwrap());
        assert_eq!(n.event, event, "{status}");
        assert_eq!(n.transfer, r);
        assert_eq!(n.leg_call.as_ref().map(|c| c.as_str()), Some(LEG));
        let s = n.status.expect("the leg's status");
        assert_eq!(s.call_id.as_str(), LEG);
        assert_eq!(s.raw_status, status);
        assert_eq!(s.parent_call_id, None, "a leg of its own");
    }
}

#[test]
fn a_cold_dials_action_says_how_the_dial_ended() {
    let r = the_ref().for_leg(TransferLeg::Caller);
    let mut url = r.to_query(&EVENTS.parse().unwrap());
    url.query_pairs_mut()
        .append_pair("telephony_twilio", "dial");
    for (dial, event) in [
        ("completed", TransferEvent::TargetEnded),
        ("answered", TransferEvent::TargetEnded),
        ("busy", failed(TransferFailure::Busy, "busy")),
        ("no-answer", failed(TransferFailure::NoAnswer, "no-answer")),
        ("failed", failed(TransferFailure::Failed, "failed")),
        ("canceled", failed(TransferFailure::Failed, "canceled")),
        ("surprise", failed(TransferFailure::Failed, "surprise")),
    ] {
        let pairs = [
            ("AccountSid", SID),
            ("CallSid", CALL),
            ("CallStatus", "in-progress"),
            ("DialCallStatus", dial),
            ("DialCallSid", LEG),
            ("DialCallDuration", "0"),
        ];
        let n = transfer(read(&signed(url.as_str(), &pairs)).unwrap());
        assert_eq!(n.event, event, "{dial}");
        assert_eq!(n.transfer.leg, TransferLeg::Caller);
        assert_eq!(n.leg_call.as_ref().map(|c| c.as_str()), Some(LEG));
        assert_eq!(n.status.unwrap().call_id.as_str(), CALL);
    }
    // A party of the caller's own <Dial>: its parent is the caller even where Twilio does not
    // repeat it, as the signed URL says.
    let mut leg_url = the_ref().to_query(&EVENTS.parse().unwrap());
    leg_url
        .query_pairs_mut()
        .append_pair("telephony_twilio", "dial");
    let pairs = [("CallSid", LEG), ("CallStatus", "ringing")];
    let n = transfer(read(&signed(leg_url.as_str(), &pairs)).unwrap());
    assert_eq!(n.status.unwrap().parent_call_id, Some(caller()));
}

#[test]
fn the_transfer_in_the_query_is_covered_by_the_signature() {
    let url = the_ref().to_query(&EVENTS.parse().unwrap()).to_string();
    let pairs = [("CallSid", LEG), ("CallStatus", "in-progress")];
    let mut forged = signed(&url, &pairs);
    let other = url.replace(CALL, "CAcccccccccccccccccccccccccccccccc");
    forged.url = other.parse().unwrap();
    assert!(
        offline()
            .verify_webhook(&forged, SystemTime::now())
            .is_err()
    );
}

#[test]
fn the_async_amd_callback_is_a_machine_verdict() {
    // Twilio's AsyncAmdStatusCallback: CallSid, AccountSid, AnsweredBy,
    // MachineDetectionDuration (ms); no CallStatus.
    let pairs = [
        ("CallSid", CALL),
        ("AccountSid", SID),
        ("AnsweredBy", "machine_end_beep"),
        ("MachineDetectionDuration", "4520"),
    ];
    let CallNotice::Machine(m) = read(&signed(EVENTS, &pairs)).unwrap() else {
        panic!("not a verdict")
    };
    let mut expected = MachineResult::new(caller(), AnsweredBy::MachineEndBeep, "machine_end_beep");
    expected.detection_time = Some(Duration::from_millis(4520));
    assert_eq!(m, expected);
}

#[test]
fn every_documented_verdict_goes_through_one_table() {
    for (raw, verdict) in [
        ("human", AnsweredBy::Human),
        ("machine_start", AnsweredBy::Machine),
        ("machine_end_beep", AnsweredBy::MachineEndBeep),
        ("machine_end_silence", AnsweredBy::MachineGreetingEnded),
        ("machine_end_other", AnsweredBy::MachineGreetingEnded),
        ("fax", AnsweredBy::Fax),
        ("unknown", AnsweredBy::Undetermined),
        (
            "machine_end_robot",
            AnsweredBy::from_raw("machine_end_robot"),
        ),
    ] {
        let pairs = [("CallSid", CALL), ("AnsweredBy", raw)];
        let CallNotice::Machine(m) = read(&signed(EVENTS, &pairs)).unwrap() else {
            panic!("{raw}")
        };
        assert_eq!((m.answered_by, m.raw.as_str()), (verdict.clone(), raw));
        // The synchronous verdict, on a status callback, through the same table.
        let pairs = [
            ("CallSid", CALL),
            ("CallStatus", "in-progress"),
            ("AnsweredBy", raw),
        ];
        let CallNotice::Status(s) = read(&signed(EVENTS, &pairs)).unwrap() else {
            panic!("{raw}")
        };
        assert_eq!(s.answered_by, Some(verdict));
    }
}

const RECORDING_URL: &str = "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE0123456789abcdef0123456789abcdef";

#[test]
fn a_recording_callback_announces_a_wav_to_download() {
    // The fields of Twilio's RecordingStatusCallback.
    let pairs = [
        ("AccountSid", SID),
        ("CallSid", CALL),
        ("RecordingSid", "RE0123456789abcdef0123456789abcdef"),
        ("RecordingUrl", RECORDING_URL),
        ("RecordingStatus", "completed"),
        ("RecordingDuration", "13"),
        ("RecordingChannels", "2"),
        ("RecordingStartTime", "Wed, 19 Sep 2018 20:00:01 +0000"),
        ("RecordingSource", "OutboundAPI"),
        ("RecordingTrack", "both"),
    ];
    let CallNotice::Recording(r) = read(&signed(EVENTS, &pairs)).unwrap() else {
        panic!("not a recording")
    };
    assert_eq!(r.url.as_str(), format!("{RECORDING_URL}.wav"));
    assert_eq!(r.format, Some(RecordingFormat::Wav));
    assert_eq!(
        r.recording_id.as_ref().map(|id| id.as_str()),
        Some("RE0123456789abcdef0123456789abcdef")
    );
    assert_eq!(r.call_id, Some(caller()));
    assert_eq!(r.duration, Some(Duration::from_secs(13)));
    assert_eq!(r.channels, Some(2));
    assert_eq!(r.raw_status.as_deref(), Some("completed"));
    let started = r.started_at.unwrap().duration_since(SystemTime::UNIX_EPOCH);
    assert_eq!(started.unwrap().as_secs(), 1_537_387_201);
    // One that already names its format keeps it.
    let mp3 = format!("{RECORDING_URL}.mp3");
    let pairs = [
        ("RecordingSid", "RE1"),
        ("RecordingUrl", mp3.as_str()),
        ("RecordingStatus", "completed"),
    ];
    let CallNotice::Recording(r) = read(&signed(EVENTS, &pairs)).unwrap() else {
        panic!("not a recording")
    };
    assert_eq!(
        (r.url.as_str(), r.format),
        (mp3.as_str(), Some(RecordingFormat::Mp3))
    );
}

#[test]
fn a_recording_that_is_absent_has_no_url_and_says_why() {
    let pairs = [
        ("CallSid", CALL),
        ("RecordingSid", "RE1"),
        ("RecordingStatus", "absent"),
        ("ErrorCode", "16108"),
    ];
    let e = read(&signed(EVENTS, &pairs)).unwrap_err();
    assert!(
        matches!(e, Error::Decode(_)) && e.to_string().contains("16108"),
        "{e}"
    );
}

#[test]
fn a_status_callback_stays_a_status_even_with_recording_fields() {
    // The `completed` status callback of a recorded call repeats the recording's URL, before
    // the file is ready: only the recording callback announces it.
    let pairs = [
        ("CallSid", CALL),
        ("CallStatus", "completed"),
        ("CallDuration", "31"),
        ("RecordingSid", "RE1"),
        ("RecordingUrl", RECORDING_URL),
        ("RecordingDuration", "30"),
    ];
    let CallNotice::Status(s) = read(&signed(EVENTS, &pairs)).unwrap() else {
        panic!("not a status")
    };
    assert_eq!(s.status, CallStatus::Completed);
    // Neither a status, a verdict nor a recording.
    let e = read(&signed(EVENTS, &[("CallSid", CALL)])).unwrap_err();
    assert!(matches!(e, Error::Decode(_)), "{e}");
}
