//! Acme's REST API, on core's one request path: its error body, its hints, and the
//! operations a host uses (place a call, read it, hang it up, its cost, list the account's
//! numbers, point one at a URL).
//!
//! ```text
//! POST /v1/calls             {"to", "from", "answer_url" | "stream_url", "status_url"}
//!                            → 201 {"id", "state"}
//! GET  /v1/calls/{id}        → 200 {"id", "state", "from", "to"}
//! POST /v1/calls/{id}/hangup → 200 {"id", "state"}; 410 when the call already ended
//! GET  /v1/calls/{id}/cost   → 200 {"amount": "0.0120" | null, "currency": "USD" | null}
//! GET  /v1/numbers           → 200 {"numbers": [{"id", "number"}], "next": "/v1/numbers?…" | null}
//! GET  /v1/numbers/{digits}  → 200 {"id", "number", "voice_url"}; 404 when not the account's
//! PUT  /v1/numbers/{id}      {"voice_url"} → 200 {"id", "number", "voice_url"}
//! errors                     → {"error": {"message", "code"}}
//! ```

use serde::Deserialize;
use telephony::{
    CallCost, CallId, CallInfo, CallInitiation, CallTarget, Currency, DecodeError, E164, Error,
    HangupOutcome, InboundUpdate, OutboundCall, PhoneNumber, Url,
};
use telephony_core::rest::{Auth, ErrorDetails, Next, RestApi};

use super::{Acme, KIND, call_status};

/// What Acme's API is, for the shared client.
#[derive(Debug, Clone)]
pub(crate) struct AcmeApi;

impl RestApi for AcmeApi {
    fn provider(&self) -> telephony::ProviderKind {
        KIND
    }

    fn error_details(&self, body: &[u8]) -> ErrorDetails {
        #[derive(Deserialize)]
        struct Problem {
            message: Option<String>,
            code: Option<String>,
        }
        #[derive(Deserialize)]
        struct Body {
            error: Problem,
        }
        match serde_json::from_slice::<Body>(body) {
            Ok(b) => ErrorDetails::default()
                .message(b.error.message)
                .code(b.error.code),
            Err(_) => ErrorDetails::default(),
        }
    }

