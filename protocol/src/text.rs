//! The one normalisation every free-text field goes through.
//!
//! Free text is what people type for other people to read: nicknames, room
//! names and descriptions, message text, the directory search query (and,
//! later, group announcements and guest names). Each field is a [`TextRule`];
//! [`TextRule::check`] applies the same steps to all of them, in this order:
//!
//! 1. **Normalise line breaks**: CR LF and a lone CR become LF.
//! 2. **Strip** (removed silently, never an error):
//!    - C0 controls (U+0000–U+001F) except LF and TAB, DEL (U+007F) and C1
//!      controls (U+0080–U+009F) — in every field;
//!    - zero-width characters that carry no meaning in chat text and make
//!      look-alike or blank-looking names: U+200B (zero-width space), U+2060
//!      (word joiner), U+FEFF (BOM) — in every field. ZWJ (U+200D) and ZWNJ
//!      (U+200C) are kept: emoji sequences (👨‍👩‍👧) and Persian or Indic
//!      words need them;
//!    - in [`Lines::Single`] fields only: the bidi embedding, override and
//!      isolate controls U+202A–U+202E and U+2066–U+2069, which let a name
//!      shown inline ("alice joined", a list row) reorder the text around it
//!      (spoofing). Multi-line text keeps them: each message is its own block,
//!      and the browser's bidi algorithm does not carry them past it.
//!    - in [`Lines::Single`] fields, LF and TAB become a space instead.
//! 3. **Trim** Unicode white space (`char::is_whitespace`: spaces, U+3000
//!    ideographic space, NBSP, line breaks …) at both ends.
//! 4. **Emptiness**: text with nothing visible left — only white space and
//!    invisible format characters (ZWJ, ZWNJ, bidi marks, variation
//!    selectors, soft hyphen, Hangul fillers) — counts as empty: refused for a
//!    required field, stored as `""` for an optional one.
//! 5. **Length**: at most `max_chars` Unicode scalar values, counted after
//!    the steps above.
//!
//! Nothing else is refused: every script, emoji and symbol is accepted as
//! typed. No Unicode normalisation form (NFC) is applied: it would need
//! Unicode tables in the browser's wasm. Usernames, passwords and client ids
//! are not free text (see [`crate::validate`]).
//!
//! This module is pure and in the protocol crate, so the browser can run the
//! same checks for early hints; the server is the authority.

use crate::{limits, ApiError, ErrorCode};

/// Whether a field may hold several lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lines {
    /// Shown inline (names, titles, the search query): line breaks and tabs
    /// become spaces, bidi controls are stripped.
    Single,
    /// Shown as its own block (message text, later announcements): LF and
    /// TAB are kept.
    Multi,
}

/// How one free-text field is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextRule {
    /// Form field name the error is attached to (`nickname`, `text`, …).
    pub field: &'static str,
    /// Single- or multi-line: decides what is stripped.
    pub lines: Lines,
    /// Whether empty text (after cleaning) is refused rather than stored as `""`.
    pub required: bool,
    /// Longest text accepted, in characters, counted after cleaning.
    pub max_chars: usize,
    /// The code for required text that is empty after cleaning.
    pub empty: ErrorCode,
    /// The code for text longer than `max_chars`.
    pub too_long: ErrorCode,
}

/// A user's display name.
pub const NICKNAME: TextRule = TextRule {
    field: "nickname",
    lines: Lines::Single,
    required: true,
    max_chars: limits::NICKNAME_MAX,
    empty: ErrorCode::NicknameInvalid,
    too_long: ErrorCode::NicknameInvalid,
};

/// A room's name.
pub const ROOM_NAME: TextRule = TextRule {
    field: "name",
    lines: Lines::Single,
    required: true,
    max_chars: limits::ROOM_NAME_MAX,
    empty: ErrorCode::RoomNameInvalid,
    too_long: ErrorCode::RoomNameInvalid,
};

/// A room's description: optional, shown on one line in the directory and
/// the room header.
pub const ROOM_DESCRIPTION: TextRule = TextRule {
    field: "description",
    lines: Lines::Single,
    required: false,
    max_chars: limits::ROOM_DESCRIPTION_MAX,
    empty: ErrorCode::RoomDescriptionTooLong,
    too_long: ErrorCode::RoomDescriptionTooLong,
};

/// Message text, at most the default length; the server's configured limit
/// comes in through [`TextRule::with_max`].
pub const MESSAGE: TextRule = TextRule {
    field: "text",
    lines: Lines::Multi,
    required: true,
    max_chars: limits::MESSAGE_MAX_DEFAULT,
    empty: ErrorCode::MessageEmpty,
    too_long: ErrorCode::MessageTooLong,
};

