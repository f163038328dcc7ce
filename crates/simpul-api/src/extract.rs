//! Request extractors whose rejections go through the problem table.
//!
//! axum's own extractors answer plain-text errors; these wrappers keep every failure a
//! client can see in `application/problem+json`. They also keep the client's values out of
//! the answer: serde's messages quote the offending value (`invalid type: integer
//! `3577011403800001`, expected a string`), which would put a NIK sent as a number into an
//! error message, so only the field path and what was expected are passed on.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::StatusCode;

use crate::problem::{ApiError, ProblemCode};

/// `axum::Json`, with rejections as problems. The body limit (`DefaultBodyLimit`) is
/// enforced while axum buffers the body, so an oversized body becomes
/// `payload_too_large` here.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

/// `axum::extract::Query`, with rejections as problems.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// `axum::extract::Path`, with rejections as problems.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match &rejection {
            JsonRejection::JsonDataError(_) => {
                serde_problem::<serde_json::Error>(ProblemCode::InvalidBody, &rejection)
            }
            JsonRejection::JsonSyntaxError(_) => ApiError::new(
                ProblemCode::MalformedJson,
                // serde_json's syntax messages name a position, never a value.
                format!("JSON tidak dapat dibaca: {}", innermost(&rejection)),
            ),
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                ProblemCode::UnsupportedMediaType,
                "kirim isi dengan Content-Type: application/json",
            ),
            _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                ProblemCode::PayloadTooLarge,
                "isi permintaan melebihi batas ukuran",
            ),
            // The body could not be read (the client hung up mid-body, say).
            _ => ApiError::new(
                ProblemCode::MalformedJson,
                "isi permintaan tidak dapat dibaca",
            ),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        // serde_urlencoded reports through serde's plain value error.
        serde_problem::<serde::de::value::Error>(ProblemCode::InvalidQuery, &rejection)
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        if rejection.status().is_server_error() {
            // A route and its extractor disagree: our bug, not the client's.
            return ApiError::internal(rejection);
        }
        let field = match &rejection {
            PathRejection::FailedToDeserializePathParams(failed) => match failed.kind() {
                axum::extract::path::ErrorKind::InvalidUtf8InPathParam { key }
                | axum::extract::path::ErrorKind::ParseErrorAtKey { key, .. }
                | axum::extract::path::ErrorKind::DeserializeError { key, .. } => Some(key.clone()),
                _ => None,
            },
            _ => None,
        };
        // axum's own text quotes the segment, which may be a NIK; say only what is wrong.
        let error = ApiError::new(
            ProblemCode::InvalidPath,
            "segmen alamat tidak dapat dibaca (harus teks UTF-8 yang sah)",
        );
        match field {
            Some(field) => error.field(field),
            None => error,
        }
    }
}

/// The innermost error of a chain, whose message is the specific one.
fn innermost<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> &'a (dyn std::error::Error + 'static) {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current
}

/// A problem for a serde failure reported through `serde_path_to_error`, naming the path
/// and what was expected but never the value received.
fn serde_problem<E>(code: ProblemCode, rejection: &(dyn std::error::Error + 'static)) -> ApiError
where
    E: std::error::Error + 'static,
{
    let mut current = Some(rejection);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<serde_path_to_error::Error<E>>() {
            let path = found.path().to_string();
            let message = describe_serde_message(&found.inner().to_string());
            let no_path = found
                .path()
                .iter()
                .all(|segment| matches!(segment, serde_path_to_error::Segment::Unknown));
            return if no_path {
                ApiError::new(code, message)
            } else {
                ApiError::new(code, format!("{path}: {message}")).field(path)
            };
        }
        current = error.source();
    }
    ApiError::new(code, "nilai tidak sesuai skema")
}

/// Rewrites one serde message so that it keeps the field names and the expectation but
/// drops the value the client sent.
fn describe_serde_message(message: &str) -> String {
    // serde_json appends the position; it helps nobody once the path is known.
    let message = message.split(" at line ").next().unwrap_or(message);
    let expected = || {
        message
            .split_once(", expected ")
            .map(|(_, expected)| format!(": diharapkan {expected}"))
            .unwrap_or_default()
    };
    if let Some(rest) = message.strip_prefix("missing field ") {
        format!("kolom {rest} wajib diisi")
    } else if let Some(rest) = message.strip_prefix("unknown field ") {
        let name = rest.split(", expected").next().unwrap_or(rest);
        format!("kolom {name} tidak dikenal{}", expected())
    } else if let Some(rest) = message.strip_prefix("duplicate field ") {
        format!("kolom {rest} muncul dua kali")
    } else if message.starts_with("invalid type")
        || message.starts_with("invalid value")
        || message.starts_with("invalid length")
        || message.starts_with("unknown variant")
    {
        format!("nilai tidak sesuai{}", expected())
    } else {
        // Messages of other deserializers (dates, numbers parsed from text) are not
        // standardised; a fixed text is the only one known not to echo the value.
        "nilai tidak dapat dibaca".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::describe_serde_message;

    #[test]
    fn values_are_dropped_and_names_kept() {
        assert_eq!(
            describe_serde_message(
                "invalid type: integer `3577011403800001`, expected a string at line 1 column 25"
            ),
            "nilai tidak sesuai: diharapkan a string"
        );
        assert_eq!(
            describe_serde_message("missing field `nama`"),
            "kolom `nama` wajib diisi"
        );
        assert_eq!(
            describe_serde_message("unknown field `x`, expected `nik` or `nama`"),
            "kolom `x` tidak dikenal: diharapkan `nik` or `nama`"
        );
        assert_eq!(
            describe_serde_message("input contains invalid characters"),
            "nilai tidak dapat dibaca"
        );
    }
}
