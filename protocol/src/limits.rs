//! Input limits shared by browser-side hints and server-side validation.
//! The server is the authority; the browser only uses these to warn early.

/// Username: ASCII letters, digits and `_`, this many chars.
pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
/// Nickname length in characters (after trimming).
pub const NICKNAME_MAX: usize = 32;
/// Password length in characters.
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;
/// Room name and description lengths in characters.
pub const ROOM_NAME_MAX: usize = 40;
pub const ROOM_DESCRIPTION_MAX: usize = 200;
/// Default maximum message length in characters (configurable on the server).
pub const MESSAGE_MAX_DEFAULT: usize = 2000;
/// Client-generated message ids: this many chars of `[A-Za-z0-9_-]`.
pub const CLIENT_ID_MAX: usize = 64;
/// Largest history page a client may ask for.
pub const HISTORY_PAGE_MAX: u32 = 200;
/// Rooms per directory page when the client does not say, and at most.
pub const ROOM_PAGE_DEFAULT: u32 = 50;
pub const ROOM_PAGE_MAX: u32 = 100;
/// Most people one contact search answers with (`search_contacts`).
pub const CONTACTS_MAX: u32 = 20;
/// Default upload limits per media kind (configurable on the server; the
/// browser may warn early with these).
pub const IMAGE_MAX_BYTES_DEFAULT: u64 = 20 * 1024 * 1024;
pub const VOICE_MAX_BYTES_DEFAULT: u64 = 2 * 1024 * 1024;
pub const VOICE_MAX_MS_DEFAULT: u32 = 60_000;
pub const VIDEO_MAX_BYTES_DEFAULT: u64 = 100 * 1024 * 1024;
pub const VIDEO_MAX_MS_DEFAULT: u32 = 5 * 60_000;
/// Longest side of an image thumbnail, in pixels.
pub const THUMB_SIDE: u32 = 480;
/// Unread messages are counted up to this many per conversation (the badge
/// then says "99+"): the count costs at most this many index steps, so a
/// user in 1,000 conversations with long backlogs costs at most 100,000.
pub const UNREAD_MAX: i64 = 99;
/// Most members one message may mention.
pub const MENTIONS_MAX: usize = 20;
/// Default time within which a sender may recall their own message, in
/// seconds (configurable on the server).
pub const RECALL_WINDOW_SECS_DEFAULT: u64 = 120;
/// Longest message search query, in characters.
pub const SEARCH_QUERY_MAX: usize = 40;
/// Search results per page.
pub const SEARCH_PAGE_MAX: u32 = 50;
/// Typing frames relayed per user and conversation at most once per this
/// many seconds (clients send one about every 3 s while typing and show it
/// for 6 s).
pub const TYPING_INTERVAL_SECS: u64 = 3;
/// The sides (px) an uploaded avatar is stored at, each a square JPEG
/// (`GET /avatar/{id}/{side}`). Small: every avatar in lists, messages and
/// member panels (36–44 CSS px), sharp up to 3x phone screens. Large: the
/// Me card (64 CSS px) up to 4x. Two sizes, not the original: a list of 50
/// messages costs a few KB per sender, and nothing else is ever kept.
pub const AVATAR_SIDES: [u32; 2] = [AVATAR_SMALL, AVATAR_LARGE];
/// See [`AVATAR_SIDES`].
pub const AVATAR_SMALL: u32 = 128;
/// See [`AVATAR_SIDES`].
pub const AVATAR_LARGE: u32 = 256;
/// A group's announcement (群公告), in characters.
pub const ANNOUNCEMENT_MAX: usize = 500;
/// People picked for a new group, or added at once, at most.
pub const GROUP_PICK_MAX: usize = 200;
/// Longest mute, in minutes (30 days).
pub const MUTE_MAX_MINUTES: u32 = 43_200;
/// A guest's given name and contact, in characters.
pub const GUEST_NAME_MAX: usize = 32;
pub const GUEST_CONTACT_MAX: usize = 100;
/// The first page and browser a guest's session records, in characters
/// (longer ones are cut).
pub const GUEST_META_MAX: usize = 300;
/// Default most conversations one agent is given automatically.
pub const AGENT_MAX_OPEN_DEFAULT: u32 = 5;
/// A host system's user id (`external_id`) in the server API, in bytes of
/// `[A-Za-z0-9_.@:-]`.
pub const EXTERNAL_ID_MAX: usize = 64;
/// An avatar URL given through the server API, in bytes.
pub const AVATAR_URL_MAX: usize = 500;
/// An API key's name, in characters.
pub const API_KEY_NAME_MAX: usize = 40;
/// Rooms one API key may be limited to, at most.
pub const API_KEY_ROOMS_MAX: usize = 100;
/// Default lifetime of a sign-in hand-off token, in seconds
/// (configurable on the server).
pub const HANDOFF_TTL_SECS_DEFAULT: u64 = 60;
