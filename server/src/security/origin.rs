//! Cross-site request forgery protection: which origins may make
//! state-changing requests with a user's cookie.
//!
//! The rule (one function, [`OriginPolicy::check`], used by the middleware
//! for every request but GET/HEAD/OPTIONS and by the `/ws` upgrade):
//! - an `Origin` listed in `--allowed-origins` passes;
//! - any other `Origin` must be this server's own: its scheme (`https`
//!   with `--secure-cookies`, else `http`; a trusted proxy's
//!   `X-Forwarded-Proto` wins) and its `Host` (a trusted proxy's
//!   `X-Forwarded-Host` wins), default ports ignored; `null` never passes;
//! - a `Sec-Fetch-Site` other than `same-origin` or `none` is refused
//!   (unless the `Origin` was an allowed one).
//!
//! A request with neither header passes: it does not come from a browser
//! page (curl, the load tool, other backends), and browsers always send
//! `Origin` on cross-origin POSTs and WebSocket handshakes, so a forged
//! request cannot hide it.

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use teahouse_protocol::ErrorCode;

use app::error::AppError;

/// The `Sec-Fetch-Site` request header (not in `http`'s list).
const SEC_FETCH_SITE: &str = "sec-fetch-site";
/// Longest header value quoted in a log line.
const LOGGED_CHARS: usize = 200;

/// Which origins may send state-changing requests.
#[derive(Clone, Debug, Default)]
pub struct OriginPolicy {
    /// Other origins allowed (embedding, hand-off), normalized
    /// `scheme://host[:port]`.
    allowed: HashSet<String>,
    /// True when the server is reached over HTTPS (`--secure-cookies`): the
    /// scheme of its own origin.
    https: bool,
    /// True when `X-Forwarded-Proto` / `-Host` may say what the browser saw.
    trust_proxy: bool,
}

/// Why a request was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// An `Origin` that is neither ours nor allowed (quoted, shortened).
    ForeignOrigin(String),
    /// `Sec-Fetch-Site` said the request came from another site (quoted).
    CrossSiteFetch(String),
}

impl OriginPolicy {
    /// A policy allowing `allowed` besides the server's own origin. Each
    /// must be an exact `scheme://host[:port]` (see [`normalize_origin`]).
    pub fn new(allowed: &[String], https: bool, trust_proxy: bool) -> Result<Self, String> {
        let allowed = allowed
            .iter()
            .map(|o| {
                normalize_origin(o)
                    .ok_or_else(|| format!("not an origin (scheme://host[:port]): {o:?}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(OriginPolicy {
            allowed,
            https,
            trust_proxy,
        })
    }

    /// Whether a request with these headers may act with the user's cookie.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        if let Some(raw) = headers.get(header::ORIGIN) {
            let origin = raw.to_str().ok().and_then(normalize_origin);
            match origin {
                Some(o) if self.allowed.contains(&o) => return Ok(()),
                Some(o) if self.own_origin(headers).is_some_and(|own| own == o) => {}
                _ => return Err(Refusal::ForeignOrigin(quote(raw.as_bytes()))),
            }
        }
        match headers.get(SEC_FETCH_SITE).map(|v| v.as_bytes()) {
            None | Some(b"same-origin") | Some(b"none") => Ok(()),
            Some(other) => Err(Refusal::CrossSiteFetch(quote(other))),
        }
    }

