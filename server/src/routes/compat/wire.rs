//! Seed 000's JSON protocol on the wire: what its browser clients send
//! (`event` join / speak, `mode` 1 private / 2 group, `group_id`,
//! `to_user_id`, `content`) and the `{code, msg, data}` answers they log.
//!
//! Parsing is lenient where the seed's PHP was (`mode` and ids as numbers
//! or strings, unknown fields kept in echoes) and strict where it
//! validated. `from_user_id`, `from_username` and `from_avatar` are never
//! read: who speaks is the socket's user (see [`super`]); answers carry the
//! real values in those fields.

use serde_json::{json, Map, Value};
use teahouse_protocol::{ApiError, ConversationEvent, ErrorCode, Lang, MessageContent};

/// Private (1) or group (2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `mode: 1`: one-to-one, addressed by `to_user_id`.
    Private,
    /// `mode: 2`: a group, addressed by `group_id`.
    Group,
}

impl Mode {
    /// The seed's number for it.
    pub fn number(self) -> u8 {
        match self {
            Mode::Private => 1,
            Mode::Group => 2,
        }
    }
}

/// One client frame, checked.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// `join`: start receiving private messages (mode 1) or a group's
    /// (mode 2, `group` set).
    Join {
        /// Which kind of messages.
        mode: Mode,
        /// The group id (mode 2 only), unchecked beyond its shape.
        group: Option<String>,
        /// The object as sent, echoed in the answer.
        raw: Map<String, Value>,
    },
    /// `speak`: a message to `to_user` (mode 1) or `group` (mode 2).
    Speak {
        /// Private or group.
        mode: Mode,
        /// The group id (mode 2).
        group: Option<String>,
        /// The host system's id of the addressee (mode 1).
        to_user: Option<String>,
        /// The text, validated by the send path like any message.
        content: String,
    },
}

/// A refusal of a frame, before anything is done.
fn refused(code: ErrorCode, field: &str) -> ApiError {
    ApiError::field(code, field)
}

/// An id the seeds send as a number (`100`) or a string (`"10086"`).
fn id_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => n
            .as_i64()
            .map(|n| n.to_string())
            .or_else(|| n.as_u64().map(|n| n.to_string())),
        _ => None,
    }
}

/// Longest `to_user_id` accepted, in bytes (an external id).
pub const TO_USER_MAX: usize = 128;

/// Parses one text frame.
pub fn parse(text: &str) -> Result<Request, ApiError> {
    let Ok(Value::Object(raw)) = serde_json::from_str::<Value>(text) else {
        return Err(ApiError::new(ErrorCode::CompatJsonInvalid));
    };
    let event = match raw.get("event").and_then(Value::as_str).map(str::trim) {
        Some("join") => "join",
        Some("speak") => "speak",
        _ => return Err(refused(ErrorCode::CompatEventUnknown, "event")),
    };
    let mode = match id_text(raw.get("mode")).as_deref() {
        Some("1") => Mode::Private,
        Some("2") => Mode::Group,
        _ => return Err(refused(ErrorCode::CompatModeInvalid, "mode")),
    };
    let group = match mode {
        Mode::Group => Some(
            id_text(raw.get("group_id"))
                .filter(|g| !g.is_empty())
                .ok_or_else(|| refused(ErrorCode::CompatGroupInvalid, "group_id"))?,
        ),
        Mode::Private => None,
    };
    if event == "join" {
        return Ok(Request::Join { mode, group, raw });
    }
    let to_user = match mode {
        Mode::Private => Some(
            id_text(raw.get("to_user_id"))
                .filter(|t| !t.is_empty() && t.len() <= TO_USER_MAX)
                .ok_or_else(|| refused(ErrorCode::CompatToUserInvalid, "to_user_id"))?,
        ),
        Mode::Group => None,
    };
    let content = match raw.get("content") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(refused(ErrorCode::MessageEmpty, "content")),
    };
    Ok(Request::Speak {
        mode,
        group,
        to_user,
        content,
    })
}

/// The seeds' answer shape, serialized.
pub fn answer(code: u16, msg: &str, data: Value) -> String {
    json!({ "code": code, "msg": msg, "data": data }).to_string()
}

/// The seed protocol's name for one of our fields.
fn seed_field(field: &str) -> &str {
    match field {
        "text" => "content",
        "room_id" => "group_id",
        "user_id" => "to_user_id",
        other => other,
    }
}

