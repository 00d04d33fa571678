//! Checks against the real Twilio API. Ignored by default: they need real credentials in
//! `TWILIO_ACCOUNT_SID` and `TWILIO_AUTH_TOKEN`, and they reach the internet. Run them with
//! `cargo test -p telephony-twilio --test live -- --ignored`. They only read.

use telephony_core::{CallId, TelephonyProvider};
use telephony_twilio::{Twilio, TwilioConfig};

fn twilio() -> Twilio {
    Twilio::new(TwilioConfig::from_env().expect("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"))
        .unwrap()
}

#[tokio::test]
#[ignore = "needs real Twilio credentials and the internet"]
async fn lists_the_accounts_numbers() {
    let numbers = twilio().phone_numbers().await.unwrap();
    for n in numbers {
        assert!(n.number.as_str().starts_with('+'));
    }
}

#[tokio::test]
#[ignore = "needs real Twilio credentials and the internet"]
async fn an_unknown_call_is_not_found() {
    let id = CallId::new("CA00000000000000000000000000000000").unwrap();
    let err = twilio().call_status(&id).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}
