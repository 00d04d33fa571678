//! The account as a whole: what is left to spend.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::Currency;

/// The account's balance, as the carrier reports it: an exact decimal, never a float, and its
/// currency ([`TelephonyProvider::balance`](crate::TelephonyProvider::balance)).
///
/// ```
/// use telephony_core::{Balance, Currency, Decimal};
///
/// let balance = Balance::new("29.18202293".parse::<Decimal>()?, Currency::EUR);
/// assert_eq!(balance.to_string(), "29.18202293 EUR");
/// // Where the carrier adds a credit line (Telnyx), what can still be spent is more.
/// let telnyx = Balance::new("300.00".parse()?, Currency::USD).with_available(Some("400.00".parse()?));
/// assert_eq!(telnyx.spendable().to_string(), "400.00");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Balance {
    /// The balance, with every digit the carrier wrote. Negative where the account is in
    /// debt (a post-paid account).
    pub amount: Decimal,
    /// Its currency.
    pub currency: Currency,
    /// What the account can still spend, where the carrier says it apart from the balance
    /// (Telnyx's `available_credit`: the balance plus the account's credit limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available: Option<Decimal>,
}

impl Balance {
    /// A balance.
    pub fn new(amount: Decimal, currency: Currency) -> Balance {
        Balance {
            amount,
            currency,
            available: None,
        }
    }

    /// Sets what the account can still spend, where the carrier says it.
    pub fn with_available(mut self, available: Option<Decimal>) -> Balance {
        self.available = available;
        self
    }

    /// What calls can still be paid with: [`available`](Self::available) where the carrier
    /// says it, else the balance.
    pub fn spendable(&self) -> Decimal {
        self.available.unwrap_or(self.amount)
    }
}

impl fmt::Display for Balance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// JSON keeps every digit: the amount is a string, never a float.
    #[test]
    fn json_keeps_every_digit() {
        let b = Balance::new("29.18202293".parse().expect("a decimal"), Currency::EUR);
        let json = serde_json::to_string(&b).expect("serializes");
        assert_eq!(json, r#"{"amount":"29.18202293","currency":"EUR"}"#);
        assert_eq!(serde_json::from_str::<Balance>(&json).expect("parses"), b);
        let t = b.with_available(Some("-1.50".parse().expect("a decimal")));
        let json = serde_json::to_string(&t).expect("serializes");
        assert_eq!(
            json,
            r#"{"amount":"29.18202293","currency":"EUR","available":"-1.50"}"#
        );
        assert_eq!(t.spendable().to_string(), "-1.50");
    }
}
