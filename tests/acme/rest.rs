//! Acme's REST API, on core's one request path: its error body, its hints, and three
//! operations (place a call, read it, list the account's numbers).
//!
//! ```text
//! POST /v1/calls          {"to", "from", "answer_url" | "stream_url", "status_url"}
//!                         → 201 {"id", "state"}
//! GET  /v1/calls/{id}     → 200 {"id", "state", "from", "to"}
//! GET  /v1/numbers        → 200 {"numbers": [{"id", "number"}], "next": "/v1/numbers?…" | null}
//! errors                  → {"error": {"message", "code"}}
//! ```

use serde::Deserialize;
use telephony::{
    CallId, CallInfo, CallInitiation, CallTarget, E164, Error, OutboundCall, PhoneNumber, Url,
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
        let auth = self.auth();
        let url = self.at(&format!("/v1/calls/{}", call.as_str()));
        let got: Call = self
            .rest
            .get(url, format!("fetch call {}", call.as_str()))
            .auth(&auth)
            .decode()
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
            .pages(&self.base, |page: Numbers| {
                (page.numbers, Next::link(page.next))
            })
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
}
