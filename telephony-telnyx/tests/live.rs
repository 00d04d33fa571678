//! Checks against the real Telnyx API. Ignored by default: they need an account, and spend
//! nothing but one or two requests each.
//!
//! ```text
//! TELNYX_API_KEY=KEY… TELNYX_CONNECTION_ID=… TELNYX_PUBLIC_KEY=… \
//!   cargo test -p telephony-telnyx --test live -- --ignored
//! ```

use telephony_core::{CallId, TelephonyProvider};
use telephony_telnyx::{Telnyx, TelnyxConfig};

fn telnyx() -> Telnyx {
    let config = TelnyxConfig::from_env().expect(
        "set TELNYX_API_KEY, TELNYX_CONNECTION_ID and TELNYX_PUBLIC_KEY to run the live checks",
    );
    Telnyx::new(config).expect("usable settings")
}

#[tokio::test]
#[ignore = "needs real credentials"]
async fn the_api_key_is_accepted() {
    // A call that does not exist: the key is accepted (404, or 422 for an id Telnyx cannot
    // read), not refused (401).
    let e = telnyx()
        .call_status(&CallId::new("v3:telephony-rs-live-check-not-a-call").unwrap())
        .await
        .unwrap_err();
    assert!(!e.is_auth(), "{e}");
    assert!(matches!(e.http_status(), Some(404 | 422)), "{e}");
}

#[tokio::test]
#[ignore = "needs real credentials"]
async fn the_numbers_list_in_e164() {
    for n in telnyx().phone_numbers().await.unwrap() {
        assert!(n.number.as_str().starts_with('+'));
        assert!(
            n.provider_id
                .as_deref()
                .is_none_or(|p| p.starts_with("application ")),
            "{n:?}"
        );
    }
}

#[tokio::test]
#[ignore = "needs real credentials"]
async fn the_public_key_is_one() {
    // TELNYX_PUBLIC_KEY parsed as an Ed25519 key when the settings were read.
    assert!(telnyx().client().config().public_key.is_some());
}
