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
    pub(crate) coeffs: Box<[f32]>,
    /// Delay added, in samples at the filter rate F = L * input rate.
    pub(crate) delay_at_f: f64,
}

impl Bank {
    fn build(l: usize, m: usize, stretch: usize, prototype: &[f64], delay_at_f: f64) -> Bank {
        // Zero-stuffing by L divides the level by L: the filter gains it back. A stretched
        // prototype stands for a decimator, whose gain is 1.
        let gain = (l / stretch) as f64;
        let tap = |at: i64| {
            let st = stretch as i64;
            (at % st == 0)
                .then(|| prototype.get((at / st) as usize))
                .flatten()
                .map(|&c| (c * gain) as f32)
        };
        let k = ((prototype.len() - 1) * stretch + 1) as i64;
        let (li, mi) = (l as i64, m as i64);
        // Prototype index of sub-filter (p, s) at tap a: L*M*a + p*M - s*L.
        let index = |p: usize, s: usize, a: i64| li * mi * a + p as i64 * mi - s as i64 * li;
        let mut taps = 0;
        for p in 0..l {
            for s in 0..m {
                let last = (k - 1 - index(p, s, 0)).div_euclid(li * mi);
                taps = taps.max(last + 1);
            }
        }
        let taps = (taps as usize).next_multiple_of(TAP_ALIGN);
        let mut coeffs = vec![0.0f32; m * taps * l];
        for s in 0..m {
            for b in 0..taps {
                let a = (taps - 1 - b) as i64;
                for p in 0..l {
                    let at = index(p, s, a);
                    if (0..k).contains(&at) {
                        coeffs[(s * taps + b) * l + p] = tap(at).unwrap_or(0.0);
                    }
                }
            }
        }
        Bank {
            l,
            m,
            taps,
            coeffs: coeffs.into_boxed_slice(),
            delay_at_f: delay_at_f * stretch as f64,
        }
    }

    /// The shared bank for a ratio; `l` and `m` coprime, one of the twelve the rates produce.
    pub(crate) fn get(profile: Profile, l: usize, m: usize) -> &'static Bank {
        const RATIOS: [(usize, usize); 12] = [
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
        static BANKS: [[OnceLock<Bank>; 12]; 2] = [const { [const { OnceLock::new() }; 12] }; 2];
        let slot = RATIOS
            .iter()
            .position(|&r| r == (l, m))
            .expect("ratios come from the supported rates");
        let row = match profile {
            Profile::HighQuality => 0,
            Profile::LowLatency => 1,
        };
        BANKS[row][slot].get_or_init(|| {
            let (prototype, delay): (&[f64], f64) = match (profile, l.max(m)) {
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
        })
    }
}

/// Output phases a decimator is computed in; see [`Bank`].
const DECIMATION_PHASES: usize = 2;

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

    /// Every prototype coefficient lands in exactly one place of the bank, once per output
    /// phase for a decimator (whose phases each sum the whole filter).
    #[test]
    fn banks_hold_every_coefficient_once() {
        for profile in [Profile::HighQuality, Profile::LowLatency] {
            for (l, m) in [(2, 1), (1, 3), (3, 2), (4, 3), (1, 6)] {
                let bank = Bank::get(profile, l, m);
                let sum: f64 = bank.coeffs.iter().map(|&c| f64::from(c)).sum();
                // The prototype's DC gain is 1 within its passband ripple (0.02 dB at most);
                // each of the bank's phases has that gain.
                assert!(
                    (sum / bank.l as f64 - 1.0).abs() < 3e-3,
                    "{profile:?} {l}/{m}: {sum}"
                );
                assert_eq!(bank.l * m, bank.m * l, "the ratio is kept");
                let nonzero = bank.coeffs.iter().filter(|&&c| c != 0.0).count();
                let r = l.max(m);
                let k = match (profile, r) {
                    (Profile::HighQuality, 2) => filters::HQ_R2.len(),
                    (Profile::HighQuality, 3) => filters::HQ_R3.len(),
                    (Profile::HighQuality, 4) => filters::HQ_R4.len(),
                    (Profile::HighQuality, _) => filters::HQ_R6.len(),
                    (Profile::LowLatency, 2) => filters::LL_R2.len(),
                    (Profile::LowLatency, 3) => filters::LL_R3.len(),
                    (Profile::LowLatency, 4) => filters::LL_R4.len(),
                    (Profile::LowLatency, _) => filters::LL_R6.len(),
                };
                assert_eq!(nonzero, k * bank.l / l, "{profile:?} {l}/{m}");
            }
        }
    }
}
