//! A real Redis for tests: the server named by `TELEPHONY_TEST_REDIS_URL`, or a
//! `redis-server` of the test's own on a free loopback port, stopped when dropped.
//!
//! A test that needs Redis never passes by skipping: with neither, [`server`] panics and
//! says what to install.
//!
//! ```no_run
//! let redis = telephony_testkit::redis::server();
//! let url = redis.url(); // redis://127.0.0.1:PORT
//! # let _ = url;
//! ```

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The variable naming a shared server (`redis://127.0.0.1:6390`); tests on it keep to keys
/// of their own (a campaign named after a fresh uuid).
pub const URL_VAR: &str = "TELEPHONY_TEST_REDIS_URL";

const NEEDS_REDIS: &str = "this test needs Redis: install Debian's redis-server \
(apt-get install redis-server) or set TELEPHONY_TEST_REDIS_URL; .ci/run does both";

/// How long a server of our own may take to answer its first PING.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// A Redis server for a test: shared (from [`URL_VAR`]) or spawned, and then killed on drop.
pub struct RedisServer {
    url: String,
    own: Option<Spawned>,
}

struct Spawned {
    child: Child,
    log: PathBuf,
}

impl std::fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisServer")
            .field("url", &telephony::redact_url(&self.url))
            .field("spawned", &self.own.as_ref().map(|s| s.child.id()))
            .finish()
    }
}

impl RedisServer {
    /// The server's URL, for a Redis client.
    pub fn url(&self) -> String {
        self.url.clone()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(own) = &mut self.own {
            let _ = own.child.kill();
            let _ = own.child.wait();
            let _ = std::fs::remove_file(&own.log);
        }
    }
}

/// A Redis server: `TELEPHONY_TEST_REDIS_URL`'s when set (checked to answer), else a
/// `redis-server` from `PATH` on a free port of 127.0.0.1, with nothing saved to disk.
///
/// # Panics
///
/// When the variable's server does not answer, or there is no variable and no
/// `redis-server` starts; the message says how to get one.
pub fn server() -> RedisServer {
    if let Ok(url) = std::env::var(URL_VAR)
        && !url.is_empty()
    {
        if let Err(why) = check_url(&url) {
            panic!(
                "{URL_VAR}={} does not answer: {why}; {NEEDS_REDIS}",
                telephony::redact_url(&url)
            );
        }
        return RedisServer { url, own: None };
    }
    let mut last = String::new();
    // A port found free may be taken before the server binds it: try another.
    for _ in 0..5 {
        match spawn() {
            Ok(server) => return server,
            Err(Spawn::Missing(why)) => panic!("redis-server could not run ({why}); {NEEDS_REDIS}"),
            Err(Spawn::Failed(why)) => last = why,
        }
    }
    panic!("redis-server did not start: {last}; {NEEDS_REDIS}");
}

enum Spawn {
    /// No `redis-server` to run.
    Missing(String),
    /// It ran and did not answer (a port clash, among others).
    Failed(String),
}

fn spawn() -> Result<RedisServer, Spawn> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| Spawn::Failed(format!("no free port: {e}")))?
        .port();
    let dir = std::env::temp_dir();
    let log = dir.join(format!(
        "telephony-test-redis-{}-{port}.log",
        std::process::id()
    ));
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .arg("--dir")
        .arg(&dir)
        .arg("--logfile")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Spawn::Missing(e.to_string()))?;
    let mut own = Spawned { child, log };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + START_DEADLINE;
    loop {
        if ping(&addr).is_ok() {
            return Ok(RedisServer {
                url: format!("redis://127.0.0.1:{port}"),
                own: Some(own),
            });
        }
        if let Ok(Some(status)) = own.child.try_wait() {
            let text = std::fs::read_to_string(&own.log).unwrap_or_default();
            let _ = std::fs::remove_file(&own.log);
            return Err(Spawn::Failed(format!(
                "it exited ({status}) on port {port}: {}",
                text.lines().rev().take(5).collect::<Vec<_>>().join(" | ")
            )));
        }
        if Instant::now() > deadline {
            let _ = own.child.kill();
            let _ = own.child.wait();
            let _ = std::fs::remove_file(&own.log);
            return Err(Spawn::Failed(format!(
                "no PONG on port {port} in {START_DEADLINE:?}"
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether the server at `url` (`redis://[…@]HOST[:PORT]`) answers: a PONG, or a refusal
/// for want of credentials (the client the test uses brings them).
fn check_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    if parsed.scheme() != "redis" {
        // TLS and unix sockets: the client under test will say.
        return Ok(());
    }
    let host = parsed.host_str().unwrap_or("127.0.0.1");
    let port = parsed.port().unwrap_or(6379);
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host} has no address"))?;
    ping(&addr)
}

/// One PING in raw RESP: `+PONG` (or `-NOAUTH`: it is there, and wants a password).
fn ping(addr: &SocketAddr) -> Result<(), String> {
    let mut stream =
        TcpStream::connect_timeout(addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"*1\r\n$4\r\nPING\r\n")
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 64];
    let mut got = Vec::new();
    while !got.ends_with(b"\r\n") {
        let n = stream.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    if got.starts_with(b"+PONG") || got.starts_with(b"-NOAUTH") {
        Ok(())
    } else {
        Err(format!("answered {:?}", String::from_utf8_lossy(&got)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_answers_and_is_gone_once_dropped() {
        let server = server();
        let url = url::Url::parse(&server.url()).unwrap();
        let addr = (url.host_str().unwrap(), url.port().unwrap_or(6379))
            .to_socket_addrs()
            .unwrap()
            .next()
            .unwrap();
        ping(&addr).unwrap();
        let spawned = server.own.as_ref().map(|s| s.child.id());
        drop(server);
        // Killed and reaped on drop.
        if let Some(pid) = spawned
            && cfg!(target_os = "linux")
        {
            assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
        }
    }

    #[test]
    fn debug_hides_a_password() {
        let server = RedisServer {
            url: "redis://:hunter2@127.0.0.1:6390".into(),
            own: None,
        };
        let shown = format!("{server:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("***"),
            "{shown}"
        );
    }
}
