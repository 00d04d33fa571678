//! Polyphase coefficient banks, built once per ratio and profile and shared by every
//! resampler in the process.

use std::sync::OnceLock;

use super::Profile;
use super::filters;
use super::kernel::TAP_ALIGN;

/// The prototype filter decomposed for one ratio `L/M`.
///
/// Output `j = L*i + p` is `sum over streams s and taps b of
/// coeffs[s][b][p] * x_s[i - (taps - 1) + b]`, where `x_s[t] = x[M*t + s]` is the input
/// deinterleaved by `M`. Each of the `L*M` sub-filters is zero-padded to `taps`.
///
/// A plain decimation by `M` is written as `D/(D*M)`, the same ratio unreduced: its outputs
/// then come in `D` interleaved phases that share every input vector the kernel loads, as an
/// interpolator's do, which roughly doubles the kernel's speed. The prototype is stretched to
/// match (only every `D`-th tap of the longer filter is nonzero, and those are all that the
/// bank holds), so each output is the same sum of the same products.
#[derive(Debug)]
pub(crate) struct Bank {
    pub(crate) l: usize,
    pub(crate) m: usize,
    pub(crate) taps: usize,
    /// `[s][b][p]`, built on first use: a folded bank never needs them.
    coeffs: OnceLock<Box<[f32]>>,
    prototype: &'static [f64],
    stretch: usize,
    /// Per stream, the taps `lo..hi` outside which every phase's coefficient is zero.
    pub(crate) live: Box<[(usize, usize)]>,
    /// The same sums rewritten on the prototype's symmetry, when it is linear phase. With a
    /// `pass`, it covers phases `1..L` only, as phases `0..L-1` of a bank of `L - 1`.
    pub(crate) fold: Option<Fold>,
    /// `(stream, tap)` of the one nonzero coefficient of phase 0, when it is exactly 1 and the
    /// bank folds: that phase copies an input sample. The upsampling prototypes of high quality are Nyquist
    /// filters (every `L`-th tap from the centre is zero, the centre is `1/L`), so one output in
    /// `L` lands on an input sample and is that sample, with no rounding of its own.
    pub(crate) pass: Option<(usize, usize)>,
    /// Delay added, in samples at the filter rate F = L * input rate.
    pub(crate) delay_at_f: f64,
}

/// A linear-phase bank rewritten so that one multiply-add serves two taps.
///
/// A symmetric prototype gives the bank an involution `σ` on its taps (`v = (stream, tap)`)
/// that maps phase `p`'s coefficients onto phase `L-1-p`'s: `c[L-1-p](v) = c[p](σv)`. So with
/// `u = x_v + x_σv` and `w = x_v - x_σv`, computed exactly (the inputs are integers), the
/// half-sum of phases `p` and `L-1-p` is a sum over the `u` of each pair `{v, σv}`, and their
/// half-difference a sum over the `w`: phase `p` is the half-sum plus the half-difference,
/// phase `L-1-p` the half-sum minus it. An odd `L`'s middle phase is its own mirror, a sum
/// over the `u`. That halves the multiply-adds, the kernels' bottleneck.
///
/// In an interpolator (`M = 1`) `σ` reverses the taps; in a decimator (`2/(2R)`, see [`Bank`])
/// it maps each stream onto another (or onto itself), reversed. Beside a [`Bank::pass`] the
/// fold leaves phase 0 out and numbers the others from 1: its "phase `p`" is the bank's `p + 1`,
/// and there `σ` may swap streams too (4/3).
#[derive(Debug)]
pub(crate) struct Fold {
    pub(crate) spans: Box<[Span]>,
    /// `L` per step, the spans' steps one after the other: for each pair `p < L/2` the
    /// half-sum's coefficient of `u`, then the half-difference's of `w`; last, for an odd `L`,
    /// the middle phase's coefficient of `u`. A tap that is its own mirror (`σv = v`, so
    /// `u = 2 x_v`, `w = 0`) has its coefficients halved.
    pub(crate) coeffs: Box<[f32]>,
}

