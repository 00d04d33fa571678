//! One call for a status callback: read it, and take the step a transfer needs.

use crate::error::Error;
use crate::markup::Markup;
use crate::provider::TelephonyProvider;
use crate::webhook::WebhookRequest;

use super::{CallNotice, TransferEvent, TransferNotice};

/// What a callback said and what to reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Followed {
    /// What it said, then what the step taken here did (a warm transfer's
    /// [`Bridged`](TransferEvent::Bridged) after its answer), in order.
    pub notices: Vec<CallNotice>,
    /// The document to answer the callback with, where the carrier reads one (Plivo fetches a
    /// transfer leg's XML from it); an empty 200 otherwise.
    pub reply: Option<Markup>,
}

/// Reads a verified callback ([`TelephonyProvider::parse_callback`]) and, where it is a step
/// of a transfer, takes the next one ([`TelephonyProvider::continue_transfer`]): the target
/// answered, so it is briefed and the caller moved to it.
///
/// Call it from the status URL's handler, after the webhook verified; reply with
/// [`Followed::reply`] when there is one.
pub async fn follow(
    provider: &dyn TelephonyProvider,
    request: &WebhookRequest,
) -> Result<Followed, Error> {
    let notice = provider.parse_callback(request)?;
    let mut followed = Followed {
        notices: Vec::new(),
        reply: None,
    };
    let step = match &notice {
        CallNotice::Transfer(t) => Some(provider.continue_transfer(t).await?),
        _ => None,
    };
    let transfer = match &notice {
        CallNotice::Transfer(t) => Some(t.transfer.clone()),
        _ => None,
    };
    followed.notices.push(notice);
    if let (Some(step), Some(transfer)) = (step, transfer) {
        followed.reply = step.reply;
        followed
            .notices
            .extend(step.events.into_iter().map(|event| {
                CallNotice::Transfer(Box::new(TransferNotice::new(transfer.clone(), event)))
            }));
    }
    Ok(followed)
}

/// What [`TelephonyProvider::continue_transfer`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TransferStep {
    /// The document the callback is answered with, where the carrier reads one.
    pub reply: Option<Markup>,
    /// What the step achieved ([`TransferEvent::Bridged`]).
    pub events: Vec<TransferEvent>,
}

impl TransferStep {
    /// Nothing to do.
    pub fn none() -> TransferStep {
        TransferStep::default()
    }

    /// A reply document.
    pub fn reply(markup: Markup) -> TransferStep {
        TransferStep {
            reply: Some(markup),
            events: Vec::new(),
        }
    }

    /// Adds an event.
    pub fn event(mut self, event: TransferEvent) -> TransferStep {
        self.events.push(event);
        self
    }
}
