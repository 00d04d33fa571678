//! The account rules every adapter keeps: its balance, and its numbers' voice capability.
//!
//! - [`Capabilities::balance`](telephony_core::Capabilities) tells the truth both ways: where
//!   it is denied, [`TelephonyProvider::balance`](telephony_core::TelephonyProvider::balance)
//!   is [`Error::Unsupported`] and no request leaves; where it is allowed, the balance is read
//!   from the carrier, retried like any read, and comes out as the carrier's exact decimal in
//!   its currency.
//! - A number the carrier reports cannot take voice calls is refused by `configure_inbound`
//!   with [`Error::NumberWithoutVoice`], before any write. A carrier whose numbers do not say
//!   is never claimed to: its numbers read `voice: None`.
//!
//! The rules run in [`rest_contract!`](crate::rest_contract), with the carrier's
//! [`RestCarrier`]: its [`BalanceRead`] and [`Inbound::voiceless`](super::rest::Inbound).

use telephony_core::{Error, Url};
use wiremock::matchers::{any, method};
use wiremock::{Mock, ResponseTemplate};

use super::rest::{Endpoint, RestCarrier, Scene, error};

/// Where a carrier's balance is read, and what its answer says.
#[derive(Debug, Clone)]
pub struct BalanceRead {
    /// The request (`GET` of the balance resource), and the carrier's answer: a real body,
    /// from the carrier's documentation or SDK fixtures.
    pub endpoint: Endpoint,
    /// The balance that answer gives, with every digit the carrier wrote: `29.18202293`.
    pub amount: &'static str,
    /// Its currency, as the adapter reports it: `EUR`.
    pub currency: &'static str,
}

/// Where the capabilities deny the balance, it is refused as unsupported and no request
/// leaves; where they allow it, the carrier's description must say where it is read.
pub async fn unsupported_balance_is_refused_before_any_request(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    let provider = scene.adapter();
    if provider.capabilities().balance {
        assert!(
            carrier.balance.is_some(),
            "{}: its capabilities allow reading the balance: describe where (RestCarrier::balance)",
            carrier.name
        );
        return;
    }
    Mock::given(any())
        .respond_with(error(carrier, 400, "refused"))
        .expect(0)
        .mount(&scene.server)
        .await;
    match provider.balance().await {
        Err(Error::Unsupported { provider: kind, .. }) => {
            assert_eq!(kind.name(), carrier.name, "the refusal names its carrier");
        }
        other => panic!(
            "{}: the balance is not in its capabilities, so it must be Unsupported, yet gave {other:?}",
            carrier.name
        ),
    }
    let sent = scene.server.received_requests().await.unwrap_or_default();
    assert!(
        sent.is_empty(),
        "{}: the balance is not in its capabilities, yet {} request(s) left",
        carrier.name,
        sent.len()
    );
}

/// Where the capabilities allow the balance, it is read from the carrier (the read retried
/// after a server error, as any read) and comes out as the carrier's exact decimal and its
/// currency; where they deny it, the carrier's description must not claim an endpoint.
pub async fn supported_balance_reaches_the_carrier(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    let provider = scene.adapter();
    let Some(read) = &carrier.balance else {
        assert!(
            !provider.capabilities().balance,
            "{}: its capabilities allow reading the balance: describe where (RestCarrier::balance)",
            carrier.name
        );
        return;
    };
    assert!(
        provider.capabilities().balance,
        "{}: a balance endpoint is described, yet the capabilities deny the balance",
        carrier.name
    );
    let failure = error(carrier, 503, "try again");
    scene.fails_then_succeeds(&read.endpoint, failure, 1).await;
    let balance = provider
        .balance()
        .await
        .unwrap_or_else(|e| panic!("{}: the balance: {e}", carrier.name));
    let got = (
        balance.amount.to_string(),
        balance.currency.code().to_owned(),
    );
    assert_eq!(
        got,
        (read.amount.to_owned(), read.currency.to_owned()),
        "{}: {balance:?}",
        carrier.name
    );
    assert_eq!(scene.retries(), 1, "{}: a read is retried", carrier.name);
}

/// A number the carrier reports cannot take voice calls is refused before anything is
/// written, with a typed error naming the number and the carrier. A carrier whose numbers do
/// not say ([`Inbound::voiceless`](super::rest::Inbound) `None`) is never claimed to: the
/// numbers it lists read `voice: None`.
pub async fn inbound_refuses_a_number_without_voice(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    let Some(reads) = &carrier.inbound.voiceless else {
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json((carrier.numbers.page)(1, None)))
            .mount(&scene.server)
            .await;
        let numbers = scene
            .adapter()
            .phone_numbers()
            .await
            .unwrap_or_else(|e| panic!("{}: the numbers: {e}", carrier.name));
        assert!(!numbers.is_empty(), "{}: no number listed", carrier.name);
        for n in numbers {
            assert_eq!(
                (n.voice, n.sms),
                (None, None),
                "{}: its numbers do not say what they take, yet {} claims to",
                carrier.name,
                n.number
            );
        }
        return;
    };
    for read in reads {
        read.mock()
            .respond_with(read.success())
            .mount(&scene.server)
            .await;
    }
    for write in &carrier.inbound.writes {
        scene.answers(write, write.success(), 0).await;
    }
    let number = &carrier.inbound.number;
    let url: Url = "https://agent.example.com/inbound".parse().expect("a URL");
    let err = scene
        .adapter()
        .configure_inbound(number, &url)
        .await
        .expect_err("a number without voice is refused");
    match &err {
        Error::NumberWithoutVoice {
            provider,
            number: refused,
        } => {
            assert_eq!((provider.name(), refused), (carrier.name, number), "{err}");
        }
        other => panic!(
            "{}: a number without voice must be NumberWithoutVoice, yet gave {other:?}",
            carrier.name
        ),
    }
    let text = err.to_string();
    assert!(
        text.contains(number.as_str()) && text.contains("voice"),
        "{text}"
    );
    let sent = scene.server.received_requests().await.unwrap_or_default();
    let writes: Vec<String> = sent
        .iter()
        .filter(|r| r.method.as_str() != "GET")
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert!(writes.is_empty(), "{}: wrote {writes:?}", carrier.name);
}
