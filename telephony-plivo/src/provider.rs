//! [`Plivo`]: the adapter behind [`TelephonyProvider`].

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use rust_decimal::Decimal;
use telephony_core::control::TransferStep;
use telephony_core::{
    ApiError, Balance, CallCost, CallEvent, CallId, CallInfo, CallInitiation, CallNotice,
    CallStatus, CallTarget, Capabilities, Currency, DecodeError, Drift, Dtmf, E164, Error,
    HangupOutcome, InboundCall, InboundDrift, InboundUpdate, MachineDetection, Markup,
    MediaProtocol, OutboundCall, PhoneNumber, ProviderKind, RecordingId, RecordingOptions,
    RecordingStarted, StreamSpec, TelephonyProvider, Transfer, TransferNotice, TransferStarted,
    Url, Verified, WebhookError, WebhookRequest, parse_decimal, parse_seconds,
};
use tokio::io::AsyncWrite;

use crate::KIND;
use crate::client::{CreateCall, PlivoClient};
use crate::config::PlivoConfig;
use crate::inbound::{self, Plan};
use crate::media::PlivoMediaProtocol;
use crate::resources::{Cdr, LiveCall};
use crate::signature::PlivoValidator;
use crate::xml::{PlivoResponse, PlivoXmlError, Speak, Stream, StreamAudio};
use crate::{callbacks, dtmf, recording, status, transfer};

/// Plivo, as a [`TelephonyProvider`].
///
/// Placing a call returns Plivo's `request_uuid` as the call id. The call gets its own
/// `CallUUID` when it is answered; Plivo's answer and hangup callbacks carry both, and
/// [`parse_status_callback`](TelephonyProvider::parse_status_callback) puts the request id in
/// [`CallEvent::initiation_id`]: match on that, and keep the event's `call_id`.
///
/// [`call_status`](TelephonyProvider::call_status), [`hangup`](TelephonyProvider::hangup) and
/// [`call_cost`](TelephonyProvider::call_cost) accept the request id while the call is queued,
/// ringing or live. Once it has ended, Plivo files its record (status, duration, price) under
/// the `CallUUID` alone, and offers no way to look a record up by request id: with the request
/// id, `call_status` and `call_cost` then answer a not-found error whose hint says to pass the
/// `CallUUID`, and `hangup` answers that the call had already ended.
#[derive(Debug, Clone)]
pub struct Plivo {
    client: PlivoClient,
    validator: PlivoValidator,
}

impl Plivo {
    /// The adapter for these settings, checked first.
    pub fn new(config: PlivoConfig) -> Result<Plivo, Error> {
        let validator =
            PlivoValidator::new(config.auth_token.clone()).accept_v2(config.accept_v2_signatures);
        Ok(Plivo {
            client: PlivoClient::new(config)?,
            validator,
        })
    }

    /// The REST client, for operations beyond the trait.
    pub fn client(&self) -> &PlivoClient {
        &self.client
    }

    /// The Plivo XML that connects a call to a bidirectional stream (μ-law 8 kHz, or L16 at
    /// 8 or 16 kHz as `stream.audio` asks), keeps the call on it, and hangs up when it closes.
    /// Stream parameters travel as `extraHeaders`, which Plivo limits to letters and digits.
    ///
    /// Any other format is refused ([`PlivoXmlError::UnsupportedAudio`]) rather than replaced:
    /// a caller that asked for A-law or 24 kHz would otherwise get audio it does not expect.
    ///
    /// With [`StreamSpec::record`], the document starts with `<Record recordSession="true">`
    /// (the whole call, in the background, `maxLength` the options' or 4 hours, mono or
    /// stereo), announced at the options' callback, which it needs
    /// ([`PlivoXmlError::Recording`] without one, or for a format Plivo does not record).
    pub fn stream_xml(stream: &StreamSpec) -> Result<String, PlivoXmlError> {
        let audio = match stream.audio {
            Some(format) => StreamAudio::for_format(format)?,
            None => StreamAudio::Mulaw8k,
        };
        let mut s = Stream::new(stream.url.as_str())
            .bidirectional(true)
            .keep_call_alive(true)
            .audio(audio);
        if let Some(cb) = &stream.status_callback {
            s = s.status_callback(cb.to_string());
        }
        for (k, v) in &stream.parameters {
            s = s.extra_header(k.clone(), v.clone());
        }
        let mut doc = PlivoResponse::new();
        if let Some(options) = &stream.record {
            doc = doc.record(recording::record_element(options)?);
        }
        doc.stream(s).hangup().to_xml()
    }
}

