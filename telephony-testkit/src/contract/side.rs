//! The carrier's side of a media stream, as the media rules drive it: what it sends, and what
//! it makes of what the agent sends.

use telephony::WsMessage;

use crate::{FromAgent, ProviderMessage, ProviderStream};

/// The carrier's side of one media stream: what it sends, and what it makes of what the agent
/// sends. [`ProviderStream`] is the built-in emulators'.
pub trait CarrierSide: Send {
    /// What opens the stream, in order (Twilio's `connected` and `start`).
    fn opening(&mut self) -> Vec<ProviderMessage>;
    /// The message that carries these wire bytes of caller audio.
    fn media(&mut self, wire: &[u8]) -> ProviderMessage;
    /// The caller pressing `digit`.
    fn dtmf(&mut self, digit: char) -> ProviderMessage;
    /// What ends the stream before the socket closes, if the carrier sends anything.
    fn stop(&mut self) -> Option<ProviderMessage>;
    /// What the carrier makes of one message from the agent.
    fn agent(&mut self, message: WsMessage<'_>) -> Vec<FromAgent>;
    /// What the carrier sends when the agent clears, given the marks it holds unplayed (each
    /// with its echo).
    fn cleared(&mut self, pending: Vec<(String, ProviderMessage)>) -> Vec<ProviderMessage>;
    /// The call the start names, if it names one.
    fn call_id(&self) -> Option<&str>;
    /// The stream the start names, if it names one.
    fn stream_id(&self) -> Option<&str>;
    /// The custom parameters the start carries back.
    fn parameters(&self) -> &[(String, String)];
}

impl CarrierSide for ProviderStream {
    fn opening(&mut self) -> Vec<ProviderMessage> {
        ProviderStream::opening(self)
    }
    fn media(&mut self, wire: &[u8]) -> ProviderMessage {
        ProviderStream::media(self, wire)
    }
    fn dtmf(&mut self, digit: char) -> ProviderMessage {
        ProviderStream::dtmf(self, digit)
    }
    fn stop(&mut self) -> Option<ProviderMessage> {
        ProviderStream::stop(self)
    }
    fn agent(&mut self, message: WsMessage<'_>) -> Vec<FromAgent> {
        ProviderStream::agent(self, message)
    }
    fn cleared(&mut self, pending: Vec<(String, ProviderMessage)>) -> Vec<ProviderMessage> {
        ProviderStream::cleared(self, pending)
    }
    fn call_id(&self) -> Option<&str> {
        Some(ProviderStream::call_id(self))
    }
    fn stream_id(&self) -> Option<&str> {
        ProviderStream::stream_id(self)
    }
    fn parameters(&self) -> &[(String, String)] {
        ProviderStream::parameters(self)
    }
}
