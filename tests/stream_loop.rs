//! The media loop over plain channels: no socket, the provider's side played by the test.
//!
//! Time is virtual (`start_paused`): it moves only when every task waits, so a timeout here
//! fires only once nothing else can happen, however busy the machine is.

use std::convert::Infallible;
use std::time::Duration;

use futures_util::{sink, stream};
use telephony::audio::SampleRate;
use telephony::media::Pacer;
use telephony::stream::{
    AbortReason, MediaChannel, StreamEvent, StreamOptions, WsFrame, spawn_media_loop,
};
use telephony::vonage::VonageMediaProtocol;
use telephony::{MediaSession, SessionConfig};
use tokio::sync::mpsc;

/// A loop whose socket is two channels: what the agent sends arrives on the first receiver,
/// what the provider sends goes in through the second sender.
fn over_channels(
    options: StreamOptions,
) -> (MediaChannel, mpsc::Receiver<WsFrame>, mpsc::Sender<WsFrame>) {
    let (out_tx, out_rx) = mpsc::channel::<WsFrame>(1024);
    let (in_tx, in_rx) = mpsc::channel::<WsFrame>(1024);
    let sink = sink::unfold(out_tx, |tx, frame: WsFrame| async move {
        tx.send(frame).await.map(|()| tx).map_err(|_| "closed")
    });
    let incoming = stream::unfold(in_rx, |mut rx| async move {
        rx.recv().await.map(|f| (Ok::<_, Infallible>(f), rx))
    });
    let session = MediaSession::new(
        Box::new(VonageMediaProtocol::new(SampleRate::Hz16000)),
        SessionConfig::new(SampleRate::Hz16000),
    );
    let channel = spawn_media_loop(Box::pin(sink), Box::pin(incoming), session, options);
    (channel, out_rx, in_tx)
}

const CONNECTED: &str = r#"{"event":"websocket:connected","content-type":"audio/l16;rate=16000","call_uuid":"63f61863-4a51-4f6b-86e1-46edebcf9356"}"#;

async fn next(events: &mut telephony::stream::MediaEvents) -> StreamEvent {
    tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("an event in time")
        .expect("the stream is open")
}

