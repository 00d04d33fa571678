//! Downloads: a file (a call's recording) streamed from the provider into any writer, never
//! held whole in memory.

use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::client::{Answer, RestApi, RestRequest};
use crate::error::{DecodeError, Error};

/// The most of an error body read when a download fails: enough for the provider's message.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

impl<A: RestApi> RestRequest<'_, A> {
    /// Sends the request (retried as a read is, until the first byte arrives) and writes a
    /// 2xx answer's body into `out` chunk by chunk, returning the bytes written. Any other
    /// answer is the provider's error, with its first 64 KiB read for the message. A body cut
    /// short is a transport error (what was written stays written; the writer is flushed).
    pub async fn download(&self, out: &mut (dyn AsyncWrite + Send + Unpin)) -> Result<u64, Error> {
        let mut response = self.response(self.first_url()).await?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let headers = response.headers().clone();
            let mut body = Vec::new();
            while body.len() < ERROR_BODY_LIMIT {
                match response.chunk().await {
                    Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                    Ok(None) | Err(_) => break,
                }
            }
            body.truncate(ERROR_BODY_LIMIT);
            let answer = Answer {
                status,
                headers,
                body: body.into(),
            };
            return Err(self.error(&answer));
        }
        let provider = self.client().api().provider();
        let mut written = 0u64;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    out.write_all(&chunk)
                        .await
                        .map_err(|e| write_error(provider, self.operation(), e))?;
                    written += chunk.len() as u64;
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = out.flush().await;
                    return Err(self.transport(e));
                }
            }
        }
        out.flush()
            .await
            .map_err(|e| write_error(provider, self.operation(), e))?;
        Ok(written)
    }
}

fn write_error(provider: crate::ProviderKind, operation: &str, e: std::io::Error) -> Error {
    Error::Decode(DecodeError::new(
        provider,
        operation,
        format!("the download could not be written: {e}"),
    ))
}

#[cfg(test)]
mod tests {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::super::client::tests::Acme;
    use crate::rest::{Auth, HttpConfig, RestClient, RetryPolicy};
    use crate::{Secret, Url};

    #[tokio::test]
    async fn streams_the_body_with_auth_and_reads_errors() {
        let server = MockServer::start().await;
        let file: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        Mock::given(method("GET"))
            .and(path("/rec.wav"))
            .and(header("authorization", "Basic dTpw"))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(file.clone()))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/gone.wav"))
            .respond_with(
                ResponseTemplate::new(404)
                    .set_body_json(serde_json::json!({"message": "no such recording"})),
            )
            .mount(&server)
            .await;
        let client =
            RestClient::new(Acme, &HttpConfig::default().retry(RetryPolicy::none())).unwrap();
        let auth = Auth::basic("u", Secret::new("p"));
        let base = Url::parse(&server.uri()).unwrap();
        let mut out = Vec::new();
        let n = client
            .get(base.join("/rec.wav").unwrap(), "download recording")
            .auth(&auth)
            .download(&mut out)
            .await
            .unwrap();
        assert_eq!(n, file.len() as u64);
        assert_eq!(out, file);
        let mut out = Vec::new();
        let e = client
            .get(base.join("/gone.wav").unwrap(), "download recording")
            .auth(&auth)
            .download(&mut out)
            .await
            .unwrap_err();
        assert!(e.is_not_found(), "{e}");
        assert!(e.to_string().contains("no such recording"), "{e}");
        assert!(out.is_empty());
    }
}
