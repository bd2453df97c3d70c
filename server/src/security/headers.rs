//! Security headers on every response, and the per-response script nonce.
//!
//! Every response: `X-Content-Type-Options: nosniff` (a file is never
//! reinterpreted as another type) and `Referrer-Policy: same-origin`
//! (addresses, which carry room ids, never leave the site). Every HTML
//! page in addition: a `Content-Security-Policy` that runs only the site's
//! own scripts, the two inline boot scripts carrying this response's nonce
//! and the wasm (`'wasm-unsafe-eval'`), with no plugins, no `<base>`
//! rewrites, forms posting only here and framing only by
//! `--frame-ancestors`; and a `Permissions-Policy` that gives the
//! microphone and camera to the app itself only and every other powerful
//! feature to no one. `X-Frame-Options` says the same as `frame-ancestors`
//! for browsers and old webviews without CSP: `SAMEORIGIN` for `'self'`,
//! `DENY` for `'none'`, and nothing when other origins are listed (it
//! cannot name them; browsers with CSP ignore it then anyway).
//!
//! The exact origins of `--frame-ancestors` (and `'self'`) are also what a
//! framed page may `postMessage` to: they go into each page request's
//! extensions as [`EmbedOrigins`], which the page renders into a meta tag
//! (see `app::embed`).
//!
//! The nonce is made here for each GET/HEAD request and put in the
//! request's extensions as a [`Nonce`]; the page renderer provides it to
//! Leptos (see [`super::provide_request_context`]), whose scripts and ours
//! (`app::shell`) write it, so header and page always agree.

use std::sync::Arc;

use app::embed::EmbedOrigins;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use leptos::nonce::Nonce;

/// Features the app may use (its own origin only) and the ones no one may.
const PERMISSIONS_POLICY: &str = "microphone=(self), camera=(self), geolocation=(), \
     payment=(), usb=(), serial=(), hid=(), midi=(), display-capture=(), \
     accelerometer=(), gyroscope=(), magnetometer=()";

/// The headers, built once at start-up.
#[derive(Clone, Debug)]
pub struct SecurityHeaders {
    /// The CSP up to its script list, which gets the nonce per response.
    csp_head: String,
    /// The CSP after the script list.
    csp_tail: String,
    /// `X-Frame-Options` matching `frame-ancestors`, when it can say it.
    frame_options: Option<HeaderValue>,
    /// Who a framed page tells about itself (`postMessage` targets).
    embed_origins: EmbedOrigins,
}

/// `X-Frame-Options` for a `frame-ancestors` source list: only the two
/// lists it can express.
fn frame_options(sources: &[&str]) -> Option<HeaderValue> {
    match sources {
        ["'self'"] => Some(HeaderValue::from_static("SAMEORIGIN")),
        ["'none'"] => Some(HeaderValue::from_static("DENY")),
        _ => None,
    }
}

/// The sources of a `frame-ancestors` list a page may post messages to:
/// `'self'` and exact origins (`scheme://host[:port]`); wildcards, bare
/// schemes and paths name no single origin, so they get none.
fn embed_origins(sources: &[&str]) -> EmbedOrigins {
    let exact: Vec<&str> = sources
        .iter()
        .map(|s| s.strip_suffix('/').unwrap_or(s))
        .filter(|s| {
            *s == "'self'"
                || ["http://", "https://"].iter().any(|scheme| {
                    s.strip_prefix(scheme)
                        .is_some_and(|host| !host.is_empty() && !host.contains(['*', '/']))
                })
        })
        .collect();
    EmbedOrigins(exact.join(" "))
}

