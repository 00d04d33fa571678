//! `telephony bench media`: simulated calls in-process, no sockets. Provider frames go in as
//! the provider sends them (telephony-testkit writes them), app PCM comes out; 20 ms of app PCM
//! a frame goes back as provider frames. The answer is what a voice platform asks before it
//! buys machines: how many call legs one core carries.

use std::hint::black_box;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;
use telephony::audio::{AudioFormat, Backend, Decoder, Encoder, Profile, Resampler, SampleRate};
use telephony::{
    MediaCommand, MediaProtocol, MediaSession, ProviderKind, SessionConfig, SessionEvent,
};
use telephony_testkit::{ProviderMessage, ProviderStream, SCRIPT_RATE, resample, speech_like};

use crate::Failure;
use crate::alloc;
use crate::provider::{self, CarrierArg};

#[derive(Debug, Args)]
pub(crate) struct MediaArgs {
    /// The provider: twilio, plivo, vonage, … (the registry's).
    #[arg(
        value_name = "PROVIDER",
        required_unless_present = "provider_flag",
        value_parser = provider::parser()
    )]
    provider: Option<CarrierArg>,
    /// The provider, as a flag (the same as the positional PROVIDER).
    #[arg(
        long = "provider",
        value_name = "PROVIDER",
        conflicts_with = "provider",
        hide = true,
        value_parser = provider::parser()
    )]
    provider_flag: Option<CarrierArg>,
    /// The rate of the PCM the application hears and speaks.
    #[arg(long, value_name = "HZ", default_value = "16000")]
    app_rate: u32,
    /// Resampler profile: hq or low-latency.
    #[arg(long, value_name = "PROFILE", default_value = "hq")]
    profile: String,
    /// Seconds of call audio to simulate.
    #[arg(
        long,
        value_name = "S",
        default_value = "600",
        allow_negative_numbers = true
    )]
    seconds: f64,
    /// The stream's wire format, ENCODING@RATE (Twilio: mulaw@8000; Plivo: mulaw@8000,
    /// s16le@8000 or s16le@16000; Vonage: s16le@8000, s16le@16000 or s16le@24000). By default
    /// what each provider streams most: μ-law 8 kHz for Twilio and Plivo, L16 16 kHz for Vonage.
    #[arg(long, value_name = "FORMAT")]
    wire: Option<String>,
    /// The resamplers' instruction set: portable (SSE2 on x86-64), avx2 or avx512. By default
    /// the fastest this CPU runs (capped by TELEPHONY_SIMD).
    #[arg(long, value_name = "BACKEND")]
    simd: Option<String>,
    /// One JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

/// How many rounds each measurement runs; the fastest counts. One busy thread's wall time is
/// its CPU time when nothing preempts it, and the fastest run is the one least preempted on a
/// shared machine.
const RUNS: usize = 5;

