//! Stable error codes with human messages in zh-CN and English.
//!
//! Every failure a client can see is one [`ErrorCode`]: its snake_case name is
//! the stable machine-readable part, [`ErrorCode::message`] the human part.
//! [`ApiError`] adds the input field the error belongs to, so forms can show
//! it next to that field.

use serde::{Deserialize, Serialize};

/// UI language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Picks a language from an `Accept-Language`-style tag or a stored choice.
    pub fn from_tag(tag: &str) -> Lang {
        if tag.trim().to_ascii_lowercase().starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }

    /// The BCP 47 tag for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// Every error a client can be told about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No valid session: log in first.
    Unauthenticated,
    /// Logged in, but not allowed (e.g. not a member of the room).
    Forbidden,
    /// The room (or user) does not exist.
    NotFound,
    /// Username or password wrong (deliberately not saying which).
    BadCredentials,
    UsernameTaken,
    UsernameInvalid,
    NicknameInvalid,
    PasswordTooShort,
    PasswordTooLong,
    PasswordTooWeak,
    RoomNameInvalid,
    RoomDescriptionTooLong,
    MessageEmpty,
    MessageTooLong,
    ClientIdInvalid,
    /// The room search query is longer than any room name.
    QueryTooLong,
    /// Asked to join a room you are in / leave a room you are not in.
    AlreadyMember,
    NotMember,
    /// The owner cannot leave their own room.
    OwnerCannotLeave,
    /// A private chat was asked for with someone you share no room (or
    /// private chat) with: the anti-spam rule of private chats.
    NoSharedRoom,
    /// A private chat with yourself was asked for (refused: there is no
    /// "file transfer" conversation).
    DirectWithSelf,
    /// Joining or leaving was asked of a private chat: its two participants
    /// are fixed.
    DirectFixedMembers,
    /// Too many requests; slow down.
    RateLimited,
    /// The request itself was malformed.
    BadRequest,
    /// A state-changing request came from a page of another origin (CSRF
    /// protection; see the server's `security::origin`).
    CrossOrigin,
    /// A password change gave the wrong current password.
    WrongPassword,
    /// An upload's bytes are not a type accepted for its kind (SVG, HTML,
    /// a PDF renamed `.jpg`, …): decided by the bytes, never the name.
    MediaTypeUnsupported,
    /// An upload with no bytes.
    MediaEmpty,
    /// An upload of an accepted type that does not decode (truncated or
    /// damaged).
    MediaUndecodable,
    /// An upload larger than its kind's limit.
    MediaTooLarge,
    /// A voice clip or video longer than its kind's limit.
    MediaTooLong,
    /// A picture whose header claims more pixels than the server decodes
    /// (a decompression bomb).
    MediaDimensionsTooLarge,
    /// The upload stopped before its end; nothing was kept.
    UploadAborted,
    /// That upload is already in a message (send it again with the same
    /// `client_id` to get that message).
    MediaAlreadySent,
    /// Something failed on the server; nothing was stored.
    Internal,
    /// The server could not be reached (reported by clients, never sent).
    Network,
    /// No message at that seq in that conversation (or it is not a message).
    MessageNotFound,
    /// Your own message is older than the recall window.
    RecallTooLate,
    /// Someone else's message, and you do not own the room.
    RecallNotYours,
    /// That message was recalled already.
    AlreadyRecalled,
    /// A reply quotes something that is not a message of this conversation.
    ReplyNotFound,
    /// A mention names someone who is not a member of the conversation.
    MentionNotMember,
    /// More mentions than one message may carry.
    TooManyMentions,
    /// A search for nothing (blank text).
    SearchQueryEmpty,
    /// Only an admin may do this.
    AdminOnly,
    /// Only a support agent or an admin may do this.
    StaffOnly,
    /// The role is not one of user, agent, admin.
    RoleInvalid,
    /// Revoking the last admin would leave nobody to grant roles.
    LastAdmin,
    /// A group operation was asked of a conversation that is not a private group.
    NotGroup,
    /// Only the group's owner may do this.
    OwnerOnly,
    /// The sender is muted in this group until their mute ends.
    Muted,
    /// The person was banned from this group by its owner.
    Banned,
    /// A mute of an impossible length (0 lifts a mute).
    MuteDurationInvalid,
    /// The owner tried to remove, mute, ban or hand the group to themself.
    CannotModerateSelf,
    /// The people picked for a group are missing, malformed or too many.
    GroupMembersInvalid,
    /// A group announcement longer than allowed.
    AnnouncementTooLong,
    /// A guest operation without a guest session (open /support first).
    GuestRequired,
    /// A guest's name or contact is too long.
    GuestDetailsInvalid,
    /// The conversation was assigned to someone else first.
    AlreadyAssigned,
    /// The agent already has the maximum number of open conversations.
    AgentAtCapacity,
    /// A transfer to someone who is not an online agent.
    AgentUnavailable,
    /// Closing a closed conversation, transferring a waiting one, …
    SupportNotOpen,
    /// An agent acted on a support conversation assigned to someone else.
    NotYours,
    /// Joining or leaving was asked of a support conversation: the desk
    /// decides who is in it.
    SupportFixedMembers,
    /// A webhook URL that is not an absolute http(s) URL with a host (and
    /// no user name or password in it), or is too long.
    WebhookUrlInvalid,
    /// A webhook's event types are empty or name an unknown type.
    WebhookEventsInvalid,
    /// As many webhooks as allowed are registered already.
    WebhookLimit,
    /// A server API call without `Authorization: Bearer <key>` (cookies are
    /// never accepted there).
    ApiKeyMissing,
    /// An API key that is not one the server issued.
    ApiKeyInvalid,
    /// An API key an admin revoked.
    ApiKeyRevoked,
    /// A read-only API key asked to change something.
    ApiKeyReadOnly,
    /// An API key limited to some rooms asked about another (or about
    /// everyone).
    ApiKeyRoomDenied,
    /// An API key's name is empty or too long.
    ApiKeyNameInvalid,
    /// An API key's scope is not `read_only` or `full`, or its room list
    /// is malformed.
    ApiKeyScopeInvalid,
    /// A host system's user id (`external_id`) that is empty, too long or
    /// has characters outside the allowed set.
    ExternalIdInvalid,
    /// An avatar URL that is not an `https://` URL of a sensible length.
    AvatarUrlInvalid,
    /// A sign-in hand-off token that is unknown, used already, expired or
    /// for another user.
    HandoffInvalid,
    /// A hand-off's `next` that is not a path on this site (an open
    /// redirect attempt).
    HandoffNextInvalid,
    /// A frame on the seed-protocol socket (`/compat/ws`) that is not one
    /// JSON object.
    CompatJsonInvalid,
    /// A seed-protocol `event` other than `join` and `speak`.
    CompatEventUnknown,
    /// A seed-protocol `mode` other than 1 (private) and 2 (group).
    CompatModeInvalid,
    /// A seed-protocol `group_id` missing, malformed, or 0 in group mode.
    CompatGroupInvalid,
    /// A private seed-protocol message without a usable `to_user_id`.
    CompatToUserInvalid,
    /// This server is draining (shutting down for a restart or a move) and
    /// opens no new sockets: connect again, to another node.
    ServerDraining,
    /// `GET /metrics` without the bearer token `--metrics-token` asks for.
    MetricsTokenInvalid,
}

