//! [`Vonage`]: the adapter behind [`TelephonyProvider`].

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use telephony_core::audio::SampleRate;
use telephony_core::control::TransferStep;
use telephony_core::{
    Balance, CallCost, CallEvent, CallId, CallInfo, CallInitiation, CallNotice, CallStatus,
    CallTarget, Capabilities, Dtmf, E164, Error, HangupOutcome, InboundCall, InboundDrift,
    InboundUpdate, MachineDetection, Markup, MediaProtocol, OutboundCall, PhoneNumber,
    ProviderKind, RecordingId, RecordingOptions, StreamSpec, TelephonyProvider, Transfer,
    TransferNotice, TransferRef, TransferStarted, Url, Verified, WebhookError, WebhookRequest,
};

use crate::KIND;
use crate::client::VonageClient;
use crate::config::VonageConfig;
use crate::media::{CALL_UUID_HEADER, VonageMediaProtocol};
use crate::ncco::MachineDetection as Amd;
use crate::ncco::{Action, Connect, Endpoint, Method, Ncco, NccoError, Phone, Websocket};
use crate::resources::{CallResource, CreateCall, endpoint_text};
use crate::signature::VonageValidator;
use crate::signed_query::QuerySigner;
use crate::{amd, callback, recording, status, transfer};

/// Vonage, as a [`TelephonyProvider`].
///
/// Placing a call returns Vonage's call `uuid`, which every event carries. Vonage's WebSocket
/// says nothing about which call it carries, so
/// [`answer_call`](TelephonyProvider::answer_call) puts the call's uuid (`call_uuid`) and the
/// caller (`from`, `to`) into the websocket `headers`; they come back as the stream's
/// parameters, and `call_uuid` as [`StreamStart::call_id`](telephony_core::StreamStart).
/// A call placed with an inline stream ([`CallTarget::Stream`]) has no uuid yet when its NCCO
/// is written: put an id of your own in the stream's parameters to match the two.
#[derive(Debug, Clone)]
pub struct Vonage {
    pub(crate) client: VonageClient,
    pub(crate) validator: Option<VonageValidator>,
    signer: QuerySigner,
}

impl Vonage {
    /// The adapter for these settings, checked first (the private key is parsed and signs once).
    pub fn new(config: VonageConfig) -> Result<Vonage, Error> {
        let validator = config.signature_secret.clone().map(|secret| {
            let mut v = VonageValidator::new(secret)
                .tolerance(config.webhook_tolerance)
                .require_payload_hash(!config.allow_unhashed_payloads)
                .expect_application_id(config.application_id.clone());
            if let Some(k) = &config.api_key {
                v = v.expect_api_key(k.clone());
            }
            v
        });
        let signer = QuerySigner::new(&config.private_key);
        Ok(Vonage {
            client: VonageClient::new(config)?,
            validator,
            signer,
        })
    }

    /// The REST client, for operations beyond the trait (transfer, mute, DTMF, applications).
    pub fn client(&self) -> &VonageClient {
        &self.client
    }

    /// The webhook validator, when a signature secret is configured.
    pub fn validator(&self) -> Option<&VonageValidator> {
        self.validator.as_ref()
    }

    /// `events` with `reference` in its query, signed with a key derived from the
    /// application's private key: the callback URL a transfer leg's events go to. Vonage
    /// signs a callback's body, not its URL, so
    /// [`parse_callback`](TelephonyProvider::parse_callback) reads a `TransferRef` only from a
    /// query this signature covers (see `src/signed_query.rs`).
    pub fn transfer_callback_url(&self, reference: &TransferRef, events: &Url) -> Url {
        self.signer.sign(&reference.to_query(events))
    }

    /// Downloads the recording at `url` (a [`RecordingReady::url`](telephony_core::RecordingReady),
    /// which may be on a regional host) with the application JWT into `out`, returning the
    /// bytes written. Only an HTTPS `vonage.com` or `nexmo.com` host, or the configured Voice
    /// API host, is fetched; anything else is refused before any request.
    pub async fn download_recording_url(
        &self,
        url: &Url,
        out: &mut (dyn tokio::io::AsyncWrite + Send + Unpin),
    ) -> Result<u64, Error> {
        recording::may_download(url, &self.client.config().base_url)?;
        self.client.download(url, out).await
    }

