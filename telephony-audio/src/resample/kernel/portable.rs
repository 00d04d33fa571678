//! The portable kernels: one block of [`LANES`] outputs per phase at a time, in fixed-size
//! arrays the compiler vectorises for whatever the target guarantees.

use super::{KernelArgs, LANES, span_rows};

/// Fused multiply-add where the target always has it (aarch64), separate otherwise: a
/// software `fmaf` would be far slower than the two instructions.
const FMA: bool = cfg!(any(target_arch = "aarch64", target_feature = "fma"));

/// `acc[w] += x[w] * c` for every lane.
#[inline(always)]
fn multiply_add(acc: &mut [f32; LANES], x: &[f32; LANES], c: f32) {
    for (a, &x) in acc.iter_mut().zip(x) {
        *a = if FMA { x.mul_add(c, *a) } else { x * c + *a };
    }
}

/// `LANES` floats of a slice, from `at`.
#[inline(always)]
fn lanes(row: &[f32], at: usize) -> &[f32; LANES] {
    row[at..at + LANES].try_into().expect("LANES floats")
}

/// Rounds to nearest, ties to even, and saturates; the values here are never NaN.
#[inline(always)]
fn round_saturate(v: f32) -> i16 {
    // Adding and subtracting 1.5 * 2^23 rounds a float below 2^22 in magnitude to an integer.
    const ROUND: f32 = 12_582_912.0;
    ((v + ROUND) - ROUND).clamp(-32768.0, 32767.0) as i16
}

/// Writes one block's sums, phase `p` to row `p` of the pass's output.
#[inline(always)]
fn store<const L: usize>(k: &mut KernelArgs<'_>, block: usize, phases: &[[f32; LANES]; L]) {
    let rows = k.out.len() / L;
    for (p, a) in phases.iter().enumerate() {
        let out = &mut k.out[p * rows + block * LANES..p * rows + (block + 1) * LANES];
        for (o, &v) in out.iter_mut().zip(a) {
            *o = round_saturate(v);
        }
    }
}

/// The plain kernel: every tap of every stream, all `L` phases, one sum per lane.
pub(super) fn plain<const L: usize>(k: &mut KernelArgs<'_>) {
    let (all, taps, m) = (k.bank.coeffs(), k.bank.taps, k.bank.m);
    for block in 0..k.blocks {
        let mut acc = [[0.0f32; LANES]; L];
        for stream in 0..m {
            let at = stream * k.stride + k.start + block * LANES;
            let row = &k.streams[at..at + taps - 1 + LANES];
            let coeffs = &all[stream * taps * L..(stream + 1) * taps * L];
            for (tap, c) in coeffs.chunks_exact(L).enumerate() {
                let x = lanes(row, tap);
                for (a, &cp) in acc.iter_mut().zip(c) {
                    multiply_add(a, x, cp);
                }
            }
        }
        store(k, block, &acc);
    }
}

/// The folded kernel ([`Fold`](super::Fold)): per step a sum and a difference of the two
/// mirrored inputs, and `L` multiply-adds for `2 L` taps. Accumulators: for each pair of
/// mirrored phases a half-sum and a half-difference, then the middle phase of an odd `L`.
pub(super) fn folded<const L: usize>(k: &mut KernelArgs<'_>) {
    let fold = k.bank.fold.as_ref().expect("chosen for folded banks only");
    for block in 0..k.blocks {
        let base = k.start + block * LANES;
        let mut acc = [[0.0f32; LANES]; L];
        let mut coeffs = fold.coeffs.chunks_exact(L);
        for span in &fold.spans {
            let (near, far, n) = span_rows(k, span, base, LANES);
            for (step, c) in (&mut coeffs).take(n).enumerate() {
                let (x, y) = (lanes(near, step), lanes(far, n - 1 - step));
                let sum: [f32; LANES] = std::array::from_fn(|w| x[w] + y[w]);
                let diff: [f32; LANES] = std::array::from_fn(|w| x[w] - y[w]);
                for j in 0..L / 2 {
                    multiply_add(&mut acc[2 * j], &sum, c[2 * j]);
                    multiply_add(&mut acc[2 * j + 1], &diff, c[2 * j + 1]);
                }
                if L % 2 == 1 {
                    multiply_add(&mut acc[L - 1], &sum, c[L - 1]);
                }
            }
        }
        let mut phases = [[0.0f32; LANES]; L];
        for j in 0..L / 2 {
            let (half_sum, half_diff) = (&acc[2 * j], &acc[2 * j + 1]);
            phases[j] = std::array::from_fn(|w| half_sum[w] + half_diff[w]);
            phases[L - 1 - j] = std::array::from_fn(|w| half_sum[w] - half_diff[w]);
        }
        if L % 2 == 1 {
            phases[L / 2] = acc[L - 1];
        }
        store(k, block, &phases);
    }
}
