//! Pure presentation helpers: generated avatars and time labels. Identical on
//! server and browser, so server-rendered HTML hydrates without surprises.

use teahouse_protocol::{ConversationId, Lang, UserId};

/// How many avatar colours there are: classes `avatar-c0` … `avatar-c23` in
/// the style sheet, hues 15° apart. Classes rather than a `style` attribute:
/// the Content-Security-Policy allows no inline styles.
pub const AVATAR_COLORS: u64 = 24;

/// Whose generated avatar is drawn: a user's or a conversation's (the
/// conversation list and the directory). Two cases, so that a conversation
/// id can never be taken for a user id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AvatarOf {
    /// A person.
    User(UserId),
    /// A conversation (a room's avatar in lists).
    Conversation(ConversationId),
}

impl From<UserId> for AvatarOf {
    fn from(id: UserId) -> Self {
        AvatarOf::User(id)
    }
}

impl From<ConversationId> for AvatarOf {
    fn from(id: ConversationId) -> Self {
        AvatarOf::Conversation(id)
    }
}

/// The class giving a generated avatar its background colour, derived from
/// the id (the same colours as before ids had their own types).
pub fn avatar_color(of: AvatarOf) -> String {
    let id = match of {
        AvatarOf::User(id) => id.0,
        AvatarOf::Conversation(id) => id.0,
    };
    let hue = (id.unsigned_abs().wrapping_mul(137)) % 360;
    format!("avatar-c{}", hue * AVATAR_COLORS / 360)
}

/// The letter(s) shown in a generated avatar: the first character of the
/// nickname (upper-cased for Latin script).
pub fn avatar_initial(nickname: &str) -> String {
    nickname
        .trim()
        .chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_else(|| "?".into())
}

/// Civil date-time parts of a Unix-ms instant at a fixed UTC offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
}

/// Converts `at_ms` to local civil time, `offset_min` minutes east of UTC.
pub fn clock(at_ms: i64, offset_min: i32) -> Clock {
    let secs = at_ms.div_euclid(1000) + i64::from(offset_min) * 60;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-from-civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Clock {
        year,
        month,
        day,
        hour: (rem / 3600) as u32,
        minute: ((rem % 3600) / 60) as u32,
    }
}

/// "14:05" today, "11月3日 14:05" / "Nov 3 14:05" on other days this year,
/// with the year added for older dates.
pub fn time_label(at_ms: i64, now_ms: i64, offset_min: i32, lang: Lang) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let c = clock(at_ms, offset_min);
    let now = clock(now_ms, offset_min);
    let hm = format!("{:02}:{:02}", c.hour, c.minute);
    if (c.year, c.month, c.day) == (now.year, now.month, now.day) {
        return hm;
    }
    let month_name = MONTHS[(c.month.clamp(1, 12) - 1) as usize];
    match (lang, c.year == now.year) {
        (Lang::Zh, true) => format!("{}月{}日 {hm}", c.month, c.day),
        (Lang::Zh, false) => format!("{}年{}月{}日 {hm}", c.year, c.month, c.day),
        (Lang::En, true) => format!("{month_name} {} {hm}", c.day),
        (Lang::En, false) => format!("{month_name} {} {}, {hm}", c.day, c.year),
    }
}

/// Current time in ms since the Unix epoch, on the server or in the browser.
pub fn now_ms() -> i64 {
    #[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(all(feature = "hydrate", target_arch = "wasm32")))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// Messages further apart than this get a time separator between them.
pub const SEPARATOR_GAP_MS: i64 = 5 * 60 * 1000;

/// Default UTC offset (China Standard Time) until the browser tells us its own.
pub const DEFAULT_OFFSET_MIN: i32 = 8 * 60;

/// A clip's playing time as WeChat shows it: `0:07`, `1:05`.
pub fn clip_length(ms: u32) -> String {
    let secs = ms.div_ceil(1000);
    format!("{}:{:02}", secs / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_matches_known_instants() {
        // 2024-02-29T23:59:00Z
        let t = 1_709_251_140_000;
        assert_eq!(
            clock(t, 0),
            Clock {
                year: 2024,
                month: 2,
                day: 29,
                hour: 23,
                minute: 59
            }
        );
        // Same instant in UTC+8 is the next day.
        let c = clock(t, 480);
        assert_eq!((c.month, c.day, c.hour), (3, 1, 7));
        assert_eq!(clock(0, 0).year, 1970);
    }

    #[test]
    fn time_labels() {
        let now = 1_709_251_140_000; // 2024-02-29 23:59 UTC
        assert_eq!(time_label(now - 60_000, now, 0, Lang::En), "23:58");
        assert_eq!(
            time_label(now - 86_400_000, now, 0, Lang::Zh),
            "2月28日 23:59"
        );
        assert_eq!(
            time_label(now - 86_400_000, now, 0, Lang::En),
            "Feb 28 23:59"
        );
        assert_eq!(
            time_label(now - 400 * 86_400_000, now, 0, Lang::En),
            "Jan 25 2023, 23:59"
        );
    }

    #[test]
    fn avatars_are_stable_and_never_empty() {
        let user = |id| avatar_color(AvatarOf::User(UserId(id)));
        assert_eq!(user(7), user(7));
        assert_ne!(user(7), user(8));
        assert_eq!(
            user(7),
            avatar_color(AvatarOf::Conversation(ConversationId(7)))
        );
        assert_eq!(avatar_initial("alice"), "A");
        assert_eq!(avatar_initial(" 小明"), "小");
        assert_eq!(avatar_initial(""), "?");
    }

    #[test]
    fn clip_lengths_round_up_to_whole_seconds() {
        assert_eq!(clip_length(0), "0:00");
        assert_eq!(clip_length(6_100), "0:07");
        assert_eq!(clip_length(60_000), "1:00");
        assert_eq!(clip_length(65_000), "1:05");
    }
}
