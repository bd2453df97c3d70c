//! Helpers for the server API suites (issue 17): API keys made through the
//! admin page's calls, and a small `/api/v1` client with a bearer key.

use serde_json::{json, Value};

use super::{Client, TestServer};

/// An API key made by `admin`: its secret and its id.
pub struct Key {
    pub secret: String,
    pub id: i64,
    /// Its bot account's id.
    pub bot: i64,
}

/// Makes a key through `admin_create_api_key` (`rooms`: comma-separated).
pub async fn make_key(admin: &Client, name: &str, scope: &str, rooms: &str) -> Key {
    let made = admin
        .call(
            "admin_create_api_key",
            &[
                ("name", name),
                ("scope", scope),
                ("rooms", rooms),
                ("bot_nickname", &format!("{name}-bot")),
                ("bot_avatar_url", "https://cdn.example.com/bot.png"),
            ],
        )
        .await
        .expect("admin_create_api_key");
    Key {
        secret: made["secret"].as_str().unwrap().to_owned(),
        id: made["key"]["id"].as_i64().unwrap(),
        bot: made["key"]["bot"]["id"].as_i64().unwrap(),
    }
}

/// `/api/v1` with one bearer secret (or none).
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub secret: Option<String>,
}

impl Api {
    pub fn new(server: &TestServer, secret: Option<&str>) -> Api {
        Api {
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: format!("http://{}", server.addr),
            secret: secret.map(str::to_owned),
        }
    }

    /// `method path` with a JSON body (None: no body); (status, JSON).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(secret) = &self.secret {
            req = req.bearer_auth(secret);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let body = res.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// Creates or updates host user `ext`; the answer.
    pub async fn upsert(&self, ext: &str, nickname: &str) -> Value {
        let (status, body) = self
            .call(
                "PUT",
                &format!("/api/v1/users/{ext}"),
                Some(json!({ "nickname": nickname })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// A hand-off URL for host user `ext`.
    pub async fn handoff(&self, ext: &str, next: Option<&str>) -> Value {
        let body = next.map(|n| json!({ "next": n }));
        let (status, body) = self
            .call("POST", &format!("/api/v1/users/{ext}/handoff"), body)
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

/// A browser-like client (own cookie jar, no redirects followed) signed in
/// through hand-off `url`; the `Location` it was sent to.
pub async fn open_handoff(server: &TestServer, url: &str) -> (Client, u16, Option<String>) {
    let client = Client::new(server);
    let (status, location) = open_handoff_with(&client, url).await;
    (client, status, location)
}

/// Opens hand-off `url` with `client`'s cookie jar.
pub async fn open_handoff_with(client: &Client, url: &str) -> (u16, Option<String>) {
    let http = reqwest::Client::builder()
        .cookie_provider(client.jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = http
        .get(format!("{}{url}", client.base))
        .send()
        .await
        .unwrap();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (res.status().as_u16(), location)
}
