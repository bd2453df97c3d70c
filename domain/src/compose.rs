//! What a message adds to its content: the message it replies to and the
//! members it mentions, as references (a seq, user ids), never as text to
//! be re-parsed. Checked for shape here; whether they exist (a message of
//! the same conversation, members of it) is checked by the store in the
//! transaction that stores the message.

use teahouse_protocol::limits::MENTIONS_MAX;
use teahouse_protocol::{ErrorCode, Seq, UserId};

use crate::{DomainError, Result};

/// A reply's and mentions' references.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Compose {
    /// The seq of the quoted message in the same conversation.
    pub reply_to: Option<Seq>,
    /// Mentioned members' ids.
    pub mentions: Vec<UserId>,
}

impl Compose {
    /// Parses the `mentions` argument: user ids separated by commas
    /// (`"3,7"`; blank: none). `bad_request` for anything else.
    pub fn parse_mentions(raw: &str) -> Result<Vec<UserId>> {
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .map(UserId)
                    .ok_or_else(|| DomainError::field(ErrorCode::BadRequest, "mentions"))
            })
            .collect()
    }

    /// Repeats dropped (first kept), at most [`MENTIONS_MAX`]
    /// (`too_many_mentions`), a positive reply seq (`reply_not_found`).
    pub(crate) fn checked(self) -> Result<Compose> {
        let mut mentions: Vec<UserId> = Vec::with_capacity(self.mentions.len());
        for id in self.mentions {
            if !mentions.contains(&id) {
                mentions.push(id);
            }
        }
        if mentions.len() > MENTIONS_MAX {
            return Err(DomainError::field(ErrorCode::TooManyMentions, "mentions"));
        }
        if self.reply_to.is_some_and(|seq| seq < 1) {
            return Err(DomainError::field(ErrorCode::ReplyNotFound, "reply_to"));
        }
        Ok(Compose {
            reply_to: self.reply_to,
            mentions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_parse_dedupe_and_are_bounded() {
        assert_eq!(
            Compose::parse_mentions(" 3, 7,,3 ").unwrap(),
            vec![UserId(3), UserId(7), UserId(3)]
        );
        assert!(Compose::parse_mentions("").unwrap().is_empty());
        for bad in ["x", "3;4", "-1", "0"] {
            assert!(Compose::parse_mentions(bad).is_err(), "{bad}");
        }
        let c = Compose {
            reply_to: None,
            mentions: vec![UserId(3), UserId(7), UserId(3)],
        };
        assert_eq!(c.checked().unwrap().mentions, vec![UserId(3), UserId(7)]);
        let many = Compose {
            reply_to: None,
            mentions: (1..=MENTIONS_MAX as i64 + 1).map(UserId).collect(),
        };
        assert_eq!(
            many.checked().unwrap_err().to_api().code,
            ErrorCode::TooManyMentions
        );
    }
}
