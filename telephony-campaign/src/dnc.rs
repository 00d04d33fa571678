//! The do-not-call check the host supplies.

use std::collections::HashSet;
use std::fmt;

use async_trait::async_trait;
use telephony_core::E164;

/// Why a do-not-call check could not answer (its list service is down): the contact is not
/// called, and is tried again later.
pub type DncError = Box<dyn std::error::Error + Send + Sync>;

/// Says whether a number may be called: a national registry, the host's own opt-out list, a
/// CRM flag. Asked right before each attempt, so a number added to the list mid-campaign is
/// not called again.
///
/// ```
/// use telephony_campaign::{DoNotCall, DoNotCallList};
///
/// # async fn f() -> Result<(), telephony_campaign::DncError> {
/// let list = DoNotCallList::new(["+14155550100".parse()?]);
/// assert!(!list.may_call(&"+14155550100".parse()?).await?);
/// assert!(list.may_call(&"+14155550101".parse()?).await?);
/// # Ok(()) }
/// ```
#[async_trait]
pub trait DoNotCall: Send + Sync + fmt::Debug {
    /// `false` when `number` must not be called.
    async fn may_call(&self, number: &E164) -> Result<bool, DncError>;
}

/// A fixed list of numbers never to call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DoNotCallList {
    numbers: HashSet<E164>,
}

impl DoNotCallList {
    /// A list of these numbers.
    pub fn new(numbers: impl IntoIterator<Item = E164>) -> DoNotCallList {
        DoNotCallList {
            numbers: numbers.into_iter().collect(),
        }
    }
}

#[async_trait]
impl DoNotCall for DoNotCallList {
    async fn may_call(&self, number: &E164) -> Result<bool, DncError> {
        Ok(!self.numbers.contains(number))
    }
}
