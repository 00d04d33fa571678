//! Where a Vonage number's calls go: the number's link to the application, and the
//! application's voice webhooks. [`configure_inbound`](telephony_core::TelephonyProvider::configure_inbound) changes them;
//! [`inbound_drift`](telephony_core::TelephonyProvider::inbound_drift) reads what it would change.

use telephony_core::{DecodeError, Drift, E164, Error, InboundDrift, InboundUpdate, Url};

use crate::KIND;
use crate::application::{Finding, Plan};
use crate::provider::Vonage;
use crate::resources::OwnedNumber;

impl Vonage {
    /// `number`, rented by the account and able to take voice calls, or the error
    /// `configure_inbound` refuses it with.
    async fn voice_number(&self, number: &E164) -> Result<OwnedNumber, Error> {
        let Some(owned) = self.client.get_number(number.digits()).await? else {
            return Err(Error::invalid_request(format!(
                "{number} is not a number of Vonage account {}: rent it first, or check VONAGE_API_KEY",
                self.client.config().api_key.as_deref().unwrap_or("?")
            )));
        };
        if owned.takes("VOICE") == Some(false) {
            return Err(Error::NumberWithoutVoice {
                provider: KIND,
                number: number.clone(),
            });
        }
        Ok(owned)
    }

    /// Points `app`'s voice webhooks at `url` (and the configured event URL), in memory.
    fn plan_inbound(&self, app: &mut serde_json::Value, url: &Url) -> Result<Plan, Error> {
        crate::application::point_voice_webhooks(
            app,
            url,
            self.client.config().event_url.as_ref(),
            self.validator.is_some(),
        )
        .map_err(|e| Error::Decode(DecodeError::new(KIND, "application", e)))
    }

    /// Points `number`'s calls at `url`: the application's voice webhooks, and the number's
    /// link to the application ([`configure_inbound`](telephony_core::TelephonyProvider::configure_inbound)).
    pub(crate) async fn point_number(
        &self,
        number: &E164,
        url: &Url,
    ) -> Result<InboundUpdate, Error> {
        let app_id = self.client.config().application_id.clone();
        let owned = self.voice_number(number).await?;
        let mut app = self.client.get_application(&app_id).await?;
        let plan = self.plan_inbound(&mut app, url)?;
        let mut notes = plan.notes();
        let mut changed = false;
        if plan.changed {
            self.client
                .put_application(&app_id, &crate::application::put_body(&app))
                .await?;
            changed = true;
        }
        // Where the number's calls went before: its own application's answer URL.
        let mut previous_url = plan.previous_answer_url;
        match owned.application() {
            Some(a) if a == app_id => {}
            other => {
                previous_url = match other {
                    Some(a) => self.client.get_application(a).await.ok().and_then(|other| {
                        crate::application::answer_url(&other).map(str::to_owned)
                    }),
                    None => None,
                };
                notes.push(match other {
                    Some(a) => format!("{number} was linked to application {a}, not {app_id}: its calls went elsewhere; linked it"),
                    None => format!("{number} was linked to no application, so its calls never arrived; linked it to {app_id}"),
                });
                self.client.link_number(&owned, &app_id).await?;
                changed = true;
            }
        }
        Ok(InboundUpdate::new(
            number.clone(),
            previous_url,
            url.as_str(),
            changed,
            notes,
        ))
    }

    /// `configure_inbound`'s reads, and its plan worked out on a copy of the application:
    /// each webhook it would re-point, a missing piece it would add, the number's link, and
    /// signed callbacks that are off while `VONAGE_SIGNATURE_SECRET` is set.
    /// Without `url`, the plan keeps the application's own answer URL.
    pub(crate) async fn number_drift(
        &self,
        number: &E164,
        url: Option<&Url>,
    ) -> Result<InboundDrift, Error> {
        let app_id = self.client.config().application_id.clone();
        let owned = self.voice_number(number).await?;
        let mut app = self.client.get_application(&app_id).await?;
        let target = match url {
            Some(u) => Some(u.clone()),
            None => crate::application::answer_url(&app).and_then(|a| Url::parse(a).ok()),
        };
        let mut drift = Vec::new();
        let plan = match &target {
            Some(t) => self.plan_inbound(&mut app, t)?,
            None => {
                drift.push(Drift::Setting {
                    detail: format!(
                        "application {app_id} has no answer URL: calls to it go nowhere"
                    ),
                });
                let mut plan = Plan::default();
                if crate::application::unsigned(&app, self.validator.is_some()) {
                    plan.findings.push(Finding::Unsigned);
                }
                plan
            }
        };
        let linked = owned.application();
        let ours = linked == Some(app_id.as_str());
        let current = if ours {
            plan.previous_answer_url.clone()
        } else {
            match linked {
                Some(other) => self
                    .client
                    .get_application(other)
                    .await
                    .ok()
                    .and_then(|a| crate::application::answer_url(&a).map(str::to_owned)),
                None => None,
            }
        };
        if let Some(url) = url
            && current.as_deref() != Some(url.as_str())
        {
            drift.insert(
                0,
                Drift::Url {
                    found: current.clone(),
                },
            );
        }
        match linked {
            _ if ours => {}
            Some(other) => drift.push(Drift::Setting {
                detail: format!(
                    "linked to application {other}, not {app_id} (VONAGE_APPLICATION_ID)"
                ),
            }),
            None => drift.push(Drift::Setting {
                detail: format!("linked to no application; {app_id} should answer it"),
            }),
        }
        let mut unsigned = false;
        for finding in &plan.findings {
            match finding {
                // Where the calls go is the URL drift above, when the number is ours.
                Finding::Drifted {
                    webhook: "answer_url",
                    ..
                } if ours => {}
                Finding::Unsigned => unsigned = true,
                other => drift.push(Drift::Setting {
                    detail: other.to_string(),
                }),
            }
        }
        if plan.changed && drift.is_empty() {
            drift.push(Drift::Setting {
                detail: "a voice webhook of the application has no HTTP method; configure_inbound sets POST".to_owned(),
            });
        }
        if unsigned {
            drift.push(Drift::Unsigned {
                detail: format!(
                    "signed callbacks are off for application {app_id}: Vonage sends its webhooks unsigned, and with VONAGE_SIGNATURE_SECRET set every one is refused"
                ),
                fix: crate::application::SIGNED_CALLBACKS_FIX.to_owned(),
            });
        }
        Ok(InboundDrift::new(number.clone(), current, drift))
    }
}
