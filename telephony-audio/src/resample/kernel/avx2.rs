//! The AVX2 kernels (with FMA), and the AVX2 input loader that the AVX-512 backend shares.
//! Every accumulator is a register; groups of `P` 8-lane vectors share each coefficient
//! broadcast.

#![allow(unsafe_code)]

use std::arch::x86_64::*;

use super::{Fold, KernelArgs, LANES, by_vectors, deinterleave, settle, span_rows};
use crate::cpu::Avx2;

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

/// The plain kernel: per tap and group, `P` loads, `L` broadcasts and `L * P` multiply-adds,
/// taps outside the bank's live range skipped.
#[target_feature(enable = "avx2,fma")]
fn plain_body<const L: usize, const P: usize>(k: &mut KernelArgs<'_>) {
    by_vectors!(k, 8, P, plain_group::<L>());
}

#[target_feature(enable = "avx2,fma")]
#[inline]
fn plain_group<const L: usize, const P: usize>(k: &mut KernelArgs<'_>, first: usize) {
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
                settle!(a, ymm_reg);
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

/// The folded kernel ([`Fold`]): per step and vector two loads, a sum and a difference, and
/// `L` multiply-adds for `2 L` taps.
#[target_feature(enable = "avx2,fma")]
fn folded_body<const L: usize, const P: usize>(k: &mut KernelArgs<'_>) {
    let fold = k.bank.fold.as_ref().expect("chosen for folded banks only");
    by_vectors!(k, 8, P, folded_group::<L>(fold));
}

#[target_feature(enable = "avx2,fma")]
#[inline]
fn folded_group<const L: usize, const P: usize>(k: &mut KernelArgs<'_>, fold: &Fold, first: usize) {
    let base = k.start + first * 8;
    // Per vector: for each pair of mirrored phases a half-sum and a half-difference, then the
    // middle phase of an odd L.
    let mut acc = [[_mm256_setzero_ps(); L]; P];
    let mut coeffs = fold.coeffs.chunks_exact(L);
    for span in &fold.spans {
        let (near, far, n) = span_rows(k, span, base, P * 8);
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
                settle!(a, ymm_reg);
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
            store8(
                &mut k.out[(L - 1 - j) * rows + col..],
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
        // Each 128-bit half of v holds a frame: gather frames 0-3 in the low halves and 4-7 in
        // the high ones, then transpose 4 x 4 within each half.
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
        // Three 128-bit quarters hold two frames: gather frame pairs 0 and 2 in the halves of
        // (w0, w1, w2), pairs 1 and 3 in those of (w3, w4, w5); pick each stream's two samples
        // of a pair, then interleave the pairs.
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
    _cpu: Avx2,
    rows: &mut [f32],
    stride: usize,
    stream: usize,
    at: usize,
    input: &[i16],
) {
    // SAFETY: `load_body` is compiled for AVX2, which this CPU runs: `_cpu` is an `Avx2`, which
    // only the CPU check in `cpu.rs` creates, once it has seen AVX2 and FMA.
    unsafe { load_body::<M>(rows, stride, stream, at, input) }
}

/// The plain kernel, on a CPU that `_cpu` proves runs AVX2 and FMA.
pub(super) fn plain<const L: usize, const P: usize>(_cpu: Avx2, k: &mut KernelArgs<'_>) {
    // SAFETY: `plain_body` is compiled for AVX2 and FMA, which this CPU runs: `_cpu` is an
    // `Avx2`, which only the CPU check in `cpu.rs` creates, once it has seen both.
    unsafe { plain_body::<L, P>(k) }
}

/// The folded kernel, on a CPU that `_cpu` proves runs AVX2 and FMA.
pub(super) fn folded<const L: usize, const P: usize>(_cpu: Avx2, k: &mut KernelArgs<'_>) {
    // SAFETY: `folded_body` is compiled for AVX2 and FMA, which this CPU runs: `_cpu` is an
    // `Avx2`, which only the CPU check in `cpu.rs` creates, once it has seen both.
    unsafe { folded_body::<L, P>(k) }
}