/// Taps paired by the mirror: step `k` pairs tap `near_at + k` of stream `near` with tap
/// `far_at - k` of stream `far`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) near: usize,
    pub(crate) near_at: usize,
    pub(crate) far: usize,
    pub(crate) far_at: usize,
    pub(crate) steps: usize,
}

impl Bank {
    fn build(
        l: usize,
        m: usize,
        stretch: usize,
        prototype: &'static [f64],
        delay_at_f: f64,
    ) -> Bank {
        let k = ((prototype.len() - 1) * stretch + 1) as i64;
        let mut taps = 0;
        for p in 0..l {
            for s in 0..m {
                let last = (k - 1 - index(l, m, p, s, 0)).div_euclid((l * m) as i64);
                taps = taps.max(last + 1);
            }
        }
        let mut bank = Bank {
            l,
            m,
            taps: (taps as usize).next_multiple_of(TAP_ALIGN),
            coeffs: OnceLock::new(),
            prototype,
            stretch,
            live: Box::default(),
            fold: None,
            pass: None,
            delay_at_f: delay_at_f * stretch as f64,
        };
        let grid = bank.grid();
        let taps = bank.taps;
        bank.live = (0..m)
            .map(|s| {
                let row = &grid[s * taps * l..(s + 1) * taps * l];
                let nonzero = |b: &usize| row[b * l..(b + 1) * l].iter().any(|&c| c != 0.0);
                let lo = (0..taps).find(nonzero).unwrap_or(0);
                let hi = (0..taps).rev().find(nonzero).map_or(lo, |b| b + 1);
                (lo, hi)
            })
            .collect();
        let symmetric =
            (0..prototype.len()).all(|n| prototype[n] == prototype[prototype.len() - 1 - n]);
        bank.pass = pass_through(&grid, l, taps);
        if symmetric {
            bank.fold = match bank.pass {
                None => fold(&grid, l, m, taps, |s, b, p| bank.at(s, b, p), k),
                // A Nyquist prototype's mirror maps phase `p` onto `L - p`: phase 0 onto
                // itself (it is the copy) and phases `1..L` among themselves, which as phases
                // `0..L-1` of a bank of `L - 1` is the pairing the kernels fold.
                Some(_) => {
                    let rest: Vec<f64> = grid
                        .chunks_exact(l)
                        .flat_map(|phases| phases[1..].iter().copied())
                        .collect();
                    fold(&rest, l - 1, m, taps, |s, b, q| bank.at(s, b, q + 1), k)
                }
            };
        }
        if bank.fold.is_none() {
            // The plain kernel computes phase 0 as it does the others, exactly all the same:
            // one product by 1.
            bank.pass = None;
        }
        bank
    }

    /// The stretched prototype index behind coefficient `(s, b, p)`, where it is nonzero.
    fn at(&self, s: usize, b: usize, p: usize) -> Option<i64> {
        let k = ((self.prototype.len() - 1) * self.stretch + 1) as i64;
        let at = index(self.l, self.m, p, s, (self.taps - 1 - b) as i64);
        ((0..k).contains(&at) && at % self.stretch as i64 == 0).then_some(at)
    }

    /// The coefficients `[s][b][p]`, unrounded.
    fn grid(&self) -> Vec<f64> {
        // Zero-stuffing by L divides the level by L: the filter gains it back. A stretched
        // prototype stands for a decimator, whose gain is 1.
        let gain = (self.l / self.stretch) as f64;
        let (l, taps) = (self.l, self.taps);
        let mut grid = vec![0.0f64; self.m * taps * l];
        for s in 0..self.m {
            for b in 0..taps {
                for p in 0..l {
                    if let Some(at) = self.at(s, b, p) {
                        grid[(s * taps + b) * l + p] =
                            self.prototype[at as usize / self.stretch] * gain;
                    }
                }
            }
        }
        grid
    }