/// The room directory's search query: optional (empty = every room), no
/// longer than the longest room name it could match.
pub const ROOM_QUERY: TextRule = TextRule {
    field: "query",
    lines: Lines::Single,
    required: false,
    max_chars: limits::ROOM_NAME_MAX,
    empty: ErrorCode::QueryTooLong,
    too_long: ErrorCode::QueryTooLong,
};

impl TextRule {
    /// The same rule with another length limit.
    pub const fn with_max(self, max_chars: usize) -> TextRule {
        TextRule { max_chars, ..self }
    }

    /// Cleans `raw` (steps 1–3) and checks it (steps 4–5): the text to store,
    /// or the error the client sees.
    pub fn check(&self, raw: &str) -> Result<String, ApiError> {
        let cleaned = clean(raw, self.lines);
        if !has_visible(&cleaned) {
            return if self.required {
                Err(ApiError::field(self.empty, self.field))
            } else {
                Ok(String::new())
            };
        }
        if cleaned.chars().count() > self.max_chars {
            return Err(ApiError::field(self.too_long, self.field));
        }
        Ok(cleaned)
    }
}

/// Steps 1–3: normalise line breaks, strip, trim.
pub fn clean(raw: &str, lines: Lines) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        let c = if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            '\n'
        } else {
            c
        };
        match (c, lines) {
            ('\n' | '\t', Lines::Multi) => out.push(c),
            ('\n' | '\t', Lines::Single) => out.push(' '),
            _ if is_stripped(c, lines) => {}
            _ => out.push(c),
        }
    }
    let trimmed = out.trim();
    if trimmed.len() == out.len() {
        out
    } else {
        trimmed.to_owned()
    }
}

/// Whether step 2 removes `c` (LF and TAB are handled by the caller).
fn is_stripped(c: char, lines: Lines) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}')
        || (lines == Lines::Single && is_bidi_control(c))
}

/// Bidi embeddings, overrides and isolates (LRE … RLO, LRI … PDI).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing on their own: white space and format
/// characters that only join, separate or steer their neighbours.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || is_bidi_control(c)
        || matches!(
            c,
            '\u{00AD}'                  // soft hyphen
            | '\u{034F}'                // combining grapheme joiner
            | '\u{061C}'                // Arabic letter mark
            | '\u{115F}' | '\u{1160}'   // Hangul choseong / jungseong fillers
            | '\u{180E}'                // Mongolian vowel separator
            | '\u{200C}'..='\u{200F}'   // ZWNJ, ZWJ, LRM, RLM
            | '\u{3164}' | '\u{FFA0}'   // Hangul fillers
            | '\u{FE00}'..='\u{FE0F}'   // variation selectors
            | '\u{E0100}'..='\u{E01EF}' // variation selectors supplement
        )
}

