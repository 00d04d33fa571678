//! `conversation`: the call joins a named conversation (a conference), created by the first
//! leg that names it. Warm transfers meet in one.

use serde::{Deserialize, Serialize};

use super::{Method, NccoError, check_event_url, check_url, fail};

/// `conversation`: joins the conversation `name`, or creates it.
///
/// The fields are vonage-python-sdk's `Conversation` (voice 1.5.1 `models/ncco.py`): `name`,
/// `musicOnHoldUrl`, `startOnEnter`, `endOnExit`, `record`, `canSpeak`, `canHear`, `mute`,
/// `eventUrl`, `eventMethod`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Conversation {
    /// The conversation's name: legs that name the same one meet there.
    pub name: String,
    /// What a leg hears while the conversation has not started, as a one-element array.
    #[serde(
        rename = "musicOnHoldUrl",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub music_on_hold_url: Option<Vec<String>>,
    /// Whether the conversation starts when this leg enters (Vonage's default is `true`); a
    /// leg that enters with `false` hears the hold music until one with `true` enters.
    #[serde(
        rename = "startOnEnter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub start_on_enter: Option<bool>,
    /// Whether the conversation ends when this leg leaves.
    #[serde(rename = "endOnExit", default, skip_serializing_if = "Option::is_none")]
    pub end_on_exit: Option<bool>,
    /// Whether to record the conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<bool>,
    /// Whether this leg enters muted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mute: Option<bool>,
    /// Where the conversation's events go, as a one-element array.
    #[serde(rename = "eventUrl", default, skip_serializing_if = "Option::is_none")]
    pub event_url: Option<Vec<String>>,
    /// The method for `eventUrl`.
    #[serde(
        rename = "eventMethod",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub event_method: Option<Method>,
}

impl Conversation {
    /// Joins (or creates) the conversation `name`.
    pub fn named(name: impl Into<String>) -> Conversation {
        Conversation {
            name: name.into(),
            music_on_hold_url: None,
            start_on_enter: None,
            end_on_exit: None,
            record: None,
            mute: None,
            event_url: None,
            event_method: None,
        }
    }

    /// Sets what the leg hears until the conversation starts.
    pub fn music_on_hold(mut self, url: impl Into<String>) -> Conversation {
        self.music_on_hold_url = Some(vec![url.into()]);
        self
    }

    /// Sets whether the conversation starts when this leg enters.
    pub fn start_on_enter(mut self, on: bool) -> Conversation {
        self.start_on_enter = Some(on);
        self
    }

    /// Sets whether the conversation ends when this leg leaves.
    pub fn end_on_exit(mut self, on: bool) -> Conversation {
        self.end_on_exit = Some(on);
        self
    }

    /// Sets whether to record the conversation.
    pub fn record(mut self, on: bool) -> Conversation {
        self.record = Some(on);
        self
    }

    /// Sets whether the leg enters muted.
    pub fn mute(mut self, on: bool) -> Conversation {
        self.mute = Some(on);
        self
    }

    /// Sets where the conversation's events go.
    pub fn event_url(mut self, url: impl Into<String>) -> Conversation {
        self.event_url = Some(vec![url.into()]);
        self
    }

    /// Sets the method for `eventUrl`.
    pub fn event_method(mut self, method: Method) -> Conversation {
        self.event_method = Some(method);
        self
    }

    pub(super) fn validate(&self) -> Result<(), NccoError> {
        if self.name.trim().is_empty() {
            return fail("name is empty");
        }
        if self.name.chars().any(|c| c.is_control()) {
            return fail(format!("name {:?} holds control characters", self.name));
        }
        match self.music_on_hold_url.as_deref() {
            None => {}
            Some([one]) => check_url("musicOnHoldUrl", one)?,
            Some(other) => {
                return fail(format!(
                    "musicOnHoldUrl holds {} URLs; exactly one",
                    other.len()
                ));
            }
        }
        check_event_url(&self.event_url)
    }
}
