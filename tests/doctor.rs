//! `doctor::run` on every emulated carrier: each problem the emulator stages is reported with
//! its status and advice.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use telephony::axum::Webhooks;
use telephony::doctor::{self, DoctorOptions, Report, Status};
use telephony::{
    E164, InboundRouter, MemoryDirectory, PublicUrl, Secret, TelephonyProvider, TrustedProxies, Url,
};
use telephony_testkit::{Emulated, Emulators, Fault, NumberFeatures, Operation, TlsListener};

const NUMBER: &str = "+14155550100";

fn number() -> E164 {
    NUMBER.parse().unwrap()
}

/// Each emulator, started, with its adapter.
async fn each() -> Vec<(Emulated, Arc<dyn TelephonyProvider>)> {
    let mut all = Vec::new();
    for emulator in Emulators::builtin().emulators() {
        let fake = emulator.start().await.unwrap();
        let provider = fake.provider().unwrap();
        all.push((fake, provider));
    }
    all
}

fn status(report: &Report, name: &str) -> Status {
    report
        .check(name)
        .unwrap_or_else(|| panic!("no check {name} in {report:#?}"))
        .status
}

fn advice(report: &Report, name: &str) -> String {
    report
        .check(name)
        .unwrap()
        .advice
        .clone()
        .unwrap_or_default()
}

/// An agent on loopback that answers webhooks with `InboundRouter`, rebuilding the URL with
/// `public_url`; its `/voice` URL.
async fn agent(provider: Arc<dyn TelephonyProvider>, public_url: PublicUrl) -> Url {
    let router = InboundRouter::new(Arc::new(MemoryDirectory::new())).provider(provider);
    let app = Router::new()
        .route("/voice", post(Webhooks::inbound))
        .with_state(Webhooks::new(router, public_url));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let _open = telephony_testkit::serve_counted(listener, app);
    format!("http://{addr}/voice").parse().unwrap()
}

