//! The provider trait every adapter implements.

use std::fmt;
use std::time::SystemTime;

use async_trait::async_trait;
use url::Url;

use crate::account::Balance;
use crate::control::{
    CallNotice, Dtmf, RecordingId, RecordingOptions, RecordingStarted, Transfer, TransferNotice,
    TransferStarted, TransferStep,
};
use crate::error::Error;
use crate::id::{CallId, E164};
use crate::markup::{Markup, StreamSpec};
use crate::media::MediaProtocol;
use crate::model::{CallEvent, CallInfo, CallInitiation, HangupOutcome, InboundCall, OutboundCall};
use crate::money::CallCost;
use crate::number::{InboundDrift, InboundUpdate, PhoneNumber};
use crate::webhook::{Verified, WebhookError, WebhookRequest};

/// Which provider: an id for configuration (`twilio`) and a name for people (`Twilio`). Each
/// adapter defines its own; core knows none of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderKind {
    id: &'static str,
    name: &'static str,
}

impl ProviderKind {
    /// A provider kind.
    pub const fn new(id: &'static str, name: &'static str) -> ProviderKind {
        ProviderKind { id, name }
    }

    /// The id used in configuration and on the command line: `twilio`.
    pub const fn id(&self) -> &'static str {
        self.id
    }

    /// The name for people: `Twilio`.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// What a provider supports, so a host can decide before calling rather than catch
/// `Unsupported` after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Place a call whose instructions are fetched from an answer URL when it is answered
    /// ([`CallTarget::AnswerUrl`](crate::CallTarget::AnswerUrl)). Telnyx Call Control fetches
    /// none: its calls carry their stream.
    pub answer_url: bool,
    /// Place a call that connects straight to a stream, without an answer URL.
    pub inline_stream_on_create: bool,
    /// Answering-machine detection on outbound calls.
    pub machine_detection: bool,
    /// Answering-machine detection that waits for the end of a machine's greeting or its beep
    /// ([`MachineDetection::DetectGreetingEnd`](crate::MachineDetection)).
    pub machine_detection_greeting_end: bool,
    /// Send DTMF on the media stream ([`MediaSession::send_dtmf`](crate::MediaSession::send_dtmf)):
    /// as the stream's DTMF message where it has one, otherwise as tones in the audio.
    pub dtmf_send: bool,
    /// Send DTMF through the API ([`TelephonyProvider::send_dtmf`]).
    pub dtmf_rest: bool,
    /// Cold transfer of a live call ([`TelephonyProvider::transfer`]).
    pub transfer: bool,
    /// Warm transfer: the target dialled and briefed while the caller stays with the agent.
    pub warm_transfer: bool,
    /// Transfer to a SIP address.
    pub sip_transfer: bool,
    /// Record a call asked for when placing it ([`OutboundCall::record`](crate::OutboundCall)).
    pub recording: bool,
    /// Record a call asked for in the answer that connects its stream
    /// ([`StreamSpec::record`](crate::StreamSpec)).
    pub recording_on_answer: bool,
    /// Start and stop a recording mid-call.
    pub recording_control: bool,
    /// Dual-channel recordings.
    pub dual_channel_recording: bool,
    /// Download a recording through the adapter.
    pub recording_download: bool,
    /// Delete a recording through the adapter.
    pub recording_delete: bool,
    /// Playback markers echoed when audio finished playing.
    pub playback_marks: bool,
    /// A clear command that drops buffered audio (barge-in).
    pub clear_audio: bool,
    /// The provider signs the media WebSocket's upgrade request as it signs a webhook (Twilio
    /// sends `X-Twilio-Signature` over the `wss://` URL): a server must check it before the
    /// upgrade (see `telephony::axum::Webhooks::verify_upgrade`).
    pub signed_media_upgrade: bool,
    /// The account's balance ([`TelephonyProvider::balance`]).
    pub balance: bool,
}