    /// The coefficients laid out `[stream][tap][phase]`, `L` values per tap, as the kernels
    /// use them (f32).
    pub(crate) fn coeffs(&self) -> &[f32] {
        self.coeffs
            .get_or_init(|| self.grid().iter().map(|&c| c as f32).collect())
    }

    /// The shared bank for a ratio; `l` and `m` coprime, one of the twelve the rates produce.
    pub(crate) fn get(profile: Profile, l: usize, m: usize) -> &'static Bank {
        static BANKS: [[OnceLock<Bank>; 12]; 2] = [const { [const { OnceLock::new() }; 12] }; 2];
        let slot = RATIOS
            .iter()
            .position(|&r| r == (l, m))
            .expect("ratios come from the supported rates");
        let row = match profile {
            Profile::HighQuality => 0,
            Profile::LowLatency => 1,
        };
        BANKS[row][slot].get_or_init(|| Bank::new(profile, l, m))
    }

    /// The phases the folded kernel computes: `L`, or `L - 1` beside a `pass`.
    pub(crate) fn folded_phases(&self) -> usize {
        self.l - usize::from(self.pass.is_some())
    }

    /// A bank for a ratio, built afresh (see [`Bank::get`]).
    fn new(profile: Profile, l: usize, m: usize) -> Bank {
        let (prototype, delay): (&'static [f64], f64) = match (profile, l.max(m)) {
            (Profile::HighQuality, 2) if l > m => (&filters::HQ_UP_R2, half(&filters::HQ_UP_R2)),
            (Profile::HighQuality, 3) if l > m => (&filters::HQ_UP_R3, half(&filters::HQ_UP_R3)),
            (Profile::HighQuality, 4) if l > m => (&filters::HQ_UP_R4, half(&filters::HQ_UP_R4)),
            (Profile::HighQuality, 6) if l > m => (&filters::HQ_UP_R6, half(&filters::HQ_UP_R6)),
            (Profile::HighQuality, 2) => (&filters::HQ_R2, half(&filters::HQ_R2)),
            (Profile::HighQuality, 3) => (&filters::HQ_R3, half(&filters::HQ_R3)),
            (Profile::HighQuality, 4) => (&filters::HQ_R4, half(&filters::HQ_R4)),
            (Profile::HighQuality, _) => (&filters::HQ_R6, half(&filters::HQ_R6)),
            (Profile::LowLatency, 2) => (&filters::LL_R2, filters::LL_R2_MAX_GROUP_DELAY),
            (Profile::LowLatency, 3) => (&filters::LL_R3, filters::LL_R3_MAX_GROUP_DELAY),
            (Profile::LowLatency, 4) => (&filters::LL_R4, filters::LL_R4_MAX_GROUP_DELAY),
            (Profile::LowLatency, _) => (&filters::LL_R6, filters::LL_R6_MAX_GROUP_DELAY),
        };
        if l == 1 {
            Bank::build(
                DECIMATION_PHASES,
                m * DECIMATION_PHASES,
                DECIMATION_PHASES,
                prototype,
                delay,
            )
        } else {
            Bank::build(l, m, 1, prototype, delay)
        }
    }

    /// Whether the plain coefficient table has been built.
    #[cfg(test)]
    pub(crate) fn has_plain_table(&self) -> bool {
        self.coeffs.get().is_some()
    }

    /// A bank built afresh, outside the shared cache, for tests that watch what it builds.
    #[cfg(test)]
    pub(crate) fn fresh(profile: Profile, l: usize, m: usize) -> Bank {
        Bank::new(profile, l, m)
    }
}

/// Prototype index of sub-filter `(p, s)` of a bank `L/M` at tap `a`: `L*M*a + p*M - s*L`.
fn index(l: usize, m: usize, p: usize, s: usize, a: i64) -> i64 {
    (l * m) as i64 * a + (p * m) as i64 - (s * l) as i64
}

