//! Helpers for the issue-16 suites: roles made the operator's way (the
//! real `teahouse grant-role` binary), agents made by an admin, and guests
//! of the support desk.

use serde_json::Value;

use super::{Client, Socket, TestServer};
use teahouse_protocol::{ConversationEvent, EventBody, ServerFrame};

/// Runs `teahouse grant-role --data-dir <dir> --role <role> <username>`.
pub fn grant_role(data_dir: &std::path::Path, username: &str, role: &str) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_teahouse"))
        .arg("grant-role")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--role", role, username])
        .env("RUST_LOG", "warn")
        .output()
        .expect("run teahouse grant-role");
    assert!(
        out.status.success(),
        "grant-role failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A registered user made admin by the operator.
pub async fn admin(server: &TestServer, name: &str) -> Client {
    let admin = server.user(name).await;
    grant_role(server.data_dir(), name, "admin");
    admin
}

/// Sets `user`'s role as `admin` (through the API).
pub async fn set_role(admin: &Client, user: i64, role: &str) -> Value {
    admin
        .call(
            "admin_set_role",
            &[("user_id", &user.to_string()), ("role", role)],
        )
        .await
        .expect("admin_set_role")
}

/// A new user whom `admin` made an agent.
pub async fn agent(server: &TestServer, admin: &Client, name: &str) -> Client {
    let agent = server.user(name).await;
    set_role(admin, agent.id, "agent").await;
    agent
}

/// A guest of the desk (a fresh cookie jar) and their conversation's id.
pub async fn guest(server: &TestServer) -> (Client, i64) {
    let client = Client::new(server);
    let session = client
        .call("support_start", &[("page", "https://shop.example/p/1")])
        .await
        .expect("support_start");
    let id = session["guest"]["user"]["id"].as_i64().unwrap();
    let room = session["conversation"]["id"].as_i64().unwrap();
    (Client { id, ..client }, room)
}

/// The guest's conversation's `status` and agent id now.
pub async fn guest_state(guest: &Client) -> (String, Option<i64>) {
    let s = guest
        .call("support_state", &[])
        .await
        .expect("support_state");
    (
        s["conversation"]["status"].as_str().unwrap().to_owned(),
        s["conversation"]["agent"]["id"].as_i64(),
    )
}

/// A guest's text message.
pub async fn guest_says(guest: &Client, client_id: &str, text: &str) -> Value {
    guest
        .call("support_send", &[("client_id", client_id), ("text", text)])
        .await
        .expect("support_send")
}

/// Waits on `socket` for the event of conversation `room` that `pred` picks.
pub async fn until_event(
    socket: &mut Socket,
    room: i64,
    mut pred: impl FnMut(&EventBody) -> bool,
) -> ConversationEvent {
    let frame = socket
        .until(|f| matches!(f, ServerFrame::Event { event } if event.conversation_id.0 == room && pred(&event.body)))
        .await;
    match frame {
        ServerFrame::Event { event } => event,
        _ => unreachable!(),
    }
}

/// Waits until `room` is assigned to the agent with id `agent` (seen on
/// that agent's socket).
pub async fn until_assigned(socket: &mut Socket, room: i64, agent: i64) -> ConversationEvent {
    until_event(
        socket,
        room,
        |b| matches!(b, EventBody::SupportAssigned { agent: a } if a.id.0 == agent),
    )
    .await
}

/// The ids of the support conversations assigned to `agent`.
pub async fn mine(agent: &Client) -> Vec<i64> {
    let list = agent.call("desk_mine", &[]).await.expect("desk_mine");
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_i64().unwrap())
        .collect()
}

/// Waits on `socket` for a message in `room` sent by `actor`.
pub async fn until_message_from(socket: &mut Socket, room: i64, actor: i64) -> ConversationEvent {
    let frame = socket
        .until(|f| {
            matches!(f, ServerFrame::Event { event } if event.conversation_id.0 == room
                && event.actor.id.0 == actor
                && matches!(event.body, EventBody::Message(_)))
        })
        .await;
    match frame {
        ServerFrame::Event { event } => event,
        _ => unreachable!(),
    }
}
