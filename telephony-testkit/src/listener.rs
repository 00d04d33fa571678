//! A TCP listener for axum that counts the connections it has open: how a test tells a task
//! that leaked from one that serves a kept-alive HTTP connection.

use std::io;
use std::net::SocketAddr as Peer;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use axum::Router;
use axum::serve::ListenerExt as _;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Serves `router` on `listener` for as long as the runtime runs, with each request's peer
/// address as `ConnectInfo<SocketAddr>` (what `telephony::axum` reads to trust a proxy), and
/// returns the count of its open connections.
///
/// ```no_run
/// # async fn f(router: axum::Router) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let open = telephony_testkit::serve_counted(listener, router);
/// assert_eq!(open.count(), 0);
/// # Ok(()) }
/// ```
pub fn serve_counted(listener: TcpListener, router: Router) -> Connections {
    let listener = CountingListener::new(listener);
    let open = listener.connections();
    // `tap_io` (a no-op here) is what gives a listener of our own axum's ConnectInfo of the
    // peer's address.
    let listener = listener.tap_io(|_: &mut Counted| {});
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<Peer>(),
        )
        .await;
    });
    open
}

/// A [`TcpListener`] for `axum::serve` that counts its open connections: one from the moment
/// it is accepted until the server lets go of its socket (an HTTP connection kept alive for
/// the next request counts; an upgraded one, a WebSocket, counts until it closes).
///
/// [`serve_counted`] runs one with the peer's address as connection info.
#[derive(Debug)]
pub struct CountingListener {
    inner: TcpListener,
    open: Connections,
}

/// The number of connections a [`CountingListener`] has open; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Connections(Arc<AtomicUsize>);

impl Connections {
    /// Connections open now.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl CountingListener {
    /// Listens on `addr`.
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    pub async fn bind(addr: &str) -> io::Result<CountingListener> {
        Ok(CountingListener::new(TcpListener::bind(addr).await?))
    }

    /// Counts the connections `listener` accepts from now on.
    pub fn new(listener: TcpListener) -> CountingListener {
        CountingListener {
            inner: listener,
            open: Connections::default(),
        }
    }

    /// The count, to read while the server runs.
    pub fn connections(&self) -> Connections {
        self.open.clone()
    }

    /// The address it listens on.
    ///
    /// # Errors
    ///
    /// As [`TcpListener::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl axum::serve::Listener for CountingListener {
    type Io = Counted;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Counted, SocketAddr) {
        // axum's own accept for a TcpListener: it waits out and retries what fails (a full
        // file table, a connection reset before it was taken).
        let (stream, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        self.open.0.fetch_add(1, Ordering::SeqCst);
        let counted = Counted {
            stream,
            open: self.open.clone(),
        };
        (counted, addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// A connection a [`CountingListener`] accepted: counted until dropped.
#[derive(Debug)]
pub struct Counted {
    stream: TcpStream,
    open: Connections,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.open.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_open_connections_until_they_close() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route(
            "/",
            axum::routing::get(
                |axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<Peer>| async move {
                    format!("hi {}", peer.ip())
                },
            ),
        );
        let open = serve_counted(listener, router);
        let client = reqwest::Client::new();
        let body = client
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body, "hi 127.0.0.1");
        // The client keeps the connection alive for its next request.
        assert_eq!(open.count(), 1);
        drop(client);
        // The server lets go once it reads the close: wait for that, not for a time.
        while open.count() != 0 {
            tokio::task::yield_now().await;
        }
    }
}
