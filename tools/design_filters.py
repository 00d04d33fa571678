#!/usr/bin/env python3
"""Design the resampler's prototype low-pass filters and write them as Rust tables.

Maintainer tool, not part of the build: the generated file
`telephony-audio/src/resample/filters.rs` is committed, and the Rust tests check every
property claimed here on the tables themselves. Re-run after changing a specification:

    pip install numpy scipy
    python3 tools/design_filters.py > telephony-audio/src/resample/filters.rs

A rational resampler L/M runs its filter at F = L * f_in = M * f_out. Whatever L and M are,
the lower of the two rates has its Nyquist frequency at F / (2R) with R = max(L, M), so one
prototype per R serves every pair: R = 2 (8k<->16k, 16k<->32k, 24k<->48k), R = 3 (8k<->24k,
16k<->48k, 16k<->24k, 32k<->48k), R = 4 (8k<->32k, 24k<->32k) and R = 6 (8k<->48k).

High quality (linear phase, equiripple with the error weighted to the band edge): passband to
0.90 of the lower Nyquist in two parts, stopband from the lower Nyquist (nothing above it
aliases), >= 113 dB down. Up to 0.85 of the lower Nyquist (3400 Hz at 8 kHz, where the telephone
band and nearly all of speech's energy lie) the gain is within ~8e-6 of 1 (-102 dB), well under
the error of int16 rounding, so a tone anywhere there comes out as clean as 16 bits allow; from
0.85 to 0.90 it is within ~6e-5 (0.0005 dB). An equiripple design with one weight over the whole
passband (~2.6e-5 everywhere, which this file had before) puts an error comparable to int16
rounding on every tone. A windowed sinc (Kaiser) of the same length also concentrates its error
at the band edge, but it cannot stay flat to 0.90 with 113 dB from the Nyquist frequency: it is
0.1 dB down at 0.90. The length is even, so the filter's centre falls
between two samples at F and no polyphase branch is a pure delay: a branch that were would
leave integer input samples almost unchanged, and rounding those outputs back to int16 would
cancel the filter's ripple on every L-th sample only, which shows up as an image (103-107 dB
down for loud tones with these weights, below). The price is a delay of a half-sample at F.

That price, measured (telephony-audio/tests/resampler_fidelity.rs): with the outputs all between
input samples, each carries its own int16 rounding on top of the input's, and no filter does
better than 83.1 dB on noise at -15 dBFS or 77.2 dB on the speech fixture when upsampling. An
odd length (249/373/497/745, +0.03 ms) puts every L-th output on an input sample and lifts that
ceiling to 84.3 dB (2x), 83.9 dB (3x), 83.65 dB (4x), 83.5 dB (6x) on noise, and to 78.1-78.6 dB
on speech at 2x and 3x (even the best estimate, a brick wall at 0.9 of the Nyquist frequency
on the other outputs, reaches only ~84.0 dB at 3x). The kernels compute an odd length right,
but at 2:1, 4:1 and 6:1 its mirrored taps pair phase p with L-p, not L-1-p, so those banks do
not fold and would run plain (twice the multiply-adds) until new folds are written. And the
image left by its passband error needs that error under ~3e-6 up to 0.9 of the Nyquist
frequency for 112 dB: these weights give 103-107 dB (the worst at 0.85-0.9 of it); weights
that bring the error under the split to 1.7e-6 (HQ_DEV_LOW 1.0, HQ_DEV_EDGE 80) still give
103-110 dB there (the error above the split, 1.4e-4, is then the one undone) and cost 0.25 dB
on noise. Under 3e-6 everywhere with 113 dB takes ~270 taps at R = 2 (+0.7 ms). So the length
stays even. A Kaiser sinc of the same length (odd, 113 dB from the Nyquist frequency) measures
69 dB on noise: its 0.057 dB droop at 0.9 is all error on noise flat to 0.9.

Low latency (minimum phase): a linear-phase equiripple design (passband to 0.85 of the lower
Nyquist, i.e. 3400 Hz at 8 kHz, stopband from the Nyquist, >= 103 dB) turned into the
minimum-phase filter of the same length and the same magnitude response (cepstral method).
Same magnitude, a fraction of the delay.
"""
import math
import sys

import numpy as np
import scipy.signal as ss

HQ_LENGTH = {2: 248, 3: 372, 4: 496, 6: 744}
HQ_PASSBAND = 0.90
# Where the tightly weighted part of the passband ends, as a fraction of the lower Nyquist.
HQ_SPLIT = 0.85
# Relative weights (as deviations: equiripple errors come out proportional to them) of the
# passband below HQ_SPLIT, the passband above it, and the stopband at HQ_STOP_DB.
HQ_STOP_DB = 113.2
HQ_DEV_LOW = 3.5
HQ_DEV_EDGE = 26.0

LL_LENGTH = {2: 121, 3: 181, 4: 241, 6: 361}
LL_PASSBAND = 0.85
LL_STOP_DB = 104.0
LL_PASS_DEV = 0.0025

GRID = 1 << 19


