//! Fuzzes the decoding of text frames a client sends over `/ws`
//! ([`ClientFrame::parse`], what the server's socket loop calls). Axum hands
//! the loop only valid UTF-8, so other byte strings are skipped.
//!
//! Properties: never panics or hangs; a frame it accepts encodes and decodes
//! back to itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use teahouse_protocol::ClientFrame;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(frame) = ClientFrame::parse(text) {
        let json = serde_json::to_string(&frame).expect("a frame always encodes");
        assert_eq!(ClientFrame::parse(&json), Some(frame));
    }
});
