//! The session cookie's cross-site attributes.
//!
//! A page framed by another site (the support widget on a shop's pages, the
//! chat inside a host system's page) gets its cookie back only if the
//! cookie is `SameSite=None; Secure`; a browser that blocks third-party
//! cookies keeps it only if it is also `Partitioned` (CHIPS: one jar per
//! embedding site, so the guest on shop A is not the guest on shop B, and
//! no site can follow a visitor across others). So when `--frame-ancestors`
//! names any site besides this one, the session cookie gets all three;
//! otherwise it stays `SameSite=Lax` (Secure only with `--secure-cookies`).
//! tower-sessions cannot set `Partitioned`: [`partition_session_cookie`]
//! appends it on the way out.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tower_sessions::cookie::SameSite;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "teahouse_sid";

/// The attributes the session cookie is set with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookieRule {
    /// `None` when pages may be framed by other sites, else `Lax`.
    pub same_site: SameSite,
    /// Browsers take `SameSite=None` only together with `Secure`.
    pub secure: bool,
    /// Whether [`partition_session_cookie`] must run.
    pub partitioned: bool,
}

impl CookieRule {
    /// The rule for a server framed by `frame_ancestors` (a CSP source
    /// list) that serves HTTPS if `secure_cookies`.
    pub fn new(frame_ancestors: &str, secure_cookies: bool) -> CookieRule {
        let framed_by_others = frame_ancestors
            .split_ascii_whitespace()
            .any(|source| source != "'self'" && source != "'none'");
        match framed_by_others {
            true => CookieRule {
                same_site: SameSite::None,
                secure: true,
                partitioned: true,
            },
            false => CookieRule {
                same_site: SameSite::Lax,
                secure: secure_cookies,
                partitioned: false,
            },
        }
    }
}

/// Middleware: under a `partitioned` rule, adds `; Partitioned` to the
/// session cookie a response sets.
pub async fn partition_session_cookie(
    State(rule): State<CookieRule>,
    req: Request,
    next: Next,
) -> Response {
    let mut res = next.run(req).await;
    if !rule.partitioned {
        return res;
    }
    let headers = res.headers_mut();
    let cookies: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|value| partitioned(value).unwrap_or_else(|| value.clone()))
        .collect();
    if cookies.is_empty() {
        return res;
    }
    headers.remove(header::SET_COOKIE);
    for cookie in cookies {
        headers.append(header::SET_COOKIE, cookie);
    }
    res
}

/// `value` with `; Partitioned` if it sets the session cookie without it.
fn partitioned(value: &HeaderValue) -> Option<HeaderValue> {
    let text = value.to_str().ok()?;
    let name = text.split('=').next()?.trim();
    if name != SESSION_COOKIE || text.to_ascii_lowercase().contains("; partitioned") {
        return None;
    }
    HeaderValue::from_str(&format!("{text}; Partitioned")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_framing_by_other_sites_makes_the_cookie_cross_site() {
        for own in ["'self'", "'none'", " 'self' "] {
            let rule = CookieRule::new(own, false);
            assert_eq!(rule.same_site, SameSite::Lax, "{own}");
            assert!(!rule.secure && !rule.partitioned, "{own}");
        }
        assert!(CookieRule::new("'self'", true).secure);
        let rule = CookieRule::new("'self' https://shop.example", false);
        assert_eq!(rule.same_site, SameSite::None);
        assert!(rule.secure && rule.partitioned);
    }

    #[test]
    fn only_the_session_cookie_is_partitioned_and_only_once() {
        let sid = HeaderValue::from_static("teahouse_sid=abc; HttpOnly; SameSite=None; Secure");
        assert_eq!(
            partitioned(&sid).unwrap(),
            "teahouse_sid=abc; HttpOnly; SameSite=None; Secure; Partitioned"
        );
        let done = HeaderValue::from_static("teahouse_sid=abc; Secure; Partitioned");
        assert!(partitioned(&done).is_none());
        let other = HeaderValue::from_static("teahouse_sidx=1; Secure");
        assert!(partitioned(&other).is_none());
    }
}
