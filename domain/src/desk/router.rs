//! The desk's router: one task that makes every automatic assignment, so
//! two of them never race (manual accepts race only with each other and
//! with it, and the store's guarded UPDATE settles those).
//!
//! It hears presence (through [`super::watch::DeskWatch`]), logouts, role
//! changes and "something changed" kicks, and then:
//! - gives the oldest waiting conversation to the online agent with the
//!   fewest open conversations, below the per-agent maximum; ties go to
//!   whoever was given one longest ago (round robin), then the lowest id;
//!   again until nobody waits or nobody can take one;
//! - when a staff member's last socket closes, waits the grace period; if
//!   they are still away then, their conversations go back to the front of
//!   the queue and are given to others (at start-up, everyone holding
//!   conversations gets the same grace to reconnect).

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use teahouse_protocol::{ErrorCode, UserId, UserRole};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

use crate::{Chat, DomainError, Result};

/// What the router is told.
#[derive(Debug)]
pub(crate) enum DeskInput {
    /// A user's first socket opened / last socket closed.
    Presence { user: UserId, online: bool },
    /// A user signed out; `still_online`: sockets of another session remain.
    Logout { user: UserId, still_online: bool },
    /// A user's role changed.
    RoleChanged { user: UserId, role: UserRole },
    /// Conversations may be waiting that someone could take.
    Reassign,
}

/// The router's memory.
struct Router {
    /// The service (the router ends when it is gone).
    chat: Weak<Chat>,
    /// Agents and admins, with their role.
    staff: HashMap<UserId, UserRole>,
    /// Staff whose last socket closed, and when their grace period ends.
    away: HashMap<UserId, Instant>,
    /// When each agent was last given a conversation (a counter), for fair ties.
    last_given: HashMap<UserId, u64>,
    /// The counter.
    given: u64,
}

/// Starts the router of `chat`'s desk.
pub(crate) async fn spawn(chat: &Arc<Chat>) -> Result<()> {
    let Some(inbox) = chat.desk.take_inbox() else {
        return Ok(());
    };
    let staff = chat
        .store
        .staff()
        .await?
        .into_iter()
        .map(|s| (s.user.id, s.role))
        .collect();
    let grace = chat.desk.config.grace;
    let start = Instant::now();
    let away = chat
        .store
        .open_counts()
        .await?
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(agent, _)| (agent, start + grace))
        .collect();
    let router = Router {
        chat: Arc::downgrade(chat),
        staff,
        away,
        last_given: HashMap::new(),
        given: 0,
    };
    tokio::spawn(router.run(inbox));
    Ok(())
}

impl Router {
    async fn run(mut self, mut inbox: UnboundedReceiver<DeskInput>) {
        // Conversations left waiting by a previous run.
        self.assign_waiting().await;
        loop {
            let next_deadline = self.away.values().min().copied();
            let input = match next_deadline {
                Some(at) => tokio::select! {
                    input = inbox.recv() => input,
                    _ = tokio::time::sleep_until(at) => {
                        self.grace_over().await;
                        continue;
                    }
                },
                None => inbox.recv().await,
            };
            let Some(input) = input else { return };
            if self.chat.upgrade().is_none() {
                return;
            }
            if let Err(e) = self.handle(input).await {
                tracing::error!(error = %e, "support desk router");
            }
        }
    }

    fn grace(&self) -> Duration {
        self.chat
            .upgrade()
            .map(|c| c.desk.config.grace)
            .unwrap_or_default()
    }

