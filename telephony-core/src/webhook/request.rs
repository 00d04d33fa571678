//! A webhook request as received.

use bytes::Bytes;
use http::{HeaderMap, Method};

use super::{FormParams, RequestUrl};

/// A webhook request as it arrived, framework-free: the method, the public URL the provider
/// called exactly as it called it (see [`RequestUrl`] and [`PublicUrl`](super::PublicUrl)),
/// the headers, and the body's raw bytes exactly as sent.
#[derive(Debug, Clone)]
pub struct WebhookRequest {
    /// `GET` or `POST`.
    pub method: Method,
    /// The URL the provider requested, as the provider saw it (scheme, host, port, path,
    /// query), character for character.
    pub url: RequestUrl,
    /// The request headers.
    pub headers: HeaderMap,
    /// The body, byte for byte.
    pub body: Bytes,
}

impl WebhookRequest {
    /// A request.
    pub fn new(
        method: Method,
        url: RequestUrl,
        headers: HeaderMap,
        body: impl Into<Bytes>,
    ) -> Self {
        WebhookRequest {
            method,
            url,
            headers,
            body: body.into(),
        }
    }

    /// A `POST` with a form body, as most providers send callbacks. For tests and tools.
    pub fn form_post(url: RequestUrl, params: &[(&str, &str)]) -> WebhookRequest {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        WebhookRequest::new(Method::POST, url, headers, body)
    }

    /// A header's value, if present and valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the body is a form (`application/x-www-form-urlencoded`).
    pub fn is_form(&self) -> bool {
        self.header("content-type").is_some_and(|ct| {
            ct.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        })
    }

    /// Whether the body is JSON.
    pub fn is_json(&self) -> bool {
        self.header("content-type").is_some_and(|ct| {
            let media = ct.split(';').next().unwrap_or("").trim();
            media.eq_ignore_ascii_case("application/json") || media.ends_with("+json")
        })
    }

    /// The query string's parameters.
    pub fn query_params(&self) -> FormParams {
        FormParams::parse(self.url.query().unwrap_or("").as_bytes())
    }

    /// The form body's parameters (empty unless the body is a form).
    pub fn body_params(&self) -> FormParams {
        if self.is_form() {
            FormParams::parse(&self.body)
        } else {
            FormParams::default()
        }
    }

    /// The parameters a provider sent: the query for `GET`, the form body for `POST`.
    pub fn params(&self) -> FormParams {
        if self.method == Method::GET {
            self.query_params()
        } else {
            self.body_params()
        }
    }
}
