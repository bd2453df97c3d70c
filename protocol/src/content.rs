//! What a message carries: text, or one media file (image, voice, video).
//!
//! On the wire a message is flat, as it has been since v1:
//! `{"kind":"message","msgtype":"text","text":"…","client_id":"…"}`; a media
//! message adds `"media":{…}` and keeps `text` (empty), so v1 clients that
//! read only `text` still parse it. [`Message`] converts through
//! [`WireMessage`], which is also where an inconsistent message (a text
//! message without text, an image without its media) is refused.
//!
//! A message may quote an earlier message of its conversation (`reply_to`:
//! a [`Quote`], filled in by the server from the stored original, so it
//! says "recalled" once the original is) and mention members by id
//! (`mentions`, never re-parsed from the text). Both are absent from the
//! JSON when unused, so v1 messages keep their shape.

use serde::{Deserialize, Serialize};

use crate::{MediaId, Seq, UserBrief, UserId};

/// Longest excerpt of a quoted message, in characters.
pub const QUOTE_EXCERPT_CHARS: usize = 60;

/// The message a reply quotes, as the server read it when it sent (pushed)
/// or read (history) the reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct Quote {
    /// The original's position in the same conversation's log.
    pub seq: Seq,
    /// Who sent the original.
    pub sender: UserBrief,
    /// The original's kind of content (None once it is recalled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msgtype: Option<MsgType>,
    /// The first line of a text original, at most [`QUOTE_EXCERPT_CHARS`]
    /// characters ("" for media: the UI shows [图片] etc. from `msgtype`,
    /// and for a recalled original).
    #[serde(default)]
    pub excerpt: String,
    /// True once the original was recalled: its content is gone.
    #[serde(default)]
    pub recalled: bool,
}

impl Quote {
    /// The one-line excerpt of `text`: its first non-empty line, cut at
    /// [`QUOTE_EXCERPT_CHARS`] characters (with an ellipsis when cut).
    pub fn excerpt_of(text: &str) -> String {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("");
        let mut out: String = line.chars().take(QUOTE_EXCERPT_CHARS).collect();
        if line.chars().nth(QUOTE_EXCERPT_CHARS).is_some() {
            out.push('…');
        }
        out
    }
}

/// The kind of content a message carries (the `msgtype` tag).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum MsgType {
    Text,
    Image,
    Voice,
    Video,
    /// A system notice to everyone (the server API's send-to-all): shown
    /// centred, without a bubble, like the time separators (v1.3).
    Notice,
}

impl MsgType {
    /// The tag as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            MsgType::Text => "text",
            MsgType::Image => "image",
            MsgType::Voice => "voice",
            MsgType::Video => "video",
            MsgType::Notice => "notice",
        }
    }

    /// The tag read back; `None` for a tag this build does not know.
    pub fn parse(tag: &str) -> Option<MsgType> {
        Some(match tag {
            "text" => MsgType::Text,
            "image" => MsgType::Image,
            "voice" => MsgType::Voice,
            "video" => MsgType::Video,
            "notice" => MsgType::Notice,
            _ => return None,
        })
    }
}

/// A stored media file as a message refers to it: enough to lay out its
/// bubble before any byte of it loads. Served from `/media/{id}` (and, for
/// images, a thumbnail from `/media/{id}/thumb`) to members of the
/// conversation only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct MediaRef {
    /// Opaque, unguessable id (also its URL).
    pub id: MediaId,
    /// The type sniffed from the file's bytes by the server (never the
    /// client's claim), e.g. `image/jpeg`, `audio/webm`.
    pub mime: String,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// Pixel size as shown (EXIF orientation applied), for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Playing time, for voice and video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u32>,
}

/// What a message shows.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MessageContent {
    /// Normalised text (see [`crate::text`]).
    Text(String),
    Image(MediaRef),
    Voice(MediaRef),
    Video(MediaRef),
    /// A system notice's text (normalised like a message's); only the
    /// server API sends these (see [`MsgType::Notice`]).
    Notice(String),
}

