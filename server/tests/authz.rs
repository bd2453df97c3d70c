//! One authorization matrix: every endpoint × every kind of caller, against
//! the real server. The table must name every registered server function
//! (and `/ws`): adding an endpoint without its rows fails
//! [`the_matrix_covers_every_endpoint`]. The server API (`/api/v1`) has a
//! second one, by kind of API key ([`v1`]), which must name every
//! operation of its OpenAPI document.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicI64, Ordering};

use common::{Client, TestServer};
use teahouse_protocol::ErrorCode;

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    /// No session at all.
    Anonymous,
    /// Signed in, not in the room.
    NonMember,
    /// Signed in and a member of the room.
    Member,
    /// The room's owner.
    Owner,
}

const CALLERS: [Caller; 4] = [
    Caller::Anonymous,
    Caller::NonMember,
    Caller::Member,
    Caller::Owner,
];

/// What the caller must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// A 2xx answer.
    Allowed,
    /// Refused with this code (and its status).
    Refused(ErrorCode),
}

use Expect::{Allowed, Refused};

/// One endpoint's row: its arguments (given the room under test) and the
/// answer for each caller, in [`CALLERS`] order.
struct Row {
    /// Server function name (`POST /api/<name>`), or `/ws`.
    endpoint: &'static str,
    /// Form arguments for a call about `room`.
    args: fn(room: i64) -> Vec<(&'static str, String)>,
    /// Expected answer per caller.
    expect: [Expect; 4],
}

fn none(_: i64) -> Vec<(&'static str, String)> {
    Vec::new()
}

fn room_arg(room: i64) -> Vec<(&'static str, String)> {
    vec![("room_id", room.to_string())]
}

const UNAUTH: Expect = Refused(ErrorCode::Unauthenticated);
const NOT_MEMBER: Expect = Refused(ErrorCode::NotMember);
const NOT_FOUND: Expect = Refused(ErrorCode::NotFound);
const NOT_GROUP: Expect = Refused(ErrorCode::NotGroup);
const ADMIN_ONLY: Expect = Refused(ErrorCode::AdminOnly);
const STAFF_ONLY: Expect = Refused(ErrorCode::StaffOnly);
const GUEST_REQUIRED: Expect = Refused(ErrorCode::GuestRequired);

/// The room owner's id as an argument.
fn owner_arg() -> String {
    OWNER_ID.load(Ordering::Relaxed).to_string()
}

fn room_and_owner(room: i64) -> Vec<(&'static str, String)> {
    vec![("room_id", room.to_string()), ("user_id", owner_arg())]
}

fn matrix() -> Vec<Row> {
    vec![
        Row {
            endpoint: "register",
            args: |_| {
                let name = format!("new{}", uuid_ish());
                vec![
                    ("username", name),
                    ("nickname", "新人".into()),
                    ("password", "tea-leaves-42".into()),
                ]
            },
            // Anyone may create an account (it signs the caller in as it).
            expect: [Allowed, Allowed, Allowed, Allowed],
        },
        Row {
            endpoint: "login",
            args: |_| {
                vec![
                    ("username", "nobody".into()),
                    ("password", "wrong-password-1".into()),
                ]
            },
            // Bad credentials are refused for everyone alike.
            expect: [Refused(ErrorCode::BadCredentials); 4],
        },
        Row {
            endpoint: "logout",
            args: none,
            expect: [Allowed, Allowed, Allowed, Allowed],
        },
        Row {
            endpoint: "me",
            args: none,
            // Anonymous callers get `null`, not an error.
            expect: [Allowed, Allowed, Allowed, Allowed],
        },
        Row {
            endpoint: "my_rooms",
            args: none,
            expect: [UNAUTH, Allowed, Allowed, Allowed],
        },
        Row {
            endpoint: "public_rooms",
            args: none,
            expect: [UNAUTH, Allowed, Allowed, Allowed],
        },
        Row {
            endpoint: "create_room",
            args: |_| vec![("name", "另一个".into()), ("description", String::new())],
            expect: [UNAUTH, Allowed, Allowed, Allowed],
        },
        Row {
            endpoint: "join_room",
            args: room_arg,
            expect: [
                UNAUTH,
                Allowed,
                Refused(ErrorCode::AlreadyMember),
                Refused(ErrorCode::AlreadyMember),
            ],
        },
        Row {
            endpoint: "leave_room",
            args: room_arg,
            expect: [
                UNAUTH,
                NOT_MEMBER,
                Allowed,
                Refused(ErrorCode::OwnerCannotLeave),
            ],
        },
        Row {
            endpoint: "room_detail",
            args: room_arg,
            expect: [UNAUTH, NOT_MEMBER, Allowed, Allowed],
        },
        Row {
            endpoint: "send_message",
            args: |room| {
                vec![
                    ("room_id", room.to_string()),
                    ("client_id", uuid_ish()),
                    ("text", "hello".into()),
                ]
            },
            expect: [UNAUTH, NOT_MEMBER, Allowed, Allowed],
        },
        Row {
            endpoint: "send_media",
            // An upload that is not the caller's (here: none at all) is
            // `not_found` for everyone signed in; sending one's own upload
            // to a room one is not in is `not_member` (see media.rs).
            args: |room| {
                vec![
                    ("room_id", room.to_string()),
                    ("client_id", uuid_ish()),
                    ("media_id", "abcdefghijklmnopqrstuvwxyz".into()),
                ]
            },
            expect: [UNAUTH, NOT_FOUND, NOT_FOUND, NOT_FOUND],
        },
        Row {
            endpoint: "mark_read",
            args: |room| vec![("room_id", room.to_string()), ("seq", "1".into())],
            expect: [UNAUTH, NOT_MEMBER, Allowed, Allowed],
        },
        Row {
            endpoint: "recall_message",
            // A seq with no event: members learn it is not there; others
            // learn nothing about the room.
            args: |room| vec![("room_id", room.to_string()), ("seq", "999999".into())],
            expect: [
                UNAUTH,
                NOT_MEMBER,
                Refused(ErrorCode::MessageNotFound),
                Refused(ErrorCode::MessageNotFound),
            ],
        },
        Row {
            endpoint: "search_messages",
            args: |room| vec![("query", "hello".into()), ("room_id", room.to_string())],
            expect: [UNAUTH, NOT_MEMBER, Allowed, Allowed],
        },
        Row {
            endpoint: "history",
            args: room_arg,
            expect: [UNAUTH, NOT_MEMBER, Allowed, Allowed],
        },
        Row {
            endpoint: "open_direct",
            // A private chat with the room's owner (everyone shares the
            // lobby with them); the owner is asking for one with themself.
            args: |_| vec![("user_id", OWNER_ID.load(Ordering::Relaxed).to_string())],
            expect: [UNAUTH, Allowed, Allowed, Refused(ErrorCode::DirectWithSelf)],
        },
        Row {
            endpoint: "search_contacts",
            args: none,
            expect: [UNAUTH, Allowed, Allowed, Allowed],
        },
        Row {
            endpoint: "change_nickname",
            args: |_| vec![("nickname", "新名字".into())],
            // Anyone signed in may rename themself (only themself: no
            // argument names a user).
            expect: [UNAUTH, Allowed, Allowed, Allowed],
        },
        Row {
            endpoint: "remove_avatar",
            args: none,
            // Only one's own (no argument names a user); with none set it
            // changes nothing. Uploads and fetches: tests/avatar.rs.
            expect: [UNAUTH, Allowed, Allowed, Allowed],
        },
        Row {
            endpoint: "change_password",
            // The wrong current password: signed-in callers get as far as
            // the check, and nothing changes.
            args: |_| {
                vec![
                    ("current_password", "not-the-password".into()),
                    ("new_password", "oolong-and-pu-erh".into()),
                ]
            },
            expect: [
                UNAUTH,
                Refused(ErrorCode::WrongPassword),
                Refused(ErrorCode::WrongPassword),
                Refused(ErrorCode::WrongPassword),
            ],
        },
        // Issue 16: roles, groups and the support desk. Every caller here
        // is an ordinary user; the role-by-role table is tests/roles.rs.
        Row {
            endpoint: "my_role",
            args: none,
            expect: [UNAUTH, Allowed, Allowed, Allowed],
        },
        Row {
            endpoint: "admin_accounts",
            args: none,
            expect: [UNAUTH, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY],
        },
        Row {
            endpoint: "admin_set_role",
            args: |_| vec![("user_id", owner_arg()), ("role", "agent".into())],
            expect: [UNAUTH, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY],
        },
        // Issue 17: the server API's keys (admins only; the API itself is
        // the second matrix below).
        Row {
            endpoint: "admin_api_keys",
            args: none,
            expect: [UNAUTH, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY],
        },
        Row {
            endpoint: "admin_create_api_key",
            args: |_| vec![("name", "key".into()), ("scope", "full".into())],
            expect: [UNAUTH, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY],
        },
        Row {
            endpoint: "admin_revoke_api_key",
            args: |_| vec![("id", "1".into())],
            expect: [UNAUTH, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY],
        },
        Row {
            endpoint: "create_group",
            // Picking the owner, whom everyone shares the lobby with; the
            // owner picking only themself has picked nobody.
            args: |_| vec![("name", "小组".into()), ("members", owner_arg())],
            expect: [
                UNAUTH,
                Allowed,
                Allowed,
                Refused(ErrorCode::GroupMembersInvalid),
            ],
        },
        Row {
            endpoint: "group_add_members",
            args: |room| vec![("room_id", room.to_string()), ("members", owner_arg())],
            expect: [
                UNAUTH,
                NOT_GROUP,
                NOT_GROUP,
                Refused(ErrorCode::GroupMembersInvalid),
            ],
        },
        Row {
            endpoint: "group_detail",
            args: room_arg,
            expect: [UNAUTH, NOT_MEMBER, NOT_GROUP, NOT_GROUP],
        },
        Row {
            endpoint: "group_rename",
            args: |room| vec![("room_id", room.to_string()), ("name", "新名".into())],
            expect: [UNAUTH, NOT_GROUP, NOT_GROUP, NOT_GROUP],
        },
        Row {
            endpoint: "group_announce",
            args: |room| vec![("room_id", room.to_string()), ("text", "公告".into())],
            expect: [UNAUTH, NOT_GROUP, NOT_GROUP, NOT_GROUP],
        },
        Row {
            endpoint: "group_invite_policy",
            args: |room| vec![("room_id", room.to_string()), ("owner_only", "true".into())],
            expect: [UNAUTH, NOT_GROUP, NOT_GROUP, NOT_GROUP],
        },
        Row {
            endpoint: "group_remove_member",
            args: room_and_owner,
            expect: [UNAUTH, NOT_GROUP, NOT_GROUP, NOT_GROUP],
        },
        Row {
            endpoint: "group_ban",
            args: room_and_owner,
            expect: [UNAUTH, NOT_GROUP, NOT_GROUP, NOT_GROUP],
        },
        Row {
            endpoint: "group_mute",
            args: |room| {
                vec![
                    ("room_id", room.to_string()),
                    ("user_id", owner_arg()),
                    ("minutes", "10".into()),
                ]
            },
            expect: [UNAUTH, NOT_GROUP, NOT_GROUP, NOT_GROUP],
        },
        Row {
            endpoint: "group_transfer",
            args: room_and_owner,
            expect: [UNAUTH, NOT_GROUP, NOT_GROUP, NOT_GROUP],
        },
        Row {
            endpoint: "group_delete_message",
            args: |room| vec![("room_id", room.to_string()), ("seq", "1".into())],
            expect: [UNAUTH, NOT_GROUP, NOT_GROUP, NOT_GROUP],
        },
        Row {
            endpoint: "support_start",
            // Anyone may open the desk as a guest (no account needed).
            args: none,
            expect: [Allowed, Allowed, Allowed, Allowed],
        },
        Row {
            endpoint: "support_state",
            args: none,
            expect: [GUEST_REQUIRED; 4],
        },
        Row {
            endpoint: "support_details",
            args: |_| vec![("name", "王".into()), ("contact", String::new())],
            expect: [GUEST_REQUIRED; 4],
        },
        Row {
            endpoint: "support_send",
            args: |_| vec![("client_id", uuid_ish()), ("text", "你好".into())],
            expect: [GUEST_REQUIRED; 4],
        },
        Row {
            endpoint: "support_send_media",
            args: |_| {
                vec![
                    ("client_id", uuid_ish()),
                    ("media_id", "abcdefghijklmnopqrstuvwxyz".into()),
                ]
            },
            expect: [GUEST_REQUIRED; 4],
        },
        Row {
            endpoint: "support_history",
            args: none,
            expect: [GUEST_REQUIRED; 4],
        },
        Row {
            endpoint: "desk_queue",
            args: none,
            expect: [UNAUTH, STAFF_ONLY, STAFF_ONLY, STAFF_ONLY],
        },
        Row {
            endpoint: "desk_mine",
            args: none,
            expect: [UNAUTH, STAFF_ONLY, STAFF_ONLY, STAFF_ONLY],
        },
        Row {
            endpoint: "desk_detail",
            args: room_arg,
            expect: [UNAUTH, STAFF_ONLY, STAFF_ONLY, STAFF_ONLY],
        },
        Row {
            endpoint: "desk_history",
            args: room_arg,
            expect: [UNAUTH, STAFF_ONLY, STAFF_ONLY, STAFF_ONLY],
        },
        Row {
            endpoint: "desk_accept",
            args: room_arg,
            expect: [UNAUTH, STAFF_ONLY, STAFF_ONLY, STAFF_ONLY],
        },
        Row {
            endpoint: "desk_transfer",
            args: |room| vec![("room_id", room.to_string()), ("agent_id", owner_arg())],
            expect: [UNAUTH, STAFF_ONLY, STAFF_ONLY, STAFF_ONLY],
        },
        Row {
            endpoint: "desk_close",
            args: room_arg,
            expect: [UNAUTH, STAFF_ONLY, STAFF_ONLY, STAFF_ONLY],
        },
        Row {
            endpoint: "desk_agents",
            args: none,
            expect: [UNAUTH, STAFF_ONLY, STAFF_ONLY, STAFF_ONLY],
        },
        Row {
            endpoint: "desk_overview",
            args: none,
            expect: [UNAUTH, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY],
        },
        // Issue 17: webhooks (admins only; tests/webhooks.rs has the rest).
        Row {
            endpoint: "admin_webhooks",
            args: none,
            expect: [UNAUTH, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY],
        },
        Row {
            endpoint: "admin_create_webhook",
            args: |_| {
                vec![
                    ("url", "https://bot.example.com/hook".into()),
                    ("events", "message.stored".into()),
                ]
            },
            expect: [UNAUTH, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY],
        },
        Row {
            endpoint: "admin_webhook_deliveries",
            args: |_| vec![("webhook_id", "1".into())],
            expect: [UNAUTH, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY],
        },
        Row {
            endpoint: "admin_set_webhook_enabled",
            args: |_| vec![("webhook_id", "1".into()), ("enabled", "false".into())],
            expect: [UNAUTH, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY],
        },
        Row {
            endpoint: "admin_delete_webhook",
            args: |_| vec![("webhook_id", "1".into())],
            expect: [UNAUTH, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY],
        },
        Row {
            endpoint: "/ws",
            args: none,
            // Sockets of non-members open, but never carry the room: see
            // realtime.rs (`…reaches_the_others_socket_but_no_outsider`).
            expect: [UNAUTH, Allowed, Allowed, Allowed],
        },
    ]
}

/// The owner's user id, for rows about a user (set when the test starts).
static OWNER_ID: AtomicI64 = AtomicI64::new(0);

/// A unique-enough suffix for names and client ids.
fn uuid_ish() -> String {
    use std::sync::atomic::AtomicU64;
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "{}x{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Rows after which the caller's session is no longer what it was
/// (signed out, signed in as someone else, or holding a support-desk
/// guest): they get a fresh session.
fn changes_the_session(endpoint: &str) -> bool {
    matches!(endpoint, "register" | "logout" | "support_start")
}

/// A fresh session for `caller`.
async fn sign_in(server: &TestServer, caller: Caller, ids: &[i64; 3]) -> Client {
    let (name, id) = match caller {
        Caller::Anonymous => return Client::new(server),
        Caller::NonMember => ("outsider", ids[0]),
        Caller::Member => ("member", ids[1]),
        Caller::Owner => ("owner", ids[2]),
    };
    server.login(name, id).await
}

/// Calls `row` as `client` about `room`: Ok(()) on 2xx, else the code.
async fn answer(client: &Client, row: &Row, room: i64) -> Result<(), (u16, Option<ErrorCode>)> {
    if row.endpoint == "/ws" {
        return match client.cookie() {
            Some(cookie) => match client.socket(Some(&cookie)).await {
                Ok(_) => Ok(()),
                Err(e) => Err((0, Some(ws_code(e)))),
            },
            None => match client.socket(None).await {
                Ok(_) => Ok(()),
                Err(e) => Err((0, Some(ws_code(e)))),
            },
        };
    }
    let args = (row.args)(room);
    let form: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    match client.call(row.endpoint, &form).await {
        Ok(_) => Ok(()),
        Err((status, body)) => {
            let code = serde_json::from_value::<ErrorCode>(body["code"].clone()).ok();
            Err((status, code))
        }
    }
}

fn ws_code(e: tokio_tungstenite::tungstenite::Error) -> ErrorCode {
    match e {
        tokio_tungstenite::tungstenite::Error::Http(res) if res.status().as_u16() == 401 => {
            ErrorCode::Unauthenticated
        }
        other => panic!("unexpected WebSocket failure {other:?}"),
    }
}

#[tokio::test]
async fn every_endpoint_answers_every_kind_of_caller_as_the_matrix_says() {
    let server = TestServer::start().await;
    let outsider = server.user("outsider").await;
    let member = server.user("member").await;
    let owner = server.user("owner").await;
    let ids = [outsider.id, member.id, owner.id];
    OWNER_ID.store(owner.id, Ordering::Relaxed);
    let anonymous = Client::new(&server);
    let mut failures = Vec::new();
    for row in matrix() {
        for (caller, expect) in CALLERS.into_iter().zip(row.expect) {
            // A fresh room per cell: the owner's, with `member` in it.
            let room = owner.create_room(&format!("r{}", uuid_ish())).await;
            member.join(room).await;
            let fresh;
            let client = if changes_the_session(row.endpoint) {
                fresh = sign_in(&server, caller, &ids).await;
                &fresh
            } else {
                match caller {
                    Caller::Anonymous => &anonymous,
                    Caller::NonMember => &outsider,
                    Caller::Member => &member,
                    Caller::Owner => &owner,
                }
            };
            let got = answer(client, &row, room).await;
            let ok = match (expect, &got) {
                (Allowed, Ok(())) => true,
                (Refused(code), Err((status, Some(got_code)))) => {
                    *got_code == code && (*status == 0 || *status == code.http_status())
                }
                _ => false,
            };
            if !ok {
                failures.push(format!(
                    "{} as {caller:?}: expected {expect:?}, got {got:?}",
                    row.endpoint
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    server.stop().await;
}

#[tokio::test]
async fn the_matrix_covers_every_endpoint() {
    // Building the server registers every server function.
    let server = TestServer::start().await;
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_owned())
        .chain(["/ws".to_owned()])
        .collect();
    let covered: BTreeSet<String> = matrix().iter().map(|r| r.endpoint.to_owned()).collect();
    assert_eq!(
        registered, covered,
        "every endpoint needs its row in the authorization matrix"
    );
    server.stop().await;
}

/// The server API's matrix: every `/api/v1` operation × every kind of key.
mod v1 {
    use std::collections::BTreeSet;

    use serde_json::{json, Value};

    use super::common::access::admin;
    use super::common::api::{make_key, Api};
    use super::common::TestServer;
    use super::uuid_ish;

    /// Who calls.
    #[derive(Clone, Copy, Debug)]
    enum Key {
        /// No `Authorization` header.
        None,
        /// A secret the server never issued.
        Wrong,
        /// A full key an admin revoked.
        Revoked,
        /// A read-only key.
        ReadOnly,
        /// A full key limited to another room.
        OtherRoom,
        /// A full key limited to the room under test.
        ThisRoom,
        /// A full key for everything.
        Full,
    }

    const KEYS: [Key; 7] = [
        Key::None,
        Key::Wrong,
        Key::Revoked,
        Key::ReadOnly,
        Key::OtherRoom,
        Key::ThisRoom,
        Key::Full,
    ];

    const OK: Option<&str> = None;
    const MISSING: Option<&str> = Some("api_key_missing");
    const INVALID: Option<&str> = Some("api_key_invalid");
    const REVOKED: Option<&str> = Some("api_key_revoked");
    const READ_ONLY: Option<&str> = Some("api_key_read_only");
    const DENIED: Option<&str> = Some("api_key_room_denied");

    /// One operation: method, path (`{room}` is the room under test, the
    /// host user is `h1`), whether it takes a message body, and the answer
    /// per key in [`KEYS`] order (None: 2xx).
    struct Row {
        method: &'static str,
        path: &'static str,
        message: bool,
        expect: [Option<&'static str>; 7],
    }

    fn rows() -> Vec<Row> {
        let auth = [MISSING, INVALID, REVOKED];
        let row = |method, path, message, rest: [Option<&'static str>; 4]| Row {
            method,
            path,
            message,
            expect: [
                auth[0], auth[1], auth[2], rest[0], rest[1], rest[2], rest[3],
            ],
        };
        vec![
            row(
                "GET",
                "/api/v1/users/{external_id}",
                false,
                [OK, OK, OK, OK],
            ),
            // A key limited to rooms may still manage users (to add them
            // to its rooms).
            row(
                "PUT",
                "/api/v1/users/{external_id}",
                false,
                [READ_ONLY, OK, OK, OK],
            ),
            row(
                "GET",
                "/api/v1/users/{external_id}/online",
                false,
                [OK, OK, OK, OK],
            ),
            row(
                "POST",
                "/api/v1/users/{external_id}/messages",
                true,
                [READ_ONLY, DENIED, DENIED, OK],
            ),
            row(
                "DELETE",
                "/api/v1/users/{external_id}/connections",
                false,
                [READ_ONLY, DENIED, DENIED, OK],
            ),
            row(
                "POST",
                "/api/v1/users/{external_id}/handoff",
                false,
                [READ_ONLY, DENIED, DENIED, OK],
            ),
            row(
                "GET",
                "/api/v1/rooms/{room_id}/online",
                false,
                [OK, DENIED, OK, OK],
            ),
            row(
                "POST",
                "/api/v1/rooms/{room_id}/messages",
                true,
                [READ_ONLY, DENIED, OK, OK],
            ),
            row(
                "PUT",
                "/api/v1/rooms/{room_id}/members/{external_id}",
                false,
                [READ_ONLY, DENIED, OK, OK],
            ),
            row(
                "DELETE",
                "/api/v1/rooms/{room_id}/members/{external_id}",
                false,
                [READ_ONLY, DENIED, OK, OK],
            ),
            row("GET", "/api/v1/online", false, [OK, DENIED, DENIED, OK]),
            row(
                "POST",
                "/api/v1/broadcast",
                true,
                [READ_ONLY, DENIED, DENIED, OK],
            ),
        ]
    }

    #[tokio::test]
    async fn every_api_operation_answers_every_kind_of_key_as_the_matrix_says() {
        let server = TestServer::start().await;
        let boss = admin(&server, "boss").await;
        let room = boss.create_room("被测房间").await;
        let other = boss.create_room("另一间").await;
        let full = make_key(&boss, "full", "full", "").await;
        let revoked = make_key(&boss, "old", "full", "").await;
        boss.call("admin_revoke_api_key", &[("id", &revoked.id.to_string())])
            .await
            .unwrap();
        let secrets = [
            None,
            Some(format!("thk_{}", "f".repeat(64))),
            Some(revoked.secret),
            Some(make_key(&boss, "ro", "read_only", "").await.secret),
            Some(
                make_key(&boss, "other", "full", &other.to_string())
                    .await
                    .secret,
            ),
            Some(
                make_key(&boss, "this", "full", &room.to_string())
                    .await
                    .secret,
            ),
            Some(full.secret.clone()),
        ];
        let admin_api = Api::new(&server, Some(&full.secret));
        let mut failures = Vec::new();
        for row in rows() {
            for (key, (secret, expect)) in KEYS.iter().zip(secrets.iter().zip(row.expect)) {
                // The host user exists and is in the room before every call.
                admin_api.upsert("h1", "主机用户").await;
                admin_api
                    .call("PUT", &format!("/api/v1/rooms/{room}/members/h1"), None)
                    .await;
                let path = row
                    .path
                    .replace("{room_id}", &room.to_string())
                    .replace("{external_id}", "h1");
                let body = if row.message {
                    Some(json!({"client_id": uuid_ish(), "text": "矩阵"}))
                } else if row.method == "PUT"
                    && row.path.ends_with("{external_id}")
                    && !row.path.contains("members")
                {
                    Some(json!({"nickname": "主机用户"}))
                } else {
                    None
                };
                let api = Api::new(&server, secret.as_deref());
                let (status, answer): (u16, Value) = api.call(row.method, &path, body).await;
                let got = if (200..300).contains(&status) {
                    None
                } else {
                    answer["code"].as_str().map(str::to_owned)
                };
                if got.as_deref() != expect {
                    failures.push(format!(
                        "{} {} with {key:?}: expected {expect:?}, got {status} {got:?}",
                        row.method, row.path
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        server.stop().await;
    }

    #[tokio::test]
    async fn the_api_matrix_covers_every_documented_operation() {
        let server = TestServer::start().await;
        let doc: Value = reqwest::get(server.url("/api/v1/openapi.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let documented: BTreeSet<String> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, ops)| {
                ops.as_object()
                    .unwrap()
                    .keys()
                    .map(move |m| format!("{} {path}", m.to_uppercase()))
            })
            .collect();
        let covered: BTreeSet<String> = rows()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        assert_eq!(documented, covered, "every API operation needs its row");
        server.stop().await;
    }
}
