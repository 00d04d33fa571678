//! The polyphase FIR kernel: the one hot loop of the resampler.
//!
//! Lanes run along consecutive outputs of one phase, so every lane performs exactly the same
//! sequence of multiply-adds as it would alone. That is what makes the resampler's output
//! independent of how its input is chunked: a block computed in a group of 64 lanes or of 16,
//! at the start of a call or in the middle, gives each output the same bits.
//!
//! To keep the multiply-add units busy even when few lanes are left, each lane's sum is split
//! into `Q` partial sums over consecutive quarters (or halves) of the taps, added at the end in
//! a fixed order; `Q` is fixed per backend and ratio, so the order never depends on chunking.
//!
//! x86-64 gets explicit AVX-512 and AVX2 versions, both with fused multiply-add, chosen at run
//! time; everything else runs a portable loop over fixed-size arrays that the compiler
//! vectorises for the baseline target. The explicit versions are 3 to 6 times faster than the
//! baseline (`cargo bench --bench audio -- backend`), which is what earns this crate's only
//! `unsafe`: unaligned vector loads and stores inside bounds-checked slices, and the call into
//! code compiled for features the CPU was checked to have.

/// Lanes per vector block: one 512-bit register, two 256-bit ones, four 128-bit ones.
pub(crate) const LANES: usize = 16;

/// The bank pads taps per stream to a multiple of this, so any `Q` up to it divides them.
pub(crate) const TAP_ALIGN: usize = 4;

/// Everything one kernel call reads and writes.
pub(crate) struct KernelArgs<'a> {
    /// Coefficients laid out `[stream][tap][phase]`, `L` values per tap.
    pub(crate) coeffs: &'a [f32],
    /// `m` input streams (the input deinterleaved by `M`), `stride` floats apart.
    pub(crate) streams: &'a [f32],
    pub(crate) stride: usize,
    pub(crate) m: usize,
    /// Taps per stream and phase, a multiple of [`TAP_ALIGN`].
    pub(crate) taps: usize,
    /// Position in each stream of the oldest sample the first lane reads.
    pub(crate) start: usize,
    /// Blocks of `LANES` consecutive input positions to compute.
    pub(crate) blocks: usize,
    /// `L` rows of `blocks * LANES` outputs, one row per phase: output `L*i + p` of the pass
    /// is `out[p * blocks * LANES + i]`.
    pub(crate) out: &'a mut [f32],
}