impl Capabilities {
    /// Nothing supported; set fields from here.
    pub const NONE: Capabilities = Capabilities {
        answer_url: false,
        inline_stream_on_create: false,
        machine_detection: false,
        machine_detection_greeting_end: false,
        dtmf_send: false,
        dtmf_rest: false,
        transfer: false,
        warm_transfer: false,
        sip_transfer: false,
        recording: false,
        recording_on_answer: false,
        recording_control: false,
        dual_channel_recording: false,
        recording_download: false,
        recording_delete: false,
        playback_marks: false,
        clear_audio: false,
        signed_media_upgrade: false,
        balance: false,
    };
}

impl Capabilities {
    /// Refuses, before any request, a call asking for what these capabilities deny: machine
    /// detection (or waiting for a machine's greeting to end), a recording from the answer
    /// ([`OutboundCall::record`](crate::OutboundCall)), or a dual-channel one. What an
    /// adapter calls first in its `initiate_call`, so an option is refused, never dropped.
    pub fn check_call(
        &self,
        provider: ProviderKind,
        call: &crate::OutboundCall,
    ) -> Result<(), Error> {
        let refuse = |operation| {
            Err(Error::Unsupported {
                provider,
                operation,
            })
        };
        match call.machine_detection {
            Some(_) if !self.machine_detection => return refuse("answering-machine detection"),
            Some(crate::MachineDetection::DetectGreetingEnd)
                if !self.machine_detection_greeting_end =>
            {
                return refuse("answering-machine detection that waits for the greeting's end");
            }
            _ => {}
        }
        if let Some(r) = &call.record {
            if !self.recording {
                return refuse("recording a call asked for when placing it");
            }
            if r.channels == crate::RecordingChannels::Dual && !self.dual_channel_recording {
                return refuse("dual-channel recording");
            }
        }
        Ok(())
    }
}

/// How an inbound call's webhook was answered ([`TelephonyProvider::connect_call`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallAnswer {
    /// A document to send as the webhook's reply.
    Document(Markup),
    /// The adapter answered through the carrier's API; the webhook's reply is an empty 200.
    Commanded,
}

/// One carrier, behind one typed interface: calls, status, cost, numbers, webhooks, answer
/// documents and the media stream.
///
/// Object-safe: a host holds `Arc<dyn TelephonyProvider>` chosen at run time. Adapters keep no
/// call state between requests, so any replica can take any webhook.
#[async_trait]
pub trait TelephonyProvider: Send + Sync + fmt::Debug {
    /// Which provider.
    fn kind(&self) -> ProviderKind;

    /// Its carrier's description: how its webhooks are recognised, how its media is paced.
    fn carrier(&self) -> &'static dyn crate::Carrier;

    /// What it supports.
    fn capabilities(&self) -> Capabilities;

    /// Checks that credentials and settings are well formed, without any network call.
    fn validate_config(&self) -> Result<(), Error>;

    /// Places an outbound call, asking for a status callback on every lifecycle event.
    async fn initiate_call(&self, call: &OutboundCall) -> Result<CallInitiation, Error>;

    /// The call as the provider sees it now.
    async fn call_status(&self, call: &CallId) -> Result<CallInfo, Error>;

    /// Ends a call: hangs up a connected call, cancels a queued or ringing one. A call that
    /// already ended is success ([`HangupOutcome::AlreadyEnded`]), not an error.
    async fn hangup(&self, call: &CallId) -> Result<HangupOutcome, Error>;

    /// What the call cost, or `None` while the provider has not priced it yet.
    async fn call_cost(&self, call: &CallId) -> Result<Option<CallCost>, Error>;

    /// The numbers the account owns, each with whether it takes voice calls and SMS where the
    /// carrier says.
    async fn phone_numbers(&self) -> Result<Vec<PhoneNumber>, Error>;

    /// The account's balance, an exact decimal in its currency. A carrier without a balance
    /// API refuses with [`Error::Unsupported`] before any request
    /// ([`Capabilities::balance`] says which).
    async fn balance(&self) -> Result<Balance, Error> {
        Err(self.unsupported("reading the account's balance"))
    }

