//! The one request path: an adapter's [`RestApi`] says who it is and what its errors mean, and
//! [`RestClient`] does the rest.

use std::fmt;
use std::time::SystemTime;

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::retry::{self, HttpConfig};
use super::{decode_json, preview};
use crate::error::{ApiError, ConfigError, Error};
use crate::provider::ProviderKind;
use crate::secret::Secret;

/// What an adapter tells the shared client about its provider's REST API: its name, what its
/// error bodies say, and what to check when it refuses. Everything else (sending, retries,
/// `Retry-After`, timeouts, page guards, the error's shape) is the client's.
///
/// An implementation is a table, as the provider documents it:
///
/// ```
/// use telephony_core::ProviderKind;
/// use telephony_core::rest::{Auth, ErrorDetails, RestApi};
///
/// #[derive(Debug, Clone)]
/// struct Acme;
///
/// impl RestApi for Acme {
///     fn provider(&self) -> ProviderKind {
///         ProviderKind::new("acme", "Acme")
///     }
///
///     fn error_details(&self, body: &[u8]) -> ErrorDetails {
///         #[derive(serde::Deserialize)]
///         struct Body { message: Option<String>, code: Option<String> }
///         match serde_json::from_slice::<Body>(body) {
///             Ok(b) => ErrorDetails::default().message(b.message).code(b.code),
///             Err(_) => ErrorDetails::default(),
///         }
///     }
///
///     fn hint(&self, status: u16, _auth: &Auth) -> Option<String> {
///         (status == 401).then(|| "check ACME_TOKEN".to_owned())
///     }
/// }
/// ```
pub trait RestApi: fmt::Debug + Send + Sync {
    /// The provider, named in every error.
    fn provider(&self) -> ProviderKind;

    /// What an error answer's body says: message, code, documentation link, request id. A body
    /// the provider did not write (a proxy's HTML, nothing at all) gives the default, and the
    /// client says what the body was.
    fn error_details(&self, body: &[u8]) -> ErrorDetails;

    /// What to check when the provider answers `status` to a request that carried `auth`: the
    /// settings behind a 401, what a 403 may mean. `None` where the status says nothing more;
    /// a 429 then gets the client's own hint (slow down, or ask for higher limits).
    fn hint(&self, status: u16, auth: &Auth) -> Option<String>;

    /// How long the provider asked to wait before the request is sent again, read from an
    /// answer's headers at `now`. The default reads `Retry-After` (seconds or an HTTP date);
    /// a provider that says it otherwise (Telnyx's `x-ratelimit-reset`) reads its own.
    fn retry_after(
        &self,
        headers: &reqwest::header::HeaderMap,
        now: SystemTime,
    ) -> Option<std::time::Duration> {
        retry::retry_after(headers, now)
    }
}

/// What a provider's error body says, read by [`RestApi::error_details`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorDetails {
    /// The provider's message.
    pub message: Option<String>,
    /// The provider's error code (Twilio `20003`, Vonage `unauthorized`).
    pub code: Option<String>,
    /// The provider's documentation link for the error.
    pub more_info: Option<String>,
    /// The provider's id for the request (Plivo's `api_id`), which its support asks for.
    pub request_id: Option<String>,
}

impl ErrorDetails {
    /// Sets the message.
    pub fn message(mut self, message: Option<String>) -> ErrorDetails {
        self.message = message;
        self
    }

    /// Sets the code.
    pub fn code(mut self, code: Option<String>) -> ErrorDetails {
        self.code = code;
        self
    }

    /// Sets the documentation link.
    pub fn more_info(mut self, more_info: Option<String>) -> ErrorDetails {
        self.more_info = more_info;
        self
    }

    /// Sets the request id.
    pub fn request_id(mut self, request_id: Option<String>) -> ErrorDetails {
        self.request_id = request_id;
        self
    }
}

/// How a request authenticates. Its secrets are [`Secret`]s, so it never prints them; taken
/// once per operation, so every attempt of it carries the same credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Auth {
    /// No credentials.
    None,
    /// HTTP Basic: an account or key id and its secret.
    Basic {
        /// The user: an account id, or an API key's id.
        user: String,
        /// The password: an auth token, or an API key's secret.
        password: Secret,
    },
    /// A bearer token (Vonage's application JWT).
    Bearer(Secret),
}

