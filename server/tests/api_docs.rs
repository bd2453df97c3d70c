//! The README's "HTTP API" table against the server: every documented
//! endpoint is registered and every registered one is documented, and each
//! documented endpoint accepts exactly its documented required arguments.

mod common;

use std::collections::BTreeSet;

use common::TestServer;

/// One row of the README's API table.
#[derive(Debug)]
struct Documented {
    /// Endpoint name (`POST /api/<name>`).
    name: String,
    /// Argument names without the `?` of optional ones.
    args: Vec<String>,
    /// Which of `args` are required (no trailing `?`).
    required: Vec<String>,
}

/// The `code spans` of a markdown table cell.
fn code_spans(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// Parses the first table under "## HTTP API".
fn documented_endpoints() -> Vec<Documented> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let section = readme
        .split("\n## HTTP API")
        .nth(1)
        .expect("README has an \"HTTP API\" section");
    let table = section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2); // header and separator
    let mut rows = Vec::new();
    for line in table {
        let cells: Vec<&str> = line.split('|').collect();
        let (names, args) = (cells[1], cells[2]);
        let spans = code_spans(args);
        let required: Vec<String> = spans
            .iter()
            .filter(|a| !a.ends_with('?'))
            .cloned()
            .collect();
        let args: Vec<String> = spans
            .iter()
            .map(|a| a.trim_end_matches('?').to_owned())
            .collect();
        for name in code_spans(names) {
            rows.push(Documented {
                name,
                args: args.clone(),
                required: required.clone(),
            });
        }
    }
    assert!(rows.len() >= 10, "README API table not found: {rows:?}");
    rows
}

#[tokio::test]
async fn the_readme_names_exactly_the_registered_server_functions() {
    let server = TestServer::start().await;
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| {
            path.strip_prefix("/api/")
                .unwrap_or_else(|| panic!("server function outside /api: {path}"))
                .to_owned()
        })
        .collect();
    let documented: BTreeSet<String> = documented_endpoints().into_iter().map(|d| d.name).collect();
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let missing: Vec<_> = documented.difference(&registered).collect();
    assert!(
        undocumented.is_empty() && missing.is_empty(),
        "registered but not in the README: {undocumented:?}; in the README but not registered: {missing:?}"
    );
    // And each documented name answers over HTTP (not the 404 of an unknown path).
    let anon = common::Client::new(&server);
    for name in &documented {
        let res = anon
            .http
            .post(server.url(&format!("/api/{name}")))
            .send()
            .await
            .unwrap();
        assert_ne!(res.status().as_u16(), 404, "{name}");
    }
    server.stop().await;
}

/// True for the answer server functions give when their arguments do not
/// decode (a missing or unknown required argument).
fn is_argument_error(result: &Result<serde_json::Value, (u16, serde_json::Value)>) -> bool {
    matches!(result, Err((400..=499, body)) if body["code"] == "bad_request" && body.get("field").is_none())
}

#[tokio::test]
async fn each_endpoint_takes_its_documented_required_arguments() {
    let server = TestServer::start().await;
    // Arguments are decoded before the session is looked at, so a signed-out
    // client tells a wrong argument name (bad_request) from a right one.
    let anon = common::Client::new(&server);
    for doc in documented_endpoints() {
        let all: Vec<(&str, &str)> = doc.args.iter().map(|a| (a.as_str(), "1")).collect();
        let answer = anon.call(&doc.name, &all).await;
        assert!(
            !is_argument_error(&answer),
            "{} refuses its documented arguments {:?}: {answer:?}",
            doc.name,
            doc.args
        );
        for dropped in &doc.required {
            let fewer: Vec<(&str, &str)> = all
                .iter()
                .copied()
                .filter(|(name, _)| name != dropped)
                .collect();
            let answer = anon.call(&doc.name, &fewer).await;
            assert!(
                is_argument_error(&answer),
                "{} works without its documented argument {dropped}: {answer:?}",
                doc.name
            );
        }
    }
    server.stop().await;
}