/// A route that answers every POST as a verifying agent answers a signed probe, without
/// checking anything; its `/voice` URL.
async fn careless_agent() -> Url {
    let app = Router::new().route(
        "/voice",
        post(|| async { (axum::http::StatusCode::BAD_REQUEST, "not an inbound call") }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let _open = telephony_testkit::serve_counted(listener, app);
    format!("http://{addr}/voice").parse().unwrap()
}

#[tokio::test]
async fn a_healthy_account_passes_every_account_check() {
    for (fake, provider) in each().await {
        fake.add_number(&number());
        let url: Url = "https://agent.example.com/voice".parse().unwrap();
        provider.configure_inbound(&number(), &url).await.unwrap();
        let options = DoctorOptions::new()
            .number(number())
            .min_balance("5".parse().unwrap());
        let report = doctor::run(provider.as_ref(), &options).await;
        let id = fake.id();
        assert_eq!(
            status(&report, "credentials"),
            Status::Ok,
            "{id}: {report:#?}"
        );
        assert_eq!(status(&report, "clock"), Status::Ok, "{id}: {report:#?}");
        let balance = if provider.capabilities().balance {
            Status::Ok
        } else {
            Status::Skipped
        };
        assert_eq!(status(&report, "balance"), balance, "{id}: {report:#?}");
        // Telnyx does not say whether a number takes voice: a warning, not a pass.
        let n = status(&report, &format!("number {NUMBER}"));
        assert!(
            matches!(n, Status::Ok | Status::Warning),
            "{id}: {report:#?}"
        );
        assert_eq!(status(&report, "url"), Status::Skipped, "{id}");
        assert_eq!(report.check("url").unwrap().detail, "no --url");
        assert_eq!(status(&report, "certificate"), Status::Skipped, "{id}");
        assert_eq!(status(&report, "webhook"), Status::Skipped, "{id}");
        assert!(!report.failed(), "{id}: {report:#?}");
    }
}

#[tokio::test]
async fn a_low_balance_fails_with_top_up_advice() {
    for (fake, provider) in each().await {
        if !provider.capabilities().balance {
            continue;
        }
        fake.balance("1.50".parse().unwrap());
        let options = DoctorOptions::new().min_balance("5".parse().unwrap());
        let report = doctor::run(provider.as_ref(), &options).await;
        assert_eq!(
            status(&report, "balance"),
            Status::Failed,
            "{}: {report:#?}",
            fake.id()
        );
        let detail = &report.check("balance").unwrap().detail;
        assert!(
            detail.contains("1.50") && detail.contains("below 5"),
            "{detail}"
        );
        assert!(advice(&report, "balance").contains("top up"));
        assert!(report.failed());
    }
}

#[tokio::test]
async fn refused_credentials_fail_naming_the_settings() {
    for (fake, provider) in each().await {
        fake.fail_next(Operation::Any, Fault::Status(401), 1);
        let report = doctor::run(provider.as_ref(), &DoctorOptions::new()).await;
        let id = fake.id();
        assert_eq!(
            status(&report, "credentials"),
            Status::Failed,
            "{id}: {report:#?}"
        );
        let advice = advice(&report, "credentials");
        let prefix = provider.carrier().settings_prefix();
        assert!(
            advice.contains(prefix),
            "{id}: the 401's advice names a setting: {advice}"
        );
        // What needs the account is skipped, saying why.
        let balance = report.check("balance").unwrap();
        assert_eq!(balance.status, Status::Skipped, "{id}");
    }
}

#[tokio::test]
async fn a_number_without_voice_fails() {
    for (fake, provider) in each().await {
        // Telnyx's numbers API does not say what a number takes: nothing to stage there.
        if fake
            .add_number_with(&number(), NumberFeatures::new(false, true))
            .is_err()
        {
            continue;
        }
        let report = doctor::run(provider.as_ref(), &DoctorOptions::new().number(number())).await;
        let name = format!("number {NUMBER}");
        assert_eq!(
            status(&report, &name),
            Status::Failed,
            "{}: {report:#?}",
            fake.id()
        );
        assert!(
            report
                .check(&name)
                .unwrap()
                .detail
                .contains("cannot take voice calls")
        );
        assert!(advice(&report, &name).contains("voice-capable"));
    }
}

#[tokio::test]
async fn a_drifted_webhook_and_a_number_not_owned_fail() {
    for (fake, provider) in each().await {
        fake.add_number(&number());
        let elsewhere: Url = "https://old.example.com/answer".parse().unwrap();
        provider
            .configure_inbound(&number(), &elsewhere)
            .await
            .unwrap();
        let stranger: E164 = "+14155550199".parse().unwrap();
        let options = DoctorOptions::new()
            .number(number())
            .number(stranger.clone())
            .url("https://agent.example.com/voice".parse().unwrap());
        let before = provider.phone_numbers().await.unwrap();
        let report = doctor::run(provider.as_ref(), &options).await;
        let id = fake.id();
        let name = format!("number {NUMBER}");
        let detail = &report.check(&name).unwrap().detail;
        assert_eq!(status(&report, &name), Status::Failed, "{id}: {report:#?}");
        assert!(
            detail.contains("old.example.com") && detail.contains("drifted"),
            "{id}: {detail}"
        );
        // The command as the CLI takes it.
        let said = advice(&report, &name);
        let command = format!(
            "telephony inbound {id} --number {NUMBER} --url https://agent.example.com/voice"
        );
        assert!(said.contains(&command), "{id}: {said}");
        // Read only: the number's listing is what it was before the run.
        let after = provider.phone_numbers().await.unwrap();
        assert_eq!(after, before, "{id}");
        let other = format!("number {stranger}");
        assert_eq!(status(&report, &other), Status::Failed, "{id}");
        assert!(
            report
                .check(&other)
                .unwrap()
                .detail
                .contains("not a number of this")
        );
    }
}

#[tokio::test]
async fn a_url_on_this_machine_or_in_clear_fails() {
    let (_fake, provider) = each().await.into_iter().next().unwrap();
    for (url, says) in [
        ("https://localhost/voice", "this machine"),
        ("https://192.168.1.20/voice", "private address"),
        ("http://93.184.216.34/voice", "not https"),
    ] {
        let options = DoctorOptions::new().url(url.parse().unwrap());
        let report = doctor::run(provider.as_ref(), &options).await;
        assert_eq!(status(&report, "url"), Status::Failed, "{url}");
        let check = report.check("url").unwrap();
        assert!(check.detail.contains(says), "{url}: {check:?}");
        assert!(
            check.advice.as_deref().unwrap().contains("https"),
            "{check:?}"
        );
    }
}

#[tokio::test]
async fn a_signed_test_request_verifies_at_the_agent_or_says_why_not() {
    for (fake, provider) in each().await {
        let id = fake.id();
        let scheme = provider.carrier().webhooks();
        let secret = Secret::new(fake.setting(scheme.secret_setting()).unwrap());
        // The agent sees the URL the request was sent to: the signature verifies.
        let url = agent(
            provider.clone(),
            PublicUrl::from_headers(TrustedProxies::None),
        )
        .await;
        let options = DoctorOptions::new()
            .url(url.clone())
            .signing_secret(secret.clone());
        let report = doctor::run(provider.as_ref(), &options).await;
        let probe = report.check("webhook").unwrap();
        if probe.status == Status::Skipped {
            // A carrier whose webhooks only it can sign (Telnyx: Ed25519): said so.
            assert!(probe.detail.contains("cannot sign"), "{id}: {probe:?}");
            continue;
        }
        assert_eq!(probe.status, Status::Ok, "{id}: {probe:?}");
        assert!(
            probe
                .detail
                .contains("the same request unsigned was refused"),
            "{id}: {probe:?}"
        );
        // Something at the URL that answers as the agent does but checks nothing (verification
        // turned off, a catch-all route in front): the unsigned request gets the same answer.
        let careless = careless_agent().await;
        let options = DoctorOptions::new()
            .url(careless)
            .signing_secret(secret.clone());
        let report = doctor::run(provider.as_ref(), &options).await;
        let probe = report.check("webhook").unwrap();
        assert_eq!(probe.status, Status::Failed, "{id}: {probe:?}");
        assert!(
            probe.detail.contains("nothing there checks the signature"),
            "{id}: {probe:?}"
        );
        assert!(
            probe
                .advice
                .as_deref()
                .unwrap()
                .contains("verify every webhook"),
            "{id}: {probe:?}"
        );
        // An agent that rebuilds another URL (a proxy that does not pass the public one
        // through) refuses it: failed, with what to fix.
        let wrong = agent(
            provider.clone(),
            PublicUrl::from_base("https://internal.example.com"),
        )
        .await;
        let options = DoctorOptions::new().url(wrong).signing_secret(secret);
        let report = doctor::run(provider.as_ref(), &options).await;
        let probe = report.check("webhook").unwrap();
        if probe.detail.contains("does not cover the URL") {
            // Vonage signs the body, not the URL: the probe proves the secret only, and says so.
            assert_eq!(probe.status, Status::Ok, "{id}: {probe:?}");
            continue;
        }
        assert_eq!(probe.status, Status::Failed, "{id}: {probe:?}");
        assert!(
            probe.advice.as_deref().unwrap().contains("proxy"),
            "{probe:?}"
        );
    }
}

#[tokio::test]
async fn the_probe_without_a_secret_or_a_url_says_why_it_is_skipped() {
    let (_fake, provider) = each().await.into_iter().next().unwrap();
    let report = doctor::run(provider.as_ref(), &DoctorOptions::new()).await;
    assert_eq!(report.check("webhook").unwrap().detail, "no --url");
    let url = agent(
        provider.clone(),
        PublicUrl::from_headers(TrustedProxies::None),
    )
    .await;
    let report = doctor::run(provider.as_ref(), &DoctorOptions::new().url(url)).await;
    let probe = report.check("webhook").unwrap();
    assert_eq!(probe.status, Status::Skipped);
    assert!(probe.detail.starts_with("no signing secret"), "{probe:?}");
}

#[test]
fn a_check_prints_as_one_aligned_line() {
    let ok = doctor::Check::new("url", Status::Ok, "https, on a public host", None);
    assert_eq!(
        ok.to_string(),
        "ok       url          https, on a public host"
    );
    let failed = doctor::Check::new(
        "balance",
        Status::Failed,
        "1.50 USD, below 5 USD",
        Some("top up".to_owned()),
    );
    assert_eq!(
        failed.to_string(),
        "failed   balance      1.50 USD, below 5 USD — top up"
    );
}

#[test]
fn the_report_is_the_documented_json() {
    let report = Report::new(vec![doctor::Check::new(
        "balance",
        Status::Failed,
        "1.50 USD, below 5 USD",
        Some("top up".to_owned()),
    )]);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"checks": [{"name": "balance", "status": "failed", "detail": "1.50 USD, below 5 USD", "advice": "top up"}]})
    );
}

