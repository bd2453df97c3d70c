//! Which address a request comes from, for login throttling.
//!
//! The connection's peer address, unless the operator said a reverse proxy
//! stands in front (`--trust-proxy`): then the last `X-Forwarded-For` hop,
//! the address that proxy saw. Without the flag the header is ignored, as
//! anyone can send it.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;

/// The client address of a request, if known.
pub fn client_ip(parts: &Parts, trust_proxy: bool) -> Option<IpAddr> {
    if trust_proxy {
        // The last entry of the last header line: what our proxy appended.
        // Anything before it was written by the client and proves nothing.
        let last_hop = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|hop| hop.trim().parse::<IpAddr>().ok());
        if last_hop.is_some() {
            return last_hop;
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(xff: &[&str]) -> Parts {
        let mut req = Request::builder();
        for v in xff {
            req = req.header("x-forwarded-for", *v);
        }
        let mut parts = req.body(()).unwrap().into_parts().0;
        parts
            .extensions
            .insert(ConnectInfo::<SocketAddr>("10.1.1.1:5000".parse().unwrap()));
        parts
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let p = parts(&["1.2.3.4, 5.6.7.8", "9.9.9.9"]);
        assert_eq!(client_ip(&p, false), "10.1.1.1".parse().ok());
        assert_eq!(client_ip(&p, true), "9.9.9.9".parse().ok());
        assert_eq!(
            client_ip(&parts(&["garbage"]), true),
            "10.1.1.1".parse().ok()
        );
    }
}
