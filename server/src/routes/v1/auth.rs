//! Who calls `/api/v1`: the API key in `Authorization: Bearer <secret>`
//! ([`ApiKey`]). Cookies are never looked at, so a browser that is signed
//! in cannot be made to call the API (there is nothing for a cross-site
//! request to ride on). Also the extractors for JSON bodies and path
//! parameters whose refusals are the JSON error shape of every route
//! ([`V1Json`], [`V1Path`]) rather than axum's plain-text ones.

use std::sync::Arc;

use app::api::ssr::fail;
use app::error::AppError;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRef, FromRequest, FromRequestParts, Path, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::Json;
use serde::de::DeserializeOwned;
use teahouse_domain::{ApiCaller, Chat};
use teahouse_protocol::ErrorCode;

/// The caller behind the request's API key.
#[derive(Clone, Debug)]
pub struct ApiKey(pub ApiCaller);

impl<S> FromRequestParts<S> for ApiKey
where
    Arc<Chat>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let secret = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer)
            .ok_or_else(|| AppError::new(ErrorCode::ApiKeyMissing))?;
        let chat = Arc::<Chat>::from_ref(state);
        match chat.api_caller(secret).await {
            Ok(caller) => Ok(ApiKey(caller)),
            Err(e) => {
                if !e.is_internal() {
                    tracing::info!(code = e.to_api().code.as_str(), "API key refused");
                }
                Err(fail(e))
            }
        }
    }
}

/// The secret of an `Authorization: Bearer <secret>` header value (the
/// scheme is case-insensitive, RFC 9110 §11.1).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, secret) = value.trim().split_once(' ')?;
    let secret = secret.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !secret.is_empty()).then_some(secret)
}

/// A JSON body; anything that is not the expected JSON is `bad_request`.
pub struct V1Json<T>(pub T);

impl<S, T> FromRequest<S> for V1Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(V1Json(v)),
            Err(e) => {
                let e: JsonRejection = e;
                tracing::info!(error = %e.body_text(), "API request body refused");
                Err(AppError::new(ErrorCode::BadRequest))
            }
        }
    }
}

/// Path parameters; one that does not parse (a room id that is not a
/// number) is `bad_request`.
pub struct V1Path<T>(pub T);

impl<S, T> FromRequestParts<S> for V1Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(V1Path(v)),
            Err(e) => {
                let e: PathRejection = e;
                tracing::info!(error = %e.body_text(), "API path refused");
                Err(AppError::new(ErrorCode::BadRequest))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn only_bearer_credentials_count() {
        assert_eq!(bearer("Bearer thk_abc"), Some("thk_abc"));
        assert_eq!(bearer("bearer   thk_abc "), Some("thk_abc"));
        assert_eq!(bearer("Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer("Bearer"), None);
        assert_eq!(bearer("Bearer  "), None);
        assert_eq!(bearer("thk_abc"), None);
    }
}
