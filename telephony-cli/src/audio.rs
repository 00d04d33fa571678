//! `telephony audio ...`

use std::io::{self, ErrorKind, Read, Write};

use clap::{Args, Subcommand};
use telephony::audio::{AudioFormat, Profile, Transcoder};

use crate::Failure;

#[derive(Debug, Subcommand)]
pub(crate) enum AudioCommand {
    /// Convert raw audio from stdin to stdout through the streaming converter a call uses.
    ///
    /// The input is fed N ms at a time (--chunk-ms), each chunk's output written and flushed as
    /// soon as it is produced, and the resampler's tail flushed at the end of input. No delay is
    /// trimmed: what a call hears is what comes out.
    Transcode(TranscodeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct TranscodeArgs {
    /// Input format, ENCODING@RATE: ENCODING one of mulaw, alaw, s16le, s16be, f32le; RATE one
    /// of 8000, 16000, 24000, 32000, 48000.
    #[arg(long, value_name = "FORMAT")]
    from: String,
    /// Output format, ENCODING@RATE.
    #[arg(long, value_name = "FORMAT")]
    to: String,
    /// Milliseconds of input per chunk (fractions allowed); 0 feeds whatever each read returns.
    // A negative number is taken as the value, for `chunk_ms` to refuse, not as a flag.
    #[arg(
        long,
        value_name = "N",
        default_value = "20",
        allow_negative_numbers = true
    )]
    chunk_ms: String,
    /// Resampler profile: hq (linear phase, transparent at 16 bits) or low-latency (minimum
    /// phase, a third of hq's delay upsampling, a fifth downsampling).
    #[arg(long, value_name = "PROFILE", default_value = "hq")]
    profile: String,
}

pub(crate) fn run(cmd: AudioCommand) -> Result<(), Failure> {
    match cmd {
        AudioCommand::Transcode(args) => transcode(&args),
    }
}

fn transcode(args: &TranscodeArgs) -> Result<(), Failure> {
    let from: AudioFormat = args
        .from
        .parse()
        .map_err(|e| Failure::Usage(format!("--from {}: {e}", args.from)))?;
    let to: AudioFormat = args
        .to
        .parse()
        .map_err(|e| Failure::Usage(format!("--to {}: {e}", args.to)))?;
    let profile: Profile = args
        .profile
        .parse()
        .map_err(|e| Failure::Usage(format!("--profile: {e}")))?;
    let chunk_ms = chunk_ms(&args.chunk_ms, from)?;

    let mut converter = Transcoder::new(from, to, profile);
    let stdin = io::stdin();
    let stdout = io::stdout();
    let mut input = stdin.lock();
    let mut output = stdout.lock();
    let result = if chunk_ms == 0.0 {
        stream_reads(&mut converter, &mut input, &mut output)
    } else {
        stream_chunks(&mut converter, chunk_ms, &mut input, &mut output)
    };
    match result {
        Ok(()) => Ok(()),
        // A reader that went away (`| head`) is not a failure of ours.
        Err(Failure::Usage(ref m)) if m == BROKEN_PIPE => Ok(()),
        Err(e) => Err(e),
    }
}

/// The longest chunk: a minute, which keeps the buffers of the widest format (f32 at 48 kHz)
/// near 11 MB instead of the gigabytes an unbounded N would ask for.
const MAX_CHUNK_MS: f64 = 60_000.0;

/// Reads `--chunk-ms`: 0, or from one sample at the input rate up to [`MAX_CHUNK_MS`].
fn chunk_ms(text: &str, from: AudioFormat) -> Result<f64, Failure> {
    let hz = f64::from(from.rate.hz());
    let smallest = 1000.0 / hz;
    let value: f64 = text
        .trim()
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && (0.0..=MAX_CHUNK_MS).contains(v))
        .ok_or_else(|| {
            Failure::Usage(format!(
                "--chunk-ms {text}: expected 0 or a number of milliseconds from {smallest} \
                 (one sample at {hz} Hz) to {MAX_CHUNK_MS}"
            ))
        })?;
    // Less than one sample a chunk would spin through empty chunks without reading. The
    // tolerance lets the printed smallest value through however it rounds; a chunk a hair under
    // one sample still advances, skipping one empty chunk in a billion.
    if value != 0.0 && value * hz / 1000.0 < 1.0 - 1e-9 {
        return Err(Failure::Usage(format!(
            "--chunk-ms {text}: less than one sample at {hz} Hz; the smallest is {smallest} \
             (or 0 for whatever each read returns)"
        )));
    }
    Ok(value)
}

