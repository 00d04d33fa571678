//! `telephony webhook verify|sign`.

use std::io::Write as _;
use std::time::{Duration, SystemTime};

use clap::{Args, Subcommand};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use telephony::{Registry, RequestUrl, Secret, WebhookError, WebhookRequest};

use crate::Failure;
use crate::provider::{self, CarrierArg};

#[derive(Debug, Subcommand)]
pub(crate) enum WebhookCommand {
    /// Check a request exactly as received. Prints `valid` (exit 0) or `invalid: REASON`
    /// with a diagnosis (exit 1), such as a TLS-terminating proxy that turned https into http.
    Verify(VerifyArgs),
    /// Print the headers a genuine request carries, one `Name: value` a line.
    Sign(SignArgs),
}

/// What every webhook subcommand needs: whose scheme, the secret, the request line.
#[derive(Debug, Args)]
pub(crate) struct Signed {
    /// The provider: twilio, plivo, vonage, … (the registry's).
    #[arg(value_parser = provider::parser())]
    provider: CarrierArg,
    /// The signing secret (Twilio, Plivo: the Auth Token; Vonage: the signature secret, not
    /// the API secret). Defaults to TWILIO_AUTH_TOKEN, PLIVO_AUTH_TOKEN or
    /// VONAGE_SIGNATURE_SECRET. Twilio webhooks signed with a SharedKey take --shared-key.
    #[arg(long)]
    secret: Option<String>,
    /// The URL the provider requests, query string included.
    #[arg(long)]
    url: String,
    /// The HTTP method.
    #[arg(long, default_value = "POST")]
    method: String,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    signed: Signed,
    /// A header as received, `Name: value`; repeat for each. Without a Content-Type, a POST
    /// body is taken as a form, or JSON when it starts with `{`.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The body, raw.
    #[arg(long, conflicts_with = "body_file")]
    body: Option<String>,
    /// A file holding the raw body.
    #[arg(long)]
    body_file: Option<std::path::PathBuf>,
    /// The time to check against, in Unix seconds (for schemes with a time window).
    #[arg(long)]
    now: Option<u64>,
    /// Twilio: the secret of the SharedKey that signs HMAC-SHA256 webhooks (those with
    /// `X-Twilio-Webhooks-Signature-Settings: key=…,algorithm=HMAC_SHA256`). The Auth Token
    /// (--secret) is then needed only for requests signed without it.
    #[arg(long, value_name = "SECRET")]
    shared_key: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    #[command(flatten)]
    signed: Signed,
    /// The body: a form (`a=1&b=2`), or JSON.
    #[arg(long)]
    body: Option<String>,
    /// The nonce, for schemes that use one (Plivo's nonce, Vonage's `jti`).
    #[arg(long)]
    nonce: Option<String>,
    /// The signing time, in Unix seconds, for schemes that use one.
    #[arg(long)]
    now: Option<u64>,
}

pub(crate) fn run(cmd: WebhookCommand) -> Result<(), Failure> {
    match cmd {
        WebhookCommand::Verify(args) => verify(args),
        WebhookCommand::Sign(args) => sign(&args),
    }
}

fn secret(given: Option<&str>, env: &str) -> Result<Secret, Failure> {
    given
        .map(str::to_owned)
        .or_else(|| std::env::var(env).ok())
        .filter(|s| !s.is_empty())
        .map(Secret::new)
        .ok_or_else(|| Failure::Usage(format!("no signing secret: pass --secret or set {env}")))
}

/// `--url`, taken literally: the carriers sign the URL as written, so nothing here may change
/// a character of it (no lower-casing, no default port dropped, no encoding).
fn literal_url(text: &str) -> Result<RequestUrl, Failure> {
    RequestUrl::parse(text).map_err(|e| {
        let expected = if text.contains("://") {
            e.reason.to_owned()
        } else {
            "not an absolute URL; expected https://host/path".to_owned()
        };
        Failure::Usage(format!("--url {text:?}: {expected}"))
    })
}

fn parse_method(m: &str) -> Result<Method, Failure> {
    Method::from_bytes(m.to_ascii_uppercase().as_bytes())
        .map_err(|_| Failure::Usage(format!("--method {m:?} is not an HTTP method")))
}

fn looks_like_json(body: &[u8]) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

impl Signed {
    /// The secret, URL and method.
    fn parts(&self) -> Result<(Secret, RequestUrl, Method), Failure> {
        Ok((
            self.secret()?,
            literal_url(&self.url)?,
            parse_method(&self.method)?,
        ))
    }

    fn secret(&self) -> Result<Secret, Failure> {
        secret(self.secret.as_deref(), self.provider.secret_env())
    }
}