impl Auth {
    /// HTTP Basic with `user` and `password`.
    pub fn basic(user: impl Into<String>, password: Secret) -> Auth {
        Auth::Basic {
            user: user.into(),
            password,
        }
    }
}

/// A finished exchange: the status, headers and whole body of the final response.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Answer {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// One provider's HTTP client: a pooled connection, its [`HttpConfig`], and its [`RestApi`].
/// Cheap to clone: clones share the pool.
#[derive(Debug, Clone)]
pub struct RestClient<A> {
    http: reqwest::Client,
    config: HttpConfig,
    api: A,
}

impl<A: RestApi> RestClient<A> {
    /// A client for `api` with these timeouts, retries and page cap.
    pub fn new(api: A, config: &HttpConfig) -> Result<RestClient<A>, ConfigError> {
        Ok(RestClient {
            http: config.client()?,
            config: config.clone(),
            api,
        })
    }

    /// The adapter's side.
    pub fn api(&self) -> &A {
        &self.api
    }

    /// The timeouts, retries and page cap.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// A request to `url` that does `operation` (`create call`, `fetch call CA…`: what its
    /// errors say was being done). Idempotent unless the method says otherwise (`POST`,
    /// `PATCH`); set it with [`RestRequest::idempotent`].
    pub fn request(
        &self,
        method: Method,
        url: Url,
        operation: impl Into<String>,
    ) -> RestRequest<'_, A> {
        let idempotent = !matches!(method, Method::POST | Method::PATCH);
        RestRequest {
            client: self,
            method,
            url,
            operation: operation.into(),
            auth: &NO_AUTH,
            body: Ok(None),
            idempotent,
        }
    }

    /// A `GET`: idempotent.
    pub fn get(&self, url: Url, operation: impl Into<String>) -> RestRequest<'_, A> {
        self.request(Method::GET, url, operation)
    }

    /// A `POST`: not idempotent unless said ([`RestRequest::idempotent`]).
    pub fn post(&self, url: Url, operation: impl Into<String>) -> RestRequest<'_, A> {
        self.request(Method::POST, url, operation)
    }

    /// A `PUT`: idempotent unless said otherwise.
    pub fn put(&self, url: Url, operation: impl Into<String>) -> RestRequest<'_, A> {
        self.request(Method::PUT, url, operation)
    }

    /// A `DELETE`: idempotent.
    pub fn delete(&self, url: Url, operation: impl Into<String>) -> RestRequest<'_, A> {
        self.request(Method::DELETE, url, operation)
    }
}

static NO_AUTH: Auth = Auth::None;

/// A body, encoded once and sent as it is by every attempt.
#[derive(Debug)]
struct Body {
    content_type: &'static str,
    bytes: Bytes,
}

/// A request built on a [`RestClient`]: its auth, its body, whether it may be sent twice.
/// Sending borrows it, so the same request can then explain an answer ([`error`](Self::error)).
#[derive(Debug)]
#[must_use = "a request does nothing until it is sent"]
pub struct RestRequest<'a, A> {
    client: &'a RestClient<A>,
    method: Method,
    url: Url,
    operation: String,
    auth: &'a Auth,
    body: Result<Option<Body>, String>,
    idempotent: bool,
}

impl<'a, A: RestApi> RestRequest<'a, A> {
    /// Authenticates with `auth`.
    pub fn auth(mut self, auth: &'a Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Sends these pairs as a form (`application/x-www-form-urlencoded`), in this order.
    pub fn form<K: AsRef<str>, V: AsRef<str>>(
        mut self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            form.append_pair(k.as_ref(), v.as_ref());
        }
        self.body = Ok(Some(Body {
            content_type: "application/x-www-form-urlencoded",
            bytes: Bytes::from(form.finish()),
        }));
        self
    }

