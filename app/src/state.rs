//! The browser's view of the chat: the conversation list, the loaded part of
//! each conversation's log, unread counts and presence. Live frames from the
//! socket and answers from server functions both land here, keyed by
//! sequence number, so nothing is shown twice and gaps are detected.
//!
//! Each conversation's log is its own signal, made the first time it is
//! needed and kept in a map that nothing tracks: an event in one
//! conversation re-renders that conversation's pane, and nothing else. The
//! unread counts are one map signal; each list row reads its own count
//! through a memo, so only the row whose count changed re-renders.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use leptos::prelude::*;
use teahouse_protocol::{
    ConversationEvent, ConversationId, ConversationSummary, EventBody, MediaId, ReadState, Seq,
    UserBrief, UserId,
};

use crate::error::AppError;

/// State of the push connection, for the status banner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Live {
    Connecting,
    Open,
    Down,
}

/// Shared client state, provided by the chat page. All fields are
/// arena handles, so the struct is `Copy`.
#[derive(Clone, Copy)]
pub struct ChatState {
    /// The logged-in user.
    pub me: StoredValue<UserBrief>,
    /// My nickname as drawn (changes live with the profile).
    pub me_nickname: RwSignal<String>,
    /// My avatar as drawn (changes live with the profile).
    pub me_avatar: RwSignal<Option<MediaId>>,
    /// The newest profile of each user whose profile changed while this page
    /// was open: what panels fetched before the change (members) draw.
    pub profiles: RwSignal<HashMap<UserId, UserBrief>>,
    /// Conversation list, most recently active first.
    pub rooms: RwSignal<Vec<ConversationSummary>>,
    /// Loaded logs of the conversations that were opened. The map itself is
    /// not reactive (each log is its own signal), so adding a log re-renders
    /// nothing.
    logs: StoredValue<HashMap<ConversationId, ConversationLog>>,
    /// Unread message counts of conversations not currently open (absent:
    /// none). One signal for all: a row reads its own count through a memo.
    unread: RwSignal<HashMap<ConversationId, u32>>,
    /// The sum of all unread counts, for the tab badge.
    pub unread_total: RwSignal<u32>,
    /// Why the last refresh of the conversation list failed; shown above the
    /// list while the refresh is retried, cleared when one succeeds.
    pub list_error: RwSignal<Option<AppError>>,
    /// Users known to be online.
    pub online: RwSignal<HashSet<UserId>>,
    /// The room shown in the chat pane.
    pub open_room: RwSignal<Option<ConversationId>>,
    /// Push connection status.
    pub live: RwSignal<Live>,
    /// Why the last attempt to open a private chat failed (shown in the
    /// pane and the contacts panel), cleared by the next attempt.
    pub direct_error: RwSignal<Option<AppError>>,
    /// Conversations with an unread message that mentions me ([有人@我]).
    pub mentioned: RwSignal<HashSet<ConversationId>>,
    /// Who is typing where, until when (ms since the epoch).
    pub typing: RwSignal<Vec<(ConversationId, UserBrief, f64)>>,
    /// Writes a frame to the push socket while one is open (set by
    /// [`crate::live`]).
    pub socket_out: StoredValue<Option<SocketWriter>>,
    /// A message to bring into view once its conversation shows (a search
    /// hit, a quote's original).
    pub focus: RwSignal<Option<(ConversationId, Seq)>>,
}

/// Writes a text frame to the open push socket.
pub type SocketWriter = Arc<dyn Fn(String) + Send + Sync>;

/// What the caller should do after [`ChatState::apply_event`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Follow {
    Nothing,
    /// Events between `after` and the new one are missing: fetch them.
    FetchGap {
        room_id: ConversationId,
        after: Seq,
    },
    /// The room is not in the list (joined elsewhere): reload the list.
    ReloadRooms,
}