#[tokio::test]
async fn a_skewed_carrier_clock_warns_then_fails_past_the_signature_window() {
    for (fake, provider) in each().await {
        let id = fake.id();
        // Half a minute ahead: beyond the 5 s that pass, within the signature windows.
        fake.clock_skew(Duration::from_secs(30), true);
        let report = doctor::run(provider.as_ref(), &DoctorOptions::new()).await;
        let clock = report.check("clock").unwrap();
        assert_eq!(clock.status, Status::Warning, "{id}: {clock:?}");
        assert!(clock.detail.contains("ahead"), "{id}: {clock:?}");
        assert!(advice(&report, "clock").contains("NTP"), "{id}: {clock:?}");
        assert!(!report.failed(), "{id}: {report:#?}");
        // Ten minutes behind: past the 300 s Vonage and Telnyx allow a signed webhook.
        fake.clock_skew(Duration::from_secs(600), false);
        let report = doctor::run(provider.as_ref(), &DoctorOptions::new()).await;
        let clock = report.check("clock").unwrap();
        assert_eq!(clock.status, Status::Failed, "{id}: {clock:?}");
        assert!(
            clock.detail.contains("behind") && clock.detail.contains("time window"),
            "{id}: {clock:?}"
        );
        let advice = advice(&report, "clock");
        assert!(
            advice.contains("Vonage") && advice.contains("Telnyx") && advice.contains("5 minutes"),
            "{id}: {advice}"
        );
        // Back on this machine's time: a pass again.
        fake.clock_skew(Duration::ZERO, true);
        let report = doctor::run(provider.as_ref(), &DoctorOptions::new()).await;
        assert_eq!(status(&report, "clock"), Status::Ok, "{id}: {report:#?}");
    }
}

