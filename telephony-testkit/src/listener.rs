//! The fakes' server: `telephony::axum::serve`, which counts the connections it has open (how
//! a test tells a task that leaked from one that serves a kept-alive HTTP connection).

use axum::Router;
use tokio::net::TcpListener;

pub use telephony::axum::Connections;

/// Serves `router` on `listener` for as long as the runtime runs, with each request's peer
/// address as `ConnectInfo<SocketAddr>` (what `telephony::axum` reads to trust a proxy), and
/// returns the count of its open connections: the server is [`telephony::axum::serve_with`],
/// keeping idle connections open (no header-read timeout), as a carrier's API does for
/// minutes, so that a test's count of connections never races a timer.
///
/// ```no_run
/// # async fn f(router: axum::Router) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let open = telephony_testkit::serve_counted(listener, router);
/// assert_eq!(open.count(), 0);
/// # Ok(()) }
/// ```
pub fn serve_counted(listener: TcpListener, router: Router) -> Connections {
    let options = telephony::axum::ServeOptions::default().header_read_timeout(None);
    telephony::axum::serve_with(listener, router, options).connections()
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    #[tokio::test]
    async fn counts_open_connections_until_they_close() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route(
            "/",
            axum::routing::get(
                |axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<SocketAddr>| async move {
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
        open.wait_for(|n| n == 0).await;
    }
}