    /// Sends `body` as JSON.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        self.body = serde_json::to_vec(body)
            .map(|bytes| {
                Some(Body {
                    content_type: "application/json",
                    bytes: Bytes::from(bytes),
                })
            })
            .map_err(|e| e.to_string());
        self
    }

    /// Whether the request may be sent twice. An idempotent one (reading, or setting a value)
    /// is retried on a 429, a 5xx, a timeout or a connection that never opened; one that is
    /// not (placing a call, playing tones) only on a 429 or a connection that never opened,
    /// and its errors say [`may_have_acted`](Error::may_have_acted) where the provider may have
    /// done it anyway.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// What the request does, as its errors say.
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// Sends the request, retrying as its idempotency allows, and returns the final answer,
    /// whatever its status.
    pub async fn send(&self) -> Result<Answer, Error> {
        self.send_to(&self.url).await
    }

    /// Sends the request and returns a 2xx answer; any other is the provider's error.
    pub async fn success(&self) -> Result<Answer, Error> {
        let answer = self.send().await?;
        if answer.is_success() {
            return Ok(answer);
        }
        Err(self.error(&answer))
    }

    /// Sends the request and reads a 2xx answer's JSON as `T`.
    pub async fn decode<T: DeserializeOwned>(&self) -> Result<T, Error> {
        self.decode_at(&self.url).await
    }

    /// Like [`decode`](Self::decode), with a 404 as `None`: the provider does not know it.
    pub async fn decode_optional<T: DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        let answer = self.send().await?;
        match answer.status {
            404 => Ok(None),
            _ if answer.is_success() => self.read(&answer).map(Some),
            _ => Err(self.error(&answer)),
        }
    }

    /// The provider's error for an answer to this request: the status, what the body says
    /// ([`RestApi::error_details`]), the wait a `Retry-After` asks for, and what to check
    /// ([`RestApi::hint`]). For a request that is not idempotent, a 5xx says the provider
    /// [may have acted](Error::may_have_acted).
    pub fn error(&self, answer: &Answer) -> Error {
        let api = &self.client.api;
        let provider = api.provider();
        let details = api.error_details(&answer.body);
        let message = details.message.unwrap_or_else(|| {
            if answer.body.is_empty() {
                "no error body".to_owned()
            } else {
                format!("no error message (body: {:?})", preview(&answer.body))
            }
        });
        let hint = api.hint(answer.status, self.auth).or_else(|| {
            (answer.status == 429).then(|| {
                format!("rate limited: slow down, or ask {provider} to raise the account's limits")
            })
        });
        let error = Error::from(
            ApiError::new(provider, self.operation.as_str(), answer.status, message)
                .with_code(details.code)
                .with_more_info(details.more_info)
                .with_retry_after(api.retry_after(&answer.headers, SystemTime::now()))
                .with_hint(hint)
                .with_request_id(details.request_id),
        );
        if self.idempotent {
            error
        } else {
            error.after_create()
        }
    }

    /// The request as it is, sent to `url` instead (a listing's next page).
    pub(super) async fn send_to(&self, url: &Url) -> Result<Answer, Error> {
        let response = self.response(url).await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| self.transport(e))?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// A transport error of this request (after create, where it is not idempotent).
    pub(super) fn transport(&self, e: reqwest::Error) -> Error {
        let error = retry::transport_error(self.client.api.provider(), &self.operation, e);
        if self.idempotent {
            error
        } else {
            error.after_create()
        }
    }

    /// The final response to the request sent to `url`, retried as its idempotency allows,
    /// its body not read yet.
    pub(super) async fn response(&self, url: &Url) -> Result<reqwest::Response, Error> {
        let provider = self.client.api.provider();
        let body = match &self.body {
            Ok(body) => body.as_ref(),
            Err(e) => {
                return Err(Error::InvalidRequest(format!(
                    "{provider} {}: the body cannot be written as JSON: {e}",
                    self.operation
                )));
            }
        };
        let make = || {
            let mut builder = self
                .client
                .http
                .request(self.method.clone(), url.clone())
                .header(ACCEPT, "application/json");
            builder = match self.auth {
                Auth::None => builder,
                Auth::Basic { user, password } => builder.basic_auth(user, Some(password.expose())),
                Auth::Bearer(token) => builder.bearer_auth(token.expose()),
            };
            match body {
                Some(body) => builder
                    .header(CONTENT_TYPE, body.content_type)
                    .body(body.bytes.clone()),
                None => builder,
            }
        };
        let response = retry::send(
            provider,
            &self.operation,
            &self.client.config.retry,
            self.idempotent,
            |headers| self.client.api.retry_after(headers, SystemTime::now()),
            make,
        )
        .await?;
        super::clock::note(response.headers());
        Ok(response)
    }

    /// [`decode`](Self::decode) at `url`.
    pub(super) async fn decode_at<T: DeserializeOwned>(&self, url: &Url) -> Result<T, Error> {
        let answer = self.success_at(url).await?;
        self.read(&answer)
    }

    /// [`success`](Self::success) at `url`.
    pub(super) async fn success_at(&self, url: &Url) -> Result<Answer, Error> {
        let answer = self.send_to(url).await?;
        if answer.is_success() {
            return Ok(answer);
        }
        Err(self.error(&answer))
    }

    /// A 2xx answer's JSON as `T`, or a decode error naming this request.
    pub(super) fn read<T: DeserializeOwned>(&self, answer: &Answer) -> Result<T, Error> {
        decode_json(self.client.api.provider(), &self.operation, &answer.body)
    }

    pub(super) fn client(&self) -> &RestClient<A> {
        self.client
    }

    pub(super) fn first_url(&self) -> &Url {
        &self.url
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use wiremock::matchers::{body_string, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::rest::RetryPolicy;

    /// A provider whose errors are `{"message", "code", "link", "id"}`.
    #[derive(Debug, Clone)]
    pub(in crate::rest) struct Acme;

    impl RestApi for Acme {
        fn provider(&self) -> ProviderKind {
            ProviderKind::new("acme", "Acme")
        }

        fn error_details(&self, body: &[u8]) -> ErrorDetails {
            let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            let field = |k: &str| v.get(k).and_then(|s| s.as_str()).map(str::to_owned);
            ErrorDetails::default()
                .message(field("message"))
                .code(field("code"))
                .more_info(field("link"))
                .request_id(field("id"))
        }

        fn hint(&self, status: u16, auth: &Auth) -> Option<String> {
            match (status, auth) {
                (401, Auth::Bearer(_)) => Some("check ACME_JWT".into()),
                (401, _) => Some("check ACME_TOKEN".into()),
                _ => None,
            }
        }
    }

    /// Acme's client, with retries that do not sleep.
    pub(in crate::rest) fn client_with(config: HttpConfig) -> RestClient<Acme> {
        let retry = RetryPolicy::default().sleep_with(|_| std::future::ready(()));
        RestClient::new(Acme, &config.retry(retry)).unwrap()
    }

    fn client() -> RestClient<Acme> {
        client_with(HttpConfig::default())
    }

    fn at(server: &MockServer, p: &str) -> Url {
        format!("{}{p}", server.uri()).parse().unwrap()
    }

    #[tokio::test]
    async fn bodies_are_encoded_once_with_their_type_and_sent_with_the_credentials() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/form"))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .and(header("authorization", "Basic QUMxOnB3"))
            .and(header("accept", "application/json"))
            .and(body_string("To=%2B14155550100&Say=hello+there&To=second"))
            .respond_with(ResponseTemplate::new(201).set_body_string("{}"))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .and(path("/json"))
            .and(header("content-type", "application/json"))
            .and(header("authorization", "Bearer t0ken"))
            .and(body_string(r#"{"action":"hangup"}"#))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
        let rest = client();
        let basic = Auth::basic("AC1", Secret::new("pw"));
        rest.post(at(&server, "/form"), "create call")
            .auth(&basic)
            .form([
                ("To", "+14155550100"),
                ("Say", "hello there"),
                ("To", "second"),
            ])
            .success()
            .await
            .unwrap();
        let bearer = Auth::Bearer(Secret::new("t0ken"));
        rest.put(at(&server, "/json"), "hang up call")
            .auth(&bearer)
            .json(&serde_json::json!({"action": "hangup"}))
            .success()
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_post_is_sent_once_after_a_server_error_unless_it_is_idempotent() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(503))
            .expect(1 + 3)
            .mount(&server)
            .await;
        let rest = client();
        let err = rest
            .post(at(&server, "/calls"), "create call")
            .success()
            .await
            .unwrap_err();
        assert!(err.may_have_acted() && !err.is_retryable(), "{err}");
        let err = rest
            .post(at(&server, "/calls/CA1"), "update call CA1")
            .idempotent(true)
            .success()
            .await
            .unwrap_err();
        assert!(err.is_retryable() && !err.may_have_acted(), "{err}");
    }

    #[tokio::test]
    async fn the_error_says_what_the_provider_said_and_what_to_check() {
        let server = MockServer::start().await;
        Mock::given(path("/401"))
            .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
                "message": "Authenticate", "code": "E1", "link": "https://acme.example/E1", "id": "r-9"
            })))
            .mount(&server)
            .await;
        Mock::given(path("/429"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "60"))
            .mount(&server)
            .await;
        Mock::given(path("/html"))
            .respond_with(ResponseTemplate::new(502).set_body_string("<h1>Bad Gateway</h1>"))
            .mount(&server)
            .await;
        let rest = client();
        let token = Auth::basic("AC1", Secret::new("pw"));
        let err = rest
            .get(at(&server, "/401"), "fetch call CA1")
            .auth(&token)
            .success()
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Acme answered 401 (code E1) to fetch call CA1: Authenticate; check ACME_TOKEN \
             (https://acme.example/E1) [request id r-9]"
        );
        let jwt = Auth::Bearer(Secret::new("jwt"));
        let err = rest
            .get(at(&server, "/401"), "fetch call CA1")
            .auth(&jwt)
            .success()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("check ACME_JWT"), "{err}");
        let err = rest
            .get(at(&server, "/429"), "fetch call CA1")
            .success()
            .await
            .unwrap_err();
        let api = err.api().unwrap();
        assert_eq!(api.retry_after, Some(Duration::from_secs(60)));
        assert_eq!(api.message, "no error body");
        assert_eq!(
            api.hint.as_deref(),
            Some("rate limited: slow down, or ask Acme to raise the account's limits")
        );
        let err = rest
            .post(at(&server, "/html"), "create call")
            .success()
            .await
            .unwrap_err();
        let api = err.api().unwrap();
        assert_eq!(
            api.message,
            "no error message (body: \"<h1>Bad Gateway</h1>\")"
        );
        assert!(
            api.may_have_acted,
            "a 502 to a create may have been acted on"
        );
    }

    #[tokio::test]
    async fn a_404_is_none_where_asked_and_an_error_elsewhere() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(404))
            .expect(2)
            .mount(&server)
            .await;
        let rest = client();
        let request = rest.get(at(&server, "/calls/CA1"), "fetch call CA1");
        let none: Option<serde_json::Value> = request.decode_optional().await.unwrap();
        assert_eq!(none, None);
        let err = request.decode::<serde_json::Value>().await.unwrap_err();
        assert!(err.is_not_found(), "{err}");
    }

    #[tokio::test]
    async fn a_body_that_is_not_json_is_refused_before_sending() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(201))
            .expect(0)
            .mount(&server)
            .await;
        let body: BTreeMap<Vec<u8>, u8> = [(vec![1], 2)].into();
        let err = client()
            .post(at(&server, "/calls"), "create call")
            .json(&body)
            .send()
            .await
            .unwrap_err();
        assert!(err.is_config(), "{err}");
        assert!(err.to_string().starts_with("Acme create call: "), "{err}");
    }

    #[test]
    fn credentials_never_print() {
        let rest = client();
        let basic = Auth::basic("AC1", Secret::new("hunter2"));
        let bearer = Auth::Bearer(Secret::new("eyJhbGciOi"));
        for auth in [&basic, &bearer] {
            let request = rest
                .get("https://api.acme.example/x".parse().unwrap(), "fetch")
                .auth(auth);
            let shown = format!("{auth:?} {request:?} {rest:?}");
            assert!(
                !shown.contains("hunter2") && !shown.contains("eyJhbGciOi"),
                "{shown}"
            );
        }
    }
}