/// The doctor's options for a webhook URL on `listener`, trusting its test authority or not.
fn on(listener: &TlsListener, trusted: bool) -> DoctorOptions {
    let options = DoctorOptions::new().url(listener.url("/voice"));
    if trusted {
        options.extra_root(listener.ca_der())
    } else {
        options
    }
}

#[tokio::test]
async fn an_expired_certificate_fails_and_one_about_to_expire_warns() {
    let (fake, provider) = each().await.into_iter().next().unwrap();
    // A listener on loopback: the url check fails (this machine), the certificate check
    // still reads what it serves.
    let expired = TlsListener::expired().await.unwrap();
    let report = doctor::run(provider.as_ref(), &on(&expired, true)).await;
    assert_eq!(status(&report, "url"), Status::Failed, "{report:#?}");
    let check = report.check("certificate").unwrap();
    assert_eq!(check.status, Status::Failed, "{check:?}");
    assert!(check.detail.contains("has expired"), "{check:?}");
    assert!(
        advice(&report, "certificate").contains("renew"),
        "{check:?}"
    );

    let soon = TlsListener::expiring_in(Duration::from_secs(3 * 86_400))
        .await
        .unwrap();
    let report = doctor::run(provider.as_ref(), &on(&soon, true)).await;
    let check = report.check("certificate").unwrap();
    assert_eq!(check.status, Status::Warning, "{check:?}");
    assert!(check.detail.contains("expires within 14 days"), "{check:?}");
    assert!(
        advice(&report, "certificate").contains("renew"),
        "{check:?}"
    );
    // Three days left pass when the window is shorter.
    let report = doctor::run(provider.as_ref(), &on(&soon, true).certificate_days(2)).await;
    assert_eq!(status(&report, "certificate"), Status::Ok, "{report:#?}");

    let valid = TlsListener::expiring_in(Duration::from_secs(90 * 86_400))
        .await
        .unwrap();
    let report = doctor::run(provider.as_ref(), &on(&valid, true)).await;
    assert_eq!(status(&report, "certificate"), Status::Ok, "{report:#?}");

    // The test request trusts the same authorities as the certificate check: it reaches the
    // listener over https (which answers 404, not as an agent), rather than failing the
    // handshake and calling the URL unreachable.
    let scheme = provider.carrier().webhooks();
    let secret = Secret::new(fake.setting(scheme.secret_setting()).unwrap());
    let report = doctor::run(provider.as_ref(), &on(&valid, true).signing_secret(secret)).await;
    let probe = report.check("webhook").unwrap();
    assert_eq!(probe.status, Status::Warning, "{probe:?}");
    assert!(probe.detail.contains("answered 404"), "{probe:?}");
}

