//! `<Dial>`: ring phone numbers (`<Number>`) or SIP endpoints (`<User>`), the first to answer
//! wins; and the `sipHeaders` Plivo sends to a SIP endpoint.

use std::time::Duration;

use telephony_core::{E164, XmlElement};

use super::PlivoXmlError;

/// The longest SIP header name Plivo sends (after its `X-PH-` prefix), per Plivo support's
/// "What are the rules for SIP headers".
pub const SIP_HEADER_NAME_LIMIT: usize = 24;

/// The longest SIP header value Plivo sends, per the same article.
pub const SIP_HEADER_VALUE_LIMIT: usize = 120;

/// What a `<Dial>` rings.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DialTo {
    Number(E164),
    User {
        uri: String,
        headers: Vec<(String, String)>,
    },
}

/// `<Dial>`: ring numbers or SIP endpoints, the first to answer wins.
///
/// ```
/// use telephony_plivo::xml::{Dial, PlivoResponse};
///
/// let dial = Dial::user("sip:desk@pbx.example.com", vec![("Case".into(), "42".into())])
///     .action("https://agent.example.com/status");
/// let doc = PlivoResponse::new().dial(dial).to_xml()?;
/// assert!(doc.contains(r#"<User sipHeaders="Case=42">sip:desk@pbx.example.com</User>"#));
/// # Ok::<(), telephony_plivo::xml::PlivoXmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dial {
    targets: Vec<DialTo>,
    caller_id: Option<E164>,
    timeout: Option<Duration>,
    action: Option<String>,
}

impl Dial {
    /// Dials `number`.
    pub fn new(number: E164) -> Dial {
        Dial {
            targets: vec![DialTo::Number(number)],
            caller_id: None,
            timeout: None,
            action: None,
        }
    }

    /// Dials the SIP endpoint `uri` (`sip:user@host`), sending `headers` with the INVITE
    /// (Plivo prefixes each name with `X-PH-`).
    pub fn user(uri: impl Into<String>, headers: Vec<(String, String)>) -> Dial {
        Dial {
            targets: vec![DialTo::User {
                uri: uri.into(),
                headers,
            }],
            ..Dial::new_empty()
        }
    }

    fn new_empty() -> Dial {
        Dial {
            targets: Vec::new(),
            caller_id: None,
            timeout: None,
            action: None,
        }
    }

    /// Also rings `number`.
    pub fn also(mut self, number: E164) -> Dial {
        self.targets.push(DialTo::Number(number));
        self
    }

    /// The caller id shown.
    pub fn caller_id(mut self, number: E164) -> Dial {
        self.caller_id = Some(number);
        self
    }

    /// How long to ring.
    pub fn timeout(mut self, t: Duration) -> Dial {
        self.timeout = Some(t);
        self
    }

    /// Where Plivo posts the outcome (`DialStatus`, `DialBLegUUID`, `DialHangupCause`), with
    /// a POST; the XML it answers runs next.
    pub fn action(mut self, url: impl Into<String>) -> Dial {
        self.action = Some(url.into());
        self
    }

    pub(super) fn element(&self) -> Result<XmlElement, PlivoXmlError> {
        if self.targets.is_empty() {
            return Err(PlivoXmlError::EmptyDial);
        }
        let mut e = XmlElement::new("Dial")
            .attr_opt(
                "callerId",
                self.caller_id.as_ref().map(|n| n.digits().to_owned()),
            )
            .attr_opt("timeout", self.timeout.map(|t| t.as_secs().to_string()))
            .attr_opt("action", self.action.clone())
            .attr_opt("method", self.action.as_ref().map(|_| "POST"));
        for target in &self.targets {
            e = e.child(match target {
                DialTo::Number(n) => XmlElement::new("Number").text(n.digits()),
                DialTo::User { uri, headers } => XmlElement::new("User")
                    .attr_opt("sipHeaders", sip_headers_value(headers)?)
                    .text(uri.clone()),
            });
        }
        Ok(e)
    }
}

/// The `sipHeaders` value (`Name=value,Other=value`) of `headers`, or why Plivo would not
/// send them: it sends a header only when its name is a capital letter then lower-case
/// letters and digits, at most 24 characters, and its value letters, digits and `%`, at most
/// 120 (Plivo support, "What are the rules for SIP headers"; the `<User>` docs say letters and
/// digits). Headers Plivo would drop silently are refused here instead.
pub fn sip_headers_value(headers: &[(String, String)]) -> Result<Option<String>, PlivoXmlError> {
    if headers.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        let mut chars = name.chars();
        let name_ok = chars.next().is_some_and(|c| c.is_ascii_uppercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && name.len() <= SIP_HEADER_NAME_LIMIT;
        if !name_ok {
            return Err(PlivoXmlError::SipHeaders(format!(
                "name {name:?}: Plivo sends only names of a capital letter then lower-case letters and digits, at most {SIP_HEADER_NAME_LIMIT} characters (it adds X-PH-)"
            )));
        }
        if value.is_empty()
            || value.len() > SIP_HEADER_VALUE_LIMIT
            || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '%')
        {
            return Err(PlivoXmlError::SipHeaders(format!(
                "{name}: value {value:?} must be 1 to {SIP_HEADER_VALUE_LIMIT} letters, digits or %"
            )));
        }
        out.push(format!("{name}={value}"));
    }
    Ok(Some(out.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::PlivoResponse;

    #[test]
    fn users_carry_their_headers_and_bad_ones_are_refused() {
        let doc = PlivoResponse::new()
            .dial(
                Dial::user(
                    "sip:desk@pbx.example.com",
                    vec![
                        ("Case".into(), "42".into()),
                        ("Queue".into(), "a%20b".into()),
                    ],
                )
                .caller_id("+14155550199".parse().unwrap())
                .timeout(Duration::from_secs(25))
                .action("https://a/status?x=1&y=2"),
            )
            .to_xml()
            .unwrap();
        assert!(
            doc.ends_with(
                "<Response><Dial callerId=\"14155550199\" timeout=\"25\" action=\"https://a/status?x=1&amp;y=2\" method=\"POST\">\
                 <User sipHeaders=\"Case=42,Queue=a%20b\">sip:desk@pbx.example.com</User></Dial></Response>"
            ),
            "{doc}"
        );
        for (name, value) in [
            ("case", "1"),
            ("Case-Id", "1"),
            ("CaseID", "1"),
            ("Averyveryverylongheadername", "1"),
            ("Case", "a-b"),
            ("Case", ""),
        ] {
            let headers = vec![(name.to_owned(), value.to_owned())];
            assert!(
                matches!(
                    sip_headers_value(&headers),
                    Err(PlivoXmlError::SipHeaders(_))
                ),
                "{name}={value}"
            );
        }
        assert_eq!(sip_headers_value(&[]), Ok(None));
        let empty = Dial {
            targets: Vec::new(),
            ..Dial::new_empty()
        };
        assert_eq!(
            PlivoResponse::new().dial(empty).to_xml(),
            Err(PlivoXmlError::EmptyDial)
        );
    }
}
