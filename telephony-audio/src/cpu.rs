//! The one place that asks the CPU what it runs, and the tokens that carry the answer.
//!
//! Every function compiled for an instruction set beyond the target's baseline (the resampler's
//! AVX2 and AVX-512 kernels, the G.711 slice loops, `telephony-core`'s base64 blocks) takes one
//! of these tokens by value. A token cannot be built outside this module except by
//! [`Avx2::detect`] or [`Avx512::detect`], which check the CPU first, so code that holds one
//! may call into code compiled for those features: the `unsafe` block that does so cites the
//! token as its proof.

use std::fmt;

use crate::backend::BackendError;

/// Proof that this CPU runs AVX2 and fused multiply-add (FMA).
///
/// The only way to get one is [`Avx2::detect`] (or [`Avx512::avx2`], or
/// [`Backend::avx2_token`](crate::Backend::avx2_token) on a backend that was itself checked),
/// so a function that takes an `Avx2` by value cannot be reached on a CPU without them. It is
/// zero-sized and [`Copy`]: passing it costs nothing.
///
/// ```
/// use telephony_audio::Avx2;
///
/// match Avx2::detect() {
///     Ok(cpu) => println!("AVX2 and FMA: {cpu:?}"),
///     Err(e) => println!("{e}"),
/// }
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Avx2 {
    /// Private, so that nothing outside this module builds one without the check.
    _checked: (),
}

/// Proof that this CPU runs AVX-512F, AVX2 and fused multiply-add (FMA).
///
/// The only way to get one is [`Avx512::detect`]. Every CPU with AVX-512F has AVX2 as well,
/// and the check covers both, so an `Avx512` also yields an [`Avx2`] ([`Avx512::avx2`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Avx512 {
    /// Private, so that nothing outside this module builds one without the check.
    _checked: (),
}

impl Avx2 {
    /// The token, if this CPU runs AVX2 and FMA. The answer does not depend on
    /// `TELEPHONY_SIMD`, which only caps what [`Backend::detect`](crate::Backend::detect)
    /// picks.
    ///
    /// # Errors
    ///
    /// [`BackendError::MissingCpuFeature`] on a CPU (or an architecture) without them.
    pub fn detect() -> Result<Avx2, BackendError> {
        if cpu_has_avx2() {
            Ok(Avx2 { _checked: () })
        } else {
            Err(BackendError::MissingCpuFeature {
                backend: "avx2",
                missing: "AVX2 and FMA",
            })
        }
    }
}

impl Avx512 {
    /// The token, if this CPU runs AVX-512F, AVX2 and FMA (whatever `TELEPHONY_SIMD` says).
    ///
    /// # Errors
    ///
    /// [`BackendError::MissingCpuFeature`] on a CPU (or an architecture) without them.
    pub fn detect() -> Result<Avx512, BackendError> {
        if cpu_has_avx512() {
            Ok(Avx512 { _checked: () })
        } else {
            Err(BackendError::MissingCpuFeature {
                backend: "avx512",
                missing: "AVX-512F, AVX2 and FMA",
            })
        }
    }

    /// The AVX2 token this one implies: [`Avx512::detect`] checked AVX2 and FMA too.
    pub const fn avx2(self) -> Avx2 {
        Avx2 { _checked: () }
    }
}

impl fmt::Debug for Avx2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Avx2")
    }
}

impl fmt::Debug for Avx512 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Avx512")
    }
}

/// Whether this CPU runs AVX2 and FMA (the standard library caches the answer).
fn cpu_has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma");
    #[cfg(not(target_arch = "x86_64"))]
    return false;
}

/// Whether this CPU runs AVX-512F, AVX2 and FMA.
fn cpu_has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx512f") && cpu_has_avx2();
    #[cfg(not(target_arch = "x86_64"))]
    return false;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_avx512_cpu_is_an_avx2_cpu() {
        if let Ok(cpu) = Avx512::detect() {
            assert_eq!(Avx2::detect(), Ok(cpu.avx2()));
        }
        if let Err(e) = Avx2::detect() {
            assert!(e.to_string().contains("lacks AVX2 and FMA"), "{e}");
            assert!(Avx512::detect().is_err());
        }
    }
}