#[tokio::test]
async fn a_certificate_no_public_authority_signed_fails() {
    let (_fake, provider) = each().await.into_iter().next().unwrap();
    // The carriers trust the webpki roots only: the listener's own authority is not one.
    let valid = TlsListener::expiring_in(Duration::from_secs(90 * 86_400))
        .await
        .unwrap();
    let report = doctor::run(provider.as_ref(), &on(&valid, false)).await;
    let check = report.check("certificate").unwrap();
    assert_eq!(check.status, Status::Failed, "{check:?}");
    assert!(check.detail.contains("self-signed"), "{check:?}");
    assert!(
        advice(&report, "certificate").contains("public CA"),
        "{check:?}"
    );
}

/// Vonage's own switch: with a signature secret configured, signed callbacks that are off
/// on the application lose every webhook (sent unsigned, refused). The number check fails
/// naming the switch, reads without writing, and passes once the switch is on, or when no
/// secret is configured.
#[tokio::test]
async fn vonage_signed_callbacks_off_fail_the_number_check_when_a_secret_is_set() {
    use telephony::vonage::Vonage;
    use telephony_testkit::FakeVonage;

    let fake = FakeVonage::start().await.unwrap();
    let provider = Vonage::new(fake.config()).unwrap();
    assert!(fake.config().signature_secret.is_some());
    fake.add_number(&number());
    let url: Url = "https://agent.example.com/voice".parse().unwrap();
    provider.configure_inbound(&number(), &url).await.unwrap();
    let options = DoctorOptions::new().number(number()).url(url.clone());
    let name = format!("number {NUMBER}");

    // Healthy: linked, pointing at the URL, signed callbacks on.
    let report = doctor::run(&provider, &options).await;
    let check = report.check(&name).unwrap();
    assert_eq!(check.status, Status::Ok, "{check:?}");
    assert!(check.detail.contains("points at"), "{check:?}");

    fake.signed_callbacks(false);
    let report = doctor::run(&provider, &options).await;
    let check = report.check(&name).unwrap();
    assert_eq!(check.status, Status::Failed, "{check:?}");
    assert!(
        check.detail.contains("signed callbacks are off")
            && check.detail.contains("VONAGE_SIGNATURE_SECRET"),
        "{check:?}"
    );
    // The URL is right: the detail does not claim it drifted.
    assert!(!check.detail.contains("drifted"), "{check:?}");
    let said = advice(&report, &name);
    assert!(
        said.contains("turn on signed callbacks")
            && said.contains("capabilities.voice.signed_callbacks"),
        "{said}"
    );
    assert!(report.failed());
    // Read only: the switch is still off after the run.
    assert!(!fake.signs_callbacks());
    // Without --url too: it is wrong whatever the URL.
    let report = doctor::run(&provider, &DoctorOptions::new().number(number())).await;
    let check = report.check(&name).unwrap();
    assert_eq!(check.status, Status::Failed, "{check:?}");
    assert!(
        check.detail.contains("signed callbacks are off"),
        "{check:?}"
    );

    // A drifted URL and the switch off: both said, both fixes given.
    provider
        .configure_inbound(
            &number(),
            &"https://old.example.com/answer".parse().unwrap(),
        )
        .await
        .unwrap();
    let report = doctor::run(&provider, &options).await;
    let check = report.check(&name).unwrap();
    assert_eq!(check.status, Status::Failed, "{check:?}");
    assert!(
        check.detail.contains("old.example.com") && check.detail.contains("signed callbacks"),
        "{check:?}"
    );
    let said = advice(&report, &name);
    assert!(
        said.contains("telephony inbound vonage --number +14155550100")
            && said.contains("signed callbacks"),
        "{said}"
    );
    provider.configure_inbound(&number(), &url).await.unwrap();

    // Without a signature secret the adapter verifies nothing: unsigned webhooks are what it
    // expects, so the switch is not a problem.
    let mut config = fake.config();
    config.signature_secret = None;
    let unsigned = Vonage::new(config).unwrap();
    let report = doctor::run(&unsigned, &options).await;
    assert_eq!(status(&report, &name), Status::Ok, "{report:#?}");

    fake.signed_callbacks(true);
    let report = doctor::run(&provider, &options).await;
    assert_eq!(status(&report, &name), Status::Ok, "{report:#?}");
}

