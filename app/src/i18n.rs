//! UI strings in zh-CN and English. Error messages live with their codes in
//! `teahouse_protocol::ErrorCode::message`; everything else the UI says is a
//! [`T`] key here, so a missing translation is a compile error.

use leptos::prelude::*;
pub use teahouse_protocol::Lang;

/// Every UI string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum T {
    AppName,
    Login,
    Register,
    Logout,
    Username,
    Nickname,
    Password,
    NoAccount,
    HaveAccount,
    Chats,
    Discover,
    NewRoom,
    RoomName,
    RoomDescription,
    Create,
    Cancel,
    Join,
    Joined,
    Leave,
    Members,
    Send,
    MessagePlaceholder,
    Back,
    LoadOlder,
    NoOlder,
    PickAConversation,
    Owner,
    Offline,
    Reconnecting,
    Sending,
    SendFailed,
    Retry,
    JoinedRoom,
    LeftRoom,
    CreatedRoom,
    Language,
    MembersCount,
    MemberCountOne,
    NoMessagesYet,
    Loading,
    UsernameHint,
    PasswordHint,
    SearchRooms,
    LoadMoreRooms,
    NoMoreRooms,
    NoRoomsFound,
    // Failed fetches (what failed; the error's own message follows).
    OlderFailed,
    CatchUpFailed,
    ListFailed,
    LogoutFailed,
    // How typed messages appear in previews (WeChat's tags).
    PhotoTag,
    VoiceTag,
    VideoTag,
    /// The open conversation's region (for screen readers).
    Conversation,
    // The "Me" panel.
    Me,
    Save,
    Saved,
    CurrentPassword,
    NewPassword,
    ChangePassword,
    PasswordChanged,
    ChangeAvatar,
    RemoveAvatar,
    AvatarHint,
    // Private 1:1 chats.
    SendMessage,
    Contacts,
    SearchContacts,
    NoContactsFound,
    OpenedDirect,
    DirectFailed,
    // Media messages: bubbles, the composer's media controls, uploads.
    Photo,
    Close,
    VoiceMessage,
    Unplayed,
    VideoMessage,
    Attach,
    VoiceInput,
    Keyboard,
    HoldToTalk,
    ReleaseToSend,
    SlideUpToCancel,
    ReleaseToCancel,
    StopAndSend,
    Recording,
    TooShort,
    MicUnavailable,
    Uploading,
    Discard,
    RecalledAMessage,
    // Issue 15: replies, recall, read state, typing, presence, search.
    Reply,
    Recall,
    RecallFailed,
    QuoteRecalled,
    ReplyingTo,
    CancelReply,
    NewMessagesBelow,
    JumpToNew,
    MentionedMark,
    PeerTyping,
    IsTyping,
    Online,
    PeerOffline,
    Search,
    SearchMessages,
    SearchAll,
    NoResults,
    RecentOnly,
    MentionSomeone,
}

