//! Free text over real HTTP: every field goes through the one normalisation
//! of `teahouse_protocol::text` (strip controls, trim, then emptiness and
//! length), whatever the endpoint.

mod common;

use common::TestServer;
use serde_json::Value;

#[tokio::test]
async fn a_message_of_control_characters_only_is_refused_as_empty_and_not_stored() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let room = alice.create_room("tea").await;
    alice.send(room, "m-0", "before").await.unwrap();

    for (i, text) in ["\u{1}\u{2}\u{3}", "\u{0}", " \u{7}\u{1b} \r\n", "\u{200B}"]
        .into_iter()
        .enumerate()
    {
        let (status, err) = alice.send(room, &format!("c-{i}"), text).await.unwrap_err();
        assert_eq!(status, 422, "{text:?}");
        assert_eq!(err["code"], "message_empty", "{text:?}");
        assert_eq!(err["field"], "text", "{text:?}");
    }
    assert_eq!(alice.message_texts(room).await, ["before"]);

    // Controls inside real text are removed, the text is stored.
    let sent = alice.send(room, "m-1", "a\u{0}b\u{7}\r\nc").await.unwrap();
    assert_eq!(sent["body"]["text"], "ab\nc");
    assert_eq!(alice.message_texts(room).await, ["before", "ab\nc"]);
    server.stop().await;
}

#[tokio::test]
async fn a_room_description_is_stored_without_nul_and_bel() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let room = alice
        .call(
            "create_room",
            &[("name", "tea"), ("description", "green\u{0} tea\u{7}!")],
        )
        .await
        .unwrap();
    assert_eq!(room["description"], "green tea!");
    // What the directory shows is what was stored.
    let page = alice
        .call("public_rooms", &[("query", "tea")])
        .await
        .unwrap();
    let listed: Vec<&Value> = page["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["id"] == room["id"])
        .collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["description"], "green tea!");
    server.stop().await;
}

#[tokio::test]
async fn bidi_overrides_are_stripped_from_names_and_names_of_nothing_are_refused() {
    let server = TestServer::start().await;
    // A nickname that would render "alice" reversed around the text after it.
    let client = common::Client::new(&server);
    let me = client
        .call(
            "register",
            &[
                ("username", "mallory"),
                ("nickname", "\u{202E}ecila\u{202C}"),
                ("password", "tea-leaves-42"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(me["nickname"], "ecila");

    let room = client
        .call(
            "create_room",
            &[("name", "\u{2067}txt.exe\u{2069} 茶"), ("description", "")],
        )
        .await
        .unwrap();
    assert_eq!(room["name"], "txt.exe 茶");

    // Nothing visible left: refused with the field's code, nothing created.
    let (status, err) = client
        .call(
            "create_room",
            &[("name", "\u{202E}\u{200B}\u{0}"), ("description", "")],
        )
        .await
        .unwrap_err();
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("room_name_invalid"))
    );
    let other = common::Client::new(&server);
    let (status, err) = other
        .call(
            "register",
            &[
                ("username", "blank"),
                ("nickname", "\u{3164}\u{7}"),
                ("password", "tea-leaves-42"),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("nickname_invalid"))
    );
    let mine = client.call("my_rooms", &[]).await.unwrap();
    let names: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"txt.exe 茶") && names.len() == 2,
        "{names:?}"
    );
    server.stop().await;
}