    /// This server's origin as the browser sees it, normalized.
    fn own_origin(&self, headers: &HeaderMap) -> Option<String> {
        let forwarded = |name: &str| {
            self.trust_proxy
                .then(|| headers.get(name)?.to_str().ok())
                .flatten()
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let scheme =
            forwarded("x-forwarded-proto").unwrap_or(if self.https { "https" } else { "http" });
        let host =
            forwarded("x-forwarded-host").or_else(|| headers.get(header::HOST)?.to_str().ok())?;
        normalize_origin(&format!("{scheme}://{host}"))
    }
}

/// `scheme://host[:port]` lower-cased, without a default port, or `None`
/// for anything else (paths, user info, `null`, other schemes).
pub fn normalize_origin(origin: &str) -> Option<String> {
    let (scheme, rest) = origin.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let authority = rest.to_ascii_lowercase();
    let valid = !authority.is_empty()
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    if !valid {
        return None;
    }
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    Some(format!("{scheme}://{authority}"))
}

/// A header value for a log line: lossy, shortened.
fn quote(value: &[u8]) -> String {
    String::from_utf8_lossy(value)
        .chars()
        .take(LOGGED_CHARS)
        .collect()
}

/// True for methods that change nothing (and so need no origin check).
fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Middleware: refuses state-changing requests from other origins with 403
/// `cross_origin`, before the session is loaded or the body read.
pub async fn refuse_cross_origin(
    State(policy): State<Arc<OriginPolicy>>,
    req: Request,
    next: Next,
) -> Response {
    if is_safe(req.method()) {
        return next.run(req).await;
    }
    if let Err(refusal) = policy.check(req.headers()) {
        log_refusal(&refusal, req.method().as_str(), req.uri().path());
        return AppError::new(ErrorCode::CrossOrigin).into_response();
    }
    next.run(req).await
}

/// One warn line per refusal: what came from where (never cookies).
pub fn log_refusal(refusal: &Refusal, method: &str, path: &str) {
    let path: String = path.chars().take(LOGGED_CHARS).collect();
    match refusal {
        Refusal::ForeignOrigin(origin) => {
            tracing::warn!(%method, %path, origin = ?origin, "refused a cross-origin request")
        }
        Refusal::CrossSiteFetch(site) => {
            tracing::warn!(%method, %path, sec_fetch_site = ?site, "refused a cross-site request")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn policy() -> OriginPolicy {
        OriginPolicy::new(&["https://Shop.Example:443".into()], false, false).unwrap()
    }

    #[test]
    fn own_and_allowed_origins_pass_others_do_not() {
        let p = policy();
        let host = ("host", "127.0.0.1:3000");
        assert!(p
            .check(&headers(&[host, ("origin", "http://127.0.0.1:3000")]))
            .is_ok());
        assert!(
            p.check(&headers(&[host])).is_ok(),
            "no Origin: not a browser page"
        );
        assert!(p
            .check(&headers(&[
                host,
                ("origin", "https://shop.example"),
                ("sec-fetch-site", "cross-site")
            ]))
            .is_ok());
        for foreign in [
            "http://127.0.0.1:3001",
            "https://127.0.0.1:3000",
            "null",
            "http://127.0.0.1:3000.evil",
            "http://evil/x",
        ] {
            assert!(
                p.check(&headers(&[host, ("origin", foreign)])).is_err(),
                "{foreign}"
            );
        }
        assert!(
            p.check(&headers(&[("origin", "http://127.0.0.1:3000")]))
                .is_err(),
            "no Host: nothing is ours"
        );
    }

    #[test]
    fn sec_fetch_site_must_be_same_origin_or_none() {
        let p = policy();
        for (site, ok) in [
            ("same-origin", true),
            ("none", true),
            ("same-site", false),
            ("cross-site", false),
        ] {
            assert_eq!(
                p.check(&headers(&[("sec-fetch-site", site)])).is_ok(),
                ok,
                "{site}"
            );
        }
    }

    #[test]
    fn default_ports_and_case_do_not_matter_and_proxies_are_believed_only_when_trusted() {
        let p = OriginPolicy::new(&[], true, false).unwrap();
        assert!(p
            .check(&headers(&[
                ("host", "Chat.Example:443"),
                ("origin", "https://chat.example")
            ]))
            .is_ok());
        let behind = [
            ("host", "127.0.0.1:3000"),
            ("x-forwarded-host", "chat.example"),
            ("x-forwarded-proto", "https"),
            ("origin", "https://chat.example"),
        ];
        assert!(p.check(&headers(&behind)).is_err());
        let trusting = OriginPolicy::new(&[], false, true).unwrap();
        assert!(trusting.check(&headers(&behind)).is_ok());
    }

    #[test]
    fn allowed_origins_must_be_exact_origins() {
        for bad in [
            "shop.example",
            "https://shop.example/",
            "ftp://x",
            "https://",
            "*",
        ] {
            assert!(
                OriginPolicy::new(&[bad.into()], false, false).is_err(),
                "{bad}"
            );
        }
    }
}
