//! Login throttling: failed attempts slow down whoever makes them, not the
//! account they aim at.
//!
//! Two counters of failures are kept: one per (username, client address)
//! and one per client address. Each allows some failures; after those,
//! every further failure makes the next attempt wait, and the wait doubles
//! with each failure up to a cap (OWASP's login-throttling guidance). A
//! success clears the (username, address) counter, so a user who mistyped
//! starts afresh; the address counter only decays, so one valid account
//! cannot be used to reset an address that guesses at others. A stranger's
//! failures against `alice` from their own address never touch `alice`
//! signing in from hers.
//!
//! An attempt counts as a failure from the moment it starts (see
//! [`LoginThrottle::start`]) until it is judged otherwise, so guesses sent in
//! parallel are throttled like guesses sent one after another.
//!
//! Memory is bounded: each table holds at most
//! [`ThrottleConfig::max_entries`] counters; a counter is forgotten once
//! [`ThrottleConfig::forget_after`] has passed since its last attempt or the
//! end of its lock, and when a table is full the forgotten ones are dropped
//! first, then the one that went quiet longest. Usernames are keyed by at
//! most [`USERNAME_MAX`](teahouse_protocol::limits::USERNAME_MAX)
//! characters (no longer name is an account). IPv6 clients are keyed by
//! their /64 network, the block one subscriber usually gets.
//!
//! Times are passed in (`now`), so tests drive the clock.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use teahouse_protocol::limits::USERNAME_MAX;

/// How failed logins are throttled.
#[derive(Clone, Debug)]
pub struct ThrottleConfig {
    /// Failures of one username from one address before each further
    /// attempt must wait: room for typos.
    pub pair_free_failures: u32,
    /// Failures from one address over all usernames before each further
    /// attempt from it must wait; higher, since many people may share an
    /// address (an office behind NAT).
    pub address_free_failures: u32,
    /// The first wait once the free failures are used up; each further
    /// failure doubles it.
    pub base_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
    /// A counter is forgotten this long after its last attempt or the end
    /// of its lock, whichever is later.
    pub forget_after: Duration,
    /// Counters kept per table at most (the memory bound).
    pub max_entries: usize,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            pair_free_failures: 5,
            address_free_failures: 20,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15 * 60),
            forget_after: Duration::from_secs(15 * 60),
            max_entries: 100_000,
        }
    }
}

/// An attempt refused because its key is locked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttled {
    /// How long until an attempt would be considered again.
    pub retry_after: Duration,
}

/// How a started attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The password was right: the (username, address) counter is cleared.
    Succeeded,
    /// The password (or username) was wrong: the attempt stays counted.
    Failed,
    /// The credentials were never checked (the server was busy or failed):
    /// the attempt is not held against anyone.
    NotJudged,
}

/// Failures of one key.
#[derive(Clone, Copy, Debug)]
struct Counter {
    /// Failed (or still running) attempts since the counter was last
    /// cleared or forgotten.
    failures: u32,
    /// No attempt is considered before this.
    locked_until: Option<Instant>,
    /// When the last attempt started: with `locked_until`, when the counter
    /// may be forgotten.
    last_attempt: Instant,
}

impl Counter {
    /// When this counter went (or goes) quiet: the later of its last attempt
    /// and the end of its lock.
    fn quiet_since(&self) -> Instant {
        self.locked_until
            .map_or(self.last_attempt, |until| until.max(self.last_attempt))
    }
}

/// A started attempt, to hand back to [`LoginThrottle::finish`]. Dropping
/// it without finishing leaves it counted as a failure.
#[derive(Debug)]
#[must_use = "finish the attempt with its outcome"]
pub struct Attempt {
    /// The (username, address) counter's key.
    pair: (String, IpAddr),
    /// The address counter's key.
    address: IpAddr,
    /// Each counter's lock before this attempt and the lock this attempt
    /// set, so judging it otherwise can undo exactly its own part.
    pair_locks: (Option<Instant>, Option<Instant>),
    /// The same for the address counter.
    address_locks: (Option<Instant>, Option<Instant>),
}

/// Both tables, behind one lock so an attempt checks and counts them at once.
#[derive(Debug, Default)]
struct Tables {
    /// Counters per (username, address).
    pairs: HashMap<(String, IpAddr), Counter>,
    /// Counters per address.
    addresses: HashMap<IpAddr, Counter>,
}

/// The login throttle shared by every login request.
#[derive(Debug)]
pub struct LoginThrottle {
    /// Thresholds, delays and bounds.
    config: ThrottleConfig,
    /// The counters.
    tables: Mutex<Tables>,
}

impl LoginThrottle {
    pub fn new(config: ThrottleConfig) -> Self {
        LoginThrottle {
            config,
            tables: Mutex::new(Tables::default()),
        }
    }

