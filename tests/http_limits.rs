//! The limits of the axum glue's HTTP side: a request head must arrive within the server's
//! header-read timeout (`telephony::axum::serve`), a webhook body within the `Webhooks` body
//! timeout.
//!
//! Time is virtual (`start_paused`): it moves only when every task waits, so each limit is
//! seen to fire at its time to the tick, however busy the machine is. Real loopback sockets
//! work with it: hyper's timer is tokio's.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::routing::get;
use telephony::axum::{ServeOptions, Webhooks, serve, serve_with};
use telephony::{InboundRouter, MemoryDirectory, PublicUrl};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

fn hooks() -> Webhooks {
    Webhooks::new(
        InboundRouter::new(Arc::new(MemoryDirectory::new())),
        PublicUrl::from_base(
            "https://agent.example.com"
                .parse::<telephony::Url>()
                .unwrap(),
        ),
    )
}

fn post(body: Body) -> Request {
    Request::post("/inbound")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .unwrap()
}

/// A body that sends `first`, then nothing for `pause`, then `rest` and ends.
fn trickle(first: &'static str, pause: Duration, rest: &'static str) -> Body {
    let chunks = futures_util::stream::unfold(0, move |step| async move {
        match step {
            0 => Some((Ok::<_, std::io::Error>(Bytes::from(first)), 1)),
            1 => {
                tokio::time::sleep(pause).await;
                Some((Ok(Bytes::from(rest)), 2))
            }
            _ => None,
        }
    });
    Body::from_stream(chunks)
}

#[tokio::test(start_paused = true)]
async fn a_webhook_body_that_never_ends_is_answered_408_at_the_body_timeout() {
    // The headers came; the body starts and never ends.
    let never = futures_util::stream::unfold((), |()| async {
        std::future::pending::<Option<(Result<Bytes, std::io::Error>, ())>>().await
    });
    let t0 = Instant::now();
    // A minute of virtual time stands for "for ever": only the limit ends the read sooner.
    let response = tokio::time::timeout(
        Duration::from_secs(60),
        Webhooks::inbound(State(hooks()), post(Body::from_stream(never))),
    )
    .await
    .expect("the body timeout ends the read");
    assert_eq!(response.status(), 408);
    assert_eq!(
        t0.elapsed(),
        Duration::from_secs(10),
        "the default, to the tick"
    );

    // Slower than the limit in all, though never idle for long: still 408.
    let t0 = Instant::now();
    let hooks = hooks().body_timeout(Duration::from_secs(2));
    let response = Webhooks::inbound(
        State(hooks.clone()),
        post(trickle("From=%2B1", Duration::from_secs(3), "415")),
    )
    .await;
    assert_eq!(response.status(), 408);
    assert_eq!(t0.elapsed(), Duration::from_secs(2));

    // Within the limit, the body is read and the webhook handled (here: from no provider).
    let response = Webhooks::inbound(
        State(hooks),
        post(trickle("From=%2B1", Duration::from_secs(1), "415")),
    )
    .await;
    assert_ne!(response.status(), 408);
}

/// `serve` with `options`, or the default one.
async fn served(options: Option<ServeOptions>) -> (SocketAddr, telephony::axum::Server) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route(
        "/",
        get(
            |ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { format!("hi {}", peer.ip()) },
        ),
    );
    let server = match options {
        Some(options) => serve_with(listener, app, options),
        None => serve(listener, app),
    };
    (addr, server)
}

#[tokio::test(start_paused = true)]
async fn a_client_that_never_finishes_its_request_head_is_disconnected_at_the_header_timeout() {
    let (addr, server) = served(None).await;
    let open = server.connections();

    // A whole request is served, with the peer's address as ConnectInfo.
    let mut client = TcpStream::connect(addr).await.unwrap();
    client
        .write_all(b"GET / HTTP/1.1\r\nhost: agent\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    client.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("hi 127.0.0.1"), "{response}");
    open.wait_for(|n| n == 0).await;

    // Half a request line, then nothing: the server hangs up at 10 s (virtual), not before.
    let t0 = Instant::now();
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET / HT").await.unwrap();
    let mut answer = Vec::new();
    // Reads until the server closes the connection (a virtual minute stands for "never").
    let _ = tokio::time::timeout(Duration::from_secs(60), slow.read_to_end(&mut answer))
        .await
        .expect("the server hangs up");
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_secs(10) && waited < Duration::from_secs(11),
        "closed after {waited:?}"
    );
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    // And the server let go of its socket.
    open.wait_for(|n| n == 0).await;
}

#[tokio::test(start_paused = true)]
async fn the_header_read_timeout_is_configurable_and_covers_kept_alive_connections() {
    let (addr, server) = served(Some(
        ServeOptions::default().header_read_timeout(Duration::from_secs(2)),
    ))
    .await;
    let open = server.connections();
    // A request on a kept-alive connection, then silence: the wait for the next request's
    // head is bounded too.
    let mut client = TcpStream::connect(addr).await.unwrap();
    client
        .write_all(b"GET / HTTP/1.1\r\nhost: agent\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = client.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let t0 = Instant::now();
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(60), client.read_to_end(&mut rest))
        .await
        .expect("the server hangs up");
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(3),
        "closed after {waited:?}"
    );
    open.wait_for(|n| n == 0).await;

    // Without a limit, a head may take for ever.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = serve_with(
        listener,
        Router::new(),
        ServeOptions::default().header_read_timeout(None),
    );
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET / HT").await.unwrap();
    let mut one = [0u8; 1];
    assert!(
        tokio::time::timeout(Duration::from_secs(3600), slow.read(&mut one))
            .await
            .is_err(),
        "still open after an hour"
    );
    assert_eq!(server.connections().count(), 1);
}
