//! `telephony markup|call|status|hangup|cost|balance|numbers|inbound`.

use std::future::Future;
use std::io::Write as _;

use clap::Args;
use telephony::{CallId, E164, HangupOutcome, OutboundCall, StreamSpec};

use crate::provider::{self, CarrierArg};
use crate::{Failure, parse_url};

/// Runs an async command on a small runtime.
pub(crate) fn block_on(f: impl Future<Output = Result<(), Failure>>) -> Result<(), Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Usage(format!("cannot start the runtime: {e}")))?
        .block_on(f)
}

pub(crate) fn out(line: impl std::fmt::Display) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

pub(crate) fn json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure::No(e.to_string()))?;
    out(text);
    Ok(())
}

pub(crate) fn parse_number(flag: &str, s: &str) -> Result<E164, Failure> {
    E164::new(s).map_err(|e| Failure::Usage(format!("{flag}: {e}")))
}

#[derive(Debug, Args)]
pub(crate) struct MarkupArgs {
    /// The provider: twilio, plivo, vonage, … (the registry's).
    #[arg(value_parser = provider::parser())]
    provider: CarrierArg,
    /// The media WebSocket, `wss://…`.
    #[arg(long, value_name = "WSS_URL")]
    stream_url: String,
    /// A custom parameter delivered with the stream's start, `NAME=VALUE`; repeat for each.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// The audio rate to ask for, where the provider offers a choice (Twilio: 8000 only;
    /// Plivo: 8000 or 16000; Vonage: 8000, 16000 or 24000).
    #[arg(long)]
    rate: Option<u32>,
}

pub(crate) fn markup(args: &MarkupArgs) -> Result<(), Failure> {
    let mut spec = StreamSpec::new(parse_url("--stream-url", &args.stream_url)?);
    for p in &args.params {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| Failure::Usage(format!("--param {p:?}: expected NAME=VALUE")))?;
        spec = spec.parameter(k, v);
    }
    let carrier = args.provider.carrier();
    if let Some(rate) = args.rate {
        // The first format the carrier streams at that rate (Plivo: μ-law at 8000, L16 at
        // 16000).
        let formats = carrier.stream_formats();
        let Some(format) = formats.iter().find(|f| f.rate.hz() == rate) else {
            let names: Vec<String> = formats
                .iter()
                .map(|f| format!("{}@{}", f.encoding.name(), f.rate.hz()))
                .collect();
            return Err(Failure::Usage(format!(
                "--rate {rate}: {} streams {}",
                carrier.kind().name(),
                names.join(", ")
            )));
        };
        spec = spec.audio(*format);
    }
    let doc = carrier
        .answer_markup(&spec)
        .map_err(|e| Failure::Usage(e.to_string()))?
        .body;
    out(doc);
    Ok(())
}

#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// The provider: twilio, plivo, vonage, … (the registry's).
    #[arg(value_parser = provider::parser())]
    provider: CarrierArg,
    /// Who to call, E.164.
    #[arg(long)]
    to: String,
    /// The caller id, a number of the account, E.164.
    #[arg(long)]
    from: String,
    /// Fetch the call's instructions from this URL when answered. This or --stream-url.
    // Required with --stream-url as the other choice: checked in `call`, whose message names
    // both (clap's names only this one).
    #[arg(long, value_name = "URL", conflicts_with = "stream_url")]
    answer_url: Option<String>,
    /// Connect the answered call straight to this media WebSocket. This or --answer-url.
    #[arg(long, value_name = "WSS_URL")]
    stream_url: Option<String>,
    /// Where the provider posts every status change.
    #[arg(long, value_name = "URL")]
    status_callback: Option<String>,
    /// Another API host: a regional edge, a test server.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn call(args: CallArgs) -> Result<(), Failure> {
    let to = parse_number("--to", &args.to)?;
    let from = parse_number("--from", &args.from)?;
    let mut call = match (&args.answer_url, &args.stream_url) {
        (Some(u), _) => OutboundCall::answer_url(to, from, parse_url("--answer-url", u)?),
        (None, Some(s)) => {
            OutboundCall::stream(to, from, StreamSpec::new(parse_url("--stream-url", s)?))
        }
        (None, None) => {
            return Err(Failure::Usage(
                "no instructions for the answered call: give --answer-url URL or \
                 --stream-url WSS_URL"
                    .into(),
            ));
        }
    };
    if let Some(cb) = &args.status_callback {
        call = call.status_callback(parse_url("--status-callback", cb)?);
    }
    let provider = provider::from_env(args.provider, args.base_url.as_deref())?;
    // A carrier whose calls carry their stream fetches nothing when they are answered: say
    // which flag it takes, not the library's refusal.
    if args.answer_url.is_some() && !provider.capabilities().answer_url {
        return Err(Failure::Usage(format!(
            "--answer-url: {} fetches no answer URL when a call is answered; give --stream-url \
             WSS_URL, the stream the answered call connects to",
            provider.kind().name()
        )));
    }
    let placed = provider.initiate_call(&call).await?;
    if args.json {
        return json(&placed);
    }
    out(placed.call_id);
    Ok(())
}