/// One conversation's loaded log. Cloning gives another handle to the same
/// log.
#[derive(Clone)]
pub struct ConversationLog {
    /// The loaded events by seq: pages and live frames land here, so an
    /// event fetched twice is kept once.
    events: ArcRwSignal<BTreeMap<Seq, ConversationEvent>>,
    /// Why the catch-up under way last failed; shown at the end of the pane
    /// while it is retried, cleared when it succeeds.
    pub catch_up_error: ArcRwSignal<Option<AppError>>,
    /// Whether a catch-up task runs for this log, and how to cut its wait
    /// before the next attempt short (not reactive).
    catch_up: Arc<Mutex<CatchUpSlot>>,
}

/// The bookkeeping of a log's catch-up task.
#[derive(Default)]
struct CatchUpSlot {
    /// A task is fetching (or waiting to retry) for this log; a second one
    /// would fetch the same events.
    running: bool,
    /// Set while the task waits to retry: calling it retries at once.
    wake: Option<Box<dyn FnOnce() + Send>>,
}

impl ConversationLog {
    fn new() -> Self {
        ConversationLog {
            events: ArcRwSignal::new(BTreeMap::new()),
            catch_up_error: ArcRwSignal::new(None),
            catch_up: Arc::new(Mutex::new(CatchUpSlot::default())),
        }
    }

    /// Runs `f` over the events (tracked: re-runs the caller on change).
    pub fn with<R>(&self, f: impl FnOnce(&BTreeMap<Seq, ConversationEvent>) -> R) -> R {
        self.events.with(f)
    }

    /// Reads the loaded events without tracking them.
    pub fn with_events_untracked<R>(
        &self,
        f: impl FnOnce(&BTreeMap<Seq, ConversationEvent>) -> R,
    ) -> R {
        self.events.with_untracked(f)
    }

    /// Adds fetched events (a page of history or a catch-up).
    pub fn merge(&self, events: Vec<ConversationEvent>) {
        if events.is_empty() {
            return;
        }
        self.events.update(|log| {
            for e in events {
                put(log, e);
            }
        });
    }

    /// Redraws `user`'s loaded events with their new profile (only if one
    /// of them shows an old one: no re-render otherwise).
    fn rename(&self, user: &UserBrief) {
        let stale = self.events.with_untracked(|log| {
            log.values()
                .any(|e| e.actor.id == user.id && e.actor != *user)
        });
        if stale {
            self.events.update(|log| {
                for e in log.values_mut().filter(|e| e.actor.id == user.id) {
                    e.actor = user.clone();
                }
            });
        }
    }

    fn insert(&self, ev: ConversationEvent) {
        self.events.update(|log| put(log, ev));
    }

    /// Highest seq loaded.
    pub fn last(&self) -> Option<Seq> {
        self.events
            .with_untracked(|m| m.keys().next_back().copied())
    }

    /// Lowest seq loaded.
    pub fn oldest(&self) -> Option<Seq> {
        self.events.with_untracked(|m| m.keys().next().copied())
    }

    /// The seq after which events may be missing: the one before the first
    /// hole in the loaded range (seqs have no gaps on the server), else the
    /// last loaded (0 when nothing is).
    pub fn synced_through(&self) -> Seq {
        self.events.with_untracked(|m| {
            let mut keys = m.keys().copied();
            let Some(mut prev) = keys.next() else {
                return 0;
            };
            for k in keys {
                if k != prev + 1 {
                    return prev;
                }
                prev = k;
            }
            prev
        })
    }

    /// True if events are missing between the oldest and the last loaded.
    pub fn has_hole(&self) -> bool {
        self.last()
            .is_some_and(|last| self.synced_through() != last)
    }

    /// Takes the catch-up slot: true if the caller should run the catch-up;
    /// false if one already runs (and is woken if it was waiting to retry).
    pub fn claim_catch_up(&self) -> bool {
        let mut slot = self.catch_up.lock().unwrap_or_else(|p| p.into_inner());
        if slot.running {
            if let Some(wake) = slot.wake.take() {
                wake();
            }
            false
        } else {
            slot.running = true;
            true
        }
    }