    async fn handle(&mut self, input: DeskInput) -> Result<()> {
        match input {
            DeskInput::Presence { user, online } => {
                if online && !self.staff.contains_key(&user) {
                    // Made staff outside this process (`teahouse grant-role`).
                    if let Some(chat) = self.chat.upgrade() {
                        if let Some(role) = chat.store.role(user).await?.filter(|r| r.is_staff()) {
                            self.staff.insert(user, role);
                        }
                    }
                }
                if !self.staff.contains_key(&user) {
                    return Ok(());
                }
                if online {
                    self.away.remove(&user);
                } else {
                    self.away.insert(user, Instant::now() + self.grace());
                }
                if online {
                    self.assign_waiting().await;
                }
            }
            DeskInput::Logout { user, still_online } => {
                if self.staff.contains_key(&user) && !still_online {
                    self.away.remove(&user);
                    self.give_back(user, "logout").await?;
                    // Their sockets close next: not back until they return.
                    self.away
                        .insert(user, Instant::now() + Duration::from_secs(3600));
                    self.assign_waiting().await;
                }
            }
            DeskInput::RoleChanged { user, role } => {
                if role.is_staff() {
                    self.staff.insert(user, role);
                } else {
                    self.staff.remove(&user);
                    self.away.remove(&user);
                }
                self.assign_waiting().await;
            }
            DeskInput::Reassign => self.assign_waiting().await,
        }
        Ok(())
    }

    /// Staff whose grace period ended and who are still away lose their
    /// conversations to the queue.
    async fn grace_over(&mut self) {
        let now = Instant::now();
        let over: Vec<UserId> = self
            .away
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(u, _)| *u)
            .collect();
        for user in over {
            self.away.remove(&user);
            let Some(chat) = self.chat.upgrade() else {
                return;
            };
            if chat.hub.is_online(user) {
                continue;
            }
            if let Err(e) = self.give_back(user, "offline").await {
                tracing::error!(error = %e, user_id = %user, "returning an agent's conversations");
            }
        }
        self.assign_waiting().await;
    }

    async fn give_back(&self, user: UserId, reason: &str) -> Result<()> {
        let Some(chat) = self.chat.upgrade() else {
            return Ok(());
        };
        if let Some(brief) = chat.user(user).await? {
            chat.return_conversations(&brief, reason).await?;
        }
        Ok(())
    }

    /// Assigns waiting conversations while someone can take one.
    async fn assign_waiting(&mut self) {
        let Some(chat) = self.chat.upgrade() else {
            return;
        };
        let max = chat.desk.config.max_per_agent;
        let mut changed = false;
        // Bounded: each round assigns one conversation or stops.
        for _ in 0..10_000 {
            match self.assign_one(&chat, max).await {
                Ok(true) => changed = true,
                Ok(false) => break,
                Err(e) => {
                    tracing::error!(error = %e, "assigning a waiting conversation");
                    break;
                }
            }
        }
        if changed {
            chat.desk_changed().await;
        }
    }

    /// Gives the oldest waiting conversation to the best agent; false when
    /// none waits or nobody can take it.
    async fn assign_one(&mut self, chat: &Arc<Chat>, max: u32) -> Result<bool> {
        let Some(room) = chat.store.next_waiting().await? else {
            return Ok(false);
        };
        let loads: HashMap<UserId, u32> = chat.store.open_counts().await?.into_iter().collect();
        let best = self
            .staff
            .iter()
            .filter(|(id, role)| {
                **role == UserRole::Agent && !self.away.contains_key(id) && chat.hub.is_online(**id)
            })
            .map(|(id, _)| {
                (
                    *loads.get(id).unwrap_or(&0),
                    self.last_given.get(id).copied().unwrap_or(0),
                    *id,
                )
            })
            .filter(|(load, _, _)| *load < max)
            .min();
        let Some((_, _, agent)) = best else {
            return Ok(false);
        };
        let Some(agent_brief) = chat.user(agent).await? else {
            self.staff.remove(&agent);
            return Ok(true);
        };
        let system = chat.desk.system.clone();
        match chat
            .assign_and_publish(room, &agent_brief, &system, Some(max))
            .await
        {
            Ok(_) => {
                self.given += 1;
                self.last_given.insert(agent, self.given);
                Ok(true)
            }
            // Taken meanwhile (an agent accepted it) or full: look again.
            Err(DomainError::Rejected(e))
                if matches!(
                    e.code,
                    ErrorCode::AlreadyAssigned
                        | ErrorCode::SupportNotOpen
                        | ErrorCode::AgentAtCapacity
                ) =>
            {
                Ok(true)
            }
            Err(e) => Err(e),
        }
    }
}
