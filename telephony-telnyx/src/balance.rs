//! The account's balance: `GET /v2/balance` ("Get user balance details").

use serde::Deserialize;
use telephony_core::rest::string_or_number;
use telephony_core::{Balance, Currency, DecodeError, Error, parse_decimal};

use crate::KIND;
use crate::client::TelnyxClient;
use crate::resources::Data;

/// The account's balance, as `GET /v2/balance` answers in `data`: decimal strings
/// (`"balance": "300.00"`, `"available_credit": "400.00"`) and an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct BalanceResource {
    /// The account's current balance.
    #[serde(default, deserialize_with = "string_or_number")]
    pub balance: Option<String>,
    /// What can still be spent: the balance plus the credit limit.
    #[serde(default, deserialize_with = "string_or_number")]
    pub available_credit: Option<String>,
    /// The credit limit.
    #[serde(default, deserialize_with = "string_or_number")]
    pub credit_limit: Option<String>,
    /// The amount pending.
    #[serde(default, deserialize_with = "string_or_number")]
    pub pending: Option<String>,
    /// ISO 4217.
    #[serde(default)]
    pub currency: Option<String>,
}

impl BalanceResource {
    /// The balance, exactly as written, with what can still be spent.
    pub fn to_balance(&self) -> Result<Balance, Error> {
        let decode = |detail: String| Error::Decode(DecodeError::new(KIND, "balance", detail));
        let amount = parse_decimal(KIND, "balance", self.balance.as_deref())?
            .ok_or_else(|| decode("no balance in Telnyx's answer".to_owned()))?;
        let code = self.currency.as_deref().unwrap_or_default();
        let currency = Currency::new(code).ok_or_else(|| decode(format!("currency {code:?}")))?;
        let available = parse_decimal(
            KIND,
            "balance available_credit",
            self.available_credit.as_deref(),
        )?;
        Ok(Balance::new(amount, currency).with_available(available))
    }
}

impl TelnyxClient {
    /// The account's balance (a read, retried as one).
    ///
    /// # Errors
    ///
    /// Telnyx's refusal, a transport error, or an answer that is not a balance.
    pub async fn get_balance(&self) -> Result<BalanceResource, Error> {
        let answer: Data<BalanceResource> = self
            .rest
            .get(self.url(&["balance"]), "fetch balance")
            .auth(&self.auth)
            .decode()
            .await?;
        Ok(answer.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of Telnyx's API reference (developers.telnyx.com/api-reference/billing).
    const DOCUMENTED: &str = r#"{
  "data": {
    "record_type": "balance",
    "pending": "10.00",
    "balance": "300.00",
    "credit_limit": "100.00",
    "available_credit": "400.00",
    "currency": "USD"
  }
}"#;

    #[test]
    fn the_documented_balance_and_what_can_be_spent() {
        let answer: Data<BalanceResource> = serde_json::from_str(DOCUMENTED).expect("the example");
        let b = answer.data.to_balance().expect("a balance");
        assert_eq!(b.to_string(), "300.00 USD");
        assert_eq!(
            b.available.map(|a| a.to_string()).as_deref(),
            Some("400.00")
        );
        assert_eq!(b.spendable().to_string(), "400.00");
    }

    #[test]
    fn a_balance_without_its_amount_or_currency_is_a_decode_error() {
        for json in [
            r#"{"currency": "USD"}"#,
            r#"{"balance": "1.00"}"#,
            r#"{"balance": "1.00", "currency": "US dollars"}"#,
            r#"{"balance": "one", "currency": "USD"}"#,
        ] {
            let r: BalanceResource = serde_json::from_str(json).expect(json);
            let err = r.to_balance().expect_err(json);
            assert!(matches!(err, Error::Decode(_)), "{json}: {err}");
        }
    }
}
