//! The polyphase FIR kernels: the one hot loop of the resampler, one file per instruction set.
//!
//! Lanes run along consecutive outputs of one phase, so every lane performs exactly the same
//! sequence of multiply-adds as it would alone. That is what makes the resampler's output
//! independent of how its input is chunked: a block computed in a group of 64 lanes or of 8,
//! at the start of a call or in the middle, gives each output the same bits.
//!
//! A linear-phase (high-quality) bank runs folded on every backend (see [`Fold`]): the two
//! inputs of each pair of taps that share a coefficient are added (and subtracted) first, which
//! halves the multiply-adds, and the bank's plain coefficient table is never built. The other
//! banks run plain, from that table.
//!
//! - [`portable`]: fixed-size arrays the compiler vectorises for the baseline target (SSE2 on
//!   x86-64, NEON on aarch64).
//! - `avx2` and `avx512` (x86-64): explicit kernels with fused multiply-add. Their speed
//!   against the portable ones is measured per backend by `cargo bench -p telephony-bench
//!   --bench audio -- backend` (the README's table "Each instruction set" has the figures).
//!   They are what this crate's `unsafe` is for: unaligned vector loads and stores inside
//!   bounds-checked slices, empty `asm!` statements that order the code (see `settle!`), and
//!   the call into code compiled for features the CPU was checked to have. Each of their entry
//!   points takes the token of that check ([`Avx2`], [`Avx512`]) by value, and [`Fir`] and
//!   [`Load`] hold it beside the function, so no kernel can be reached without it.
//!
//! The folded kernels of AVX2 and AVX-512 perform the same operations per lane in the same
//! order, so they agree bit for bit; the plain ones, and the portable kernels (which have no
//! fused multiply-add on x86-64), agree within one least significant bit.

use super::bank::{Bank, Fold};
use crate::backend::Isa;
#[cfg(target_arch = "x86_64")]
use crate::cpu::{Avx2, Avx512};

mod portable;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

/// Lanes per block: one 512-bit register, two 256-bit ones, four 128-bit ones.
pub(crate) const LANES: usize = 16;

/// The bank pads taps per stream to a multiple of this, so any `Q` up to it divides them.
pub(crate) const TAP_ALIGN: usize = 4;

/// Everything one kernel call reads and writes.
pub(crate) struct KernelArgs<'a> {
    /// The coefficients (see [`Bank`]): `coeffs()` laid out `[stream][tap][phase]`, `L` values
    /// per tap, `taps` a multiple of [`TAP_ALIGN`]; `fold` for the kernels that use it.
    pub(crate) bank: &'a Bank,
    /// `bank.m` input streams (the input deinterleaved by `M`), `stride` floats apart.
    pub(crate) streams: &'a [f32],
    pub(crate) stride: usize,
    /// Position in each stream of the oldest sample the first lane reads.
    pub(crate) start: usize,
    /// Blocks of `LANES` consecutive input positions to compute.
    pub(crate) blocks: usize,
    /// `L` rows of `blocks * LANES` outputs, one row per phase, rounded to nearest (ties to
    /// even) and saturated: output `L*i + p` of the pass is `out[p * blocks * LANES + i]`.
    /// Beside a [`Bank::pass`], rows `1..L` only: the caller copies row 0.
    pub(crate) out: &'a mut [i16],
}