/// Plivo lists a number without its application's answer URL; the number check reads the
/// application the number is linked to: ok while it answers at `--url`, failed with the fix
/// once it answers elsewhere, and nothing changed by the run.
#[tokio::test]
async fn plivo_numbers_are_checked_against_their_applications_answer_url() {
    use telephony::plivo::Plivo;
    use telephony_testkit::FakePlivo;

    let fake = FakePlivo::start().await.unwrap();
    let provider = Plivo::new(fake.config()).unwrap();
    fake.add_number(&number());
    let url: Url = "https://agent.example.com/voice".parse().unwrap();
    provider.configure_inbound(&number(), &url).await.unwrap();
    let name = format!("number {NUMBER}");

    let options = DoctorOptions::new().number(number()).url(url.clone());
    let report = doctor::run(&provider, &options).await;
    let check = report.check(&name).unwrap();
    assert_eq!(check.status, Status::Ok, "{check:?}");
    assert!(
        check
            .detail
            .contains("points at https://agent.example.com/voice"),
        "{check:?}"
    );
    // Without --url: where its calls go, read from the application.
    let report = doctor::run(&provider, &DoctorOptions::new().number(number())).await;
    let check = report.check(&name).unwrap();
    assert_eq!(check.status, Status::Ok, "{check:?}");
    assert!(
        check
            .detail
            .contains("its calls go to https://agent.example.com/voice"),
        "{check:?}"
    );

    let elsewhere: Url = "https://old.example.com/answer".parse().unwrap();
    provider
        .configure_inbound(&number(), &elsewhere)
        .await
        .unwrap();
    let report = doctor::run(&provider, &options).await;
    let check = report.check(&name).unwrap();
    assert_eq!(check.status, Status::Failed, "{check:?}");
    assert!(
        check
            .detail
            .contains("its calls go to https://old.example.com/answer")
            && check.detail.contains("drifted"),
        "{check:?}"
    );
    assert!(
        advice(&report, &name).contains(
            "telephony inbound plivo --number +14155550100 --url https://agent.example.com/voice"
        ),
        "{check:?}"
    );
    assert!(report.failed());
    // Read only: still drifted after the run, and configure_inbound finds it so.
    let update = provider.configure_inbound(&number(), &url).await.unwrap();
    assert!(update.changed, "{update:?}");
    assert_eq!(update.previous_url.as_deref(), Some(elsewhere.as_str()));
    let report = doctor::run(&provider, &options).await;
    assert_eq!(status(&report, &name), Status::Ok, "{report:#?}");
}

