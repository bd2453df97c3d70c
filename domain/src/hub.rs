//! In-process fan-out of room events to live connections: the local
//! [`Publisher`].
//!
//! The hub knows which connections are open for which user (and under which
//! session) and which rooms each user is in. Everything reaches it through
//! the [`Publisher`] seam: committed events, membership changes, "close this
//! session's / this user's sockets", presence. Publishing serializes a frame once and appends the same
//! bytes to every subscribed connection's bounded queue without waiting:
//! nobody ever waits on a slow reader. A connection whose queue is full is
//! *kicked* (told to close with a "resume" reason) and catches up from the log
//! when it reconnects.
//!
//! The per-connection queue is a `VecDeque` behind a mutex plus a `Notify`,
//! not a tokio channel: an idle connection then costs no buffer at all (a
//! bounded channel allocates a block of 32 slots, about 1 KB, up front), and
//! the writer takes everything queued under one lock.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;
use teahouse_protocol::{ConversationId, Seq, ServerFrame, UserBrief, UserId};
use tokio::sync::Notify;

use crate::metrics::ChatMetrics;
use crate::publish::{Publisher, SessionKey, Signal};

/// Identifies one open connection (unique per process).
pub type ConnId = u64;

/// Why the server is closing a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KickReason {
    /// Its outbound queue overflowed: it must resume from the log.
    Lagging,
    /// The server is shutting down.
    Shutdown,
    /// The session the socket was opened under ended (logout, password
    /// change…): do not reconnect until signed in again.
    SessionEnded,
    /// This node is draining (SIGTERM): reconnect, to another node, and
    /// resume.
    Draining,
}

impl KickReason {
    fn to_u8(self) -> u8 {
        match self {
            KickReason::Lagging => 1,
            KickReason::Shutdown => 2,
            KickReason::SessionEnded => 3,
            KickReason::Draining => 4,
        }
    }

    fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(KickReason::Lagging),
            2 => Some(KickReason::Shutdown),
            3 => Some(KickReason::SessionEnded),
            4 => Some(KickReason::Draining),
            _ => None,
        }
    }
}

/// A one-shot "close this connection" signal with its reason.
#[derive(Debug, Default)]
pub struct Kick {
    /// 0 = not kicked; otherwise a [`KickReason`] code. First reason wins.
    reason: AtomicU8,
    /// Wakes the connection task.
    notify: Notify,
}

impl Kick {
    /// Tells the connection to close for `reason`; false if it had been
    /// told already (the first reason stands).
    fn fire(&self, reason: KickReason) -> bool {
        let first = self
            .reason
            .compare_exchange(0, reason.to_u8(), Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if first {
            self.notify.notify_one();
        }
        first
    }

    /// True while the connection has not been kicked.
    pub fn is_clear(&self) -> bool {
        self.reason.load(Ordering::Acquire) == 0
    }

    /// Resolves once the connection has been kicked.
    pub async fn wait(&self) -> KickReason {
        loop {
            if let Some(r) = KickReason::from_u8(self.reason.load(Ordering::Acquire)) {
                return r;
            }
            self.notify.notified().await;
        }
    }
}

/// What the hub and a connection task share: the outbound queue and the kick.
#[derive(Debug, Default)]
struct ConnShared {
    /// The session the socket was opened under, so that ending that session
    /// closes this socket and not the user's others (None: not tied to one).
    session: Option<SessionKey>,
    /// Serialized frames waiting to be written, oldest first. Bounded by the
    /// hub's capacity; empty (and unallocated) while the connection is idle.
    queue: Mutex<Queue>,
    /// Wakes the connection task when the queue goes from empty to not empty.
    ready: Notify,
    /// Fired when the connection must close.
    kick: Kick,
}

/// A connection's outbound frames and how long the queue ever got.
#[derive(Debug, Default)]
struct Queue {
    /// Serialized frames waiting to be written, oldest first.
    frames: VecDeque<Bytes>,
    /// The most frames ever waiting at once (the metric
    /// `teahouse_socket_queue_high_water`, recorded when the socket closes):
    /// kept under the lock the push takes anyway, so it costs a compare.
    high_water: usize,
}

/// The hub's handle on one connection.
type ConnHandle = Arc<ConnShared>;

/// Queues above this capacity are released once drained, so a burst does
/// not leave its buffer behind on an idle connection.
const KEEP_QUEUE_CAPACITY: usize = 16;

/// A connection's receiving end of its queue.
#[derive(Debug)]
pub struct Frames {
    shared: ConnHandle,
}

impl Frames {
    /// The next queued frame, waiting for one if the queue is empty.
    pub async fn recv(&self) -> Bytes {
        loop {
            if let Some(frame) = self.try_recv() {
                return frame;
            }
            self.shared.ready.notified().await;
        }
    }

