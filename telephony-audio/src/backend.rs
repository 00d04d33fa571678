//! The instruction sets the DSP kernels run on, and how one is chosen.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use thiserror::Error;

use crate::cpu::{Avx2, Avx512};

/// An instruction set the resampler's kernels run on (and, from AVX2 up, the G.711 slice
/// loops).
///
/// Holding a `Backend` proves the CPU runs it: every way to get one checks first
/// ([`Backend::avx2`] and [`Backend::avx512`] return an error on a CPU without the feature),
/// and the AVX2 and AVX-512 backends carry the token of that check ([`Avx2`], [`Avx512`]),
/// which is what their kernels take. A resampler built on one never executes an instruction
/// the CPU lacks.
///
/// Every backend computes the same filter; they differ in speed and, by at most one least
/// significant bit, in rounding. [`Backend::detect`] picks the fastest, which is what
/// [`Resampler::new`](crate::Resampler::new) and the codecs use; the environment variable
/// `TELEPHONY_SIMD` (`portable`, `avx2` or `avx512`) caps that choice for the whole process, to
/// run everything on a slower backend than the CPU allows. Tests and benchmarks pick each one
/// with [`Backend::available`].
///
/// ```
/// use telephony_audio::{Backend, Profile, Resampler, SampleRate};
///
/// for backend in Backend::available() {
///     let mut r = Resampler::with_backend(SampleRate::Hz8000, SampleRate::Hz16000,
///                                         Profile::HighQuality, backend);
///     let mut out = [0i16; 320];
///     assert_eq!(r.process(&[0; 160], &mut out)?, 320);
/// }
/// # Ok::<(), telephony_audio::AudioError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Backend(pub(crate) Isa);

/// The instruction sets, each beyond the baseline with the token that proves the CPU runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Isa {
    /// Whatever the compilation target guarantees: SSE2 on x86-64, NEON on aarch64.
    Portable,
    /// x86-64 with AVX2 and FMA.
    Avx2(Avx2),
    /// x86-64 with AVX-512F and FMA (and AVX2, which every such CPU has).
    Avx512(Avx512),
}

impl Isa {
    /// See [`Backend::avx2_token`].
    pub(crate) const fn avx2_token(self) -> Option<Avx2> {
        match self {
            Isa::Portable => None,
            Isa::Avx2(cpu) => Some(cpu),
            Isa::Avx512(cpu) => Some(cpu.avx2()),
        }
    }
}

/// The instruction sets by name, slowest first: what `TELEPHONY_SIMD` and [`FromStr`] name,
/// whether or not this CPU runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Portable,
    Avx2,
    Avx512,
}

/// A backend that cannot be had: the CPU lacks it, or no backend has that name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BackendError {
    /// This CPU does not run the instruction set.
    #[error("this CPU does not run the {backend} backend: it lacks {missing}")]
    MissingCpuFeature {
        /// The backend asked for.
        backend: &'static str,
        /// The CPU features it needs and this CPU lacks.
        missing: &'static str,
    },
    /// No backend has this name.
    #[error("unknown SIMD backend {0:?}: expected portable (or sse2), avx2 or avx512")]
    Unknown(String),
}

impl Backend {
    /// The portable kernels, compiled for the target's baseline (SSE2 on x86-64, NEON on
    /// aarch64): every CPU runs them.
    pub const PORTABLE: Backend = Backend(Isa::Portable);

    /// AVX2 with fused multiply-add, if this CPU has both (see [`Avx2::detect`]).
    ///
    /// # Errors
    ///
    /// [`BackendError::MissingCpuFeature`] on a CPU (or an architecture) without them.
    pub fn avx2() -> Result<Backend, BackendError> {
        Avx2::detect().map(|cpu| Backend(Isa::Avx2(cpu)))
    }

    /// AVX-512F with fused multiply-add (and AVX2), if this CPU has them (see
    /// [`Avx512::detect`]).
    ///
    /// # Errors
    ///
    /// [`BackendError::MissingCpuFeature`] on a CPU (or an architecture) without them.
    pub fn avx512() -> Result<Backend, BackendError> {
        Avx512::detect().map(|cpu| Backend(Isa::Avx512(cpu)))
    }

    /// The fastest backend this CPU runs, capped by `TELEPHONY_SIMD` when it is set (read once
    /// per process; a value that names no backend is ignored, and a backend the CPU lacks
    /// gives the fastest one below it).
    pub fn detect() -> Backend {
        static CHOSEN: OnceLock<Backend> = OnceLock::new();
        *CHOSEN.get_or_init(|| {
            let fastest = Backend::fastest();
            match std::env::var("TELEPHONY_SIMD").ok().and_then(|v| level(&v)) {
                Some(cap) => Backend::available()
                    .into_iter()
                    .find(|b| b.level() <= cap)
                    .unwrap_or(Backend::PORTABLE),
                None => fastest,
            }
        })
    }

    /// The fastest backend this CPU runs, whatever `TELEPHONY_SIMD` says.
    pub fn fastest() -> Backend {
        Backend::available()[0]
    }