impl ErrorCode {
    /// The stable snake_case name (same as the serialized form).
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            Unauthenticated => "unauthenticated",
            Forbidden => "forbidden",
            NotFound => "not_found",
            BadCredentials => "bad_credentials",
            UsernameTaken => "username_taken",
            UsernameInvalid => "username_invalid",
            NicknameInvalid => "nickname_invalid",
            PasswordTooShort => "password_too_short",
            PasswordTooLong => "password_too_long",
            PasswordTooWeak => "password_too_weak",
            RoomNameInvalid => "room_name_invalid",
            RoomDescriptionTooLong => "room_description_too_long",
            MessageEmpty => "message_empty",
            MessageTooLong => "message_too_long",
            ClientIdInvalid => "client_id_invalid",
            QueryTooLong => "query_too_long",
            AlreadyMember => "already_member",
            NotMember => "not_member",
            OwnerCannotLeave => "owner_cannot_leave",
            NoSharedRoom => "no_shared_room",
            DirectWithSelf => "direct_with_self",
            DirectFixedMembers => "direct_fixed_members",
            RateLimited => "rate_limited",
            BadRequest => "bad_request",
            CrossOrigin => "cross_origin",
            WrongPassword => "wrong_password",
            MediaTypeUnsupported => "media_type_unsupported",
            MediaEmpty => "media_empty",
            MediaUndecodable => "media_undecodable",
            MediaTooLarge => "media_too_large",
            MediaTooLong => "media_too_long",
            MediaDimensionsTooLarge => "media_dimensions_too_large",
            UploadAborted => "upload_aborted",
            MediaAlreadySent => "media_already_sent",
            Internal => "internal",
            Network => "network",
            MessageNotFound => "message_not_found",
            RecallTooLate => "recall_too_late",
            RecallNotYours => "recall_not_yours",
            AlreadyRecalled => "already_recalled",
            ReplyNotFound => "reply_not_found",
            MentionNotMember => "mention_not_member",
            TooManyMentions => "too_many_mentions",
            SearchQueryEmpty => "search_query_empty",
            AdminOnly => "admin_only",
            StaffOnly => "staff_only",
            RoleInvalid => "role_invalid",
            LastAdmin => "last_admin",
            NotGroup => "not_group",
            OwnerOnly => "owner_only",
            Muted => "muted",
            Banned => "banned",
            MuteDurationInvalid => "mute_duration_invalid",
            CannotModerateSelf => "cannot_moderate_self",
            GroupMembersInvalid => "group_members_invalid",
            AnnouncementTooLong => "announcement_too_long",
            GuestRequired => "guest_required",
            GuestDetailsInvalid => "guest_details_invalid",
            AlreadyAssigned => "already_assigned",
            AgentAtCapacity => "agent_at_capacity",
            AgentUnavailable => "agent_unavailable",
            SupportNotOpen => "support_not_open",
            NotYours => "not_yours",
            SupportFixedMembers => "support_fixed_members",
            WebhookUrlInvalid => "webhook_url_invalid",
            WebhookEventsInvalid => "webhook_events_invalid",
            WebhookLimit => "webhook_limit",
            ApiKeyMissing => "api_key_missing",
            ApiKeyInvalid => "api_key_invalid",
            ApiKeyRevoked => "api_key_revoked",
            ApiKeyReadOnly => "api_key_read_only",
            ApiKeyRoomDenied => "api_key_room_denied",
            ApiKeyNameInvalid => "api_key_name_invalid",
            ApiKeyScopeInvalid => "api_key_scope_invalid",
            ExternalIdInvalid => "external_id_invalid",
            AvatarUrlInvalid => "avatar_url_invalid",
            HandoffInvalid => "handoff_invalid",
            HandoffNextInvalid => "handoff_next_invalid",
            CompatJsonInvalid => "compat_json_invalid",
            CompatEventUnknown => "compat_event_unknown",
            CompatModeInvalid => "compat_mode_invalid",
            CompatGroupInvalid => "compat_group_invalid",
            CompatToUserInvalid => "compat_to_user_invalid",
            ServerDraining => "server_draining",
            MetricsTokenInvalid => "metrics_token_invalid",
        }
    }

    /// The HTTP status this error maps to.
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            Unauthenticated | BadCredentials => 401,
            Forbidden | NotMember | CrossOrigin | WrongPassword | NoSharedRoom | RecallNotYours
            | RecallTooLate | AdminOnly | StaffOnly | OwnerOnly | Muted | Banned | NotYours => 403,
            GuestRequired => 401,
            ApiKeyMissing | ApiKeyInvalid | ApiKeyRevoked | HandoffInvalid => 401,
            MetricsTokenInvalid => 401,
            ApiKeyReadOnly | ApiKeyRoomDenied => 403,
            NotFound | MessageNotFound => 404,
            LastAdmin | AlreadyAssigned | AgentAtCapacity | AgentUnavailable | SupportNotOpen
            | SupportFixedMembers | WebhookLimit => 409,
            UsernameTaken | AlreadyMember | OwnerCannotLeave | DirectFixedMembers
            | MediaAlreadySent | AlreadyRecalled => 409,
            UploadAborted | CompatJsonInvalid | CompatEventUnknown | CompatModeInvalid
            | CompatGroupInvalid | CompatToUserInvalid => 400,
            MediaTooLarge => 413,
            MediaTypeUnsupported => 415,
            RateLimited => 429,
            Internal => 500,
            Network | ServerDraining => 503,
            _ => 422,
        }
    }

    /// A human message in the given language.
    pub fn message(self, lang: Lang) -> &'static str {
        use ErrorCode::*;
        let (zh, en) = match self {
            Unauthenticated => ("请先登录", "Please log in first"),
            Forbidden => ("你没有权限这样做", "You are not allowed to do that"),
            NotFound => ("找不到该房间或用户", "That room or user does not exist"),
            BadCredentials => ("用户名或密码错误", "Wrong username or password"),
            UsernameTaken => ("该用户名已被占用", "That username is taken"),
            UsernameInvalid => (
                "用户名需为 3–32 位字母、数字或下划线",
                "Username must be 3–32 letters, digits or underscores",
            ),
            NicknameInvalid => (
                "昵称需为 1–32 个可见字符",
                "Nickname must be 1–32 visible characters",
            ),
            PasswordTooShort => ("密码至少 8 位", "Password must be at least 8 characters"),
            PasswordTooLong => ("密码最多 128 位", "Password must be at most 128 characters"),
            PasswordTooWeak => (
                "密码太简单，请勿使用用户名或重复字符",
                "Password is too easy to guess: avoid your username or repeated characters",
            ),
            RoomNameInvalid => (
                "房间名需为 1–40 个字符",
                "Room name must be 1–40 characters",
            ),
            RoomDescriptionTooLong => (
                "房间简介最多 200 个字符",
                "Description must be at most 200 characters",
            ),
            MessageEmpty => ("不能发送空白消息", "Cannot send an empty message"),
            MessageTooLong => ("消息太长了", "Message is too long"),
            ClientIdInvalid => ("消息编号无效", "Invalid message id"),
            QueryTooLong => (
                "搜索词最多 40 个字符",
                "Search text must be at most 40 characters",
            ),
            AlreadyMember => ("你已在该房间中", "You are already in this room"),
            NotMember => ("你不在该房间中", "You are not a member of this room"),
            OwnerCannotLeave => (
                "房主不能退出自己的房间",
                "The owner cannot leave their own room",
            ),
            NoSharedRoom => (
                "只能和同在一个群聊里的人发起私聊",
                "You can only message people you share a room with",
            ),
            DirectWithSelf => (
                "不能和自己私聊",
                "You cannot start a private chat with yourself",
            ),
            DirectFixedMembers => (
                "私聊不能加入或退出",
                "A private chat cannot be joined or left",
            ),
            RateLimited => (
                "操作太频繁，请稍后再试",
                "Too many requests, please slow down",
            ),
            BadRequest => ("请求格式不正确", "Malformed request"),
            CrossOrigin => (
                "已拒绝来自其他网站的请求",
                "Refused: this request came from another website",
            ),
            WrongPassword => ("当前密码不正确", "The current password is wrong"),
            MediaTypeUnsupported => (
                "不支持该文件类型（图片仅限 JPEG、PNG、GIF、WebP；语音 WebM、Ogg、MP4；视频 MP4、WebM）",
                "This file type is not supported (images: JPEG, PNG, GIF, WebP; voice: WebM, Ogg, MP4; video: MP4, WebM)",
            ),
            MediaEmpty => ("文件是空的", "The file is empty"),
            MediaUndecodable => (
                "文件已损坏或不完整",
                "The file is damaged or incomplete",
            ),
            MediaTooLarge => ("文件太大了", "The file is too large"),
            MediaTooLong => ("时长超过上限", "It is longer than allowed"),
            MediaDimensionsTooLarge => (
                "图片尺寸太大",
                "The picture's dimensions are too large",
            ),
            UploadAborted => (
                "上传中断了，请重试",
                "The upload was interrupted, please retry",
            ),
            MediaAlreadySent => ("该文件已发送过", "That file was already sent"),
            Internal => (
                "服务器出错了，请稍后重试",
                "Something went wrong on the server, please retry",
            ),
            Network => (
                "网络连接失败，请检查网络后重试",
                "Network error, please retry",
            ),
            MessageNotFound => ("找不到该消息", "That message does not exist"),
            RecallTooLate => (
                "已超过撤回时限（发送后 2 分钟内可撤回）",
                "Too late to recall: messages can be recalled shortly after sending (2 minutes by default)",
            ),
            RecallNotYours => (
                "只能撤回自己的消息",
                "You can only recall your own messages",
            ),
            AlreadyRecalled => ("该消息已撤回", "That message was already recalled"),
            ReplyNotFound => (
                "引用的消息不存在",
                "The quoted message does not exist in this conversation",
            ),
            MentionNotMember => (
                "只能 @ 本群成员",
                "You can only mention members of this conversation",
            ),
            TooManyMentions => (
                "一条消息最多 @ 20 人",
                "A message can mention at most 20 people",
            ),
            SearchQueryEmpty => ("请输入要搜索的内容", "Type something to search for"),
            AdminOnly => ("只有管理员可以这样做", "Only an admin can do that"),
            StaffOnly => ("只有客服或管理员可以这样做", "Only an agent or admin can do that"),
            RoleInvalid => ("角色无效（只能是 user、agent 或 admin）", "Invalid role (user, agent or admin)"),
            LastAdmin => ("不能撤销最后一位管理员", "The last admin cannot be revoked"),
            NotGroup => ("这不是群聊", "That is not a private group"),
            OwnerOnly => ("只有群主可以这样做", "Only the group owner can do that"),
            Muted => ("你已被禁言，暂时不能发言", "You are muted in this group for now"),
            Banned => ("该用户已被禁止加入此群", "That person is banned from this group"),
            MuteDurationInvalid => ("禁言时长需为 0–43200 分钟", "Mute duration must be 0–43200 minutes"),
            CannotModerateSelf => ("不能对自己这样做", "You cannot do that to yourself"),
            GroupMembersInvalid => ("请选择 1–200 位成员", "Pick between 1 and 200 people"),
            AnnouncementTooLong => ("群公告最多 500 个字符", "The announcement must be at most 500 characters"),
            GuestRequired => ("请先打开客服会话", "Please open the support chat first"),
            GuestDetailsInvalid => ("称呼最多 32 个字符，联系方式最多 100 个字符", "Name at most 32, contact at most 100 characters"),
            AlreadyAssigned => ("该会话已被其他客服接入", "Another agent already has this conversation"),
            AgentAtCapacity => ("该客服接待的会话已满", "That agent has as many conversations as allowed"),
            AgentUnavailable => ("该客服不在线或不是客服", "That agent is not online or not an agent"),
            SupportNotOpen => ("该会话当前不能这样操作", "That conversation is not in a state for this"),
            NotYours => ("这个会话不归你接待", "That conversation is not assigned to you"),
            SupportFixedMembers => (
                "客服会话不能手动加入或退出",
                "A support conversation cannot be joined or left",
            ),
            WebhookUrlInvalid => (
                "请填写以 http:// 或 https:// 开头的完整地址（不含用户名和密码，最多 2000 个字符）",
                "Give a full http:// or https:// URL (no user name or password, at most 2000 characters)",
            ),
            WebhookEventsInvalid => ("请至少选择一种有效的事件类型", "Pick at least one valid event type"),
            WebhookLimit => ("Webhook 数量已达上限", "As many webhooks as allowed are registered"),
            ApiKeyMissing => (
                "缺少 API 密钥（请使用 Authorization: Bearer <密钥>）",
                "API key missing (send Authorization: Bearer <key>)",
            ),
            ApiKeyInvalid => ("API 密钥无效", "That API key is not valid"),
            ApiKeyRevoked => ("该 API 密钥已被吊销", "That API key was revoked"),
            ApiKeyReadOnly => (
                "该 API 密钥是只读的，不能修改数据",
                "That API key is read-only",
            ),
            ApiKeyRoomDenied => (
                "该 API 密钥无权访问这个房间",
                "That API key is not allowed in this room",
            ),
            ApiKeyNameInvalid => (
                "密钥名称需为 1–40 个字符",
                "The key's name must be 1–40 characters",
            ),
            ApiKeyScopeInvalid => (
                "权限只能是只读（read_only）或完全（full），房间需为房间编号",
                "Scope must be read_only or full, rooms a list of room ids",
            ),
            ExternalIdInvalid => (
                "外部用户 ID 需为 1–64 位字母、数字或 _ - . @ :",
                "external_id must be 1–64 letters, digits or _ - . @ :",
            ),
            AvatarUrlInvalid => (
                "头像地址需为 https:// 开头、最多 500 个字符的网址",
                "avatar_url must be an https:// URL of at most 500 characters",
            ),
            HandoffInvalid => (
                "登录链接无效或已过期，请从应用重新进入",
                "This sign-in link is invalid or expired; open the chat from the app again",
            ),
            HandoffNextInvalid => (
                "跳转地址只能是本站的路径",
                "next must be a path on this site",
            ),
            CompatJsonInvalid => (
                "无效的json数据：每条消息须是一个 JSON 对象",
                "Invalid JSON: each message must be one JSON object",
            ),
            CompatEventUnknown => (
                "未知的 event：只支持 join 和 speak",
                "Unknown event: only join and speak are supported",
            ),
            CompatModeInvalid => (
                "消息模式 mode 只能是1（私聊）或2（群聊）",
                "mode must be 1 (private) or 2 (group)",
            ),
            CompatGroupInvalid => (
                "群组 group_id 是必须的：群聊时为非 0 的数字（最多 32 位）",
                "group_id is required: a number other than 0 in group mode (at most 32 characters)",
            ),
            CompatToUserInvalid => (
                "私聊需要 to_user_id：对方在你的系统中的用户 id",
                "to_user_id is required in private mode: the other user's id in your system",
            ),
            ServerDraining => (
                "服务器正在重启，请稍后重新连接",
                "This server is restarting: connect again in a moment",
            ),
            MetricsTokenInvalid => (
                "需要正确的监控令牌（Authorization: Bearer …）",
                "A valid metrics token is required (Authorization: Bearer …)",
            ),
        };
        match lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// Every code, for exhaustive tests and documentation.
    pub const ALL: [ErrorCode; 85] = {
        use ErrorCode::*;
        [
            Unauthenticated,
            Forbidden,
            NotFound,
            BadCredentials,
            UsernameTaken,
            UsernameInvalid,
            NicknameInvalid,
            PasswordTooShort,
            PasswordTooLong,
            PasswordTooWeak,
            RoomNameInvalid,
            RoomDescriptionTooLong,
            MessageEmpty,
            MessageTooLong,
            ClientIdInvalid,
            QueryTooLong,
            AlreadyMember,
            NotMember,
            OwnerCannotLeave,
            NoSharedRoom,
            DirectWithSelf,
            DirectFixedMembers,
            RateLimited,
            BadRequest,
            CrossOrigin,
            WrongPassword,
            MediaTypeUnsupported,
            MediaEmpty,
            MediaUndecodable,
            MediaTooLarge,
            MediaTooLong,
            MediaDimensionsTooLarge,
            UploadAborted,
            MediaAlreadySent,
            Internal,
            Network,
            MessageNotFound,
            RecallTooLate,
            RecallNotYours,
            AlreadyRecalled,
            ReplyNotFound,
            MentionNotMember,
            TooManyMentions,
            SearchQueryEmpty,
            AdminOnly,
            StaffOnly,
            RoleInvalid,
            LastAdmin,
            NotGroup,
            OwnerOnly,
            Muted,
            Banned,
            MuteDurationInvalid,
            CannotModerateSelf,
            GroupMembersInvalid,
            AnnouncementTooLong,
            GuestRequired,
            GuestDetailsInvalid,
            AlreadyAssigned,
            AgentAtCapacity,
            AgentUnavailable,
            SupportNotOpen,
            NotYours,
            SupportFixedMembers,
            WebhookUrlInvalid,
            WebhookEventsInvalid,
            WebhookLimit,
            ApiKeyMissing,
            ApiKeyInvalid,
            ApiKeyRevoked,
            ApiKeyReadOnly,
            ApiKeyRoomDenied,
            ApiKeyNameInvalid,
            ApiKeyScopeInvalid,
            ExternalIdInvalid,
            AvatarUrlInvalid,
            HandoffInvalid,
            HandoffNextInvalid,
            CompatJsonInvalid,
            CompatEventUnknown,
            CompatModeInvalid,
            CompatGroupInvalid,
            CompatToUserInvalid,
            ServerDraining,
            MetricsTokenInvalid,
        ]
    };
}

