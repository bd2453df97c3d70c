//! Who may do what, by role: every endpoint of issue 16 (and the ones a
//! guest or an agent might try to reach a support conversation through)
//! × every kind of caller — anonymous, a desk guest, a user, an agent, an
//! admin — against the real server. And a role change applies to an open
//! session and socket at once, with no re-login.

mod common;

use common::access::{admin, agent, guest, set_role, until_assigned};
use common::{Client, TestServer};
use teahouse_protocol::{ErrorCode, EventBody, ServerFrame, UserRole};

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Anonymous,
    /// The guest of the waiting conversation.
    Guest,
    User,
    /// An agent who does not have the assigned conversation.
    Agent,
    Admin,
}

const CALLERS: [Caller; 5] = [
    Caller::Anonymous,
    Caller::Guest,
    Caller::User,
    Caller::Agent,
    Caller::Admin,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Allowed,
    Refused(ErrorCode),
}
use Expect::{Allowed, Refused};

const UNAUTH: Expect = Refused(ErrorCode::Unauthenticated);
const GUEST_REQUIRED: Expect = Refused(ErrorCode::GuestRequired);
const ADMIN_ONLY: Expect = Refused(ErrorCode::AdminOnly);
const STAFF_ONLY: Expect = Refused(ErrorCode::StaffOnly);
const NOT_YOURS: Expect = Refused(ErrorCode::NotYours);
const NOT_MEMBER: Expect = Refused(ErrorCode::NotMember);
const NOT_FOUND: Expect = Refused(ErrorCode::NotFound);

/// What a cell's arguments may refer to (fresh for every cell).
struct Scene {
    /// A waiting conversation (the guest caller's own).
    waiting: i64,
    /// A conversation assigned to `holder`, another agent.
    assigned: i64,
    /// Its guest's user id.
    assigned_guest: i64,
    /// The agent who has `assigned` (offline).
    holder: i64,
    /// An ordinary account, for role changes.
    target: i64,
}