    /// Registers how to wake the running catch-up from its wait.
    pub fn on_wake(&self, wake: impl FnOnce() + Send + 'static) {
        let mut slot = self.catch_up.lock().unwrap_or_else(|p| p.into_inner());
        slot.wake = Some(Box::new(wake));
    }

    /// Gives the catch-up slot back (the task ends).
    pub fn release_catch_up(&self) {
        let mut slot = self.catch_up.lock().unwrap_or_else(|p| p.into_inner());
        *slot = CatchUpSlot::default();
    }

    /// True if both handles are the same log.
    pub fn same_as(&self, other: &ConversationLog) -> bool {
        Arc::ptr_eq(&self.catch_up, &other.catch_up)
    }
}

impl ChatState {
    pub fn new(me: UserBrief, rooms: Vec<ConversationSummary>) -> Self {
        let unread: HashMap<ConversationId, u32> = rooms
            .iter()
            .filter(|s| s.unread > 0)
            .map(|s| (s.id, u32::try_from(s.unread).unwrap_or(0)))
            .collect();
        let total = unread.values().sum();
        let mentioned = rooms.iter().filter(|s| s.mentioned).map(|s| s.id).collect();
        ChatState {
            me_nickname: RwSignal::new(me.nickname.clone()),
            me_avatar: RwSignal::new(me.avatar.clone()),
            profiles: RwSignal::new(HashMap::new()),
            me: StoredValue::new(me),
            rooms: RwSignal::new(rooms),
            logs: StoredValue::new(HashMap::new()),
            unread: RwSignal::new(unread),
            unread_total: RwSignal::new(total),
            list_error: RwSignal::new(None),
            online: RwSignal::new(HashSet::new()),
            open_room: RwSignal::new(None),
            live: RwSignal::new(Live::Connecting),
            direct_error: RwSignal::new(None),
            mentioned: RwSignal::new(mentioned),
            typing: RwSignal::new(Vec::new()),
            socket_out: StoredValue::new(None),
            focus: RwSignal::new(None),
        }
    }

    /// The server's badge of a conversation (a `read` frame, or a
    /// `mark_read` answer): the same in every tab.
    pub fn apply_read(&self, read: &ReadState) {
        let room = read.room_id;
        self.set_unread(room, u32::try_from(read.unread).unwrap_or(0));
        self.mentioned.update(|m| {
            if read.mentioned {
                m.insert(room);
            } else {
                m.remove(&room);
            }
        });
        self.rooms.update(|rooms| {
            if let Some(s) = rooms.iter_mut().find(|s| s.id == room) {
                s.read_seq = s.read_seq.max(read.read_seq);
            }
        });
    }

    fn set_unread(&self, room_id: ConversationId, n: u32) {
        let old = self
            .unread
            .with_untracked(|u| u.get(&room_id).copied().unwrap_or(0));
        if old == n {
            return;
        }
        self.unread.update(|u| {
            if n == 0 {
                u.remove(&room_id);
            } else {
                u.insert(room_id, n);
            }
        });
        self.unread_total
            .update(|t| *t = (*t + n).saturating_sub(old));
    }

    /// Writes `frame` to the push socket, if one is open (typing; lost
    /// otherwise, as ephemeral signals may be).
    pub fn send_frame(&self, frame: &teahouse_protocol::ClientFrame) {
        if let (Some(out), Ok(text)) = (self.socket_out.get_value(), serde_json::to_string(frame)) {
            out(text);
        }
    }

    /// Someone is typing in a conversation: shown for six seconds.
    pub fn apply_typing(&self, room: ConversationId, user: UserBrief) {
        let until = crate::format::now_ms() as f64 + 6_000.0;
        self.typing.update(|t| {
            t.retain(|(r, u, _)| !(*r == room && u.id == user.id));
            t.push((room, user, until));
        });
        // Expires by itself.
        #[cfg(feature = "hydrate")]
        {
            let typing = self.typing;
            set_timeout(
                move || {
                    let now = crate::format::now_ms() as f64;
                    typing.update(|t| t.retain(|(_, _, until)| *until > now));
                },
                std::time::Duration::from_millis(6_100),
            );
        }
    }