fn verify(args: VerifyArgs) -> Result<(), Failure> {
    let provider = args.signed.provider;
    let shared_key = args
        .shared_key
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(Secret::new);
    let scheme = provider.carrier().webhooks();
    if shared_key.is_some() && scheme.alternate_secret().is_none() {
        let with: Vec<&str> = Registry::builtin()
            .carriers()
            .iter()
            .filter(|c| c.webhooks().alternate_secret().is_some())
            .map(|c| c.kind().name())
            .collect();
        return Err(Failure::Usage(format!(
            "--shared-key is for {} webhooks signed with a second secret; {} signs with one",
            with.join(", "),
            provider.carrier().kind().name()
        )));
    }
    let url = literal_url(&args.signed.url)?;
    let method = parse_method(&args.signed.method)?;
    let body = match (&args.body, &args.body_file) {
        (Some(b), _) => b.clone().into_bytes(),
        (None, Some(path)) => std::fs::read(path)
            .map_err(|e| Failure::Usage(format!("--body-file {}: {e}", path.display())))?,
        (None, None) => Vec::new(),
    };
    let mut headers = HeaderMap::new();
    for h in &args.headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| Failure::Usage(format!("--header {h:?}: expected `Name: value`")))?;
        let name = HeaderName::try_from(name.trim())
            .map_err(|_| Failure::Usage(format!("--header {h:?}: bad header name")))?;
        let value = HeaderValue::from_str(value.trim())
            .map_err(|_| Failure::Usage(format!("--header {h:?}: bad header value")))?;
        headers.append(name, value);
    }
    if method == Method::POST
        && !body.is_empty()
        && !headers.contains_key(http::header::CONTENT_TYPE)
    {
        let ct = if looks_like_json(&body) {
            "application/json"
        } else {
            "application/x-www-form-urlencoded"
        };
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    let now = args.now.map_or_else(SystemTime::now, |s| {
        SystemTime::UNIX_EPOCH + Duration::from_secs(s)
    });
    let request = WebhookRequest::new(method, url, headers, body);
    // Without its own secret, a scheme with a second one may still check a request signed
    // with that one.
    let secret = match (args.signed.secret(), &shared_key) {
        (Ok(s), _) => Some(s),
        (Err(_), Some(_)) => None,
        (Err(e), None) => return Err(e),
    };
    let verdict = scheme.verify(secret.as_ref(), shared_key.as_ref(), &request, now);
    let mut stdout = std::io::stdout().lock();
    match verdict {
        Ok(_) => {
            let _ = writeln!(stdout, "valid");
            Ok(())
        }
        // Not a verdict on the request: the secret that would check it was not given.
        Err(WebhookError::MissingSecret { setting }) => {
            Err(Failure::Usage(if setting == provider.secret_env() {
                format!(
                    "no signing secret for this request: pass --secret or set {}",
                    provider.secret_env()
                )
            } else {
                format!("the request is signed with {setting}: pass --shared-key with that secret")
            }))
        }
        // The verdict is the output: on stdout, once, and not again on stderr.
        Err(e) => {
            let _ = writeln!(
                stdout,
                "invalid: {}",
                e.to_string().replace(['\n', '\r'], " ")
            );
            Err(Failure::Verdict)
        }
    }
}

fn unique() -> String {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}{:09}", now.as_secs(), now.subsec_nanos())
}

fn sign(args: &SignArgs) -> Result<(), Failure> {
    let (token, url, method) = args.signed.parts()?;
    let body = args.body.clone().unwrap_or_default().into_bytes();
    let mut headers = HeaderMap::new();
    if method == Method::POST && !body.is_empty() {
        let ct = if looks_like_json(&body) {
            "application/json"
        } else {
            "application/x-www-form-urlencoded"
        };
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    let now = args.now.map_or_else(SystemTime::now, |s| {
        SystemTime::UNIX_EPOCH + Duration::from_secs(s)
    });
    // A nonce of digits: every scheme takes it (Plivo takes nothing else).
    let nonce = args.nonce.clone().unwrap_or_else(unique);
    let request = WebhookRequest::new(method, url.clone(), headers, body);
    let provider = args.signed.provider;
    let scheme = provider.carrier().webhooks();
    let signed = scheme.sign(&token, &request, &nonce, now);
    // The secret by default is the setting that checks the carrier's webhooks. Where that is
    // not what signs them (a public key), the headers would check nowhere: say so instead.
    if args.signed.secret.is_none() {
        let mut check = request.clone();
        check.url = signed.url.clone();
        for (name, value) in &signed.headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::from_str(value),
            ) {
                check.headers.append(n, v);
            }
        }
        if scheme.verify(Some(&token), None, &check, now).is_err() {
            return Err(Failure::Usage(format!(
                "{} checks {}'s webhooks but does not sign them: pass --secret with the key \
                 that signs",
                provider.secret_env(),
                provider.carrier().kind().name()
            )));
        }
    }
    if signed.url != url {
        eprintln!(
            "telephony: note: the signature covers {} (the scheme adds to the URL: Twilio's bodySHA256 for JSON bodies)",
            signed.url
        );
    }
    let mut stdout = std::io::stdout().lock();
    for (name, value) in &signed.headers {
        let _ = writeln!(stdout, "{name}: {value}");
    }
    Ok(())
}
