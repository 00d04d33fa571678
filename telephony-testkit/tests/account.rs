//! Every emulator stages what `telephony doctor` checks on an account: a balance (a low one
//! included), and a number without voice where its carrier's numbers API can say so. Each
//! through the real adapter, built from the emulated account's settings.

use telephony::{Decimal, E164, Error};
use telephony_testkit::{Emulators, NumberFeatures};

fn number(n: &str) -> E164 {
    E164::new(n).expect("a number")
}

/// The balance the adapter reads is the one the fake was given, every digit, in the
/// carrier's currency; 20.00 until set.
#[tokio::test]
async fn every_emulator_serves_its_balance() {
    for emulator in Emulators::builtin().emulators() {
        let fake = emulator.start().await.expect("the emulator starts");
        let provider = fake.provider().expect("the adapter");
        let id = fake.id();
        let currency = if id == "vonage" { "EUR" } else { "USD" };
        let balance = provider.balance().await.expect("a balance");
        assert_eq!(balance.to_string(), format!("20.00 {currency}"), "{id}");
        let low: Decimal = "0.42".parse().expect("a decimal");
        fake.balance(low);
        assert_eq!(fake.account_balance(), low);
        let balance = provider.balance().await.expect("a balance");
        assert_eq!((balance.amount, balance.spendable()), (low, low), "{id}");
        let owed: Decimal = "-3.14159".parse().expect("a decimal");
        fake.balance(owed);
        let balance = provider.balance().await.expect("a balance");
        assert_eq!(balance.amount.to_string(), "-3.14159", "{id}");
    }
}

/// A number staged without voice is listed as such, refused by `configure_inbound` with its
/// reason, and a call to it never rings; a number with voice is listed as taking it. Telnyx's
/// numbers say neither, so it cannot stage one, and its numbers say `None`.
#[tokio::test]
async fn every_emulator_that_can_say_so_stages_a_number_without_voice() {
    let (ours, sms_only) = (number("+14155550100"), number("+14155550142"));
    let caller = number("+14155550199");
    let url = "https://agent.example.com/inbound".parse().expect("a URL");
    for emulator in Emulators::builtin().emulators() {
        let fake = emulator.start().await.expect("the emulator starts");
        let provider = fake.provider().expect("the adapter");
        let id = fake.id();
        fake.add_number(&ours);
        let staged = fake.add_number_with(&sms_only, NumberFeatures::new(false, true));
        let numbers = provider.phone_numbers().await.expect("the numbers");
        let said = |n: &E164| {
            numbers
                .iter()
                .find(|p| &p.number == n)
                .map(|p| (p.voice, p.sms))
        };
        if id == "telnyx" {
            let err = staged.expect_err("Telnyx's numbers cannot say it");
            assert!(err.contains("Telnyx"), "{err}");
            assert_eq!(said(&ours), Some((None, None)), "{id}");
            continue;
        }
        staged.unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(said(&ours), Some((Some(true), Some(true))), "{id}");
        assert_eq!(said(&sms_only), Some((Some(false), Some(true))), "{id}");
        let err = provider
            .configure_inbound(&sms_only, &url)
            .await
            .expect_err("a number without voice is refused");
        assert!(
            matches!(&err, Error::NumberWithoutVoice { number, .. } if number == &sms_only),
            "{id}: {err}"
        );
        let rang = fake.ring(&caller, &sms_only).expect_err("it never rings");
        assert!(rang.contains("cannot take voice calls"), "{id}: {rang}");
        // The number with voice is configured as before.
        provider
            .configure_inbound(&ours, &url)
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
    }
}
