//! A test request signed as the carrier signs its webhooks, sent to `--url`: the agent that
//! verifies it sees the URL the carrier signed, so its proxy passes the public URL through.

use std::time::SystemTime;

use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use telephony_core::{RequestUrl, TelephonyProvider, WebhookRequest, redact_url};

use super::{Check, DoctorOptions};

const NAME: &str = "webhook";

/// A fresh id, so a replay guard never takes a probe for an earlier one.
fn probe_id() -> String {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{}{:09}{}",
        now.as_secs(),
        now.subsec_nanos(),
        std::process::id()
    )
}

pub(crate) async fn probe(
    provider: &dyn TelephonyProvider,
    options: &DoctorOptions,
    certificate_ok: bool,
) -> Check {
    let Some(url) = &options.url else {
        return Check::skipped(NAME, "no --url");
    };
    let scheme = provider.carrier().webhooks();
    let Some(secret) = &options.signing_secret else {
        return Check::skipped(
            NAME,
            format!("no signing secret ({} not set)", scheme.secret_setting()),
        );
    };
    if !certificate_ok {
        return Check::skipped(NAME, "the URL's certificate is refused (see certificate)");
    }
    let Ok(target) = RequestUrl::try_from(url) else {
        return Check::skipped(
            NAME,
            "the URL cannot be a request's (credentials or a fragment in it)",
        );
    };
    // What the messages say of the URL: a token in its query is not printed.
    let shown = redact_url(url.as_str());
    let id = probe_id();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("TelephonyDoctor", "probe")
        .append_pair("ProbeId", &id)
        .finish();
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let mut request = WebhookRequest::new(Method::POST, target, headers, body.clone().into_bytes());
    let now = SystemTime::now();
    let signed = scheme.sign(secret, &request, &id, now);
    request.url = signed.url.clone();
    for (name, value) in &signed.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(value),
        ) {
            request.headers.append(n, v);
        }
    }
    // Where the setting checks webhooks but does not sign them (a public key), nothing signed
    // here can verify anywhere.
    if scheme.verify(Some(secret), None, &request, now).is_err() {
        return Check::skipped(
            NAME,
            format!(
                "{} checks {}'s webhooks but cannot sign them (the carrier holds the signing key)",
                scheme.secret_setting(),
                provider.kind()
            ),
        );
    }
    // Whether the signature covers the URL at all (Vonage's signs the body, not the URL):
    // where it does not, a verified probe proves the secret, not the proxy.
    let covers_url = {
        let mut elsewhere = request.clone();
        match elsewhere.url.with_path("/telephony-doctor-elsewhere") {
            Ok(other) => {
                elsewhere.url = other;
                scheme.verify(Some(secret), None, &elsewhere, now).is_err()
            }
            Err(_) => true,
        }
    };
    let Ok(send_to) = signed.url.to_url() else {
        return Check::skipped(NAME, "the signed URL does not parse");
    };
    // The same request, unsigned, with an id of its own (a replay guard must not be what
    // refuses it).
    let send_to_unsigned = url.clone();
    let mut unsigned_headers = HeaderMap::new();
    unsigned_headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let unsigned_body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("TelephonyDoctor", "probe")
        .append_pair("ProbeId", &format!("{id}u"))
        .finish();
    let client = match client(options) {
        Ok(c) => c,
        Err(e) => return Check::skipped(NAME, e),
    };
    let answer = client
        .post(send_to)
        .headers(request.headers.clone())
        .body(body)
        .send()
        .await;
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            let why = if e.is_timeout() {
                "no answer in time".to_owned()
            } else if e.is_connect() {
                "no connection".to_owned()
            } else {
                "the request failed".to_owned()
            };
            return Check::skipped(
                NAME,
                format!("{shown} is not reachable from this machine ({why})"),
            );
        }
    };
    let status = answer.status().as_u16();
    let text = answer.text().await.unwrap_or_default();
    let verified = match status {
        400 if text.trim() == "not an inbound call" && covers_url => Check::ok(
            NAME,
            format!(
                "the agent verified a signed test request at {shown}: the public URL reaches it unchanged"
            ),
        ),
        400 if text.trim() == "not an inbound call" => Check::ok(
            NAME,
            format!(
                "the agent verified a signed test request at {shown} with the configured secret \
                 ({}'s signature does not cover the URL, so this does not test the proxy)",
                provider.kind()
            ),
        ),
        200..=299 => Check::ok(
            NAME,
            format!("the agent accepted a signed test request at {shown} ({status})"),
        ),
        403 | 401 => {
            return Check::failed(
                NAME,
                format!(
                    "the agent refused a request signed for {shown} ({status} {})",
                    excerpt(&text)
                ),
                "the agent checks the signature against another URL or secret: have the proxy pass the public host and scheme through (X-Forwarded-Host/-Proto, with the agent trusting it: TrustedProxies), or give the agent its public base URL (PublicUrl::from_base); and check that it has the same secret",
            );
        }
        _ => {
            return Check::warning(
                NAME,
                format!(
                    "{shown} answered {status}, not as an agent's webhook router answers a signed test request (400 not an inbound call)"
                ),
                "check that --url is the agent's inbound webhook route",
            );
        }
    };
    // The same request without its signature must be refused: an agent (or anything else at
    // the URL) that takes it as well checks nothing, and anyone can forge its webhooks.
    let unsigned = client
        .post(send_to_unsigned)
        .headers(unsigned_headers)
        .body(unsigned_body)
        .send()
        .await;
    let unsigned = match unsigned {
        Ok(a) => {
            let code = a.status().as_u16();
            (code, a.text().await.unwrap_or_default())
        }
        Err(e) => {
            let why = if e.is_timeout() {
                "no answer in time"
            } else {
                "the request failed"
            };
            return Check::warning(
                NAME,
                format!(
                    "{}; the same request unsigned could not be sent ({why}), so whether the agent refuses unsigned webhooks is not known",
                    verified.detail
                ),
                "run the doctor again",
            );
        }
    };
    match unsigned {
        (401 | 403, _) => Check::ok(
            NAME,
            format!("{}; the same request unsigned was refused", verified.detail),
        ),
        // Taken, or answered exactly as the signed one was: nothing checked the signature.
        (code, body)
            if (200..300).contains(&code) || (code == status && body.trim() == text.trim()) =>
        {
            Check::failed(
                NAME,
                format!(
                    "{shown} answered a request with no signature as it answered the signed one ({code}): nothing there checks the signature"
                ),
                "verify every webhook before acting on it (telephony's InboundRouter and Webhooks do; do not turn the check off, and do not put a route in front that answers for the agent)",
            )
        }
        (code, body) => Check::warning(
            NAME,
            format!(
                "{}; the same request unsigned was answered {code} ({}), not refused with 401 or 403",
                verified.detail,
                excerpt(&body)
            ),
            "check that the agent verifies every webhook: an unsigned one should be refused",
        ),
    }
}

/// The HTTP client the probe sends with: no redirects, the options' timeout, and the extra
/// roots the certificate check trusts.
fn client(options: &DoctorOptions) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(options.timeout)
        .redirect(reqwest::redirect::Policy::none());
    for der in &options.extra_roots {
        let root = reqwest::Certificate::from_der(der)
            .map_err(|e| format!("an extra root certificate does not parse: {e}"))?;
        builder = builder.add_root_certificate(root);
    }
    builder.build().map_err(|e| format!("no HTTP client: {e}"))
}

/// At most 120 characters of what the agent answered, on one line.
fn excerpt(text: &str) -> String {
    let one_line: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(120)
        .collect();
    one_line
}
