//! Where a number's inbound calls go, and what `configure_inbound` changes: one set of reads
//! and one plan, which `configure_inbound` carries out and `inbound_drift` only reports.
//!
//! Plivo answers a number's calls with the application it is linked to, at that
//! application's answer URL. `configure_inbound` links the number to `PLIVO_APP_ID` and sets
//! that application's answer URL (with `POST`); nothing else.

use telephony_core::{ConfigError, Drift, E164, Error};

use crate::KIND;
use crate::client::PlivoClient;
use crate::resources::{Application, NumberResource};

/// What `configure_inbound` reads, all with `GET`s.
#[derive(Debug)]
pub(crate) struct Reads {
    /// `PLIVO_APP_ID`: the application the number should be linked to.
    pub(crate) app_id: String,
    /// That application.
    pub(crate) app: Application,
    /// The application the number is linked to now, if any.
    pub(crate) linked_to: Option<String>,
    /// Where the number's calls go now: the answer URL of the application it is linked to.
    pub(crate) current_url: Option<String>,
}

/// `number`, the account's and able to take voice calls, or the error `configure_inbound`
/// refuses it with.
async fn voice_number(client: &PlivoClient, number: &E164) -> Result<NumberResource, Error> {
    let Some(current) = client.get_number(number.digits()).await? else {
        return Err(Error::invalid_request(format!(
            "{number} is not a number of Plivo account {}: rent it first, or check PLIVO_AUTH_ID",
            client.config().auth_id
        )));
    };
    if current.voice_enabled == Some(false) {
        return Err(Error::NumberWithoutVoice {
            provider: KIND,
            number: number.clone(),
        });
    }
    Ok(current)
}

/// Where `number`'s calls go without `PLIVO_APP_ID` to compare with: the application it is
/// linked to, and that application's answer URL. What `inbound_drift` reports when the
/// setting is missing (`configure_inbound` needs it, and refuses).
pub(crate) async fn read_unconfigured(
    client: &PlivoClient,
    number: &E164,
) -> Result<(Option<String>, Option<String>), Error> {
    let current = voice_number(client, number).await?;
    let linked_to = current.app_id().map(str::to_owned);
    let current_url = match linked_to.as_deref() {
        Some(a) => client.get_application(a).await?.and_then(|a| a.answer_url),
        None => None,
    };
    Ok((linked_to, current_url))
}

/// The error `configure_inbound` refuses with when `PLIVO_APP_ID` is not set.
pub(crate) fn no_app_id() -> ConfigError {
    ConfigError::new(
        "PLIVO_APP_ID",
        "not set: the application that answers inbound calls, which numbers are linked to",
    )
}

/// Reads `number` (refused when not the account's, or without voice), `PLIVO_APP_ID`'s
/// application, and the answer URL of the application the number is linked to.
pub(crate) async fn read(client: &PlivoClient, number: &E164) -> Result<Reads, Error> {
    let config = client.config();
    let app_id = config.app_id.clone().ok_or_else(no_app_id)?;
    let current = voice_number(client, number).await?;
    let app = client.get_application(&app_id).await?.ok_or_else(|| {
        ConfigError::new(
            "PLIVO_APP_ID",
            format!(
                "application {app_id} does not exist on account {}",
                config.auth_id
            ),
        )
    })?;
    let linked_to = current.app_id().map(str::to_owned);
    let current_url = match linked_to.as_deref() {
        Some(a) if a == app_id => app.answer_url.clone(),
        Some(other) => client
            .get_application(other)
            .await?
            .and_then(|a| a.answer_url),
        None => None,
    };
    Ok(Reads {
        app_id,
        app,
        linked_to,
        current_url,
    })
}

/// What `configure_inbound` changes, worked out from [`Reads`] alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The application answers at another URL (or none) than the one asked for.
    pub(crate) answer_url_differs: bool,
    /// The application fetches its answer URL with this method, not `POST`.
    pub(crate) answer_method: Option<String>,
    /// The number is not linked to `PLIVO_APP_ID`'s application.
    pub(crate) relink: bool,
}

impl Plan {
    /// The plan for pointing the number at `url`; `None` keeps the application's own answer
    /// URL (what is wrong whatever the URL).
    pub(crate) fn new(reads: &Reads, url: Option<&str>) -> Plan {
        Plan {
            answer_url_differs: url.is_some_and(|u| reads.app.answer_url.as_deref() != Some(u)),
            answer_method: reads
                .app
                .answer_method
                .as_deref()
                .filter(|m| !m.eq_ignore_ascii_case("POST"))
                .map(str::to_owned),
            relink: reads.linked_to.as_deref() != Some(reads.app_id.as_str()),
        }
    }

    /// Whether the application's answer URL and method are set (`POST`).
    pub(crate) fn sets_answer(&self) -> bool {
        self.answer_url_differs || self.answer_method.is_some()
    }

    /// Whether anything is written.
    pub(crate) fn changes(&self) -> bool {
        self.sets_answer() || self.relink
    }

