//! In-process fan-out of room events to live connections.
//!
//! The hub knows which connections are open for which user and which rooms
//! each user is in. Publishing serializes a frame once and hands the same
//! bytes to every subscribed connection's bounded queue with `try_send`:
//! nobody ever waits on a slow reader. A connection whose queue is full is
//! *kicked* (told to close with a "resume" reason) and catches up from the log
//! when it reconnects.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;
use teahouse_protocol::{RoomId, ServerFrame, UserId};
use tokio::sync::{mpsc, Notify};

/// Identifies one open connection (unique per process).
pub type ConnId = u64;

/// Why the server is closing a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KickReason {
    /// Its outbound queue overflowed: it must resume from the log.
    Lagging,
    /// The server is shutting down.
    Shutdown,
}

impl KickReason {
    fn to_u8(self) -> u8 {
        match self {
            KickReason::Lagging => 1,
            KickReason::Shutdown => 2,
        }
    }

    fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(KickReason::Lagging),
            2 => Some(KickReason::Shutdown),
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
    fn fire(&self, reason: KickReason) {
        if self
            .reason
            .compare_exchange(0, reason.to_u8(), Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.notify.notify_one();
        }
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

/// The hub's handle on one connection.
#[derive(Clone, Debug)]
struct ConnHandle {
    /// Bounded outbound queue of serialized frames.
    tx: mpsc::Sender<Bytes>,
    /// Fired when the connection must close.
    kick: Arc<Kick>,
}

/// What the hub knows about one online user.
#[derive(Debug, Default)]
struct UserEntry {
    /// The user's open connections (several tabs/devices).
    conns: HashMap<ConnId, ConnHandle>,
    /// Rooms the user is a member of (kept in step with joins/leaves).
    rooms: HashSet<RoomId>,
}

#[derive(Debug, Default)]
struct State {
    /// Subscribed connections per room: the fan-out lists.
    rooms: HashMap<RoomId, HashMap<ConnId, ConnHandle>>,
    /// Online users and their connections.
    users: HashMap<UserId, UserEntry>,
}

/// Counters for operators and benchmarks.
#[derive(Debug, Default)]
pub struct HubStats {
    /// Frames handed to connection queues.
    pub delivered: AtomicU64,
    /// Connections cut off because their queue was full.
    pub kicked_lagging: AtomicU64,
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
    pub stats: HubStats,
}

/// A live connection's end of the hub. Dropping it unsubscribes.
#[derive(Debug)]
pub struct Subscription {
    pub conn_id: ConnId,
    pub user_id: UserId,
    /// Serialized frames to write to the socket, in order.
    pub rx: mpsc::Receiver<Bytes>,
    /// Fires when the connection must close.
    pub kick: Arc<Kick>,
    hub: Arc<Hub>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.unregister(self.user_id, self.conn_id);
    }
}

/// Serializes a frame once for every recipient.
pub fn encode(frame: &ServerFrame) -> Bytes {
    // Serializing these plain data types cannot fail; an empty frame would be
    // ignored by clients rather than crash anything.
    Bytes::from(serde_json::to_vec(frame).unwrap_or_default())
}

impl Hub {
    pub fn new(capacity: usize, presence_room_limit: usize) -> Arc<Hub> {
        Arc::new(Hub {
            state: RwLock::new(State::default()),
            next_conn: AtomicU64::new(1),
            capacity: capacity.max(1),
            presence_room_limit,
            stats: HubStats::default(),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens a connection for `user_id`, subscribed to `rooms`. Announces the
    /// user as online if this is their first connection.
    pub fn register(self: &Arc<Self>, user_id: UserId, rooms: &[RoomId]) -> Subscription {
        let conn_id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(self.capacity);
        let kick = Arc::new(Kick::default());
        let handle = ConnHandle {
            tx,
            kick: kick.clone(),
        };
        let (first, all_rooms) = {
            let mut st = self.write();
            let entry = st.users.entry(user_id).or_default();
            let first = entry.conns.is_empty();
            entry.conns.insert(conn_id, handle.clone());
            entry.rooms.extend(rooms.iter().copied());
            let all_rooms: Vec<RoomId> = entry.rooms.iter().copied().collect();
            for room in &all_rooms {
                st.rooms
                    .entry(*room)
                    .or_default()
                    .insert(conn_id, handle.clone());
            }
            (first, all_rooms)
        };
        if first {
            self.broadcast_presence(user_id, &all_rooms, true);
        }
        Subscription {
            conn_id,
            user_id,
            rx,
            kick,
            hub: self.clone(),
        }
    }

    fn unregister(&self, user_id: UserId, conn_id: ConnId) {
        let (last, rooms) = {
            let mut st = self.write();
            let Some(entry) = st.users.get_mut(&user_id) else {
                return;
            };
            entry.conns.remove(&conn_id);
            let rooms: Vec<RoomId> = entry.rooms.iter().copied().collect();
            let last = entry.conns.is_empty();
            if last {
                st.users.remove(&user_id);
            }
            for room in &rooms {
                if let Some(subs) = st.rooms.get_mut(room) {
                    subs.remove(&conn_id);
                    if subs.is_empty() {
                        st.rooms.remove(room);
                    }
                }
            }
            (last, rooms)
        };
        if last {
            self.broadcast_presence(user_id, &rooms, false);
        }
    }

    /// Pushes `frame` to every connection subscribed to `room_id`. Returns
    /// how many queues accepted it.
    pub fn publish(&self, room_id: RoomId, frame: &ServerFrame) -> usize {
        self.publish_bytes(room_id, encode(frame))
    }

    /// Like [`Hub::publish`] with an already serialized frame.
    pub fn publish_bytes(&self, room_id: RoomId, bytes: Bytes) -> usize {
        let st = self.read();
        let Some(subs) = st.rooms.get(&room_id) else {
            return 0;
        };
        let n = subs.values().filter(|c| self.offer(c, &bytes)).count();
        self.stats.delivered.fetch_add(n as u64, Ordering::Relaxed);
        n
    }

    /// Non-blocking enqueue; a full queue kicks the connection.
    fn offer(&self, conn: &ConnHandle, bytes: &Bytes) -> bool {
        match conn.tx.try_send(bytes.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.stats.kicked_lagging.fetch_add(1, Ordering::Relaxed);
                conn.kick.fire(KickReason::Lagging);
                false
            }
            // The connection is closing; its Subscription drop will clean up.
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// `user_id` joined `room_id`: subscribe their open connections.
    pub fn add_member(&self, user_id: UserId, room_id: RoomId) {
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
    pub fn remove_member(&self, user_id: UserId, room_id: RoomId) {
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

    /// Closes every connection (shutdown).
    pub fn kick_all(&self, reason: KickReason) {
        let st = self.read();
        st.users
            .values()
            .flat_map(|u| u.conns.values())
            .for_each(|c| c.kick.fire(reason));
    }

    /// Number of open connections.
    pub fn connection_count(&self) -> usize {
        self.read().users.values().map(|u| u.conns.len()).sum()
    }

    /// Tells the other online members of `rooms` (those not too large) that
    /// `user_id` came online / went offline. Each connection gets it once.
    fn broadcast_presence(&self, user_id: UserId, rooms: &[RoomId], online: bool) {
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
