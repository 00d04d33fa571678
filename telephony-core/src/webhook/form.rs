//! Form and query parameters.

use crate::error::DecodeError;
use crate::id::CallId;
use crate::provider::ProviderKind;

/// Form or query parameters in the order sent, repeated names kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormParams(Vec<(String, String)>);

impl FormParams {
    /// Parses `application/x-www-form-urlencoded` text. Bytes that are not UTF-8 after
    /// decoding are replaced, never an error.
    pub fn parse(input: &[u8]) -> FormParams {
        FormParams(
            url::form_urlencoded::parse(input)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name` if present and not empty.
    pub fn get_nonempty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// The first value of `name`, present and not empty, or a decode error of `what` (the
    /// webhook being parsed, as `provider` sent it) that names the missing parameter.
    pub fn required(
        &self,
        provider: ProviderKind,
        name: &str,
        what: &str,
    ) -> Result<&str, DecodeError> {
        self.get_nonempty(name)
            .ok_or_else(|| DecodeError::new(provider, what, format!("no {name} parameter")))
    }

    /// [`required`](Self::required), read as a [`CallId`].
    pub fn call_id(
        &self,
        provider: ProviderKind,
        name: &str,
        what: &str,
    ) -> Result<CallId, DecodeError> {
        CallId::new(self.required(provider, name, what)?)
            .map_err(|e| DecodeError::new(provider, what, e.to_string()))
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every pair, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many pairs there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for FormParams {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        FormParams(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_params_keep_order_and_repeats() {
        let p = FormParams::parse(b"b=2&a=1&b=3&c=&d=%F0%9F%93%9E+x");
        assert_eq!(p.get("b"), Some("2"));
        assert_eq!(p.get_all("b").collect::<Vec<_>>(), ["2", "3"]);
        assert_eq!(p.get("c"), Some(""));
        assert_eq!(p.get_nonempty("c"), None);
        assert_eq!(p.get("d"), Some("📞 x"));
        let bad = FormParams::parse(b"x=%FF%FE");
        assert_eq!(bad.get("x").map(|v| v.chars().count()), Some(2));
    }

    #[test]
    fn required_parameters_name_what_is_missing() {
        const P: ProviderKind = ProviderKind::new("acme", "Acme");
        let p = FormParams::parse(b"Call=c-1&Empty=&Spaced=a+b");
        assert_eq!(p.required(P, "Call", "status callback"), Ok("c-1"));
        assert_eq!(
            p.call_id(P, "Call", "status callback").unwrap().as_str(),
            "c-1"
        );
        for name in ["Empty", "Absent"] {
            assert_eq!(
                p.required(P, name, "status callback")
                    .unwrap_err()
                    .to_string(),
                format!("Acme: cannot read status callback: no {name} parameter")
            );
        }
        let e = p.call_id(P, "Spaced", "inbound call").unwrap_err();
        assert_eq!((e.what.as_str(), e.provider), ("inbound call", P));
    }
}
