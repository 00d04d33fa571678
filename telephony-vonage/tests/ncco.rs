//! NCCO against the examples of Vonage's NCCO reference (developer.vonage.com, voice-api
//! ncco-reference): the builder writes them, and each parses back, validates and re-serializes
//! to the same JSON. Where the reference's own example breaks its own rules (an `input` with
//! `submitOnHash` outside `dtmf`, numbers and booleans as strings), the test says so and
//! checks the corrected form.

use serde_json::{Value, json};
use telephony_core::audio::SampleRate;
use telephony_core::{CallId, InboundCall, StreamSpec, TelephonyProvider};
use telephony_vonage::ncco::{
    AdvancedMachineDetection, AmdMode, Connect, DtmfSettings, Endpoint, Input, MachineDetection,
    Method, Ncco, Notify, Phone, Record, RecordFormat, Sip, SpeechSettings, Stream, Talk,
    Websocket,
};
use telephony_vonage::{Vonage, VonageConfig};

/// The builder's output equals the documented JSON, and the documented JSON reads back into
/// an NCCO that validates and writes the same JSON.
fn same(built: &Ncco, documented: Value) {
    assert_eq!(built.to_value().unwrap(), documented);
    let parsed: Ncco = serde_json::from_value(documented.clone()).unwrap();
    parsed.validate().unwrap();
    // Read from text, it is the very NCCO built, headers in their order.
    let text: Ncco = serde_json::from_str(&built.to_json().unwrap()).unwrap();
    assert_eq!(&text, built);
    assert_eq!(serde_json::to_value(&parsed).unwrap(), documented);
}

#[test]
fn talk_examples() {
    same(
        &Ncco::new().talk(Talk::new("You are listening to a Call made with Voice API")),
        json!([{"action": "talk", "text": "You are listening to a Call made with Voice API"}]),
    );
    same(
        &Ncco::new().talk(Talk::new(
            "<speak><prosody rate='fast'>I can speak fast.</prosody></speak>",
        )),
        json!([{"action": "talk", "text": "<speak><prosody rate='fast'>I can speak fast.</prosody></speak>"}]),
    );
    // The reference's IVR example puts `submitOnHash` on the input itself; it belongs in `dtmf`.
    same(
        &Ncco::new()
            .talk(
                Talk::new("Welcome to a Voice API I V R. ")
                    .language("en-GB")
                    .barge_in(false),
            )
            .talk(
                Talk::new("Press 1 for maybe and 2 for not sure followed by the hash key")
                    .language("en-GB")
                    .barge_in(true),
            )
            .input(
                Input::dtmf(DtmfSettings::new().submit_on_hash(true))
                    .event_url("https://example.com/ivr"),
            ),
        json!([
            {"action": "talk", "text": "Welcome to a Voice API I V R. ", "language": "en-GB", "bargeIn": false},
            {"action": "talk", "text": "Press 1 for maybe and 2 for not sure followed by the hash key", "language": "en-GB", "bargeIn": true},
            {"action": "input", "type": ["dtmf"], "dtmf": {"submitOnHash": true}, "eventUrl": ["https://example.com/ivr"]}
        ]),
    );
    same(
        &Ncco::new().talk(
            Talk::new("Hola")
                .repeat(0)
                .level(-0.5)
                .style(2)
                .premium(true),
        ),
        json!([{"action": "talk", "text": "Hola", "loop": 0, "level": -0.5, "style": 2, "premium": true}]),
    );
}

#[test]
fn stream_examples() {
    same(
        &Ncco::new().stream(Stream::new("https://acme.com/streams/music.mp3")),
        json!([{"action": "stream", "streamUrl": ["https://acme.com/streams/music.mp3"]}]),
    );
    same(
        &Ncco::new().stream(
            Stream::new("https://acme.com/streams/announcement.mp3")
                .barge_in(true)
                .repeat(2)
                .level(0.4),
        ),
        json!([{"action": "stream", "streamUrl": ["https://acme.com/streams/announcement.mp3"], "level": 0.4, "bargeIn": true, "loop": 2}]),
    );
}

