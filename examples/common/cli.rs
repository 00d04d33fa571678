//! What `inbound_agent` and `outbound_call` do, apart from `main`: so the root tests drive the
//! same code against the emulated carriers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use telephony::audio::SampleRate;
use telephony::{
    CallId, CallStatus, CallTarget, E164, OutboundCall, StreamSpec, TelephonyProvider, Url,
};

use super::Log;

/// The providers whose credentials are in the environment (`lookup` reads it), each built and
/// checked. A provider counts as configured once its first variable is set; from then on a
/// missing or malformed setting is an error naming the variable.
pub fn providers_from_env(
    lookup: impl Fn(&str) -> Option<String> + Copy,
) -> Result<Vec<Arc<dyn TelephonyProvider>>, String> {
    let registry = telephony::Registry::builtin();
    let mut providers = Vec::new();
    for carrier in registry.configured(lookup) {
        let id = carrier.kind().id();
        let provider = registry
            .config(id, lookup)
            .map_err(|e| e.to_string())?
            .build()
            .map_err(|e| format!("{id}: {e}"))?;
        providers.push(provider);
    }
    if providers.is_empty() {
        let marks: Vec<&str> = registry
            .carriers()
            .iter()
            .filter_map(|c| c.settings().first().copied())
            .collect();
        return Err(format!(
            "no provider credentials in the environment: set one of {} (and the rest that provider needs)",
            marks.join(", ")
        ));
    }
    Ok(providers)
}

/// The command line of `inbound_agent`; its interface is fixed, other tools drive it.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundArgs {
    pub listen: SocketAddr,
    pub public_url: Option<Url>,
    pub numbers: Vec<E164>,
    pub app_rate: SampleRate,
    pub configure: bool,
}

pub const INBOUND_USAGE: &str = "usage: inbound_agent [--listen ADDR] [--public-url URL] \
     [--number E164]... [--app-rate HZ] [--no-configure]";

/// Reads `inbound_agent`'s arguments (without the program name).
pub fn inbound_args(args: impl IntoIterator<Item = String>) -> Result<InboundArgs, String> {
    let mut a = InboundArgs {
        listen: "127.0.0.1:8080".parse().expect("an address"),
        public_url: None,
        numbers: Vec::new(),
        app_rate: SampleRate::Hz16000,
        configure: true,
    };
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => {
                let v = value()?;
                a.listen = v
                    .parse()
                    .map_err(|_| format!("--listen {v:?}: not an address like 127.0.0.1:8080"))?;
            }
            "--public-url" => {
                let v = value()?;
                let url = Url::parse(&v).map_err(|e| format!("--public-url {v:?}: {e}"))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(format!("--public-url {v:?}: must be http:// or https://"));
                }
                a.public_url = Some(url);
            }
            "--number" => {
                let v = value()?;
                a.numbers
                    .push(v.parse().map_err(|e| format!("--number {v:?}: {e}"))?);
            }
            "--app-rate" => {
                let v = value()?;
                a.app_rate = v
                    .parse::<u32>()
                    .ok()
                    .and_then(SampleRate::from_hz)
                    .ok_or_else(|| {
                        format!("--app-rate {v:?}: one of 8000, 16000, 24000, 32000, 48000")
                    })?;
            }
            "--no-configure" => a.configure = false,
            "--help" | "-h" => return Err(INBOUND_USAGE.into()),
            other => return Err(format!("unknown argument {other:?}; {INBOUND_USAGE}")),
        }
    }
    Ok(a)
}

