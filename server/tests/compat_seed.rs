//! Seed 000's own browser snippets, run in Node (`end2end/seed000/run.mjs`)
//! against `/compat/ws` with only their URL changed (to one with a hand-off
//! token per page): private chat, group chat, and a forged `from_user_id`
//! that is ignored. The host users are made through the server API with
//! the seed's ids (阿克苏 10086, 拉姆才让 10000, 無尘 2023).

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::access::admin;
use common::api::{make_key, open_handoff, Api};
use common::{Client, TestServer};
use serde_json::Value;
use teahouse_protocol::EventBody;

/// The JSON a page's console line carries (`【阿克苏】接受消息: {…}`).
fn answers(lines: &[Value]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|l| l.as_str()?.split_once(": "))
        .map(|(_, json)| serde_json::from_str(json).expect("the server's answers are JSON"))
        .collect()
}

#[tokio::test]
async fn the_seeds_snippets_work_with_only_the_url_changed() {
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let api = Api::new(
        &server,
        Some(&make_key(&boss, "app", "full", "").await.secret),
    );
    let mut ids = HashMap::new();
    for (ext, nickname) in [("10086", "阿克苏"), ("10000", "拉姆才让"), ("2023", "無尘")] {
        let user = api.upsert(ext, nickname).await;
        ids.insert(nickname, user["user"]["id"].as_i64().unwrap());
    }
    let mut pages = serde_json::Map::new();
    for (page, ext) in [
        ("private_aksu", "10086"),
        ("private_lamu", "10000"),
        ("group_aksu", "10086"),
        ("group_lamu", "10000"),
        ("group_wuchen", "2023"),
    ] {
        let url = api.handoff(ext, None).await["url"]
            .as_str()
            .unwrap()
            .to_owned();
        let token = url.split("token=").nth(1).unwrap().to_owned();
        pages.insert(
            page.into(),
            format!("ws://{}/compat/ws?token={token}", server.addr).into(),
        );
    }

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end/seed000/run.mjs");
    let pages = Value::Object(pages).to_string();
    // On a blocking thread: the server keeps serving on this runtime.
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            // The browser's WebSocket (global without the flag from Node 22 on).
            .arg("--experimental-websocket")
            .arg(&script)
            .env("PAGES", pages)
            .output()
    })
    .await
    .unwrap()
    .expect("node runs (it is needed for the end-to-end tests too)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let logs: HashMap<String, Vec<Value>> =
        serde_json::from_str(stdout.lines().last().unwrap()).unwrap();

    // Private: 拉姆才让's page logged 阿克苏's message in the seed's words.
    let lamu = answers(&logs["private_lamu"]);
    let got = lamu
        .iter()
        .find(|a| a["data"]["content"] == "Hi, 我是阿克苏")
        .unwrap();
    assert_eq!(got["code"], 0);
    assert_eq!(got["msg"], "阿克苏[单聊对]10000[说]:Hi, 我是阿克苏");
    assert_eq!(got["data"]["from_user_id"], "10086");
    let dm = got["data"]["room_id"].as_i64().unwrap();
    let aksu = answers(&logs["private_aksu"]);
    assert!(aksu
        .iter()
        .any(|a| a["msg"] == "拉姆才让[单聊对]10086[说]:Hi, 我是拉姆才让"));

    // Group: every page got both messages; the forged one is 無尘's.
    for page in ["group_aksu", "group_lamu", "group_wuchen"] {
        let got = answers(&logs[page]);
        let said = |content: &str| {
            got.iter()
                .find(|a| a["data"]["content"] == content)
                .unwrap_or_else(|| panic!("{page} did not get {content}: {got:?}"))
                .clone()
        };
        assert_eq!(
            said("【群组消息】:我是阿克苏")["msg"],
            "阿克苏[群聊说]:【群组消息】:我是阿克苏"
        );
        assert_eq!(
            said("【群组消息】:拉姆才让")["data"]["from_user_id"],
            "10000"
        );
        let forged = said("我其实是無尘");
        assert_eq!(forged["msg"], "無尘[群聊说]:我其实是無尘");
        assert_eq!(forged["data"]["from_user_id"], "2023");
        assert_eq!(forged["data"]["from_username"], "無尘");
        assert_eq!(forged["data"]["group_id"], 100);
    }
    let group = answers(&logs["group_wuchen"])
        .iter()
        .find_map(|a| a["data"]["room_id"].as_i64())
        .unwrap();

    // Stored in the logs with the real senders, as the app shows them.
    let url = api.handoff("2023", None).await["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let (wuchen, _, _) = open_handoff(&server, &url).await;
    let wuchen = Client {
        id: ids["無尘"],
        ..wuchen
    };
    let senders = |events: Vec<teahouse_protocol::ConversationEvent>| {
        events
            .into_iter()
            .filter_map(|e| match e.body {
                EventBody::Message(m) => Some((e.actor.nickname, m.content.text().to_owned())),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        senders(wuchen.events_after(group, 0).await),
        vec![
            ("阿克苏".to_owned(), "【群组消息】:我是阿克苏".to_owned()),
            ("拉姆才让".to_owned(), "【群组消息】:拉姆才让".to_owned()),
            ("無尘".to_owned(), "我其实是無尘".to_owned()),
        ]
    );
    let url = api.handoff("10000", None).await["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let (lamu_app, _, _) = open_handoff(&server, &url).await;
    assert_eq!(
        senders(lamu_app.events_after(dm, 0).await),
        vec![
            ("阿克苏".to_owned(), "Hi, 我是阿克苏".to_owned()),
            ("拉姆才让".to_owned(), "Hi, 我是拉姆才让".to_owned()),
        ]
    );
}
