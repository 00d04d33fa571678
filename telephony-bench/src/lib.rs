//! The benchmarks of telephony-rs, in a crate of their own so that criterion is built only for
//! them. Nothing here is an API; the benchmarks are in `benches/`:
//!
//! ```text
//! cargo bench -p telephony-bench --bench audio   # G.711, every resampler pair, each SIMD backend
//! cargo bench -p telephony-bench --bench media   # each provider's protocol, whole media legs
//! cargo bench -p telephony-bench --bench soak    # 1000 emulated calls at once on loopback
//! ```
