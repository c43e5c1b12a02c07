//! W3C trace context (`traceparent`) and `X-Task-Id`: read on every request, carried on every outbound call.

use std::fmt;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use contracts::TaskId;
use contracts::headers;
use rand::Rng;
use tracing::Instrument;

/// One hop of a trace: the trace id shared by every service, this hop's span id, and the sampled flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub sampled: bool,
}

impl TraceContext {
    /// A new trace.
    pub fn new_root() -> Self {
        let mut rng = rand::rng();
        let mut trace_id = [0u8; 16];
        rng.fill(&mut trace_id);
        trace_id[0] |= 1;
        Self {
            trace_id,
            span_id: random_span_id(),
            sampled: true,
        }
    }

    /// The same trace, a new span: what a service sends on its own outbound calls.
    pub fn child(&self) -> Self {
        Self {
            trace_id: self.trace_id,
            span_id: random_span_id(),
            sampled: self.sampled,
        }
    }

    /// Parses `00-<32 hex>-<16 hex>-<2 hex>`; all-zero ids are invalid per the spec.
    pub fn parse(header: &str) -> Option<Self> {
        let mut parts = header.trim().split('-');
        let (version, trace, span, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if version.len() != 2
            || version == "ff"
            || trace.len() != 32
            || span.len() != 16
            || flags.len() != 2
        {
            return None;
        }
        if version == "00" && parts.next().is_some() {
            return None;
        }
        let mut trace_id = [0u8; 16];
        let mut span_id = [0u8; 8];
        hex::decode_to_slice(trace, &mut trace_id).ok()?;
        hex::decode_to_slice(span, &mut span_id).ok()?;
        let flags = u8::from_str_radix(flags, 16).ok()?;
        if trace_id == [0; 16] || span_id == [0; 8] {
            return None;
        }
        Some(Self {
            trace_id,
            span_id,
            sampled: flags & 1 == 1,
        })
    }

    pub fn trace_id_hex(&self) -> String {
        hex::encode(self.trace_id)
    }

    /// `traceparent` for a call made from this span: a child span of it.
    pub fn outbound_header(&self) -> HeaderValue {
        HeaderValue::from_str(&self.child().to_string()).expect("traceparent is ASCII")
    }
}

impl fmt::Display for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{}-{}-{:02x}",
            hex::encode(self.trace_id),
            hex::encode(self.span_id),
            u8::from(self.sampled)
        )
    }
}

fn random_span_id() -> [u8; 8] {
    let mut span = [0u8; 8];
    rand::rng().fill(&mut span);
    span[7] |= 1;
    span
}

/// The trace and task a request belongs to, stored in request extensions by [`trace_requests`].
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub trace: TraceContext,
    pub task_id: Option<TaskId>,
}

impl RequestContext {
    /// Headers for a call to another component: `traceparent` (child span) and `X-Task-Id` when known.
    pub fn outbound_headers(&self) -> HeaderMap {
        outbound_headers(&self.trace, self.task_id.as_ref())
    }
}

/// Headers for a call to another component.
pub fn outbound_headers(trace: &TraceContext, task_id: Option<&TaskId>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_static(headers::TRACEPARENT),
        trace.outbound_header(),
    );
    if let Some(task_id) = task_id {
        headers.insert(
            HeaderName::from_static(headers::TASK_ID),
            HeaderValue::from_str(&task_id.to_string()).expect("task ids are ASCII"),
        );
    }
    headers
}

/// Middleware: continues the caller's trace (or starts one), reads `X-Task-Id`, and runs the request
/// inside a span carrying both, so every log line of the request has them. The span's closing line is the
/// request's log line: handlers record on it what the request came to (`outcome`, `reason`, `actor`)
/// instead of logging a line of their own.
pub async fn trace_requests(mut request: Request, next: Next) -> Response {
    let trace = request
        .headers()
        .get(headers::TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(TraceContext::parse)
        .map(|parent| parent.child())
        .unwrap_or_else(TraceContext::new_root);
    let task_id = request
        .headers()
        .get(headers::TASK_ID)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<TaskId>().ok());
    let span = tracing::info_span!(
        "http_request",
        method = %request.method(),
        path = %request.uri().path(),
        trace_id = %trace.trace_id_hex(),
        task_id = tracing::field::Empty,
        status = tracing::field::Empty,
        outcome = tracing::field::Empty,
        reason = tracing::field::Empty,
        actor = tracing::field::Empty,
        command = tracing::field::Empty,
        priority = tracing::field::Empty,
        conversation_key = tracing::field::Empty,
    );
    if let Some(task_id) = &task_id {
        span.record("task_id", tracing::field::display(task_id));
    }
    request
        .extensions_mut()
        .insert(RequestContext { trace, task_id });
    async move {
        let response = next.run(request).await;
        tracing::Span::current().record("status", response.status().as_u16());
        response
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_validates() {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parsed = TraceContext::parse(header).unwrap();
        assert_eq!(parsed.to_string(), header);
        assert!(parsed.sampled);
        let child = parsed.child();
        assert_eq!(child.trace_id, parsed.trace_id);
        assert_ne!(child.span_id, parsed.span_id);
        for bad in [
            "",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-xyz92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert!(TraceContext::parse(bad).is_none(), "{bad}");
        }
        assert!(TraceContext::parse(&TraceContext::new_root().to_string()).is_some());
    }
}