    /// Whether the page is hidden (another tab, minimised): messages
    /// arriving then are not seen.
    pub fn page_hidden() -> bool {
        #[cfg(feature = "hydrate")]
        {
            document().hidden()
        }
        #[cfg(not(feature = "hydrate"))]
        {
            false
        }
    }

    pub fn me_id(&self) -> UserId {
        self.me.with_value(|m| m.id)
    }

    /// `user` as drawn now: with the newest profile pushed for them, if one
    /// was (tracked).
    pub fn latest(&self, user: UserBrief) -> UserBrief {
        self.profiles
            .with(|p| p.get(&user.id).cloned())
            .unwrap_or(user)
    }

    /// A user's profile changed (a `user_updated` frame, or my own change):
    /// their loaded messages, the list's previews and private chats with
    /// them, and member panels show the new name and avatar.
    pub fn apply_profile(&self, user: UserBrief) {
        if user.id == self.me_id() {
            self.me.set_value(user.clone());
            self.me_nickname.set(user.nickname.clone());
            self.me_avatar.set(user.avatar.clone());
        }
        if self
            .profiles
            .with_untracked(|p| p.get(&user.id) != Some(&user))
        {
            self.profiles.update(|p| {
                p.insert(user.id, user.clone());
            });
        }
        self.logs.with_value(|logs| {
            for log in logs.values() {
                log.rename(&user);
            }
        });
        let stale = |s: &ConversationSummary| {
            let old = |u: &UserBrief| u.id == user.id && *u != user;
            s.last_event.as_ref().is_some_and(|e| old(&e.actor)) || s.peer.as_ref().is_some_and(old)
        };
        if self.rooms.with_untracked(|r| r.iter().any(stale)) {
            self.rooms.update(|rooms| {
                for s in rooms.iter_mut() {
                    if let Some(e) = s.last_event.as_mut().filter(|e| e.actor.id == user.id) {
                        e.actor = user.clone();
                    }
                    if let Some(p) = s.peer.as_mut().filter(|p| p.id == user.id) {
                        // A private chat is named after its peer.
                        s.name = user.nickname.clone();
                        *p = user.clone();
                    }
                }
            });
        }
    }

    /// The log of `room_id`, made (empty) if it was not loaded yet.
    pub fn open_log(&self, room_id: ConversationId) -> ConversationLog {
        if let Some(log) = self.log(room_id) {
            return log;
        }
        let log = ConversationLog::new();
        self.logs.update_value(|l| {
            l.insert(room_id, log.clone());
        });
        log
    }

    /// The log of `room_id`, if it was loaded.
    pub fn log(&self, room_id: ConversationId) -> Option<ConversationLog> {
        self.logs.with_value(|l| l.get(&room_id).cloned())
    }

    /// The conversations whose logs are loaded.
    pub fn loaded_rooms(&self) -> Vec<ConversationId> {
        self.logs.with_value(|l| l.keys().copied().collect())
    }

    /// The unread count of `room_id` (tracked: re-runs the caller when any
    /// room's count changes; wrap it in a memo to follow one room only).
    pub fn unread_of(&self, room_id: ConversationId) -> u32 {
        self.unread.with(|u| u.get(&room_id).copied().unwrap_or(0))
    }

    fn add_unread(&self, room_id: ConversationId, n: u32) {
        if n == 0 {
            return;
        }
        self.unread.update(|u| *u.entry(room_id).or_default() += n);
        self.unread_total.update(|t| *t += n);
    }

