//! [`Twilio`]: the adapter behind [`TelephonyProvider`].

use std::time::SystemTime;

use async_trait::async_trait;
use telephony_core::{
    Balance, CallCost, CallEvent, CallId, CallInfo, CallInitiation, CallNotice, CallStatus,
    CallTarget, Capabilities, Currency, Drift, Dtmf, E164, Error, HangupOutcome, InboundCall,
    InboundDrift, InboundUpdate, MachineDetection, Markup, MediaProtocol, OutboundCall,
    PhoneNumber, ProviderKind, RecordingId, RecordingOptions, RecordingStarted, StreamSpec,
    TelephonyProvider, Transfer, TransferNotice, TransferStarted, Url, Verified, WebhookError,
    WebhookRequest,
};

use crate::KIND;
use crate::client::{CallInstructions, CreateCall, TwilioClient};
use crate::config::TwilioConfig;
use crate::media::TwilioMediaProtocol;
use crate::recording;
use crate::resources::{CallResource, NumberResource, parse_rfc2822, parse_seconds};
use crate::signature::RequestValidator;
use crate::status;
use crate::twiml::{Say, Stream, TwimlError, VoiceResponse};
use telephony_core::control::TransferStep;

/// Twilio, as a [`TelephonyProvider`].
///
/// ```no_run
/// use telephony_core::{OutboundCall, StreamSpec, TelephonyProvider};
/// use telephony_twilio::{Twilio, TwilioConfig};
///
/// # async fn run() -> Result<(), telephony_core::Error> {
/// let twilio = Twilio::new(TwilioConfig::from_env()?)?;
/// let call = OutboundCall::stream(
///     "+14155550100".parse()?,
///     "+14155550199".parse()?,
///     StreamSpec::new("wss://agent.example.com/media".parse().expect("a URL")),
/// )
/// .status_callback("https://agent.example.com/status".parse().expect("a URL"));
/// let placed = twilio.initiate_call(&call).await?;
/// println!("calling: {}", placed.call_id);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Twilio {
    client: TwilioClient,
    validator: Option<RequestValidator>,
}

impl Twilio {
    /// The adapter for these settings, checked first.
    pub fn new(config: TwilioConfig) -> Result<Twilio, Error> {
        let validator = match (
            config.webhook_token.clone(),
            config.shared_key_secret.clone(),
        ) {
            (Some(token), Some(shared)) => {
                Some(RequestValidator::new(token).with_shared_key(shared))
            }
            (Some(token), None) => Some(RequestValidator::new(token)),
            (None, Some(shared)) => Some(RequestValidator::shared_key_only(shared)),
            (None, None) => None,
        };
        Ok(Twilio {
            client: TwilioClient::new(config)?,
            validator,
        })
    }

    /// `number`, the account's and able to take voice calls, or the error `configure_inbound`
    /// refuses it with.
    async fn voice_number(&self, number: &E164) -> Result<NumberResource, Error> {
        let found = self.client.list_numbers(Some(number.as_str())).await?;
        let Some(current) = found.into_iter().find(|n| {
            n.phone_number
                .as_deref()
                .and_then(|p| E164::parse_lenient(p).ok())
                .as_ref()
                == Some(number)
        }) else {
            return Err(Error::invalid_request(format!(
                "{number} is not a number of Twilio account {}: buy or port it first, or check TWILIO_ACCOUNT_SID",
                self.client.config().account_sid
            )));
        };
        if current.capabilities.and_then(|c| c.voice) == Some(false) {
            return Err(Error::NumberWithoutVoice {
                provider: KIND,
                number: number.clone(),
            });
        }
        Ok(current)
    }

    /// The REST client, for operations beyond the trait.
    pub fn client(&self) -> &TwilioClient {
        &self.client
    }

    /// The TwiML that connects a call to `stream` and hangs up when the stream closes
    /// (without the recording [`StreamSpec::record`] asks for: [`answer`](TelephonyProvider::answer)
    /// adds it).
    pub fn stream_twiml(stream: &StreamSpec) -> Result<String, TwimlError> {
        Ok(VoiceResponse::new()
            .connect_stream(stream_element(stream)?)?
            .hangup()
            .to_xml())
    }

    /// [`stream_twiml`](Self::stream_twiml), preceded by `<Start><Recording>` where the stream
    /// asks to be recorded: announced at the recording's callback, else `status_callback`
    /// (the call's), else the stream's status callback.
    fn stream_document(
        stream: &StreamSpec,
        status_callback: Option<&Url>,
    ) -> Result<String, Error> {
        let mut doc = VoiceResponse::new();
        if let Some(options) = &stream.record {
            let fallback = status_callback.or(stream.status_callback.as_ref());
            doc = doc.start_recording(recording::start_element(options, fallback)?);
        }
        let s = stream_element(stream).map_err(Error::invalid_request)?;
        Ok(doc
            .connect_stream(s)
            .map_err(Error::invalid_request)?
            .hangup()
            .to_xml())
    }
}