    /// Checks the credentials that placing and controlling calls take, where they are not
    /// those [`phone_numbers`](Self::phone_numbers) lists with (Vonage: the application's JWT,
    /// where the numbers take the account's key and secret): one authenticated read that
    /// changes nothing. `Ok` when the carrier accepted them, its 401 (with the settings to
    /// check) when it did not. A carrier whose every operation takes the same credentials
    /// refuses with [`Error::Unsupported`] before any request: listing the numbers checked
    /// them.
    async fn check_call_credentials(&self) -> Result<(), Error> {
        Err(self.unsupported("checking the call API's credentials apart from the account's"))
    }

    /// Points inbound calls to `number` at `url` (Twilio: the number's voice URL; Plivo and
    /// Vonage: the application's answer URL, linking the number to it), reporting what was
    /// there before. A number the carrier reports cannot take voice calls is refused with
    /// [`Error::NumberWithoutVoice`] before anything is changed.
    async fn configure_inbound(&self, number: &E164, url: &Url) -> Result<InboundUpdate, Error>;

    /// What [`configure_inbound`](Self::configure_inbound) would change or report for `number`
    /// and `url`, read without changing anything (no write request is sent): where its calls
    /// go now, and each [`Drift`](crate::Drift). Without `url`, what is wrong whatever the URL
    /// (the number's link, webhooks sent unsigned, …), and no [`Drift::Url`](crate::Drift::Url).
    /// A number the account does not have, or one the carrier reports cannot take voice calls,
    /// is the error `configure_inbound` returns. A carrier whose API does not say where a
    /// number's calls go refuses with [`Error::Unsupported`] before any request.
    async fn inbound_drift(&self, number: &E164, url: Option<&Url>) -> Result<InboundDrift, Error> {
        let _ = (number, url);
        Err(self.unsupported("reading a number's inbound set-up"))
    }

    /// Authenticates a request that claims to come from the provider. Pure: `now` is used where
    /// the scheme has a time window. Replay keys in the result go to a
    /// [`ReplayGuard`](crate::ReplayGuard).
    fn verify_webhook(
        &self,
        request: &WebhookRequest,
        now: SystemTime,
    ) -> Result<Verified, WebhookError>;

    /// The document that answers a call by connecting it to a bidirectional media stream,
    /// and ends the call when the stream closes.
    fn answer(&self, stream: &StreamSpec) -> Result<Markup, Error>;

    /// The document that answers the call an answer webhook announced (see
    /// [`parse_inbound`](Self::parse_inbound)) by connecting it to `stream`.
    ///
    /// Where the stream's first message does not say which call it carries (Vonage), this puts
    /// the call's id and the caller into the stream's parameters; elsewhere it is
    /// [`answer`](Self::answer).
    fn answer_call(&self, call: &InboundCall, stream: &StreamSpec) -> Result<Markup, Error> {
        let _ = call;
        self.answer(stream)
    }

    /// The document that says `text` to the caller and hangs up: a polite refusal (an
    /// unknown number, a closed line) that never leaves a webhook without an answer.
    fn speak_and_hangup(&self, text: &str) -> Result<Markup, Error>;

    /// Connects the call an answer webhook announced to `stream`: what an inbound webhook's
    /// handler calls, whatever the carrier.
    ///
    /// Where the carrier takes a document in the webhook's reply (Twilio, Plivo, Vonage), this
    /// is [`answer_call`](Self::answer_call)'s document, to send as the reply. Where it takes
    /// a command instead (Telnyx's `actions/answer`), the adapter sends the command here and
    /// the reply is an empty 200 ([`CallAnswer::Commanded`]).
    async fn connect_call(
        &self,
        call: &InboundCall,
        stream: &StreamSpec,
    ) -> Result<CallAnswer, Error> {
        self.answer_call(call, stream).map(CallAnswer::Document)
    }

