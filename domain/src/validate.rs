//! Pure input validation. Every function returns the cleaned value or the
//! error code (with the field name) the client will see.

use teahouse_protocol::{limits, ApiError, ErrorCode};

type Checked<T> = Result<T, ApiError>;

fn char_len(s: &str) -> usize {
    s.chars().count()
}

fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control())
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

/// Nicknames: 1–32 characters after trimming, no control characters.
pub fn nickname(raw: &str) -> Checked<String> {
    let s = raw.trim();
    if s.is_empty() || char_len(s) > limits::NICKNAME_MAX || has_control(s) {
        return Err(ApiError::field(ErrorCode::NicknameInvalid, "nickname"));
    }
    Ok(s.to_owned())
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

/// Room names: 1–40 characters after trimming, no control characters.
pub fn room_name(raw: &str) -> Checked<String> {
    let s = raw.trim();
    if s.is_empty() || char_len(s) > limits::ROOM_NAME_MAX || has_control(s) {
        return Err(ApiError::field(ErrorCode::RoomNameInvalid, "name"));
    }
    Ok(s.to_owned())
}

/// Room descriptions: optional, at most 200 characters.
pub fn room_description(raw: &str) -> Checked<String> {
    let s = raw.trim();
    if char_len(s) > limits::ROOM_DESCRIPTION_MAX {
        return Err(ApiError::field(
            ErrorCode::RoomDescriptionTooLong,
            "description",
        ));
    }
    Ok(s.to_owned())
}

/// Message text: trimmed, non-empty, at most `max_chars` characters.
/// Inner newlines are kept; other control characters are rejected as empty
/// noise would be.
pub fn message_text(raw: &str, max_chars: usize) -> Checked<String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(ApiError::field(ErrorCode::MessageEmpty, "text"));
    }
    if char_len(s) > max_chars {
        return Err(ApiError::field(ErrorCode::MessageTooLong, "text"));
    }
    Ok(s.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect())
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
    fn nicknames_allow_any_script_but_not_control_chars() {
        assert_eq!(nickname(" 小明 ").unwrap(), "小明");
        assert_eq!(nickname(&"字".repeat(32)).unwrap().chars().count(), 32);
        assert_eq!(code(nickname(&"字".repeat(33))), ErrorCode::NicknameInvalid);
        assert_eq!(code(nickname("   ")), ErrorCode::NicknameInvalid);
        assert_eq!(code(nickname("a\u{0007}b")), ErrorCode::NicknameInvalid);
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
        assert_eq!(
            code(room_description(&"d".repeat(201))),
            ErrorCode::RoomDescriptionTooLong
        );
    }
}
