//! What the root tests share: any emulated carrier behind one type, found by id in the
//! testkit's one list of emulators, with the real adapter built from the emulated account's
//! settings through the facade's registry.

#![allow(dead_code, unreachable_pub)]

pub mod soak;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use telephony::{E164, Registry, TelephonyProvider};
use telephony_testkit::{Emulated, Emulator, Emulators};

/// Every emulated carrier, in the order registered: what a test that runs on each iterates.
pub fn emulators() -> Vec<&'static dyn Emulator> {
    Emulators::builtin().emulators().to_vec()
}

/// An emulated carrier, whichever it is. Derefs to [`Emulated`] (and on to
/// `telephony_testkit::Fake`) for the knobs and records.
pub struct AnyFake(Emulated);

impl AnyFake {
    /// Starts the emulator of carrier `id` on a free loopback port.
    pub async fn start(id: &str) -> AnyFake {
        let emulators = Emulators::builtin();
        let emulator = emulators
            .find(id)
            .unwrap_or_else(|| panic!("no emulator for {id:?}: {emulators:?}"));
        AnyFake(
            emulator
                .start()
                .await
                .unwrap_or_else(|e| panic!("{id}: the emulator starts: {e}")),
        )
    }

    /// The real adapter, pointed at the fake: the carrier's registry entry, the emulated
    /// account's settings.
    pub fn provider(&self) -> Arc<dyn TelephonyProvider> {
        Registry::builtin()
            .config(self.id(), |name| self.setting(name))
            .expect("the emulated account's settings")
            .base_url(self.base_url())
            .build()
            .expect("the adapter")
    }

    /// Dials one of the account's numbers, as a caller on the phone network would.
    pub fn ring(&self, from: &E164, to: &E164) -> String {
        self.0.ring(from, to).expect("the fake rings the number")
    }
}

impl Deref for AnyFake {
    type Target = Emulated;
    fn deref(&self) -> &Emulated {
        &self.0
    }
}

/// `n` in E.164.
pub fn number(n: &str) -> E164 {
    n.parse().expect("an E.164 number")
}

/// Waits for `check` to hold, polling, for up to `within`.
pub async fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The signal-to-noise ratio of `test` against `reference`, in dB, over their common length.
pub fn snr_db(reference: &[i16], test: &[i16]) -> f64 {
    let n = reference.len().min(test.len());
    let (mut signal, mut noise) = (0.0f64, 0.0f64);
    for (&r, &t) in reference[..n].iter().zip(&test[..n]) {
        signal += f64::from(r).powi(2);
        noise += (f64::from(r) - f64::from(t)).powi(2);
    }
    if noise == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (signal / noise).log10()
}