/// The ratios `L/M` the supported rates produce.
pub(crate) const RATIOS: [(usize, usize); 12] = [
    (2, 1),
    (1, 2),
    (3, 1),
    (1, 3),
    (4, 1),
    (1, 4),
    (6, 1),
    (1, 6),
    (3, 2),
    (2, 3),
    (4, 3),
    (3, 4),
];

/// Output phases a decimator is computed in; see [`Bank`].
const DECIMATION_PHASES: usize = 2;

/// The [`Fold`] of a bank, `grid[s][b][p]` (unrounded), whose coefficient at `(s, b, p)` is
/// entry `at(s, b, p)` of a symmetric prototype of length `k` (stretched); `None` if its
/// mirror pairs do not come as [`Span`]s.
fn fold(
    grid: &[f64],
    l: usize,
    m: usize,
    taps: usize,
    at: impl Fn(usize, usize, usize) -> Option<i64>,
    k: i64,
) -> Option<Fold> {
    let c = |s: usize, b: usize, p: usize| grid[(s * taps + b) * l + p];
    // Where each prototype entry sits in phase 0.
    let mut place = vec![None; k as usize];
    for s in 0..m {
        for b in 0..taps {
            if let Some(n) = at(s, b, 0) {
                place[n as usize] = Some((s, b));
            }
        }
    }
    let live = |s: usize, b: usize| (0..l).any(|p| at(s, b, p).is_some());
    let mut spans = Vec::new();
    let mut coeffs = Vec::new();
    let mut done = vec![false; m];
    let mut covered = 0;
    for s in 0..m {
        if done[s] {
            continue;
        }
        let support: Vec<usize> = (0..taps).filter(|&b| live(s, b)).collect();
        let (&lo, &last) = (support.first()?, support.last()?);
        if support.len() != last + 1 - lo {
            return None;
        }
        // The mirror of a tap of phase L-1 is a tap of phase 0; it fixes the pair's geometry.
        let b0 = *support.iter().find(|&&b| at(s, b, l - 1).is_some())?;
        let (far, far_b0) = place[(k - 1 - at(s, b0, l - 1)?) as usize]?;
        let sum = far_b0 + b0;
        let mirror = |b: usize| sum.checked_sub(b).filter(|&f| f < taps);
        // Every phase's coefficients must map as the involution says, zeros included.
        for b in lo..=last {
            let f = mirror(b)?;
            for p in 0..l {
                if c(s, b, l - 1 - p) != c(far, f, p) || !live(far, f) {
                    return None;
                }
            }
        }
        if done[far] {
            return None;
        }
        let end = if far == s { sum / 2 } else { last };
        for b in lo..=end {
            let half = if far == s && 2 * b == sum { 0.5 } else { 1.0 };
            for p in 0..l / 2 {
                let (v, w) = (c(s, b, p), c(s, b, l - 1 - p));
                coeffs.push(((v + w) / 2.0 * half) as f32);
                coeffs.push(((v - w) / 2.0 * half) as f32);
            }
            if l % 2 == 1 {
                coeffs.push((c(s, b, l / 2) * half) as f32);
            }
        }
        spans.push(Span {
            near: s,
            near_at: lo,
            far,
            far_at: mirror(lo)?,
            steps: end + 1 - lo,
        });
        covered += if far == s {
            sum + 1 - 2 * lo
        } else {
            2 * (last + 1 - lo)
        };
        done[s] = true;
        done[far] = true;
    }
    let live_taps = (0..m)
        .map(|s| (0..taps).filter(|&b| live(s, b)).count())
        .sum();
    if covered != live_taps {
        return None;
    }
    Some(Fold {
        spans: spans.into_boxed_slice(),
        coeffs: coeffs.into_boxed_slice(),
    })
}

