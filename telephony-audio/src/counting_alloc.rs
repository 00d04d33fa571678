//! A global allocator that counts: the system's, with the number of allocations made and the
//! bytes still live, for the whole process and for each thread. With feature
//! `counting-alloc` (off by default); the allocation tests of this workspace and
//! `telephony bench media` use it to show that the media path allocates nothing per frame and
//! to weigh what one session holds.
//!
//! The counters move only in a program that installs [`CountingAlloc`] as its global
//! allocator; elsewhere they stay at zero.
//!
//! ```
//! use telephony_audio::counting_alloc::{self, CountingAlloc};
//!
//! #[global_allocator]
//! static ALLOCATOR: CountingAlloc = CountingAlloc;
//!
//! # fn main() {
//! let before = counting_alloc::thread_allocations();
//! let v = vec![0u8; 100];
//! assert_eq!(counting_alloc::thread_allocations() - before, 1);
//! # drop(v);
//! # }
//! ```
//!
//! Each allocation, zeroed allocation and reallocation counts once; a deallocation counts
//! nothing but returns its bytes. The process-wide figures are two relaxed atomic additions
//! per call; the per-thread ones are thread-local cells with no destructor, which neither
//! allocate nor go away while a thread exits.

// The workspace denies `unsafe`: a global allocator cannot be written without it. Each block
// only forwards to `System` with the caller's own arguments.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The system allocator, counting. Install it with `#[global_allocator]` (see the
/// [module](self)), then read [`allocations`], [`live_bytes`], [`thread_allocations`] and
/// [`thread_live_bytes`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAlloc;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static THREAD_ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static THREAD_LIVE: Cell<i64> = const { Cell::new(0) };
}

/// Allocations (and zeroed allocations, and reallocations) made so far, by every thread.
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// Bytes allocated and not yet freed, by every thread.
pub fn live_bytes() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Allocations (and zeroed allocations, and reallocations) made so far by the calling thread.
pub fn thread_allocations() -> u64 {
    THREAD_ALLOCATIONS.with(Cell::get)
}

/// Bytes the calling thread allocated less those it freed, whoever allocated them: negative
/// when it freed more than it allocated.
pub fn thread_live_bytes() -> i64 {
    THREAD_LIVE.with(Cell::get)
}

/// Records `grown` bytes allocated and `shrunk` freed, and one allocation if `counted`.
fn note(grown: usize, shrunk: usize, counted: bool) {
    if grown > 0 {
        LIVE.fetch_add(grown, Ordering::Relaxed);
    }
    if shrunk > 0 {
        LIVE.fetch_sub(shrunk, Ordering::Relaxed);
    }
    if counted {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
    // `try_with`: the thread's slots may be unreachable while it exits.
    let _ = THREAD_LIVE.try_with(|l| l.set(l.get() + grown as i64 - shrunk as i64));
    if counted {
        let _ = THREAD_ALLOCATIONS.try_with(|a| a.set(a.get() + 1));
    }
}

// SAFETY: every method forwards to `System`, which upholds `GlobalAlloc`'s contract, with the
// arguments it was given; the counters are atomics and thread-local cells that never affect
// the memory returned.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout, as `GlobalAlloc::alloc` requires.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            note(layout.size(), 0, true);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator with `layout`, as the caller guarantees.
        unsafe { System.dealloc(ptr, layout) };
        note(0, layout.size(), false);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout, as `GlobalAlloc::alloc_zeroed` requires.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            note(layout.size(), 0, true);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout`; `new_size` is the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            note(new_size, layout.size(), true);
        }
        p
    }
}