fn stream_element(stream: &StreamSpec) -> Result<Stream, TwimlError> {
    let mut s = Stream::new(stream.url.as_str())?;
    if let Some(name) = &stream.name {
        s = s.name(name.clone());
    }
    if let Some(cb) = &stream.status_callback {
        s = s.status_callback(cb.to_string());
    }
    for (k, v) in &stream.parameters {
        s = s.parameter(k.clone(), v.clone());
    }
    Ok(s)
}

/// A Twilio price (`"-0.01300"`, a charge) as a positive cost.
pub(crate) fn cost_of(call: &CallResource) -> Result<Option<CallCost>, Error> {
    let Some(amount) = telephony_core::parse_decimal(KIND, "call price", call.price.as_deref())?
    else {
        return Ok(None);
    };
    let currency = call
        .price_unit
        .as_deref()
        .and_then(Currency::new)
        .unwrap_or(Currency::USD);
    Ok(Some(CallCost::new(amount.abs(), currency)))
}

pub(crate) fn call_info(call: &CallResource) -> Result<CallInfo, Error> {
    let raw = call.status.clone().unwrap_or_default();
    let id = CallId::new(call.sid.clone())?;
    let mut info = CallInfo::new(id, status::call_status(&raw), raw);
    info.direction = call.direction.as_deref().map(status::direction);
    info.from.clone_from(&call.from);
    info.to.clone_from(&call.to);
    info.start_time = call.start_time.as_deref().and_then(parse_rfc2822);
    info.end_time = call.end_time.as_deref().and_then(parse_rfc2822);
    info.duration = call.duration.as_deref().and_then(parse_seconds);
    info.cost = cost_of(call)?;
    info.answered_by = call.answered_by.as_deref().map(status::answered_by);
    info.parent_call_id = call
        .parent_call_sid
        .as_deref()
        .and_then(|s| CallId::new(s).ok());
    Ok(info)
}

