//! Which provider: one of the registry's carriers, built from the environment.

use std::sync::Arc;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use telephony::{Carrier, Registry, TelephonyProvider};

use crate::{Failure, parse_url};

/// A carrier named on the command line, one of [`Registry::builtin`]'s.
#[derive(Clone, Copy)]
pub(crate) struct CarrierArg(pub(crate) &'static dyn Carrier);

impl std::fmt::Debug for CarrierArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.kind().id())
    }
}

impl CarrierArg {
    /// The carrier.
    pub(crate) fn carrier(self) -> &'static dyn Carrier {
        self.0
    }

    /// The environment variable holding this carrier's webhook signing secret.
    pub(crate) fn secret_env(self) -> &'static str {
        self.0.webhooks().secret_setting()
    }
}

/// The parser of a provider argument: the registry's ids, with clap's suggestion for a near
/// miss.
pub(crate) fn parser() -> impl TypedValueParser<Value = CarrierArg> {
    PossibleValuesParser::new(Registry::builtin().ids()).map(|id: String| {
        CarrierArg(
            Registry::builtin()
                .find(&id)
                .expect("the parser only passes the registry's ids"),
        )
    })
}

/// The adapter for `p`, from the environment, pointed at `base_url` when given.
pub(crate) fn from_env(
    p: CarrierArg,
    base_url: Option<&str>,
) -> Result<Arc<dyn TelephonyProvider>, Failure> {
    let base = base_url.map(|u| parse_url("--base-url", u)).transpose()?;
    let mut config = Registry::builtin()
        .config(p.0.kind().id(), |name| std::env::var(name).ok())
        .map_err(|e| Failure::Usage(e.to_string()))?;
    if let Some(b) = base {
        config = config.base_url(b);
    }
    Ok(config.build()?)
}
