//! `Idempotency-Key` through the real middleware and the real Redis.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::routing::post;
use contracts::RedisKeys;
use service_kit::idempotency::{Idempotency, deduplicate};
use tower::ServiceExt;

fn app(calls: Arc<AtomicUsize>, prefix: &str, status: StatusCode) -> Router {
    let pool = service_kit::redis::pool("redis://127.0.0.1:6379", 32).unwrap();
    let store = Idempotency::new(
        pool,
        RedisKeys::new(prefix),
        "test-service",
        Duration::from_secs(60),
        Duration::from_secs(10),
    );
    Router::new()
        .route(
            "/create",
            post(move |body: String| {
                let calls = calls.clone();
                async move {
                    let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    (status, format!("call {n} for {body}"))
                }
            }),
        )
        .layer(from_fn_with_state(store, deduplicate))
}

async fn call(app: &Router, key: Option<&str>, body: &str) -> (StatusCode, String, bool) {
    let mut request = Request::post("/create");
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let replayed = response.headers().contains_key("idempotent-replayed");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap(), replayed)
}

fn prefix() -> String {
    format!("test:{}:", uuid::Uuid::now_v7())
}

#[tokio::test]
async fn twenty_concurrent_repeats_run_the_handler_once() {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = app(calls.clone(), &prefix(), StatusCode::CREATED);
    let answers = futures_join(20, |_| call(&app, Some("key-1"), "hello")).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    for (status, body, _) in &answers {
        assert_eq!(*status, StatusCode::CREATED);
        assert_eq!(body, "call 1 for hello");
    }
    assert_eq!(
        answers.iter().filter(|(_, _, replayed)| *replayed).count(),
        19
    );
    // Another key, or none, runs again.
    assert_eq!(
        call(&app, Some("key-2"), "hello").await.1,
        "call 2 for hello"
    );
    assert_eq!(call(&app, None, "hello").await.1, "call 3 for hello");
}

#[tokio::test]
async fn a_reused_key_with_another_body_and_a_bad_key_are_refused() {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = app(calls.clone(), &prefix(), StatusCode::CREATED);
    call(&app, Some("k"), "one").await;
    let (status, body, _) = call(&app, Some("k"), "two").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("idempotency_key_reused"), "{body}");
    let (status, body, _) = call(&app, Some("bad key with spaces"), "one").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("invalid_idempotency_key"), "{body}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_server_error_is_not_kept_so_a_repeat_tries_again() {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = app(calls.clone(), &prefix(), StatusCode::BAD_GATEWAY);
    call(&app, Some("k"), "x").await;
    call(&app, Some("k"), "x").await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn without_redis_a_keyed_call_is_refused_and_an_unkeyed_one_runs() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let calls = Arc::new(AtomicUsize::new(0));
    let pool = service_kit::redis::pool(&format!("redis://127.0.0.1:{port}"), 4).unwrap();
    let store = Idempotency::new(
        pool,
        RedisKeys::new("x:"),
        "test-service",
        Duration::from_secs(60),
        Duration::from_secs(10),
    );
    let counter = calls.clone();
    let app = Router::new()
        .route(
            "/create",
            post(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async { "ok" }
            }),
        )
        .layer(from_fn_with_state(store, deduplicate));
    let (status, body, _) = call(&app, Some("k"), "").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.contains("idempotency_unavailable"));
    assert_eq!(call(&app, None, "").await.0, StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

async fn futures_join<F, Fut, T>(n: usize, f: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    futures::future::join_all((0..n).map(f)).await
}
