//! What going through github-service adds to a comment post, against posting directly to the same fake
//! GitHub, at 1 and 50 concurrent callers, in one run.
//!
//! Two load shapes at each caller count: back to back (every caller sends its next post as soon as the
//! last is answered: the machine saturates, and at 50 callers the latency is mostly queueing for the two
//! cores the callers, the service and the fake GitHub share), and paced (every caller posts every
//! `PACE`, 50 callers making 5,000 posts/s: below saturation, so the added latency is the service's
//! own work).
//!
//! A third path measures the floor any service in between pays: a pass-through proxy with the same
//! libraries (an axum route forwarding the body with a keep-alive reqwest client, answering GitHub's status
//! and body as they came) and nothing else: no authentication, validation, logging or metrics. What the
//! service adds over the proxy is its own work; what the proxy adds over the direct post is the hop.
//! A fourth path forwards the same way on hyper alone (its HTTP/1 server and hyper-util's pooled client, no
//! axum router, no reqwest): the floor of a hop below the libraries the services are built from.
//!
//! `cargo bench -p github-service --bench comment_overhead` (bench profile: release + fat LTO). The fake GitHub is a minimal
//! axum server answering the comment post with a fixed 201 body, so the figures are the service's own cost:
//! caller authentication, the task-log/trace middlewares, validation, the vault read (cached), the retrying
//! client, the answer's re-serialisation, and the service's log line per request (bunyan JSON, written to a
//! file in the benchmark's temporary directory, as the binary writes it to stdout).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use github_service::configuration::{GithubCredentials, Settings};
use github_service::git_access::GitAccessSettings;
use github_service::startup::Application;
use hdrhistogram::Histogram;
use serde_json::json;
use service_kit::caller_auth::CallerTokens;
use service_kit::configuration::CommonSettings;
use service_kit::http_client::UpstreamSettings;
use service_kit::provider_service::ProviderSettings;
use service_kit::vault::{EncryptionKey, KeyRing};

// The service's binary allocates through mimalloc; so does this process, which hosts the service.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CALLER: &str = "agent-token-0123456789";
const GITHUB_TOKEN: &str = "ghp_benchtoken0123456789";
const PATH: &str = "/repos/octo-org/hello-world/issues/1347/comments";
const WARMUP_REQUESTS: usize = 500;
/// How often each caller posts in the paced runs.
const PACE: Duration = Duration::from_millis(10);

/// How the callers send.
#[derive(Debug, Clone, Copy)]
enum Shape {
    BackToBack,
    Paced,
}

/// GitHub's answer to a comment post (docs.github.com/rest/issues/comments#create-an-issue-comment).
fn comment_answer() -> String {
    json!({
        "id": 1, "node_id": "MDEyOklzc3VlQ29tbWVudDE=",
        "url": "https://api.github.com/repos/octo-org/hello-world/issues/comments/1",
        "html_url": "https://github.com/octo-org/hello-world/issues/1347#issuecomment-1",
        "body": "Working on it", "user": {"login": "agent-bot[bot]", "id": 99, "type": "Bot", "site_admin": false},
        "created_at": "2011-04-14T16:00:49Z", "updated_at": "2011-04-14T16:00:49Z",
        "issue_url": "https://api.github.com/repos/octo-org/hello-world/issues/1347", "author_association": "NONE"
    })
    .to_string()
}