const BROKEN_PIPE: &str = "broken pipe";

fn write_out(output: &mut impl Write, bytes: &[u8]) -> Result<(), Failure> {
    output
        .write_all(bytes)
        .and_then(|()| output.flush())
        .map_err(|e| match e.kind() {
            ErrorKind::BrokenPipe => Failure::Usage(BROKEN_PIPE.to_owned()),
            _ => Failure::Usage(format!("writing stdout: {e}")),
        })
}

fn read_err(e: &io::Error) -> Failure {
    Failure::Usage(format!("reading stdin: {e}"))
}

/// Fills `buf` from `input` unless the input ends first; returns the bytes read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> Result<usize, Failure> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(read_err(&e)),
        }
    }
    Ok(filled)
}

/// Feeds exact chunks of `chunk_ms`: chunk k holds samples floor(k*s) to floor((k+1)*s), with
/// s samples per chunk, so fractional chunk lengths stay exact over the whole input.
fn stream_chunks(
    converter: &mut Transcoder,
    chunk_ms: f64,
    input: &mut impl Read,
    output: &mut impl Write,
) -> Result<(), Failure> {
    let from = converter.input_format();
    let width = from.encoding.bytes_per_sample();
    let per_chunk = chunk_ms * f64::from(from.rate.hz()) / 1000.0;
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut k: u64 = 0;
    let mut start: u64 = 0;
    loop {
        k += 1;
        let end = (k as f64 * per_chunk).floor() as u64;
        let samples = (end - start) as usize;
        if samples == 0 {
            continue;
        }
        start = end;
        buf.resize(samples * width, 0);
        let got = read_full(input, &mut buf)?;
        let whole = got - got % width;
        convert(converter, &buf[..whole], &mut out, output)?;
        if got < buf.len() {
            return finish(converter, got - whole, output);
        }
    }
}

/// Feeds whatever each read returns, carrying a split sample over to the next read.
fn stream_reads(
    converter: &mut Transcoder,
    input: &mut impl Read,
    output: &mut impl Write,
) -> Result<(), Failure> {
    let width = converter.input_format().encoding.bytes_per_sample();
    let mut buf = vec![0u8; 64 * 1024];
    let mut carry = 0;
    let mut out = Vec::new();
    loop {
        let n = match input.read(&mut buf[carry..]) {
            Ok(0) => return finish(converter, carry, output),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_err(&e)),
        };
        let have = carry + n;
        let whole = have - have % width;
        convert(converter, &buf[..whole], &mut out, output)?;
        buf.copy_within(whole..have, 0);
        carry = have - whole;
    }
}

/// Converts whole samples and writes the result at once.
fn convert(
    converter: &mut Transcoder,
    whole_samples: &[u8],
    out: &mut Vec<u8>,
    output: &mut impl Write,
) -> Result<(), Failure> {
    out.clear();
    converter
        .transcode(whole_samples, out)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    if out.is_empty() {
        return Ok(());
    }
    write_out(output, out)
}

/// Flushes the converter's tail; a partial sample left at the end of input is an error, after
/// everything whole has been written.
fn finish(
    converter: &mut Transcoder,
    leftover: usize,
    output: &mut impl Write,
) -> Result<(), Failure> {
    let mut out = Vec::new();
    converter.flush(&mut out);
    if !out.is_empty() {
        write_out(output, &out)?;
    }
    if leftover > 0 {
        let from = converter.input_format();
        return Err(Failure::Usage(format!(
            "input ends with a partial sample: {leftover} byte(s) left over, {} samples are {} bytes",
            from.encoding,
            from.encoding.bytes_per_sample()
        )));
    }
    Ok(())
}
