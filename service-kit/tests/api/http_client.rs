//! The upstream client against wiremock: retries, rate limits, deadlines, the error taxonomy, the call log.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use contracts::TaskId;
use contracts::task_log::LogFile;
use serde_json::{Value, json};
use service_kit::call_log::{CallContext, CallLog};
use service_kit::error::ErrorResponse;
use service_kit::http_client::{Idempotence, UpstreamClient, UpstreamErrorKind, UpstreamSettings};
use service_kit::trace_context::TraceContext;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(max_attempts: u32, request_timeout: Duration) -> UpstreamClient {
    UpstreamClient::new(
        "Fake",
        "plumbing-tests",
        UpstreamSettings {
            connect_timeout: Duration::from_secs(1),
            request_timeout,
            max_attempts,
            backoff: Duration::from_millis(20),
        },
    )
    .unwrap()
}

fn context(deadline: Duration) -> CallContext {
    CallContext::detached(deadline)
}

#[tokio::test]
async fn retries_a_502_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/thing"))
        .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/thing"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": 1})))
        .expect(1)
        .mount(&server)
        .await;
    let http = client(4, Duration::from_secs(5));
    let response = http
        .send(
            http.request(Method::GET, &format!("{}/thing", server.uri())),
            Idempotence::Idempotent,
            &context(Duration::from_secs(10)),
        )
        .await
        .unwrap();
    assert_eq!(response.json::<Value>().unwrap(), json!({"ok": 1}));
}

#[tokio::test]
async fn a_creating_post_is_not_retried_after_a_502_but_is_after_a_429() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/create"))
        .respond_with(ResponseTemplate::new(502))
        .expect(1)
        .mount(&server)
        .await;
    let http = client(4, Duration::from_secs(5));
    let url = format!("{}/create", server.uri());
    let error = http
        .send(
            http.request(Method::POST, &url).json(&json!({"a": 1})),
            Idempotence::Creates,
            &context(Duration::from_secs(10)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            error.kind,
            UpstreamErrorKind::ServerError { status: 502, .. }
        ),
        "{error}"
    );
    assert_eq!(ErrorResponse::from(error).status, StatusCode::BAD_GATEWAY);
    server.verify().await;

    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/create"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/create"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 7})))
        .expect(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    let response = http
        .send(
            http.request(Method::POST, &url).json(&json!({"a": 1})),
            Idempotence::Creates,
            &context(Duration::from_secs(10)),
        )
        .await
        .unwrap();
    assert_eq!(response.status, StatusCode::CREATED);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
}

