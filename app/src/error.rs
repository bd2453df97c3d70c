//! [`AppError`]: the typed error every server function returns. It carries a
//! stable [`ErrorCode`] (plus the form field it concerns) across the HTTP
//! boundary as JSON, so the browser can show a localized message next to the
//! right input.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};
use teahouse_protocol::{ApiError, ErrorCode, Lang};

/// A server function failure as both sides see it. Serialized as the one
/// JSON error shape of every route: `{code, field?, message, message_zh}`
/// (the messages for clients that show them as they are; this app
/// localizes from `code`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, thiserror::Error)]
#[error("{}", code.as_str())]
pub struct AppError {
    /// What went wrong (stable, machine-readable).
    pub code: ErrorCode,
    /// The input field it concerns, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl AppError {
    pub fn new(code: ErrorCode) -> Self {
        AppError { code, field: None }
    }

    /// The human message in `lang`.
    pub fn message(&self, lang: Lang) -> &'static str {
        self.code.message(lang)
    }

    /// True if the error belongs next to input `field`.
    pub fn is_for(&self, field: &str) -> bool {
        self.field.as_deref() == Some(field)
    }
}

impl Serialize for AppError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("AppError", 4)?;
        out.serialize_field("code", &self.code)?;
        if let Some(field) = &self.field {
            out.serialize_field("field", field)?;
        }
        out.serialize_field("message", self.code.message(Lang::En))?;
        out.serialize_field("message_zh", self.code.message(Lang::Zh))?;
        out.end()
    }
}

impl From<ApiError> for AppError {
    fn from(e: ApiError) -> Self {
        AppError {
            code: e.code,
            field: e.field,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let code = match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => ErrorCode::BadRequest,
            ServerFnErrorErr::Request(_) => ErrorCode::Network,
            _ => ErrorCode::Internal,
        };
        let err = AppError::new(code);
        // On the server this runs while handling the request (e.g. arguments
        // that do not parse): answer with the matching status, not a 500.
        #[cfg(feature = "ssr")]
        let err = crate::api::ssr::reject(err);
        err
    }
}
