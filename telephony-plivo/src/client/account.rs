//! The account: `GET /v1/Account/{auth_id}/`, whose `cash_credits` is its balance (Plivo's
//! "The Account object": "Credits of the account in USD").

use serde::Deserialize;
use telephony_core::rest::string_or_number;
use telephony_core::{Balance, Currency, DecodeError, Error, parse_decimal};

use super::PlivoClient;
use crate::KIND;

/// The account, as `GET /v1/Account/{auth_id}/` answers (the fields this adapter reads).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct AccountResource {
    /// The account's Auth ID.
    #[serde(default)]
    pub auth_id: Option<String>,
    /// `prepaid` or `postpaid`.
    #[serde(default)]
    pub billing_mode: Option<String>,
    /// The balance: credits in US dollars, a decimal string (`"4.88860"`).
    #[serde(default, deserialize_with = "string_or_number")]
    pub cash_credits: Option<String>,
}

impl AccountResource {
    /// The balance, exactly as written, in US dollars: Plivo's accounts are billed in them.
    pub fn balance(&self) -> Result<Balance, Error> {
        match parse_decimal(KIND, "account cash_credits", self.cash_credits.as_deref())? {
            Some(amount) => Ok(Balance::new(amount, Currency::USD)),
            None => Err(Error::Decode(DecodeError::new(
                KIND,
                "account",
                "no cash_credits: the account's balance is not in Plivo's answer",
            ))),
        }
    }
}

impl PlivoClient {
    /// The account (a read, retried as one).
    pub async fn get_account(&self) -> Result<AccountResource, Error> {
        self.rest
            .get(self.url(&[]), "fetch account")
            .auth(&self.auth)
            .decode()
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// plivo-python's fixture, tests/resources/fixtures/accountGetResponse.json.
    const FIXTURE: &str = r#"{
  "account_type": "standard",
  "address": "",
  "api_id": "95e1df78-3f08-11e7-8bc8-065f6a74a84a",
  "auth_id": "MAXXXXXXXXXXXXXXXXXX",
  "auto_recharge": false,
  "billing_mode": "prepaid",
  "cash_credits": "4.88860",
  "city": "",
  "name": "Sherlock Holmes",
  "resource_uri": "/v1/Account/MAXXXXXXXXXXXXXXXXXX/",
  "state": "",
  "timezone": "Asia/Kolkata"
}"#;

    #[test]
    fn cash_credits_are_the_balance_in_dollars_every_digit_kept() {
        let account: AccountResource = serde_json::from_str(FIXTURE).expect("the fixture");
        let balance = account.balance().expect("a balance");
        assert_eq!(balance.to_string(), "4.88860 USD");
        assert_eq!(account.billing_mode.as_deref(), Some("prepaid"));
    }

    #[test]
    fn an_account_without_credits_is_a_decode_error() {
        for json in [r#"{"auth_id": "MA1"}"#, r#"{"cash_credits": "plenty"}"#] {
            let account: AccountResource = serde_json::from_str(json).expect("parses");
            let err = account.balance().expect_err(json);
            assert!(matches!(err, Error::Decode(_)), "{json}: {err}");
        }
    }
}
