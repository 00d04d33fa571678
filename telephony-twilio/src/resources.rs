//! Twilio's REST resources, as they come over the wire (only the fields this adapter uses;
//! everything else is ignored, so new fields never break a parse).

use std::time::{Duration, SystemTime};

use serde::Deserialize;
use telephony_core::rest::string_or_number;

/// A call (`api.v2010.account.call`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CallResource {
    /// `CA…`.
    pub sid: String,
    /// The account.
    #[serde(default)]
    pub account_sid: Option<String>,
    /// `queued`, `ringing`, `in-progress`, `completed`, `busy`, `failed`, `no-answer`,
    /// `canceled`.
    #[serde(default)]
    pub status: Option<String>,
    /// `inbound`, `outbound-api`, `outbound-dial`.
    #[serde(default)]
    pub direction: Option<String>,
    /// The caller.
    #[serde(default)]
    pub from: Option<String>,
    /// The called party.
    #[serde(default)]
    pub to: Option<String>,
    /// When it started (RFC 2822).
    #[serde(default)]
    pub start_time: Option<String>,
    /// When it ended (RFC 2822).
    #[serde(default)]
    pub end_time: Option<String>,
    /// Seconds, as a string.
    #[serde(default, deserialize_with = "string_or_number")]
    pub duration: Option<String>,
    /// What it cost, negative for a charge, as a string (`"-0.01300"`); null until priced.
    #[serde(default, deserialize_with = "string_or_number")]
    pub price: Option<String>,
    /// The currency of `price`.
    #[serde(default)]
    pub price_unit: Option<String>,
    /// Answering-machine detection's verdict.
    #[serde(default)]
    pub answered_by: Option<String>,
    /// The call this one was dialled from.
    #[serde(default)]
    pub parent_call_sid: Option<String>,
}

/// A recording (`api.v2010.account.call.recording`: twilio-python 9.13
/// `call/recording.py`), as starting or stopping one answers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RecordingResource {
    /// `RE…`.
    pub sid: String,
    /// The call.
    #[serde(default)]
    pub call_sid: Option<String>,
    /// `in-progress`, `paused`, `stopped`, `processing`, `completed`, `absent`.
    #[serde(default)]
    pub status: Option<String>,
    /// `1` or `2`.
    #[serde(default, deserialize_with = "string_or_number")]
    pub channels: Option<String>,
    /// How it was started (`StartCallRecordingAPI`, `OutboundAPI`, …).
    #[serde(default)]
    pub source: Option<String>,
}

/// A conference (`api.v2010.account.conference`: twilio-python 9.13
/// `conference/__init__.py`), as a listing gives it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ConferenceResource {
    /// `CF…`.
    pub sid: String,
    /// The room's name.
    #[serde(default)]
    pub friendly_name: Option<String>,
    /// `init` (waiting for a participant who starts it), `in-progress`, `completed`.
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ConferencePage {
    #[serde(default)]
    pub(crate) conferences: Vec<ConferenceResource>,
}

/// A number the account owns (`api.v2010.account.incoming_phone_number`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct NumberResource {
    /// `PN…`.
    pub sid: String,
    /// The number, E.164.
    #[serde(default)]
    pub phone_number: Option<String>,
    /// A label.
    #[serde(default)]
    pub friendly_name: Option<String>,
    /// Where inbound calls go.
    #[serde(default)]
    pub voice_url: Option<String>,
    /// `GET` or `POST`.
    #[serde(default)]
    pub voice_method: Option<String>,
    /// A TwiML app that takes the calls instead of `voice_url`, when set.
    #[serde(default)]
    pub voice_application_sid: Option<String>,
    /// A SIP trunk that takes the calls instead, when set.
    #[serde(default)]
    pub trunk_sid: Option<String>,
    /// What the number can take: `{"voice": true, "sms": false, "mms": true}`.
    #[serde(default)]
    pub capabilities: Option<NumberCapabilities>,
}

/// What a number can take, as Twilio's `capabilities` object says it. Incoming numbers write
/// the keys in lower case; the available-numbers search writes `SMS` and `MMS`: both are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct NumberCapabilities {
    /// Voice calls.
    #[serde(default, alias = "Voice", alias = "VOICE")]
    pub voice: Option<bool>,
    /// SMS.
    #[serde(default, alias = "SMS", alias = "Sms")]
    pub sms: Option<bool>,
}

/// The account's balance (`api.v2010.account.balance`): `{"account_sid", "balance": "0.05",
/// "currency": "USD"}`. A subaccount's carries no balance (Twilio: "Child accounts do not
/// contain balance information").
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct BalanceResource {
    /// The account.
    #[serde(default)]
    pub account_sid: Option<String>,
    /// The balance, a decimal string.
    #[serde(default, deserialize_with = "string_or_number")]
    pub balance: Option<String>,
    /// Its currency, ISO 4217.
    #[serde(default)]
    pub currency: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct NumberPage {
    #[serde(default)]
    pub(crate) incoming_phone_numbers: Vec<NumberResource>,
    #[serde(default)]
    pub(crate) next_page_uri: Option<String>,
}

/// Twilio's error body: the legacy `{code, message, more_info, status}` or RFC 9457
/// `{type, title, status, code, detail}`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default, deserialize_with = "string_or_number")]
    pub(crate) code: Option<String>,
    #[serde(default)]
    pub(crate) message: Option<String>,
    #[serde(default)]
    pub(crate) more_info: Option<String>,
    #[serde(default)]
    pub(crate) detail: Option<String>,
    #[serde(default)]
    pub(crate) title: Option<String>,
}

/// An RFC 2822 date as Twilio writes them (`Wed, 19 Sep 2018 20:00:00 +0000`).
pub(crate) fn parse_rfc2822(s: &str) -> Option<SystemTime> {
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc2822)
        .ok()?;
    let secs = t.unix_timestamp();
    let base = if secs >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    };
    Some(base + Duration::from_nanos(u64::from(t.nanosecond())))
}

/// Whole seconds, as Twilio writes durations.
pub(crate) use telephony_core::parse_seconds;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_numbers() {
        let t = parse_rfc2822("Wed, 19 Sep 2018 20:00:00 +0000").unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
            1_537_387_200
        );
        assert!(parse_rfc2822("yesterday").is_none());
        assert_eq!(parse_seconds(" 42 "), Some(Duration::from_secs(42)));
        let c: CallResource = serde_json::from_str(
            r#"{"sid":"CA1","status":"completed","duration":15,"price":-0.0085,"price_unit":"USD","extra":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(c.duration.as_deref(), Some("15"));
        assert_eq!(c.price.as_deref(), Some("-0.0085"));
        let c: CallResource = serde_json::from_str(r#"{"sid":"CA1","price":null}"#).unwrap();
        assert_eq!(c.price, None);
    }
}
