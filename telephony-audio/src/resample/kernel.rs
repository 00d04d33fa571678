//! The polyphase FIR kernels: the one hot loop of the resampler.
//!
//! Lanes run along consecutive outputs of one phase, so every lane performs exactly the same
//! sequence of multiply-adds as it would alone. That is what makes the resampler's output
//! independent of how its input is chunked: a block computed in a group of 64 lanes or of 8,
//! at the start of a call or in the middle, gives each output the same bits.
//!
//! To keep the multiply-add units busy even when few lanes are left, the AVX-512 kernel splits
//! each lane's sum into `Q` partial sums over consecutive quarters (or halves) of the taps,
//! added at the end in a fixed order; `Q` is fixed per backend and ratio, so the order never
//! depends on chunking. The AVX2 kernels instead work on groups of several 8-lane vectors.
//!
//! A linear-phase (high-quality) bank is run folded on AVX2 (see [`Fold`]): the two inputs of
//! each pair of taps that share a coefficient are added (and subtracted) first, which halves
//! the multiply-adds.
//!
//! x86-64 gets explicit AVX-512 and AVX2 versions, both with fused multiply-add, chosen at run
//! time; everything else runs a portable loop over fixed-size arrays that the compiler
//! vectorises for the baseline target. The explicit versions are 3 to 6 times faster than the
//! baseline (`cargo bench --bench audio -- backend`), which is what earns this crate's only
//! `unsafe`: unaligned vector loads and stores inside bounds-checked slices, empty `asm!`
//! statements that order the AVX2 code (see `settle!`), and the call into code compiled for
//! features the CPU was checked to have.

use super::bank::{Bank, Fold};

/// Lanes per vector block: one 512-bit register, two 256-bit ones, four 128-bit ones.
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
    pub(crate) out: &'a mut [i16],
}

/// The filter for one bank on one instruction set.
pub(crate) type Fir = fn(&mut KernelArgs<'_>);

/// Writes input samples as floats into `M` rows of `stride`: sample `k` to row
/// `(stream + k) % M`, starting at position `at`, each row advancing after row `M - 1`.
pub(crate) type Load = fn(rows: &mut [f32], stride: usize, stream: usize, at: usize, input: &[i16]);

/// The instruction set the kernels run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// x86-64 with AVX-512F and FMA.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    Avx512,
    /// x86-64 with AVX2 and FMA.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    Avx2,
    /// Whatever the compilation target guarantees (SSE2 on x86-64, NEON on aarch64).
    Portable,
}

impl Backend {
    /// The fastest backend this CPU runs.
    pub(crate) fn detect() -> Backend {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Backend::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Backend::Avx2;
            }
        }
        Backend::Portable
    }

    /// Every backend this CPU runs, fastest first.
    pub(crate) fn available() -> Vec<Backend> {
        let mut all = vec![Backend::detect()];
        #[cfg(target_arch = "x86_64")]
        if all[0] == Backend::Avx512 && std::arch::is_x86_feature_detected!("avx2") {
            all.push(Backend::Avx2);
        }
        if all[0] != Backend::Portable {
            all.push(Backend::Portable);
        }
        all
    }

    /// The input loader for `m` streams: 1, 2, 3, 4 or 6, or 4, 6, 8 or 12 for decimators
    /// (see `Bank`); any other count takes a slower general path.
    pub(crate) fn load(self, m: usize) -> Load {
        match self {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 | Backend::Avx2 => match m {
                1 => x86::load::<1>,
                2 => x86::load::<2>,
                3 => x86::load::<3>,
                4 => x86::load::<4>,
                6 => x86::load::<6>,
                8 => x86::load::<8>,
                12 => x86::load::<12>,
                _ => deinterleave_any,
            },
            _ => match m {
                1 => deinterleave::<1>,
                2 => deinterleave::<2>,
                3 => deinterleave::<3>,
                4 => deinterleave::<4>,
                6 => deinterleave::<6>,
                8 => deinterleave::<8>,
                12 => deinterleave::<12>,
                _ => deinterleave_any,
            },
        }
    }

    /// The filter for a bank: interpolation factor `l` 1, 2, 3, 4 or 6.
    ///
    /// The AVX-512 kernel takes `NB` blocks per group and `Q` partial sums, chosen so that a
    /// group keeps at least eight independent multiply-add chains in flight (two units, four
    /// cycles of latency) without running out of registers. The AVX2 kernels work in groups of
    /// `P` 8-lane vectors, for the same reason; on a linear-phase bank they run folded (see
    /// [`Fold`]), half the multiply-adds.
    pub(crate) fn fir(self, bank: &Bank) -> Fir {
        let l = bank.l;
        if self != Backend::Avx2 || bank.fold.is_none() {
            // Built now rather than in the first `process`.
            bank.coeffs();
        }
        match self {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 => match l {
                1 => x86::avx512::<1, 4, 4>,
                2 => x86::avx512::<2, 4, 2>,
                3 => x86::avx512::<3, 2, 2>,
                4 => x86::avx512::<4, 2, 1>,
                _ => x86::avx512::<6, 2, 1>,
            },
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => match (bank.fold.is_some(), l) {
                (true, 2) => x86::avx2_folded::<2, 5>,
                (true, 3) => x86::avx2_folded::<3, 3>,
                (true, 4) => x86::avx2_folded::<4, 2>,
                (true, 6) => x86::avx2_folded::<6, 1>,
                (_, 1) => x86::avx2::<1, 4>,
                (_, 2) => x86::avx2::<2, 5>,
                (_, 3) => x86::avx2::<3, 4>,
                (_, 4) => x86::avx2::<4, 2>,
                _ => x86::avx2::<6, 2>,
            },
            _ => match l {
                1 => portable::<1>,
                2 => portable::<2>,
                3 => portable::<3>,
                4 => portable::<4>,
                _ => portable::<6>,
            },
        }
    }
}