fn seconds(s: Option<&str>) -> Option<Duration> {
    parse_seconds(s?)
}

/// What a host holding a request id should do once the call has ended.
const REQUEST_ID_HINT: &str = "if this is the request_uuid that placing the call returned, the call has ended and Plivo files its record under the call's own CallUUID only (it cannot be looked up by request id): pass the CallUUID from the answer or hangup callback (CallEvent::call_id, matched to the request by initiation_id)";

fn not_found(id: &str) -> Error {
    ApiError::new(
        KIND,
        format!("fetch call {id}"),
        404,
        "Plivo knows no live call, call record or queued request with this id",
    )
    .with_hint(Some(REQUEST_ID_HINT.to_owned()))
    .into()
}

fn decimal(what: &str, s: Option<&str>) -> Result<Option<Decimal>, Error> {
    parse_decimal(KIND, what, s)
}

fn cost_of(cdr: &Cdr) -> Result<Option<CallCost>, Error> {
    let Some(amount) = decimal("total_amount", cdr.total_amount.as_deref())? else {
        return Ok(None);
    };
    // Plivo bills in US dollars.
    Ok(Some(CallCost::new(amount.abs(), Currency::USD).with_rate(
        decimal("total_rate", cdr.total_rate.as_deref())?,
    )))
}

fn live_info(id: &CallId, live: &LiveCall) -> CallInfo {
    let raw = live
        .call_status
        .clone()
        .unwrap_or_else(|| "in-progress".into());
    let mut info = CallInfo::new(id.clone(), status::call_status(&raw), raw);
    info.direction = live.direction.as_deref().map(status::direction);
    info.from = live.from.as_deref().map(E164::restore_plus);
    info.to = live.to.as_deref().map(E164::restore_plus);
    info
}

impl Plivo {
    /// A request id whose call has not ended: queued, or answered and live under its own
    /// CallUUID.
    async fn unfinished_request(&self, call: &CallId) -> Result<Option<CallInfo>, Error> {
        let id = call.as_str();
        if let Some(queued) = self.client.get_queued_call(id).await? {
            let mut info = live_info(call, &queued);
            info.status = CallStatus::Queued;
            "queued".clone_into(&mut info.raw_status);
            return Ok(Some(info));
        }
        Ok(self
            .client
            .find_live_call_by_request(id)
            .await?
            .map(|live| {
                let own = live
                    .call_uuid
                    .as_deref()
                    .and_then(|u| CallId::new(u).ok())
                    .unwrap_or_else(|| call.clone());
                live_info(&own, &live)
            }))
    }
}

