//! Which provider, built from the environment.

use clap::ValueEnum;
use telephony::plivo::{Plivo, PlivoConfig};
use telephony::twilio::{Twilio, TwilioConfig};
use telephony::vonage::{Vonage, VonageConfig};
use telephony::{TelephonyProvider, Url};

use crate::{Failure, parse_url};

/// A provider named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProviderArg {
    /// Twilio.
    Twilio,
    /// Plivo.
    Plivo,
    /// Vonage.
    Vonage,
}

impl ProviderArg {
    /// The environment variable holding this provider's webhook signing secret.
    pub(crate) fn secret_env(self) -> &'static str {
        match self {
            ProviderArg::Twilio => "TWILIO_AUTH_TOKEN",
            ProviderArg::Plivo => "PLIVO_AUTH_TOKEN",
            ProviderArg::Vonage => "VONAGE_SIGNATURE_SECRET",
        }
    }
}

/// The adapter for `p`, from the environment, pointed at `base_url` when given.
pub(crate) fn from_env(
    p: ProviderArg,
    base_url: Option<&str>,
) -> Result<Box<dyn TelephonyProvider>, Failure> {
    let base: Option<Url> = base_url.map(|u| parse_url("--base-url", u)).transpose()?;
    let usage = |e: telephony::ConfigError| Failure::Usage(e.to_string());
    Ok(match p {
        ProviderArg::Twilio => {
            let mut c = TwilioConfig::from_env().map_err(usage)?;
            if let Some(b) = base {
                c = c.base_url(b);
            }
            Box::new(Twilio::new(c)?)
        }
        ProviderArg::Plivo => {
            let mut c = PlivoConfig::from_env().map_err(usage)?;
            if let Some(b) = base {
                c = c.base_url(b);
            }
            Box::new(Plivo::new(c)?)
        }
        ProviderArg::Vonage => {
            let mut c = VonageConfig::from_env().map_err(usage)?;
            if let Some(b) = base {
                // One test server answers for the Voice, Applications and Numbers hosts.
                c = c.all_hosts(b);
            }
            Box::new(Vonage::new(c)?)
        }
    })
}
