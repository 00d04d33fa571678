//! Core parsing never panics on input from the network.

use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use telephony_core::{E164, FormParams, PublicUrl, TrustedProxies, url_variants};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn numbers_and_forms(s in "\\PC{0,40}", bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = E164::new(&s);
        let _ = E164::parse_lenient(&s);
        let p = FormParams::parse(&bytes);
        let _ = p.get("a");
        let _ = p.get_all("b").count();
    }

    #[test]
    fn public_urls_from_any_headers(
        host in "[ -~]{0,40}",
        proto in "[ -~]{0,10}",
        fhost in "[ -~]{0,40}",
        port in "[ -~]{0,8}",
        prefix in "[ -~]{0,20}",
        forwarded in "[ -~]{0,60}",
        path in "[ -~]{0,40}",
    ) {
        let mut h = HeaderMap::new();
        for (k, v) in [("host", &host), ("x-forwarded-proto", &proto), ("x-forwarded-host", &fhost),
                       ("x-forwarded-port", &port), ("x-forwarded-prefix", &prefix), ("forwarded", &forwarded)] {
            if let Ok(v) = HeaderValue::from_str(v) {
                h.insert(k, v);
            }
        }
        for p in [PublicUrl::from_headers(TrustedProxies::All), PublicUrl::from_headers(TrustedProxies::None)] {
            if let Ok(url) = p.resolve(None, &h, &path) {
                let _ = url_variants(&url, &h);
            }
        }
        let _ = PublicUrl::from_base(format!("https://{fhost}")).resolve(None, &h, &path);
    }
}