/// A call record: always of an ended call. Its `call_state` when Plivo sends one it knows,
/// else the outcome its times, billed seconds and hangup cause give
/// ([`status::ended_call`]); the parties in E.164 as every adapter reports them.
fn cdr_info(id: &CallId, cdr: &Cdr) -> Result<CallInfo, Error> {
    let raw = cdr.call_state.as_deref().unwrap_or_default().trim();
    let status = match status::cdr_state(raw) {
        CallStatus::Unknown(_) => {
            let answered = cdr
                .answer_time
                .as_deref()
                .is_some_and(|t| !t.trim().is_empty())
                || seconds(cdr.bill_duration.as_deref()).is_some_and(|d| d > Duration::ZERO);
            status::ended_call(
                answered,
                cdr.hangup_cause_code.as_deref(),
                cdr.hangup_cause_name.as_deref(),
                cdr.hangup_source.as_deref(),
            )
        }
        known => known,
    };
    let call_id = CallId::new(cdr.call_uuid.clone()).unwrap_or_else(|_| id.clone());
    let mut info = CallInfo::new(call_id, status, raw);
    info.direction = cdr.call_direction.as_deref().map(status::direction);
    info.from = cdr.from_number.as_deref().map(E164::restore_plus);
    info.to = cdr.to_number.as_deref().map(E164::restore_plus);
    let time = |t: &Option<String>| t.as_deref().and_then(status::timestamp);
    info.start_time = time(&cdr.initiation_time).or_else(|| time(&cdr.answer_time));
    info.end_time = time(&cdr.end_time);
    info.duration = seconds(cdr.call_duration.as_deref());
    info.cost = cost_of(cdr)?;
    info.parent_call_id = cdr
        .parent_call_uuid
        .as_deref()
        .and_then(|s| CallId::new(s).ok());
    Ok(info)
}