def remez(k, r, passband, dev, stop_db):
    fp = passband * 0.5 / r
    fs = 0.5 / r
    ds = 10 ** (-stop_db / 20)
    h = ss.remez(k, [0, fp, fs, 0.5], [1, 0], weight=[1, dev / ds], fs=1.0,
                 maxiter=1000, grid_density=32)
    return h


def remez_split(k, r, passband, split, dev_low, dev_edge, stop_db):
    """Equiripple low-pass whose passband error is `dev_low / dev_edge` as large below `split`
    (fractions of the lower Nyquist) as above it, and whose stopband starts at the Nyquist."""
    u = 0.5 / r
    ds = 10 ** (-stop_db / 20)
    # A sliver of "don't care" between the two passband parts: remez wants bands apart.
    bands = [0, split * u, (split + 2e-4) * u, passband * u, u, 0.5]
    h = ss.remez(k, bands, [1, 1, 0], weight=[1 / dev_low, 1 / dev_edge, 1],
                 fs=1.0, maxiter=2000, grid_density=32)
    return h


def minimum_phase_same_magnitude(h):
    """The minimum-phase filter with |H| of `h`, same length, by folding the real cepstrum."""
    n = 1 << 21
    mag = np.abs(np.fft.fft(h, n))
    mag = np.maximum(mag, 1e-9 * mag.max())
    cep = np.real(np.fft.ifft(np.log(mag)))
    fold = np.zeros(n)
    fold[0] = cep[0]
    fold[1:n // 2] = 2 * cep[1:n // 2]
    fold[n // 2] = cep[n // 2]
    hm = np.real(np.fft.ifft(np.exp(np.fft.fft(fold))))[: len(h)]
    return hm


def response(h, r, passband, split=None):
    fp = passband * 0.5 / r
    fs = 0.5 / r
    mag = np.abs(np.fft.rfft(h, GRID))
    f = np.arange(len(mag)) / GRID
    p = mag[f <= fp]
    s = mag[f >= fs]
    m = {
        "ripple_db": max(abs(20 * math.log10(p.max())), abs(20 * math.log10(p.min()))),
        "pass_rms": float(np.sqrt(np.mean((p - 1) ** 2))),
        "stop_db": 20 * math.log10(s.max()),
    }
    if split is not None:
        m["low_err"] = float(np.abs(mag[f <= split * 0.5 / r] - 1).max())
    return m


def max_group_delay(h, r, passband):
    fp = passband * 0.5 / r
    w = np.linspace(0, fp, 4000) * 2 * np.pi
    _, gd = ss.group_delay((h, [1.0]), w=w)
    return float(gd.max())


def emit(name, h, doc):
    out = []
    for line in doc:
        out.append(f"/// {line}".rstrip())
    out.append(f"pub(crate) static {name}: [f64; {len(h)}] = [")
    for v in h:
        out.append(f"    {float(v)!r},")
    out.append("];")
    return "\n".join(out)


def main():
    parts = [
        "//! Prototype low-pass filters for the resampler, one per R = max(L, M).",
        "//!",
        "//! Generated by `tools/design_filters.py`; do not edit by hand. The tests in",
        "//! `tests/resampler_quality.rs` check the figures quoted here.",
        "",
    ]
    for r, k in HQ_LENGTH.items():
        h = remez_split(k, r, HQ_PASSBAND, HQ_SPLIT, HQ_DEV_LOW, HQ_DEV_EDGE, HQ_STOP_DB)
        m = response(h, r, HQ_PASSBAND, HQ_SPLIT)
        assert m["stop_db"] < -113.0 and m["ripple_db"] < 0.0005 and m["low_err"] < 1e-5, (r, m)
        parts.append(emit(f"HQ_R{r}", h, [
            f"High quality, R = {r}: linear phase, {k} taps, delay {(k - 1) / 2} samples at F.",
            f"Passband to {HQ_PASSBAND} x lower Nyquist: ripple {m['ripple_db']:.5f} dB, "
            f"RMS error {m['pass_rms']:.2e}, gain within {m['low_err']:.1e} of 1 to "
            f"{HQ_SPLIT}; stopband {m['stop_db']:.1f} dB.",
        ]))
        parts.append("")
    for r, k in LL_LENGTH.items():
        lin = remez(k, r, LL_PASSBAND, LL_PASS_DEV, LL_STOP_DB)
        h = minimum_phase_same_magnitude(lin)
        m = response(h, r, LL_PASSBAND)
        gd = max_group_delay(h, r, LL_PASSBAND)
        assert m["stop_db"] < -103.0 and m["ripple_db"] < 0.03, (r, m)
        parts.append(emit(f"LL_R{r}", h, [
            f"Low latency, R = {r}: minimum phase, {k} taps.",
            f"Passband to {LL_PASSBAND} x lower Nyquist: ripple {m['ripple_db']:.4f} dB; "
            f"stopband {m['stop_db']:.1f} dB; group delay at most {gd:.2f} samples at F.",
        ]))
        parts.append(f"pub(crate) const LL_R{r}_MAX_GROUP_DELAY: f64 = {gd!r};")
        parts.append("")
    sys.stdout.write("\n".join(parts))


if __name__ == "__main__":
    main()
