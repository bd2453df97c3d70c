//! Pure input validation: every function returns the cleaned value or the
//! error code (with the field name) the client will see.
//!
//! Free-text fields (nickname, room name and description, message text) all
//! go through the one normalisation of [`crate::text`]; this module adds the
//! fields that are not free text: usernames (ASCII identifiers), passwords
//! (kept exactly as typed, only their length and strength are checked) and
//! client message ids.

use crate::text;
use crate::{limits, ApiError, ErrorCode};

type Checked<T> = Result<T, ApiError>;

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Usernames: 3–32 ASCII letters, digits, `_`; compared case-insensitively.
pub fn username(raw: &str) -> Checked<String> {
    let s = raw.trim();
    let ok = (limits::USERNAME_MIN..=limits::USERNAME_MAX).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(ApiError::field(ErrorCode::UsernameInvalid, "username"))
    }
}

/// Nicknames: single-line free text, 1–32 characters ([`text::NICKNAME`]).
pub fn nickname(raw: &str) -> Checked<String> {
    text::NICKNAME.check(raw)
}

/// Passwords: 8–128 characters, not the username, not one repeated character.
pub fn password(raw: &str, username: &str) -> Checked<()> {
    let n = char_len(raw);
    if n < limits::PASSWORD_MIN {
        return Err(ApiError::field(ErrorCode::PasswordTooShort, "password"));
    }
    if n > limits::PASSWORD_MAX {
        return Err(ApiError::field(ErrorCode::PasswordTooLong, "password"));
    }
    let mut chars = raw.chars();
    let first = chars.next();
    let one_repeated = chars.all(|c| Some(c) == first);
    let lower = raw.to_lowercase();
    if one_repeated || lower.contains(&username.to_lowercase()) || is_common(&lower) {
        return Err(ApiError::field(ErrorCode::PasswordTooWeak, "password"));
    }
    Ok(())
}

fn is_common(lower: &str) -> bool {
    const COMMON: [&str; 8] = [
        "12345678",
        "123456789",
        "1234567890",
        "password",
        "password1",
        "qwertyui",
        "87654321",
        "abcdefgh",
    ];
    COMMON.contains(&lower)
}

/// Room names: single-line free text, 1–40 characters ([`text::ROOM_NAME`]).
pub fn room_name(raw: &str) -> Checked<String> {
    text::ROOM_NAME.check(raw)
}

/// Room descriptions: optional single-line free text, at most 200 characters
/// ([`text::ROOM_DESCRIPTION`]).
pub fn room_description(raw: &str) -> Checked<String> {
    text::ROOM_DESCRIPTION.check(raw)
}

/// Message text: multi-line free text, 1–`max_chars` characters
/// ([`text::MESSAGE`]).
pub fn message_text(raw: &str, max_chars: usize) -> Checked<String> {
    text::MESSAGE.with_max(max_chars).check(raw)
}

/// The directory search query: optional single-line free text
/// ([`text::ROOM_QUERY`]); `""` means every room.
pub fn room_query(raw: &str) -> Checked<String> {
    text::ROOM_QUERY.check(raw)
}