impl MessageContent {
    pub fn msgtype(&self) -> MsgType {
        match self {
            MessageContent::Text(_) => MsgType::Text,
            MessageContent::Image(_) => MsgType::Image,
            MessageContent::Voice(_) => MsgType::Voice,
            MessageContent::Video(_) => MsgType::Video,
            MessageContent::Notice(_) => MsgType::Notice,
        }
    }

    /// The text of a text message or a notice ("" for media).
    pub fn text(&self) -> &str {
        match self {
            MessageContent::Text(t) | MessageContent::Notice(t) => t,
            _ => "",
        }
    }

    /// The media file of a media message.
    pub fn media(&self) -> Option<&MediaRef> {
        match self {
            MessageContent::Text(_) | MessageContent::Notice(_) => None,
            MessageContent::Image(m) | MessageContent::Voice(m) | MessageContent::Video(m) => {
                Some(m)
            }
        }
    }

    /// Builds the content of `msgtype` from its parts; `None` if they do
    /// not fit (media missing for a media type, or given to text).
    pub fn from_parts(msgtype: MsgType, text: String, media: Option<MediaRef>) -> Option<Self> {
        Some(match (msgtype, media) {
            (MsgType::Text, None) => MessageContent::Text(text),
            (MsgType::Notice, None) => MessageContent::Notice(text),
            (MsgType::Image, Some(m)) => MessageContent::Image(m),
            (MsgType::Voice, Some(m)) => MessageContent::Voice(m),
            (MsgType::Video, Some(m)) => MessageContent::Video(m),
            _ => return None,
        })
    }
}

/// A message: its content and the sender's idempotency key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WireMessage", into = "WireMessage")]
pub struct Message {
    pub content: MessageContent,
    /// The sender's idempotency key: a retry with the same key returns the
    /// stored message.
    pub client_id: String,
    /// The message this one replies to, if any (boxed: most messages are
    /// not replies, and events stay small).
    pub reply_to: Option<Box<Quote>>,
    /// Members this message mentions (checked members when it was sent), in
    /// the order given, without repeats.
    pub mentions: Vec<UserId>,
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<String>, client_id: impl Into<String>) -> Message {
        Message::of(MessageContent::Text(text.into()), client_id)
    }

    /// A message with `content`, no reply and no mentions.
    pub fn of(content: MessageContent, client_id: impl Into<String>) -> Message {
        Message {
            content,
            client_id: client_id.into(),
            reply_to: None,
            mentions: Vec::new(),
        }
    }
}

/// The flat v1 JSON shape of a [`Message`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WireMessage {
    pub msgtype: MsgType,
    /// The text; "" for media messages.
    #[serde(default)]
    pub text: String,
    /// The file, for media messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaRef>,
    pub client_id: String,
    /// The quoted message (v1.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Box<Quote>>,
    /// Mentioned members' ids (v1.2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<UserId>,
}

impl TryFrom<WireMessage> for Message {
    type Error = &'static str;
    fn try_from(w: WireMessage) -> Result<Message, &'static str> {
        let content = MessageContent::from_parts(w.msgtype, w.text, w.media)
            .ok_or("a message's media must match its msgtype")?;
        Ok(Message {
            content,
            client_id: w.client_id,
            reply_to: w.reply_to,
            mentions: w.mentions,
        })
    }
}