    /// Starts an attempt by `username` from `client`, or refuses it while
    /// either counter is locked (a refused attempt is not counted: it costs
    /// the server nothing and must not extend the lock forever).
    pub fn start(
        &self,
        username: &str,
        client: IpAddr,
        now: Instant,
    ) -> Result<Attempt, Throttled> {
        let pair = (username_key(username), address_key(client));
        let address = pair.1;
        let mut tables = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        let cfg = &self.config;
        let locked = [
            tables.pairs.get(&pair).filter(|c| !self.forgotten(c, now)),
            tables
                .addresses
                .get(&address)
                .filter(|c| !self.forgotten(c, now)),
        ]
        .into_iter()
        .flatten()
        .filter_map(|c| c.locked_until)
        .filter(|until| *until > now)
        .max();
        if let Some(until) = locked {
            return Err(Throttled {
                retry_after: until - now,
            });
        }
        let pair_locks = self.count(&mut tables.pairs, pair.clone(), cfg.pair_free_failures, now);
        let address_locks = self.count(
            &mut tables.addresses,
            address,
            cfg.address_free_failures,
            now,
        );
        Ok(Attempt {
            pair,
            address,
            pair_locks,
            address_locks,
        })
    }

    /// Records how `attempt` ended.
    pub fn finish(&self, attempt: Attempt, outcome: Outcome) {
        let mut tables = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        match outcome {
            Outcome::Failed => {}
            Outcome::Succeeded => {
                tables.pairs.remove(&attempt.pair);
                undo(
                    &mut tables.addresses,
                    &attempt.address,
                    attempt.address_locks,
                );
            }
            Outcome::NotJudged => {
                undo(&mut tables.pairs, &attempt.pair, attempt.pair_locks);
                undo(
                    &mut tables.addresses,
                    &attempt.address,
                    attempt.address_locks,
                );
            }
        }
    }

    /// Counters currently kept (pairs, addresses), for tests and metrics.
    pub fn len(&self) -> (usize, usize) {
        let tables = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        (tables.pairs.len(), tables.addresses.len())
    }

    /// True when the lock table holds no counter at all.
    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }

    fn forgotten(&self, c: &Counter, now: Instant) -> bool {
        now >= c.quiet_since() + self.config.forget_after
    }

    /// Counts one attempt against `key`, locking the counter when its free
    /// failures are used up. Returns the lock before and the lock after.
    fn count<K: Hash + Eq + Clone>(
        &self,
        map: &mut HashMap<K, Counter>,
        key: K,
        free: u32,
        now: Instant,
    ) -> (Option<Instant>, Option<Instant>) {
        if !map.contains_key(&key) && map.len() >= self.config.max_entries {
            map.retain(|_, c| !self.forgotten(c, now));
            if map.len() >= self.config.max_entries {
                let quietest = map
                    .iter()
                    .min_by_key(|(_, c)| c.quiet_since())
                    .map(|(k, _)| k.clone());
                if let Some(k) = quietest {
                    map.remove(&k);
                }
            }
        }
        let fresh = Counter {
            failures: 0,
            locked_until: None,
            last_attempt: now,
        };
        let counter = map.entry(key).or_insert(fresh);
        if self.forgotten(counter, now) {
            *counter = fresh;
        }
        let before = counter.locked_until;
        counter.failures = counter.failures.saturating_add(1);
        counter.last_attempt = now;
        if let Some(wait) = self.delay(counter.failures, free) {
            counter.locked_until = Some(now + wait);
        }
        (before, counter.locked_until)
    }

    /// The wait imposed after the `failures`-th failure: none while free,
    /// then the base delay, doubling, up to the cap.
    fn delay(&self, failures: u32, free: u32) -> Option<Duration> {
        let beyond = failures.checked_sub(free.max(1))?;
        let factor = 1u32.checked_shl(beyond).unwrap_or(u32::MAX);
        Some(
            self.config
                .base_delay
                .saturating_mul(factor)
                .min(self.config.max_delay),
        )
    }
}

/// Takes back one counted attempt, and the lock it set if no later attempt
/// replaced it.
fn undo<K: Hash + Eq>(
    map: &mut HashMap<K, Counter>,
    key: &K,
    (before, set): (Option<Instant>, Option<Instant>),
) {
    if let Some(c) = map.get_mut(key) {
        c.failures = c.failures.saturating_sub(1);
        if c.locked_until == set {
            c.locked_until = before;
        }
    }
}

/// The username as counters know it: trimmed, lower-cased, at most
/// [`USERNAME_MAX`] characters.
fn username_key(username: &str) -> String {
    username
        .trim()
        .chars()
        .take(USERNAME_MAX + 1)
        .collect::<String>()
        .to_lowercase()
}

