//! [`Telnyx`]: the provider trait over Call Control v2.

use std::time::SystemTime;

use async_trait::async_trait;
use telephony_core::control::TransferStep;
use telephony_core::{
    Balance, CallAnswer, CallCost, CallEvent, CallId, CallInfo, CallInitiation, CallNotice,
    CallStatus, Capabilities, Currency, DecodeError, Drift, Dtmf, E164, Error, HangupOutcome,
    InboundCall, InboundDrift, InboundUpdate, Markup, MediaProtocol, OutboundCall, PhoneNumber,
    ProviderKind, RecordingId, RecordingOptions, RecordingStarted, StreamSpec, TelephonyProvider,
    Transfer, TransferNotice, TransferStarted, Url, Verified, WebhookError, WebhookRequest,
    parse_decimal, parse_seconds,
};

use crate::client::TelnyxClient;
use crate::commands::{Answer, Dial};
use crate::config::TelnyxConfig;
use crate::media::TelnyxMediaProtocol;
use crate::resources::NumberResource;
use crate::{KIND, callbacks, events, recording, signature, transfer};

/// Telnyx, through Call Control v2: calls are placed and answered by commands, their status
/// follows from the events Telnyx posts, and media streams in bidirectional RTP mode.
#[derive(Debug, Clone)]
pub struct Telnyx {
    client: TelnyxClient,
}

impl Telnyx {
    /// An adapter for these settings, which are checked first.
    ///
    /// # Errors
    ///
    /// A setting that cannot be right.
    pub fn new(config: TelnyxConfig) -> Result<Telnyx, Error> {
        Ok(Telnyx {
            client: TelnyxClient::new(config)?,
        })
    }

    /// An adapter from `TELNYX_*` settings in the environment.
    ///
    /// # Errors
    ///
    /// A missing or malformed setting, named.
    pub fn from_env() -> Result<Telnyx, Error> {
        Telnyx::new(TelnyxConfig::from_env()?)
    }

    /// `number`, if the account has it; the error `configure_inbound` refuses it with
    /// otherwise.
    async fn owned_number(&self, number: &E164) -> Result<NumberResource, Error> {
        self.client
            .list_numbers(Some(number.as_str()))
            .await?
            .into_iter()
            .find(|n| n.phone_number == number.as_str())
            .ok_or_else(|| {
                Error::invalid_request(format!("{number} is not a number of this Telnyx account"))
            })
    }

    /// The REST client, for what the trait does not cover.
    pub fn client(&self) -> &TelnyxClient {
        &self.client
    }

    /// The body of the `actions/answer` command that connects a call to `stream` (with the
    /// `command_id` of a call with the id `call`).
    ///
    /// # Errors
    ///
    /// A stream Telnyx cannot carry.
    pub fn answer_command(call: &str, stream: &StreamSpec) -> Result<Markup, Error> {
        let answer = Answer::new(call, stream)?;
        serde_json::to_string(&answer)
            .map(Markup::json)
            .map_err(Error::invalid_request)
    }

    /// The number of ours on `call`: the called number of an inbound call, the caller id of
    /// an outbound one, where Telnyx's call resource says them (telnyx-python's model does not
    /// declare them, so this is `None` where they are missing).
    async fn number_of_ours(&self, call: &CallId) -> Result<Option<E164>, Error> {
        let info = self.call_status(call).await?;
        Ok(info
            .number_of_ours()
            .and_then(|n| E164::parse_lenient(n).ok()))
    }
}

fn decode(what: &str, detail: impl Into<String>) -> Error {
    Error::Decode(DecodeError::new(KIND, what, detail.into()))
}