type Args = fn(&Scene) -> Vec<(&'static str, String)>;

struct Row {
    endpoint: &'static str,
    args: Args,
    expect: [Expect; 5],
}

fn none(_: &Scene) -> Vec<(&'static str, String)> {
    Vec::new()
}

fn waiting(s: &Scene) -> Vec<(&'static str, String)> {
    vec![("room_id", s.waiting.to_string())]
}

fn assigned(s: &Scene) -> Vec<(&'static str, String)> {
    vec![("room_id", s.assigned.to_string())]
}

fn matrix() -> Vec<Row> {
    vec![
        Row {
            endpoint: "my_role",
            args: none,
            expect: [UNAUTH, UNAUTH, Allowed, Allowed, Allowed],
        },
        Row {
            endpoint: "admin_accounts",
            args: none,
            expect: [UNAUTH, UNAUTH, ADMIN_ONLY, ADMIN_ONLY, Allowed],
        },
        Row {
            endpoint: "admin_set_role",
            args: |s| vec![("user_id", s.target.to_string()), ("role", "agent".into())],
            expect: [UNAUTH, UNAUTH, ADMIN_ONLY, ADMIN_ONLY, Allowed],
        },
        Row {
            endpoint: "desk_overview",
            args: none,
            expect: [UNAUTH, UNAUTH, ADMIN_ONLY, ADMIN_ONLY, Allowed],
        },
        Row {
            endpoint: "desk_queue",
            args: none,
            expect: [UNAUTH, UNAUTH, STAFF_ONLY, Allowed, Allowed],
        },
        Row {
            endpoint: "desk_mine",
            args: none,
            expect: [UNAUTH, UNAUTH, STAFF_ONLY, Allowed, Allowed],
        },
        Row {
            endpoint: "desk_agents",
            args: none,
            expect: [UNAUTH, UNAUTH, STAFF_ONLY, Allowed, Allowed],
        },
        Row {
            endpoint: "desk_detail",
            args: waiting,
            expect: [UNAUTH, UNAUTH, STAFF_ONLY, Allowed, Allowed],
        },
        Row {
            endpoint: "desk_detail",
            args: assigned,
            expect: [UNAUTH, UNAUTH, STAFF_ONLY, NOT_YOURS, Allowed],
        },
        Row {
            endpoint: "desk_history",
            args: waiting,
            expect: [UNAUTH, UNAUTH, STAFF_ONLY, Allowed, Allowed],
        },
        Row {
            endpoint: "desk_history",
            args: assigned,
            expect: [UNAUTH, UNAUTH, STAFF_ONLY, NOT_YOURS, Allowed],
        },
        Row {
            endpoint: "desk_accept",
            args: waiting,
            expect: [UNAUTH, UNAUTH, STAFF_ONLY, Allowed, Allowed],
        },
        Row {
            endpoint: "desk_accept",
            args: assigned,
            expect: [
                UNAUTH,
                UNAUTH,
                STAFF_ONLY,
                Refused(ErrorCode::AlreadyAssigned),
                Refused(ErrorCode::AlreadyAssigned),
            ],
        },
        Row {
            endpoint: "desk_transfer",
            // To the agent who has it (offline): admins get as far as the
            // target check.
            args: |s| {
                vec![
                    ("room_id", s.assigned.to_string()),
                    ("agent_id", s.holder.to_string()),
                ]
            },
            expect: [
                UNAUTH,
                UNAUTH,
                STAFF_ONLY,
                NOT_YOURS,
                Refused(ErrorCode::AgentUnavailable),
            ],
        },
        Row {
            endpoint: "desk_close",
            args: assigned,
            expect: [UNAUTH, UNAUTH, STAFF_ONLY, NOT_YOURS, Allowed],
        },
        Row {
            endpoint: "desk_close",
            // A waiting conversation is nobody's to close but an admin's.
            args: waiting,
            expect: [UNAUTH, UNAUTH, STAFF_ONLY, NOT_YOURS, Allowed],
        },
        Row {
            endpoint: "support_state",
            args: none,
            expect: [
                GUEST_REQUIRED,
                Allowed,
                GUEST_REQUIRED,
                GUEST_REQUIRED,
                GUEST_REQUIRED,
            ],
        },
        Row {
            endpoint: "support_send",
            args: |_| vec![("client_id", "c-1".into()), ("text", "你好".into())],
            expect: [
                GUEST_REQUIRED,
                Allowed,
                GUEST_REQUIRED,
                GUEST_REQUIRED,
                GUEST_REQUIRED,
            ],
        },
        Row {
            endpoint: "support_history",
            args: none,
            expect: [
                GUEST_REQUIRED,
                Allowed,
                GUEST_REQUIRED,
                GUEST_REQUIRED,
                GUEST_REQUIRED,
            ],
        },
        Row {
            endpoint: "support_details",
            args: |_| {
                vec![
                    ("name", "王".into()),
                    ("contact", "wang@example.com".into()),
                ]
            },
            expect: [
                GUEST_REQUIRED,
                Allowed,
                GUEST_REQUIRED,
                GUEST_REQUIRED,
                GUEST_REQUIRED,
            ],
        },
        // A support conversation through the ordinary endpoints: only its
        // members (the guest through `support_*`, the agent who has it).
        Row {
            endpoint: "history",
            args: assigned,
            expect: [UNAUTH, UNAUTH, NOT_MEMBER, NOT_MEMBER, NOT_MEMBER],
        },
        Row {
            endpoint: "send_message",
            args: |s| {
                vec![
                    ("room_id", s.assigned.to_string()),
                    ("client_id", "c-2".into()),
                    ("text", "插话".into()),
                ]
            },
            expect: [UNAUTH, UNAUTH, NOT_MEMBER, NOT_MEMBER, NOT_MEMBER],
        },
        Row {
            endpoint: "room_detail",
            args: assigned,
            expect: [UNAUTH, UNAUTH, NOT_MEMBER, NOT_MEMBER, NOT_MEMBER],
        },
        // Issue 15's endpoints on someone else's support conversation.
        Row {
            endpoint: "mark_read",
            args: |s| vec![("room_id", s.assigned.to_string()), ("seq", "1".into())],
            expect: [UNAUTH, UNAUTH, NOT_MEMBER, NOT_MEMBER, NOT_MEMBER],
        },
        Row {
            endpoint: "recall_message",
            args: |s| vec![("room_id", s.assigned.to_string()), ("seq", "1".into())],
            expect: [UNAUTH, UNAUTH, NOT_MEMBER, NOT_MEMBER, NOT_MEMBER],
        },
        Row {
            endpoint: "search_messages",
            args: |s| {
                vec![
                    ("query", "你好".into()),
                    ("room_id", s.assigned.to_string()),
                ]
            },
            expect: [UNAUTH, UNAUTH, NOT_MEMBER, NOT_MEMBER, NOT_MEMBER],
        },
        Row {
            endpoint: "join_room",
            args: assigned,
            expect: [
                UNAUTH,
                UNAUTH,
                Refused(ErrorCode::SupportFixedMembers),
                Refused(ErrorCode::SupportFixedMembers),
                Refused(ErrorCode::SupportFixedMembers),
            ],
        },
        Row {
            endpoint: "my_rooms",
            args: none,
            expect: [UNAUTH, UNAUTH, Allowed, Allowed, Allowed],
        },
        Row {
            endpoint: "create_room",
            args: |_| {
                vec![
                    ("name", "访客的房间".into()),
                    ("description", String::new()),
                ]
            },
            expect: [UNAUTH, UNAUTH, Allowed, Allowed, Allowed],
        },
        // Guests are reached through the desk only.
        Row {
            endpoint: "open_direct",
            args: |s| vec![("user_id", s.assigned_guest.to_string())],
            expect: [UNAUTH, UNAUTH, NOT_FOUND, NOT_FOUND, NOT_FOUND],
        },
        Row {
            endpoint: "create_group",
            args: |s| {
                vec![
                    ("name", "拉访客进群".into()),
                    ("members", s.assigned_guest.to_string()),
                ]
            },
            expect: [UNAUTH, UNAUTH, NOT_FOUND, NOT_FOUND, NOT_FOUND],
        },
    ]
}

async fn answer(client: &Client, row: &Row, scene: &Scene) -> Result<(), (u16, Option<ErrorCode>)> {
    let args = (row.args)(scene);
    let form: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    match client.call(row.endpoint, &form).await {
        Ok(_) => Ok(()),
        Err((status, body)) => Err((
            status,
            serde_json::from_value::<ErrorCode>(body["code"].clone()).ok(),
        )),
    }
}

#[tokio::test]
async fn every_role_gets_what_the_matrix_says_from_every_endpoint() {
    // The holder collects a conversation per cell.
    let server = TestServer::start_with(|c| c.agent_max_open = 1000).await;
    let boss = admin(&server, "boss").await;
    let user = server.user("plain_user").await;
    // Agents without sockets: nothing is assigned behind the test's back.
    let agent_caller = agent(&server, &boss, "agent_caller").await;
    let holder = agent(&server, &boss, "holder").await;
    let target = server.user("target").await;
    let anonymous = Client::new(&server);
    let mut failures = Vec::new();
    for row in matrix() {
        for (caller, expect) in CALLERS.into_iter().zip(row.expect) {
            // A fresh scene per cell: some cells change it.
            let (guest_caller, waiting) = guest(&server).await;
            let (other_guest, assigned) = guest(&server).await;
            holder
                .call("desk_accept", &[("room_id", &assigned.to_string())])
                .await
                .expect("holder accepts");
            let scene = Scene {
                waiting,
                assigned,
                assigned_guest: other_guest.id,
                holder: holder.id,
                target: target.id,
            };
            let client = match caller {
                Caller::Anonymous => &anonymous,
                Caller::Guest => &guest_caller,
                Caller::User => &user,
                Caller::Agent => &agent_caller,
                Caller::Admin => &boss,
            };
            let got = answer(client, &row, &scene).await;
            let ok = match (expect, &got) {
                (Allowed, Ok(())) => true,
                (Refused(code), Err((status, Some(c)))) => {
                    *c == code && *status == code.http_status()
                }
                _ => false,
            };
            if !ok {
                failures.push(format!(
                    "{} {:?} as {caller:?}: expected {expect:?}, got {got:?}",
                    row.endpoint,
                    (row.args)(&scene)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    server.stop().await;
}

#[tokio::test]
async fn a_role_change_applies_at_once_to_an_open_session_and_socket() {
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let carol = server.user("carol").await;
    let mut socket = carol.connect().await;
    let refused = carol.call("desk_queue", &[]).await.unwrap_err();
    assert_eq!(refused.1["code"], "staff_only");

    set_role(&boss, carol.id, "agent").await;
    // The open socket is told, and is on the desk from now on.
    let frame = socket
        .until(|f| matches!(f, ServerFrame::RoleChanged { .. }))
        .await;
    assert_eq!(
        frame,
        ServerFrame::RoleChanged {
            role: UserRole::Agent
        }
    );
    // The same session may act as an agent, and being online she is given
    // the next guest, on that same socket.
    carol.call("desk_queue", &[]).await.unwrap();
    assert_eq!(carol.call("my_role", &[]).await.unwrap()["role"], "agent");
    let (g, room) = guest(&server).await;
    until_assigned(&mut socket, room, carol.id).await;
    socket
        .until(|f| matches!(f, ServerFrame::DeskChanged))
        .await;

    // Revoked: told at once, her conversation goes back to the queue, and
    // the very next call is refused.
    set_role(&boss, carol.id, "user").await;
    let frame = socket
        .until(|f| matches!(f, ServerFrame::RoleChanged { .. }))
        .await;
    assert_eq!(
        frame,
        ServerFrame::RoleChanged {
            role: UserRole::User
        }
    );
    let refused = carol.call("desk_mine", &[]).await.unwrap_err();
    assert_eq!(refused.1["code"], "staff_only");
    let s = g.call("support_state", &[]).await.unwrap();
    assert_eq!(s["conversation"]["status"], "waiting");
    // Her socket no longer carries the guest's conversation.
    g.call(
        "support_send",
        &[("client_id", "after"), ("text", "还有人吗")],
    )
    .await
    .unwrap();
    let frames = socket.frames_until_pong().await;
    assert!(
        !frames.iter().any(
            |f| matches!(f, ServerFrame::Event { event } if event.conversation_id.0 == room
                && matches!(event.body, EventBody::Message(_)))
        ),
        "{frames:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_last_admin_cannot_be_revoked_and_roles_are_checked() {
    let server = TestServer::start().await;
    let boss = admin(&server, "boss").await;
    let refused = boss
        .call(
            "admin_set_role",
            &[("user_id", &boss.id.to_string()), ("role", "user")],
        )
        .await
        .unwrap_err();
    assert_eq!(
        (refused.0, refused.1["code"].as_str()),
        (409, Some("last_admin"))
    );
    let dave = server.user("dave").await;
    let bad = boss
        .call(
            "admin_set_role",
            &[("user_id", &dave.id.to_string()), ("role", "guest")],
        )
        .await
        .unwrap_err();
    assert_eq!(bad.1["code"], "role_invalid");
    // A second admin may revoke the first.
    set_role(&boss, dave.id, "admin").await;
    set_role(&dave, boss.id, "user").await;
    let refused = boss.call("admin_accounts", &[]).await.unwrap_err();
    assert_eq!(refused.1["code"], "admin_only");
    let accounts = dave
        .call("admin_accounts", &[("query", "bo")])
        .await
        .unwrap();
    assert_eq!(accounts[0]["user"]["username"], "boss");
    assert_eq!(accounts[0]["role"], "user");
    server.stop().await;
}

#[tokio::test]
async fn a_guest_reaches_only_their_own_conversation() {
    let server = TestServer::start().await;
    let (g1, r1) = guest(&server).await;
    let (g2, r2) = guest(&server).await;
    let mut s1 = g1.connect().await;
    g2.call("support_send", &[("client_id", "g2"), ("text", "别人的话")])
        .await
        .unwrap();
    g1.call("support_send", &[("client_id", "g1"), ("text", "我的话")])
        .await
        .unwrap();
    let frames = s1.frames_until_pong().await;
    assert!(frames.iter().all(|f| match f {
        ServerFrame::Event { event } => event.conversation_id.0 == r1,
        _ => true,
    }));
    assert!(frames
        .iter()
        .any(|f| matches!(f, ServerFrame::Event { event } if event.conversation_id.0 == r1)));
    // No ordinary endpoint takes a guest, whatever the room.
    for room in [r1, r2] {
        let refused = g1
            .call("history", &[("room_id", &room.to_string())])
            .await
            .unwrap_err();
        assert_eq!(refused.1["code"], "unauthenticated");
    }
    server.stop().await;
}
