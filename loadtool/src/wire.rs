//! A lean WebSocket client for the load tool: the HTTP upgrade, reading
//! frames straight out of one reusable buffer, and writing masked frames.
//!
//! Why not tokio-tungstenite (which the tool used first): receiving is what
//! the tool measures, at up to ~300k frames/s on one core, and a profile
//! showed about 40% of the tool's core in user space per delivery:
//! zero-filling the read buffer before every read, a `BytesMut` split and a
//! waker registration per frame. Here a read is one `recv` into the unused
//! tail of a buffer that is filled with zeros once, and a frame is a slice
//! of it. Only what the tool needs is supported: unfragmented server frames
//! (text, binary, ping, pong, close) up to [`MAX_FRAME`] bytes.
//!
//! On request, every read also says when its bytes reached the socket: the
//! kernel stamps each arriving packet (`SO_TIMESTAMPNS`) and `recvmsg` hands
//! the stamp back. Delivery latency then splits into the part before the
//! tool's socket (the server and the kernel) and the time the bytes waited
//! for the tool to read them, so a busy load tool cannot pass its own lag
//! off as the server's.

use std::ops::Range;
use std::os::fd::{AsRawFd, RawFd};

use anyhow::{bail, Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::TcpStream;

use crate::stats::now_ns;

/// Largest frame payload accepted from a server (bytes).
pub const MAX_FRAME: usize = 1 << 20;

/// Initial read buffer size: a few pushed frames fit; it grows only for a
/// frame larger than this.
const INITIAL_BUF: usize = 2048;

/// Largest HTTP upgrade response accepted (bytes).
const MAX_RESPONSE_HEAD: usize = 16 * 1024;

/// The server closed the TCP connection (no close frame).
#[derive(Debug)]
pub struct SocketEnded;

impl std::fmt::Display for SocketEnded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("socket ended")
    }
}

impl std::error::Error for SocketEnded {}

/// Frame opcodes (RFC 6455 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opcode {
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl Opcode {
    fn from_bits(bits: u8) -> Result<Opcode> {
        Ok(match bits {
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            0x0 => bail!("fragmented WebSocket message (not supported by the load tool)"),
            other => bail!("unknown WebSocket opcode {other:#x}"),
        })
    }

    fn bits(self) -> u8 {
        match self {
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }
}

/// One open WebSocket (client side).
pub struct WsConn {
    /// The socket.
    stream: TcpStream,
    /// Received bytes; `buf[start..end]` is not parsed yet. Its length is its
    /// capacity (zeroed once), so a read never clears anything.
    buf: Vec<u8>,
    /// Start of the unparsed bytes.
    start: usize,
    /// End of the received bytes.
    end: usize,
    /// State of the xorshift generator that makes mask keys.
    mask_state: u32,
    /// Frames written: the caller adds them, the socket gets them on
    /// [`WsConn::flush`]. Reused between writes.
    out: Vec<u8>,
    /// When the bytes of the last read reached the socket, on the clock of
    /// [`now_ns`]. The kernel reports the stamp of the newest packet a read
    /// took, so for frames from older packets in the same read this is
    /// later than their real arrival: time "before the socket" measured with
    /// it is an upper bound. `None` if the read carried no stamp.
    arrived_ns: Option<u64>,
    /// Whether reads ask for arrival stamps. Off, a read is a plain `recv`:
    /// `recvmsg` with stamps costs the tool ~5% of its core at 1M frames/s.
    stamped: bool,
}

/// Asks the kernel to stamp every packet this socket receives with its
/// arrival time (`CLOCK_REALTIME`, read back by [`recv_stamped`]).
fn enable_arrival_stamps(stream: &TcpStream) -> Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: a valid socket descriptor and a pointer to a c_int of the size given.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error()).context("setsockopt(SO_TIMESTAMPNS)");
    }
    Ok(())
}

