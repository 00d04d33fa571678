//! The command's allocator: the system's, counting what is live and how many allocations were
//! made (telephony-audio's [`CountingAlloc`]), so `telephony bench media` can say how much
//! memory one session holds and that the media path does not allocate per frame.

use telephony_audio::counting_alloc::CountingAlloc;

pub(crate) use telephony_audio::counting_alloc::{allocations, live_bytes};

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;
