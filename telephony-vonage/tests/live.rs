//! Checks against the real Vonage API. Ignored by default: they need an account and spend
//! nothing but one request each.
//!
//! ```text
//! VONAGE_APPLICATION_ID=… VONAGE_PRIVATE_KEY_PATH=./private.key \
//! VONAGE_API_KEY=… VONAGE_API_SECRET=… \
//!   cargo test -p telephony-vonage --test live -- --ignored
//! ```

use telephony_core::{CallId, TelephonyProvider};
use telephony_vonage::{Vonage, VonageConfig};

fn vonage() -> Vonage {
    let config = VonageConfig::from_env()
        .expect("set VONAGE_APPLICATION_ID and VONAGE_PRIVATE_KEY_PATH to run the live checks");
    Vonage::new(config).expect("a usable private key")
}

#[tokio::test]
#[ignore = "needs Vonage credentials in the environment"]
async fn the_application_jwt_is_accepted() {
    // A call that does not exist: the JWT is accepted (404), not refused (401).
    let e = vonage()
        .call_status(&CallId::new("00000000-0000-4000-8000-000000000000").unwrap())
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

#[tokio::test]
#[ignore = "needs Vonage credentials (VONAGE_API_KEY and VONAGE_API_SECRET too)"]
async fn the_numbers_list() {
    for n in vonage().phone_numbers().await.unwrap() {
        assert!(n.number.as_str().starts_with('+'));
    }
}
