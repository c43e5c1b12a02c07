//! `Idempotency-Key`: a repeated call, even one made while the first is still running, gets the first
//! call's answer (status and body), and the provider is called once.
//!
//! [`deduplicate`] is a middleware for the API routes, placed inside authentication (the key is scoped by the
//! caller's role). It applies to calls with an `Idempotency-Key` header and a method other than GET/HEAD:
//! - the first call claims `{prefix}idempotency:{service}:{role}:{key}` in Redis (SET NX, expiring after the
//!   in-progress time), runs, and stores its answer for `IDEMPOTENCY_TTL` (default 24 h);
//! - a repeat waits while the first runs, then gets the stored answer with `Idempotent-Replayed: true`;
//! - an answer of 5xx or 429 is not kept (the key is released), so a later repeat can try again;
//! - the same key with a different method, path or body: 422 `idempotency_key_reused`;
//! - a key that is empty, longer than 255 characters or not printable ASCII: 400 `invalid_idempotency_key`;
//! - Redis unreachable: 503 `idempotency_unavailable` (the caller asked for at-most-once, which cannot be
//!   promised without it); calls without the header never touch Redis.

use std::time::{Duration, Instant};

use crate::redis::Pool;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use contracts::RedisKeys;
use contracts::headers::IDEMPOTENCY_KEY;
use deadpool_redis::redis::{self, Script};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::caller_auth::Caller;
use crate::error::ErrorResponse;

/// Header on an answer replayed from an earlier call with the same key.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// Longest request body fingerprinted (larger ones: 413).
const MAX_REQUEST_BYTES: usize = 2 * 1024 * 1024;
/// Longest answer kept for replay (larger ones are not kept, and the key is released).
const MAX_STORED_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
const POLL_INTERVAL: Duration = Duration::from_millis(20);
const MAX_KEY_CHARS: usize = 255;

/// The state of [`deduplicate`].
#[derive(Clone)]
pub struct Idempotency {
    pool: Pool,
    keys: RedisKeys,
    service: &'static str,
    ttl: Duration,
    in_progress_ttl: Duration,
}

impl std::fmt::Debug for Idempotency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotency")
            .field("service", &self.service)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl Idempotency {
    /// `ttl`: how long an answer is kept (`IDEMPOTENCY_TTL`). `in_progress_ttl`: how long a running call holds
    /// its key (and how long a repeat waits for it); make it longer than a call can take.
    pub fn new(
        pool: Pool,
        keys: RedisKeys,
        service: &'static str,
        ttl: Duration,
        in_progress_ttl: Duration,
    ) -> Self {
        Self {
            pool,
            keys,
            service,
            ttl,
            in_progress_ttl,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Record {
    InProgress {
        fingerprint: String,
        owner: String,
    },
    Done {
        fingerprint: String,
        status: u16,
        content_type: Option<String>,
        body_base64: String,
    },
}

impl Record {
    fn fingerprint(&self) -> &str {
        match self {
            Record::InProgress { fingerprint, .. } | Record::Done { fingerprint, .. } => {
                fingerprint
            }
        }
    }
}

fn unavailable(error: impl std::fmt::Display) -> Response {
    tracing::warn!(%error, "idempotency store unavailable");
    ErrorResponse::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "idempotency_unavailable",
        "Idempotency-Key needs Redis, which is unavailable; retry later (or without the key)",
    )
    .retry_after(5)
    .into_response()
}

fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_CHARS && key.bytes().all(|b| b.is_ascii_graphic())
}

/// Middleware: see the module documentation. `axum::middleware::from_fn_with_state(idempotency, deduplicate)`.
pub async fn deduplicate(
    State(store): State<Idempotency>,
    request: Request,
    next: Next,
) -> Response {
    let Some(raw_key) = request.headers().get(IDEMPOTENCY_KEY) else {
        return next.run(request).await;
    };
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let key = match raw_key.to_str() {
        Ok(key) if valid_key(key) => key.to_owned(),
        _ => {
            return ErrorResponse::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 printable ASCII characters",
            )
            .into_response();
        }
    };
    let role = request
        .extensions()
        .get::<Caller>()
        .map(|caller| caller.role.as_str())
        .unwrap_or("anonymous");
    let redis_key = store.keys.idempotency(store.service, role, &key);
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_REQUEST_BYTES).await {
        Ok(body) => body,
        Err(_) => return ErrorResponse::payload_too_large().into_response(),
    };
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str());
    hasher.update(b" ");
    hasher.update(parts.uri.to_string());
    hasher.update(b"\n");
    hasher.update(&body);
    let fingerprint = hex::encode(hasher.finalize());
    let owner = hex::encode(rand::rng().random::<[u8; 16]>());

    let started = Instant::now();
    loop {
        let mut connection = match store.pool.get().await {
            Ok(connection) => connection,
            Err(error) => return unavailable(error),
        };
        let claim = serde_json::to_string(&Record::InProgress {
            fingerprint: fingerprint.clone(),
            owner: owner.clone(),
        })
        .expect("a record serializes");
        let claimed: Result<Option<String>, _> = redis::cmd("SET")
            .arg(&redis_key)
            .arg(&claim)
            .arg("NX")
            .arg("PX")
            .arg(store.in_progress_ttl.as_millis() as u64)
            .query_async(&mut connection)
            .await;
        match claimed {
            Err(error) => return unavailable(error),
            Ok(Some(_)) => {
                drop(connection);
                let request = Request::from_parts(parts, Body::from(body));
                let response = next.run(request).await;
                return store
                    .keep_answer(&redis_key, &owner, &fingerprint, response)
                    .await;
            }
            Ok(None) => {}
        }
        let existing: Result<Option<String>, _> = redis::cmd("GET")
            .arg(&redis_key)
            .query_async(&mut connection)
            .await;
        let record = match existing {
            Err(error) => return unavailable(error),
            Ok(None) => continue,
            Ok(Some(raw)) => match serde_json::from_str::<Record>(&raw) {
                Ok(record) => record,
                Err(error) => {
                    return ErrorResponse::internal(&format!(
                        "unreadable idempotency record: {error}"
                    ))
                    .into_response();
                }
            },
        };
        if record.fingerprint() != fingerprint {
            return ErrorResponse::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different request (method, path or body)",
            )
            .into_response();
        }
        match record {
            Record::Done {
                status,
                content_type,
                body_base64,
                ..
            } => return replay(status, content_type, &body_base64),
            Record::InProgress { .. } => {
                if started.elapsed() > store.in_progress_ttl {
                    return ErrorResponse::new(
                        StatusCode::CONFLICT,
                        "idempotency_in_progress",
                        "a call with this Idempotency-Key is still running",
                    )
                    .retry_after(1)
                    .into_response();
                }
                drop(connection);
                tokio::time::sleep(POLL_INTERVAL).await;
            }
        }
    }
}