/// How long one run of `f` takes.
fn time(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

const CLOCK: &str = "fastest of 5 interleaved rounds, wall time of one thread";

/// What one simulated call carries: the provider's messages and the agent's replies.
struct Call {
    provider: ProviderKind,
    format: AudioFormat,
    opening: Vec<ProviderMessage>,
    /// One message per 20 ms; cycled when the call is longer.
    frames: Vec<ProviderMessage>,
    /// The caller's audio in the wire format, 20 ms a frame, as the frames carry it.
    wire: Vec<Vec<u8>>,
    /// The agent's reply at the app rate.
    reply: Vec<i16>,
}

/// Distinct frames kept: ten seconds of audio each way, cycled over longer calls.
const POOL_SECONDS: u64 = 10;

impl Call {
    fn new(
        provider: ProviderKind,
        format: AudioFormat,
        app_rate: SampleRate,
    ) -> Result<Call, Failure> {
        let pool = Duration::from_secs(POOL_SECONDS);
        let recorded =
            ProviderStream::record_speech(provider, format, pool).map_err(Failure::Usage)?;
        let reply = resample(&speech_like(pool, 11), SCRIPT_RATE, app_rate);
        Ok(Call {
            provider,
            format,
            opening: recorded.opening,
            frames: recorded.frames,
            wire: recorded.wire,
            reply,
        })
    }

    fn protocol(&self) -> Box<dyn MediaProtocol> {
        ProviderStream::protocol(self.provider, self.format)
    }

    fn frame(&self, i: usize) -> &ProviderMessage {
        &self.frames[i % self.frames.len()]
    }

    fn reply_chunk(&self, i: usize, spf: usize) -> &[i16] {
        let chunks = self.reply.len() / spf;
        let k = i % chunks;
        &self.reply[k * spf..(k + 1) * spf]
    }
}

/// A session that has opened and run a second, so its buffers have their steady size.
fn started_session(call: &Call, config: SessionConfig) -> Result<MediaSession, Failure> {
    let mut session = MediaSession::new(call.protocol(), config);
    for m in &call.opening {
        session
            .handle(m.as_ws())
            .map_err(|e| Failure::No(format!("the stream's opening: {e}")))?;
    }
    let spf = config.app_rate.samples_per_20ms();
    for i in 0..50 {
        leg(&mut session, call, i, spf)?;
    }
    Ok(session)
}

/// One 20 ms of a call, both directions.
fn leg(session: &mut MediaSession, call: &Call, i: usize, spf: usize) -> Result<usize, Failure> {
    let mut heard = 0;
    if let SessionEvent::Audio(pcm) = session
        .handle(call.frame(i).as_ws())
        .map_err(|e| Failure::No(format!("frame {i}: {e}")))?
    {
        heard = pcm.len();
    }
    let mut sent = 0;
    session
        .send_audio(call.reply_chunk(i, spf), &mut |m| {
            sent += match m {
                telephony::WsMessage::Text(t) => t.len(),
                telephony::WsMessage::Binary(b) => b.len(),
            }
        })
        .map_err(|e| Failure::No(format!("sending frame {i}: {e}")))?;
    Ok(heard + sent)
}

/// Time per frame of each stage alone, over `n` frames.
#[derive(Clone, Copy)]
struct Breakdown {
    parse: Duration,
    decode: Duration,
    resample: Duration,
    encode: Duration,
    serialize: Duration,
}

impl Breakdown {
    fn slowest() -> Breakdown {
        Breakdown {
            parse: Duration::MAX,
            decode: Duration::MAX,
            resample: Duration::MAX,
            encode: Duration::MAX,
            serialize: Duration::MAX,
        }
    }

    /// Each stage's faster time of `self` and `other`.
    fn fastest(self, other: Breakdown) -> Breakdown {
        Breakdown {
            parse: self.parse.min(other.parse),
            decode: self.decode.min(other.decode),
            resample: self.resample.min(other.resample),
            encode: self.encode.min(other.encode),
            serialize: self.serialize.min(other.serialize),
        }
    }
}

fn breakdown(call: &Call, config: SessionConfig, n: usize) -> Breakdown {
    let format = call.format;
    let (wire_rate, app_rate) = (format.rate, config.app_rate);
    let spf_wire = wire_rate.samples_per_20ms();
    let spf_app = app_rate.samples_per_20ms();

    // Parse: the provider's message to the wire bytes it carries (JSON, base64).
    let mut protocol = call.protocol();
    for m in &call.opening {
        let _ = protocol.decode(m.as_ws());
    }
    let parse = time(|| {
        for i in 0..n {
            if let Ok(telephony::MediaEvent::Audio { payload, .. }) =
                protocol.decode(call.frame(i).as_ws())
            {
                black_box(payload.len());
            }
        }
    });

    // Decode and encode: the codec alone, at the wire rate.
    let mut decoder = Decoder::with_backend(format, wire_rate, config.profile, config.backend);
    let mut pcm = Vec::with_capacity(spf_wire * 2);
    let pool = call.wire.len();
    let decode = time(|| {
        for i in 0..n {
            pcm.clear();
            let _ = decoder.decode(&call.wire[i % pool], &mut pcm);
            black_box(pcm.len());
        }
    });
    let mut caller_pcm = Vec::new();
    for f in &call.wire {
        let _ = decoder.decode(f, &mut caller_pcm);
    }

    // Resample: the caller's audio up to the app rate, the reply down to the wire rate.
    let mut up = Resampler::with_backend(wire_rate, app_rate, config.profile, config.backend);
    let mut down = Resampler::with_backend(app_rate, wire_rate, config.profile, config.backend);
    let mut up_out = vec![0i16; up.max_output_len(spf_wire) + 8];
    let mut down_out = vec![0i16; down.max_output_len(spf_app) + 8];
    let chunks = caller_pcm.len() / spf_wire;
    let resample = if wire_rate == app_rate {
        Duration::ZERO
    } else {
        time(|| {
            for i in 0..n {
                let k = i % chunks;
                let _ = up.process(&caller_pcm[k * spf_wire..(k + 1) * spf_wire], &mut up_out);
                let _ = down.process(call.reply_chunk(i, spf_app), &mut down_out);
                black_box((&up_out, &down_out));
            }
        })
    };

    let mut encoder = Encoder::with_backend(wire_rate, format, config.profile, config.backend);
    let mut bytes = Vec::with_capacity(spf_wire * 4);
    let encode = time(|| {
        for i in 0..n {
            let k = i % chunks;
            bytes.clear();
            encoder.encode(&caller_pcm[k * spf_wire..(k + 1) * spf_wire], &mut bytes);
            black_box(bytes.len());
        }
    });

    // Serialize: one frame of wire bytes to the provider's message (base64, JSON; Vonage's
    // binary frame as it is).
    let serialize = time(|| {
        for i in 0..n {
            let mut len = 0;
            let _ = protocol.encode(MediaCommand::Audio(&call.wire[i % pool]), &mut |m| {
                len += match m {
                    telephony::WsMessage::Text(t) => t.len(),
                    telephony::WsMessage::Binary(b) => b.len(),
                }
            });
            black_box(len);
        }
    });
    let per = |d: Duration| d / n as u32;
    Breakdown {
        parse: per(parse),
        decode: per(decode),
        resample: per(resample),
        encode: per(encode),
        serialize: per(serialize),
    }
}

pub(crate) fn run(args: &MediaArgs) -> Result<(), Failure> {
    let Some(carrier) = args
        .provider
        .or(args.provider_flag)
        .map(CarrierArg::carrier)
    else {
        return Err(Failure::Usage("name a provider".into()));
    };
    let provider = carrier.kind();
    let backend = match &args.simd {
        Some(name) => name
            .parse::<Backend>()
            .map_err(|e| Failure::Usage(format!("--simd {name}: {e}")))?,
        None => Backend::detect(),
    };
    let app_rate = SampleRate::from_hz(args.app_rate).ok_or_else(|| {
        Failure::Usage(format!(
            "--app-rate {}: one of 8000, 16000, 24000, 32000, 48000",
            args.app_rate
        ))
    })?;
    let profile: Profile = args
        .profile
        .parse()
        .map_err(|e| Failure::Usage(format!("--profile: {e}")))?;
    if !(args.seconds.is_finite() && (1.0..=86_400.0).contains(&args.seconds)) {
        return Err(Failure::Usage(format!(
            "--seconds {}: from 1 to 86400",
            args.seconds
        )));
    }
    let format = match &args.wire {
        Some(w) => w
            .parse::<AudioFormat>()
            .map_err(|e| Failure::Usage(format!("--wire {w}: {e}")))?,
        None => carrier.stream_formats()[0],
    };
    let config = SessionConfig::new(app_rate)
        .profile(profile)
        .backend(backend);
    let call = Call::new(provider, format, app_rate)?;
    let n = (args.seconds * 50.0).round() as usize;
    let spf = app_rate.samples_per_20ms();

    // The memory one session holds: what its construction and a second of call left
    // allocated, plus the struct itself.
    let before = alloc::live_bytes();
    let mut session = started_session(&call, config)?;
    let session_bytes =
        alloc::live_bytes().saturating_sub(before) + std::mem::size_of::<MediaSession>();

    // The whole leg, both directions, through the session, and each stage alone, in rounds
    // that take turns, so a slow minute of a shared machine falls on all of them alike; the
    // fastest round of each counts. Allocations are counted over the whole legs only.
    let mut allocations = 0;
    let mut failed = None;
    let mut carried = 0usize;
    let mut whole = Duration::MAX;
    let mut b = Breakdown::slowest();
    for _ in 0..RUNS {
        let before = alloc::allocations();
        let t = Instant::now();
        for i in 0..n {
            match leg(&mut session, &call, i, spf) {
                Ok(b) => carried += b,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        whole = whole.min(t.elapsed());
        allocations += alloc::allocations() - before;
        if let Some(e) = failed {
            return Err(e);
        }
        b = b.fastest(breakdown(&call, config, n));
    }
    let allocations = allocations as f64 / (n * RUNS) as f64;
    black_box(carried);

    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let per_frame = whole.as_secs_f64() / n as f64;
    let legs_per_core = args.seconds / whole.as_secs_f64();
    let stages = us(b.parse) + us(b.decode) + us(b.resample) + us(b.encode) + us(b.serialize);
    let other = (per_frame * 1e6 - stages).max(0.0);
    // What the stages other than resampling took, with the glue between them: never below
    // what they measured alone.
    let non_resampling =
        (us(b.parse) + us(b.decode) + us(b.encode) + us(b.serialize) + other) / (per_frame * 1e6);
    let wire = format!("{}@{}", format.encoding.name(), format.rate.hz());
    if args.json {
        // Figures to the precision measured: whole legs, nanoseconds, thousandths of an
        // allocation (no binary float noise such as 0.043000000000000003).
        let ns = |us: f64| round(us, 3);
        let v = json!({
            "provider": provider.id(),
            "wire": wire,
            "app_rate": app_rate.hz(),
            "profile": profile.to_string(),
            "simd": backend.name(),
            "seconds": args.seconds,
            "frames": n,
            "clock": CLOCK,
            "legs_per_core": legs_per_core.round() as u64,
            "us_per_frame": ns(per_frame * 1e6),
            "session_bytes": session_bytes,
            "allocations_per_frame": round(allocations, 3),
            "all_but_resampling": round(non_resampling, 3),
            "breakdown": {
                "parse": ns(us(b.parse)),
                "decode": ns(us(b.decode)),
                "resample": ns(us(b.resample)),
                "encode": ns(us(b.encode)),
                "serialize": ns(us(b.serialize)),
                "other": ns(other),
            },
        });
        crate::calls::out(v);
        return Ok(());
    }
    let pct = |x: f64| 100.0 * x / (per_frame * 1e6);
    let mut lines = vec![
        format!(
            "telephony bench media: {provider}, wire {wire}, app {} Hz, {profile}, {}; {} s of call audio ({n} frames each way), {}",
            app_rate.hz(),
            backend.description(),
            args.seconds,
            CLOCK
        ),
        format!(
            "  legs per core     {legs_per_core:>10.0}   (seconds of call audio, both directions, per CPU second)"
        ),
        format!("  per 20 ms frame   {:>10.3} µs", per_frame * 1e6),
    ];
    for (name, d) in [
        ("parse", b.parse),
        ("decode", b.decode),
        ("resample", b.resample),
        ("encode", b.encode),
        ("serialize", b.serialize),
    ] {
        lines.push(format!(
            "    {name:<15} {:>8.3} µs  {:>5.1} %",
            us(d),
            pct(us(d))
        ));
    }
    lines.push(format!(
        "    {:<15} {other:>8.3} µs  {:>5.1} %   (session, framing, playback tracking)",
        "other",
        pct(other)
    ));
    lines.push(format!(
        "  all but resampling {:>8.1} % of a leg",
        100.0 * non_resampling
    ));
    lines.push(format!(
        "  session memory    {session_bytes:>10} bytes; {allocations:.3} heap allocations per frame"
    ));
    crate::calls::out(lines.join("\n"));
    Ok(())
}

/// `x` rounded to `digits` decimals, so it prints as the decimal it stands for.
fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

/// Legs per core of the whole media path in process (what `telephony bench media` reports),
/// over `seconds` of call audio: the figure the socket benchmark is compared with.
pub(crate) fn legs_per_core(
    provider: ProviderKind,
    format: AudioFormat,
    config: SessionConfig,
    seconds: f64,
) -> Result<f64, Failure> {
    let call = Call::new(provider, format, config.app_rate)?;
    let n = (seconds * 50.0).round() as usize;
    let spf = config.app_rate.samples_per_20ms();
    let mut session = started_session(&call, config)?;
    let mut fastest = Duration::MAX;
    let mut carried = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        for i in 0..n {
            carried += leg(&mut session, &call, i, spf)?;
        }
        fastest = fastest.min(t.elapsed());
    }
    black_box(carried);
    Ok(seconds / fastest.as_secs_f64())
}