async fn start_fake_github() -> SocketAddr {
    let body = Arc::new(comment_answer());
    let app = Router::new().route(
        PATH,
        post(move || {
            let body = body.clone();
            async move {
                (
                    StatusCode::CREATED,
                    [("content-type", "application/json")],
                    body.as_str().to_owned(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// The pass-through proxy: the cheapest service in between built from axum and reqwest, for the floor of the overhead.
async fn start_pass_through_proxy(github: SocketAddr) -> SocketAddr {
    let client = reqwest::Client::new();
    let upstream = format!("http://{github}{PATH}");
    let app = Router::new().route(
        &format!("/api/v1/github{PATH}"),
        post(move |body: axum::body::Bytes| {
            let (client, upstream) = (client.clone(), upstream.clone());
            async move {
                let answer = client
                    .post(upstream)
                    .bearer_auth(GITHUB_TOKEN)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
                (
                    status,
                    [("content-type", "application/json")],
                    answer.bytes().await.unwrap(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// The same pass-through on hyper alone (its HTTP/1 server and hyper-util's pooled client): no axum router,
/// no reqwest, for the floor of a hop below the libraries the services are built from.
async fn start_hyper_proxy(github: SocketAddr) -> SocketAddr {
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let client: Client<_, Full<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let upstream: axum::http::Uri = format!("http://{github}{PATH}").parse().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let (client, upstream) = (client.clone(), upstream.clone());
            let forward = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    let (client, upstream) = (client.clone(), upstream.clone());
                    async move {
                        let body = request.into_body().collect().await?.to_bytes();
                        let outgoing = hyper::Request::post(upstream)
                            .header("authorization", format!("Bearer {GITHUB_TOKEN}"))
                            .header("content-type", "application/json")
                            .body(Full::new(body))
                            .unwrap();
                        let answer = client.request(outgoing).await.unwrap();
                        let status = answer.status();
                        let body = answer.into_body().collect().await?.to_bytes();
                        let response = hyper::Response::builder()
                            .status(status)
                            .header("content-type", "application/json")
                            .body(Full::new(body))
                            .unwrap();
                        Ok::<_, hyper::Error>(response)
                    }
                },
            );
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), forward)
                    .await;
            });
        }
    });
    addr
}

async fn start_service(github: SocketAddr, dir: &std::path::Path) -> SocketAddr {
    let key: [u8; 32] = *b"benchmark-key-32-bytes-long-0123";
    let settings = Settings {
        provider: ProviderSettings {
            common: CommonSettings {
                bind_addr: "127.0.0.1:0".parse().unwrap(),
                redis_url: "redis://127.0.0.1:6379".to_owned(),
                redis_key_prefix: "bench:".to_owned(),
                task_logs_dir: dir.join("logs"),
            },
            caller_tokens: CallerTokens::parse("CALLER_TOKENS", &format!("agent:{CALLER}"))
                .unwrap(),
            admin_token: None,
            credentials_keys: KeyRing::new(EncryptionKey::from_bytes(&key), vec![]),
            database_url: format!("sqlite://{}", dir.join("bench.db").display()),
            upstream: UpstreamSettings::default(),
            call_deadline: Duration::from_secs(30),
            idempotency_ttl: Duration::from_secs(60),
        },
        api_url: format!("http://{github}"),
        credentials: GithubCredentials::Token {
            token: GITHUB_TOKEN.to_owned(),
        },
        git_access: GitAccessSettings::default(),
    };
    let application = Application::build(settings)
        .await
        .expect("github-service builds");
    let addr = SocketAddr::from(([127, 0, 0, 1], application.port()));
    tokio::spawn(application.run_until_stopped());
    addr
}

/// Posts `total` comments to `url` from `callers` concurrent callers; answers the latency histogram (µs).
async fn measure(
    url: &str,
    bearer: &str,
    callers: usize,
    total: usize,
    shape: Shape,
) -> Histogram<u64> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(callers)
        .build()
        .unwrap();
    let body = json!({"body": "Working on it"});
    let per_caller = total / callers;
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let (client, url, bearer, body) = (
                client.clone(),
                url.to_owned(),
                bearer.to_owned(),
                body.clone(),
            );
            tokio::spawn(async move {
                let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
                // Callers start spread over one pace, as independent clients would.
                let offset = PACE.mul_f64(rand::random::<f64>());
                let mut ticks =
                    tokio::time::interval_at(tokio::time::Instant::now() + offset, PACE);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                for _ in 0..per_caller {
                    if let Shape::Paced = shape {
                        ticks.tick().await;
                    }
                    let started = Instant::now();
                    let response = client
                        .post(&url)
                        .bearer_auth(&bearer)
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), StatusCode::CREATED);
                    response.bytes().await.unwrap();
                    histogram
                        .record(started.elapsed().as_micros() as u64)
                        .unwrap();
                }
                histogram
            })
        })
        .collect();
    let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    for task in tasks {
        all.add(task.await.unwrap()).unwrap();
    }
    all
}