    fn hint(&self, status: u16, _: &Auth) -> Option<String> {
        match status {
            401 => Some("check ACME_API_KEY".into()),
            403 => Some("the key may not do this (a read-only key?)".into()),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct Call {
    id: String,
    state: String,
    from: Option<String>,
    to: Option<String>,
}

#[derive(Deserialize)]
struct Number {
    id: String,
    number: String,
}

#[derive(Deserialize)]
struct Cost {
    amount: Option<telephony::Decimal>,
    currency: Option<String>,
}

#[derive(Deserialize)]
struct OwnedNumber {
    id: String,
    voice_url: Option<String>,
}

#[derive(Deserialize)]
struct Numbers {
    numbers: Vec<Number>,
    next: Option<String>,
}

impl Acme {
    /// `path` under the API's base, keeping any prefix the base has.
    fn at(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let joined = format!("{}{path}", self.base.path().trim_end_matches('/'));
        url.set_path(&joined);
        url
    }

    fn auth(&self) -> Auth {
        Auth::Bearer(self.api_key.clone())
    }

    /// A `GET` of `path`, its answer decoded.
    async fn read<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        operation: String,
    ) -> Result<T, Error> {
        let auth = self.auth();
        self.rest
            .get(self.at(path), operation)
            .auth(&auth)
            .decode()
            .await
    }

    pub(super) async fn place(&self, call: &OutboundCall) -> Result<CallInitiation, Error> {
        let target = match &call.target {
            CallTarget::AnswerUrl(url) => ("answer_url", url.as_str()),
            CallTarget::Stream(stream) => ("stream_url", stream.url.as_str()),
            _ => {
                return Err(Error::invalid_request(
                    "Acme takes an answer or a stream URL",
                ));
            }
        };
        let mut body = serde_json::json!({"to": call.to.as_str(), "from": call.from.as_str()});
        body[target.0] = target.1.into();
        if let Some(status) = &call.status_callback {
            body["status_url"] = status.as_str().into();
        }
        let auth = self.auth();
        let created: Call = self
            .rest
            .post(self.at("/v1/calls"), "create call")
            .auth(&auth)
            .json(&body)
            .decode()
            .await?;
        Ok(CallInitiation::new(
            CallId::new(created.id)?,
            call_status(&created.state),
        ))
    }

    pub(super) async fn fetch(&self, call: &CallId) -> Result<CallInfo, Error> {
        let id = call.as_str();
        let got: Call = self
            .read(&format!("/v1/calls/{id}"), format!("fetch call {id}"))
            .await?;
        let mut info = CallInfo::new(CallId::new(got.id)?, call_status(&got.state), got.state);
        info.from = got.from;
        info.to = got.to;
        Ok(info)
    }

    pub(super) async fn numbers(&self) -> Result<Vec<PhoneNumber>, Error> {
        let auth = self.auth();
        let listed = self
            .rest
            .get(self.at("/v1/numbers"), "list numbers")
            .auth(&auth)
            .pages_by(
                &self.base,
                |n: &Number| Some(n.id.clone()),
                |page: Numbers| (page.numbers, Next::link(page.next)),
            )
            .await?;
        listed
            .into_iter()
            .map(|n| {
                let mut number = PhoneNumber::new(E164::new(&n.number)?);
                number.provider_id = Some(n.id);
                Ok(number)
            })
            .collect()
    }

    /// Hangs up: a 410 says the call already ended. Hanging up twice is harmless, so it is
    /// retried like a read.
    pub(super) async fn end(&self, call: &CallId) -> Result<HangupOutcome, Error> {
        let auth = self.auth();
        let url = self.at(&format!("/v1/calls/{}/hangup", call.as_str()));
        let request = self
            .rest
            .post(url, format!("hang up call {}", call.as_str()))
            .auth(&auth)
            .idempotent(true);
        let answer = request.send().await?;
        match answer.status {
            _ if answer.is_success() => Ok(HangupOutcome::Ended),
            410 => Ok(HangupOutcome::AlreadyEnded),
            _ => Err(request.error(&answer)),
        }
    }

    pub(super) async fn cost(&self, call: &CallId) -> Result<Option<CallCost>, Error> {
        let id = call.as_str();
        let path = format!("/v1/calls/{id}/cost");
        let cost: Cost = self.read(&path, format!("fetch cost of call {id}")).await?;
        let Some(amount) = cost.amount else {
            return Ok(None);
        };
        let code = cost.currency.unwrap_or_default();
        let currency = Currency::new(&code).ok_or_else(|| {
            Error::Decode(DecodeError::new(KIND, "cost", format!("currency {code:?}")))
        })?;
        Ok(Some(CallCost::new(amount, currency)))
    }

    /// Points `number` at `url`, unless it already is.
    pub(super) async fn point(&self, number: &E164, url: &Url) -> Result<InboundUpdate, Error> {
        let auth = self.auth();
        let digits = number.digits();
        let owned: Option<OwnedNumber> = self
            .rest
            .get(
                self.at(&format!("/v1/numbers/{digits}")),
                format!("fetch number {digits}"),
            )
            .auth(&auth)
            .decode_optional()
            .await?;
        let Some(owned) = owned else {
            return Err(Error::invalid_request(format!(
                "{number} is not a number of this Acme Telecom account"
            )));
        };
        let previous = owned.voice_url.filter(|u| !u.is_empty());
        let changed = previous.as_deref() != Some(url.as_str());
        if changed {
            self.rest
                .put(
                    self.at(&format!("/v1/numbers/{}", owned.id)),
                    format!("update number {digits}"),
                )
                .auth(&auth)
                .json(&serde_json::json!({"voice_url": url.as_str()}))
                .idempotent(true)
                .success()
                .await?;
        }
        Ok(InboundUpdate::new(
            number.clone(),
            previous,
            url.as_str(),
            changed,
            Vec::new(),
        ))
    }
}
