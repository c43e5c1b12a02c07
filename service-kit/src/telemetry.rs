//! Structured JSON logs (bunyan format) and the process-wide Prometheus recorder.

use std::io::BufWriter;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing::span::{Attributes, Id};
use tracing::{Event, Metadata, Subscriber, subscriber::Interest};
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_bunyan_formatter::{BunyanFormattingLayer, JsonStorageLayer};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Registry};

/// Lines formatted and not yet written, at most (about 4 MiB of typical lines): enough to ride out a burst,
/// small enough that a writer slower than the load makes callers wait instead of growing memory.
const BUFFERED_LINES: usize = 8192;

/// Keeps the log writer's thread alive; dropping it writes out what is still buffered. Hold it in `main`
/// for the life of the process.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard {
    _writer: Option<WorkerGuard>,
}

impl LogGuard {
    /// For tests, which set up logging from helpers that return before the test ends: the writer then
    /// lives as long as the process.
    pub fn keep_for_process(self) {
        std::mem::forget(self);
    }
}

/// Installs the global subscriber: `RUST_LOG` filtering (default `info`), bunyan JSON to stdout.
/// Safe to call more than once (later calls are ignored and return an empty guard).
///
/// Lines are formatted on the calling thread and written by a dedicated thread in batches (one `write`
/// for everything queued since the last one), so a busy service does not pay a system call per line.
/// When the queue is full the caller waits: no line is ever dropped.
pub fn init_tracing(service_name: &str) -> LogGuard {
    init_tracing_to(service_name, std::io::stdout())
}

/// [`init_tracing`] writing to `output` instead of stdout (benchmarks keep stdout for their results).
pub fn init_tracing_to(
    service_name: &str,
    output: impl std::io::Write + Send + 'static,
) -> LogGuard {
    let (writer, guard) = NonBlockingBuilder::default()
        .buffered_lines_limit(BUFFERED_LINES)
        .lossy(false)
        .thread_name("log-writer")
        .finish(BufWriter::new(output));
    if tracing::subscriber::set_global_default(subscriber(service_name, writer)).is_ok() {
        let _ = tracing_log::LogTracer::init();
        LogGuard {
            _writer: Some(guard),
        }
    } else {
        LogGuard { _writer: None }
    }
}

/// The subscriber [`init_tracing`] installs, formatting each line on the calling thread into `writer`
/// (a test installs it with a writer of its own and reads the lines back).
pub fn subscriber<W>(service_name: &str, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    Registry::default()
        .with(filter)
        .with(JsonStorageLayer)
        .with(SpanCloseOnly(BunyanFormattingLayer::new(
            service_name.to_owned(),
            writer,
        )))
}

/// The bunyan layer without its span-opening lines: a span's closing line carries everything the opening
/// one did (and the fields recorded since, such as a request's `task_id`) plus its duration, so the
/// opening line only doubled the log volume of every request.
struct SpanCloseOnly<L>(L);

impl<S, L> Layer<S> for SpanCloseOnly<L>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    L: Layer<S>,
{
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.0.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.0.enabled(metadata, ctx)
    }

    fn on_new_span(&self, _attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {}

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        self.0.on_event(event, ctx);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        self.0.on_close(id, ctx);
    }
}
/// How often histogram samples are folded into their buckets.
const METRICS_UPKEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// The process-wide Prometheus recorder, installed on first use, with a thread that keeps its memory
/// bounded.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            const LATENCY_BUCKETS: &[f64] = &[
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
            ];
            let handle = PrometheusBuilder::new()
                .set_buckets(LATENCY_BUCKETS)
                .expect("the bucket list is not empty")
                .install_recorder()
                .expect("no other metrics recorder is installed in this process");
            // The recorder keeps every histogram sample until an upkeep folds it into the buckets; without
            // one (nobody scraping `/metrics`) memory grew by every request's latency sample.
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".to_owned())
                .spawn(move || {
                    loop {
                        std::thread::sleep(METRICS_UPKEEP_INTERVAL);
                        upkeep.run_upkeep();
                    }
                })
                .expect("the metrics upkeep thread starts");
            handle
        })
        .clone()
}