/// CPU time (user + system) this process has used, from `/proc/self/stat` (clock ticks of 10 ms).
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command name: state, ppid, …; utime and stime are the 12th and 13th fields (some before
    // them, such as tpgid, may be -1, so fields are taken by position, not filtered by type).
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// One measured phase: latencies, throughput, and CPU per request.
struct Phase {
    latency: Histogram<u64>,
    per_second: f64,
    cpu_per_request: Duration,
}

impl Phase {
    /// p50 and p99, µs.
    fn quantiles(&self) -> (u64, u64) {
        (
            self.latency.value_at_quantile(0.5),
            self.latency.value_at_quantile(0.99),
        )
    }
}

async fn phase(url: &str, bearer: &str, callers: usize, total: usize, shape: Shape) -> Phase {
    let (cpu, wall) = (process_cpu(), Instant::now());
    let latency = measure(url, bearer, callers, total, shape).await;
    let elapsed = wall.elapsed();
    Phase {
        latency,
        per_second: total as f64 / elapsed.as_secs_f64(),
        cpu_per_request: (process_cpu() - cpu) / total as u32,
    }
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    // The service logs as its binary does (bunyan JSON, `RUST_LOG`, default info: a line per request), to a
    // file, so stdout keeps the results.
    let log = std::fs::File::create(dir.path().join("service.log")).unwrap();
    let _logs = service_kit::telemetry::init_tracing_to("github-service", log);
    let github = start_fake_github().await;
    let service = start_service(github, dir.path()).await;
    let proxy = start_pass_through_proxy(github).await;
    let hyper_proxy = start_hyper_proxy(github).await;
    let hyper_url = format!("http://{hyper_proxy}/api/v1/github{PATH}");
    let direct_url = format!("http://{github}{PATH}");
    let service_url = format!("http://{service}/api/v1/github{PATH}");
    let proxy_url = format!("http://{proxy}/api/v1/github{PATH}");
    measure(
        &direct_url,
        GITHUB_TOKEN,
        10,
        WARMUP_REQUESTS,
        Shape::BackToBack,
    )
    .await;
    measure(&service_url, CALLER, 10, WARMUP_REQUESTS, Shape::BackToBack).await;
    measure(&proxy_url, CALLER, 10, WARMUP_REQUESTS, Shape::BackToBack).await;
    measure(&hyper_url, CALLER, 10, WARMUP_REQUESTS, Shape::BackToBack).await;

    println!(
        "| callers | shape | requests | direct p50 / p99 | hyper pass-through adds p50 / p99 | axum + reqwest pass-through adds p50 / p99 | service adds p50 / p99 | service over the axum + reqwest pass-through, p50 | posts/s direct / hyper / axum + reqwest / service | CPU per post direct / hyper / axum + reqwest / service |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (callers, total, shape) in [
        (1, 3_000, Shape::BackToBack),
        (50, 20_000, Shape::BackToBack),
        (50, 20_000, Shape::Paced),
    ] {
        let direct = phase(&direct_url, GITHUB_TOKEN, callers, total, shape).await;
        let bare_hop = phase(&hyper_url, CALLER, callers, total, shape).await;
        let proxied = phase(&proxy_url, CALLER, callers, total, shape).await;
        let through = phase(&service_url, CALLER, callers, total, shape).await;
        let (d50, d99) = direct.quantiles();
        let added = |phase: &Phase| {
            let (p50, p99) = phase.quantiles();
            format!(
                "{:.3} / {:.3} ms",
                ms(p50.saturating_sub(d50)),
                ms(p99.saturating_sub(d99))
            )
        };
        println!(
            "| {callers} | {shape:?} | {total} | {:.3} / {:.3} ms | {} | {} | **{}** | {:.3} ms | {:.0} / {:.0} / {:.0} / {:.0} | {} / {} / {} / {} µs |",
            ms(d50),
            ms(d99),
            added(&bare_hop),
            added(&proxied),
            added(&through),
            ms(through.quantiles().0.saturating_sub(proxied.quantiles().0)),
            direct.per_second,
            bare_hop.per_second,
            proxied.per_second,
            through.per_second,
            direct.cpu_per_request.as_micros(),
            bare_hop.cpu_per_request.as_micros(),
            proxied.cpu_per_request.as_micros(),
            through.cpu_per_request.as_micros(),
        );
    }
}