#[derive(Debug, Args)]
pub(crate) struct CallIdArgs {
    /// The provider: twilio, plivo, vonage, … (the registry's).
    #[arg(value_parser = provider::parser())]
    provider: CarrierArg,
    /// The call's id (Twilio: `CA…`).
    call_id: String,
    /// Another API host: a regional edge, a test server.
    #[arg(long)]
    base_url: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

fn call_id(args: &CallIdArgs) -> Result<CallId, Failure> {
    CallId::new(args.call_id.as_str()).map_err(|e| Failure::Usage(e.to_string()))
}

pub(crate) async fn status(args: CallIdArgs) -> Result<(), Failure> {
    let id = call_id(&args)?;
    let info = provider::from_env(args.provider, args.base_url.as_deref())?
        .call_status(&id)
        .await?;
    if args.json {
        return json(&info);
    }
    let mut line = format!("{} {}", info.call_id, info.status);
    if let (Some(from), Some(to)) = (&info.from, &info.to) {
        line.push_str(&format!(" {from} -> {to}"));
    }
    if let Some(d) = info.duration {
        line.push_str(&format!(" {}s", d.as_secs()));
    }
    out(line);
    Ok(())
}

pub(crate) async fn hangup(args: CallIdArgs) -> Result<(), Failure> {
    let id = call_id(&args)?;
    let outcome = provider::from_env(args.provider, args.base_url.as_deref())?
        .hangup(&id)
        .await?;
    if args.json {
        return json(&outcome);
    }
    out(match outcome {
        HangupOutcome::Ended => "ended",
        HangupOutcome::Canceled => "canceled",
        HangupOutcome::AlreadyEnded => "already ended",
        _ => "done",
    });
    Ok(())
}

pub(crate) async fn cost(args: CallIdArgs) -> Result<(), Failure> {
    let id = call_id(&args)?;
    let cost = provider::from_env(args.provider, args.base_url.as_deref())?
        .call_cost(&id)
        .await?;
    if args.json {
        return json(&cost);
    }
    match cost {
        Some(c) => out(c),
        None => out("not priced yet"),
    }
    Ok(())
}

#[derive(Debug, Args)]
pub(crate) struct BalanceArgs {
    /// The provider: twilio, plivo, vonage, … (the registry's).
    #[arg(value_parser = provider::parser())]
    provider: CarrierArg,
    /// Another API host: a regional edge, a test server.
    #[arg(long)]
    base_url: Option<String>,
    /// Print the result as JSON: `{"amount": "20.00", "currency": "USD"}`, the amount a
    /// string with every digit the carrier wrote (and `available` where the carrier says what
    /// can still be spent apart from the balance).
    #[arg(long)]
    json: bool,
}

pub(crate) async fn balance(args: BalanceArgs) -> Result<(), Failure> {
    let balance = provider::from_env(args.provider, args.base_url.as_deref())?
        .balance()
        .await?;
    if args.json {
        return json(&balance);
    }
    match balance.available {
        Some(available) if available != balance.amount => out(format!(
            "{balance} ({available} {} available)",
            balance.currency
        )),
        _ => out(balance),
    }
    Ok(())
}

#[derive(Debug, Args)]
pub(crate) struct NumbersArgs {
    /// The provider: twilio, plivo, vonage, … (the registry's).
    #[arg(value_parser = provider::parser())]
    provider: CarrierArg,
    /// Another API host: a regional edge, a test server.
    #[arg(long)]
    base_url: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn numbers(args: NumbersArgs) -> Result<(), Failure> {
    let numbers = provider::from_env(args.provider, args.base_url.as_deref())?
        .phone_numbers()
        .await?;
    if args.json {
        return json(&numbers);
    }
    for n in numbers {
        // Where its calls go: the voice URL (Twilio), or the application (Plivo, Vonage).
        let target = n.voice_url.as_deref().or(n.provider_id.as_deref());
        // A number the carrier says takes no voice calls never rings: say so.
        let voice = if n.voice == Some(false) {
            " (no voice)"
        } else {
            ""
        };
        out(format!("{} {}{voice}", n.number, target.unwrap_or("-")));
    }
    Ok(())
}

#[derive(Debug, Args)]
pub(crate) struct InboundArgs {
    /// The provider: twilio, plivo, vonage, … (the registry's).
    #[arg(value_parser = provider::parser())]
    provider: CarrierArg,
    /// The number, E.164.
    #[arg(long)]
    number: String,
    /// The webhook its calls go to.
    #[arg(long)]
    url: String,
    /// Another API host: a regional edge, a test server.
    #[arg(long)]
    base_url: Option<String>,
}

pub(crate) async fn inbound(args: InboundArgs) -> Result<(), Failure> {
    let number = parse_number("--number", &args.number)?;
    let url = parse_url("--url", &args.url)?;
    let update = provider::from_env(args.provider, args.base_url.as_deref())?
        .configure_inbound(&number, &url)
        .await?;
    match (&update.previous_url, update.changed) {
        (_, false) => out(format!(
            "{} already points at {}",
            update.number, update.url
        )),
        (Some(prev), true) => out(format!(
            "{} now points at {} (was {prev})",
            update.number, update.url
        )),
        (None, true) => out(format!("{} now points at {}", update.number, update.url)),
    }
    for note in &update.notes {
        out(format!("note: {note}"));
    }
    Ok(())
}
