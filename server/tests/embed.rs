//! Embedding: who may frame the pages (`--frame-ancestors`, with a matching
//! `X-Frame-Options`) and the origins a framed page posts its messages to,
//! written into every page.

mod common;

use common::TestServer;

/// The login page's framing headers and its embed meta tag.
async fn page_framing(server: &TestServer) -> (String, Option<String>, Option<String>) {
    let res = reqwest::get(server.url("/login")).await.unwrap();
    assert_eq!(res.status(), 200);
    let header = |name: &str| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let csp = header("content-security-policy").expect("a CSP");
    let xfo = header("x-frame-options");
    let html = res.text().await.unwrap();
    let meta = html
        .split("<meta name=\"teahouse-embed\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|c| c.replace("&#x27;", "'").replace("&#39;", "'"));
    (csp, xfo, meta)
}

#[tokio::test]
async fn by_default_only_the_site_itself_may_frame_and_hear_from_the_pages() {
    let server = TestServer::start().await;
    let (csp, xfo, meta) = page_framing(&server).await;
    assert!(csp.ends_with("frame-ancestors 'self'"), "{csp}");
    assert_eq!(xfo.as_deref(), Some("SAMEORIGIN"));
    assert_eq!(meta.as_deref(), Some("'self'"));
}

#[tokio::test]
async fn listed_origins_may_frame_and_are_the_only_post_message_targets() {
    let server = TestServer::start_with(|c| {
        c.frame_ancestors = "'self' https://shop.example https://*.example.com".into()
    })
    .await;
    let (csp, xfo, meta) = page_framing(&server).await;
    assert!(
        csp.ends_with("frame-ancestors 'self' https://shop.example https://*.example.com"),
        "{csp}"
    );
    // X-Frame-Options cannot list origins: none, or it would refuse them.
    assert_eq!(xfo, None);
    // A wildcard names no single origin to post to.
    assert_eq!(meta.as_deref(), Some("'self' https://shop.example"));
}

#[tokio::test]
async fn none_refuses_every_frame() {
    let server = TestServer::start_with(|c| c.frame_ancestors = "'none'".into()).await;
    let (csp, xfo, meta) = page_framing(&server).await;
    assert!(csp.ends_with("frame-ancestors 'none'"), "{csp}");
    assert_eq!(xfo.as_deref(), Some("DENY"));
    assert_eq!(meta, None);
}