/// The client as counters know it: IPv4 (IPv4-mapped IPv6 included) by its
/// address, IPv6 by its /64 network.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(network))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const STRANGER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 66));
    const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(ThrottleConfig {
            pair_free_failures: 3,
            address_free_failures: 6,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(30),
            forget_after: Duration::from_secs(60),
            max_entries: 100,
        })
    }

    /// Fails `n` attempts at `user` from `ip` at `now` (each must be let through).
    fn fail(t: &LoginThrottle, user: &str, ip: IpAddr, now: Instant, n: u32) {
        for i in 0..n {
            let a = t
                .start(user, ip, now)
                .unwrap_or_else(|e| panic!("attempt {i}: {e:?}"));
            t.finish(a, Outcome::Failed);
        }
    }

    #[test]
    fn waits_double_after_the_free_failures_up_to_the_cap() {
        let t = throttle();
        let mut now = Instant::now();
        fail(&t, "alice", STRANGER, now, 3);
        let mut waits = Vec::new();
        for _ in 0..6 {
            let wait = t.start("alice", STRANGER, now).unwrap_err().retry_after;
            waits.push(wait.as_secs());
            now += wait;
            fail(&t, "alice", STRANGER, now, 1);
        }
        assert_eq!(waits, [2, 4, 8, 16, 30, 30]);
    }

    #[test]
    fn a_strangers_failures_do_not_lock_the_owner_out_from_elsewhere() {
        let t = throttle();
        let now = Instant::now();
        fail(&t, "alice", STRANGER, now, 3);
        assert!(t.start("alice", STRANGER, now).is_err());
        assert!(
            t.start("ALICE ", STRANGER, now).is_err(),
            "same name, other case"
        );
        let a = t.start("alice", HOME, now).expect("alice from home");
        t.finish(a, Outcome::Succeeded);
    }

    #[test]
    fn failures_over_many_usernames_lock_the_address() {
        let t = throttle();
        let now = Instant::now();
        for i in 0..6 {
            fail(&t, &format!("user{i}"), STRANGER, now, 1);
        }
        let refused = t.start("someone_new", STRANGER, now).unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(2));
        assert!(t.start("someone_new", HOME, now).is_ok());
    }

    #[test]
    fn a_success_clears_the_pair_but_not_the_address() {
        let t = throttle();
        let now = Instant::now();
        fail(&t, "alice", HOME, now, 2);
        let a = t.start("alice", HOME, now).unwrap();
        t.finish(a, Outcome::Succeeded);
        // Three more free failures: the earlier two were cleared.
        fail(&t, "alice", HOME, now, 3);
        assert!(t.start("alice", HOME, now).is_err());
        // The address kept its five failures: one more locks it.
        fail(&t, "bob", HOME, now, 1);
        assert!(t.start("carol", HOME, now).is_err());
    }

    #[test]
    fn parallel_attempts_count_before_they_are_judged() {
        let t = throttle();
        let now = Instant::now();
        let running: Vec<_> = (0..3)
            .map(|_| t.start("alice", STRANGER, now).unwrap())
            .collect();
        assert!(t.start("alice", STRANGER, now).is_err());
        for a in running {
            t.finish(a, Outcome::NotJudged);
        }
        assert!(
            t.start("alice", STRANGER, now).is_ok(),
            "unjudged attempts are taken back"
        );
    }

    #[test]
    fn a_success_that_reached_the_threshold_does_not_lock_the_address() {
        let t = throttle();
        let now = Instant::now();
        for i in 0..5 {
            fail(&t, &format!("user{i}"), HOME, now, 1);
        }
        let a = t.start("alice", HOME, now).unwrap();
        t.finish(a, Outcome::Succeeded);
        assert!(t.start("bob", HOME, now).is_ok());
    }

    #[test]
    fn counters_are_forgotten_after_a_quiet_period() {
        let t = throttle();
        let now = Instant::now();
        fail(&t, "alice", STRANGER, now, 3);
        let later = now + Duration::from_secs(2 + 60);
        // Forgotten: three free failures again.
        fail(&t, "alice", STRANGER, later, 3);
        assert!(t.start("alice", STRANGER, later).is_err());
    }

    #[test]
    fn tables_stay_bounded() {
        let t = throttle();
        let now = Instant::now();
        for i in 0..1000u32 {
            let ip = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
            fail(
                &t,
                &format!("user{i}"),
                ip,
                now + Duration::from_millis(i.into()),
                1,
            );
        }
        let (pairs, addresses) = t.len();
        assert!(pairs <= 100 && addresses <= 100, "{pairs} {addresses}");
        // The most recent stay.
        assert!(t
            .start(
                "user999",
                IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + 999)),
                now
            )
            .is_ok());
    }

    #[test]
    fn long_usernames_and_ipv6_neighbours_share_a_key() {
        let t = throttle();
        let now = Instant::now();
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let long = "x".repeat(5000);
        fail(&t, &long, a, now, 3);
        assert!(t.start(&format!("{long}y"), b, now).is_err());
        let other_net: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(t.start(&long, other_net, now).is_ok());
        let mapped: IpAddr = "::ffff:10.0.0.66".parse().unwrap();
        assert_eq!(address_key(mapped), STRANGER);
    }
}