fn replay(status: u16, content_type: Option<String>, body_base64: &str) -> Response {
    let body = match BASE64.decode(body_base64) {
        Ok(body) => body,
        Err(error) => {
            return ErrorResponse::internal(&format!("unreadable idempotency record: {error}"))
                .into_response();
        }
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if let Some(value) = content_type.and_then(|v| HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response.headers_mut().insert(
        HeaderName::from_static(REPLAYED_HEADER),
        HeaderValue::from_static("true"),
    );
    response
}

impl Idempotency {
    /// Stores a final answer for replay, or releases the key for a 5xx/429 (or an answer too large to keep).
    async fn keep_answer(
        &self,
        redis_key: &str,
        owner: &str,
        fingerprint: &str,
        response: Response,
    ) -> Response {
        let status = response.status();
        let keep = !status.is_server_error() && status != StatusCode::TOO_MANY_REQUESTS;
        let (parts, body) = response.into_parts();
        if !keep {
            self.release(redis_key, owner).await;
            return Response::from_parts(parts, body);
        }
        let body = match axum::body::to_bytes(body, MAX_STORED_RESPONSE_BYTES).await {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::warn!(%error, "answer too large to keep for Idempotency-Key replay");
                self.release(redis_key, owner).await;
                return ErrorResponse::internal(&error).into_response();
            }
        };
        let record = Record::Done {
            fingerprint: fingerprint.to_owned(),
            status: status.as_u16(),
            content_type: parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body_base64: BASE64.encode(&body),
        };
        let stored = async {
            let mut connection = self.pool.get().await.map_err(|e| e.to_string())?;
            redis::cmd("SET")
                .arg(redis_key)
                .arg(serde_json::to_string(&record).expect("a record serializes"))
                .arg("PX")
                .arg(self.ttl.as_millis() as u64)
                .query_async::<()>(&mut connection)
                .await
                .map_err(|e| e.to_string())
        };
        if let Err(error) = stored.await {
            tracing::warn!(%error, "could not keep the answer of an Idempotency-Key call");
        }
        Response::from_parts(parts, Body::from(body))
    }

    /// Deletes the key if this call still owns it.
    async fn release(&self, redis_key: &str, owner: &str) {
        let script = Script::new(
            r#"local v = redis.call('GET', KEYS[1])
               if v and string.find(v, ARGV[1], 1, true) then return redis.call('DEL', KEYS[1]) end
               return 0"#,
        );
        let released = async {
            let mut connection = self.pool.get().await.map_err(|e| e.to_string())?;
            script
                .key(redis_key)
                .arg(format!("\"owner\":\"{owner}\""))
                .invoke_async::<i64>(&mut connection)
                .await
                .map_err(|e| e.to_string())
        };
        if let Err(error) = released.await {
            tracing::warn!(%error, "could not release an Idempotency-Key");
        }
    }
}