/// The filter for one bank on one instruction set: the function, and for the explicit kernels
/// the token that proves the CPU runs them, which the function takes.
#[derive(Clone, Copy)]
pub(crate) enum Fir {
    Portable(fn(&mut KernelArgs<'_>)),
    #[cfg(target_arch = "x86_64")]
    Avx2(Avx2, fn(Avx2, &mut KernelArgs<'_>)),
    #[cfg(target_arch = "x86_64")]
    Avx512(Avx512, fn(Avx512, &mut KernelArgs<'_>)),
}

impl Fir {
    /// Runs the filter over `k`.
    #[inline]
    pub(crate) fn run(self, k: &mut KernelArgs<'_>) {
        match self {
            Fir::Portable(f) => f(k),
            #[cfg(target_arch = "x86_64")]
            Fir::Avx2(cpu, f) => f(cpu, k),
            #[cfg(target_arch = "x86_64")]
            Fir::Avx512(cpu, f) => f(cpu, k),
        }
    }
}

/// Writes input samples as floats into `M` rows of `stride`: sample `k` to row
/// `(stream + k) % M`, starting at position `at`, each row advancing after row `M - 1`. The
/// AVX2 loaders come with their token, as [`Fir`]'s kernels do.
#[derive(Clone, Copy)]
pub(crate) enum Load {
    Portable(fn(rows: &mut [f32], stride: usize, stream: usize, at: usize, input: &[i16])),
    #[cfg(target_arch = "x86_64")]
    Avx2(
        Avx2,
        fn(cpu: Avx2, rows: &mut [f32], stride: usize, stream: usize, at: usize, input: &[i16]),
    ),
}

impl Load {
    /// Writes `input` into `rows` (see [`Load`]).
    #[inline]
    pub(crate) fn run(
        self,
        rows: &mut [f32],
        stride: usize,
        stream: usize,
        at: usize,
        input: &[i16],
    ) {
        match self {
            Load::Portable(f) => f(rows, stride, stream, at, input),
            #[cfg(target_arch = "x86_64")]
            Load::Avx2(cpu, f) => f(cpu, rows, stride, stream, at, input),
        }
    }
}

/// The input loader for `m` streams: 1, 2, 3, 4 or 6, or 4, 6, 8 or 12 for decimators (see
/// `Bank`); any other count takes a slower general path.
pub(crate) fn load(isa: Isa, m: usize) -> Load {
    match isa.avx2_token() {
        // Both x86 backends load with the AVX2 loader.
        #[cfg(target_arch = "x86_64")]
        Some(cpu) => Load::Avx2(
            cpu,
            match m {
                1 => avx2::load::<1>,
                2 => avx2::load::<2>,
                3 => avx2::load::<3>,
                4 => avx2::load::<4>,
                6 => avx2::load::<6>,
                8 => avx2::load::<8>,
                12 => avx2::load::<12>,
                _ => return Load::Portable(deinterleave_any),
            },
        ),
        _ => Load::Portable(match m {
            1 => deinterleave::<1>,
            2 => deinterleave::<2>,
            3 => deinterleave::<3>,
            4 => deinterleave::<4>,
            6 => deinterleave::<6>,
            8 => deinterleave::<8>,
            12 => deinterleave::<12>,
            _ => deinterleave_any,
        }),
    }
}

/// The filter for a bank: interpolation factor `l` 1, 2, 3, 4 or 6; folded when the bank is,
/// over its [`Bank::folded_phases`] (`L - 1`) when it copies phase 0 (see [`Bank::pass`]).
///
/// The explicit kernels work in groups of `P` vectors (the AVX-512 plain one: `NB` blocks and
/// `Q` partial sums), chosen so that a group keeps at least eight independent multiply-add
/// chains in flight (two units, four cycles of latency) without running out of registers.
///
/// Every folded bank [`Bank::get`] builds folds 1, 2, 3 or 5 phases (a decimator's 2 or 3, an
/// upsampler's `L - 1`); `folded_banks_build_no_plain_table_on_any_backend` calls this for
/// each, so another count could only come of a new ratio, and fails there.
pub(crate) fn fir(isa: Isa, bank: &Bank) -> Fir {
    let folded = bank.fold.is_some();
    let l = if folded { bank.folded_phases() } else { bank.l };
    if !folded {
        // Built now rather than in the first `process`; a folded bank never needs it.
        bank.coeffs();
    }
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512(cpu) => Fir::Avx512(
            cpu,
            match (folded, l) {
                (true, 1) => avx512::folded::<1, 8>,
                (true, 2) => avx512::folded::<2, 8>,
                (true, 3) => avx512::folded::<3, 5>,
                (true, 5) => avx512::folded::<5, 3>,
                (true, _) => unreachable!("no folded kernel for {l} phases"),
                (_, 1) => avx512::plain::<1, 4, 4>,
                (_, 2) => avx512::plain::<2, 4, 2>,
                (_, 3) => avx512::plain::<3, 2, 2>,
                (_, 4) => avx512::plain::<4, 2, 1>,
                _ => avx512::plain::<6, 2, 1>,
            },
        ),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2(cpu) => Fir::Avx2(
            cpu,
            match (folded, l) {
                (true, 1) => avx2::folded::<1, 8>,
                (true, 2) => avx2::folded::<2, 5>,
                (true, 3) => avx2::folded::<3, 3>,
                (true, 5) => avx2::folded::<5, 1>,
                (true, _) => unreachable!("no folded kernel for {l} phases"),
                (_, 1) => avx2::plain::<1, 4>,
                (_, 2) => avx2::plain::<2, 5>,
                (_, 3) => avx2::plain::<3, 4>,
                (_, 4) => avx2::plain::<4, 2>,
                _ => avx2::plain::<6, 2>,
            },
        ),
        _ => Fir::Portable(match (folded, l) {
            (true, 1) => portable::folded::<1>,
            (true, 2) => portable::folded::<2>,
            (true, 3) => portable::folded::<3>,
            (true, 5) => portable::folded::<5>,
            (true, _) => unreachable!("no folded kernel for {l} phases"),
            (_, 1) => portable::plain::<1>,
            (_, 2) => portable::plain::<2>,
            (_, 3) => portable::plain::<3>,
            (_, 4) => portable::plain::<4>,
            _ => portable::plain::<6>,
        }),
    }
}

/// The fold's pairs for one group: for each span, the rows of its near and far taps that a
/// group of `width` lanes starting at stream position `base` reads, and the span's length.
/// Step `k` of a span reads `near[k..k + width]` and `far[steps - 1 - k..][..width]`.
#[inline(always)]
fn span_rows<'a>(
    k: &KernelArgs<'a>,
    span: &super::bank::Span,
    base: usize,
    width: usize,
) -> (&'a [f32], &'a [f32], usize) {
    let n = span.steps;
    let at = span.near * k.stride + base + span.near_at;
    let near = &k.streams[at..at + n - 1 + width];
    let at = span.far * k.stride + base + span.far_at + 1 - n;
    let far = &k.streams[at..at + n - 1 + width];
    (near, far, n)
}

/// See [`Load`].
#[inline(always)]
fn deinterleave<const M: usize>(
    rows: &mut [f32],
    stride: usize,
    stream: usize,
    mut at: usize,
    input: &[i16],
) {
    if M == 1 {
        for (r, &x) in rows[at..at + input.len()].iter_mut().zip(input) {
            *r = f32::from(x);
        }
        return;
    }
    // Finish the frame the previous call started.
    let head = ((M - stream) % M).min(input.len());
    for (k, &x) in input[..head].iter().enumerate() {
        rows[(stream + k) * stride + at] = f32::from(x);
    }
    if head > 0 && stream + head == M {
        at += 1;
    }
    let frames = input[head..].chunks_exact(M);
    let count = frames.len();
    let whole = &input[head..head + count * M];
    for (s, row) in rows.chunks_exact_mut(stride).enumerate() {
        for (k, r) in row[at..at + count].iter_mut().enumerate() {
            *r = f32::from(whole[k * M + s]);
        }
    }
    at += count;
    for (s, &x) in frames.remainder().iter().enumerate() {
        rows[s * stride + at] = f32::from(x);
    }
}

/// [`deinterleave`] for any number of rows, one sample at a time.
fn deinterleave_any(rows: &mut [f32], stride: usize, stream: usize, at: usize, input: &[i16]) {
    let m = rows.len() / stride;
    let (mut s, mut at) = (stream, at);
    for &x in input {
        rows[s * stride + at] = f32::from(x);
        s += 1;
        if s == m {
            s = 0;
            at += 1;
        }
    }
}

/// Runs `$group` over the pass's vectors of `$width` lanes, `$P` at a time while they last,
/// then one group of what is left.
#[cfg(target_arch = "x86_64")]
macro_rules! by_vectors {
    ($k:ident, $width:expr, $P:ident, $group:ident::<$($c:ident),*>($($arg:expr),*)) => {{
        let vectors = $k.blocks * (LANES / $width);
        let mut v = 0;
        while v + $P <= vectors {
            $group::<$($c,)* $P>($k, $($arg,)* v);
            v += $P;
        }
        while v < vectors {
            v += match vectors - v {
                1 => {
                    $group::<$($c,)* 1>($k, $($arg,)* v);
                    1
                }
                2 => {
                    $group::<$($c,)* 2>($k, $($arg,)* v);
                    2
                }
                3 => {
                    $group::<$($c,)* 3>($k, $($arg,)* v);
                    3
                }
                _ => {
                    $group::<$($c,)* 4>($k, $($arg,)* v);
                    4
                }
            };
        }
    }};
}

/// Ends one vector's work on a tap: its multiply-adds are issued before this point and the
/// next vector's loads after it. Left to itself the compiler issues all of a group's loads up
/// front; its accumulators then no longer fit in the registers, and an accumulator spilled to
/// the stack stalls its multiply-add chain on every tap. `$class` is the register class of
/// the accumulators (`ymm_reg`, `zmm_reg`).
#[cfg(target_arch = "x86_64")]
macro_rules! settle {
    ($acc:expr, $class:ident) => {
        for a in $acc.iter_mut() {
            // SAFETY: an empty instruction sequence. To the compiler it reads and writes the
            // accumulator and may touch memory, which is what orders the code.
            unsafe {
                std::arch::asm!(
                    "/* {0} */",
                    inout($class) * a,
                    options(nostack, preserves_flags)
                )
            };
        }
    };
}

#[cfg(target_arch = "x86_64")]
use {by_vectors, settle};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Backend;

    /// Every loader, specialised or general, puts each sample in the same place.
    #[test]
    fn loaders_agree() {
        let input: Vec<i16> = (0..600).map(|v| v * 3 - 100).collect();
        for m in [1, 2, 3, 4, 6, 8, 12] {
            for stream in 0..m {
                let stride = 48;
                let mut expected = vec![0.0; m * stride];
                deinterleave_any(&mut expected, stride, stream, 5, &input[..m * 40 - stream]);
                for backend in Backend::available() {
                    let mut got = vec![0.0; m * stride];
                    load(backend.0, m).run(&mut got, stride, stream, 5, &input[..m * 40 - stream]);
                    assert_eq!(got, expected, "{backend:?} m={m} stream={stream}");
                }
            }
        }
    }
}