/// One non-blocking `recvmsg` into `buf`: the bytes read and, if the kernel
/// stamped them, how long ago (ns) the newest of their packets arrived.
/// The wait is measured on `CLOCK_REALTIME` (the clock of the stamp) over a
/// few milliseconds, so clock adjustments cannot distort it noticeably.
fn recv_stamped(fd: RawFd, buf: &mut [u8]) -> std::io::Result<(usize, Option<u64>)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // Room for one SCM_TIMESTAMPNS (a timespec) with its header, 8-aligned.
    let mut control = [0u64; 8];
    // SAFETY: msghdr is plain data; all-zero is a valid empty value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: msg points at a live iovec over `buf` and at `control`, both
    // outliving the call.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut stamp = None;
    // SAFETY: the CMSG_* walk stays within msg_controllen as the kernel set it.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                stamp = Some(ts);
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    let waited = stamp.and_then(|ts| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        let at = std::time::Duration::new(u64::try_from(ts.tv_sec).ok()?, ts.tv_nsec as u32);
        // A stamp "in the future" (clock stepped back) counts as no wait.
        Some(now.saturating_sub(at).as_nanos() as u64)
    });
    Ok((n as usize, waited))
}

/// Splits a `ws://host:port/path?query` URL into host:port and path.
fn split_url(url: &str) -> Result<(&str, &str)> {
    let rest = url
        .strip_prefix("ws://")
        .with_context(|| format!("not a ws:// URL: {url}"))?;
    Ok(match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    })
}

impl WsConn {
    /// Upgrades `stream` to a WebSocket at `url`, sending `cookie` if given.
    /// Bytes the server sent after its 101 response stay buffered as frames.
    pub async fn upgrade(
        mut stream: TcpStream,
        url: &str,
        cookie: Option<&str>,
        stamped: bool,
    ) -> Result<Self> {
        let (host, path) = split_url(url)?;
        let mut req = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        );
        if let Some(cookie) = cookie {
            req.push_str("Cookie: ");
            req.push_str(cookie);
            req.push_str("\r\n");
        }
        req.push_str("\r\n");
        if stamped {
            enable_arrival_stamps(&stream)?;
        }
        stream
            .write_all(req.as_bytes())
            .await
            .context("writing the upgrade request")?;
        let mut conn = WsConn {
            stream,
            buf: vec![0; INITIAL_BUF],
            start: 0,
            end: 0,
            // Any non-zero seed: mask keys only have to vary between frames.
            mask_state: 0x9E37_79B9,
            out: Vec::new(),
            arrived_ns: None,
            stamped,
        };
        let head_len = loop {
            if let Some(i) = find_head_end(&conn.buf[..conn.end]) {
                break i;
            }
            if conn.end >= MAX_RESPONSE_HEAD {
                bail!("upgrade response head longer than {MAX_RESPONSE_HEAD} bytes");
            }
            conn.read_more()
                .await
                .context("reading the upgrade response")?;
        };
        let head = String::from_utf8_lossy(&conn.buf[..head_len]);
        let status = head.lines().next().unwrap_or_default();
        if !status.starts_with("HTTP/1.1 101") {
            bail!("upgrade refused: {status}");
        }
        conn.start = head_len;
        Ok(conn)
    }

    /// Reads at least one more byte into the buffer, making room first.
    async fn read_more(&mut self) -> Result<()> {
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                let grown = (self.buf.len() * 2).min(MAX_FRAME + 16);
                if grown == self.buf.len() {
                    bail!("frame larger than {MAX_FRAME} bytes");
                }
                self.buf.resize(grown, 0);
            }
        }
        let n = if self.stamped {
            let (n, waited) = self.read_stamped().await?;
            self.arrived_ns = waited.map(|w| now_ns().saturating_sub(w));
            n
        } else {
            self.stream.read(&mut self.buf[self.end..]).await?
        };
        if n == 0 {
            return Err(SocketEnded.into());
        }
        self.end += n;
        Ok(())
    }

    /// Reads into the free tail of the buffer with [`recv_stamped`], waiting
    /// for the socket to be readable.
    async fn read_stamped(&mut self) -> std::io::Result<(usize, Option<u64>)> {
        loop {
            self.stream.readable().await?;
            let fd = self.stream.as_raw_fd();
            let buf = &mut self.buf[self.end..];
            match self
                .stream
                .try_io(Interest::READABLE, || recv_stamped(fd, buf))
            {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                read => return read,
            }
        }
    }

    /// When the bytes of the frame [`WsConn::next_frame`] returned last
    /// reached the socket (see the field's doc), on the clock of [`now_ns`].
    pub fn arrived_ns(&self) -> Option<u64> {
        self.arrived_ns
    }

    /// The next frame: its opcode and where its payload is (see
    /// [`WsConn::payload`]). Cancel-safe: a cancelled call loses no bytes.
    pub async fn next_frame(&mut self) -> Result<(Opcode, Range<usize>)> {
        loop {
            if let Some((op, range, next)) = parse_frame(&mut self.buf[self.start..self.end])? {
                let base = self.start;
                self.start += next;
                if self.start == self.end {
                    // All parsed: the next read starts at the front. The
                    // payload's bytes stay put until that read, and the
                    // caller is done with them before it calls again.
                    self.start = 0;
                    self.end = 0;
                }
                return Ok((op, base + range.start..base + range.end));
            }
            self.read_more().await?;
        }
    }

    /// The payload bytes of the frame [`WsConn::next_frame`] returned last.
    pub fn payload(&self, range: Range<usize>) -> &[u8] {
        &self.buf[range]
    }

    /// Queues a masked frame; [`WsConn::flush`] writes everything queued.
    pub fn queue(&mut self, op: Opcode, payload: &[u8]) {
        // xorshift32: mask keys need not be secret here, only non-constant.
        let mut x = self.mask_state;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.mask_state = x;
        encode_frame(&mut self.out, op, payload, x.to_be_bytes());
    }

    /// Writes every queued frame.
    pub async fn flush(&mut self) -> Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let result = self.stream.write_all(&self.out).await;
        self.out.clear();
        result.context("writing to the socket")
    }

    /// Drops the connection with a TCP reset instead of an orderly close
    /// (`SO_LINGER` 0; the close does not block).
    pub fn reset(self) {
        if let Err(e) = self.stream.set_zero_linger() {
            eprintln!("loadtool: SO_LINGER 0 failed, closing normally: {e}");
        }
    }

    /// Queues and writes one frame.
    pub async fn send(&mut self, op: Opcode, payload: &[u8]) -> Result<()> {
        self.queue(op, payload);
        self.flush().await
    }
}

