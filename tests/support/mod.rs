//! What the root tests share: any of the three emulated carriers behind one type, with the
//! real adapter pointed at it.

#![allow(dead_code, unreachable_pub)]

pub mod soak;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use telephony::{E164, TelephonyProvider};
use telephony_testkit::{Fake, FakePlivo, FakeTwilio, FakeVonage};

/// Every provider, by id.
pub const PROVIDERS: [&str; 3] = ["twilio", "plivo", "vonage"];

/// An emulated carrier, whichever it is.
pub enum AnyFake {
    Twilio(FakeTwilio),
    Plivo(FakePlivo),
    Vonage(FakeVonage),
}

impl AnyFake {
    /// Starts the fake for `provider` on a free loopback port.
    pub async fn start(provider: &str) -> AnyFake {
        match provider {
            "twilio" => AnyFake::Twilio(FakeTwilio::start().await.expect("FakeTwilio")),
            "plivo" => AnyFake::Plivo(FakePlivo::start().await.expect("FakePlivo")),
            "vonage" => AnyFake::Vonage(FakeVonage::start().await.expect("FakeVonage")),
            other => panic!("no fake for {other}"),
        }
    }

    /// The real adapter, pointed at the fake.
    pub fn provider(&self) -> Arc<dyn TelephonyProvider> {
        match self {
            AnyFake::Twilio(f) => Arc::new(telephony::twilio::Twilio::new(f.config()).unwrap()),
            AnyFake::Plivo(f) => Arc::new(telephony::plivo::Plivo::new(f.config()).unwrap()),
            AnyFake::Vonage(f) => Arc::new(telephony::vonage::Vonage::new(f.config()).unwrap()),
        }
    }

    /// Gives the emulated account `number`.
    pub fn add_number(&self, number: &E164) {
        match self {
            AnyFake::Twilio(f) => f.add_number(number),
            AnyFake::Plivo(f) => f.add_number(number),
            AnyFake::Vonage(f) => f.add_number(number),
        }
    }

    /// Dials one of the account's numbers, as a caller on the phone network would.
    pub fn ring(&self, from: &E164, to: &E164) -> String {
        match self {
            AnyFake::Twilio(f) => f.ring(from, to),
            AnyFake::Plivo(f) => f.ring(from, to),
            AnyFake::Vonage(f) => f.ring(from, to),
        }
        .expect("the fake rings the number")
    }
}

impl Deref for AnyFake {
    type Target = Fake;
    fn deref(&self) -> &Fake {
        match self {
            AnyFake::Twilio(f) => f,
            AnyFake::Plivo(f) => f,
            AnyFake::Vonage(f) => f,
        }
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