#[async_trait]
impl TelephonyProvider for Telnyx {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn carrier(&self) -> &'static dyn telephony_core::Carrier {
        &crate::CARRIER
    }

    fn capabilities(&self) -> Capabilities {
        let mut c = Capabilities::NONE;
        c.inline_stream_on_create = true;
        c.machine_detection = true;
        // `greeting_end`: a second event when a machine's greeting ends, beep or not.
        c.machine_detection_greeting_end = true;
        // `actions/send_dtmf`; on the stream, the media session plays the keys as tones (the
        // stream has no DTMF message to send).
        c.dtmf_rest = true;
        c.dtmf_send = true;
        // `actions/transfer`, to a number or a SIP URI with custom headers.
        c.transfer = true;
        c.sip_transfer = true;
        // A dial, a brief by speak or playback, and a bridge.
        c.warm_transfer = true;
        // `record: record-from-answer` on dial and on answer; record_start and record_stop;
        // `record_channels: dual`; `GET` and `DELETE /recordings/{id}`.
        c.recording = true;
        c.recording_on_answer = true;
        c.recording_control = true;
        c.dual_channel_recording = true;
        c.recording_download = true;
        c.recording_delete = true;
        c.playback_marks = true;
        c.clear_audio = true;
        // `GET /v2/balance`.
        c.balance = true;
        c
    }

    fn validate_config(&self) -> Result<(), Error> {
        Ok(self.client.config().validate()?)
    }

    async fn initiate_call(&self, call: &OutboundCall) -> Result<CallInitiation, Error> {
        let dial = Dial::new(&self.client.config().connection_id, call)?;
        let created = self.client.dial(&dial).await?;
        let id = CallId::new(created.call_control_id)
            .map_err(|e| decode("created call", e.to_string()))?;
        Ok(CallInitiation::new(id, CallStatus::Initiated))
    }

    /// Telnyx's call resource says whether the call is alive, and its state where it says
    /// one; it is kept 10 minutes after the call ends (then a 404). A live call's exact
    /// status comes from its events ([`parse_status_callback`](Self::parse_status_callback)).
    async fn call_status(&self, call: &CallId) -> Result<CallInfo, Error> {
        let resource = self.client.get_call(call.as_str()).await?;
        let (status, raw) = match resource.state.as_deref() {
            Some(state) => (
                events::state_status(state).unwrap_or_else(|| CallStatus::from_raw(state)),
                state.to_owned(),
            ),
            None if resource.is_alive => (CallStatus::from_raw("alive"), "alive".to_owned()),
            None => (CallStatus::Completed, "ended".to_owned()),
        };
        let mut info = CallInfo::new(call.clone(), status, raw);
        info.direction = resource.direction.as_deref().map(events::direction);
        info.from = resource.from;
        info.to = resource.to;
        info.start_time = resource.start_time.as_deref().and_then(events::timestamp);
        info.end_time = resource.end_time.as_deref().and_then(events::timestamp);
        info.duration = resource.call_duration.as_deref().and_then(parse_seconds);
        Ok(info)
    }

    async fn hangup(&self, call: &CallId) -> Result<HangupOutcome, Error> {
        self.client.hangup(call.as_str()).await
    }

    /// From the call's call-control detail record, once Telnyx has written it; `None`
    /// before. The `call.cost` event ([`parse_status_callback`](Self::parse_status_callback))
    /// says it sooner, where the application sends it.
    async fn call_cost(&self, call: &CallId) -> Result<Option<CallCost>, Error> {
        let records = self.client.detail_records(call.as_str()).await?;
        let Some(record) = records.into_iter().find(|r| r.cost.is_some()) else {
            return Ok(None);
        };
        let amount = parse_decimal(KIND, "detail record cost", record.cost.as_deref())?;
        let code = record.currency.as_deref().unwrap_or_default();
        let currency = Currency::new(code)
            .ok_or_else(|| decode("detail record", format!("currency {code:?}")))?;
        let rate = parse_decimal(KIND, "detail record rate", record.rate.as_deref())?;
        Ok(amount.map(|a| CallCost::new(a, currency).with_rate(rate)))
    }

    async fn phone_numbers(&self) -> Result<Vec<PhoneNumber>, Error> {
        let numbers = self.client.list_numbers(None).await?;
        Ok(numbers
            .into_iter()
            .filter_map(|n| {
                let number = E164::new(&n.phone_number).ok()?;
                let mut p = PhoneNumber::new(number);
                // Where its calls go, as Plivo's and Vonage's numbers say it: the application
                // it is on (an id, not a URL), or none.
                p.provider_id = n.connection_id.map(|c| format!("application {c}"));
                p.friendly_name = n.connection_name;
                // Telnyx's number resource has no voice or SMS flag (its features are only in
                // the search of numbers to buy): what the number takes is not said, so
                // `voice` and `sms` stay `None`.
                Some(p)
            })
            .collect())
    }

    /// The balance, with what can still be spent (`available_credit`: the balance plus the
    /// credit limit).
    async fn balance(&self) -> Result<Balance, Error> {
        self.client.get_balance().await?.to_balance()
    }

    /// Points `number` at this adapter's Call Control application, and the application's
    /// webhook at `url`. The webhook is the application's, shared by every number on it.
    /// Telnyx's number resource does not say whether a number takes voice calls, so no
    /// number is refused for it ([`Error::NumberWithoutVoice`] never comes from here).
    async fn configure_inbound(&self, number: &E164, url: &Url) -> Result<InboundUpdate, Error> {
        let connection = &self.client.config().connection_id;
        let owned = self.owned_number(number).await?;
        let mut notes = Vec::new();
        let mut changed = false;
        if owned.connection_id.as_deref() != Some(connection.as_str()) {
            let id = owned.id.clone().ok_or_else(|| decode("number", "no id"))?;
            self.client.set_number_connection(&id, connection).await?;
            notes.push(format!(
                "the number went to application {}; it now goes to {connection}",
                owned.connection_id.as_deref().unwrap_or("none")
            ));
            changed = true;
        }
        let app = self.client.get_application(connection).await?;
        let previous = app.webhook_event_url.clone();
        if previous.as_deref() != Some(url.as_str()) {
            self.client.set_application_webhook(&app, url).await?;
            changed = true;
        }
        if app.webhook_api_version.as_deref() == Some("1") {
            notes.push("the application sent v1 events; it now sends v2".to_owned());
        }
        notes.push(format!(
            "the webhook is application {connection}'s, shared by every number on it"
        ));
        Ok(InboundUpdate::new(
            number.clone(),
            previous,
            url.to_string(),
            changed,
            notes,
        ))
    }

    /// From the number's connection and the application's webhook. Telnyx does not say
    /// whether a number takes voice calls, so none is refused for it.
    async fn inbound_drift(&self, number: &E164, url: Option<&Url>) -> Result<InboundDrift, Error> {
        let connection = &self.client.config().connection_id;
        let owned = self.owned_number(number).await?;
        let app = self.client.get_application(connection).await?;
        let linked = owned.connection_id.as_deref();
        let ours = linked == Some(connection.as_str());
        let current = match linked {
            _ if ours => app.webhook_event_url.clone(),
            Some(other) => self
                .client
                .get_application(other)
                .await
                .ok()
                .and_then(|a| a.webhook_event_url),
            None => None,
        };
        let mut drift = Vec::new();
        if let Some(url) = url
            && current.as_deref() != Some(url.as_str())
        {
            drift.push(Drift::Url {
                found: current.clone(),
            });
        }
        if !ours {
            drift.push(Drift::Setting {
                detail: format!(
                    "it goes to application {}, not {connection} (TELNYX_CONNECTION_ID)",
                    linked.unwrap_or("none")
                ),
            });
            if let Some(url) = url
                && app.webhook_event_url.as_deref() != Some(url.as_str())
            {
                drift.push(Drift::Setting {
                    detail: format!(
                        "application {connection}'s webhook is {}",
                        app.webhook_event_url.as_deref().unwrap_or("not set")
                    ),
                });
            }
        }
        if app.webhook_api_version.as_deref() == Some("1") {
            drift.push(Drift::Setting {
                detail: format!(
                    "application {connection} sends v1 events (webhook_api_version 1); this adapter reads v2"
                ),
            });
        }
        Ok(InboundDrift::new(number.clone(), current, drift))
    }

    fn verify_webhook(
        &self,
        request: &WebhookRequest,
        now: SystemTime,
    ) -> Result<Verified, WebhookError> {
        let key = self
            .client
            .config()
            .public_key
            .as_ref()
            .ok_or(WebhookError::MissingSecret {
                setting: "TELNYX_PUBLIC_KEY",
            })?;
        signature::verify_request(key, request, now)
    }

    /// Telnyx answers with a command, not a document: this is the body of the
    /// `actions/answer` command that [`connect_call`](Self::connect_call) sends (without a
    /// call, its `command_id` is the stream's own).
    fn answer(&self, stream: &StreamSpec) -> Result<Markup, Error> {
        Telnyx::answer_command(stream.url.as_str(), stream)
    }

    fn answer_call(&self, call: &InboundCall, stream: &StreamSpec) -> Result<Markup, Error> {
        Telnyx::answer_command(call.call_id.as_str(), stream)
    }

    /// Telnyx answers with commands: a refusal rejects the call (`CALL_REJECTED`) through
    /// [`refuse_call`](Self::refuse_call); there is no document to speak from.
    fn speak_and_hangup(&self, _text: &str) -> Result<Markup, Error> {
        Err(Error::invalid_request(
            "Telnyx Call Control answers with commands: refuse a call with refuse_call",
        ))
    }

    async fn connect_call(
        &self,
        call: &InboundCall,
        stream: &StreamSpec,
    ) -> Result<CallAnswer, Error> {
        let answer = Answer::new(call.call_id.as_str(), stream)?;
        self.client.answer(call.call_id.as_str(), &answer).await?;
        Ok(CallAnswer::Commanded)
    }

    async fn refuse_call(&self, call: &InboundCall, _text: &str) -> Result<CallAnswer, Error> {
        self.client
            .reject(call.call_id.as_str(), "CALL_REJECTED")
            .await?;
        Ok(CallAnswer::Commanded)
    }

    fn parse_status_callback(&self, request: &WebhookRequest) -> Result<CallEvent, Error> {
        events::parse_event(request)
    }

    fn parse_inbound(&self, request: &WebhookRequest) -> Result<InboundCall, Error> {
        events::parse_inbound(request)
    }

    /// Every event at the status URL: a recording saved, a machine detection's verdict, a
    /// step of a transfer (its state read back from the signed `client_state`), or a status
    /// (see the crate's `callbacks` table).
    fn parse_callback(&self, request: &WebhookRequest) -> Result<CallNotice, Error> {
        callbacks::parse(request)
    }

    /// Cold: the caller's stream stops and `actions/transfer` bridges the target on answer
    /// (`from` defaults to the call's own number at Telnyx). Warm: the target is dialled from
    /// [`Transfer::caller_id`], or the caller's number of ours where Telnyx's call resource
    /// says it; its steps follow at [`Transfer::events`] ([`continue_transfer`](Self::continue_transfer)).
    async fn transfer(&self, call: &CallId, transfer: &Transfer) -> Result<TransferStarted, Error> {
        // Everything Telnyx would refuse is refused here, before any request.
        let planned = transfer::plan(&self.client.config().connection_id, call, transfer)?;
        let from = if planned.needs_from() {
            self.number_of_ours(call).await?
        } else {
            None
        };
        transfer::start(&self.client, &planned, from.as_ref()).await
    }

    async fn continue_transfer(&self, notice: &TransferNotice) -> Result<TransferStep, Error> {
        transfer::step(&self.client, notice).await
    }

    /// `actions/record_start`: the channels, WAV unless asked, no beep. Telnyx names no
    /// recording in its answer; `call.recording.saved` announces it at the call's webhook URL
    /// (`record_start` takes none, so [`RecordingOptions::callback`] is not where it goes).
    async fn start_recording(
        &self,
        call: &CallId,
        options: &RecordingOptions,
    ) -> Result<RecordingStarted, Error> {
        let body = recording::record_start(options)?;
        self.client
            .command(call.as_str(), "record_start", &body)
            .await?;
        Ok(RecordingStarted::new(None))
    }

    /// `actions/record_stop`, of `recording` or of every recording of the call.
    async fn stop_recording(
        &self,
        call: &CallId,
        recording: Option<&RecordingId>,
    ) -> Result<(), Error> {
        let body = recording::record_stop(recording);
        self.client
            .command(call.as_str(), "record_stop", &body)
            .await
    }

    /// `GET /recordings/{id}` with the API key, then its WAV (else MP3) link, pre-signed,
    /// without it, from Telnyx's or Amazon S3's hosts only.
    async fn download_recording(
        &self,
        recording: &RecordingId,
        out: &mut (dyn tokio::io::AsyncWrite + Send + Unpin),
    ) -> Result<u64, Error> {
        let resource = self.client.get_recording(recording.as_str()).await?;
        let url = recording::download_link(&resource, &self.client.config().base_url)?;
        self.client
            .download_file(&url, &format!("download recording {recording}"), out)
            .await
    }

    /// `DELETE /recordings/{id}`.
    async fn delete_recording(&self, recording: &RecordingId) -> Result<(), Error> {
        self.client.delete_recording(recording.as_str()).await
    }

    /// `actions/send_dtmf`, each digit 250 ms (Telnyx takes 100–500).
    async fn send_dtmf(&self, call: &CallId, digits: &Dtmf) -> Result<(), Error> {
        digits.check(
            |c| c.is_ascii_digit() || matches!(c, 'A'..='D' | '*' | '#' | 'w' | 'W'),
            "Telnyx sends 0-9, A-D, *, #, w and W",
        )?;
        let body = serde_json::json!({
            "digits": digits.as_str(),
            "duration_millis": 250,
            "command_id": format!("send_dtmf-{}", uuid::Uuid::new_v4().simple()),
        });
        self.client.command(call.as_str(), "send_dtmf", &body).await
    }

    fn media_protocol(&self) -> Box<dyn MediaProtocol> {
        Box::new(TelnyxMediaProtocol::new())
    }
}