    /// What `configure_inbound` reports about the changes it made, in the order it makes them.
    pub(crate) fn notes(&self, reads: &Reads, number: &E164) -> Vec<String> {
        let app_id = &reads.app_id;
        let mut notes = Vec::new();
        if self.sets_answer()
            && let Some(prev) = &reads.app.answer_url
        {
            notes.push(format!(
                "application {app_id} answered at {prev}: it had drifted, or was set by hand"
            ));
        }
        if self.relink {
            notes.push(match &reads.linked_to {
                Some(other) => format!("{number} was linked to application {other}, not {app_id}: its calls went elsewhere; linked it"),
                None => format!("{number} was linked to no application, so its calls never arrived; linked it to {app_id}"),
            });
        }
        notes
    }

    /// Each change as a [`Drift`], for pointing the number at `url` (`None`: whatever the
    /// URL): where its calls go now against `url`, the number's link, the linked-to
    /// application's answer URL when the number is not on it yet, the answer method.
    pub(crate) fn drift(&self, reads: &Reads, url: Option<&str>) -> Vec<Drift> {
        let app_id = &reads.app_id;
        let mut drift = Vec::new();
        match url {
            Some(url) if reads.current_url.as_deref() != Some(url) => drift.push(Drift::Url {
                found: reads.current_url.clone(),
            }),
            Some(_) => {}
            None if reads.app.answer_url.is_none() => drift.push(Drift::Setting {
                detail: format!("application {app_id} has no answer URL: calls to it go nowhere"),
            }),
            None => {}
        }
        if self.relink {
            drift.push(Drift::Setting {
                detail: match &reads.linked_to {
                    Some(other) => {
                        format!("linked to application {other}, not {app_id} (PLIVO_APP_ID)")
                    }
                    None => format!("linked to no application; {app_id} should answer it"),
                },
            });
            // Once linked, the number's calls go where the application answers; on it already,
            // that is the URL drift above.
            if self.answer_url_differs {
                drift.push(Drift::Setting {
                    detail: format!(
                        "application {app_id} answers at {}; configure_inbound sets {}",
                        reads.app.answer_url.as_deref().unwrap_or("no URL"),
                        url.unwrap_or("the URL asked for")
                    ),
                });
            }
        }
        if let Some(method) = &self.answer_method {
            drift.push(Drift::Setting {
                detail: format!(
                    "application {app_id} fetches its answer URL with {method}; configure_inbound sets POST"
                ),
            });
        }
        drift
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(answer_url: Option<&str>, method: Option<&str>) -> Application {
        serde_json::from_value(serde_json::json!({
            "app_id": "1", "answer_url": answer_url, "answer_method": method
        }))
        .unwrap()
    }

    fn reads(linked_to: Option<&str>, app: Application, current_url: Option<&str>) -> Reads {
        Reads {
            app_id: "1".to_owned(),
            app,
            linked_to: linked_to.map(str::to_owned),
            current_url: current_url.map(str::to_owned),
        }
    }

    const URL: &str = "https://agent.example.com/in";

    /// The plan changes something exactly when it reports drift, whatever the set-up.
    #[test]
    fn drift_is_empty_exactly_when_nothing_would_change() {
        let number: E164 = "+14155550101".parse().unwrap();
        for linked in [None, Some("1"), Some("2")] {
            for answer in [None, Some(URL), Some("https://old.example.com/a")] {
                for method in [None, Some("POST"), Some("post"), Some("GET")] {
                    let current = match linked {
                        Some("1") => answer,
                        Some(_) => Some("https://other.example.com/a"),
                        None => None,
                    };
                    let r = reads(linked, app(answer, method), current);
                    let plan = Plan::new(&r, Some(URL));
                    let drift = plan.drift(&r, Some(URL));
                    assert_eq!(
                        plan.changes(),
                        !drift.is_empty(),
                        "{linked:?} {answer:?} {method:?}: {drift:?}"
                    );
                    // configure_inbound says why whenever it relinks.
                    if plan.relink {
                        assert!(!plan.notes(&r, &number).is_empty());
                    }
                }
            }
        }
    }

    #[test]
    fn without_a_url_only_what_is_wrong_whatever_the_url() {
        let r = reads(Some("1"), app(Some("https://x.example.com/a"), None), None);
        let plan = Plan::new(&r, None);
        assert!(!plan.changes());
        assert!(plan.drift(&r, None).is_empty());
        let r = reads(Some("2"), app(None, Some("GET")), None);
        let plan = Plan::new(&r, None);
        let details: Vec<String> = plan.drift(&r, None).iter().map(|d| d.to_string()).collect();
        assert_eq!(
            details,
            [
                "application 1 has no answer URL: calls to it go nowhere",
                "linked to application 2, not 1 (PLIVO_APP_ID)",
                "application 1 fetches its answer URL with GET; configure_inbound sets POST",
            ]
        );
    }
}
