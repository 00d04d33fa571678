#!/usr/bin/env python3
"""Design the resampler's prototype low-pass filters and write them as Rust tables.

Maintainer tool, not part of the build: the generated file
`telephony-audio/src/resample/filters.rs` is committed, and the Rust tests check every
property claimed here on the tables themselves. Re-run after changing a specification:

    pip install numpy scipy
    python3 tools/design_filters.py > telephony-audio/src/resample/filters.rs

A rational resampler L/M runs its filter at F = L * f_in = M * f_out. Whatever L and M are,
the lower of the two rates has its Nyquist frequency at F / (2R) with R = max(L, M), so one
prototype per R and direction serves every pair: R = 2 (8k<->16k, 16k<->32k, 24k<->48k),
R = 3 (8k<->24k, 16k<->48k, 16k<->24k, 32k<->48k), R = 4 (8k<->32k, 24k<->32k) and R = 6
(8k<->48k).

High quality has two designs, both linear phase.

Upsampling (HQ_UP_R*): a Kaiser-windowed sinc cut at the lower (the input's) Nyquist
frequency, which makes it a Nyquist filter: the taps R, 2R, ... from its centre are zero and the
centre is 1/R, and its length is odd with the centre on phase 0. One output in L then falls on
an input sample and is that sample: it carries no rounding of its own, only the input's. With
the outputs all between input samples (the even-length design this file had before), each
carried a second int16 rounding, and no filter did better than 83.1 dB on noise at -15 dBFS or
77.2 dB on the speech fixture (telephony-audio/tests/resampler_fidelity.rs computes that
ceiling); with one in L on the input, the ceiling is 84.3 dB at 2x, 83.9 dB at 3x, 83.65 dB at
4x and 83.5 dB at 6x, and these filters reach it. A Nyquist filter's transition band is
centred on the Nyquist frequency (its gain there is 1/2), so it rejects the images of the
passband, tones up to 0.9 of that frequency, whose images land from 1.1 of it on, and only
part of those of tones between 0.9 and 1.0. Its passband error equals its stopband ripple
mirrored, so one Kaiser window sets both: 121 dB from 1.1 of the Nyquist frequency and a gain
within 8e-7 of 1 up to 0.9 of it, which also keeps the image of that error (the outputs on
input samples have none of it, the others do) 120 dB down. The transition band twice as wide
as the downsampling design's takes about two thirds of its length (161 taps against 248 at
R = 2): 5.0 ms when one side is 8 kHz (was 7.72).

Downsampling (HQ_R*; equiripple with the error weighted to the band edge): passband to 0.90 of
the lower Nyquist in two parts, stopband from the lower Nyquist (nothing above it aliases),
>= 113 dB down. Up to 0.85 of the lower Nyquist (3400 Hz at 8 kHz, where the telephone band and
nearly all of speech's energy lie) the gain is within ~8e-6 of 1 (-102 dB), well under the
error of int16 rounding, so a tone anywhere there comes out as clean as 16 bits allow; from
0.85 to 0.90 it is within ~6e-5 (0.0005 dB). An equiripple design with one weight over the
whole passband (~2.6e-5 everywhere) puts an error comparable to int16 rounding on every tone.
A windowed sinc cannot stay flat to 0.90 with 113 dB from the Nyquist frequency at this length:
it is 0.1 dB down at 0.90. A decimator's outputs are never input samples (each sums many), so
each carries its own rounding whatever the length, and the length is even.

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

# Upsampling, high quality: a Kaiser-windowed sinc cut at the lower Nyquist frequency, which is
# a Nyquist (L-th band) filter: its taps at every R-th place from the centre are exactly zero
# and the centre is 1/R, so one polyphase branch passes the input samples through untouched.
# Half-length HQ_UP_HALF * R samples at F: 5.0 ms when one side is 8 kHz.
HQ_UP_HALF = 40
HQ_UP_BETA = 12.5
HQ_UP_STOP_FROM = 1.1

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


def nyquist_sinc(r):
    """Kaiser-windowed sinc cut at the lower Nyquist frequency, 2 * HQ_UP_HALF * r + 1 taps,
    with the zeros every r-th tap from the centre set exactly and the centre exactly 1/r."""
    c = HQ_UP_HALF * r
    n = np.arange(2 * c + 1) - c
    h = np.sinc(n / r) / r * np.kaiser(2 * c + 1, HQ_UP_BETA)
    h[(n % r == 0) & (n != 0)] = 0.0
    h[c] = 1.0 / r
    return h


def nyquist_response(h, r):
    """Passband error to 0.85 and 0.90 of the lower Nyquist frequency, and the stopband from
    HQ_UP_STOP_FROM of it: where the images of tones up to 0.90 land."""
    mag = np.abs(np.fft.rfft(h, GRID))
    f = np.arange(len(mag)) / GRID * 2 * r
    return {
        "err85": float(np.abs(mag[f <= 0.85] - 1).max()),
        "err90": float(np.abs(mag[f <= 0.90] - 1).max()),
        "ripple_db": float(np.abs(20 * np.log10(mag[f <= 0.90])).max()),
        "stop_db": 20 * math.log10(mag[f >= HQ_UP_STOP_FROM].max()),
    }


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
        "//! Prototype low-pass filters for the resampler, one per R = max(L, M) and profile, and",
        "//! in high quality one more per R for upsampling (`HQ_UP_R*`).",
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
    for r in HQ_LENGTH:
        h = nyquist_sinc(r)
        m = nyquist_response(h, r)
        assert m["stop_db"] < -120.0 and m["err90"] < 1e-6, (r, m)
        c = HQ_UP_HALF * r
        parts.append(emit(f"HQ_UP_R{r}", h, [
            f"High quality, upsampling by R = {r}: a Nyquist filter, {2 * c + 1} taps, delay {c} "
            f"samples at F;",
            f"the taps {r}, {2 * r}, ... from the centre are zero and the centre is 1/{r}. Gain within "
            f"{m['err85']:.1e} of 1 to 0.85 x lower Nyquist,",
            f"{m['err90']:.1e} to 0.9 (ripple {m['ripple_db']:.6f} dB); "
            f"{m['stop_db']:.1f} dB from {HQ_UP_STOP_FROM} x lower Nyquist on.",
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
