//! The account's balance: `GET /2010-04-01/Accounts/{sid}/Balance.json`.

use telephony_core::{Balance, Currency, DecodeError, Error, parse_decimal};

use crate::KIND;
use crate::client::TwilioClient;
use crate::resources::BalanceResource;

impl TwilioClient {
    /// The account's balance resource (a read, retried as one).
    pub async fn fetch_balance(&self) -> Result<BalanceResource, Error> {
        self.rest
            .get(self.account_url(&["Balance.json"]), "fetch balance")
            .auth(&self.auth)
            .decode()
            .await
    }
}

/// The balance a resource gives, exactly as written, in its currency. A resource without one
/// is a subaccount's: Twilio keeps the balance on the main account.
pub(crate) fn balance_of(resource: &BalanceResource, account: &str) -> Result<Balance, Error> {
    let decode = |detail: String| Error::Decode(DecodeError::new(KIND, "balance", detail));
    let Some(amount) = parse_decimal(KIND, "balance", resource.balance.as_deref())? else {
        let short = &account[..account.len().min(8)];
        return Err(decode(format!(
            "no balance for account {short}…: a subaccount has none of its own; ask with the main account's credentials"
        )));
    };
    let code = resource.currency.as_deref().unwrap_or_default();
    let currency = Currency::new(code).ok_or_else(|| decode(format!("currency {code:?}")))?;
    Ok(Balance::new(amount, currency))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(json: &str) -> BalanceResource {
        serde_json::from_str(json).expect("a balance resource")
    }

    /// twilio-python's fixture (tests/integration/api/v2010/account/test_balance.py).
    #[test]
    fn the_documented_balance_is_read_exactly() {
        let r = resource(
            r#"{"account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "balance": "0.05", "currency": "USD"}"#,
        );
        let b = balance_of(&r, "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").expect("a balance");
        assert_eq!(
            (b.amount.to_string(), b.currency),
            ("0.05".into(), Currency::USD)
        );
        assert_eq!(b.available, None);
    }

    #[test]
    fn a_subaccount_without_a_balance_says_why() {
        let r = resource(
            r#"{"account_sid": "AC0123456789abcdef0123456789abcdef", "balance": null, "currency": null}"#,
        );
        let err = balance_of(&r, "AC0123456789abcdef0123456789abcdef").expect_err("no balance");
        let text = err.to_string();
        assert!(
            text.contains("subaccount") && text.contains("AC012345…"),
            "{text}"
        );
        assert!(
            !text.contains("AC0123456789abcdef0123456789abcdef"),
            "{text}"
        );
    }

    #[test]
    fn a_balance_that_is_not_a_number_is_a_decode_error() {
        for json in [
            r#"{"balance": "lots", "currency": "USD"}"#,
            r#"{"balance": "1.00", "currency": "dollars"}"#,
        ] {
            let err = balance_of(&resource(json), "AC0").expect_err(json);
            assert!(matches!(err, Error::Decode(_)), "{json}: {err}");
        }
    }
}
