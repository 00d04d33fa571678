//! Which provider, built from the environment.

use clap::ValueEnum;
use telephony::Url;
use telephony::twilio::{Twilio, TwilioConfig};

use crate::Failure;

/// A provider named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProviderArg {
    /// Twilio.
    Twilio,
    /// Plivo (its adapter is not in this build yet).
    Plivo,
    /// Vonage (its adapter is not in this build yet).
    Vonage,
}

impl ProviderArg {
    pub(crate) fn not_yet(self) -> Failure {
        Failure::Usage(format!(
            "{self:?} is not available in this build yet: its adapter has not landed; use twilio"
        ))
    }
}

/// The Twilio adapter from the environment, pointed at `base_url` when given.
pub(crate) fn twilio(base_url: Option<&str>) -> Result<Twilio, Failure> {
    let mut config = TwilioConfig::from_env().map_err(|e| Failure::Usage(e.to_string()))?;
    if let Some(url) = base_url {
        config = config.base_url(
            Url::parse(url).map_err(|e| Failure::Usage(format!("--base-url {url:?}: {e}")))?,
        );
    }
    Twilio::new(config).map_err(Failure::from)
}
