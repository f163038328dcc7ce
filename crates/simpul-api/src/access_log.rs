//! The access log: one span and one line per request, from one middleware layer, plus the
//! request metrics. Spans carry the matched route template, never the raw path, so a NIK
//! in a URL never reaches a log line or a metric label.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The middleware: gives the request an id (echoed as `X-Request-Id`, written into the
/// access log of personal-data reads), wraps it in its span, then logs and counts it.
pub async fn layer(mut request: Request, next: Next) -> Response {
    let request_id = format!("{:016x}", rand::random::<u64>());
    request
        .extensions_mut()
        .insert(crate::auth::RequestId(request_id.clone()));
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = method_label(request.method());
    let span = tracing::info_span!("request", %method, %route, request_id = %request_id);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    if let Ok(value) = axum::http::HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    crate::metrics::record_request(&route, method, status, elapsed.as_secs_f64());
    let micros = elapsed.as_micros() as u64;
    span.in_scope(|| {
        if route.starts_with("/healthz") || route.starts_with("/readyz") || route == "/metrics" {
            tracing::debug!(status, micros, "served");
        } else {
            tracing::info!(status, micros, "served");
        }
    });
    response
}

/// The method as a label. HTTP allows any token as a method, so unknown ones share one
/// label: a client must not be able to grow the metric set.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
