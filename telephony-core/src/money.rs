//! Money as carriers report it: exact decimals, never floats, with their currency.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{DecodeError, Error};
use crate::provider::ProviderKind;

/// An ISO 4217 currency code: `USD`, `EUR`, …
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// US dollars, what Twilio, Plivo and most accounts bill in.
    pub const USD: Currency = Currency(*b"USD");
    /// Euros, what Vonage bills in.
    pub const EUR: Currency = Currency(*b"EUR");

    /// A currency from three ASCII letters, upper-cased.
    pub fn new(code: &str) -> Option<Currency> {
        let b = code.trim().as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        Some(Currency([
            b[0].to_ascii_uppercase(),
            b[1].to_ascii_uppercase(),
            b[2].to_ascii_uppercase(),
        ]))
    }

    /// The code.
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::new(&s).ok_or_else(|| serde::de::Error::custom(format!("bad currency {s:?}")))
    }
}

/// Reads a decimal a provider wrote as text (`"0.01300"`, `"-0.013"`, `"1.5E-3"`): `None` for
/// nothing or blank, a decode error naming `what` for anything else that is not a number.
///
/// ```
/// use telephony_core::{Decimal, ProviderKind, parse_decimal};
///
/// const P: ProviderKind = ProviderKind::new("acme", "Acme");
/// assert_eq!(parse_decimal(P, "price", Some(" 0.00450000 "))?, Some("0.0045".parse::<Decimal>()?));
/// assert_eq!(parse_decimal(P, "price", Some(""))?, None);
/// assert!(parse_decimal(P, "price", Some("free")).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_decimal(
    provider: ProviderKind,
    what: &str,
    value: Option<&str>,
) -> Result<Option<Decimal>, Error> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<Decimal>()
            .or_else(|_| Decimal::from_scientific(v))
            .map(Some)
            .map_err(|e| Error::Decode(DecodeError::new(provider, what, format!("{v:?}: {e}")))),
    }
}

/// What a call cost: an exact decimal amount, never a float, and its currency.
///
/// The amount is what was charged, positive (Twilio writes charges as negative prices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallCost {
    /// The amount charged.
    pub amount: Decimal,
    /// Its currency.
    pub currency: Currency,
    /// The per-minute rate, where the provider says it.
    pub rate: Option<Decimal>,
}

impl CallCost {
    /// A cost.
    pub fn new(amount: Decimal, currency: Currency) -> CallCost {
        CallCost {
            amount,
            currency,
            rate: None,
        }
    }

    /// Sets the per-minute rate.
    pub fn with_rate(mut self, rate: Option<Decimal>) -> CallCost {
        self.rate = rate;
        self
    }
}

impl fmt::Display for CallCost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}