#[test]
fn connect_examples() {
    // The reference writes `"timeout": "45"`; it is a number.
    same(
        &Ncco::new()
            .talk(Talk::new("Please wait while we connect you"))
            .connect(
                Connect::to(Endpoint::Phone(
                    Phone::new("447700900001").dtmf_answer("2p02p"),
                ))
                .event_url("https://example.com/events")
                .timeout(45)
                .from("447700900000"),
            ),
        json!([
            {"action": "talk", "text": "Please wait while we connect you"},
            {"action": "connect", "eventUrl": ["https://example.com/events"], "timeout": 45, "from": "447700900000",
             "endpoint": [{"type": "phone", "number": "447700900001", "dtmfAnswer": "2p02p"}]}
        ]),
    );
    let ws = Websocket::new("ws://example.com/socket", SampleRate::Hz16000)
        .unwrap()
        .header("name", "J Doe")
        .header("age", 40)
        .header(
            "address",
            json!({"line_1": "Apartment 14", "line_2": "123 Example Street", "city": "New York City"}),
        )
        .header("system_roles", json!([183493, 1038492, 22]))
        .header("enable_auditing", false);
    same(
        &Ncco::new()
            .talk(Talk::new("Please wait while we connect you"))
            .connect(
                Connect::to(Endpoint::Websocket(ws))
                    .synchronous("https://example.com/events")
                    .from("447700900000"),
            ),
        json!([
            {"action": "talk", "text": "Please wait while we connect you"},
            {"action": "connect", "eventType": "synchronous", "eventUrl": ["https://example.com/events"], "from": "447700900000",
             "endpoint": [{"type": "websocket", "uri": "ws://example.com/socket", "content-type": "audio/l16;rate=16000",
                "headers": {"name": "J Doe", "age": 40,
                    "address": {"line_1": "Apartment 14", "line_2": "123 Example Street", "city": "New York City"},
                    "system_roles": [183493, 1038492, 22], "enable_auditing": false}}]}
        ]),
    );
    same(
        &Ncco::new()
            .talk(Talk::new("Please wait while we connect you"))
            .connect(
                Connect::to(Endpoint::Sip(
                    Sip::new("sip:rebekka@sip.mcrussell.com")
                        .header("location", "New York City")
                        .header("occupation", "developer"),
                ))
                .event_url("https://example.com/events")
                .from("447700900000"),
            ),
        json!([
            {"action": "talk", "text": "Please wait while we connect you"},
            {"action": "connect", "eventUrl": ["https://example.com/events"], "from": "447700900000",
             "endpoint": [{"type": "sip", "uri": "sip:rebekka@sip.mcrussell.com",
                "headers": {"location": "New York City", "occupation": "developer"}}]}
        ]),
    );
    same(
        &Ncco::new().connect(
            Connect::to(Endpoint::Phone(Phone::new("+447700900001")))
                .random_from_number()
                .limit(600)
                .advanced_machine_detection(
                    AdvancedMachineDetection::new(MachineDetection::Hangup, AmdMode::DetectBeep)
                        .beep_timeout(45),
                )
                .event_method(Method::Get)
                .event_url("https://example.com/events")
                .ringback_tone("https://example.com/ringback.mp3"),
        ),
        json!([{"action": "connect", "endpoint": [{"type": "phone", "number": "447700900001"}],
            "randomFromNumber": true, "limit": 600,
            "advancedMachineDetection": {"behavior": "hangup", "mode": "detect_beep", "beep_timeout": 45},
            "eventUrl": ["https://example.com/events"], "eventMethod": "GET",
            "ringbackTone": "https://example.com/ringback.mp3"}]),
    );
}

