//! The AVX-512 kernels (AVX-512F with FMA). A vector is one block of [`LANES`] outputs.
//!
//! The plain kernel splits each lane's sum into `Q` partial sums over consecutive quarters (or
//! halves) of the taps, added at the end in a fixed order, to keep the multiply-add units busy
//! when few blocks are left; `Q` is fixed per ratio, so the order never depends on chunking.
//! The folded kernel is the AVX2 one on vectors twice as wide: the same operations on each
//! lane, in the same order, so the two agree bit for bit.

#![allow(unsafe_code)]

use std::arch::x86_64::*;

use super::{Fold, KernelArgs, LANES, by_vectors, settle, span_rows};
use crate::cpu::Avx512;

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

/// Sixteen floats from memory.
#[target_feature(enable = "avx512f")]
#[inline]
fn load16(x: &[f32; LANES]) -> __m512 {
    // SAFETY: x is sixteen floats, the 64 bytes this reads.
    unsafe { _mm512_loadu_ps(x.as_ptr()) }
}

/// Vector `p` of a slice of `P` vectors.
#[target_feature(enable = "avx512f")]
#[inline]
fn vector(xs: &[f32], p: usize) -> __m512 {
    load16(
        xs[p * LANES..(p + 1) * LANES]
            .try_into()
            .expect("sixteen floats"),
    )
}

/// Rounds sixteen sums to nearest (ties to even: the default mode) and stores them as int16,
/// saturated by the narrowing. The sums are far inside the 32-bit range (see the AVX2
/// kernel's `store8`), so the conversion itself never overflows.
#[target_feature(enable = "avx512f")]
#[inline]
fn store16(out: &mut [i16], v: __m512) {
    let out: &mut [i16; LANES] = (&mut out[..LANES]).try_into().expect("sixteen samples");
    let words = _mm512_cvtsepi32_epi16(_mm512_cvtps_epi32(v));
    // SAFETY: out is sixteen samples, the 32 bytes this writes.
    unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), words) };
}

/// The plain kernel: per tap and partial sum a group costs `NB` loads, `L` broadcasts and
/// `L * NB` fused multiply-adds.
#[target_feature(enable = "avx512f,fma")]
fn plain_body<const L: usize, const NB: usize, const Q: usize>(k: &mut KernelArgs<'_>) {
    debug_assert!(NB <= 4 && (Q == 1 || Q == 2 || Q == 4));
    cascade!(k, plain_group, L, NB, Q);
}

#[target_feature(enable = "avx512f,fma")]
#[inline]
fn plain_group<const L: usize, const NB: usize, const Q: usize>(
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
                let x: [__m512; NB] = std::array::from_fn(|nb| vector(xs, nb));
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
        for (nb, parts) in a.iter().enumerate() {
            let v = combine!(parts, _mm512_add_ps);
            let v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
            store16(&mut k.out[p * rows + (first + nb) * LANES..], v);
        }
    }
}

/// The folded kernel ([`Fold`]): per step and vector two loads, a sum and a difference, and
/// `L` multiply-adds for `2 L` taps.
#[target_feature(enable = "avx512f,fma")]
fn folded_body<const L: usize, const P: usize>(k: &mut KernelArgs<'_>) {
    let fold = k.bank.fold.as_ref().expect("chosen for folded banks only");
    by_vectors!(k, LANES, P, folded_group::<L>(fold));
}

#[target_feature(enable = "avx512f,fma")]
#[inline]
fn folded_group<const L: usize, const P: usize>(k: &mut KernelArgs<'_>, fold: &Fold, first: usize) {
    let base = k.start + first * LANES;
    // Per vector: for each pair of mirrored phases a half-sum and a half-difference, then the
    // middle phase of an odd L.
    let mut acc = [[_mm512_setzero_ps(); L]; P];
    let mut coeffs = fold.coeffs.chunks_exact(L);
    for span in &fold.spans {
        let (near, far, n) = span_rows(k, span, base, P * LANES);
        for (step, c) in (&mut coeffs).take(n).enumerate() {
            let xs = &near[step..step + P * LANES];
            let ys = &far[n - 1 - step..n - 1 - step + P * LANES];
            let cv: [__m512; L] = std::array::from_fn(|i| _mm512_set1_ps(c[i]));
            for (p, a) in acc.iter_mut().enumerate() {
                let (x, y) = (vector(xs, p), vector(ys, p));
                let (sum, diff) = (_mm512_add_ps(x, y), _mm512_sub_ps(x, y));
                for j in 0..L / 2 {
                    a[2 * j] = _mm512_fmadd_ps(sum, cv[2 * j], a[2 * j]);
                    a[2 * j + 1] = _mm512_fmadd_ps(diff, cv[2 * j + 1], a[2 * j + 1]);
                }
                if L % 2 == 1 {
                    a[L - 1] = _mm512_fmadd_ps(sum, cv[L - 1], a[L - 1]);
                }
                settle!(a, zmm_reg);
            }
        }
    }
    let rows = k.out.len() / L;
    for (p, a) in acc.iter().enumerate() {
        let col = (first + p) * LANES;
        for j in 0..L / 2 {
            let (half_sum, half_diff) = (a[2 * j], a[2 * j + 1]);
            store16(
                &mut k.out[j * rows + col..],
                _mm512_add_ps(half_sum, half_diff),
            );
            store16(
                &mut k.out[(L - 1 - j) * rows + col..],
                _mm512_sub_ps(half_sum, half_diff),
            );
        }
        if L % 2 == 1 {
            store16(&mut k.out[L / 2 * rows + col..], a[L - 1]);
        }
    }
}

/// The plain kernel, on a CPU that `_cpu` proves runs AVX-512F and FMA.
pub(super) fn plain<const L: usize, const NB: usize, const Q: usize>(
    _cpu: Avx512,
    k: &mut KernelArgs<'_>,
) {
    // SAFETY: `plain_body` is compiled for AVX-512F and FMA, which this CPU runs: `_cpu` is an
    // `Avx512`, which only the CPU check in `cpu.rs` creates, once it has seen them.
    unsafe { plain_body::<L, NB, Q>(k) }
}

/// The folded kernel, on a CPU that `_cpu` proves runs AVX-512F and FMA.
pub(super) fn folded<const L: usize, const P: usize>(_cpu: Avx512, k: &mut KernelArgs<'_>) {
    // SAFETY: `folded_body` is compiled for AVX-512F and FMA, which this CPU runs: `_cpu` is an
    // `Avx512`, which only the CPU check in `cpu.rs` creates, once it has seen them.
    unsafe { folded_body::<L, P>(k) }
}