    /// Applies a live event; returns what else needs fetching.
    pub fn apply_event(&self, ev: ConversationEvent) -> Follow {
        let room_id = ev.conversation_id;
        let me = self.me_id();
        let mut follow = Follow::Nothing;
        // 1. The log, if this room's log is loaded.
        if let Some(log) = self.log(room_id) {
            if let Some(after) = log.last().filter(|last| ev.seq > last + 1) {
                follow = Follow::FetchGap { room_id, after };
            }
            log.insert(ev.clone());
        }
        // 2. Unread badge (the server's count comes back with the next
        // `read` frame or list; this keeps it live meanwhile).
        let unseen = self.open_room.get_untracked() != Some(room_id) || Self::page_hidden();
        if let EventBody::Message(m) = &ev.body {
            if ev.actor.id != me {
                self.typing
                    .update(|t| t.retain(|(r, u, _)| !(*r == room_id && u.id == ev.actor.id)));
                if unseen {
                    self.add_unread(room_id, 1);
                    if m.mentions.contains(&me) {
                        self.mentioned.update(|s| {
                            s.insert(room_id);
                        });
                    }
                }
            }
        }
        if let EventBody::MessageRecalled { .. } = ev.body {
            // A recalled unread message no longer counts: ask the server.
            if unseen && self.unread_of_untracked(room_id) > 0 {
                follow = Follow::ReloadRooms;
            }
        }
        // 3. The conversation list.
        let i_left = (ev.body == EventBody::MemberLeft && ev.actor.id == me)
            || matches!(&ev.body, EventBody::MemberRemoved { user } | EventBody::MemberBanned { user } if user.id == me);
        let known = self
            .rooms
            .with_untracked(|r| r.iter().any(|s| s.id == room_id));
        if i_left {
            self.forget_room(room_id);
        } else if known {
            self.rooms.update(|rooms| {
                if let Some(pos) = rooms.iter().position(|s| s.id == room_id) {
                    let mut s = rooms.remove(pos);
                    if ev.seq >= s.last_seq {
                        s.last_seq = ev.seq;
                        match ev.body {
                            EventBody::MemberJoined => s.member_count += 1,
                            EventBody::MemberLeft
                            | EventBody::MemberRemoved { .. }
                            | EventBody::MemberBanned { .. } => {
                                s.member_count = (s.member_count - 1).max(0)
                            }
                            EventBody::MemberAdded { .. } => s.member_count += 1,
                            EventBody::GroupRenamed { ref name } => s.name = name.clone(),
                            // Who may remove any message (and wears the mark).
                            EventBody::OwnerChanged { ref owner } => s.owner_id = owner.id,
                            _ => {}
                        }
                        s.last_event = Some(ev.clone());
                    }
                    rooms.insert(0, s);
                }
            });
        } else if follow == Follow::Nothing {
            follow = Follow::ReloadRooms;
        }
        follow
    }

    /// Replaces the conversation list (after a reconnect, or a recall):
    /// the server's badges replace the ones counted here.
    pub fn replace_rooms(&self, fresh: Vec<ConversationSummary>) {
        for s in &fresh {
            self.apply_read(&ReadState {
                room_id: s.id,
                read_seq: s.read_seq,
                unread: s.unread,
                mentioned: s.mentioned,
            });
        }
        self.rooms.set(fresh);
    }

    /// The unread count of `room_id` right now (untracked).
    pub fn unread_of_now(&self, room_id: ConversationId) -> u32 {
        self.unread_of_untracked(room_id)
    }

    fn unread_of_untracked(&self, room_id: ConversationId) -> u32 {
        self.unread
            .with_untracked(|u| u.get(&room_id).copied().unwrap_or(0))
    }

    /// The conversation is on screen with its newest message in view:
    /// clears its badge here and moves my read position on the server to
    /// its newest event (which clears it in my other tabs and devices).
    pub fn mark_read(&self, room_id: ConversationId) {
        self.set_unread(room_id, 0);
        self.mentioned.update(|m| {
            m.remove(&room_id);
        });
        let Some((last, read)) = self.rooms.with_untracked(|r| {
            r.iter()
                .find(|s| s.id == room_id)
                .map(|s| (s.last_seq, s.read_seq))
        }) else {
            return;
        };
        let last = self
            .log(room_id)
            .and_then(|l| l.last())
            .unwrap_or(last)
            .max(last);
        if last <= read {
            return;
        }
        self.rooms.update(|rooms| {
            if let Some(s) = rooms.iter_mut().find(|s| s.id == room_id) {
                s.read_seq = last;
            }
        });
        #[cfg(feature = "hydrate")]
        {
            let state = *self;
            leptos::task::spawn_local(async move {
                if let Ok(read) = crate::api::reads::mark_read(room_id, last).await {
                    state.apply_read(&read);
                }
            });
        }
    }