/// A kernel for one interpolation factor `L` on one instruction set.
pub(crate) type Kernel = fn(&mut KernelArgs<'_>);

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
    #[cfg(test)]
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

    /// The kernel for interpolation factor `l` (1, 2, 3, 4 or 6).
    ///
    /// `NB` blocks per group and `Q` partial sums are chosen so that a group keeps at least
    /// eight independent multiply-add chains in flight (two units, four cycles of latency)
    /// without running out of registers.
    pub(crate) fn kernel(self, l: usize) -> Kernel {
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
            Backend::Avx2 => match l {
                1 => x86::avx2::<1, 2, 2>,
                2 => x86::avx2::<2, 2, 1>,
                3 => x86::avx2::<3, 1, 1>,
                4 => x86::avx2::<4, 1, 1>,
                _ => x86::avx2::<6, 1, 1>,
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

/// The portable kernel: one block of `LANES` at a time, all `L` phases, one sum per lane.
fn portable<const L: usize>(k: &mut KernelArgs<'_>) {
    for block in 0..k.blocks {
        let mut acc = [[0.0f32; LANES]; L];
        let taps = k.taps;
        for stream in 0..k.m {
            let at = stream * k.stride + k.start + block * LANES;
            let row = &k.streams[at..at + taps - 1 + LANES];
            let coeffs = &k.coeffs[stream * taps * L..(stream + 1) * taps * L];
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
            k.out[p * rows + block * LANES..p * rows + (block + 1) * LANES].copy_from_slice(a);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    //! Explicit AVX-512 and AVX2 kernels. Every accumulator is a register: per tap and partial
    //! sum a group costs `NB` loads, `L` broadcasts and `L * NB` fused multiply-adds.

    use std::arch::x86_64::*;

    use super::{KernelArgs, LANES};

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
        let taps = k.taps;
        let part = taps / Q;
        let mut acc = [[[_mm512_setzero_ps(); Q]; NB]; L];
        for stream in 0..k.m {
            let at = stream * k.stride + k.start + first * LANES;
            let row = &k.streams[at..at + taps - 1 + NB * LANES];
            let coeffs = &k.coeffs[stream * taps * L..(stream + 1) * taps * L];
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
        for (p, a) in acc.iter().enumerate() {
            let out = &mut k.out[p * rows + first * LANES..p * rows + (first + NB) * LANES];
            for (nb, parts) in a.iter().enumerate() {
                let v = combine!(parts, _mm512_add_ps);
                // SAFETY: out holds NB * LANES floats; this writes LANES from nb * LANES.
                unsafe { _mm512_storeu_ps(out.as_mut_ptr().add(nb * LANES), v) };
            }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    fn avx2_body<const L: usize, const NB: usize, const Q: usize>(k: &mut KernelArgs<'_>) {
        debug_assert!(NB <= 4 && (Q == 1 || Q == 2 || Q == 4));
        cascade!(k, avx2_group, L, NB, Q);
    }

    /// As [`avx512_group`], with each block of `LANES` held in two 256-bit halves.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn avx2_group<const L: usize, const NB: usize, const Q: usize>(
        k: &mut KernelArgs<'_>,
        first: usize,
    ) {
        let taps = k.taps;
        let part = taps / Q;
        let mut acc = [[[[_mm256_setzero_ps(); 2]; Q]; NB]; L];
        for stream in 0..k.m {
            let at = stream * k.stride + k.start + first * LANES;
            let row = &k.streams[at..at + taps - 1 + NB * LANES];
            let coeffs = &k.coeffs[stream * taps * L..(stream + 1) * taps * L];
            for tap in 0..part {
                for q in 0..Q {
                    let t = q * part + tap;
                    let xs = &row[t..t + NB * LANES];
                    let c = &coeffs[t * L..t * L + L];
                    let mut x = [[_mm256_setzero_ps(); 2]; NB];
                    for (nb, v) in x.iter_mut().enumerate() {
                        // SAFETY: xs holds NB * LANES floats; these read 8 + 8 of them from
                        // offset nb * LANES, within bounds.
                        unsafe {
                            v[0] = _mm256_loadu_ps(xs.as_ptr().add(nb * LANES));
                            v[1] = _mm256_loadu_ps(xs.as_ptr().add(nb * LANES + 8));
                        }
                    }
                    for (a, &cp) in acc.iter_mut().zip(c) {
                        let cv = _mm256_set1_ps(cp);
                        for (a, xv) in a.iter_mut().zip(&x) {
                            a[q][0] = _mm256_fmadd_ps(xv[0], cv, a[q][0]);
                            a[q][1] = _mm256_fmadd_ps(xv[1], cv, a[q][1]);
                        }
                    }
                }
            }
        }
        let rows = k.out.len() / L;
        for (p, a) in acc.iter().enumerate() {
            let out = &mut k.out[p * rows + first * LANES..p * rows + (first + NB) * LANES];
            for (nb, parts) in a.iter().enumerate() {
                let lo = combine!(parts.map(|h| h[0]), _mm256_add_ps);
                let hi = combine!(parts.map(|h| h[1]), _mm256_add_ps);
                // SAFETY: out holds NB * LANES floats; these write 8 + 8 from nb * LANES.
                unsafe {
                    _mm256_storeu_ps(out.as_mut_ptr().add(nb * LANES), lo);
                    _mm256_storeu_ps(out.as_mut_ptr().add(nb * LANES + 8), hi);
                }
            }
        }
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

    pub(super) fn avx2<const L: usize, const NB: usize, const Q: usize>(k: &mut KernelArgs<'_>) {
        assert!(
            std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma"),
            "the AVX2 kernel is only selected on CPUs that have it"
        );
        // SAFETY: as above, for AVX2 and FMA.
        unsafe { avx2_body::<L, NB, Q>(k) }
    }
}