/// Appends a client frame (masked with `key`) to `out`.
fn encode_frame(out: &mut Vec<u8>, op: Opcode, payload: &[u8], key: [u8; 4]) {
    out.push(0x80 | op.bits());
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if let Ok(short) = u16::try_from(len) {
        out.push(0x80 | 126);
        out.extend_from_slice(&short.to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
}

/// Length of the HTTP response head including its blank line, if complete.
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

/// Parses one frame at the start of `bytes` (unmasking it in place if the
/// server masked it): its opcode, the payload's range and the frame's total
/// length; `None` if the frame is not complete yet.
fn parse_frame(bytes: &mut [u8]) -> Result<Option<(Opcode, Range<usize>, usize)>> {
    let [b0, b1, ..] = *bytes else {
        return Ok(None);
    };
    if b0 & 0x80 == 0 {
        bail!("fragmented WebSocket message (not supported by the load tool)");
    }
    let op = Opcode::from_bits(b0 & 0x0F)?;
    let masked = b1 & 0x80 != 0;
    let (len, mut at) = match b1 & 0x7F {
        126 => match bytes.get(2..4) {
            Some(b) => (u16::from_be_bytes([b[0], b[1]]) as usize, 4),
            None => return Ok(None),
        },
        127 => match bytes.get(2..10).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            Some(b) => (
                usize::try_from(u64::from_be_bytes(b)).unwrap_or(usize::MAX),
                10,
            ),
            None => return Ok(None),
        },
        short => (short as usize, 2),
    };
    if len > MAX_FRAME {
        bail!("frame of {len} bytes is larger than {MAX_FRAME}");
    }
    let mut key = [0u8; 4];
    if masked {
        match bytes.get(at..at + 4) {
            Some(k) => key.copy_from_slice(k),
            None => return Ok(None),
        }
        at += 4;
    }
    let end = at + len;
    let Some(payload) = bytes.get_mut(at..end) else {
        return Ok(None);
    };
    if masked {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= key[i % 4];
        }
    }
    Ok(Some((op, at..end, end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(op: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0x80 | op];
        if payload.len() < 126 {
            f.push(payload.len() as u8);
        } else {
            f.push(126);
            f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        }
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn parses_short_and_extended_frames_and_waits_for_the_rest() {
        let mut two = frame(0x1, b"hello");
        let long = vec![b'x'; 300];
        two.extend(frame(0x1, &long));
        let (op, range, next) = parse_frame(&mut two).unwrap().unwrap();
        assert_eq!((op, &two[range.clone()]), (Opcode::Text, &b"hello"[..]));
        let (op, range, end) = parse_frame(&mut two[next..]).unwrap().unwrap();
        assert_eq!(op, Opcode::Text);
        assert_eq!(range.len(), 300);
        assert_eq!(next + end, two.len());
        // Any prefix of a frame is "not yet".
        let whole = frame(0x1, &long);
        for cut in 0..whole.len() {
            let mut part = whole[..cut].to_vec();
            assert!(parse_frame(&mut part).unwrap().is_none(), "cut at {cut}");
        }
    }

    /// A real loopback socket: with stamps on, a frame's arrival time lies
    /// between the moment the server was told to write it and its receipt;
    /// with them off, there is none. The kernel switches packet stamping on
    /// a moment after the first socket asks (from a work queue), so the
    /// first frames may come unstamped: the server writes one frame per
    /// request until a stamped one arrives (bounded by count).
    #[tokio::test]
    async fn stamped_reads_report_when_the_bytes_arrived() {
        use tokio::io::AsyncReadExt as _;
        const ATTEMPTS: usize = 20_000;
        for stamped in [true, false] {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (go_tx, mut go_rx) = tokio::sync::mpsc::channel::<()>(1);
            let server = tokio::spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut head = Vec::new();
                while find_head_end(&head).is_none() {
                    let mut b = [0u8; 512];
                    let n = s.read(&mut b).await.unwrap();
                    head.extend_from_slice(&b[..n]);
                }
                s.write_all(b"HTTP/1.1 101 Switching Protocols\r\n\r\n")
                    .await
                    .unwrap();
                while go_rx.recv().await.is_some() {
                    s.write_all(&frame(0x1, b"hi")).await.unwrap();
                }
            });
            let stream = TcpStream::connect(addr).await.unwrap();
            let mut ws = WsConn::upgrade(stream, &format!("ws://{addr}/ws"), None, stamped)
                .await
                .unwrap();
            let mut seen = None;
            for _ in 0..ATTEMPTS {
                let before = now_ns();
                go_tx.send(()).await.unwrap();
                let (op, range) = ws.next_frame().await.unwrap();
                let after = now_ns();
                assert_eq!((op, ws.payload(range)), (Opcode::Text, &b"hi"[..]));
                if let Some(at) = ws.arrived_ns() {
                    seen = Some((before, at, after));
                    break;
                }
                if !stamped {
                    break;
                }
            }
            match (stamped, seen) {
                // 1 ms of slack for converting between the two clocks.
                (true, Some((before, at, after))) => assert!(
                    at + 1_000_000 >= before && at <= after,
                    "arrived {at} outside [{before}, {after}]"
                ),
                (false, None) => {}
                other => panic!("stamped {stamped}: arrival {other:?}"),
            }
            drop(go_tx);
            server.await.unwrap();
        }
    }

    #[test]
    fn refuses_fragments_unknown_opcodes_and_huge_frames() {
        assert!(parse_frame(&mut [0x01, 0x00]).is_err());
        assert!(parse_frame(&mut [0x83, 0x00]).is_err());
        let mut huge = vec![0x81, 127];
        huge.extend_from_slice(&(u64::MAX).to_be_bytes());
        assert!(parse_frame(&mut huge).is_err());
    }

    #[test]
    fn masked_client_frames_parse_back_to_their_payload() {
        let long = "y".repeat(70_000);
        for (text, key) in [
            ("a", [1, 2, 3, 4]),
            ("lt 1 2 3", [9, 0, 7, 255]),
            (&long[..], [5; 4]),
        ] {
            let mut out = Vec::new();
            encode_frame(&mut out, Opcode::Text, text.as_bytes(), key);
            assert_ne!(&out[out.len() - text.len()..], text.as_bytes(), "masked");
            let (op, range, end) = parse_frame(&mut out).unwrap().unwrap();
            assert_eq!(op, Opcode::Text);
            assert_eq!(end, out.len());
            assert_eq!(&out[range], text.as_bytes());
        }
    }

    #[test]
    fn splits_urls() {
        assert_eq!(
            split_url("ws://127.0.0.1:80/socket.io/?EIO=4").unwrap(),
            ("127.0.0.1:80", "/socket.io/?EIO=4")
        );
        assert_eq!(split_url("ws://h:1").unwrap(), ("h:1", "/"));
        assert!(split_url("http://h/").is_err());
    }
}
