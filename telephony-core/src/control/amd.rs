//! Answering-machine detection's verdict, normalized, with the carrier's words kept.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::id::CallId;
use crate::status::AnsweredBy;

/// What answering-machine detection concluded about a call, whenever the carrier reported it
/// (with the answer, or later by callback).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MachineResult {
    /// The call.
    pub call_id: CallId,
    /// The verdict.
    pub answered_by: AnsweredBy,
    /// The carrier's value as sent (`machine_end_beep`, `Machine=true`, `beep_detected`…).
    pub raw: String,
    /// How long detection took, where said.
    pub detection_time: Option<Duration>,
}

impl MachineResult {
    /// A verdict.
    pub fn new(call_id: CallId, answered_by: AnsweredBy, raw: impl Into<String>) -> MachineResult {
        MachineResult {
            call_id,
            answered_by,
            raw: raw.into(),
            detection_time: None,
        }
    }
}