    /// Adds or moves a room to the top of the list (after create/join).
    pub fn upsert_room(&self, summary: ConversationSummary) {
        self.rooms.update(|r| {
            r.retain(|s| s.id != summary.id);
            r.insert(0, summary);
        });
    }

    /// Drops everything held for a room I left: its row, log and unread
    /// count.
    pub fn forget_room(&self, room_id: ConversationId) {
        self.mark_read(room_id);
        self.rooms.update(|r| r.retain(|s| s.id != room_id));
        self.logs.update_value(|l| {
            l.remove(&room_id);
        });
    }
}

/// Stores `ev` in a loaded log; a recall also turns the message it names
/// (if loaded) into its "recalled" placeholder, so its content is gone at
/// once, live or caught up.
fn put(log: &mut std::collections::BTreeMap<Seq, ConversationEvent>, ev: ConversationEvent) {
    if let EventBody::MessageRecalled { seq } = ev.body {
        if let Some(target) = log.get_mut(&seq) {
            target.body = EventBody::Recalled { by: ev.actor.id };
        }
    }
    log.insert(ev.seq, ev);
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use teahouse_protocol::Message;

    fn user(id: i64) -> UserBrief {
        UserBrief {
            id: UserId(id),
            username: format!("u{id}"),
            nickname: format!("U{id}"),
            avatar: None,
            avatar_url: None,
            bot: false,
        }
    }

    fn summary(id: i64, last_seq: Seq) -> ConversationSummary {
        ConversationSummary {
            id: ConversationId(id),
            name: format!("room {id}"),
            description: String::new(),
            owner_id: UserId(1),
            member_count: 2,
            last_seq,
            last_event: None,
            joined: true,
            kind: Default::default(),
            peer: None,
            read_seq: 0,
            unread: 0,
            mentioned: false,
        }
    }

    fn message(room_id: i64, seq: Seq, from: i64) -> ConversationEvent {
        ConversationEvent {
            conversation_id: ConversationId(room_id),
            seq,
            at_ms: 1_700_000_000_000 + seq,
            actor: user(from),
            body: EventBody::Message(Message::text(
                format!("m{seq}"),
                format!("c{room_id}-{seq}"),
            )),
        }
    }

    fn state() -> ChatState {
        // Signals live in an owner's arena. With the server's features on
        // (`cargo test --workspace` unifies them: `sandboxed-arenas`) there
        // is none unless a root owner is set for this test's thread; it is
        // kept for the whole test.
        std::mem::forget(Owner::new_root(None));
        ChatState::new(user(1), vec![summary(10, 3), summary(20, 3)])
    }

    fn seqs(log: &ConversationLog) -> Vec<Seq> {
        log.with(|m| m.keys().copied().collect())
    }

    #[test]
    fn fetched_and_live_events_are_merged_by_seq_without_duplicates() {
        let s = state();
        let log = s.open_log(ConversationId(10));
        log.merge(vec![message(10, 2, 2), message(10, 3, 2)]);
        // A catch-up that overlaps what is loaded, and the same live frame twice.
        log.merge(vec![message(10, 3, 2), message(10, 4, 2)]);
        assert_eq!(s.apply_event(message(10, 5, 2)), Follow::Nothing);
        assert_eq!(s.apply_event(message(10, 5, 2)), Follow::Nothing);
        // An older page.
        log.merge(vec![message(10, 1, 2)]);
        assert_eq!(seqs(&log), vec![1, 2, 3, 4, 5]);
        assert!(!log.has_hole());
        assert_eq!(log.synced_through(), 5);
    }

    #[test]
    fn a_live_event_past_the_last_loaded_asks_for_the_gap() {
        let s = state();
        let log = s.open_log(ConversationId(10));
        log.merge(vec![message(10, 1, 2), message(10, 2, 2)]);
        assert_eq!(
            s.apply_event(message(10, 6, 2)),
            Follow::FetchGap {
                room_id: ConversationId(10),
                after: 2
            }
        );
        // The event is kept, and the hole is known until it is filled.
        assert_eq!(seqs(&log), vec![1, 2, 6]);
        assert!(log.has_hole());
        assert_eq!(log.synced_through(), 2);
        log.merge((3..=5).map(|q| message(10, q, 2)).collect());
        assert!(!log.has_hole());
        assert_eq!(log.synced_through(), 6);
        // Events of rooms that were never opened are not kept, and a room
        // missing from the list asks for the list.
        assert_eq!(s.apply_event(message(30, 9, 2)), Follow::ReloadRooms);
        assert!(s.log(ConversationId(30)).is_none());
    }

    #[test]
    fn an_event_in_one_room_does_not_rerun_what_reads_another_rooms_log() {
        let s = state();
        let a = s.open_log(ConversationId(10));
        let b = s.open_log(ConversationId(20));
        a.merge(vec![message(10, 1, 2)]);
        b.merge(vec![message(20, 1, 2)]);
        let runs = Arc::new(AtomicUsize::new(0));
        let rows_of_a = Memo::new({
            let a = a.clone();
            let runs = runs.clone();
            move |_| {
                runs.fetch_add(1, Ordering::SeqCst);
                a.with(|m| m.len())
            }
        });
        // As a list row reads it.
        let unread_a = Memo::new(move |_| s.unread_of(ConversationId(10)));
        let badge_runs = Arc::new(AtomicUsize::new(0));
        let badge_of_a = Memo::new({
            let badge_runs = badge_runs.clone();
            move |_| {
                badge_runs.fetch_add(1, Ordering::SeqCst);
                unread_a.get()
            }
        });
        assert_eq!(rows_of_a.get(), 1);
        assert_eq!(badge_of_a.get(), 0);
        assert_eq!(runs.load(Ordering::SeqCst), 1);

        // Room 20 gets a message (and an unread count): room 10's readers stay put.
        s.open_room.set(Some(ConversationId(10)));
        assert_eq!(s.apply_event(message(20, 2, 2)), Follow::Nothing);
        assert_eq!(rows_of_a.get(), 1);
        assert_eq!(badge_of_a.get(), 0);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(badge_runs.load(Ordering::SeqCst), 1);
        assert_eq!(seqs(&b), vec![1, 2]);
        assert_eq!(untrack(|| s.unread_of(ConversationId(20))), 1);
        assert_eq!(s.unread_total.get_untracked(), 1);

        // Room 10's own event does re-run them.
        assert_eq!(s.apply_event(message(10, 2, 2)), Follow::Nothing);
        assert_eq!(rows_of_a.get(), 2);
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn leaving_a_room_drops_its_log_and_unread_count() {
        let s = state();
        let log = s.open_log(ConversationId(20));
        log.merge(vec![message(20, 1, 2)]);
        assert_eq!(s.apply_event(message(20, 2, 2)), Follow::Nothing);
        assert_eq!(s.unread_total.get_untracked(), 1);
        let mut left = message(20, 3, 1);
        left.body = EventBody::MemberLeft;
        assert_eq!(s.apply_event(left), Follow::Nothing);
        assert!(s.log(ConversationId(20)).is_none());
        assert_eq!(s.loaded_rooms(), Vec::<ConversationId>::new());
        assert_eq!(s.unread_total.get_untracked(), 0);
        assert!(s
            .rooms
            .with_untracked(|r| r.iter().all(|r| r.id != ConversationId(20))));
        // Opening it again (after a re-join) starts from an empty log.
        assert!(!s.open_log(ConversationId(20)).same_as(&log));
        assert_eq!(s.open_log(ConversationId(20)).last(), None);
    }

    #[test]
    fn unread_counts_add_up_and_clear_per_room() {
        let s = state();
        s.open_room.set(Some(ConversationId(10)));
        s.apply_event(message(20, 4, 2));
        s.apply_event(message(20, 5, 2));
        // My own messages and the open room's do not count.
        s.apply_event(message(20, 6, 1));
        s.apply_event(message(10, 4, 2));
        assert_eq!(untrack(|| s.unread_of(ConversationId(20))), 2);
        assert_eq!(untrack(|| s.unread_of(ConversationId(10))), 0);
        // A reconnect finds three more in room 10, which is no longer open.
        s.open_room.set(None);
        let mut fresh = summary(10, 7);
        fresh.last_event = Some(message(10, 7, 2));
        fresh.unread = 3;
        let mut other = summary(20, 6);
        other.unread = 2;
        s.replace_rooms(vec![fresh, other]);
        assert_eq!(untrack(|| s.unread_of(ConversationId(10))), 3);
        assert_eq!(s.unread_total.get_untracked(), 5);
        s.mark_read(ConversationId(20));
        assert_eq!(untrack(|| s.unread_of(ConversationId(20))), 0);
        assert_eq!(s.unread_total.get_untracked(), 3);
    }

    #[test]
    fn one_catch_up_at_a_time_and_a_second_request_wakes_a_waiting_one() {
        let s = state();
        let log = s.open_log(ConversationId(10));
        assert!(log.claim_catch_up());
        let woken = Arc::new(AtomicUsize::new(0));
        let w = woken.clone();
        log.on_wake(move || {
            w.fetch_add(1, Ordering::SeqCst);
        });
        // A reconnect asks again while the first waits to retry.
        assert!(!log.claim_catch_up());
        assert_eq!(woken.load(Ordering::SeqCst), 1);
        assert!(!log.claim_catch_up());
        assert_eq!(woken.load(Ordering::SeqCst), 1);
        log.release_catch_up();
        assert!(log.claim_catch_up());
    }

    #[test]
    fn a_new_avatar_reaches_loaded_messages_private_chats_and_member_panels() {
        let s = state();
        let log = s.open_log(ConversationId(10));
        log.merge(vec![message(10, 1, 2), message(10, 2, 3)]);
        let mut direct = summary(30, 1);
        direct.peer = Some(user(2));
        direct.name = "U2".into();
        direct.last_event = Some(message(30, 1, 2));
        s.upsert_room(direct);
        let avatar = MediaId("b".repeat(26));
        let new = UserBrief {
            nickname: "Bee".into(),
            avatar: Some(avatar.clone()),
            avatar_url: None,
            bot: false,
            ..user(2)
        };
        s.apply_profile(new.clone());
        log.with(|m| {
            assert_eq!(m[&1].actor, new);
            assert_eq!(m[&2].actor, user(3), "others are left as they were");
        });
        let row = s
            .rooms
            .with_untracked(|r| r.iter().find(|r| r.id == ConversationId(30)).cloned())
            .unwrap();
        assert_eq!(row.peer.as_ref(), Some(&new));
        assert_eq!(row.name, "Bee", "a private chat is named after its peer");
        assert_eq!(row.last_event.unwrap().actor, new);
        // A member panel fetched before draws the pushed profile.
        assert_eq!(untrack(|| s.latest(user(2))), new);
        assert_eq!(untrack(|| s.latest(user(3))), user(3));
        // My own change: the header and the Me card follow it.
        s.apply_profile(UserBrief {
            avatar: Some(avatar.clone()),
            avatar_url: None,
            bot: false,
            ..user(1)
        });
        assert_eq!(s.me_avatar.get_untracked(), Some(avatar));
        s.apply_profile(user(1));
        assert_eq!(s.me_avatar.get_untracked(), None);
    }
}
