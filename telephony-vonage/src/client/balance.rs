//! The account's balance: `GET https://rest.nexmo.com/account/get-balance` (the Account API,
//! on the REST host like the Numbers API, with the account's key and secret as Basic auth, as
//! Vonage's own snippet sends them: `curl ".../account/get-balance" -u "$VONAGE_API_KEY:$VONAGE_API_SECRET"`).

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use telephony_core::{Balance, Currency, DecodeError, Error, parse_decimal};

use super::{Api, VonageClient};
use crate::KIND;

/// The answer to `get-balance`: `{"value": 29.18202293, "autoReload": false}`, the value a
/// JSON number in the account's currency (euros unless the account was set up otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct BalanceResource {
    /// The balance, as the number's own text (`29.18202293`): never read through a float,
    /// which would drop digits.
    #[serde(default, deserialize_with = "number_text")]
    pub value: Option<String>,
    /// Whether the account tops itself up.
    #[serde(rename = "autoReload", default)]
    pub auto_reload: Option<bool>,
}

/// A JSON number as written (or a string's content, or nothing for `null`).
fn number_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let raw = Option::<Box<RawValue>>::deserialize(d)?;
    Ok(match raw.as_deref().map(RawValue::get) {
        None | Some("null") => None,
        Some(text) if text.starts_with('"') => serde_json::from_str::<String>(text).ok(),
        Some(text) => Some(text.to_owned()),
    })
}

impl BalanceResource {
    /// The balance in `currency`, which Vonage's answer does not state (the configured
    /// [`VonageConfig::currency`](crate::VonageConfig)).
    pub fn balance(&self, currency: Currency) -> Result<Balance, Error> {
        match parse_decimal(KIND, "balance value", self.value.as_deref())? {
            Some(amount) => Ok(Balance::new(amount, currency)),
            None => Err(Error::Decode(DecodeError::new(
                KIND,
                "balance",
                "no value: the account's balance is not in Vonage's answer",
            ))),
        }
    }
}

impl VonageClient {
    /// The account's balance (a read, retried as one), with the account's key and secret.
    pub async fn get_balance(&self) -> Result<BalanceResource, Error> {
        let auth = self.auth(Api::Account)?;
        self.rest
            .get(self.rest_url(&["account", "get-balance"]), "fetch balance")
            .auth(&auth)
            .decode()
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// vonage-python-sdk's fixture, account/tests/data/get_balance.json.
    #[test]
    fn the_value_keeps_every_digit_vonage_wrote() {
        let r: BalanceResource =
            serde_json::from_str("{\n    \"value\": 29.18202293,\n    \"autoReload\": false\n}")
                .expect("the fixture");
        let b = r.balance(Currency::EUR).expect("a balance");
        assert_eq!(b.to_string(), "29.18202293 EUR");
        assert_eq!(r.auto_reload, Some(false));
    }

    #[test]
    fn a_value_as_text_or_in_exponent_form_is_read_exactly() {
        for (json, amount) in [
            (r#"{"value": "10.28"}"#, "10.28"),
            (r#"{"value": 1.5E-3}"#, "0.0015"),
            (r#"{"value": -3.1}"#, "-3.1"),
            (r#"{"value": 20.00}"#, "20.00"),
            (
                r#"{"value": 0.123456789012345678901}"#,
                "0.123456789012345678901",
            ),
        ] {
            let r: BalanceResource = serde_json::from_str(json).expect(json);
            let b = r.balance(Currency::USD).expect(json);
            assert_eq!(b.amount.to_string(), amount, "{json}");
        }
    }

    #[test]
    fn no_value_or_not_a_number_is_a_decode_error() {
        for json in [
            r#"{"autoReload": true}"#,
            r#"{"value": null}"#,
            r#"{"value": "lots"}"#,
            r#"{"value": true}"#,
        ] {
            let r: BalanceResource = serde_json::from_str(json).expect(json);
            let err = r.balance(Currency::EUR).expect_err(json);
            assert!(matches!(err, Error::Decode(_)), "{json}: {err}");
        }
    }
}