/// The `(stream, tap)` of phase 0's one nonzero coefficient, if it is the only one and exactly
/// 1 (see [`Bank::pass`]).
fn pass_through(grid: &[f64], l: usize, taps: usize) -> Option<(usize, usize)> {
    let mut nonzero = grid
        .iter()
        .step_by(l)
        .enumerate()
        .filter(|(_, c)| **c != 0.0);
    let (at, &c) = nonzero.next()?;
    (nonzero.next().is_none() && c == 1.0).then_some((at / taps, at % taps))
}

/// Group delay of a linear-phase filter: half its span.
fn half(h: &[f64]) -> f64 {
    (h.len() - 1) as f64 / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustfft::FftPlanner;
    use rustfft::num_complex::Complex64;

    /// |H| of a filter on a grid of `n` points over [0, 1) cycles per sample.
    fn response(h: &[f64], n: usize) -> Vec<f64> {
        let mut buf: Vec<Complex64> = (0..n)
            .map(|i| Complex64::new(h.get(i).copied().unwrap_or(0.0), 0.0))
            .collect();
        FftPlanner::new().plan_fft_forward(n).process(&mut buf);
        buf.iter().map(|c| c.norm()).collect()
    }

    /// The prototypes as the kernels use them (f32), on a grid of 2^19 points: flatness and
    /// rejection at every frequency, not only at the tones the integration tests play.
    #[test]
    fn prototypes_meet_their_specification_everywhere() {
        let cases: [(&[f64], usize, Profile); 8] = [
            (&filters::HQ_R2, 2, Profile::HighQuality),
            (&filters::HQ_R3, 3, Profile::HighQuality),
            (&filters::HQ_R4, 4, Profile::HighQuality),
            (&filters::HQ_R6, 6, Profile::HighQuality),
            (&filters::LL_R2, 2, Profile::LowLatency),
            (&filters::LL_R3, 3, Profile::LowLatency),
            (&filters::LL_R4, 4, Profile::LowLatency),
            (&filters::LL_R6, 6, Profile::LowLatency),
        ];
        let n = 1 << 19;
        for (h, r, profile) in cases {
            let h32: Vec<f64> = h.iter().map(|&c| f64::from(c as f32)).collect();
            let mag = response(&h32, n);
            let nyquist = n / (2 * r);
            let (pass_end, ripple_limit, stop_limit) = match profile {
                Profile::HighQuality => (nyquist * 9 / 10, 0.001, -112.0),
                Profile::LowLatency => (nyquist * 85 / 100, 0.025, -104.0),
            };
            let ripple = mag[..=pass_end]
                .iter()
                .map(|&m| (20.0 * m.log10()).abs())
                .fold(0.0, f64::max);
            let stop = mag[nyquist..=n / 2]
                .iter()
                .map(|&m| 20.0 * m.log10())
                .fold(f64::MIN, f64::max);
            assert!(
                ripple <= ripple_limit,
                "{profile:?} R={r}: ripple {ripple} dB"
            );
            assert!(stop <= stop_limit, "{profile:?} R={r}: stopband {stop} dB");
        }
    }

    /// The upsampling prototypes, as the kernels use them: Nyquist filters (the taps R, 2R, …
    /// from the centre exactly zero, the centre exactly 1/R), the gain within 1e-6 of 1 to 0.9
    /// of the lower Nyquist frequency and 120 dB down from 1.1 of it, where the images of
    /// tones up to 0.9 land.
    #[test]
    fn upsampling_prototypes_are_nyquist_filters() {
        let cases: [(&[f64], usize); 4] = [
            (&filters::HQ_UP_R2, 2),
            (&filters::HQ_UP_R3, 3),
            (&filters::HQ_UP_R4, 4),
            (&filters::HQ_UP_R6, 6),
        ];
        let n = 1 << 19;
        for (h, r) in cases {
            let centre = (h.len() - 1) / 2;
            assert_eq!(h.len() % 2, 1, "R={r}: odd length");
            assert_eq!(centre % r, 0, "R={r}: the copied phase is phase 0");
            assert_eq!(h[centre] * r as f64, 1.0, "R={r}: centre");
            for (i, &c) in h.iter().enumerate() {
                assert_eq!(c, h[h.len() - 1 - i], "R={r}: symmetric at {i}");
                if i != centre && i.abs_diff(centre) % r == 0 {
                    assert_eq!(c, 0.0, "R={r}: tap {i} is a zero of the sinc");
                }
            }
            // As the bank holds them: times R, in f32.
            let h32: Vec<f64> = h
                .iter()
                .map(|&c| f64::from((c * r as f64) as f32) / r as f64)
                .collect();
            let mag = response(&h32, n);
            let nyquist = n / (2 * r);
            let error = mag[..=nyquist * 9 / 10]
                .iter()
                .map(|&m| (m - 1.0).abs())
                .fold(0.0, f64::max);
            let stop = mag[nyquist * 11 / 10..=n / 2]
                .iter()
                .map(|&m| 20.0 * m.log10())
                .fold(f64::MIN, f64::max);
            assert!(error <= 1e-6, "R={r}: passband error {error}");
            assert!(stop <= -120.0, "R={r}: stopband {stop} dB");
            // Above 0.9 the transition band: the image of a tone at f (of the Nyquist
            // frequency) lands at 2 - f, as far down as the README says.
            for (f, db) in [(0.92, 62.0), (0.95, 29.0), (0.975, 14.5), (1.0, 6.0)] {
                let at = ((2.0 - f) * nyquist as f64).round() as usize;
                let image = -20.0 * mag[at].log10();
                assert!(
                    (image - db).abs() < 0.5,
                    "R={r}: the image of a tone at {f} is {image:.1} dB down"
                );
            }
        }
    }

    /// Every high-quality upsampling bank copies phase 0 and folds the rest; no other does.
    #[test]
    fn upsampling_banks_copy_one_phase() {
        for (l, m) in RATIOS {
            let hq = Bank::get(Profile::HighQuality, l, m);
            assert_eq!(hq.pass.is_some(), l > m, "{l}/{m}");
            if let Some((s, b)) = hq.pass {
                assert!(hq.fold.is_some(), "{l}/{m} folds");
                assert_eq!(hq.coeffs()[(s * hq.taps + b) * hq.l], 1.0);
                let others = (0..hq.m * hq.taps)
                    .filter(|&v| v != s * hq.taps + b && hq.coeffs()[v * hq.l] != 0.0)
                    .count();
                assert_eq!(others, 0, "{l}/{m}: phase 0 has one coefficient");
            }
            assert!(Bank::get(Profile::LowLatency, l, m).pass.is_none());
        }
    }

    /// Every high-quality bank folds, and the folded sums are the bank's: for random input,
    /// each phase computed from the fold's spans and coefficients matches the plain sum.
    #[test]
    fn folded_banks_compute_the_same_sums() {
        for (l, m) in RATIOS {
            assert!(Bank::get(Profile::LowLatency, l, m).fold.is_none());
            let bank = Bank::get(Profile::HighQuality, l, m);
            let Some(fold) = &bank.fold else {
                assert!(m > 1 && l > 1, "{l}/{m} should fold");
                continue;
            };
            let (l, taps) = (bank.l, bank.taps);
            let mut seed = 1u64;
            let x: Vec<Vec<f64>> = (0..bank.m)
                .map(|_| {
                    (0..taps)
                        .map(|_| {
                            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                            f64::from((seed >> 48) as i16)
                        })
                        .collect()
                })
                .collect();
            let plain: Vec<f64> = (0..l)
                .map(|p| {
                    (0..bank.m)
                        .flat_map(|s| (0..taps).map(move |b| (s, b)))
                        .map(|(s, b)| f64::from(bank.coeffs()[(s * taps + b) * l + p]) * x[s][b])
                        .sum()
                })
                .collect();
            // Beside a copied phase 0, the fold computes phases 1..L as 0..L-1.
            let (l, copied) = match bank.pass {
                Some((s, b)) => (l - 1, vec![x[s][b]]),
                None => (l, vec![]),
            };
            let mut acc = vec![0.0; l];
            let mut coeffs = fold.coeffs.chunks_exact(l);
            for span in &fold.spans {
                for (k, c) in (&mut coeffs).take(span.steps).enumerate() {
                    let (v, w) = (x[span.near][span.near_at + k], x[span.far][span.far_at - k]);
                    for j in 0..l / 2 {
                        acc[2 * j] += f64::from(c[2 * j]) * (v + w);
                        acc[2 * j + 1] += f64::from(c[2 * j + 1]) * (v - w);
                    }
                    if l % 2 == 1 {
                        acc[l - 1] += f64::from(c[l - 1]) * (v + w);
                    }
                }
            }
            assert!(coeffs.next().is_none(), "{l}/{m}: coefficients left over");
            let mut folded = vec![0.0; l];
            for j in 0..l / 2 {
                folded[j] = acc[2 * j] + acc[2 * j + 1];
                folded[l - 1 - j] = acc[2 * j] - acc[2 * j + 1];
            }
            if l % 2 == 1 {
                folded[l / 2] = acc[l - 1];
            }
            let folded: Vec<f64> = copied.into_iter().chain(folded).collect();
            assert_eq!(folded.len(), plain.len());
            for (p, (a, b)) in plain.iter().zip(&folded).enumerate() {
                assert!(
                    (a - b).abs() < 1e-2,
                    "{}/{} phase {p}: {a} against {b}",
                    bank.l,
                    bank.m
                );
            }
        }
    }

    /// Every prototype coefficient lands in exactly one place of the bank, once per output
    /// phase for a decimator (whose phases each sum the whole filter).
    #[test]
    fn banks_hold_every_coefficient_once() {
        for profile in [Profile::HighQuality, Profile::LowLatency] {
            for (l, m) in [(2, 1), (1, 3), (3, 2), (4, 3), (1, 6), (6, 1)] {
                let bank = Bank::get(profile, l, m);
                let sum: f64 = bank.coeffs().iter().map(|&c| f64::from(c)).sum();
                // The prototype's DC gain is 1 within its passband ripple (0.02 dB at most);
                // each of the bank's phases has that gain.
                assert!(
                    (sum / bank.l as f64 - 1.0).abs() < 3e-3,
                    "{profile:?} {l}/{m}: {sum}"
                );
                assert_eq!(bank.l * m, bank.m * l, "the ratio is kept");
                let nonzero = bank.coeffs().iter().filter(|&&c| c != 0.0).count();
                let r = l.max(m);
                let prototype: &[f64] = match (profile, r) {
                    (Profile::HighQuality, 2) if l > m => &filters::HQ_UP_R2,
                    (Profile::HighQuality, 3) if l > m => &filters::HQ_UP_R3,
                    (Profile::HighQuality, 4) if l > m => &filters::HQ_UP_R4,
                    (Profile::HighQuality, 6) if l > m => &filters::HQ_UP_R6,
                    (Profile::HighQuality, 2) => &filters::HQ_R2,
                    (Profile::HighQuality, 3) => &filters::HQ_R3,
                    (Profile::HighQuality, 4) => &filters::HQ_R4,
                    (Profile::HighQuality, _) => &filters::HQ_R6,
                    (Profile::LowLatency, 2) => &filters::LL_R2,
                    (Profile::LowLatency, 3) => &filters::LL_R3,
                    (Profile::LowLatency, 4) => &filters::LL_R4,
                    (Profile::LowLatency, _) => &filters::LL_R6,
                };
                // The Nyquist filters' zeros are exact zeros.
                let k = prototype.iter().filter(|&&c| c != 0.0).count();
                assert_eq!(nonzero, k * bank.l / l, "{profile:?} {l}/{m}");
            }
        }
    }
}