    /// Every backend this CPU runs, fastest first; [`Backend::PORTABLE`] is always last.
    pub fn available() -> Vec<Backend> {
        [Backend::avx512(), Backend::avx2(), Ok(Backend::PORTABLE)]
            .into_iter()
            .filter_map(Result::ok)
            .collect()
    }

    /// `portable`, `avx2` or `avx512`: the name [`FromStr`] and `TELEPHONY_SIMD` take.
    pub const fn name(self) -> &'static str {
        match self.0 {
            Isa::Portable => "portable",
            Isa::Avx2(_) => "avx2",
            Isa::Avx512(_) => "avx512",
        }
    }

    /// What the kernels are compiled for: `portable (SSE2)` on x86-64, `AVX2 + FMA`, …
    pub const fn description(self) -> &'static str {
        match self.0 {
            Isa::Portable if cfg!(target_arch = "x86_64") => "portable (SSE2)",
            Isa::Portable if cfg!(target_arch = "aarch64") => "portable (NEON)",
            Isa::Portable => "portable",
            Isa::Avx2(_) => "AVX2 + FMA",
            Isa::Avx512(_) => "AVX-512F + FMA",
        }
    }

    /// Whether code for this backend may use AVX2 (the G.711 slice loops, base64 on the media
    /// path): [`Backend::avx2_token`] is `Some`.
    pub const fn has_avx2(self) -> bool {
        self.avx2_token().is_some()
    }

    /// The proof that this CPU runs AVX2 and FMA, from the AVX2 and AVX-512 backends (whose
    /// constructors checked it); `None` from [`Backend::PORTABLE`]. What code outside the
    /// resampler that uses AVX2 when the chosen backend allows it (the G.711 slice loops,
    /// base64 on the media path) passes to its AVX2 functions:
    ///
    /// ```
    /// use telephony_audio::Backend;
    ///
    /// // `None` on a CPU without AVX2 and FMA, or when `TELEPHONY_SIMD=portable`.
    /// if let Some(cpu) = Backend::detect().avx2_token() {
    ///     println!("AVX2 code may run: {cpu:?}");
    /// }
    /// assert_eq!(Backend::PORTABLE.avx2_token(), None);
    /// ```
    pub const fn avx2_token(self) -> Option<Avx2> {
        self.0.avx2_token()
    }

    /// Where the backend stands among the others: the order of [`Ord`] and of the cap.
    const fn level(self) -> Level {
        match self.0 {
            Isa::Portable => Level::Portable,
            Isa::Avx2(_) => Level::Avx2,
            Isa::Avx512(_) => Level::Avx512,
        }
    }
}

/// The instruction set a name stands for, whether or not this CPU runs it.
fn level(name: &str) -> Option<Level> {
    match name.trim().to_ascii_lowercase().as_str() {
        "portable" | "sse2" | "neon" | "baseline" => Some(Level::Portable),
        "avx2" => Some(Level::Avx2),
        "avx512" | "avx-512" | "avx512f" => Some(Level::Avx512),
        _ => None,
    }
}

impl FromStr for Backend {
    type Err = BackendError;

    /// `portable` (or `sse2`, `neon`), `avx2` or `avx512`, if this CPU runs it.
    fn from_str(s: &str) -> Result<Backend, BackendError> {
        match level(s) {
            None => Err(BackendError::Unknown(s.to_owned())),
            Some(Level::Portable) => Ok(Backend::PORTABLE),
            Some(Level::Avx2) => Backend::avx2(),
            Some(Level::Avx512) => Backend::avx512(),
        }
    }
}

/// Slowest first: `PORTABLE < avx2 < avx512`.
impl PartialOrd for Backend {
    fn partial_cmp(&self, other: &Backend) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Backend {
    fn cmp(&self, other: &Backend) -> std::cmp::Ordering {
        self.level().cmp(&other.level())
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Backend({})", self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_available_backend_is_had_by_name_and_nothing_else_is() {
        let all = Backend::available();
        assert_eq!(all.last(), Some(&Backend::PORTABLE));
        assert!(all.windows(2).all(|w| w[0] > w[1]), "fastest first");
        for b in &all {
            assert_eq!(b.name().parse::<Backend>(), Ok(*b));
            assert_eq!(b.avx2_token().is_some(), *b != Backend::PORTABLE, "{b}");
        }
        assert_eq!("sse2".parse::<Backend>(), Ok(Backend::PORTABLE));
        for (name, got) in [("avx2", Backend::avx2()), ("avx512", Backend::avx512())] {
            match got {
                Ok(b) => assert!(all.contains(&b), "{name}"),
                Err(e) => {
                    assert!(!all.iter().any(|b| b.name() == name));
                    assert!(e.to_string().contains("lacks"), "{e}");
                }
            }
        }
        assert!(matches!(
            "avx9000".parse::<Backend>(),
            Err(BackendError::Unknown(_))
        ));
        assert_eq!(Backend::fastest(), all[0]);
        assert!(all.contains(&Backend::detect()));
    }
}