/// Points each number at `inbound` through the provider that owns it (asked with
/// `phone_numbers` when more than one provider is configured), and reports what it found as
/// log lines. A number no provider owns, or a provider that refuses, is an error.
pub async fn configure_numbers(
    providers: &[Arc<dyn TelephonyProvider>],
    numbers: &[E164],
    inbound: &Url,
) -> Result<Vec<Log>, String> {
    let mut owned: Vec<(Arc<dyn TelephonyProvider>, Vec<E164>)> = Vec::new();
    if let [only] = providers {
        owned.push((only.clone(), Vec::new()));
    } else {
        for p in providers {
            let list = p
                .phone_numbers()
                .await
                .map_err(|e| format!("{}: listing numbers: {e}", p.kind()))?;
            owned.push((p.clone(), list.into_iter().map(|n| n.number).collect()));
        }
    }
    let mut lines = Vec::new();
    for number in numbers {
        let provider = if let [(only, _)] = owned.as_slice() {
            only.clone()
        } else {
            owned
                .iter()
                .find(|(_, list)| list.contains(number))
                .map(|(p, _)| p.clone())
                .ok_or_else(|| format!("{number} is not a number of any configured account"))?
        };
        let update = provider
            .configure_inbound(number, inbound)
            .await
            .map_err(|e| format!("{}: configuring {number}: {e}", provider.kind()))?;
        lines.push(json!({
            "event": "configured",
            "provider": provider.kind().id(),
            "number": update.number.as_str(),
            "url": update.url,
            "previous_url": update.previous_url,
            "changed": update.changed,
            "notes": update.notes,
        }));
    }
    Ok(lines)
}

/// The command line of `outbound_call`.
#[derive(Debug, Clone)]
pub struct OutboundArgs {
    pub provider: String,
    pub to: E164,
    pub from: E164,
    pub target: CallTarget,
    pub status_callback: Option<Url>,
    pub base_url: Option<Url>,
    pub timeout: Duration,
}

/// `outbound_call`'s usage, with the providers the registry has.
pub fn outbound_usage() -> String {
    format!(
        "usage: outbound_call [--provider {}] --to E164 --from E164 \
         (--answer-url URL | --stream-url WSS_URL [--stream-key KEY]) \
         [--status-callback URL] [--base-url URL] [--timeout SECONDS]",
        telephony::Registry::builtin().ids().join("|")
    )
}

/// The provider `outbound_call` uses when none is named: the registry's first.
pub fn default_provider() -> String {
    telephony::Registry::builtin()
        .ids()
        .first()
        .map_or_else(String::new, |id| (*id).to_owned())
}

/// Reads `outbound_call`'s arguments (without the program name).
pub fn outbound_args(args: impl IntoIterator<Item = String>) -> Result<OutboundArgs, String> {
    let (mut provider, mut to, mut from) = (default_provider(), None, None);
    let (mut answer_url, mut stream_url, mut status_callback, mut base_url) =
        (None, None, None, None);
    let mut timeout = Duration::from_secs(300);
    let mut stream_key = None;
    let url = |flag: &str, v: String| Url::parse(&v).map_err(|e| format!("{flag} {v:?}: {e}"));
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--provider" => provider = value()?.to_ascii_lowercase(),
            "--to" | "--from" => {
                let v = value()?;
                let n: E164 = v.parse().map_err(|e| format!("{flag} {v:?}: {e}"))?;
                if flag == "--to" {
                    to = Some(n);
                } else {
                    from = Some(n);
                }
            }
            "--answer-url" => answer_url = Some(url(&flag, value()?)?),
            "--stream-url" => stream_url = Some(url(&flag, value()?)?),
            // The agent's stream-token key (its AGENT_STREAM_KEY): the stream then carries a
            // token that agent accepts.
            "--stream-key" => stream_key = Some(telephony::Secret::new(value()?)),
            "--status-callback" => status_callback = Some(url(&flag, value()?)?),
            "--base-url" => base_url = Some(url(&flag, value()?)?),
            "--timeout" => {
                let v = value()?;
                timeout = v
                    .parse::<u64>()
                    .ok()
                    .filter(|s| *s > 0)
                    .map(Duration::from_secs)
                    .ok_or_else(|| format!("--timeout {v:?}: whole seconds, at least 1"))?;
            }
            "--help" | "-h" => return Err(outbound_usage()),
            other => return Err(format!("unknown argument {other:?}; {}", outbound_usage())),
        }
    }
    let registry = telephony::Registry::builtin();
    if registry.find(&provider).is_none() {
        return Err(format!(
            "--provider {provider:?}: one of {}",
            registry.ids().join(", ")
        ));
    }
    let (Some(to), Some(from)) = (to, from) else {
        return Err(format!(
            "--to and --from are required; {}",
            outbound_usage()
        ));
    };
    let target = match (answer_url, stream_url) {
        (Some(url), None) => CallTarget::AnswerUrl(url),
        (None, Some(url)) => {
            let spec = StreamSpec::new(url);
            CallTarget::Stream(match stream_key {
                Some(key) => telephony::StreamAuth::new(key).protect(spec, None),
                None => spec,
            })
        }
        _ => {
            return Err(format!(
                "give one of --answer-url and --stream-url; {}",
                outbound_usage()
            ));
        }
    };
    Ok(OutboundArgs {
        provider,
        to,
        from,
        target,
        status_callback,
        base_url,
        timeout,
    })
}