/// Vonage lists numbers with the API key and secret, and places calls with the application's
/// JWT: the credentials check tries both, and a JWT refused (another application id, a key
/// that is not the application's) fails it, naming the application.
#[tokio::test]
async fn a_refused_vonage_application_jwt_fails_the_credentials_check() {
    use telephony::vonage::Vonage;
    use telephony_testkit::FakeVonage;

    let fake = FakeVonage::start().await.unwrap();
    let provider = Vonage::new(fake.config()).unwrap();
    let report = doctor::run(&provider, &DoctorOptions::new()).await;
    let check = report.check("credentials").unwrap();
    assert_eq!(check.status, Status::Ok, "{check:?}");
    assert!(
        check
            .detail
            .contains("the credentials its calls take as well"),
        "{check:?}"
    );

    let mut config = fake.config();
    config.application_id = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee".to_owned();
    let provider = Vonage::new(config).unwrap();
    let report = doctor::run(&provider, &DoctorOptions::new()).await;
    let check = report.check("credentials").unwrap();
    assert_eq!(check.status, Status::Failed, "{check:?}");
    assert!(
        check
            .detail
            .contains("refused the credentials its calls take"),
        "{check:?}"
    );
    assert!(
        advice(&report, "credentials").contains("VONAGE_APPLICATION_ID"),
        "{check:?}"
    );
    assert!(report.failed());
}

/// A host that verifies, but answers an unsigned request 400 (with its own reason) rather
/// than 401 or 403: a warning to check, not the failure of a host that checks nothing.
#[tokio::test]
async fn an_unsigned_request_refused_with_another_status_is_a_warning() {
    for (fake, provider) in each().await {
        let id = fake.id();
        let scheme = provider.carrier().webhooks();
        let secret = Secret::new(fake.setting(scheme.secret_setting()).unwrap());
        let app = Router::new().route(
            "/voice",
            post(|headers: axum::http::HeaderMap| async move {
                // Whatever the carrier, its signature travels in a header named for it (or in
                // Authorization).
                let signed = headers
                    .keys()
                    .any(|k| k.as_str().contains("signature") || k == "authorization");
                let reason = if signed {
                    "not an inbound call"
                } else {
                    "no signature"
                };
                (axum::http::StatusCode::BAD_REQUEST, reason)
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let _open = telephony_testkit::serve_counted(listener, app);
        let url: Url = format!("http://{addr}/voice").parse().unwrap();
        let options = DoctorOptions::new().url(url).signing_secret(secret);
        let report = doctor::run(provider.as_ref(), &options).await;
        let probe = report.check("webhook").unwrap();
        if probe.status == Status::Skipped {
            // A carrier whose webhooks only it can sign (Telnyx): nothing to send.
            assert!(probe.detail.contains("cannot sign"), "{id}: {probe:?}");
            continue;
        }
        assert_eq!(probe.status, Status::Warning, "{id}: {probe:?}");
        assert!(
            probe.detail.contains("answered 400 (no signature)"),
            "{id}: {probe:?}"
        );
    }
}
