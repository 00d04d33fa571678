//! Checks against the real Plivo API. Ignored by default: they need real credentials in
//! `PLIVO_AUTH_ID` and `PLIVO_AUTH_TOKEN`, and they reach the internet. Run them with
//! `cargo test -p telephony-plivo --test live -- --ignored`. They only read.

use telephony_core::TelephonyProvider;
use telephony_plivo::{Plivo, PlivoConfig};

#[tokio::test]
#[ignore = "needs real Plivo credentials and the internet"]
async fn lists_the_accounts_numbers() {
    let plivo =
        Plivo::new(PlivoConfig::from_env().expect("PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN")).unwrap();
    for n in plivo.phone_numbers().await.unwrap() {
        assert!(n.number.as_str().starts_with('+'));
    }
}