    /// The NCCO that connects a call to a WebSocket: L16 at the rate `stream.audio` asks for
    /// (8, 16 or 24 kHz; `default_rate` otherwise), the stream's parameters as `headers`
    /// (after `call_uuid`, `conversation_uuid`, `from` and `to` when `call` is given), and,
    /// with a status callback, `eventType: synchronous` so a dropped socket reaches it and can
    /// be answered with a fallback NCCO. Nothing follows the `connect`: actions after it would
    /// play as soon as the socket is up, and the call ends when the socket closes.
    pub fn stream_ncco(
        stream: &StreamSpec,
        call: Option<&InboundCall>,
        default_rate: SampleRate,
    ) -> Result<Ncco, NccoError> {
        let rate = stream.audio.map_or(default_rate, |f| f.rate);
        if !matches!(
            rate,
            SampleRate::Hz8000 | SampleRate::Hz16000 | SampleRate::Hz24000
        ) {
            return Err(NccoError(format!(
                "Vonage streams L16 at 8000, 16000 or 24000 Hz, not {} Hz",
                rate.hz()
            )));
        }
        let mut ws = Websocket::new(stream.url.as_str(), rate)?;
        let taken = |name: &str| stream.parameters.iter().any(|(k, _)| k == name);
        if let Some(call) = call {
            for (name, value) in [
                (CALL_UUID_HEADER, Some(call.call_id.as_str())),
                ("conversation_uuid", call.conversation_id.as_deref()),
                ("from", Some(call.from.as_str())),
                ("to", Some(call.to.as_str())),
            ] {
                if let Some(v) = value.filter(|v| !v.is_empty())
                    && !taken(name)
                {
                    ws = ws.header(name, v);
                }
            }
        }
        for (k, v) in &stream.parameters {
            ws = ws.header(k.clone(), v.clone());
        }
        let mut connect = Connect::to(Endpoint::Websocket(ws));
        if let Some(cb) = &stream.status_callback {
            connect = connect.synchronous(cb.as_str());
        }
        let ncco = Ncco::new().connect(connect);
        ncco.validate()?;
        Ok(ncco)
    }

    /// The stream's NCCO, after a `record` when `stream.record` asks for one (announced to
    /// its callback, or else the stream's status callback).
    fn ncco(&self, stream: &StreamSpec, call: Option<&InboundCall>) -> Result<Ncco, Error> {
        let ncco = Self::stream_ncco(stream, call, self.client.config().stream_rate)
            .map_err(Error::invalid_request)?;
        match &stream.record {
            Some(options) => self.recorded(
                ncco,
                options,
                stream.status_callback.as_ref(),
                call.map(|c| &c.call_id),
            ),
            None => Ok(ncco),
        }
    }

    /// `ncco` with a `record` first: the whole call recorded in the background.
    fn recorded(
        &self,
        ncco: Ncco,
        options: &RecordingOptions,
        status_callback: Option<&Url>,
        call: Option<&CallId>,
    ) -> Result<Ncco, Error> {
        let record = recording::record_action(options, status_callback, call, &self.signer)?;
        let mut actions = vec![Action::from(record)];
        actions.extend(ncco.0);
        let ncco = Ncco(actions);
        ncco.validate().map_err(Error::invalid_request)?;
        Ok(ncco)
    }