#[async_trait]
impl TelephonyProvider for Twilio {
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
        // No REST verb sends DTMF on a live call: tones go on the media stream, played in the
        // audio by the media session (the stream has no DTMF message).
        c.dtmf_rest = false;
        c.dtmf_send = true;
        c.transfer = true;
        c.warm_transfer = true;
        c.sip_transfer = true;
        c.recording = true;
        c.recording_on_answer = true;
        c.recording_control = true;
        c.dual_channel_recording = true;
        c.recording_download = true;
        c.recording_delete = true;
        c.playback_marks = true;
        c.clear_audio = true;
        c.signed_media_upgrade = true;
        // The Balance resource.
        c.balance = true;
        c
    }

    fn validate_config(&self) -> Result<(), Error> {
        self.client.config().validate()?;
        if self.client.config().webhook_token.is_none() {
            return Err(telephony_core::ConfigError::new(
                "TWILIO_AUTH_TOKEN",
                "not set: webhooks cannot be verified without the account's Auth Token",
            )
            .into());
        }
        Ok(())
    }

    async fn initiate_call(&self, call: &OutboundCall) -> Result<CallInitiation, Error> {
        let instructions = match &call.target {
            CallTarget::AnswerUrl(url) => CallInstructions::Url(url.clone()),
            CallTarget::Stream(stream) => CallInstructions::Twiml(Self::stream_document(
                stream,
                call.status_callback.as_ref(),
            )?),
            CallTarget::Markup(m) if m.content_type.contains("xml") => {
                CallInstructions::Twiml(m.body.clone())
            }
            CallTarget::Markup(m) => {
                return Err(Error::invalid_request(format!(
                    "Twilio runs TwiML, not {}: give an XML document",
                    m.content_type
                )));
            }
            _ => {
                return Err(Error::invalid_request(
                    "this call target is not supported by Twilio",
                ));
            }
        };
        let mut req = CreateCall::new(call.to.as_str(), call.from.as_str(), instructions);
        req.status_callback.clone_from(&call.status_callback);
        req.machine_detection = call.machine_detection.map(|m| match m {
            MachineDetection::DetectGreetingEnd => "DetectMessageEnd",
            _ => "Enable",
        });
        // The verdict is posted to the status callback as it comes (`AsyncAmd`), so the call
        // connects at once; without a callback, Twilio delays the call's TwiML until it knows.
        req.async_amd_callback = call.machine_detection.and(call.status_callback.clone());
        req.timeout_secs = call.ring_timeout.map(|t| t.as_secs().max(1));
        req.time_limit_secs = call.time_limit.map(|t| t.as_secs().max(1));
        if let Some(options) = &call.record {
            req.extra = recording::create_fields(options, call.status_callback.as_ref())?;
        }
        let created = self.client.create_call(&req).await?;
        let raw = created.status.unwrap_or_else(|| "queued".into());
        Ok(CallInitiation::new(
            CallId::new(created.sid)?,
            status::call_status(&raw),
        ))
    }

    async fn call_status(&self, call: &CallId) -> Result<CallInfo, Error> {
        call_info(&self.client.fetch_call(call.as_str()).await?)
    }

    async fn hangup(&self, call: &CallId) -> Result<HangupOutcome, Error> {
        let gone = |e: &Error| e.is_not_found();
        let current = match self.client.fetch_call(call.as_str()).await {
            Ok(c) => c,
            Err(e) if gone(&e) => return Ok(HangupOutcome::AlreadyEnded),
            Err(e) => return Err(e),
        };
        let state = status::call_status(current.status.as_deref().unwrap_or(""));
        if state.is_terminal() {
            return Ok(HangupOutcome::AlreadyEnded);
        }
        let cancel = matches!(
            state,
            CallStatus::Queued | CallStatus::Initiated | CallStatus::Ringing
        );
        let target = if cancel { "canceled" } else { "completed" };
        let updated = match self
            .client
            .update_call(call.as_str(), &[("Status", target)])
            .await
        {
            Ok(c) => c,
            Err(e) if gone(&e) => return Ok(HangupOutcome::AlreadyEnded),
            Err(e) => return Err(e),
        };
        // Answered between the fetch and the cancel: `canceled` does not end an answered call.
        if cancel
            && status::call_status(updated.status.as_deref().unwrap_or(""))
                == CallStatus::InProgress
        {
            return match self
                .client
                .update_call(call.as_str(), &[("Status", "completed")])
                .await
            {
                Ok(_) => Ok(HangupOutcome::Ended),
                Err(e) if gone(&e) => Ok(HangupOutcome::AlreadyEnded),
                Err(e) => Err(e),
            };
        }
        Ok(if cancel {
            HangupOutcome::Canceled
        } else {
            HangupOutcome::Ended
        })
    }

    async fn call_cost(&self, call: &CallId) -> Result<Option<CallCost>, Error> {
        cost_of(&self.client.fetch_call(call.as_str()).await?)
    }

    async fn phone_numbers(&self) -> Result<Vec<PhoneNumber>, Error> {
        let numbers = self.client.list_numbers(None).await?;
        Ok(numbers
            .into_iter()
            .filter_map(|n| {
                let number = E164::parse_lenient(n.phone_number.as_deref()?).ok()?;
                let mut p = PhoneNumber::new(number);
                p.provider_id = Some(n.sid);
                p.voice_url = n.voice_url.filter(|u| !u.is_empty());
                p.friendly_name = n.friendly_name;
                let caps = n.capabilities.unwrap_or_default();
                Some(p.with_features(caps.voice, caps.sms))
            })
            .collect())
    }

    async fn balance(&self) -> Result<Balance, Error> {
        let resource = self.client.fetch_balance().await?;
        crate::balance::balance_of(&resource, &self.client.config().account_sid)
    }

    async fn configure_inbound(&self, number: &E164, url: &Url) -> Result<InboundUpdate, Error> {
        let current = self.voice_number(number).await?;
        let previous = current.voice_url.clone().filter(|u| !u.is_empty());
        let app = current
            .voice_application_sid
            .clone()
            .filter(|s| !s.is_empty());
        let trunk = current.trunk_sid.clone().filter(|s| !s.is_empty());
        let method_ok = current
            .voice_method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case("POST"));
        let mut notes = Vec::new();
        if let Some(trunk) = &trunk {
            notes.push(format!(
                "{number} belongs to SIP trunk {trunk}, which takes its calls whatever the voice URL says"
            ));
        }
        if previous.as_deref() == Some(url.as_str()) && method_ok && app.is_none() {
            return Ok(InboundUpdate::new(
                number.clone(),
                previous,
                url.as_str(),
                false,
                notes,
            ));
        }
        if let Some(prev) = &previous
            && prev != url.as_str()
        {
            notes.push(format!(
                "{number} pointed at {prev}: it had drifted, or was set by hand"
            ));
        }
        let mut form = vec![("VoiceUrl", url.as_str()), ("VoiceMethod", "POST")];
        if let Some(app) = &app {
            // A TwiML app on the number overrides VoiceUrl: unset it, or the change is silent.
            notes.push(format!(
                "{number} was bound to TwiML app {app}, which overrides the voice URL; unbound it"
            ));
            form.push(("VoiceApplicationSid", ""));
        }
        self.client.update_number(&current.sid, &form).await?;
        Ok(InboundUpdate::new(
            number.clone(),
            previous,
            url.as_str(),
            true,
            notes,
        ))
    }

    /// From the number's resource alone: its voice URL and method, a TwiML app bound to it
    /// (which takes its calls whatever the voice URL says), a SIP trunk it belongs to.
    async fn inbound_drift(&self, number: &E164, url: Option<&Url>) -> Result<InboundDrift, Error> {
        let current = self.voice_number(number).await?;
        let voice_url = current.voice_url.clone().filter(|u| !u.is_empty());
        let app = current.voice_application_sid.filter(|s| !s.is_empty());
        let mut drift = Vec::new();
        match (&app, url) {
            (_, None) => {}
            (Some(app), Some(_)) => drift.push(Drift::Url {
                found: Some(format!(
                    "TwiML app {app}, which overrides the number's voice URL ({})",
                    voice_url.as_deref().unwrap_or("none")
                )),
            }),
            (None, Some(url)) if voice_url.as_deref() != Some(url.as_str()) => {
                drift.push(Drift::Url {
                    found: voice_url.clone(),
                });
            }
            (None, Some(_)) => {}
        }
        if let Some(m) = current
            .voice_method
            .as_deref()
            .filter(|m| !m.eq_ignore_ascii_case("POST"))
        {
            drift.push(Drift::Setting {
                detail: format!("its voice method is {m}; configure_inbound sets POST"),
            });
        }
        if let Some(trunk) = current.trunk_sid.filter(|s| !s.is_empty()) {
            drift.push(Drift::Setting {
                detail: format!(
                    "it belongs to SIP trunk {trunk}, which takes its calls whatever the voice URL says (configure_inbound leaves it: take it off the trunk in the console)"
                ),
            });
        }
        Ok(InboundDrift::new(number.clone(), voice_url, drift))
    }

    fn verify_webhook(
        &self,
        request: &WebhookRequest,
        _now: SystemTime,
    ) -> Result<Verified, WebhookError> {
        match &self.validator {
            Some(v) => v.validate(request),
            None => Err(WebhookError::MissingSecret {
                setting: "TWILIO_AUTH_TOKEN",
            }),
        }
    }

    fn answer(&self, stream: &StreamSpec) -> Result<Markup, Error> {
        Ok(Markup::xml(Self::stream_document(stream, None)?))
    }

    fn speak_and_hangup(&self, text: &str) -> Result<Markup, Error> {
        Ok(Markup::xml(
            VoiceResponse::new().say(Say::new(text)).hangup().to_xml(),
        ))
    }

    fn parse_status_callback(&self, request: &WebhookRequest) -> Result<CallEvent, Error> {
        status::parse_status_callback(request)
    }

    fn parse_callback(&self, request: &WebhookRequest) -> Result<CallNotice, Error> {
        status::parse_callback(request)
    }

    async fn transfer(&self, call: &CallId, transfer: &Transfer) -> Result<TransferStarted, Error> {
        self.start_transfer(call, transfer).await
    }

    async fn continue_transfer(&self, notice: &TransferNotice) -> Result<TransferStep, Error> {
        self.transfer_step(notice).await
    }

    async fn start_recording(
        &self,
        call: &CallId,
        options: &RecordingOptions,
    ) -> Result<RecordingStarted, Error> {
        let started = self
            .client
            .start_call_recording(call.as_str(), options)
            .await?;
        Ok(RecordingStarted::new(RecordingId::new(started.sid).ok()))
    }

    async fn stop_recording(
        &self,
        call: &CallId,
        recording: Option<&RecordingId>,
    ) -> Result<(), Error> {
        self.client
            .stop_call_recording(call.as_str(), recording)
            .await
            .map(|_| ())
    }

    async fn download_recording(
        &self,
        recording: &RecordingId,
        out: &mut (dyn tokio::io::AsyncWrite + Send + Unpin),
    ) -> Result<u64, Error> {
        self.client.download_recording(recording, out).await
    }

    async fn delete_recording(&self, recording: &RecordingId) -> Result<(), Error> {
        self.client.delete_recording(recording).await
    }

    /// Twilio has no API to send DTMF on a live call (`<Play digits>` would replace the
    /// call's TwiML and end its stream): send the tones on the media stream.
    async fn send_dtmf(&self, call: &CallId, digits: &Dtmf) -> Result<(), Error> {
        let _ = (call, digits);
        Err(self.unsupported(
            "sending DTMF through the API: Twilio has no API to send DTMF on a live call; send tones on the media stream",
        ))
    }

    fn parse_inbound(&self, request: &WebhookRequest) -> Result<InboundCall, Error> {
        status::parse_inbound(request)
    }

    fn media_protocol(&self) -> Box<dyn MediaProtocol> {
        Box::new(TwilioMediaProtocol::new())
    }
}