#[test]
fn record_input_and_notify_examples() {
    same(
        &Ncco::new()
            .record(Record::new().event_url("https://example.com/recordings"))
            .connect(
                Connect::to(Endpoint::Phone(Phone::new("447700900001")))
                    .event_url("https://example.com/events")
                    .from("447700900000"),
            ),
        json!([
            {"action": "record", "eventUrl": ["https://example.com/recordings"]},
            {"action": "connect", "eventUrl": ["https://example.com/events"], "from": "447700900000",
             "endpoint": [{"type": "phone", "number": "447700900001"}]}
        ]),
    );
    same(
        &Ncco::new().record(
            Record::new()
                .format(RecordFormat::Wav)
                .split_conversation(2)
                .end_on_silence(3)
                .end_on_key('#')
                .time_out(60)
                .beep_start(true),
        ),
        json!([{"action": "record", "format": "wav", "split": "conversation", "channels": 2,
            "endOnSilence": 3, "endOnKey": "#", "timeOut": 60, "beepStart": true}]),
    );
    same(
        &Ncco::new()
            .talk(Talk::new("Please enter a digit or say something"))
            .input(
                Input::dtmf(DtmfSettings::new().max_digits(1))
                    .and_speech(SpeechSettings::new().context(["sales", "support"]))
                    .event_url("https://example.com/ivr"),
            ),
        json!([
            {"action": "talk", "text": "Please enter a digit or say something"},
            {"action": "input", "eventUrl": ["https://example.com/ivr"], "type": ["dtmf", "speech"],
             "dtmf": {"maxDigits": 1}, "speech": {"context": ["sales", "support"]}}
        ]),
    );
    same(
        &Ncco::new().notify(
            Notify::new(json!({"foo": "bar"}), "https://example.com/webhooks/event")
                .event_method(Method::Post),
        ),
        json!([{"action": "notify", "payload": {"foo": "bar"},
            "eventUrl": ["https://example.com/webhooks/event"], "eventMethod": "POST"}]),
    );
}