    fn info(&self, call: &CallResource) -> Result<CallInfo, Error> {
        let raw = call.status.clone().unwrap_or_default();
        let id = CallId::new(call.uuid.clone())?;
        let mut info = CallInfo::new(id, status::call_status(&raw), raw);
        info.direction = call.direction.as_deref().map(status::direction);
        // Vonage writes a phone's number as digits: reported in E.164, as every adapter does.
        info.from = endpoint_text(&call.from).map(|p| E164::restore_plus(&p));
        info.to = endpoint_text(&call.to).map(|p| E164::restore_plus(&p));
        info.start_time = call.start_time.as_deref().and_then(status::timestamp);
        info.end_time = call.end_time.as_deref().and_then(status::timestamp);
        info.duration = call
            .duration
            .as_deref()
            .and_then(|d| d.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        info.cost = self.cost_of(call)?;
        Ok(info)
    }

    fn cost_of(&self, call: &CallResource) -> Result<Option<CallCost>, Error> {
        let Some(amount) = status::decimal("price", call.price.as_deref())? else {
            return Ok(None);
        };
        Ok(Some(
            CallCost::new(amount.abs(), self.client.config().currency)
                .with_rate(status::decimal("rate", call.rate.as_deref())?),
        ))
    }
}

#[async_trait]
impl TelephonyProvider for Vonage {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn carrier(&self) -> &'static dyn telephony_core::Carrier {
        &crate::CARRIER
    }

    fn capabilities(&self) -> Capabilities {
        let mut c = Capabilities::NONE;
        c.answer_url = true;
        c.inline_stream_on_create = true;
        c.machine_detection = true;
        c.machine_detection_greeting_end = true;
        // The websocket cannot send DTMF; the Voice API can.
        c.dtmf_rest = true;
        // The stream has no DTMF message: the media session plays the keys as tones.
        c.dtmf_send = true;
        c.transfer = true;
        c.warm_transfer = true;
        c.sip_transfer = true;
        // Through the NCCO's `record`, on create (an inline NCCO) and on answer (a `record`
        // before the stream's `connect` when `StreamSpec::record` asks).
        c.recording = true;
        c.recording_on_answer = true;
        c.dual_channel_recording = true;
        c.recording_download = true;
        // No REST verb starts or stops a recording, and none deletes one.
        c.recording_control = false;
        c.recording_delete = false;
        c.playback_marks = true;
        c.clear_audio = true;
        // The Account API's get-balance.
        c.balance = true;
        c
    }

    fn validate_config(&self) -> Result<(), Error> {
        Ok(self.client.config().validate()?)
    }

    async fn initiate_call(&self, call: &OutboundCall) -> Result<CallInitiation, Error> {
        let to = Endpoint::Phone(Phone::new(call.to.digits()));
        let status_callback = call.status_callback.as_ref();
        let mut req = match &call.target {
            CallTarget::AnswerUrl(url) => {
                if call.record.is_some() {
                    return Err(Error::invalid_request(
                        "Vonage records through the NCCO, and an answer-URL call runs the NCCO your answer URL serves: ask for the recording there (StreamSpec::record), or place the call with an inline stream",
                    ));
                }
                CreateCall::answer_url(to, url.as_str(), Method::Post)
            }
            CallTarget::Stream(stream) => {
                let ncco = Self::stream_ncco(stream, None, self.client.config().stream_rate)
                    .map_err(Error::invalid_request)?;
                // The call's recording first, else the stream's; announced to its callback,
                // else a status callback.
                let ncco = match (&call.record, &stream.record) {
                    (Some(options), _) => self.recorded(
                        ncco,
                        options,
                        status_callback.or(stream.status_callback.as_ref()),
                        None,
                    )?,
                    (None, Some(options)) => self.recorded(
                        ncco,
                        options,
                        stream.status_callback.as_ref().or(status_callback),
                        None,
                    )?,
                    (None, None) => ncco,
                };
                CreateCall::ncco(to, &ncco).map_err(Error::invalid_request)?
            }
            CallTarget::Markup(markup) => {
                let mut ncco: serde_json::Value =
                    serde_json::from_str(&markup.body).map_err(|e| {
                        Error::invalid_request(format!(
                            "Vonage runs an NCCO, a JSON array; this markup ({}) is not JSON: {e}",
                            markup.content_type
                        ))
                    })?;
                if let Some(options) = &call.record {
                    let record =
                        recording::record_action(options, status_callback, None, &self.signer)?;
                    let record = serde_json::to_value(Action::from(record))
                        .map_err(|e| Error::invalid_request(e.to_string()))?;
                    match ncco.as_array_mut() {
                        Some(actions) => actions.insert(0, record),
                        None => {
                            return Err(Error::invalid_request(
                                "an NCCO is a JSON array of actions; this markup is not one",
                            ));
                        }
                    }
                }
                CreateCall::raw_ncco(to, ncco)
            }
            _ => {
                return Err(Error::invalid_request(
                    "a call target this adapter does not know",
                ));
            }
        }
        .from(call.from.digits());
        if let Some(cb) = &call.status_callback {
            req = req.event_url(cb.as_str());
        }
        match call.machine_detection {
            Some(MachineDetection::DetectGreetingEnd) => {
                req.advanced_machine_detection = Some(amd::greeting_end());
            }
            Some(_) => req.machine_detection = Some(Amd::Continue),
            None => {}
        }
        req.ringing_timer = call
            .ring_timeout
            .map(|t| u32::try_from(t.as_secs()).unwrap_or(u32::MAX));
        req.length_timer = call
            .time_limit
            .map(|t| u32::try_from(t.as_secs().max(1)).unwrap_or(u32::MAX));
        let created = self.client.create_call(&req).await?;
        let status = created
            .status
            .as_deref()
            .map_or(CallStatus::Initiated, status::call_status);
        Ok(CallInitiation::new(CallId::new(created.uuid)?, status))
    }

