//! Fuzzes the text validators every free-text field goes through before it
//! is stored (`validate::*`), with any UTF-8 string.
//!
//! Properties of each validator: never panics or hangs; what it accepts is
//! within the field's length limit, not empty where the field is required,
//! free of control characters (message text keeps `\n` and `\t`), and
//! validating it again accepts it unchanged (one normalisation, applied
//! once, is final).

#![no_main]

use libfuzzer_sys::fuzz_target;
use teahouse_protocol::limits;
// The validators under test: the one line to change when they move.
use teahouse_protocol::validate;

/// Characters a stored value may not contain (`keep` lists the exceptions).
fn assert_no_control(field: &str, out: &str, keep: &[char]) {
    assert!(
        !out.chars().any(|c| c.is_control() && !keep.contains(&c)),
        "{field}: control character accepted in {out:?}"
    );
}

/// A single-line field: checks every property on one input.
fn single_line(
    field: &str,
    check: impl Fn(&str) -> Result<String, teahouse_protocol::ApiError>,
    input: &str,
    max_chars: usize,
    required: bool,
) {
    let Ok(out) = check(input) else { return };
    let n = out.chars().count();
    assert!(
        n <= max_chars,
        "{field}: {n} characters accepted (max {max_chars})"
    );
    assert!(
        !required || n > 0,
        "{field}: empty value accepted from {input:?}"
    );
    assert_no_control(field, &out, &[]);
    assert_eq!(
        check(&out).ok().as_deref(),
        Some(out.as_str()),
        "{field}: not idempotent for {input:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    // The first two bytes choose the message limit (--max-message-chars).
    let (limit, rest) = match data {
        [a, b, rest @ ..] => (1 + usize::from(u16::from_le_bytes([*a, *b])) % 4000, rest),
        _ => (limits::MESSAGE_MAX_DEFAULT, data),
    };
    let Ok(input) = std::str::from_utf8(rest) else {
        return;
    };

    single_line(
        "username",
        validate::username,
        input,
        limits::USERNAME_MAX,
        true,
    );
    if let Ok(name) = validate::username(input) {
        assert!(
            name.len() >= limits::USERNAME_MIN && name.is_ascii(),
            "username {name:?}"
        );
    }
    single_line(
        "nickname",
        validate::nickname,
        input,
        limits::NICKNAME_MAX,
        true,
    );
    single_line(
        "room name",
        validate::room_name,
        input,
        limits::ROOM_NAME_MAX,
        true,
    );
    single_line(
        "room description",
        validate::room_description,
        input,
        limits::ROOM_DESCRIPTION_MAX,
        false,
    );
    if let Ok(id) = validate::client_id(input) {
        assert_eq!(id, input, "client ids are taken as they are");
    }
    let _ = validate::password(input, "someone");

    if let Ok(text) = validate::message_text(input, limit) {
        let n = text.chars().count();
        assert!(n <= limit, "message: {n} characters accepted (max {limit})");
        assert!(
            !text.trim().is_empty(),
            "message: blank text accepted from {input:?}"
        );
        assert_no_control("message", &text, &['\n', '\t']);
        assert_eq!(
            validate::message_text(&text, limit).ok().as_deref(),
            Some(text.as_str()),
            "message: not idempotent for {input:?}"
        );
    }
});