/// A refusal as the seeds answer one: `code` the HTTP status of the error
/// (400 for malformed frames, as the seed's validator answered; 403, 404,
/// 429… for the rest), `msg` its zh-CN message (the seeds' language), and
/// in `data` the stable `error` code, the `field` and the English message.
pub fn refusal(err: &ApiError) -> String {
    let mut data = Map::new();
    data.insert("error".into(), err.code.as_str().into());
    if let Some(field) = &err.field {
        data.insert("field".into(), seed_field(field).into());
    }
    data.insert("message".into(), err.code.message(Lang::En).into());
    answer(
        err.code.http_status(),
        err.code.message(Lang::Zh),
        Value::Object(data),
    )
}

/// A group id back on the wire as the seeds had it: a number when it is
/// one (`100`), else the string.
pub fn group_value(key: &str) -> Value {
    key.parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(key))
}

/// The answer to a join: the object as sent, with the real sender in
/// `from_user_id` / `from_username` (what was sent there is ignored), and
/// the Teahouse room of a group.
pub fn joined(
    mut raw: Map<String, Value>,
    me_id: &str,
    me_name: &str,
    room_id: Option<i64>,
) -> String {
    raw.insert("from_user_id".into(), me_id.into());
    raw.insert("from_username".into(), me_name.into());
    if let Some(room) = room_id {
        raw.insert("room_id".into(), room.into());
    }
    answer(0, "success", Value::Object(raw))
}

/// Who a message is from and to, as the seeds name them.
#[derive(Clone, Debug)]
pub struct Parties<'a> {
    /// The host system's id of the sender (their Teahouse id when they
    /// have none).
    pub from_id: &'a str,
    /// The sender's nickname.
    pub from_name: &'a str,
    /// Mode 1: the addressee's id; mode 2: empty.
    pub to_id: &'a str,
    /// Mode 2: the group id.
    pub group: Option<&'a str>,
}

/// The text the seeds show for a message: its text, or a tag for media.
fn content_text(content: &MessageContent) -> String {
    match content {
        MessageContent::Text(t) | MessageContent::Notice(t) => t.clone(),
        MessageContent::Image(_) => "[图片]".into(),
        MessageContent::Voice(_) => "[语音]".into(),
        MessageContent::Video(_) => "[视频]".into(),
    }
}