    async fn call_status(&self, call: &CallId) -> Result<CallInfo, Error> {
        let resource = self.client.get_call(call.as_str()).await?;
        self.info(&resource)
    }

    async fn hangup(&self, call: &CallId) -> Result<HangupOutcome, Error> {
        self.client.hangup(call.as_str()).await
    }

    async fn call_cost(&self, call: &CallId) -> Result<Option<CallCost>, Error> {
        let resource = self.client.get_call(call.as_str()).await?;
        self.cost_of(&resource)
    }

    async fn phone_numbers(&self) -> Result<Vec<PhoneNumber>, Error> {
        let numbers = self.client.list_numbers(None).await?;
        Ok(numbers
            .into_iter()
            .filter_map(|n| {
                let mut p = PhoneNumber::new(E164::parse_lenient(&n.msisdn).ok()?);
                p.provider_id = n.application().map(|a| format!("application {a}"));
                Some(p.with_features(n.takes("VOICE"), n.takes("SMS")))
            })
            .collect())
    }

    /// `GET /v1/calls/{uuid}` of a call no account has, with the application JWT: 404 once
    /// the JWT is accepted, 401 when the application id or the private key is wrong (the
    /// numbers, listed with the API key and secret, cannot tell).
    async fn check_call_credentials(&self) -> Result<(), Error> {
        match self
            .client
            .get_call("00000000-0000-4000-8000-000000000000")
            .await
        {
            Ok(_) => Ok(()),
            Err(Error::Api(api)) if api.status == 404 => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// In the configured [`VonageConfig::currency`](crate::VonageConfig), which Vonage's answer
    /// does not state (euros unless the account was set up otherwise).
    async fn balance(&self) -> Result<Balance, Error> {
        let currency = self.client.config().currency;
        self.client.get_balance().await?.balance(currency)
    }

    async fn configure_inbound(&self, number: &E164, url: &Url) -> Result<InboundUpdate, Error> {
        self.point_number(number, url).await
    }

    /// `configure_inbound`'s reads, and its plan worked out on a copy of the application:
    /// each webhook it would re-point, a missing piece it would add, the number's link, and
    /// signed callbacks that are off while `VONAGE_SIGNATURE_SECRET` is set.
    /// Without `url`, the plan keeps the application's own answer URL.
    async fn inbound_drift(&self, number: &E164, url: Option<&Url>) -> Result<InboundDrift, Error> {
        self.number_drift(number, url).await
    }

    fn verify_webhook(
        &self,
        request: &WebhookRequest,
        now: SystemTime,
    ) -> Result<Verified, WebhookError> {
        match &self.validator {
            Some(v) => v.validate(request, now),
            None => Err(WebhookError::MissingSecret {
                setting: "VONAGE_SIGNATURE_SECRET",
            }),
        }
    }

    fn answer(&self, stream: &StreamSpec) -> Result<Markup, Error> {
        let ncco = self.ncco(stream, None)?;
        Ok(Markup::json(
            ncco.to_json().map_err(Error::invalid_request)?,
        ))
    }

    fn answer_call(&self, call: &InboundCall, stream: &StreamSpec) -> Result<Markup, Error> {
        let ncco = self.ncco(stream, Some(call))?;
        Ok(Markup::json(
            ncco.to_json().map_err(Error::invalid_request)?,
        ))
    }

    /// A `talk`: the call ends when the NCCO does.
    fn speak_and_hangup(&self, text: &str) -> Result<Markup, Error> {
        let ncco = Ncco::new().talk(crate::ncco::Talk::new(text));
        Ok(Markup::json(
            ncco.to_json().map_err(Error::invalid_request)?,
        ))
    }

    fn parse_status_callback(&self, request: &WebhookRequest) -> Result<CallEvent, Error> {
        status::parse_event(request, self.client.config().currency)
    }

    /// A status, a machine-detection verdict, a recording, or a transfer leg's step: see
    /// `src/callback.rs`.
    fn parse_callback(&self, request: &WebhookRequest) -> Result<CallNotice, Error> {
        callback::parse(request, &self.signer, self.client.config().currency)
    }

    /// Cold: a `connect` NCCO; warm: the target called into a named conversation, the caller
    /// moved there when it answers. See `src/transfer.rs`.
    async fn transfer(&self, call: &CallId, transfer: &Transfer) -> Result<TransferStarted, Error> {
        transfer::transfer(self, call, transfer).await
    }

    async fn continue_transfer(&self, notice: &TransferNotice) -> Result<TransferStep, Error> {
        transfer::continue_transfer(self, notice).await
    }

    /// `GET {base}/v1/files/{id}` with the application JWT (the id is the file id that ends a
    /// recording's `recording_url`).
    async fn download_recording(
        &self,
        recording: &RecordingId,
        out: &mut (dyn tokio::io::AsyncWrite + Send + Unpin),
    ) -> Result<u64, Error> {
        let url = self.client.file_url(recording.as_str());
        self.client.download(&url, out).await
    }

    /// `PUT /v1/calls/{uuid}/dtmf`: `0`-`9`, `*` and `#`, and the pauses as Vonage's `p`
    /// (500 ms): `w` (half a second) is `p`, `W` (a second) is `pp` (vonage-python-sdk voice
    /// `play_dtmf_into_call`, vonage_utils `Dtmf` `^[0-9#*p]+$`). `A`-`D` are refused.
    async fn send_dtmf(&self, call: &CallId, digits: &Dtmf) -> Result<(), Error> {
        self.client
            .send_dtmf(call.as_str(), &vonage_dtmf(digits)?)
            .await
    }

    fn parse_inbound(&self, request: &WebhookRequest) -> Result<InboundCall, Error> {
        status::parse_answer(request)
    }

    /// A protocol expecting the configured stream rate until `websocket:connected` says the
    /// rate. For a stream whose answer asked for another rate, build
    /// [`VonageMediaProtocol::new`] with that rate, so audio that comes before
    /// `websocket:connected` is read at it too.
    fn media_protocol(&self) -> Box<dyn MediaProtocol> {
        Box::new(VonageMediaProtocol::new(self.client.config().stream_rate))
    }
}

/// `digits` as Vonage's DTMF verb takes them: keys as they are, `w` as `p` (500 ms), `W` as
/// `pp`; `A`-`D`, which Vonage does not play, refused before any request.
fn vonage_dtmf(digits: &Dtmf) -> Result<String, Error> {
    digits.check(
        |c| c.is_ascii_digit() || matches!(c, '*' | '#' | 'w' | 'W'),
        "Vonage plays 0-9, * and #, and pauses with p (500 ms): w is sent as p, W as pp",
    )?;
    Ok(digits
        .as_str()
        .chars()
        .map(|c| match c {
            'w' => "p".to_owned(),
            'W' => "pp".to_owned(),
            c => c.to_string(),
        })
        .collect())
}