/// The call `args` describe.
pub fn outbound_call(args: &OutboundArgs) -> OutboundCall {
    let call = OutboundCall::with_target(args.to.clone(), args.from.clone(), args.target.clone());
    match &args.status_callback {
        Some(url) => call.status_callback(url.clone()),
        None => call,
    }
}

/// Places `call`, then follows it by polling its status every `poll` until it is over (or
/// `timeout` passes: the call is hung up then), and reads its price, which providers may
/// publish a little after the end. Each step is a log line for `out`.
pub async fn place_and_follow(
    provider: &dyn TelephonyProvider,
    call: &OutboundCall,
    poll: Duration,
    timeout: Duration,
    mut out: impl FnMut(Log),
) -> Result<CallStatus, String> {
    let started = Instant::now();
    let t = || (started.elapsed().as_millis() as f64) / 1000.0;
    let placed = provider
        .initiate_call(call)
        .await
        .map_err(|e| format!("placing the call: {e}"))?;
    out(
        json!({"t": t(), "event": "placed", "call": placed.call_id.as_str(), "status": placed.status.name()}),
    );
    let mut id: CallId = placed.call_id.clone();
    let mut last: Option<String> = None;
    let mut hung_up = false;
    let status = loop {
        match provider.call_status(&id).await {
            Ok(info) => {
                // Plivo's request id becomes the call's own id once answered.
                id = info.call_id.clone();
                if last.as_deref() != Some(info.raw_status.as_str()) {
                    out(
                        json!({"t": t(), "event": "status", "call": info.call_id.as_str(), "status": info.status.name(), "raw": info.raw_status}),
                    );
                    last = Some(info.raw_status.clone());
                }
                if info.status.is_terminal() {
                    break info.status;
                }
            }
            Err(e) if e.is_retryable() || e.is_not_found() => {
                // Not visible yet (or a transient failure): look again.
                out(json!({"t": t(), "event": "waiting", "reason": e.to_string()}));
            }
            Err(e) => return Err(format!("reading the call: {e}")),
        }
        if !hung_up && started.elapsed() >= timeout {
            hung_up = true;
            let outcome = provider
                .hangup(&id)
                .await
                .map_err(|e| format!("hanging up after the timeout: {e}"))?;
            out(json!({"t": t(), "event": "timeout", "hangup": format!("{outcome:?}")}));
        }
        tokio::time::sleep(poll).await;
    };
    for _ in 0..10 {
        match provider.call_cost(&id).await {
            Ok(Some(cost)) => {
                out(
                    json!({"t": t(), "event": "cost", "amount": cost.amount.to_string(), "currency": cost.currency.to_string()}),
                );
                return Ok(status);
            }
            Ok(None) => tokio::time::sleep(poll).await,
            Err(e) => return Err(format!("reading the price: {e}")),
        }
    }
    out(json!({"t": t(), "event": "cost", "amount": null, "reason": "not priced yet"}));
    Ok(status)
}