impl From<Message> for WireMessage {
    fn from(m: Message) -> WireMessage {
        let msgtype = m.content.msgtype();
        let (text, media) = match m.content {
            MessageContent::Text(t) | MessageContent::Notice(t) => (t, None),
            MessageContent::Image(x) | MessageContent::Voice(x) | MessageContent::Video(x) => {
                (String::new(), Some(x))
            }
        };
        WireMessage {
            msgtype,
            text,
            media,
            client_id: m.client_id,
            reply_to: m.reply_to,
            mentions: m.mentions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo() -> MediaRef {
        MediaRef {
            id: MediaId("m0123456789abcdefghijklmn".into()),
            mime: "image/png".into(),
            bytes: 1234,
            width: Some(640),
            height: Some(480),
            duration_ms: None,
        }
    }

    #[test]
    fn text_messages_keep_their_v1_shape() {
        let json = serde_json::to_string(&Message::text("hi", "c1")).unwrap();
        assert_eq!(json, r#"{"msgtype":"text","text":"hi","client_id":"c1"}"#);
    }

    #[test]
    fn media_messages_add_media_and_keep_an_empty_text() {
        let m = Message::of(MessageContent::Image(photo()), "c2");
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains(r#""msgtype":"image","text":"""#), "{json}");
        assert!(json.contains(r#""media":{"id":"m0123"#), "{json}");
        assert!(!json.contains("duration_ms"), "{json}");
        assert_eq!(serde_json::from_str::<Message>(&json).unwrap(), m);
    }

    #[test]
    fn media_that_does_not_match_the_msgtype_is_refused() {
        for bad in [
            r#"{"msgtype":"image","text":"","client_id":"c"}"#,
            r#"{"msgtype":"text","text":"x","client_id":"c","media":{"id":"m","mime":"image/png","bytes":1}}"#,
            r#"{"msgtype":"hologram","text":"x","client_id":"c"}"#,
        ] {
            assert!(serde_json::from_str::<Message>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn replies_and_mentions_are_optional_on_the_wire() {
        let mut m = Message::text("@bob see above", "c3");
        m.reply_to = Some(Box::new(Quote {
            seq: 4,
            sender: UserBrief {
                id: UserId(2),
                username: "bob".into(),
                nickname: "鲍勃".into(),
                avatar: None,
                avatar_url: None,
                bot: false,
            },
            msgtype: Some(MsgType::Text),
            excerpt: "first line".into(),
            recalled: false,
        }));
        m.mentions = vec![UserId(2)];
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains(r#""reply_to":{"seq":4"#), "{json}");
        assert!(json.contains(r#""mentions":[2]"#), "{json}");
        assert_eq!(serde_json::from_str::<Message>(&json).unwrap(), m);
        // A v1 message (no such fields) still parses, with neither.
        let v1: Message =
            serde_json::from_str(r#"{"msgtype":"text","text":"hi","client_id":"c"}"#).unwrap();
        assert_eq!((v1.reply_to, v1.mentions.len()), (None, 0));
    }

    #[test]
    fn notices_are_flat_text_with_their_own_msgtype() {
        let n = Message::of(MessageContent::Notice("维护通知".into()), "n1");
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(
            json,
            r#"{"msgtype":"notice","text":"维护通知","client_id":"n1"}"#
        );
        assert_eq!(serde_json::from_str::<Message>(&json).unwrap(), n);
        assert_eq!(n.content.text(), "维护通知");
        assert!(n.content.media().is_none());
    }

    #[test]
    fn excerpts_are_one_short_line() {
        assert_eq!(Quote::excerpt_of("\n  hello  \nworld"), "hello");
        let long = "长".repeat(QUOTE_EXCERPT_CHARS + 5);
        let cut = Quote::excerpt_of(&long);
        assert_eq!(cut.chars().count(), QUOTE_EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(Quote::excerpt_of(""), "");
    }

    #[test]
    fn tags_round_trip() {
        for t in [
            MsgType::Text,
            MsgType::Image,
            MsgType::Voice,
            MsgType::Video,
            MsgType::Notice,
        ] {
            assert_eq!(MsgType::parse(t.as_str()), Some(t));
            assert_eq!(
                serde_json::to_string(&t).unwrap(),
                format!("\"{}\"", t.as_str())
            );
        }
        assert_eq!(MsgType::parse("sticker"), None);
    }
}