/// An error as sent to clients: a code, and the form field it concerns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: ErrorCode,
    /// Input field name (`username`, `password`, `text`, …) if the error is
    /// about one field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        ApiError { code, field: None }
    }

    pub fn field(code: ErrorCode, field: &str) -> Self {
        ApiError {
            code,
            field: Some(field.to_owned()),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.code.message(Lang::En))
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_stable_names() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn every_code_has_distinct_messages_in_both_languages() {
        for code in ErrorCode::ALL {
            let zh = code.message(Lang::Zh);
            let en = code.message(Lang::En);
            assert!(!zh.is_empty() && !en.is_empty());
            assert_ne!(zh, en, "{code:?} is not translated");
        }
    }

    #[test]
    fn statuses_are_client_errors_except_internal() {
        for code in ErrorCode::ALL {
            let s = code.http_status();
            if matches!(
                code,
                ErrorCode::Internal | ErrorCode::Network | ErrorCode::ServerDraining
            ) {
                assert!(s >= 500);
            } else {
                assert!((400..500).contains(&s), "{code:?} -> {s}");
            }
        }
    }

    #[test]
    fn language_tags() {
        assert_eq!(Lang::from_tag("en-US,en;q=0.9"), Lang::En);
        assert_eq!(Lang::from_tag("zh-CN"), Lang::Zh);
        assert_eq!(Lang::from_tag(""), Lang::Zh);
    }
}
