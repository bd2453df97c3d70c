//! The server API for other backends (issue 17), as the admin page sees
//! it: API keys (what they may do, which bot they act as) and the checks of
//! what the host system sends (its user ids, avatar URLs).
//!
//! The `/api/v1` request and answer shapes themselves are the server's
//! (`server/src/routes/v1/`, described by its OpenAPI document); only
//! what the browser also needs lives here.

use serde::{Deserialize, Serialize};

use crate::{limits, ApiError, ConversationId, ErrorCode, UserBrief};

/// What an API key may do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ApiScope {
    /// Look up users and who is online; nothing changes.
    #[default]
    ReadOnly,
    /// Everything: users, sends, membership, kicks, hand-offs.
    Full,
}

impl ApiScope {
    /// The tag as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiScope::ReadOnly => "read_only",
            ApiScope::Full => "full",
        }
    }

    /// The tag read back; `None` for anything else.
    pub fn parse(tag: &str) -> Option<ApiScope> {
        match tag {
            "read_only" => Some(ApiScope::ReadOnly),
            "full" => Some(ApiScope::Full),
            _ => None,
        }
    }
}

/// An API key as the admin page lists it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    /// Its id (to revoke it).
    pub id: i64,
    /// What the admin called it.
    pub name: String,
    /// The first characters of the secret, to tell keys apart.
    pub prefix: String,
    /// What it may do.
    pub scope: ApiScope,
    /// The rooms it is limited to; None: all.
    pub rooms: Option<Vec<ConversationId>>,
    /// The bot account it acts as (its sends come from it).
    pub bot: UserBrief,
    /// When it was made (ms since the epoch).
    pub created_ms: i64,
    /// When it was revoked, if it was.
    pub revoked_ms: Option<i64>,
}

/// A key just made: the only time its secret is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiKey {
    /// The key as listed from now on.
    pub key: ApiKeyInfo,
    /// The secret to put in `Authorization: Bearer …`; only its hash is
    /// kept, so it cannot be shown again.
    pub secret: String,
}

/// A host system's user id: 1–[`limits::EXTERNAL_ID_MAX`] bytes of ASCII
/// letters, digits and `_ - . @ :` (what such ids are in practice: numbers,
/// UUIDs, e-mail addresses), so it is safe in a URL path as it is.
pub fn external_id(raw: &str) -> Result<String, ApiError> {
    let ok = (1..=limits::EXTERNAL_ID_MAX).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.@:".contains(&b));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(ApiError::field(ErrorCode::ExternalIdInvalid, "external_id"))
    }
}

/// An avatar URL: `https://` and a host, at most
/// [`limits::AVATAR_URL_MAX`] bytes, no white space, quotes or control
/// characters (it goes into an `img src` as it is). Empty: none.
pub fn avatar_url(raw: &str) -> Result<Option<String>, ApiError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let bad = || ApiError::field(ErrorCode::AvatarUrlInvalid, "avatar_url");
    let rest = raw.strip_prefix("https://").ok_or_else(bad)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let clean = raw
        .bytes()
        .all(|b| b.is_ascii_graphic() && !b"\"'<>\\`".contains(&b));
    if raw.len() > limits::AVATAR_URL_MAX || host.is_empty() || host.contains('@') || !clean {
        return Err(bad());
    }
    Ok(Some(raw.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_ids_are_url_safe_ascii() {
        for ok in ["42", "u_1", "a.b@example.com", "tenant:7", "550e8400-e29b"] {
            assert_eq!(external_id(ok).unwrap(), ok);
        }
        for bad in ["", " 1", "a/b", "a b", "用户", "x?y", &"1".repeat(65)] {
            assert_eq!(
                external_id(bad).unwrap_err().code,
                ErrorCode::ExternalIdInvalid,
                "{bad}"
            );
        }
    }

    #[test]
    fn avatar_urls_are_https_without_tricks() {
        assert_eq!(avatar_url("").unwrap(), None);
        assert_eq!(
            avatar_url("https://cdn.example.com/a/1.png?s=64").unwrap(),
            Some("https://cdn.example.com/a/1.png?s=64".into())
        );
        for bad in [
            "http://cdn.example.com/a.png",
            "javascript:alert(1)",
            "https:///a.png",
            "https://user@evil.example/a.png",
            "https://a.example/x\" onerror=\"x",
            "https://a.example/a b.png",
            "//cdn.example.com/a.png",
        ] {
            assert_eq!(
                avatar_url(bad).unwrap_err().code,
                ErrorCode::AvatarUrlInvalid,
                "{bad}"
            );
        }
        let long = format!("https://a.example/{}", "x".repeat(500));
        assert!(avatar_url(&long).is_err());
    }

    #[test]
    fn scopes_have_stable_tags() {
        for s in [ApiScope::ReadOnly, ApiScope::Full] {
            assert_eq!(ApiScope::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(ApiScope::parse("admin"), None);
    }
}