impl T {
    /// The string in `lang`.
    pub fn in_lang(self, lang: Lang) -> &'static str {
        use T::*;
        let (zh, en) = match self {
            AppName => ("茶馆", "Teahouse"),
            Login => ("登录", "Log in"),
            Register => ("注册", "Sign up"),
            Logout => ("退出登录", "Log out"),
            Username => ("用户名", "Username"),
            Nickname => ("昵称", "Nickname"),
            Password => ("密码", "Password"),
            NoAccount => ("还没有账号？注册", "No account yet? Sign up"),
            HaveAccount => ("已有账号？登录", "Have an account? Log in"),
            Chats => ("聊天", "Chats"),
            Discover => ("发现群聊", "Discover rooms"),
            NewRoom => ("新建群聊", "New room"),
            RoomName => ("群聊名称", "Room name"),
            RoomDescription => ("群聊简介（可选）", "Description (optional)"),
            Create => ("创建", "Create"),
            Cancel => ("取消", "Cancel"),
            Join => ("加入", "Join"),
            Joined => ("已加入", "Joined"),
            Leave => ("退出群聊", "Leave room"),
            Members => ("群成员", "Members"),
            Send => ("发送", "Send"),
            MessagePlaceholder => ("输入消息，回车发送", "Type a message, Enter to send"),
            Back => ("返回", "Back"),
            LoadOlder => ("查看更早的消息", "Load older messages"),
            NoOlder => ("没有更早的消息了", "This is the beginning"),
            PickAConversation => ("选择一个聊天开始吧", "Pick a conversation to start"),
            Owner => ("群主", "Owner"),
            Offline => ("离线", "Offline"),
            Reconnecting => ("连接中断，正在重连…", "Connection lost, reconnecting…"),
            Sending => ("发送中", "Sending"),
            SendFailed => ("发送失败", "Not sent"),
            Retry => ("重试", "Retry"),
            JoinedRoom => ("加入了群聊", "joined"),
            LeftRoom => ("退出了群聊", "left"),
            CreatedRoom => ("创建了群聊", "created the room"),
            Language => ("English", "中文"),
            MembersCount => ("人", "members"),
            MemberCountOne => ("人", "member"),
            NoMessagesYet => ("还没有消息", "No messages yet"),
            Loading => ("加载中…", "Loading…"),
            UsernameHint => ("3–32 位字母、数字或下划线", "3–32 letters, digits or _"),
            PasswordHint => ("至少 8 位", "At least 8 characters"),
            SearchRooms => ("搜索群聊名称", "Search rooms by name"),
            LoadMoreRooms => ("加载更多群聊", "Load more rooms"),
            NoMoreRooms => ("没有更多群聊了", "That is every room"),
            NoRoomsFound => ("没有找到群聊", "No rooms found"),
            OlderFailed => ("更早的消息没有加载出来", "Could not load older messages"),
            CatchUpFailed => (
                "新消息没有加载出来，正在重试",
                "Could not load new messages, retrying",
            ),
            ListFailed => (
                "聊天列表没有刷新，正在重试",
                "Could not refresh the chat list, retrying",
            ),
            LogoutFailed => ("退出登录失败", "Could not log out"),
            PhotoTag => ("[图片]", "[Photo]"),
            VoiceTag => ("[语音]", "[Voice]"),
            VideoTag => ("[视频]", "[Video]"),
            Conversation => ("聊天窗口", "Conversation"),
            Me => ("我", "Me"),
            Save => ("保存", "Save"),
            Saved => ("已保存", "Saved"),
            CurrentPassword => ("当前密码", "Current password"),
            NewPassword => ("新密码", "New password"),
            ChangePassword => ("修改密码", "Change password"),
            PasswordChanged => (
                "密码已修改，其他设备已退出登录",
                "Password changed; your other devices are signed out",
            ),
            ChangeAvatar => ("换头像", "Change avatar"),
            RemoveAvatar => ("移除头像", "Remove avatar"),
            AvatarHint => (
                "JPEG、PNG、GIF 或 WebP，取中间的正方形",
                "JPEG, PNG, GIF or WebP; the centre square is used",
            ),
            SendMessage => ("发消息", "Message"),
            Contacts => ("通讯录", "Contacts"),
            SearchContacts => ("搜索用户名或昵称", "Search by username or nickname"),
            NoContactsFound => ("没有找到联系人", "Nobody found"),
            OpenedDirect => ("发起了私聊", "started this chat"),
            DirectFailed => ("私聊没有打开", "Could not open the chat"),
            Photo => ("图片", "Photo"),
            Close => ("关闭", "Close"),
            VoiceMessage => ("语音", "Voice message"),
            Unplayed => ("未播放", "Not played yet"),
            VideoMessage => ("视频", "Video"),
            Attach => ("添加图片或视频", "Attach a photo or video"),
            VoiceInput => ("语音输入", "Voice input"),
            Keyboard => ("键盘输入", "Keyboard"),
            HoldToTalk => ("按住 说话", "Hold to talk"),
            ReleaseToSend => ("松开 发送", "Release to send"),
            SlideUpToCancel => ("手指上滑，取消发送", "Slide up to cancel"),
            ReleaseToCancel => ("松开手指，取消发送", "Release to cancel"),
            StopAndSend => ("结束并发送", "Stop and send"),
            Recording => ("正在录音", "Recording"),
            TooShort => ("说话时间太短", "Too short to send"),
            MicUnavailable => ("无法使用麦克风", "The microphone is not available"),
            Uploading => ("上传中", "Uploading"),
            Discard => ("删除", "Remove"),
            RecalledAMessage => ("撤回了一条消息", "recalled a message"),
            Reply => ("回复", "Reply"),
            Recall => ("撤回", "Recall"),
            RecallFailed => ("撤回失败", "Could not recall"),
            QuoteRecalled => ("原消息已撤回", "The original was recalled"),
            ReplyingTo => ("回复", "Replying to"),
            CancelReply => ("取消回复", "Cancel reply"),
            NewMessagesBelow => ("以下是新消息", "New messages"),
            JumpToNew => ("↑ 新消息", "↑ New messages"),
            MentionedMark => ("[有人@我]", "[Mentioned]"),
            PeerTyping => ("对方正在输入…", "typing…"),
            IsTyping => ("正在输入…", "is typing…"),
            Online => ("在线", "Online"),
            PeerOffline => ("离线", "Offline"),
            Search => ("搜索", "Search"),
            SearchMessages => ("搜索聊天记录", "Search messages"),
            SearchAll => ("全部会话", "All conversations"),
            NoResults => ("没有找到相关消息", "No messages found"),
            RecentOnly => (
                "少于 3 个字的词只搜索最近的消息",
                "Words under 3 characters only search recent messages",
            ),
            MentionSomeone => ("选择要提醒的人", "Choose who to mention"),
        };
        match lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// The current UI language, provided at the root.
#[derive(Clone, Copy, Debug)]
pub struct I18n(pub RwSignal<Lang>);

impl I18n {
    /// Reactive translation.
    pub fn t(&self, key: T) -> &'static str {
        key.in_lang(self.0.get())
    }

    pub fn lang(&self) -> Lang {
        self.0.get()
    }
}

/// `key` in the current language, as a reactive text or attribute value
/// (`aria-label=tr(T::Send)`, `{tr(T::Send)}`). Every key goes through this
/// one function, so all of them share one closure type and the wasm holds
/// one copy of the reactive text and attribute code instead of one per use
/// (about 1 KB compressed per use with `erase_components`; see the
/// first-load budget).
pub fn tr(key: T) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let i18n = use_i18n();
    move || i18n.t(key)
}

/// The language context (falls back to Chinese if none was provided).
pub fn use_i18n() -> I18n {
    use_context::<I18n>().unwrap_or_else(|| I18n(RwSignal::new(Lang::Zh)))
}

/// Name of the cookie that remembers the chosen language.
pub const LANG_COOKIE: &str = "lang";
