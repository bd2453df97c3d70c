//! The browser's view of the chat: the conversation list, the loaded part of
//! each room's log, unread counts and presence. Live frames from the socket
//! and answers from server functions both land here, keyed by sequence
//! number, so nothing is shown twice and gaps are detected.

use std::collections::{BTreeMap, HashMap, HashSet};

use leptos::prelude::*;
use teahouse_protocol::{EventBody, RoomEvent, RoomId, RoomSummary, Seq, UserBrief, UserId};

/// State of the push connection, for the status banner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Live {
    Connecting,
    Open,
    Down,
}

/// Shared client state, provided by the chat page. All fields are signals,
/// so the struct is `Copy`.
#[derive(Clone, Copy)]
pub struct ChatState {
    /// The logged-in user.
    pub me: StoredValue<UserBrief>,
    /// Conversation list, most recently active first.
    pub rooms: RwSignal<Vec<RoomSummary>>,
    /// Loaded events per room (only rooms that were opened), by seq.
    pub logs: RwSignal<HashMap<RoomId, BTreeMap<Seq, RoomEvent>>>,
    /// Unread message counts for rooms not currently open.
    pub unread: RwSignal<HashMap<RoomId, u32>>,
    /// Users known to be online.
    pub online: RwSignal<HashSet<UserId>>,
    /// The room shown in the chat pane.
    pub open_room: RwSignal<Option<RoomId>>,
    /// Push connection status.
    pub live: RwSignal<Live>,
}

/// What the caller should do after [`ChatState::apply_event`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Follow {
    Nothing,
    /// Events between `after` and the new one are missing: fetch them.
    FetchGap {
        room_id: RoomId,
        after: Seq,
    },
    /// The room is not in the list (joined elsewhere): reload the list.
    ReloadRooms,
}

impl ChatState {
    pub fn new(me: UserBrief, rooms: Vec<RoomSummary>) -> Self {
        ChatState {
            me: StoredValue::new(me),
            rooms: RwSignal::new(rooms),
            logs: RwSignal::new(HashMap::new()),
            unread: RwSignal::new(HashMap::new()),
            online: RwSignal::new(HashSet::new()),
            open_room: RwSignal::new(None),
            live: RwSignal::new(Live::Connecting),
        }
    }

    pub fn me_id(&self) -> UserId {
        self.me.with_value(|m| m.id)
    }

    /// Adds events fetched over HTTP (history or catch-up).
    pub fn merge(&self, room_id: RoomId, events: Vec<RoomEvent>) {
        if events.is_empty() {
            self.logs.update(|l| {
                l.entry(room_id).or_default();
            });
            return;
        }
        self.logs.update(|l| {
            let log = l.entry(room_id).or_default();
            for e in events {
                log.insert(e.seq, e);
            }
        });
    }

    /// Highest seq loaded for a room.
    pub fn last_loaded(&self, room_id: RoomId) -> Option<Seq> {
        self.logs
            .with_untracked(|l| l.get(&room_id).and_then(|m| m.keys().next_back().copied()))
    }

    /// Applies a live event; returns what else needs fetching.
    pub fn apply_event(&self, ev: RoomEvent) -> Follow {
        let room_id = ev.room_id;
        let me = self.me_id();
        let mut follow = Follow::Nothing;
        // 1. The log, if this room's log is loaded.
        let gap_after = self.logs.with_untracked(|l| {
            l.get(&room_id)
                .and_then(|m| m.keys().next_back().copied())
                .filter(|last| ev.seq > last + 1)
        });
        if let Some(after) = gap_after {
            follow = Follow::FetchGap { room_id, after };
        }
        if self.logs.with_untracked(|l| l.contains_key(&room_id)) {
            self.logs.update(|l| {
                if let Some(m) = l.get_mut(&room_id) {
                    m.insert(ev.seq, ev.clone());
                }
            });
        }
        // 2. Unread badge.
        let is_message = matches!(ev.body, EventBody::Message { .. });
        if is_message && ev.actor.id != me && self.open_room.get_untracked() != Some(room_id) {
            self.unread.update(|u| *u.entry(room_id).or_default() += 1);
        }
        // 3. The conversation list.
        let i_left = ev.body == EventBody::MemberLeft && ev.actor.id == me;
        let known = self
            .rooms
            .with_untracked(|r| r.iter().any(|s| s.id == room_id));
        if i_left {
            self.rooms.update(|r| r.retain(|s| s.id != room_id));
            self.logs.update(|l| {
                l.remove(&room_id);
            });
        } else if known {
            self.rooms.update(|rooms| {
                if let Some(pos) = rooms.iter().position(|s| s.id == room_id) {
                    let mut s = rooms.remove(pos);
                    if ev.seq >= s.last_seq {
                        s.last_seq = ev.seq;
                        match ev.body {
                            EventBody::MemberJoined => s.member_count += 1,
                            EventBody::MemberLeft => s.member_count = (s.member_count - 1).max(0),
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

    /// Replaces the conversation list after a reconnect, counting events that
    /// arrived meanwhile as unread.
    pub fn replace_rooms(&self, fresh: Vec<RoomSummary>) {
        let open = self.open_room.get_untracked();
        let before: HashMap<RoomId, Seq> = self
            .rooms
            .with_untracked(|r| r.iter().map(|s| (s.id, s.last_seq)).collect());
        let me = self.me_id();
        self.unread.update(|u| {
            for s in &fresh {
                let from_me = s.last_event.as_ref().is_some_and(|e| e.actor.id == me);
                if let Some(old) = before.get(&s.id) {
                    if s.last_seq > *old && Some(s.id) != open && !from_me {
                        *u.entry(s.id).or_default() += (s.last_seq - old) as u32;
                    }
                }
            }
        });
        self.rooms.set(fresh);
    }

    /// Marks a room as read (it is open on screen).
    pub fn mark_read(&self, room_id: RoomId) {
        self.unread.update(|u| {
            u.remove(&room_id);
        });
    }

    /// Adds or moves a room to the top of the list (after create/join).
    pub fn upsert_room(&self, summary: RoomSummary) {
        self.rooms.update(|r| {
            r.retain(|s| s.id != summary.id);
            r.insert(0, summary);
        });
    }
}
