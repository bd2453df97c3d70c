//! WebSocket framing (RFC 6455 §5), as much as the benchmark needs: whole
//! server frames out (unmasked), whole client frames in (masked, not
//! fragmented).

/// Largest client frame accepted (clients send joins, sends and pings).
const MAX_CLIENT_FRAME: u64 = 64 * 1024;

/// What a client frame is.
#[derive(Debug, PartialEq, Eq)]
pub enum Opcode {
    Text,
    Close,
    Ping,
    Pong,
}

/// One unmasked client frame.
#[derive(Debug)]
pub struct ClientFrame {
    pub opcode: Opcode,
    pub payload: Vec<u8>,
}

/// Takes the first whole frame off the front of `buf`: `Ok(None)` when more
/// bytes are needed, `Err` for anything this peer does not speak (binary,
/// fragmented, unmasked or oversized frames), which ends the connection.
pub fn parse(buf: &mut Vec<u8>) -> Result<Option<ClientFrame>, ()> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let fin = buf[0] & 0x80 != 0;
    let opcode = match buf[0] & 0x0f {
        0x1 => Opcode::Text,
        0x8 => Opcode::Close,
        0x9 => Opcode::Ping,
        0xa => Opcode::Pong,
        _ => return Err(()),
    };
    if !fin || buf[1] & 0x80 == 0 {
        return Err(());
    }
    let (len, mut at) = match buf[1] & 0x7f {
        126 if buf.len() >= 4 => (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
        127 if buf.len() >= 10 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            (u64::from_be_bytes(b), 10)
        }
        126 | 127 => return Ok(None),
        n => (u64::from(n), 2),
    };
    if len > MAX_CLIENT_FRAME {
        return Err(());
    }
    // Bounded by MAX_CLIENT_FRAME above, so the cast cannot truncate.
    let len = len as usize;
    if buf.len() < at + 4 + len {
        return Ok(None);
    }
    let mask = [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]];
    at += 4;
    let payload = buf[at..at + len]
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ mask[i % 4])
        .collect();
    buf.drain(..at + len);
    Ok(Some(ClientFrame { opcode, payload }))
}

/// A server text frame carrying `payload`.
pub fn text(payload: &[u8]) -> Vec<u8> {
    with_header(0x81, payload)
}

/// The answer to a ping.
pub fn pong(payload: &[u8]) -> Vec<u8> {
    with_header(0x8a, payload)
}

/// A close frame without a status.
pub fn close() -> Vec<u8> {
    vec![0x88, 0]
}

fn with_header(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
    out.push(first);
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n <= usize::from(u16::MAX) => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client frame as a browser would send it.
    fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [1u8, 2, 3, 4];
        let mut out = vec![first];
        if payload.len() < 126 {
            out.push(0x80 | payload.len() as u8);
        } else {
            out.push(0x80 | 126);
            out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    #[test]
    fn frames_are_taken_whole_and_in_order() {
        let long = vec![b'x'; 300];
        let mut buf = masked(0x81, br#"{"type":"ping"}"#);
        buf.extend(masked(0x81, &long));
        let all = buf.clone();
        // Byte by byte: nothing until a frame is whole.
        let mut partial = Vec::new();
        let mut got = Vec::new();
        for b in all {
            partial.push(b);
            while let Some(f) = parse(&mut partial).unwrap() {
                got.push(f);
            }
        }
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].opcode, Opcode::Text);
        assert_eq!(got[0].payload, br#"{"type":"ping"}"#);
        assert_eq!(got[1].payload, long);
        assert!(partial.is_empty());
    }

    #[test]
    fn unmasked_binary_and_fragmented_frames_end_the_connection() {
        assert!(parse(&mut vec![0x81, 0x01, b'x']).is_err());
        assert!(parse(&mut masked(0x82, b"x")).is_err());
        assert!(parse(&mut masked(0x01, b"x")).is_err());
    }

    #[test]
    fn server_frames_carry_their_length() {
        assert_eq!(text(b"hi"), vec![0x81, 2, b'h', b'i']);
        let f = text(&[0u8; 200]);
        assert_eq!(&f[..4], &[0x81, 126, 0, 200]);
        assert_eq!(f.len(), 204);
    }
}
