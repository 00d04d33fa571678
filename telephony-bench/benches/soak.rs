//! The soak scenario of `tests/soak.rs` with more calls: `TELEPHONY_SOAK_CALLS` at once (1000
//! by default) on one emulated Twilio, every frame checked. Criterion reports the time a round
//! takes and the calls per second it carries.
//!
//! ```text
//! cargo bench -p telephony-bench --bench soak
//! TELEPHONY_SOAK_CALLS=2000 cargo bench -p telephony-bench --bench soak
//! ```

#[path = "../../examples/common/mod.rs"]
mod common;
#[path = "../../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn soak(c: &mut Criterion) {
    let calls: usize = std::env::var("TELEPHONY_SOAK_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let (fake, provider, agent) = runtime.block_on(support::soak::rig());
    let mut group = c.benchmark_group("soak");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(60));
    group.throughput(Throughput::Elements(calls as u64));
    group.bench_function(format!("twilio/{calls}-calls"), |b| {
        b.iter_custom(|rounds| {
            let started = Instant::now();
            for _ in 0..rounds {
                runtime.block_on(support::soak::round(&fake, &provider, &agent, calls));
            }
            started.elapsed()
        });
    });
    group.finish();
}

criterion_group!(benches, soak);
criterion_main!(benches);
