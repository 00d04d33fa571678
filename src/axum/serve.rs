//! A server for the host's axum app, with the limits `axum::serve` does not set.

use std::any::Any;
use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long a client has to send a request's head, by default.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How [`serve_with`] serves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    /// How long a client has to send a whole request head (request line and headers), from
    /// when the server starts waiting for it: on a new connection, and on a kept-alive one
    /// between requests. Then the connection is closed. `None` waits for ever. Default 10 s.
    pub header_read_timeout: Option<Duration>,
    /// Whether accepted TCP connections send each write at once (`TCP_NODELAY`), rather than
    /// hold a small one back while an earlier one is unacknowledged (Nagle's algorithm). A
    /// media stream writes a small frame every 20 ms, and a held frame is a late one. Default
    /// true; applies where the listener's connections are `tokio::net::TcpStream`s.
    pub tcp_nodelay: bool,
}

impl Default for ServeOptions {
    fn default() -> ServeOptions {
        ServeOptions {
            header_read_timeout: Some(HEADER_READ_TIMEOUT),
            tcp_nodelay: true,
        }
    }
}

impl ServeOptions {
    /// Sets [`header_read_timeout`](Self::header_read_timeout) (`None`: no limit).
    pub fn header_read_timeout(mut self, timeout: impl Into<Option<Duration>>) -> ServeOptions {
        self.header_read_timeout = timeout.into();
        self
    }

    /// Sets [`tcp_nodelay`](Self::tcp_nodelay).
    pub fn tcp_nodelay(mut self, nodelay: bool) -> ServeOptions {
        self.tcp_nodelay = nodelay;
        self
    }
}

/// Serves `router` on `listener` (a `tokio::net::TcpListener`, or any axum listener of
/// socket addresses) in a task, over HTTP/1.1 with upgrades (WebSockets), with the default
/// [`ServeOptions`]: a client that does not send its request head within 10 s is
/// disconnected, which `axum::serve` never does, and TCP connections write each frame at
/// once (`TCP_NODELAY`), which `axum::serve` leaves off. Handlers get the peer's address as
/// `ConnectInfo<SocketAddr>` (what [`PublicUrl`](telephony_core::PublicUrl) reads to trust
/// a proxy).
///
/// Must be called within a tokio runtime. The server runs until the runtime stops or
/// [`Server::abort`]; await the [`Server`] to wait for that.
///
/// ```no_run
/// # async fn f(app: axum::Router) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
/// telephony::axum::serve(listener, app).await;
/// # Ok(()) }
/// ```
///
/// (A body's read is bounded by the handler: [`Webhooks`](super::Webhooks) gives up after
/// its [`body_timeout`](super::Webhooks::body_timeout).)
pub fn serve<L>(listener: L, router: Router) -> Server
where
    L: Listener<Addr = SocketAddr>,
{
    serve_with(listener, router, ServeOptions::default())
}

/// [`serve`], with `options`.
pub fn serve_with<L>(listener: L, router: Router, options: ServeOptions) -> Server
where
    L: Listener<Addr = SocketAddr>,
{
    let connections = Connections::default();
    let task = tokio::spawn(accept(listener, router, options, connections.clone()));
    Server { connections, task }
}

/// A running [`serve`]: its count of open connections, and its accept loop. Dropping it
/// leaves the server running.
#[derive(Debug)]
pub struct Server {
    connections: Connections,
    task: JoinHandle<()>,
}

impl Server {
    /// Its count of open connections, to read while it runs.
    pub fn connections(&self) -> Connections {
        self.connections.clone()
    }

    /// Stops accepting connections (those open go on until they close).
    pub fn abort(&self) {
        self.task.abort();
    }
}

impl IntoFuture for Server {
    type Output = ();
    type IntoFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

    /// Waits until the server stops accepting: when aborted, or never.
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let _ = self.task.await;
        })
    }
}

/// How many connections a [`Server`] has open: each one from the moment it is accepted until
/// the server lets go of its socket (an HTTP connection kept alive for the next request
/// counts; an upgraded one, a WebSocket, counts until it closes). Cheap to clone.
#[derive(Debug, Clone)]
pub struct Connections(Arc<watch::Sender<usize>>);

impl Default for Connections {
    fn default() -> Connections {
        Connections(Arc::new(watch::Sender::new(0)))
    }
}

impl Connections {
    /// Connections open now.
    pub fn count(&self) -> usize {
        *self.0.borrow()
    }

    /// Waits until `check` holds for the count (at once if it does now): how a test waits for
    /// a connection to close, as an event rather than a time.
    pub async fn wait_for(&self, mut check: impl FnMut(usize) -> bool) {
        let mut count = self.0.subscribe();
        // The sender lives as long as `self`: this only ends when `check` holds.
        let _ = count.wait_for(|&n| check(n)).await;
    }

    fn opened(&self) {
        self.0.send_modify(|n| *n += 1);
    }

    fn closed(&self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

async fn accept<L>(mut listener: L, router: Router, options: ServeOptions, open: Connections)
where
    L: Listener<Addr = SocketAddr>,
{
    loop {
        // axum's accept: it waits out and retries what fails (a full file table, a connection
        // reset before it was taken).
        let (io, peer) = listener.accept().await;
        if options.tcp_nodelay
            && let Err(e) = set_nodelay(&io)
        {
            tracing::debug!(%peer, error = %e, "cannot set TCP_NODELAY");
        }
        open.opened();
        let io = Counted {
            io,
            open: open.clone(),
        };
        let router = TowerToHyperService::new(router.clone());
        let header_read_timeout = options.header_read_timeout;
        // One task a connection, as axum::serve.
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |mut request: axum::http::Request<Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    hyper::service::Service::call(&router, request)
                });
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout);
            let connection = http
                .serve_connection(TokioIo::new(io), service)
                .with_upgrades();
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "HTTP connection ended with an error");
            }
        });
    }
}

/// Sets `TCP_NODELAY` on `io` where it is a TCP stream (a listener of other connections
/// has nothing to set).
fn set_nodelay<Io: 'static>(io: &Io) -> io::Result<()> {
    match (io as &dyn Any).downcast_ref::<tokio::net::TcpStream>() {
        Some(tcp) => tcp.set_nodelay(true),
        None => Ok(()),
    }
}

/// A connection the server accepted: counted until dropped (by the HTTP connection, or by
/// the WebSocket it was upgraded to).
struct Counted<Io> {
    io: Io,
    open: Connections,
}

impl<Io> Drop for Counted<Io> {
    fn drop(&mut self) {
        self.open.closed();
    }
}

impl<Io: AsyncRead + Unpin> AsyncRead for Counted<Io> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Counted<Io> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn accepted_tcp_connections_send_at_once() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let client = tokio::net::TcpStream::connect(address).await.unwrap();
        let (accepted, _) = listener.accept().await.unwrap();
        assert!(
            !accepted.nodelay().unwrap(),
            "the system's default is Nagle's algorithm"
        );
        set_nodelay(&accepted).unwrap();
        assert!(accepted.nodelay().unwrap());
        // Anything else is left as it is.
        set_nodelay(&client.peer_addr().unwrap()).unwrap();
    }
}