#[tokio::test]
async fn a_rate_limit_past_the_deadline_fails_at_once_with_retry_after() {
    let server = MockServer::start().await;
    let reset = chrono::Utc::now().timestamp() + 120;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.to_string().as_str())
                .set_body_json(json!({"message": "API rate limit exceeded"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let http = client(4, Duration::from_secs(5));
    let started = Instant::now();
    let error = http
        .send(
            http.request(Method::GET, &server.uri()),
            Idempotence::Idempotent,
            &context(Duration::from_secs(5)),
        )
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    let UpstreamErrorKind::RateLimited {
        retry_after_seconds,
    } = error.kind
    else {
        panic!("{error}");
    };
    assert!(
        (110..=122).contains(&retry_after_seconds),
        "{retry_after_seconds}"
    );
    let answer = ErrorResponse::from(error);
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.body.code, "upstream_rate_limited");
    assert_eq!(answer.retry_after_seconds, Some(retry_after_seconds));
}

#[tokio::test]
async fn maps_each_upstream_answer_uniformly() {
    let server = MockServer::start().await;
    for (route, status, body) in [
        ("/404", 404, json!({"message": "Not Found"})),
        ("/401", 401, json!({"message": "Bad credentials"})),
        (
            "/403",
            403,
            json!({"message": "Resource not accessible by integration"}),
        ),
        (
            "/422",
            422,
            json!({"message": "Validation Failed", "errors": [{"resource": "Issue", "code": "custom", "field": "body", "message": "body is too long"}]}),
        ),
        ("/500", 500, json!({"message": "boom"})),
    ] {
        Mock::given(path(route))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&server)
            .await;
    }
    let http = client(2, Duration::from_secs(5));
    let answer = |route: &'static str| {
        let http = http.clone();
        let url = format!("{}{route}", server.uri());
        async move {
            ErrorResponse::from(
                http.send(
                    http.request(Method::GET, &url),
                    Idempotence::Idempotent,
                    &context(Duration::from_secs(5)),
                )
                .await
                .unwrap_err(),
            )
        }
    };
    let not_found = answer("/404").await;
    assert_eq!(
        (not_found.status, not_found.body.code.as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    for route in ["/401", "/403"] {
        let refused = answer(route).await;
        assert_eq!(refused.status, StatusCode::BAD_GATEWAY, "{route}");
        assert_eq!(refused.body.code, "upstream_unauthorized");
    }
    let rejected = answer("/422").await;
    assert_eq!(rejected.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(rejected.body.code, "upstream_rejected");
    assert_eq!(rejected.body.message, "Validation Failed; body is too long");
    assert_eq!(rejected.body.details.unwrap()["upstream_status"], 422);
    let failed = answer("/500").await;
    assert_eq!(
        (failed.status, failed.body.code.as_str()),
        (StatusCode::BAD_GATEWAY, "upstream_failed")
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        requests.iter().filter(|r| r.url.path() == "/500").count(),
        2,
        "a 500 is retried"
    );
    assert_eq!(
        requests.iter().filter(|r| r.url.path() == "/404").count(),
        1,
        "a 404 is not"
    );
}

#[tokio::test]
async fn a_slow_upstream_is_a_504() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let http = client(2, Duration::from_millis(200));
    let error = http
        .send(
            http.request(Method::GET, &server.uri()),
            Idempotence::Idempotent,
            &context(Duration::from_secs(5)),
        )
        .await
        .unwrap_err();
    assert!(matches!(error.kind, UpstreamErrorKind::Timeout), "{error}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    assert_eq!(
        ErrorResponse::from(error).status,
        StatusCode::GATEWAY_TIMEOUT
    );
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_a_creating_post() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let http = client(3, Duration::from_secs(1));
    let error = http
        .send(
            http.request(Method::POST, &format!("http://127.0.0.1:{port}/x")),
            Idempotence::Creates,
            &context(Duration::from_secs(5)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind, UpstreamErrorKind::Unreachable { .. }),
        "{error}"
    );
    let answer = ErrorResponse::from(error);
    assert_eq!(
        (answer.status, answer.body.code.as_str()),
        (StatusCode::BAD_GATEWAY, "upstream_unreachable")
    );
}

#[tokio::test]
async fn every_attempt_of_a_task_is_in_its_log_without_secrets() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let logs = tempfile::tempdir().unwrap();
    let task = TaskId::new();
    let context = CallLog::new(logs.path(), "fake-service", Duration::from_secs(5))
        .context(Some(task), TraceContext::new_root());
    let http = client(3, Duration::from_secs(5));
    http.send(
        http.request(
            Method::POST,
            &format!("{}/repos/o/r/things?token=query-secret", server.uri()),
        )
        .bearer_auth("header-secret")
        .json(&json!({"body": "body-secret"})),
        Idempotence::Idempotent,
        &context,
    )
    .await
    .unwrap();
    let path = logs
        .path()
        .join(task.to_string())
        .join(LogFile::MicroservicesFlow.file_name());
    let text = std::fs::read_to_string(path).unwrap();
    for secret in ["query-secret", "header-secret", "body-secret"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<(&str, u64)> = lines
        .iter()
        .map(|l| (l["type"].as_str().unwrap(), l["attempt"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("service_request", 1),
            ("service_response", 1),
            ("service_request", 2),
            ("service_response", 2)
        ]
    );
    assert_eq!(lines[0]["method"], "POST");
    assert_eq!(lines[0]["path"], "/repos/o/r/things");
    assert_eq!(lines[0]["scope"], "upstream");
    assert_eq!(lines[1]["status"], 503);
    assert!(lines[3]["duration_ms"].as_f64().unwrap() >= 0.0);
    assert!(
        lines
            .iter()
            .all(|l| l["task_id"] == task.to_string() && l["service"] == "fake-service")
    );
}