/// Fused multiply-add where the target always has it (aarch64), separate otherwise: a
/// software `fmaf` would be far slower than the two instructions.
const PORTABLE_FMA: bool = cfg!(any(target_arch = "aarch64", target_feature = "fma"));

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

/// Rounds to nearest, ties to even, and saturates; the values here are never NaN.
#[inline(always)]
fn round_saturate(v: f32) -> i16 {
    // Adding and subtracting 1.5 * 2^23 rounds a float below 2^22 in magnitude to an integer.
    const ROUND: f32 = 12_582_912.0;
    ((v + ROUND) - ROUND).clamp(-32768.0, 32767.0) as i16
}

/// The portable kernel: one block of `LANES` at a time, all `L` phases, one sum per lane.
fn portable<const L: usize>(k: &mut KernelArgs<'_>) {
    let (all, taps, m) = (k.bank.coeffs(), k.bank.taps, k.bank.m);
    for block in 0..k.blocks {
        let mut acc = [[0.0f32; LANES]; L];
        for stream in 0..m {
            let at = stream * k.stride + k.start + block * LANES;
            let row = &k.streams[at..at + taps - 1 + LANES];
            let coeffs = &all[stream * taps * L..(stream + 1) * taps * L];
            for (tap, c) in coeffs.chunks_exact(L).enumerate() {
                let x: &[f32; LANES] = row[tap..tap + LANES].try_into().expect("LANES floats");
                for (a, &cp) in acc.iter_mut().zip(c) {
                    for w in 0..LANES {
                        a[w] = if PORTABLE_FMA {
                            x[w].mul_add(cp, a[w])
                        } else {
                            x[w] * cp + a[w]
                        };
                    }
                }
            }
        }
        let rows = k.out.len() / L;
        for (p, a) in acc.iter().enumerate() {
            let out = &mut k.out[p * rows + block * LANES..p * rows + (block + 1) * LANES];
            for (o, &v) in out.iter_mut().zip(a) {
                *o = round_saturate(v);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    //! Explicit AVX-512 and AVX2 kernels. Every accumulator is a register: per tap and partial
    //! sum a group costs `NB` loads, `L` broadcasts and `L * NB` fused multiply-adds.

    use std::arch::x86_64::*;

    use super::{Fold, KernelArgs, LANES, deinterleave};

    /// Runs groups of `NB` blocks while they last, then halves of that for the rest.
    macro_rules! cascade {
        ($k:ident, $group:ident, $L:ident, $NB:ident, $Q:ident) => {{
            let mut block = 0;
            while block + $NB <= $k.blocks {
                $group::<$L, $NB, $Q>($k, block);
                block += $NB;
            }
            if $NB > 2 && block + 2 <= $k.blocks {
                $group::<$L, 2, $Q>($k, block);
                block += 2;
            }
            if $NB > 1 && block < $k.blocks {
                $group::<$L, 1, $Q>($k, block);
            }
        }};
    }

    /// The sum of `Q` partial sums, in a fixed tree order.
    macro_rules! combine {
        ($parts:expr, $add:ident) => {{
            let p = $parts;
            match p.len() {
                1 => p[0],
                2 => $add(p[0], p[1]),
                _ => $add($add(p[0], p[1]), $add(p[2], p[3])),
            }
        }};
    }

    #[target_feature(enable = "avx512f,fma")]
    fn avx512_body<const L: usize, const NB: usize, const Q: usize>(k: &mut KernelArgs<'_>) {
        debug_assert!(NB <= 4 && (Q == 1 || Q == 2 || Q == 4));
        cascade!(k, avx512_group, L, NB, Q);
    }

    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    fn avx512_group<const L: usize, const NB: usize, const Q: usize>(
        k: &mut KernelArgs<'_>,
        first: usize,
    ) {
        let (all, taps) = (k.bank.coeffs(), k.bank.taps);
        let part = taps / Q;
        let mut acc = [[[_mm512_setzero_ps(); Q]; NB]; L];
        for stream in 0..k.bank.m {
            let at = stream * k.stride + k.start + first * LANES;
            let row = &k.streams[at..at + taps - 1 + NB * LANES];
            let coeffs = &all[stream * taps * L..(stream + 1) * taps * L];
            for tap in 0..part {
                for q in 0..Q {
                    let t = q * part + tap;
                    let xs = &row[t..t + NB * LANES];
                    let c = &coeffs[t * L..t * L + L];
                    let mut x = [_mm512_setzero_ps(); NB];
                    for (nb, v) in x.iter_mut().enumerate() {
                        // SAFETY: xs holds NB * LANES floats; this reads LANES of them from
                        // offset nb * LANES, within bounds.
                        *v = unsafe { _mm512_loadu_ps(xs.as_ptr().add(nb * LANES)) };
                    }
                    for (a, &cp) in acc.iter_mut().zip(c) {
                        let cv = _mm512_set1_ps(cp);
                        for (a, &xv) in a.iter_mut().zip(&x) {
                            a[q] = _mm512_fmadd_ps(xv, cv, a[q]);
                        }
                    }
                }
            }
        }
        let rows = k.out.len() / L;
        let (lo, hi) = (_mm512_set1_ps(-32768.0), _mm512_set1_ps(32767.0));
        for (p, a) in acc.iter().enumerate() {
            let out = &mut k.out[p * rows + first * LANES..p * rows + (first + NB) * LANES];
            for (nb, parts) in a.iter().enumerate() {
                let v = combine!(parts, _mm512_add_ps);
                // Round to nearest even (the default mode), then narrow with saturation.
                let v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
                let words = _mm512_cvtsepi32_epi16(_mm512_cvtps_epi32(v));
                // SAFETY: out holds NB * LANES samples; this writes LANES from nb * LANES.
                unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(nb * LANES).cast(), words) };
            }
        }
    }

    /// Runs `$group` over the pass's 8-lane vectors, `$P` at a time while they last, then one
    /// group of what is left.
    macro_rules! by_vectors {
        ($k:ident, $P:ident, $group:ident::<$($c:ident),*>($($arg:expr),*)) => {{
            let vectors = $k.blocks * (LANES / 8);
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
    /// next vector's loads after it. Left to itself the compiler issues all of a group's loads
    /// up front; its accumulators then no longer fit in the 16 registers, and an accumulator
    /// spilled to the stack stalls its multiply-add chain on every tap.
    macro_rules! settle {
        ($acc:expr) => {
            for a in $acc.iter_mut() {
                // SAFETY: an empty instruction sequence. To the compiler it reads and writes
                // the accumulator and may touch memory, which is what orders the code.
                unsafe {
                    std::arch::asm!(
                        "/* {0} */",
                        inout(ymm_reg) * a,
                        options(nostack, preserves_flags)
                    )
                };
            }
        };
    }

    /// Eight floats from memory.
    #[target_feature(enable = "avx")]
    #[inline]
    fn load8(x: &[f32; 8]) -> __m256 {
        // SAFETY: x is eight floats, the 32 bytes this reads.
        unsafe { _mm256_loadu_ps(x.as_ptr()) }
    }

    /// Vector `p` of a slice of `P` vectors.
    #[target_feature(enable = "avx")]
    #[inline]
    fn vector(xs: &[f32], p: usize) -> __m256 {
        load8(xs[p * 8..p * 8 + 8].try_into().expect("eight floats"))
    }

    /// Rounds eight sums to nearest (ties to even: the default mode) and stores them as int16,
    /// saturated by the pack. The sums are far inside the 32-bit range (at most 32768 times a
    /// phase's absolute coefficient sum, a few units), so the conversion itself never overflows.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn store8(out: &mut [i16], v: __m256) {
        let out: &mut [i16; 8] = (&mut out[..8]).try_into().expect("eight samples");
        let w = _mm256_cvtps_epi32(v);
        let w = _mm_packs_epi32(_mm256_castsi256_si128(w), _mm256_extracti128_si256::<1>(w));
        // SAFETY: out is eight samples, the 16 bytes this writes.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), w) };
    }

    /// The plain AVX2 kernel: per tap and group, `P` loads, `L` broadcasts and `L * P`
    /// multiply-adds, taps outside the bank's live range skipped.
    #[target_feature(enable = "avx2,fma")]
    fn avx2_body<const L: usize, const P: usize>(k: &mut KernelArgs<'_>) {
        by_vectors!(k, P, avx2_group::<L>());
    }

    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn avx2_group<const L: usize, const P: usize>(k: &mut KernelArgs<'_>, first: usize) {
        let (bank, all) = (k.bank, k.bank.coeffs());
        let taps = bank.taps;
        let mut acc = [[_mm256_setzero_ps(); L]; P];
        for (stream, &(lo, hi)) in bank.live.iter().enumerate() {
            let at = stream * k.stride + k.start + first * 8;
            let row = &k.streams[at..at + taps - 1 + P * 8];
            let coeffs = &all[stream * taps * L..(stream + 1) * taps * L];
            for t in lo..hi {
                let xs = &row[t..t + P * 8];
                let c = &coeffs[t * L..t * L + L];
                let cv: [__m256; L] = std::array::from_fn(|i| _mm256_set1_ps(c[i]));
                for (p, a) in acc.iter_mut().enumerate() {
                    let x = vector(xs, p);
                    for (a, &cv) in a.iter_mut().zip(&cv) {
                        *a = _mm256_fmadd_ps(x, cv, *a);
                    }
                    settle!(a);
                }
            }
        }
        let rows = k.out.len() / L;
        for (p, a) in acc.iter().enumerate() {
            for (ph, &v) in a.iter().enumerate() {
                store8(&mut k.out[ph * rows + (first + p) * 8..], v);
            }
        }
    }

    /// The folded kernel ([`Fold`]): per step and vector two loads, a sum and a difference,
    /// and `L` multiply-adds for `2 L` taps.
    #[target_feature(enable = "avx2,fma")]
    fn avx2_folded_body<const L: usize, const P: usize>(k: &mut KernelArgs<'_>) {
        let fold = k.bank.fold.as_ref().expect("chosen for folded banks only");
        by_vectors!(k, P, avx2_folded_group::<L>(fold));
    }

    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn avx2_folded_group<const L: usize, const P: usize>(
        k: &mut KernelArgs<'_>,
        fold: &Fold,
        first: usize,
    ) {
        let base = k.start + first * 8;
        // Per vector: for each pair of mirrored phases a half-sum and a half-difference, then
        // the middle phase of an odd L.
        let mut acc = [[_mm256_setzero_ps(); L]; P];
        let mut coeffs = fold.coeffs.chunks_exact(L);
        for span in &fold.spans {
            let n = span.steps;
            let at = span.near * k.stride + base + span.near_at;
            let near = &k.streams[at..at + n - 1 + P * 8];
            let at = span.far * k.stride + base + span.far_at + 1 - n;
            let far = &k.streams[at..at + n - 1 + P * 8];
            for (step, c) in (&mut coeffs).take(n).enumerate() {
                let xs = &near[step..step + P * 8];
                let ys = &far[n - 1 - step..n - 1 - step + P * 8];
                let cv: [__m256; L] = std::array::from_fn(|i| _mm256_set1_ps(c[i]));
                for (p, a) in acc.iter_mut().enumerate() {
                    let (x, y) = (vector(xs, p), vector(ys, p));
                    let (sum, diff) = (_mm256_add_ps(x, y), _mm256_sub_ps(x, y));
                    for j in 0..L / 2 {
                        a[2 * j] = _mm256_fmadd_ps(sum, cv[2 * j], a[2 * j]);
                        a[2 * j + 1] = _mm256_fmadd_ps(diff, cv[2 * j + 1], a[2 * j + 1]);
                    }
                    if L % 2 == 1 {
                        a[L - 1] = _mm256_fmadd_ps(sum, cv[L - 1], a[L - 1]);
                    }
                    settle!(a);
                }
            }
        }
        let rows = k.out.len() / L;
        for (p, a) in acc.iter().enumerate() {
            let col = (first + p) * 8;
            for j in 0..L / 2 {
                let (half_sum, half_diff) = (a[2 * j], a[2 * j + 1]);
                store8(
                    &mut k.out[j * rows + col..],
                    _mm256_add_ps(half_sum, half_diff),
                );
                let mirror = L - 1 - j;
                store8(
                    &mut k.out[mirror * rows + col..],
                    _mm256_sub_ps(half_sum, half_diff),
                );
            }
            if L % 2 == 1 {
                store8(&mut k.out[L / 2 * rows + col..], a[L - 1]);
            }
        }
    }

    /// Eight samples as floats.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn samples8(x: &[i16]) -> __m256 {
        let x: &[i16; 8] = x[..8].try_into().expect("eight samples");
        // SAFETY: x is eight samples, the 16 bytes this reads.
        let w = unsafe { _mm_loadu_si128(x.as_ptr().cast()) };
        _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(w))
    }

    /// Stores eight floats.
    #[target_feature(enable = "avx")]
    #[inline]
    fn put8(out: &mut [f32], v: __m256) {
        let out: &mut [f32; 8] = (&mut out[..8]).try_into().expect("eight floats");
        // SAFETY: out is eight floats, the 32 bytes this writes.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr(), v) };
    }

    /// Eight frames of `M` samples (`M` = 4 or 6) to eight positions of each of `M` rows.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn transpose8<const M: usize>(rows: &mut [f32], stride: usize, at: usize, frames: &[i16]) {
        let v: [__m256; M] = std::array::from_fn(|i| samples8(&frames[8 * i..]));
        let mut out = [_mm256_setzero_ps(); M];
        if M == 4 {
            // Each 128-bit half of v holds a frame: gather frames 0-3 in the low halves and 4-7
            // in the high ones, then transpose 4 x 4 within each half.
            let f0 = _mm256_permute2f128_ps::<0x20>(v[0], v[2]);
            let f1 = _mm256_permute2f128_ps::<0x31>(v[0], v[2]);
            let f2 = _mm256_permute2f128_ps::<0x20>(v[1], v[3]);
            let f3 = _mm256_permute2f128_ps::<0x31>(v[1], v[3]);
            let (t0, t1) = (_mm256_unpacklo_ps(f0, f1), _mm256_unpackhi_ps(f0, f1));
            let (t2, t3) = (_mm256_unpacklo_ps(f2, f3), _mm256_unpackhi_ps(f2, f3));
            out[0] = _mm256_shuffle_ps::<0x44>(t0, t2);
            out[1] = _mm256_shuffle_ps::<0xEE>(t0, t2);
            out[2] = _mm256_shuffle_ps::<0x44>(t1, t3);
            out[3] = _mm256_shuffle_ps::<0xEE>(t1, t3);
        } else {
            // Three 128-bit quarters hold two frames: gather frame pairs 0 and 2 in the halves
            // of (w0, w1, w2), pairs 1 and 3 in those of (w3, w4, w5); pick each stream's two
            // samples of a pair, then interleave the pairs.
            let w0 = _mm256_permute2f128_ps::<0x20>(v[0], v[3]);
            let w1 = _mm256_permute2f128_ps::<0x31>(v[0], v[3]);
            let w2 = _mm256_permute2f128_ps::<0x20>(v[1], v[4]);
            let w3 = _mm256_permute2f128_ps::<0x31>(v[1], v[4]);
            let w4 = _mm256_permute2f128_ps::<0x20>(v[2], v[5]);
            let w5 = _mm256_permute2f128_ps::<0x31>(v[2], v[5]);
            let pick = |a, b, c| {
                (
                    _mm256_shuffle_ps::<0xE4>(a, b),
                    _mm256_shuffle_ps::<0x4E>(a, c),
                    _mm256_shuffle_ps::<0xE4>(b, c),
                )
            };
            let (p01, p23, p45) = pick(w0, w1, w2);
            let (q01, q23, q45) = pick(w3, w4, w5);
            out[0] = _mm256_shuffle_ps::<0x88>(p01, q01);
            out[1] = _mm256_shuffle_ps::<0xDD>(p01, q01);
            out[2] = _mm256_shuffle_ps::<0x88>(p23, q23);
            out[3] = _mm256_shuffle_ps::<0xDD>(p23, q23);
            out[4] = _mm256_shuffle_ps::<0x88>(p45, q45);
            out[5] = _mm256_shuffle_ps::<0xDD>(p45, q45);
        }
        for (s, &o) in out.iter().enumerate() {
            put8(&mut rows[s * stride + at..], o);
        }
    }

    #[target_feature(enable = "avx2")]
    fn load_body<const M: usize>(
        rows: &mut [f32],
        stride: usize,
        stream: usize,
        mut at: usize,
        mut input: &[i16],
    ) {
        if M == 4 || M == 6 {
            let head = (M - stream) % M;
            if input.len() >= head + 8 * M {
                // Finish the frame the previous call started; whole frames from there on.
                deinterleave::<M>(rows, stride, stream, at, &input[..head]);
                at += usize::from(head > 0);
                input = &input[head..];
                let mut blocks = input.chunks_exact(8 * M);
                for block in &mut blocks {
                    transpose8::<M>(rows, stride, at, block);
                    at += 8;
                }
                input = blocks.remainder();
                return deinterleave::<M>(rows, stride, 0, at, input);
            }
        }
        deinterleave::<M>(rows, stride, stream, at, input);
    }

    /// [`deinterleave`] compiled for AVX2, which both x86 backends have, with whole frames
    /// transposed eight at a time for `M` = 4 and 6.
    pub(super) fn load<const M: usize>(
        rows: &mut [f32],
        stride: usize,
        stream: usize,
        at: usize,
        input: &[i16],
    ) {
        assert!(
            std::arch::is_x86_feature_detected!("avx2"),
            "the AVX2 loader is only selected on CPUs that have it"
        );
        // SAFETY: compiled for AVX2, which this CPU has (checked above).
        unsafe { load_body::<M>(rows, stride, stream, at, input) }
    }

    pub(super) fn avx512<const L: usize, const NB: usize, const Q: usize>(k: &mut KernelArgs<'_>) {
        assert!(
            std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("fma"),
            "the AVX-512 kernel is only selected on CPUs that have it"
        );
        // SAFETY: the function is compiled for AVX-512F and FMA, which this CPU has (checked
        // above; the check is a cached load).
        unsafe { avx512_body::<L, NB, Q>(k) }
    }

    /// Checks that the CPU has AVX2 and FMA, which every kernel below is compiled for.
    fn assert_avx2() {
        assert!(
            std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma"),
            "the AVX2 kernels are only selected on CPUs that have it"
        );
    }

    pub(super) fn avx2<const L: usize, const P: usize>(k: &mut KernelArgs<'_>) {
        assert_avx2();
        // SAFETY: compiled for AVX2 and FMA, which this CPU has (checked above).
        unsafe { avx2_body::<L, P>(k) }
    }

    pub(super) fn avx2_folded<const L: usize, const P: usize>(k: &mut KernelArgs<'_>) {
        assert_avx2();
        // SAFETY: as above.
        unsafe { avx2_folded_body::<L, P>(k) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                    (backend.load(m))(&mut got, stride, stream, 5, &input[..m * 40 - stream]);
                    assert_eq!(got, expected, "{backend:?} m={m} stream={stream}");
                }
            }
        }
    }
}