    /// The next queued frame, if any.
    pub fn try_recv(&self) -> Option<Bytes> {
        let mut queue = self.shared.queue.lock().unwrap_or_else(|p| p.into_inner());
        let frame = queue.frames.pop_front();
        if queue.frames.is_empty() && queue.frames.capacity() > KEEP_QUEUE_CAPACITY {
            queue.frames = VecDeque::new();
        }
        frame
    }
}

/// What the hub knows about one online user.
#[derive(Debug, Default)]
struct UserEntry {
    /// The user's open connections (several tabs/devices).
    conns: HashMap<ConnId, ConnHandle>,
    /// Rooms the user is a member of (kept in step with joins/leaves).
    rooms: HashSet<ConversationId>,
}

#[derive(Debug, Default)]
struct State {
    /// Subscribed connections per room: the fan-out lists.
    rooms: HashMap<ConversationId, HashMap<ConnId, ConnHandle>>,
    /// Online users and their connections.
    users: HashMap<UserId, UserEntry>,
}

/// The fan-out hub. Shared as `Arc<Hub>`.
#[derive(Debug)]
pub struct Hub {
    state: RwLock<State>,
    /// Source of connection ids.
    next_conn: AtomicU64,
    /// Frames a connection may have queued before it is kicked.
    capacity: usize,
    /// Presence is not broadcast through rooms with more online connections
    /// than this (a join storm in a huge room would be O(n²) frames).
    presence_room_limit: usize,
    /// Deliveries, kicks and queue high-water marks (see [`crate::metrics`]).
    metrics: ChatMetrics,
}

/// A live connection's end of the hub. Dropping it unsubscribes.
#[derive(Debug)]
pub struct Subscription {
    pub conn_id: ConnId,
    pub user_id: UserId,
    /// Serialized frames to write to the socket, in order.
    pub rx: Frames,
    /// To unregister on drop.
    hub: Arc<Hub>,
    /// Told when the user's last connection closes (presence).
    publisher: Arc<dyn Publisher>,
}

impl Subscription {
    /// Resolves once the connection must close, with the reason.
    pub async fn kicked(&self) -> KickReason {
        self.rx.shared.kick.wait().await
    }

