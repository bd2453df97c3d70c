//! The HTTP side: the WebSocket upgrade of `GET /ws?user=NAME`, and
//! `GET /healthz` for the load tool's readiness check.

use std::io::ErrorKind;

use base64::Engine;
use sha1::{Digest, Sha1};
use tokio::net::TcpStream;

/// Longest request head accepted.
const MAX_HEAD: usize = 8 * 1024;
/// RFC 6455 §1.3.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Reads the request head from `stream` into `buf` and answers it.
/// `Ok(Some(user))` after a WebSocket upgrade (bytes after the head stay in
/// `buf`); `Ok(None)` when the request was answered and the connection is
/// done.
pub async fn accept(stream: &TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Option<String>> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(buf) {
            Ok(httparse::Status::Complete(head_len)) => {
                let path = req.path.unwrap_or("/");
                let key = req
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("sec-websocket-key"))
                    .map(|h| h.value.to_vec());
                let reply;
                let user = match (path.split_once('?'), key) {
                    (Some(("/ws", query)), Some(key)) => {
                        let user = query
                            .split('&')
                            .find_map(|kv| kv.strip_prefix("user="))
                            .unwrap_or("anon")
                            .to_string();
                        reply = format!(
                            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                            accept_key(&key)
                        );
                        Some(user)
                    }
                    _ if path == "/healthz" => {
                        reply =
                            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                                .to_string();
                        None
                    }
                    _ => {
                        reply = "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                            .to_string();
                        None
                    }
                };
                buf.drain(..head_len);
                write_all(stream, reply.as_bytes()).await?;
                return Ok(user);
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => {}
            Ok(httparse::Status::Partial) | Err(_) => return Ok(None),
        }
        stream.readable().await?;
        buf.reserve(1024);
        match stream.try_read_buf(buf) {
            Ok(0) => return Ok(None),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
}

/// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`.
fn accept_key(key: &[u8]) -> String {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_key_matches_the_rfc_example() {
        // RFC 6455 §1.3.
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