#[test]
fn what_vonage_would_reject_is_refused_before_sending() {
    let ws = |uri: &str| Websocket::new(uri, SampleRate::Hz16000).unwrap();
    let connect = |e| Ncco::new().connect(Connect::to(e));
    let cases: Vec<(Ncco, &str)> = vec![
        (Ncco::new(), "at least one action"),
        (Ncco::new().talk(Talk::new("  ")), "text is empty"),
        (Ncco::new().talk(Talk::new("a".repeat(1501))), "1500"),
        (Ncco::new().talk(Talk::new("hi").level(1.5)), "level"),
        (
            connect(Endpoint::Websocket(ws("https://example.com/socket"))),
            "ws(s)://",
        ),
        (
            connect(Endpoint::Websocket(
                ws("wss://example.com/socket").header("blob", "x".repeat(510)),
            )),
            "512",
        ),
        (
            connect(Endpoint::Websocket(
                ws("wss://example.com/socket").header("event", "x"),
            )),
            "event",
        ),
        (connect(Endpoint::Phone(Phone::new("12ab"))), "digits"),
        (connect(Endpoint::Sip(Sip::new("agent@pbx"))), "sip:"),
        (
            Ncco::new()
                .connect(Connect::to(Endpoint::Phone(Phone::new("447700900001"))).limit(7201)),
            "limit",
        ),
        (
            Ncco::new()
                .connect(Connect::to(Endpoint::Phone(Phone::new("447700900001"))).timeout(121)),
            "timeout",
        ),
        (
            Ncco::new().connect(
                Connect::to(Endpoint::Phone(Phone::new("447700900001")))
                    .from("447700900000")
                    .random_from_number(),
            ),
            "exclude",
        ),
        (
            Ncco::new().connect(
                Connect::to(Endpoint::Phone(Phone::new("447700900001")))
                    .event_url("/relative/events"),
            ),
            "absolute",
        ),
        (
            Ncco::new().connect(
                Connect::to(Endpoint::Phone(Phone::new("447700900001")))
                    .advanced_machine_detection(
                        AdvancedMachineDetection::new(MachineDetection::Continue, AmdMode::Detect)
                            .beep_timeout(10),
                    ),
            ),
            "beep_timeout",
        ),
        (
            Ncco::new().record(Record::new().split_conversation(33)),
            "channels",
        ),
        (
            Ncco::new().record(Record::new().end_on_key('x')),
            "endOnKey",
        ),
        (
            Ncco::new().input(Input::dtmf(DtmfSettings::new().max_digits(21))),
            "maxDigits",
        ),
        (
            Ncco::new().input(Input::speech(SpeechSettings::new().end_on_silence(0.1))),
            "endOnSilence",
        ),
        (
            Ncco::new().notify(Notify::new(json!([1]), "https://example.com/n")),
            "payload",
        ),
        (Ncco::new().stream(Stream::new("music.mp3")), "streamUrl"),
    ];
    for (ncco, expected) in cases {
        let e = ncco.to_json().unwrap_err().to_string();
        assert!(e.contains(expected), "{expected:?} not in {e:?}");
    }
    assert!(Websocket::new("wss://a", SampleRate::Hz48000).is_err());
    // Exactly 512 bytes of headers is allowed.
    let w = ws("wss://example.com/socket").header("k", "x".repeat(512 - r#"{"k":""}"#.len()));
    assert_eq!(w.headers_len(), 512);
    assert!(connect(Endpoint::Websocket(w)).to_json().is_ok());
}

const APP: &str = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
const KEY: &str = include_str!("fixtures/test_private.key");

#[test]
fn the_answer_connects_a_websocket_with_the_call_in_its_headers() {
    let vonage = Vonage::new(VonageConfig::new(APP, KEY)).unwrap();
    let call = InboundCall::new(
        CallId::new("aaaaaaaa-bbbb-cccc-dddd-0123456789ab").unwrap(),
        "447700900000",
        "442079460000",
    )
    .with_conversation(Some("CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab".into()));
    let stream = StreamSpec::new("wss://agent.example.com/vonage/media".parse().unwrap())
        .parameter("tenant", "acme")
        .status_callback("https://agent.example.com/vonage/events".parse().unwrap());
    let markup = vonage.answer_call(&call, &stream).unwrap();
    assert_eq!(markup.content_type, "application/json");
    let v: Value = serde_json::from_str(&markup.body).unwrap();
    assert_eq!(
        v,
        json!([{"action": "connect",
            "endpoint": [{"type": "websocket", "uri": "wss://agent.example.com/vonage/media",
                "content-type": "audio/l16;rate=16000",
                "headers": {"call_uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
                    "conversation_uuid": "CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
                    "from": "447700900000", "to": "442079460000", "tenant": "acme"}}],
            "eventType": "synchronous", "eventUrl": ["https://agent.example.com/vonage/events"]}])
    );
    // The headers keep their order on the wire: the call first.
    assert!(
        markup
            .body
            .contains(r#""headers":{"call_uuid":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab","#)
    );
    // Nothing follows the connect: it would play as soon as the socket is up.
    assert_eq!(v.as_array().unwrap().len(), 1);

    // The plain answer has no call to name; parameters over 512 bytes are refused.
    let plain = vonage.answer(&stream).unwrap();
    assert!(!plain.body.contains("call_uuid"));
    let big = stream.clone().parameter("blob", "x".repeat(600));
    let e = vonage.answer(&big).unwrap_err();
    assert!(e.is_config() && e.to_string().contains("512"), "{e}");
    let e = vonage
        .answer(&stream.audio(telephony_core::audio::AudioFormat::new(
            telephony_core::audio::Encoding::L16Le,
            SampleRate::Hz48000,
        )))
        .unwrap_err();
    assert!(e.to_string().contains("48000"), "{e}");
}