/// Client message ids: 1–64 chars of `[A-Za-z0-9_-]` (UUIDs fit).
pub fn client_id(raw: &str) -> Checked<String> {
    let ok = !raw.is_empty()
        && raw.len() <= limits::CLIENT_ID_MAX
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(ApiError::field(ErrorCode::ClientIdInvalid, "client_id"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code<T: std::fmt::Debug>(r: Checked<T>) -> ErrorCode {
        r.unwrap_err().code
    }

    #[test]
    fn usernames() {
        assert_eq!(username("  bob_42 ").unwrap(), "bob_42");
        assert_eq!(code(username("ab")), ErrorCode::UsernameInvalid);
        assert_eq!(code(username(&"a".repeat(33))), ErrorCode::UsernameInvalid);
        assert_eq!(code(username("张三")), ErrorCode::UsernameInvalid);
        assert_eq!(code(username("bob smith")), ErrorCode::UsernameInvalid);
        assert_eq!(code(username("<script>")), ErrorCode::UsernameInvalid);
    }

    #[test]
    fn nicknames_allow_any_script_and_lose_control_chars() {
        assert_eq!(nickname(" 小明 ").unwrap(), "小明");
        assert_eq!(nickname("a\u{0007}b").unwrap(), "ab");
        assert_eq!(nickname("\u{202E}evil").unwrap(), "evil");
        assert_eq!(nickname(&"字".repeat(32)).unwrap().chars().count(), 32);
        assert_eq!(code(nickname(&"字".repeat(33))), ErrorCode::NicknameInvalid);
        assert_eq!(code(nickname("   ")), ErrorCode::NicknameInvalid);
        assert_eq!(code(nickname("\u{0007}")), ErrorCode::NicknameInvalid);
    }

    #[test]
    fn passwords() {
        assert!(password("correct horse", "bob").is_ok());
        assert_eq!(code(password("short", "bob")), ErrorCode::PasswordTooShort);
        assert_eq!(
            code(password(&"x".repeat(129), "bob")),
            ErrorCode::PasswordTooLong
        );
        assert_eq!(
            code(password("aaaaaaaaaa", "bob")),
            ErrorCode::PasswordTooWeak
        );
        assert_eq!(
            code(password("Password", "bob")),
            ErrorCode::PasswordTooWeak
        );
        assert_eq!(
            code(password("bobbybob123", "Bobby")),
            ErrorCode::PasswordTooWeak
        );
        let e = password("short", "bob").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("password"));
    }

    #[test]
    fn message_text_is_trimmed_bounded_and_never_empty() {
        assert_eq!(message_text("  hi  ", 10).unwrap(), "hi");
        assert_eq!(message_text("a\nb", 10).unwrap(), "a\nb");
        assert_eq!(message_text("a\u{0000}b", 10).unwrap(), "ab");
        assert_eq!(code(message_text(" \n\t ", 10)), ErrorCode::MessageEmpty);
        assert_eq!(code(message_text("", 10)), ErrorCode::MessageEmpty);
        // Control characters are stripped before the emptiness check.
        assert_eq!(
            code(message_text("\u{1}\u{2}\u{3}", 10)),
            ErrorCode::MessageEmpty
        );
        assert_eq!(code(message_text("\u{0}", 10)), ErrorCode::MessageEmpty);
        assert_eq!(
            message_text(&"好".repeat(10), 10).unwrap().chars().count(),
            10
        );
        assert_eq!(
            code(message_text(&"好".repeat(11), 10)),
            ErrorCode::MessageTooLong
        );
    }

    #[test]
    fn client_ids() {
        assert!(client_id("0b6f7c3e-5d1a-4c2b-9b1e-2f0c9a8d7e6f").is_ok());
        assert_eq!(code(client_id("")), ErrorCode::ClientIdInvalid);
        assert_eq!(code(client_id(&"a".repeat(65))), ErrorCode::ClientIdInvalid);
        assert_eq!(code(client_id("a b")), ErrorCode::ClientIdInvalid);
    }

    #[test]
    fn room_fields() {
        assert_eq!(room_name(" 茶话会 ").unwrap(), "茶话会");
        assert_eq!(code(room_name("")), ErrorCode::RoomNameInvalid);
        assert_eq!(code(room_name(&"r".repeat(41))), ErrorCode::RoomNameInvalid);
        assert_eq!(room_description("").unwrap(), "");
        assert_eq!(room_description("a\u{0}b\u{7}c").unwrap(), "abc");
        assert_eq!(room_query(" Tea%_ ").unwrap(), "Tea%_");
        assert_eq!(
            code(room_description(&"d".repeat(201))),
            ErrorCode::RoomDescriptionTooLong
        );
    }
}