impl SecurityHeaders {
    /// `frame_ancestors` is the CSP source list of who may frame the pages
    /// (`'self'`, `'none'`, or origins). `dev_reload` allows the
    /// `cargo leptos watch` reload socket (another port) to connect.
    pub fn new(frame_ancestors: &str, dev_reload: bool) -> Result<Self, String> {
        let frame_ancestors = frame_ancestors.trim();
        let valid = !frame_ancestors.is_empty()
            && frame_ancestors
                .bytes()
                .all(|b| (b.is_ascii_graphic() && b != b';' && b != b',') || b == b' ');
        if !valid {
            return Err(format!(
                "--frame-ancestors must be a CSP source list such as 'self' or https://example.com: {frame_ancestors:?}"
            ));
        }
        let reload = if dev_reload { " ws: wss:" } else { "" };
        let sources: Vec<&str> = frame_ancestors.split_whitespace().collect();
        // img-src https:: avatars of host users and bots are pictures on
        // the host system's servers (set through the server API, https
        // only); a picture cannot run code.
        Ok(SecurityHeaders {
            frame_options: frame_options(&sources),
            embed_origins: embed_origins(&sources),
            csp_head: "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'".into(),
            csp_tail: format!(
                "; style-src 'self'; img-src 'self' data: blob: https:; media-src 'self' blob:; \
                 connect-src 'self'{reload}; object-src 'none'; base-uri 'self'; \
                 form-action 'self'; frame-ancestors {frame_ancestors}"
            ),
        })
    }

    /// The Content-Security-Policy for a page carrying `nonce`.
    pub fn csp(&self, nonce: Option<&Nonce>) -> String {
        match nonce {
            Some(n) => format!("{} 'nonce-{n}'{}", self.csp_head, self.csp_tail),
            None => format!("{}{}", self.csp_head, self.csp_tail),
        }
    }
}

/// Middleware: makes the nonce for page requests, then sets the headers
/// on whatever answer comes back.
pub async fn set_security_headers(
    State(headers): State<Arc<SecurityHeaders>>,
    mut req: Request,
    next: Next,
) -> Response {
    let nonce = matches!(*req.method(), Method::GET | Method::HEAD).then(Nonce::new);
    if let Some(n) = &nonce {
        req.extensions_mut().insert(n.clone());
        req.extensions_mut().insert(headers.embed_origins.clone());
    }
    let mut res = next.run(req).await;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    let out = res.headers_mut();
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    out.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if is_html {
        // The nonce is URL-safe base64 and the rest was checked at start.
        if let Ok(csp) = HeaderValue::from_str(&headers.csp(nonce.as_ref())) {
            out.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        out.insert(
            "permissions-policy",
            HeaderValue::from_static(PERMISSIONS_POLICY),
        );
        if let Some(xfo) = &headers.frame_options {
            out.insert(header::X_FRAME_OPTIONS, xfo.clone());
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_its_nonce_and_refuses_bad_frame_ancestors() {
        let h = SecurityHeaders::new("'self' https://shop.example", false).unwrap();
        let n = Nonce::new();
        let csp = h.csp(Some(&n));
        assert!(
            csp.contains(&format!(
                "script-src 'self' 'wasm-unsafe-eval' 'nonce-{n}';"
            )),
            "{csp}"
        );
        assert!(
            csp.ends_with("frame-ancestors 'self' https://shop.example"),
            "{csp}"
        );
        assert!(!csp.contains("ws:"));
        assert!(HeaderValue::from_str(&csp).is_ok());
        for bad in ["", "'self'; script-src *", "a,b", "x\ny"] {
            assert!(SecurityHeaders::new(bad, false).is_err(), "{bad:?}");
        }
        assert!(SecurityHeaders::new("'none'", true)
            .unwrap()
            .csp(None)
            .contains("connect-src 'self' ws: wss:"));
    }

    #[test]
    fn frame_options_and_post_message_targets_follow_frame_ancestors() {
        let h = |list: &str| SecurityHeaders::new(list, false).unwrap();
        assert_eq!(h("'self'").frame_options.unwrap(), "SAMEORIGIN");
        assert_eq!(h("'none'").frame_options.unwrap(), "DENY");
        assert!(h("'self' https://shop.example").frame_options.is_none());
        assert_eq!(
            h("'self' https://shop.example/ http://127.0.0.1:8080 https://*.example.com https: https://a.example/path")
                .embed_origins,
            EmbedOrigins("'self' https://shop.example http://127.0.0.1:8080".into())
        );
        assert_eq!(h("'none'").embed_origins, EmbedOrigins(String::new()));
    }
}
