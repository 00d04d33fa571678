//! Answering-machine detection on Vonage: what the adapter asks for, and the one table its
//! verdicts are read through.
//!
//! Asking ([`MachineDetection`](telephony_core::MachineDetection) on an outbound call):
//!
//! - `Detect` → `machine_detection: "continue"`: standard detection, free; the call goes on
//!   and the verdict arrives as an event.
//! - `DetectGreetingEnd` → `advanced_machine_detection: {"behavior": "continue", "mode":
//!   "detect_beep", "beep_timeout": 45}`: advanced detection (chargeable), which on a machine
//!   waits up to `beep_timeout` seconds (45 to 120) for the greeting's beep (field names:
//!   vonage-python-sdk voice `models/common.py` `AdvancedMachineDetection`). Vonage's Node SDK
//!   describes `detect_beep` as synchronous: the NCCO runs once detection is over, so a
//!   machine's stream starts after its beep (or the timeout).
//!
//! Both report on the call's `event_url` (developer.vonage.com "Voicemail Detection"):
//! `status` `human` or `machine`, and with `detect_beep` a later `machine` event whose
//! `sub_state` is `beep_start` or `beep_timeout` (Vonage's Java and .NET SDK documentation of
//! `AdvancedMachineDetection`).

use telephony_core::AnsweredBy;

use crate::ncco::{AdvancedMachineDetection, AmdMode, MachineDetection};

/// How long advanced detection waits for a beep: Vonage's minimum.
pub const BEEP_TIMEOUT_SECS: u32 = 45;

/// The advanced detection that waits for the greeting's end.
pub(crate) fn greeting_end() -> AdvancedMachineDetection {
    AdvancedMachineDetection::new(MachineDetection::Continue, AmdMode::DetectBeep)
        .beep_timeout(BEEP_TIMEOUT_SECS)
}

/// Vonage's verdict (an event's `status` and `sub_state`) → who answered; `None` when the
/// event is not a verdict. The one table:
///
/// | `status` | `sub_state` | answered by |
/// |---|---|---|
/// | `human` | any | [`Human`](AnsweredBy::Human) |
/// | `machine` | none | [`Machine`](AnsweredBy::Machine) |
/// | `machine` | `beep_start` | [`MachineEndBeep`](AnsweredBy::MachineEndBeep): the beep, the moment to leave a message |
/// | `machine` | `beep_timeout` | [`MachineGreetingEnded`](AnsweredBy::MachineGreetingEnded): no beep came within `beep_timeout` |
/// | `machine` | anything else | [`Other`](AnsweredBy::Other) with [`raw`] |
///
/// Vonage reports no fax and no "could not tell" (call-control.md §c).
pub fn answered_by(status: &str, sub_state: Option<&str>) -> Option<AnsweredBy> {
    let sub_state = sub_state.map(str::trim).filter(|s| !s.is_empty());
    match (status, sub_state) {
        ("human", _) => Some(AnsweredBy::Human),
        ("machine", None) => Some(AnsweredBy::Machine),
        ("machine", Some("beep_start")) => Some(AnsweredBy::MachineEndBeep),
        ("machine", Some("beep_timeout")) => Some(AnsweredBy::MachineGreetingEnded),
        ("machine", Some(_)) => Some(AnsweredBy::from_raw(raw(status, sub_state))),
        _ => None,
    }
}

/// The verdict as sent, kept in [`MachineResult::raw`](telephony_core::MachineResult):
/// `human`, `machine`, or `machine/beep_start` when there is a `sub_state`.
pub fn raw(status: &str, sub_state: Option<&str>) -> String {
    match sub_state.map(str::trim).filter(|s| !s.is_empty()) {
        Some(sub) => format!("{status}/{sub}"),
        None => status.to_owned(),
    }
}
