//! Soak: 200 calls at once on one emulated Twilio, each answered by the echo agent, three
//! rounds. Every frame is accounted for, both ways, and nothing is left running: no call, no
//! media loop, and no task but those that serve a kept-alive HTTP connection.
//!
//! `cargo bench -p telephony-bench --bench soak` runs the same with more calls.

#[path = "../examples/common/mod.rs"]
mod common;
mod support;

use support::soak::{rig, round};

const CALLS: usize = 200;

/// After a round, once every call and every media loop has ended (each waited for as an
/// event, not a time), what is left are the servers' accept loops, the HTTP clients' pool
/// reapers, and two tasks for each HTTP connection kept alive for the next request: hyper's
/// on the client side and on the server side. The pools grow when a round's peak of
/// concurrent requests is higher than any before it, which a busy machine makes likely (920
/// tasks after one round and 944 after the next were once seen, 12 connections more), so the
/// count of tasks alone proves nothing. Counting the connections does: tasks minus two per
/// open connection is the same after every round, exactly, unless a task outlives its call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_calls_at_once_lose_nothing_and_leak_nothing() {
    let (fake, provider, agent) = rig().await;
    let metrics = tokio::runtime::Handle::current().metrics();
    let mut left = Vec::new();
    for _ in 0..3 {
        round(&fake, &provider, &agent, CALLS).await;
        let tasks = metrics.num_alive_tasks();
        let connections = fake.open_connections() + agent.open_connections();
        left.push((tasks, connections, tasks as i64 - 2 * connections as i64));
    }
    let (_, _, first) = left[0];
    assert!(
        left.iter().all(|&(_, _, rest)| rest == first),
        "tasks not serving a connection changed between rounds (tasks, open connections, \
         tasks minus two per connection): {left:?}"
    );
    eprintln!(
        "{} calls; after each round (tasks, open connections, tasks minus two per connection): \
         {left:?}",
        3 * CALLS
    );
}