/// Step 4: whether anything visible is left.
fn has_visible(s: &str) -> bool {
    s.chars().any(|c| !is_invisible(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(rule: TextRule, raw: &str) -> String {
        rule.check(raw)
            .unwrap_or_else(|e| panic!("{raw:?} refused: {e}"))
    }

    fn err(rule: TextRule, raw: &str) -> ApiError {
        rule.check(raw)
            .expect_err(&format!("{raw:?} should be refused"))
    }

    #[test]
    fn line_breaks_are_normalised_then_kept_or_turned_into_spaces() {
        let cases = [
            ("a\r\nb", "a\nb", "a b"),
            ("a\rb", "a\nb", "a b"),
            ("a\n\rb", "a\n\nb", "a  b"),
            ("a\tb", "a\tb", "a b"),
            ("\r\n x \r\n", "x", "x"),
        ];
        for (raw, multi, single) in cases {
            assert_eq!(clean(raw, Lines::Multi), multi, "multi {raw:?}");
            assert_eq!(clean(raw, Lines::Single), single, "single {raw:?}");
        }
    }

    #[test]
    fn controls_and_zero_width_characters_are_stripped_everywhere() {
        let cases = [
            ("a\u{0}b", "ab"),
            ("a\u{7}b", "ab"),
            ("a\u{1b}[31mb", "a[31mb"),
            ("a\u{7f}b", "ab"),
            ("a\u{85}b", "ab"),
            ("a\u{9f}b", "ab"),
            ("a\u{200B}b", "ab"),
            ("a\u{2060}b", "ab"),
            ("\u{FEFF}ab", "ab"),
        ];
        for (raw, want) in cases {
            assert_eq!(clean(raw, Lines::Multi), want, "multi {raw:?}");
            assert_eq!(clean(raw, Lines::Single), want, "single {raw:?}");
        }
    }

    #[test]
    fn bidi_controls_are_stripped_from_single_line_fields_only() {
        for c in ('\u{202A}'..='\u{202E}').chain('\u{2066}'..='\u{2069}') {
            let raw = format!("admin{c}nimda");
            assert_eq!(
                clean(&raw, Lines::Single),
                "adminnimda",
                "U+{:04X}",
                c as u32
            );
            assert_eq!(clean(&raw, Lines::Multi), raw, "U+{:04X}", c as u32);
        }
        // Marks steer neutral characters but cannot reorder: kept.
        assert_eq!(clean("a\u{200E}b", Lines::Single), "a\u{200E}b");
    }

    #[test]
    fn emoji_sequences_and_joiners_survive() {
        let family = "👨\u{200D}👩\u{200D}👧";
        let flag = "🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}";
        let persian = "می\u{200C}خواهم";
        let heart = "❤\u{FE0F}";
        for s in [family, flag, persian, heart, "🇨🇳", "e\u{301}"] {
            assert_eq!(ok(MESSAGE, s), s);
            assert_eq!(ok(NICKNAME, s), s);
        }
    }

    #[test]
    fn trimming_uses_unicode_white_space() {
        assert_eq!(ok(NICKNAME, "\u{3000}小明\u{00A0} "), "小明");
        assert_eq!(ok(MESSAGE, "\n\n  hi\n  there \n"), "hi\n  there");
    }

    #[test]
    fn text_with_nothing_visible_is_empty() {
        let blank = [
            "",
            "   ",
            " \n\t ",
            "\u{0}",
            "\u{1}\u{2}\u{3}",
            "\u{7}\u{0}\u{1b}",
            "\u{200B}\u{200D}\u{200C}",
            "\u{202E}\u{2066}",
            "\u{3164}\u{3164}",
            "\u{115F}",
            "\u{00AD}\u{FE0F}",
            "\u{3000}",
        ];
        for raw in blank {
            assert_eq!(err(MESSAGE, raw).code, ErrorCode::MessageEmpty, "{raw:?}");
            assert_eq!(
                err(NICKNAME, raw).code,
                ErrorCode::NicknameInvalid,
                "{raw:?}"
            );
            assert_eq!(
                err(ROOM_NAME, raw).code,
                ErrorCode::RoomNameInvalid,
                "{raw:?}"
            );
            assert_eq!(ok(ROOM_DESCRIPTION, raw), "", "{raw:?}");
            assert_eq!(ok(ROOM_QUERY, raw), "", "{raw:?}");
        }
    }

    #[test]
    fn length_is_counted_in_characters_after_cleaning() {
        let rule = MESSAGE.with_max(3);
        assert_eq!(ok(rule, "好好好"), "好好好");
        assert_eq!(ok(rule, " 好\u{0}好\u{7}好 "), "好好好");
        assert_eq!(err(rule, "好好好好").code, ErrorCode::MessageTooLong);
        assert_eq!(ok(NICKNAME, &"字".repeat(32)).chars().count(), 32);
        assert_eq!(
            err(NICKNAME, &"字".repeat(33)).code,
            ErrorCode::NicknameInvalid
        );
        assert_eq!(
            err(ROOM_NAME, &"r".repeat(41)).code,
            ErrorCode::RoomNameInvalid
        );
        assert_eq!(
            err(ROOM_DESCRIPTION, &"d".repeat(201)).code,
            ErrorCode::RoomDescriptionTooLong
        );
        assert_eq!(
            err(ROOM_QUERY, &"q".repeat(41)).code,
            ErrorCode::QueryTooLong
        );
    }

    #[test]
    fn every_rule_names_its_field_and_cleans_the_same_way() {
        let rules = [
            (NICKNAME, "nickname"),
            (ROOM_NAME, "name"),
            (ROOM_DESCRIPTION, "description"),
            (MESSAGE, "text"),
            (ROOM_QUERY, "query"),
        ];
        for (rule, field) in rules {
            assert_eq!(rule.field, field);
            assert_eq!(ok(rule, " \u{7}tea\u{0} "), "tea", "{field}");
            let long = "x".repeat(rule.max_chars + 1);
            assert_eq!(err(rule, &long).field.as_deref(), Some(field));
        }
    }
}