/// A stored message in the seeds' shape: `msg` as their server wrote it
/// (`阿克苏[单聊对]10000[说]:你好`, `阿克苏[群聊说]:你好`), `data` the
/// seed's fields (real sender) plus where it is stored (`room_id`, `seq`,
/// `at_ms`) and its `msgtype`. `code` is 0; `msg_override` replaces `msg`
/// (the sender's own acknowledgement says `success`).
pub fn message(
    event: &ConversationEvent,
    content: &MessageContent,
    who: &Parties<'_>,
    msg_override: Option<&str>,
) -> String {
    let (mode, group) = match who.group {
        Some(g) => (Mode::Group, group_value(g)),
        None => (Mode::Private, Value::from(0)),
    };
    let text = content_text(content);
    let msg = match (msg_override, mode) {
        (Some(m), _) => m.to_owned(),
        (None, Mode::Private) => format!("{}[单聊对]{}[说]:{}", who.from_name, who.to_id, text),
        (None, Mode::Group) => format!("{}[群聊说]:{}", who.from_name, text),
    };
    let data = json!({
        "event": "speak",
        "mode": mode.number(),
        "group_id": group,
        "from_user_id": who.from_id,
        "from_username": who.from_name,
        "to_user_id": who.to_id,
        "content": text,
        "msgtype": content.msgtype().as_str(),
        "room_id": event.conversation_id,
        "seq": event.seq,
        "at_ms": event.at_ms,
    });
    answer(0, &msg, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(text: &str) -> (ErrorCode, Option<String>) {
        let e = parse(text).unwrap_err();
        (e.code, e.field)
    }

    #[test]
    fn the_seeds_own_frames_parse() {
        let join = r#"{"event":"join","mode":2,"group_id":100,"from_user_id":"10086",
            "from_username":"阿克苏","to_user_id":"10000","content":"加入会话"}"#;
        match parse(join).unwrap() {
            Request::Join { mode, group, raw } => {
                assert_eq!(mode, Mode::Group);
                assert_eq!(group.as_deref(), Some("100"));
                assert_eq!(raw["from_username"], "阿克苏");
            }
            other => panic!("{other:?}"),
        }
        let speak = r#"{"event":"speak","mode":1,"group_id":0,"from_user_id":"10086",
            "from_username":"阿克苏","to_user_id":"10000","content":"Hi, 我是阿克苏"}"#;
        assert_eq!(
            parse(speak).unwrap(),
            Request::Speak {
                mode: Mode::Private,
                group: None,
                to_user: Some("10000".into()),
                content: "Hi, 我是阿克苏".into(),
            }
        );
        // Strings for numbers, as PHP's `in:1,2` took them.
        let speak = r#"{"event":"speak","mode":"2","group_id":"100","content":"x"}"#;
        assert!(matches!(
            parse(speak).unwrap(),
            Request::Speak { mode: Mode::Group, group: Some(g), .. } if g == "100"
        ));
    }

    #[test]
    fn bad_frames_are_refused_with_the_field_at_fault() {
        use ErrorCode::*;
        let none = None::<String>;
        assert_eq!(code_of("not json"), (CompatJsonInvalid, none.clone()));
        assert_eq!(code_of("[1,2]"), (CompatJsonInvalid, none.clone()));
        assert_eq!(code_of("\"join\""), (CompatJsonInvalid, none));
        let f = |s: &str| Some(s.to_owned());
        assert_eq!(code_of(r#"{"mode":1}"#), (CompatEventUnknown, f("event")));
        assert_eq!(
            code_of(r#"{"event":"leave","mode":1}"#),
            (CompatEventUnknown, f("event"))
        );
        assert_eq!(
            code_of(r#"{"event":"join"}"#),
            (CompatModeInvalid, f("mode"))
        );
        assert_eq!(
            code_of(r#"{"event":"join","mode":3}"#),
            (CompatModeInvalid, f("mode"))
        );
        assert_eq!(
            code_of(r#"{"event":"join","mode":2}"#),
            (CompatGroupInvalid, f("group_id"))
        );
        assert_eq!(
            code_of(r#"{"event":"join","mode":2,"group_id":[100]}"#),
            (CompatGroupInvalid, f("group_id"))
        );
        assert_eq!(
            code_of(r#"{"event":"speak","mode":1,"content":"x"}"#),
            (CompatToUserInvalid, f("to_user_id"))
        );
        assert_eq!(
            code_of(r#"{"event":"speak","mode":1,"to_user_id":"","content":"x"}"#),
            (CompatToUserInvalid, f("to_user_id"))
        );
        assert_eq!(
            code_of(r#"{"event":"speak","mode":2,"group_id":100}"#),
            (MessageEmpty, f("content"))
        );
    }

    #[test]
    fn refusals_are_in_the_seeds_shape() {
        let v: Value = serde_json::from_str(&refusal(&ApiError::field(
            ErrorCode::MessageTooLong,
            "text",
        )))
        .unwrap();
        assert_eq!(v["code"], 422);
        assert_eq!(v["msg"], "消息太长了");
        assert_eq!(v["data"]["error"], "message_too_long");
        assert_eq!(v["data"]["field"], "content");
        let v: Value =
            serde_json::from_str(&refusal(&ApiError::new(ErrorCode::CompatJsonInvalid))).unwrap();
        assert_eq!(v["code"], 400);
        assert_eq!(v["data"]["error"], "compat_json_invalid");
    }

    #[test]
    fn a_join_answer_names_the_real_sender() {
        let Request::Join { raw, .. } = parse(
            r#"{"event":"join","mode":2,"group_id":100,"from_user_id":"1","from_username":"forged"}"#,
        )
        .unwrap() else {
            panic!("a join")
        };
        let v: Value = serde_json::from_str(&joined(raw, "42", "阿克苏", Some(7))).unwrap();
        assert_eq!(v["code"], 0);
        assert_eq!(v["msg"], "success");
        assert_eq!(v["data"]["from_user_id"], "42");
        assert_eq!(v["data"]["from_username"], "阿克苏");
        assert_eq!(v["data"]["group_id"], 100);
        assert_eq!(v["data"]["room_id"], 7);
    }
}