#[tokio::test(start_paused = true)]
async fn events_in_frames_out() {
    let (mut ch, mut out, provider) = over_channels(StreamOptions::immediate());
    provider
        .send(WsFrame::Text(CONNECTED.into()))
        .await
        .unwrap();
    let StreamEvent::Started(start) = next(&mut ch.events).await else {
        panic!("started")
    };
    assert_eq!(
        start.call_id.map(|c| c.as_str().to_owned()).as_deref(),
        Some("63f61863-4a51-4f6b-86e1-46edebcf9356")
    );
    provider
        .send(WsFrame::Binary(vec![1, 0, 2, 0]))
        .await
        .unwrap();
    assert_eq!(next(&mut ch.events).await, StreamEvent::Audio(vec![1, 2]));
    provider
        .send(WsFrame::Text("not json".into()))
        .await
        .unwrap();
    assert!(matches!(
        next(&mut ch.events).await,
        StreamEvent::ProtocolError(_)
    ));

    // 1000 samples: one whole frame now, the rest padded at finish, then the mark.
    ch.sender.audio(vec![100; 1000]).await.unwrap();
    ch.sender.mark("reply-1").await.unwrap();
    ch.sender.finish().await.unwrap();
    let mut frames = Vec::new();
    while frames.len() < 5 {
        frames.push(
            tokio::time::timeout(Duration::from_secs(5), out.recv())
                .await
                .unwrap()
                .unwrap(),
        );
    }
    let sizes: Vec<String> = frames
        .iter()
        .map(|f| match f {
            WsFrame::Binary(b) => b.len().to_string(),
            WsFrame::Text(t) => t.clone(),
            WsFrame::Close => "close".into(),
        })
        .collect();
    assert_eq!(
        sizes,
        [
            "640",
            "640",
            "640",
            "640",
            r#"{"action":"notify","payload":{"name":"reply-1"}}"#
        ]
    );
    provider
        .send(WsFrame::Text(
            r#"{"event":"websocket:notify","payload":{"name":"reply-1"}}"#.into(),
        ))
        .await
        .unwrap();
    assert_eq!(
        next(&mut ch.events).await,
        StreamEvent::MarkPlayed("reply-1".into())
    );

    // The provider hangs up: the host hears it, and the loop ends.
    provider.send(WsFrame::Close).await.unwrap();
    assert_eq!(next(&mut ch.events).await, StreamEvent::Closed);
    tokio::time::timeout(Duration::from_secs(5), ch.task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_clear_drops_what_the_pacer_held_and_reports_every_mark_not_heard() {
    // One frame at once, then one a minute: the rest waits in the loop.
    let pacer = Pacer::new(Duration::from_millis(20), 1, Duration::from_secs(60), 10);
    let (mut ch, mut out, provider) = over_channels(StreamOptions::immediate().pacer(pacer));
    provider
        .send(WsFrame::Text(CONNECTED.into()))
        .await
        .unwrap();
    next(&mut ch.events).await;
    ch.sender.audio(vec![500; 3200]).await.unwrap(); // 10 frames
    ch.sender.mark("first").await.unwrap();
    ch.sender.audio(vec![500; 3200]).await.unwrap();
    ch.sender.mark("second").await.unwrap();
    // The first frame goes; nothing more for a minute.
    assert!(matches!(out.recv().await, Some(WsFrame::Binary(b)) if b.len() == 640));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(out.try_recv().is_err(), "the pacer holds the rest");

    ch.sender.clear().await.unwrap();
    assert_eq!(
        next(&mut ch.events).await,
        StreamEvent::MarkCleared("first".into())
    );
    assert_eq!(
        next(&mut ch.events).await,
        StreamEvent::MarkCleared("second".into())
    );
    // The clear goes out, then the queued marks (their echoes are ignored); no audio.
    let mut after = Vec::new();
    while let Ok(Some(f)) = tokio::time::timeout(Duration::from_millis(200), out.recv()).await {
        after.push(f);
    }
    assert_eq!(
        after.first(),
        Some(&WsFrame::Text(r#"{"action":"clear"}"#.into()))
    );
    assert!(
        after.iter().all(|f| !matches!(f, WsFrame::Binary(_))),
        "audio queued before the clear never goes out: {after:?}"
    );
    // A new reply after the clear starts at once.
    ch.sender.audio(vec![500; 320]).await.unwrap();
    assert!(matches!(out.recv().await, Some(WsFrame::Binary(b)) if b.len() == 640));
}

#[tokio::test(start_paused = true)]
async fn dropping_both_ends_closes_the_socket_and_ends_the_task() {
    let (ch, mut out, provider) = over_channels(StreamOptions::immediate());
    provider
        .send(WsFrame::Text(CONNECTED.into()))
        .await
        .unwrap();
    let MediaChannel {
        events,
        sender,
        task,
    } = ch;
    drop(sender);
    drop(events);
    // The next frame from the provider finds nobody listening.
    provider.send(WsFrame::Binary(vec![0; 640])).await.unwrap();
    let mut closed = false;
    while let Ok(Some(f)) = tokio::time::timeout(Duration::from_secs(5), out.recv()).await {
        if f == WsFrame::Close {
            closed = true;
            break;
        }
    }
    assert!(closed, "the loop closes the socket");
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    // And the sender side reports the end.
    let (ch, _out, _provider) = over_channels(StreamOptions::immediate());
    let sender = ch.sender.clone();
    sender.close().await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), ch.task)
        .await
        .unwrap()
        .unwrap();
    assert!(sender.audio(vec![0; 10]).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn a_connection_that_ends_without_a_closing_handshake_is_dropped_not_closed() {
    let (mut ch, _out, provider) = over_channels(StreamOptions::immediate());
    provider
        .send(WsFrame::Text(CONNECTED.into()))
        .await
        .unwrap();
    assert!(matches!(
        next(&mut ch.events).await,
        StreamEvent::Started(_)
    ));
    // The provider's side vanishes: no Close frame, the stream just ends.
    drop(provider);
    let StreamEvent::Dropped(reason) = next(&mut ch.events).await else {
        panic!("a dropped connection must say so")
    };
    assert!(reason.contains("closing handshake"), "{reason}");
    assert!(ch.events.next().await.is_none(), "nothing follows");
    tokio::time::timeout(Duration::from_secs(5), ch.task)
        .await
        .unwrap()
        .unwrap();
}

/// What the agent sent, up to and including a closing frame, without waiting: the test has
/// already waited for the event that follows it.
fn sent_so_far(out: &mut mpsc::Receiver<WsFrame>) -> Vec<WsFrame> {
    let mut frames = Vec::new();
    while let Ok(f) = out.try_recv() {
        frames.push(f);
    }
    frames
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_never_starts_the_stream_is_cut_off_at_the_start_timeout() {
    // A default loop, and a peer that keeps talking (a message the adapter does not know,
    // every second) but never starts the stream.
    let (mut ch, mut out, provider) = over_channels(StreamOptions::immediate());
    let t0 = tokio::time::Instant::now();
    let chatter = tokio::spawn(async move {
        loop {
            // Half a second off the whole seconds, so that no message ties with the limit.
            tokio::time::sleep(Duration::from_millis(500)).await;
            let hello = WsFrame::Text(r#"{"event":"websocket:hello"}"#.into());
            if provider.send(hello).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    // Virtual time runs until the loop's own limit ends the stream (a minute stands for
    // "never").
    let mut unknown = 0;
    let reason = loop {
        let event = tokio::time::timeout(Duration::from_secs(60), ch.events.next())
            .await
            .expect("the loop ends the stream")
            .expect("the loop reports why it ended");
        match event {
            StreamEvent::Unknown(_) => unknown += 1,
            StreamEvent::Aborted(reason) => break reason,
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(reason, AbortReason::StartTimeout(Duration::from_secs(10)));
    assert_eq!(
        t0.elapsed(),
        Duration::from_secs(10),
        "the default, to the tick"
    );
    assert_eq!(unknown, 10, "a message a second, for ten seconds");
    assert_eq!(
        sent_so_far(&mut out),
        [WsFrame::Close],
        "the socket is closed"
    );
    assert!(ch.events.next().await.is_none(), "nothing follows");
    ch.task.await.unwrap();
    chatter.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_stream_that_starts_in_time_has_no_start_timeout_after() {
    let (mut ch, _out, provider) =
        over_channels(StreamOptions::immediate().start_timeout(Duration::from_secs(3)));
    tokio::time::sleep(Duration::from_secs(2)).await;
    provider
        .send(WsFrame::Text(CONNECTED.into()))
        .await
        .unwrap();
    assert!(matches!(
        next(&mut ch.events).await,
        StreamEvent::Started(_)
    ));
    // A quiet minute after the start: nothing ends the stream.
    assert!(
        tokio::time::timeout(Duration::from_secs(60), ch.events.next())
            .await
            .is_err()
    );
    // And without a limit, a stream may wait for its start for ever.
    let (mut ch, _out, _provider) = over_channels(StreamOptions::immediate().start_timeout(None));
    assert!(
        tokio::time::timeout(Duration::from_secs(3600), ch.events.next())
            .await
            .is_err()
    );
}

#[tokio::test(start_paused = true)]
async fn endless_garbage_is_cut_off_at_the_protocol_error_limit() {
    let (mut ch, mut out, provider) = over_channels(StreamOptions::immediate());
    provider
        .send(WsFrame::Text(CONNECTED.into()))
        .await
        .unwrap();
    assert!(matches!(
        next(&mut ch.events).await,
        StreamEvent::Started(_)
    ));
    // 31 broken messages, one good one, 31 more: never 32 in a row, so the stream goes on.
    for round in 0..2 {
        for _ in 0..31 {
            provider
                .send(WsFrame::Text("not json".into()))
                .await
                .unwrap();
            assert!(matches!(
                next(&mut ch.events).await,
                StreamEvent::ProtocolError(_)
            ));
        }
        if round == 0 {
            provider
                .send(WsFrame::Binary(vec![1, 0, 2, 0]))
                .await
                .unwrap();
            assert_eq!(next(&mut ch.events).await, StreamEvent::Audio(vec![1, 2]));
        }
    }
    // The 32nd in a row is reported, then the loop closes the socket and says why.
    let garbage = tokio::spawn(async move {
        while provider
            .send(WsFrame::Text("not json".into()))
            .await
            .is_ok()
        {}
    });
    assert!(matches!(
        next(&mut ch.events).await,
        StreamEvent::ProtocolError(_)
    ));
    assert_eq!(
        next(&mut ch.events).await,
        StreamEvent::Aborted(AbortReason::ProtocolErrors(32))
    );
    assert!(ch.events.next().await.is_none(), "nothing follows");
    ch.task.await.unwrap();
    assert_eq!(sent_so_far(&mut out), [WsFrame::Close]);
    // The socket is gone: the sender of endless garbage is told so.
    garbage.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_host_that_falls_behind_pauses_reading_instead_of_buffering_events() {
    // No limit on errors, four events of room: garbage waits in the socket, not in memory.
    let mut options = StreamOptions::immediate().protocol_error_limit(None);
    options.event_buffer = 4;
    let (mut ch, _out, provider) = over_channels(options);
    for _ in 0..500 {
        provider
            .send(WsFrame::Text("not json".into()))
            .await
            .unwrap();
    }
    // Everything but the host has run (virtual time moves only when every task waits).
    tokio::time::sleep(Duration::from_millis(10)).await;
    let still_in_the_socket = provider.max_capacity() - provider.capacity();
    let read_by_the_loop = 500 - still_in_the_socket;
    assert!(
        read_by_the_loop <= 4 + 1,
        "the loop read {read_by_the_loop} messages ahead of a host that reads none"
    );
    // The host catches up: all 500 arrive, none lost.
    for _ in 0..500 {
        assert!(matches!(
            next(&mut ch.events).await,
            StreamEvent::ProtocolError(_)
        ));
    }
}

#[tokio::test(start_paused = true)]
async fn audio_waiting_for_the_pacer_is_bounded_and_a_clear_still_goes_through() {
    // One frame at once, then one a minute; at most one second of audio waits in the loop.
    let pacer = Pacer::new(Duration::from_millis(20), 1, Duration::from_secs(60), 10);
    let options = StreamOptions::immediate()
        .pacer(pacer)
        .max_queued_audio(Duration::from_secs(1));
    let (mut ch, mut out, provider) = over_channels(options);
    provider
        .send(WsFrame::Text(CONNECTED.into()))
        .await
        .unwrap();
    next(&mut ch.events).await;
    // A second of 16 kHz audio fills the budget: it is taken, the first frame goes.
    ch.sender.audio(vec![500; 16_000]).await.unwrap();
    assert!(matches!(out.recv().await, Some(WsFrame::Binary(b)) if b.len() == 640));
    // More waits: the host is held back, the loop holds no more.
    let more = tokio::spawn({
        let sender = ch.sender.clone();
        async move { sender.audio(vec![500; 320]).await }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!more.is_finished(), "the budget is spent: the sender waits");
    // A clear is never held up by the budget; it drops what waited, which frees it.
    tokio::time::timeout(Duration::from_secs(1), ch.sender.clear())
        .await
        .expect("a clear goes through at once")
        .unwrap();
    more.await.unwrap().unwrap();
    let mut after = Vec::new();
    while after.len() < 2 {
        after.push(out.recv().await.unwrap());
    }
    assert_eq!(after[0], WsFrame::Text(r#"{"action":"clear"}"#.into()));
    assert!(matches!(&after[1], WsFrame::Binary(b) if b.len() == 640));
}

#[tokio::test(start_paused = true)]
async fn what_waits_for_the_host_does_not_grow_with_the_peers_messages() {
    // A megabyte of event name, and a megabyte of bad content-type: each event carries at most
    // 256 bytes of it, however slowly the host reads.
    let (mut ch, _out, provider) = over_channels(StreamOptions::immediate());
    let long = "x".repeat(1 << 20);
    provider
        .send(WsFrame::Text(format!(r#"{{"event":"{long}"}}"#)))
        .await
        .unwrap();
    let StreamEvent::Unknown(name) = next(&mut ch.events).await else {
        panic!("an unknown event")
    };
    assert!(name.len() <= 256 + '…'.len_utf8(), "{}", name.len());
    assert!(name.starts_with("xxxx") && name.ends_with('…'));
    provider
        .send(WsFrame::Text(format!(
            r#"{{"event":"websocket:connected","content-type":"{long}"}}"#
        )))
        .await
        .unwrap();
    let StreamEvent::ProtocolError(e) = next(&mut ch.events).await else {
        panic!("a protocol error")
    };
    assert!(e.to_string().len() < 512, "{}", e.to_string().len());
}

/// A stream that ends after the host said a transfer was under way ends as a transfer, not as
/// a lost connection, whether the carrier closes it or just drops it.
#[tokio::test(start_paused = true)]
async fn a_stream_ended_by_a_transfer_says_so() {
    for closes in [true, false] {
        let (mut ch, mut out, provider) = over_channels(StreamOptions::immediate());
        provider
            .send(WsFrame::Text(CONNECTED.into()))
            .await
            .unwrap();
        assert!(matches!(
            next(&mut ch.events).await,
            StreamEvent::Started(_)
        ));
        ch.sender.transferring(true).await.unwrap();
        // A frame of audio sent after the marker: once it is out, the loop has read the
        // marker (commands are read in order).
        ch.sender.audio(vec![0; 320]).await.unwrap();
        assert!(matches!(out.recv().await, Some(WsFrame::Binary(_))));
        if closes {
            provider.send(WsFrame::Close).await.unwrap();
        } else {
            drop(provider);
        }
        assert_eq!(next(&mut ch.events).await, StreamEvent::Transferred);
        assert!(ch.events.next().await.is_none(), "nothing follows");
    }
}
