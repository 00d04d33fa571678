//! Soak: 200 calls at once on one emulated Twilio, each answered by the echo agent, twice
//! over. Every frame is accounted for, both ways, and nothing is left running: no call, no
//! media loop, and no task more after the second round than after the first.
//!
//! `cargo bench --bench soak` runs the same with more calls.

#[path = "../examples/common/mod.rs"]
mod common;
mod support;

use support::soak::{rig, round};

const CALLS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_calls_at_once_lose_nothing_and_leak_nothing() {
    let (fake, provider, agent) = rig().await;
    round(&fake, &provider, &agent, CALLS).await;
    let metrics = tokio::runtime::Handle::current().metrics();
    let after_first = metrics.num_alive_tasks();
    round(&fake, &provider, &agent, CALLS).await;
    let after_second = metrics.num_alive_tasks();
    // Connections kept alive in the HTTP pools are reused; a task left behind per call would
    // add hundreds.
    assert!(
        after_second <= after_first + CALLS / 20,
        "{after_first} tasks after the first round, {after_second} after the second"
    );
    eprintln!(
        "{} calls; {after_first} tasks alive after the first round, {after_second} after the second",
        2 * CALLS
    );
}