#[async_trait]
impl TelephonyProvider for Plivo {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn carrier(&self) -> &'static dyn telephony_core::Carrier {
        &crate::CARRIER
    }

    fn capabilities(&self) -> Capabilities {
        let mut c = Capabilities::NONE;
        c.answer_url = true;
        c.machine_detection = true;
        // Plivo reports machine or human only: no greeting end, no beep.
        c.machine_detection_greeting_end = false;
        c.dtmf_send = true;
        c.dtmf_rest = true;
        c.transfer = true;
        // Composed: the target called, then both legs in a conference.
        c.warm_transfer = true;
        c.sip_transfer = true;
        // Not from placing a call: Plivo's Call API has no record flag.
        c.recording = false;
        // From the answer that connects the stream (StreamSpec::record): a
        // <Record recordSession="true"> before the <Stream>.
        c.recording_on_answer = true;
        c.recording_control = true;
        c.dual_channel_recording = true;
        c.recording_download = true;
        c.recording_delete = true;
        c.playback_marks = true;
        c.clear_audio = true;
        // The account's cash_credits.
        c.balance = true;
        c
    }

    fn validate_config(&self) -> Result<(), Error> {
        Ok(self.client.config().validate()?)
    }

    async fn initiate_call(&self, call: &OutboundCall) -> Result<CallInitiation, Error> {
        let answer_url = match &call.target {
            CallTarget::AnswerUrl(url) => url.to_string(),
            _ => {
                return Err(Error::invalid_request(
                    "Plivo cannot place a call with inline XML: give an answer URL that returns Plivo::answer (or `telephony markup plivo`)",
                ));
            }
        };
        if call.record.is_some() {
            return Err(self.unsupported(
                "recording a call from its placing (Plivo's Call API has no record flag): record from the answer document (StreamSpec::record) or with start_recording once answered",
            ));
        }
        let mut req = CreateCall::new(call.from.digits(), call.to.digits(), answer_url);
        if let Some(cb) = &call.status_callback {
            req.hangup_url = Some(cb.to_string());
            req.hangup_method = Some("POST");
            req.ring_url = Some(cb.to_string());
            req.ring_method = Some("POST");
        }
        match call.machine_detection {
            None => {}
            Some(MachineDetection::Detect) => {
                req.machine_detection = Some("true");
                // Asynchronous where there is a status callback (the verdict arrives there as
                // Event=MachineDetection); else Plivo gives it with the answer or hangup.
                if let Some(cb) = &call.status_callback {
                    req.machine_detection_url = Some(cb.to_string());
                    req.machine_detection_method = Some("POST");
                }
            }
            Some(_) => {
                return Err(self.unsupported(
                    "machine detection that waits for a machine's greeting to end (Plivo reports machine or human only)",
                ));
            }
        }
        req.time_limit = call.time_limit.map(|t| t.as_secs().max(1));
        req.ring_timeout = call.ring_timeout.map(|t| t.as_secs());
        let created = self.client.create_call(&req).await?;
        let id = created.request_uuid.into_iter().next().ok_or_else(|| {
            Error::Decode(DecodeError::new(
                KIND,
                "create call answer",
                "no request_uuid",
            ))
        })?;
        Ok(CallInitiation::new(CallId::new(id)?, CallStatus::Queued))
    }

    async fn call_status(&self, call: &CallId) -> Result<CallInfo, Error> {
        let id = call.as_str();
        if let Some(live) = self.client.get_live_call(id).await? {
            return Ok(live_info(call, &live));
        }
        if let Some(cdr) = self.client.get_cdr(id).await? {
            return cdr_info(call, &cdr);
        }
        self.unfinished_request(call)
            .await?
            .ok_or_else(|| not_found(id))
    }

    async fn hangup(&self, call: &CallId) -> Result<HangupOutcome, Error> {
        if self.client.hangup_call(call.as_str()).await? {
            return Ok(HangupOutcome::Ended);
        }
        // Not a live call: perhaps the request of one not answered yet.
        if self.client.cancel_request(call.as_str()).await? {
            return Ok(HangupOutcome::Canceled);
        }
        // Or the request of one answered since, which Plivo knows by its CallUUID: hanging up
        // must not stop at "not found" while that call bills on.
        if let Some(uuid) = self
            .client
            .find_live_call_by_request(call.as_str())
            .await?
            .and_then(|live| live.call_uuid)
            && self.client.hangup_call(&uuid).await?
        {
            return Ok(HangupOutcome::Ended);
        }
        Ok(HangupOutcome::AlreadyEnded)
    }

    async fn call_cost(&self, call: &CallId) -> Result<Option<CallCost>, Error> {
        let id = call.as_str();
        if let Some(cdr) = self.client.get_cdr(id).await? {
            return cost_of(&cdr);
        }
        // No record: not priced yet if Plivo still has the call going, else not found (with
        // a request id, the record is under the CallUUID).
        if self.client.get_live_call(id).await?.is_some()
            || self.unfinished_request(call).await?.is_some()
        {
            return Ok(None);
        }
        Err(not_found(id))
    }

    async fn phone_numbers(&self) -> Result<Vec<PhoneNumber>, Error> {
        let numbers = self.client.list_numbers().await?;
        Ok(numbers
            .into_iter()
            .filter_map(|n| {
                let mut p = PhoneNumber::new(E164::parse_lenient(&n.number).ok()?);
                p.provider_id = n.app_id().map(|a| format!("application {a}"));
                p.friendly_name = n.alias;
                Some(p.with_features(n.voice_enabled, n.sms_enabled))
            })
            .collect())
    }

    async fn balance(&self) -> Result<Balance, Error> {
        self.client.get_account().await?.balance()
    }

    async fn configure_inbound(&self, number: &E164, url: &Url) -> Result<InboundUpdate, Error> {
        let reads = inbound::read(&self.client, number).await?;
        let plan = Plan::new(&reads, Some(url.as_str()));
        if plan.sets_answer() {
            self.client
                .set_answer_url(&reads.app_id, url.as_str())
                .await?;
        }
        if plan.relink {
            self.client
                .link_number(number.digits(), &reads.app_id)
                .await?;
        }
        let notes = plan.notes(&reads, number);
        Ok(InboundUpdate::new(
            number.clone(),
            reads.current_url,
            url.as_str(),
            plan.changes(),
            notes,
        ))
    }

    /// `configure_inbound`'s reads and its plan, reported instead of carried out: where the
    /// number's calls go (the answer URL of the application it is linked to), its link to
    /// `PLIVO_APP_ID`, that application's answer URL and method. Without `url`, the
    /// application keeps its own answer URL.
    async fn inbound_drift(&self, number: &E164, url: Option<&Url>) -> Result<InboundDrift, Error> {
        // Without PLIVO_APP_ID, where the calls go is still read (the application the number
        // is linked to answers them), and the missing setting is the drift to fix.
        if self.client.config().app_id.is_none() {
            let (linked_to, current) = inbound::read_unconfigured(&self.client, number).await?;
            let mut drift = Vec::new();
            if let Some(url) = url
                && current.as_deref() != Some(url.as_str())
            {
                drift.push(Drift::Url {
                    found: current.clone(),
                });
            }
            drift.push(Drift::Setting {
                detail: format!(
                    "PLIVO_APP_ID is not set: configure_inbound links the number to that application ({})",
                    match &linked_to {
                        Some(a) => format!("it is linked to application {a} now"),
                        None => "it is linked to no application now, so its calls never arrive".to_owned(),
                    }
                ),
            });
            return Ok(InboundDrift::new(number.clone(), current, drift));
        }
        let reads = inbound::read(&self.client, number).await?;
        let url = url.map(Url::as_str);
        let drift = Plan::new(&reads, url).drift(&reads, url);
        Ok(InboundDrift::new(number.clone(), reads.current_url, drift))
    }

    fn verify_webhook(
        &self,
        request: &WebhookRequest,
        _now: SystemTime,
    ) -> Result<Verified, WebhookError> {
        self.validator.validate(request)
    }

    fn answer(&self, stream: &StreamSpec) -> Result<Markup, Error> {
        Ok(Markup::xml(
            Self::stream_xml(stream).map_err(Error::invalid_request)?,
        ))
    }

    fn speak_and_hangup(&self, text: &str) -> Result<Markup, Error> {
        let doc = PlivoResponse::new()
            .speak(Speak::new(text))
            .hangup()
            .to_xml()
            .map_err(Error::invalid_request)?;
        Ok(Markup::xml(doc))
    }

    fn parse_status_callback(&self, request: &WebhookRequest) -> Result<CallEvent, Error> {
        status::parse_status_callback(request)
    }

    fn parse_callback(&self, request: &WebhookRequest) -> Result<CallNotice, Error> {
        callbacks::parse_callback(request)
    }

    async fn transfer(&self, call: &CallId, transfer: &Transfer) -> Result<TransferStarted, Error> {
        transfer::transfer(&self.client, call, transfer).await
    }

    async fn continue_transfer(&self, notice: &TransferNotice) -> Result<TransferStep, Error> {
        transfer::continue_transfer(&self.client, notice).await
    }

    async fn start_recording(
        &self,
        call: &CallId,
        options: &RecordingOptions,
    ) -> Result<RecordingStarted, Error> {
        recording::start(&self.client, call, options).await
    }

    async fn stop_recording(
        &self,
        call: &CallId,
        recording: Option<&RecordingId>,
    ) -> Result<(), Error> {
        recording::stop(&self.client, call, recording).await
    }

    async fn download_recording(
        &self,
        recording: &RecordingId,
        out: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> Result<u64, Error> {
        recording::download(&self.client, recording, out).await
    }

    async fn delete_recording(&self, recording: &RecordingId) -> Result<(), Error> {
        recording::delete(&self.client, recording).await
    }

    async fn send_dtmf(&self, call: &CallId, digits: &Dtmf) -> Result<(), Error> {
        dtmf::send(&self.client, call, digits).await
    }

    fn parse_inbound(&self, request: &WebhookRequest) -> Result<InboundCall, Error> {
        status::parse_inbound(request)
    }

    fn media_protocol(&self) -> Box<dyn MediaProtocol> {
        Box::new(PlivoMediaProtocol::new(self.client.config().l16_byte_order))
    }
}