    /// True once the connection has been told to close.
    pub fn is_kicked(&self) -> bool {
        !self.rx.shared.kick.is_clear()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let high_water = {
            let queue = self
                .rx
                .shared
                .queue
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            queue.high_water
        };
        self.hub.metrics.queue_high_water.record(high_water as f64);
        if let Some(rooms) = self.hub.unregister(self.user_id, self.conn_id) {
            self.publisher.signal(Signal::Presence {
                user: self.user_id,
                online: false,
                conversations: rooms,
            });
        }
    }
}

/// Serializes a frame once for every recipient.
pub fn encode(frame: &ServerFrame) -> Bytes {
    // Serializing these plain data types cannot fail; an empty frame would be
    // ignored by clients rather than crash anything.
    Bytes::from(serde_json::to_vec(frame).unwrap_or_default())
}

impl Hub {
    pub fn new(capacity: usize, presence_room_limit: usize, metrics: ChatMetrics) -> Arc<Hub> {
        Arc::new(Hub {
            state: RwLock::new(State::default()),
            next_conn: AtomicU64::new(1),
            capacity: capacity.max(1),
            presence_room_limit,
            metrics,
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens a connection for `user_id` under `session`, subscribed to
    /// `rooms`. If this is the user's first connection, `publisher` is told
    /// they came online; it is told again when the last one closes.
    pub fn register(
        self: &Arc<Self>,
        publisher: Arc<dyn Publisher>,
        user_id: UserId,
        session: Option<SessionKey>,
        rooms: &[ConversationId],
    ) -> Subscription {
        let conn_id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let handle: ConnHandle = Arc::new(ConnShared {
            session,
            ..ConnShared::default()
        });
        let (first, all_rooms) = {
            let mut st = self.write();
            let entry = st.users.entry(user_id).or_default();
            let first = entry.conns.is_empty();
            entry.conns.insert(conn_id, handle.clone());
            entry.rooms.extend(rooms.iter().copied());
            let all_rooms: Arc<[ConversationId]> = entry.rooms.iter().copied().collect();
            for room in all_rooms.iter() {
                st.rooms
                    .entry(*room)
                    .or_default()
                    .insert(conn_id, handle.clone());
            }
            (first, all_rooms)
        };
        if first {
            publisher.signal(Signal::Presence {
                user: user_id,
                online: true,
                conversations: all_rooms,
            });
        }
        Subscription {
            conn_id,
            user_id,
            rx: Frames { shared: handle },
            hub: self.clone(),
            publisher,
        }
    }

    /// Forgets a connection. Returns the user's rooms if it was their last
    /// one (they went offline).
    fn unregister(&self, user_id: UserId, conn_id: ConnId) -> Option<Arc<[ConversationId]>> {
        let mut st = self.write();
        let entry = st.users.get_mut(&user_id)?;
        entry.conns.remove(&conn_id);
        let rooms: Arc<[ConversationId]> = entry.rooms.iter().copied().collect();
        let last = entry.conns.is_empty();
        if last {
            st.users.remove(&user_id);
        }
        for room in rooms.iter() {
            if let Some(subs) = st.rooms.get_mut(room) {
                subs.remove(&conn_id);
                if subs.is_empty() {
                    st.rooms.remove(room);
                }
            }
        }
        last.then_some(rooms)
    }

    /// Pushes a serialized frame to every connection subscribed to
    /// `room_id`. Returns how many queues accepted it.
    pub fn publish_bytes(&self, room_id: ConversationId, bytes: Bytes) -> usize {
        let st = self.read();
        let Some(subs) = st.rooms.get(&room_id) else {
            return 0;
        };
        let n = subs.values().filter(|c| self.offer(c, &bytes)).count();
        self.metrics.deliveries.increment(n as u64);
        n
    }

    /// Non-blocking enqueue; a full queue kicks the connection.
    fn offer(&self, conn: &ConnHandle, bytes: &Bytes) -> bool {
        if !conn.kick.is_clear() {
            return false;
        }
        let was_empty = {
            let mut queue = conn.queue.lock().unwrap_or_else(|p| p.into_inner());
            let waiting = queue.frames.len();
            if waiting >= self.capacity {
                drop(queue);
                self.kick(conn, KickReason::Lagging);
                return false;
            }
            queue.frames.push_back(bytes.clone());
            queue.high_water = queue.high_water.max(waiting + 1);
            waiting == 0
        };
        if was_empty {
            conn.ready.notify_one();
        }
        true
    }

    /// `user_id` joined `room_id`: subscribe their open connections.
    fn add_member(&self, user_id: UserId, room_id: ConversationId) {
        let mut st = self.write();
        let Some(entry) = st.users.get_mut(&user_id) else {
            return;
        };
        entry.rooms.insert(room_id);
        let conns: Vec<(ConnId, ConnHandle)> =
            entry.conns.iter().map(|(k, v)| (*k, v.clone())).collect();
        st.rooms.entry(room_id).or_default().extend(conns);
    }

    /// `user_id` left `room_id`: unsubscribe their connections.
    fn remove_member(&self, user_id: UserId, room_id: ConversationId) {
        let mut st = self.write();
        let Some(entry) = st.users.get_mut(&user_id) else {
            return;
        };
        entry.rooms.remove(&room_id);
        let ids: Vec<ConnId> = entry.conns.keys().copied().collect();
        if let Some(subs) = st.rooms.get_mut(&room_id) {
            for id in ids {
                subs.remove(&id);
            }
            if subs.is_empty() {
                st.rooms.remove(&room_id);
            }
        }
    }

    /// Closes those of `user_id`'s connections that `which` picks.
    fn kick_user(&self, user_id: UserId, which: impl Fn(Option<SessionKey>) -> bool) {
        let st = self.read();
        let Some(entry) = st.users.get(&user_id) else {
            return;
        };
        entry
            .conns
            .values()
            .filter(|c| which(c.session))
            .for_each(|c| self.kick(c, KickReason::SessionEnded));
    }

    /// Tells `conn` to close for `reason`, counting it if it is news.
    fn kick(&self, conn: &ConnShared, reason: KickReason) {
        if conn.kick.fire(reason) {
            self.metrics.kicked(reason);
        }
    }

    /// Sends `user`'s new profile to every connection in `rooms`, each once
    /// (theirs included: their other tabs redraw too). Rare and
    /// user-initiated, so unlike presence not limited by room size.
    fn broadcast_profile(&self, user: &UserBrief, rooms: &[ConversationId]) {
        let bytes = encode(&ServerFrame::UserUpdated { user: user.clone() });
        let st = self.read();
        let mut seen: HashSet<ConnId> = HashSet::new();
        if let Some(own) = st.users.get(&user.id) {
            for (id, conn) in &own.conns {
                seen.insert(*id);
                self.offer(conn, &bytes);
            }
        }
        for subs in rooms.iter().filter_map(|r| st.rooms.get(r)) {
            for (id, conn) in subs {
                if seen.insert(*id) {
                    self.offer(conn, &bytes);
                }
            }
        }
    }

    /// Closes every connection (shutdown).
    pub fn kick_all(&self, reason: KickReason) {
        let st = self.read();
        st.users
            .values()
            .flat_map(|u| u.conns.values())
            .for_each(|c| self.kick(c, reason));
    }

    /// Closes every open connection with [`KickReason::Draining`], one at a
    /// time, evenly spread over `window` (the first at once, the last at
    /// `window × (n−1)/n`), so their clients do not all reconnect in the
    /// same instant; resolves after the last. Connections opened meanwhile
    /// are closed at the end (the caller stops accepting new ones first).
    pub async fn drain(&self, window: std::time::Duration) {
        let conns: Vec<ConnHandle> = {
            let st = self.read();
            st.users
                .values()
                .flat_map(|u| u.conns.values().cloned())
                .collect()
        };
        let start = tokio::time::Instant::now();
        let n = conns.len() as u32;
        for (i, conn) in (0u32..).zip(&conns) {
            tokio::time::sleep_until(start + window * i / n.max(1)).await;
            // Only this list still holds a connection that closed meanwhile.
            if Arc::strong_count(conn) > 1 {
                self.kick(conn, KickReason::Draining);
            }
        }
        self.kick_all(KickReason::Draining);
    }

    /// Queues `frame` on every connection of `user` (their role changed,
    /// their read position moved, …).
    fn send_to_user(&self, user: UserId, frame: &Bytes) {
        let st = self.read();
        if let Some(entry) = st.users.get(&user) {
            for conn in entry.conns.values() {
                self.offer(conn, frame);
            }
        }
    }

    /// True while `user` has an open connection on this process.
    pub fn is_online(&self, user: UserId) -> bool {
        self.read().users.contains_key(&user)
    }

    /// How many connections `user` has open on this process (their tabs
    /// and devices).
    pub fn connections_of(&self, user: UserId) -> usize {
        self.read().users.get(&user).map_or(0, |e| e.conns.len())
    }

    /// Every user with an open connection on this process, with how many.
    pub fn online_users(&self) -> Vec<(UserId, usize)> {
        self.read()
            .users
            .iter()
            .map(|(id, e)| (*id, e.conns.len()))
            .collect()
    }

    /// True if `user` has a connection opened under another session than
    /// `session` (or under none).
    pub fn online_outside_session(&self, user: UserId, session: SessionKey) -> bool {
        self.read()
            .users
            .get(&user)
            .is_some_and(|e| e.conns.values().any(|c| c.session != Some(session)))
    }

    /// Tells the connections subscribed to `room` (not `user`'s own) that
    /// `user` is typing there.
    fn broadcast_typing(&self, user: &UserBrief, room: ConversationId) {
        let bytes = encode(&ServerFrame::Typing {
            room_id: room,
            user: user.clone(),
        });
        let st = self.read();
        let own = st.users.get(&user.id);
        if let Some(subs) = st.rooms.get(&room) {
            for (id, conn) in subs {
                if !own.is_some_and(|e| e.conns.contains_key(id)) {
                    self.offer(conn, &bytes);
                }
            }
        }
    }

    /// Number of open connections.
    pub fn connection_count(&self) -> usize {
        self.read().users.values().map(|u| u.conns.len()).sum()
    }

    /// Tells the other online members of `rooms` (those not too large) that
    /// `user_id` came online / went offline. Each connection gets it once.
    fn broadcast_presence(&self, user_id: UserId, rooms: &[ConversationId], online: bool) {
        let bytes = encode(&ServerFrame::Presence { user_id, online });
        let st = self.read();
        let own: HashSet<ConnId> = st
            .users
            .get(&user_id)
            .map(|e| e.conns.keys().copied().collect())
            .unwrap_or_default();
        let mut seen: HashSet<ConnId> = HashSet::new();
        for room in rooms {
            let Some(subs) = st.rooms.get(room) else {
                continue;
            };
            if subs.len() > self.presence_room_limit {
                continue;
            }
            for (id, conn) in subs {
                if !own.contains(id) && seen.insert(*id) {
                    self.offer(conn, &bytes);
                }
            }
        }
    }
}

impl Publisher for Hub {
    fn publish(&self, conversation: ConversationId, _seq: Seq, frame: Bytes) {
        self.publish_bytes(conversation, frame);
    }

    fn signal(&self, signal: Signal) {
        match signal {
            Signal::Joined { user, conversation } => self.add_member(user, conversation),
            Signal::Left { user, conversation } => self.remove_member(user, conversation),
            Signal::EndSession { user, session } => self.kick_user(user, |s| s == Some(session)),
            Signal::EndUser { user, except } => {
                self.kick_user(user, |s| except.is_none() || s != except)
            }
            Signal::ProfileChanged {
                user,
                conversations,
            } => self.broadcast_profile(&user, &conversations),
            Signal::Presence {
                user,
                online,
                conversations,
            } => self.broadcast_presence(user, &conversations, online),
            Signal::ToUser { user, frame } => self.send_to_user(user, &frame),
            Signal::ReadMoved { user, state } => {
                self.send_to_user(user, &encode(&ServerFrame::Read { state }))
            }
            Signal::Typing { user, conversation } => self.broadcast_typing(&user, conversation),
        }
    }
}