    /// Refuses the call an answer webhook announced, saying `text` where the carrier answers
    /// with a document ([`speak_and_hangup`](Self::speak_and_hangup)); a carrier that answers
    /// with commands rejects the call instead.
    async fn refuse_call(&self, call: &InboundCall, text: &str) -> Result<CallAnswer, Error> {
        let _ = call;
        self.speak_and_hangup(text).map(CallAnswer::Document)
    }

    /// A call status callback, normalized.
    fn parse_status_callback(&self, request: &WebhookRequest) -> Result<CallEvent, Error>;

    /// Any callback at the status URL: a status change, an answering-machine verdict, a
    /// finished recording, or a step of a transfer (see [`control::follow`](crate::control::follow),
    /// which also takes the transfer's next step). Adapters without call control read status
    /// callbacks only.
    fn parse_callback(&self, request: &WebhookRequest) -> Result<CallNotice, Error> {
        self.parse_status_callback(request)
            .map(|e| CallNotice::Status(Box::new(e)))
    }

    /// Transfers a live call to a person: cold (the call leaves the agent's stream) or warm
    /// (the target is dialled and briefed while the caller stays with the agent). The result
    /// arrives as [`CallNotice::Transfer`] callbacks at [`Transfer::events`].
    async fn transfer(&self, call: &CallId, transfer: &Transfer) -> Result<TransferStarted, Error> {
        let _ = (call, transfer);
        Err(self.unsupported("transfer"))
    }

    /// Takes a warm transfer's next step after a callback about it ([`control::follow`](crate::control::follow)
    /// calls this): the target answered, so it is briefed and the caller moved to it.
    async fn continue_transfer(&self, notice: &TransferNotice) -> Result<TransferStep, Error> {
        let _ = notice;
        Ok(TransferStep::none())
    }

    /// Starts recording a live call.
    async fn start_recording(
        &self,
        call: &CallId,
        options: &RecordingOptions,
    ) -> Result<RecordingStarted, Error> {
        let _ = (call, options);
        Err(self.unsupported("starting a recording mid-call"))
    }

    /// Stops a call's recording (`recording`, or every one of the call's).
    async fn stop_recording(
        &self,
        call: &CallId,
        recording: Option<&RecordingId>,
    ) -> Result<(), Error> {
        let _ = (call, recording);
        Err(self.unsupported("stopping a recording mid-call"))
    }

    /// Downloads a recording with the carrier's auth into `out`, as it arrives (never whole
    /// in memory), returning the bytes written.
    async fn download_recording(
        &self,
        recording: &RecordingId,
        out: &mut (dyn tokio::io::AsyncWrite + Send + Unpin),
    ) -> Result<u64, Error> {
        let _ = (recording, out);
        Err(self.unsupported("downloading recordings"))
    }

    /// Deletes a recording.
    async fn delete_recording(&self, recording: &RecordingId) -> Result<(), Error> {
        let _ = recording;
        Err(self.unsupported("deleting recordings"))
    }

    /// Sends DTMF on a live call through the carrier's API. A carrier that can only play
    /// tones on the media stream refuses with [`Error::Unsupported`]; send them there
    /// ([`MediaCommand::SendDtmf`](crate::MediaCommand)).
    async fn send_dtmf(&self, call: &CallId, digits: &Dtmf) -> Result<(), Error> {
        let _ = (call, digits);
        Err(self.unsupported("sending DTMF through the API"))
    }

    /// The typed refusal of `operation` (what the call-control defaults return).
    fn unsupported(&self, operation: &'static str) -> Error {
        Error::Unsupported {
            provider: self.kind(),
            operation,
        }
    }

    /// The webhook that announces an inbound call.
    fn parse_inbound(&self, request: &WebhookRequest) -> Result<InboundCall, Error>;

    /// A fresh protocol for one media WebSocket connection.
    fn media_protocol(&self) -> Box<dyn MediaProtocol>;
}
