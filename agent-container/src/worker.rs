//! The worker loop: take deliveries while a slot is free, run each in its own slot with its lease renewed, and
//! settle it: succeeded, failed, retried after a backoff, dead-lettered, cancelled or released.
//!
//! One dispatcher per container reads with `XREADGROUP` on its own connection (blocking reads never hold a
//! pooled connection). Before reading it promotes due retries out of `tasks:delayed` and, every half lease,
//! reclaims entries whose worker stopped renewing them. On shutdown it stops reading, gives running tasks
//! `AGENT_SHUTDOWN_GRACE`, then stops them and releases them back onto their stream.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use contracts::events::{TaskEvent, TaskStatus};
use contracts::task_log::{FinalResult, LogFile, TaskLogWriter, TaskMetadata};
use contracts::{TaskEnvelope, TaskId};
use serde_json::{Value, json};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use service_kit::queue::TaskQueue;

use crate::configuration::Settings;
use crate::consumer::{Delivery, QueueConsumer, Settlement};
use crate::conversation::{self, Conversations, Turn};
use crate::execution::{Executor, TaskRun};
use crate::follow;
use crate::runner::RunStatus;
use crate::state::SlotBoard;

/// Longest blocking read; a free slot re-checks shutdown, retries and reclaims at least this often.
const MAX_BLOCK: Duration = Duration::from_millis(1000);
/// How often due retries are moved back onto the streams.
const PROMOTE_INTERVAL: Duration = Duration::from_millis(200);
/// The longest gap between two cancel checks of a running task.
const MAX_CANCEL_CHECK_INTERVAL: Duration = Duration::from_millis(500);

pub struct Worker {
    pub settings: Arc<Settings>,
    pub consumer: QueueConsumer,
    pub queue: TaskQueue,
    pub logs: TaskLogWriter,
    pub executor: Executor,
    pub board: Arc<SlotBoard>,
    pub conversations: Conversations,
}

/// Why a running task was stopped by the worker rather than by its own end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Interruption {
    Cancelled,
    LeaseLost,
    Shutdown,
}

impl Worker {
    /// Takes and runs tasks until `shutdown`, then drains as described in the module doc.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let hard_stop = CancellationToken::new();
        let slots = Arc::new(Semaphore::new(self.settings.concurrency));
        let running = TaskTracker::new();
        let block = MAX_BLOCK.min(self.settings.lease / 2);
        let reclaim_every = self.settings.lease / 2;
        let mut reader: Option<deadpool_redis::redis::aio::MultiplexedConnection> = None;
        let mut groups_ready = false;
        let mut round: u64 = 0;
        let mut last_reclaim: Option<Instant> = None;
        let mut last_promote: Option<Instant> = None;

        while !shutdown.is_cancelled() {
            let permit = tokio::select! {
                permit = slots.clone().acquire_owned() => permit.expect("the slot semaphore is never closed"),
                () = shutdown.cancelled() => break,
            };
            let free = slots.available_permits() + 1;
            let read = async {
                if !groups_ready {
                    self.ensure_groups().await?;
                    groups_ready = true;
                }
                if last_promote.is_none_or(|t| t.elapsed() >= PROMOTE_INTERVAL) {
                    self.consumer.promote_due().await?;
                    last_promote = Some(Instant::now());
                }
                if last_reclaim.is_none_or(|t| t.elapsed() >= reclaim_every) {
                    last_reclaim = Some(Instant::now());
                    let reclaimed = self.consumer.reclaim(self.settings.lease, free).await?;
                    if !reclaimed.is_empty() {
                        return Ok(reclaimed);
                    }
                }
                if reader.is_none() {
                    reader = Some(
                        service_kit::redis::dedicated_connection(
                            &self.settings.common.redis_url,
                            block,
                        )
                        .await?,
                    );
                }
                let connection = reader.as_mut().expect("connected above");
                let order = QueueConsumer::read_order(round);
                round += 1;
                let ready = self.consumer.read_now(connection, order, free).await?;
                if !ready.is_empty() {
                    return Ok(ready);
                }
                self.consumer.read_blocking(connection, order, block).await
            };
            let deliveries: deadpool_redis::redis::RedisResult<Vec<Delivery>> = read.await;
            let deliveries = match deliveries {
                Ok(deliveries) => deliveries,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the task queue failed; retrying in 1s");
                    reader = None;
                    groups_ready = false;
                    drop(permit);
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        () = shutdown.cancelled() => {}
                    }
                    continue;
                }
            };
            let mut permit = Some(permit);
            for delivery in deliveries {
                let permit = match permit.take() {
                    Some(permit) => permit,
                    None => slots
                        .clone()
                        .acquire_owned()
                        .await
                        .expect("the slot semaphore is never closed"),
                };
                let worker = self.clone();
                let (shutdown, hard_stop) = (shutdown.clone(), hard_stop.clone());
                running.spawn(
                    async move { worker.handle(delivery, permit, shutdown, hard_stop).await },
                );
            }
        }

        self.board.stop_accepting();
        running.close();
        if !running.is_empty() {
            tracing::info!(
                grace_seconds = self.settings.shutdown_grace.as_secs_f64(),
                "shutting down: waiting for running tasks"
            );
        }
        if tokio::time::timeout(self.settings.shutdown_grace, running.wait())
            .await
            .is_err()
        {
            tracing::info!(
                "grace period over: stopping running tasks and releasing them to the queue"
            );
            hard_stop.cancel();
            running.wait().await;
        }
    }

    async fn ensure_groups(&self) -> deadpool_redis::redis::RedisResult<()> {
        self.queue.ensure_groups().await.map_err(|e| {
            deadpool_redis::redis::RedisError::from((
                deadpool_redis::redis::ErrorKind::Io,
                "could not create the consumer groups",
                e.to_string(),
            ))
        })
    }

    async fn handle(
        self: Arc<Self>,
        delivery: Delivery,
        permit: OwnedSemaphorePermit,
        shutdown: CancellationToken,
        hard_stop: CancellationToken,
    ) {
        let slot = self.board.occupy();
        metrics::gauge!("agent_tasks_in_flight").increment(1.0);
        let started = Instant::now();
        let runner_time = self.process(&delivery, slot, &shutdown, &hard_stop).await;
        if let Some(runner_time) = runner_time {
            metrics::histogram!("agent_worker_overhead_seconds")
                .record(started.elapsed().saturating_sub(runner_time).as_secs_f64());
        }
        metrics::gauge!("agent_tasks_in_flight").decrement(1.0);
        self.board.free(slot);
        drop(permit);
    }

    /// Runs one delivery to its settlement; returns the runner's time when it ran.
    async fn process(
        &self,
        delivery: &Delivery,
        slot: usize,
        shutdown: &CancellationToken,
        hard_stop: &CancellationToken,
    ) -> Option<Duration> {
        let envelope = match delivery.raw_envelope.as_deref().map(TaskEnvelope::decode) {
            Some(Ok(envelope)) => envelope,
            unreadable => {
                let error = match unreadable {
                    Some(Err(e)) => e.to_string(),
                    _ => "the stream entry has no `envelope` field".to_owned(),
                };
                self.dead_letter_unreadable(delivery, &error).await;
                return None;
            }
        };
        let task_id = envelope.task_id;
        let attempt = envelope.attempt + (delivery.delivery_count as u32).saturating_sub(1);
        self.board.assign(slot, &envelope, attempt);
        if let Err(e) = self.logs.create_task_dir(&task_id) {
            tracing::error!(%task_id, error = %e, "could not create the task's log directory");
        }
        let previous_error = if attempt > 1 {
            self.logs
                .read_metadata(&task_id)
                .ok()
                .and_then(|m| m.last_error)
        } else {
            None
        };
        if let Some(reclaim) = &delivery.reclaimed {
            metrics::counter!("agent_reclaims_total").increment(1);
            self.log_queue(
                &task_id,
                "reclaimed",
                json!({ "worker": self.worker_id(), "entry_id": delivery.entry_id, "delivery_count": delivery.delivery_count, "idle_ms_at_least": reclaim.idle_ms, "attempt": attempt }),
            );
        }
        self.log_queue(
            &task_id,
            "dequeued",
            json!({ "stream": delivery.stream, "entry_id": delivery.entry_id, "priority": delivery.priority, "delivery_count": delivery.delivery_count, "worker": self.worker_id() }),
        );

        if shutdown.is_cancelled() {
            self.release(
                delivery,
                &envelope,
                attempt,
                "shutdown before the task started",
            )
            .await;
            return None;
        }
        if let Some(ended) = self.ended_run(delivery, &envelope) {
            // The run ended and was recorded, but its worker died before the answer was shown and the task
            // settled: finish that (same idempotency keys), never run the agent again.
            self.log_queue(
                &task_id,
                "resumed",
                json!({ "worker": self.worker_id(), "status": ended.status, "reason": "the run had ended; only its answer and settlement were left" }),
            );
            let run = TaskRun::from_final_result(&ended);
            match ended.status {
                TaskStatus::DeadLettered => {
                    self.dead_letter(delivery, &envelope, ended.attempts, &run)
                        .await
                }
                status => {
                    self.finish(delivery, &envelope, ended.attempts, status, &run)
                        .await
                }
            }
            return None;
        }
        if attempt > self.settings.max_attempts {
            let error = format!(
                "delivered {attempt} times (MAX_ATTEMPTS {}) without finishing: its worker stopped each time{}",
                self.settings.max_attempts,
                previous_error
                    .map(|e| format!("; last error: {e}"))
                    .unwrap_or_default()
            );
            let run = failed_before_running(error);
            self.dead_letter(delivery, &envelope, attempt, &run).await;
            return None;
        }

        if self.settings.follow_up && self.wait_behind_conversation(delivery, &envelope).await {
            return None;
        }
        let running = TaskEvent::for_envelope(&envelope, TaskStatus::Running)
            .with_worker(self.worker_id(), attempt)
            .encode();
        let asked = Instant::now();
        let (owned, cancel_requested) = match self
            .consumer
            .renew(delivery, &task_id, Some(&running))
            .await
        {
            Ok(answer) => answer,
            Err(e) => {
                tracing::warn!(%task_id, error = %e, "could not start the task; its lease will expire and it will be reclaimed");
                return None;
            }
        };
        if !owned {
            tracing::warn!(%task_id, "another worker holds this task now; leaving it");
            return None;
        }
        if cancel_requested {
            self.log_queue(
                &task_id,
                "skipped",
                json!({ "reason": "cancel requested while queued" }),
            );
            let run = failed_before_running("cancelled before it started".to_owned());
            self.finish(delivery, &envelope, attempt, TaskStatus::Cancelled, &run)
                .await;
            return None;
        }
        self.log_queue(
            &task_id,
            "worker_assigned",
            json!({ "worker": self.worker_id(), "slot": slot, "attempt": attempt, "run": envelope.run }),
        );
        self.write_metadata(
            &envelope,
            TaskStatus::Running,
            attempt,
            Some(self.worker_id()),
            previous_error,
        );

        let run_token = CancellationToken::new();
        let interruption = Arc::new(Mutex::new(None));
        let confirmed = Arc::new(Mutex::new(asked));
        let keeper = self.keep_lease(
            delivery,
            task_id,
            run_token.clone(),
            interruption.clone(),
            confirmed.clone(),
            hard_stop.clone(),
        );
        let (run, ()) = tokio::join!(
            async {
                let run = self.executor.execute(&envelope, run_token.clone()).await;
                run_token.cancel();
                run
            },
            keeper
        );
        let runner_time = run.result.duration;
        let interrupted = *interruption.lock().expect("interruption lock");
        match interrupted {
            Some(Interruption::LeaseLost) => {
                tracing::warn!(%task_id, "lease lost while running; another worker owns the task, nothing is recorded");
            }
            Some(Interruption::Shutdown) => {
                self.release(
                    delivery,
                    &envelope,
                    attempt,
                    "shutdown grace period ended while it ran",
                )
                .await;
            }
            Some(Interruption::Cancelled) => {
                self.finish(delivery, &envelope, attempt, TaskStatus::Cancelled, &run)
                    .await;
            }
            None if !self.still_owned(delivery, &task_id, &confirmed).await => {
                tracing::warn!(%task_id, "lease lost as the run ended; another worker owns the task, nothing is recorded");
            }
            None => self.settle_run(delivery, &envelope, attempt, &run).await,
        }
        Some(runner_time)
    }

    /// The recorded end of this very run, when a reclaimed delivery's run had already ended.
    fn ended_run(&self, delivery: &Delivery, envelope: &TaskEnvelope) -> Option<FinalResult> {
        delivery.reclaimed.as_ref()?;
        let raw = std::fs::read(self.logs.path(&envelope.task_id, LogFile::FinalResult)).ok()?;
        let ended: FinalResult = serde_json::from_slice(&raw).ok()?;
        (ended.run == envelope.run && ended.status != TaskStatus::Queued).then_some(ended)
    }

    /// Claims the conversation for the task; when another task of it is still running, puts the envelope back
    /// (same attempt) to be looked at again after `AGENT_CONVERSATION_RECHECK`, says so, and returns true.
    async fn wait_behind_conversation(&self, delivery: &Delivery, envelope: &TaskEnvelope) -> bool {
        let task_id = &envelope.task_id;
        let turn = self
            .conversations
            .claim(envelope, |holder| {
                conversation::has_ended(&self.logs, holder)
            })
            .await;
        let behind = match turn {
            Ok(Turn::Ours) => return false,
            Ok(Turn::Behind(holder)) => holder,
            Err(e) => {
                tracing::warn!(%task_id, error = %e, "could not claim the conversation; running the task anyway");
                return false;
            }
        };
        if self
            .queue
            .is_cancel_requested(task_id)
            .await
            .unwrap_or(false)
        {
            // A cancelled task need not wait: it is skipped right away.
            return false;
        }
        let recheck = self.settings.conversation_recheck;
        self.log_queue(
            task_id,
            "waiting",
            json!({ "behind": behind, "conversation": envelope.conversation_key, "recheck_ms": recheck.as_millis() as u64, "worker": self.worker_id() }),
        );
        if let Some(follow) = &self.executor.follow {
            let link = follow.task_link(task_id);
            follow
                .show(
                    envelope,
                    &follow::waiting_text(envelope, &behind, &link),
                    "waiting",
                )
                .await;
        }
        let settlement = Settlement::RetryAt {
            envelope: envelope.encode(),
            due_ms: service_kit::queue::now_millis() + recheck.as_millis() as i64,
        };
        if let Err(e) = self.consumer.settle(delivery, &settlement, None).await {
            tracing::warn!(%task_id, error = %e, "could not put a waiting task back; it will be reclaimed");
        }
        true
    }

    /// Shows the task's final answer while keeping its lease, so no other worker takes the task over while the
    /// answer is retried; then frees the conversation.
    async fn answer(
        &self,
        delivery: &Delivery,
        envelope: &TaskEnvelope,
        attempt: u32,
        status: TaskStatus,
        run: &TaskRun,
    ) {
        let Some(follow) = &self.executor.follow else {
            return;
        };
        let link = follow.task_link(&envelope.task_id);
        let text = self
            .executor
            .redactor
            .redact_text(&follow::final_text(envelope, status, attempt, run, &link));
        let token = CancellationToken::new();
        let keeper = self.keep_lease(
            delivery,
            envelope.task_id,
            token.clone(),
            Arc::new(Mutex::new(None)),
            Arc::new(Mutex::new(Instant::now())),
            CancellationToken::new(),
        );
        tokio::join!(
            async {
                follow
                    .answer(envelope, &text, follow::final_step(status), |error| {
                        self.write_metadata(
                            envelope,
                            TaskStatus::Running,
                            attempt,
                            Some(self.worker_id()),
                            Some(format!(
                                "{} (the final answer is not posted yet: {error}; retrying)",
                                status.as_str()
                            )),
                        );
                    })
                    .await;
                token.cancel();
            },
            keeper
        );
        if let Err(e) = self.conversations.release(envelope).await {
            tracing::warn!(task_id = %envelope.task_id, error = %e, "could not free the conversation");
        }
    }

    /// Renews the lease and watches for a cancel until `run_token` ends the run; stops the run when the task
    /// is cancelled, the lease is lost, or shutdown's grace period ends.
    async fn keep_lease(
        &self,
        delivery: &Delivery,
        task_id: TaskId,
        run_token: CancellationToken,
        interruption: Arc<Mutex<Option<Interruption>>>,
        confirmed: Arc<Mutex<Instant>>,
        hard_stop: CancellationToken,
    ) {
        let every = (self.settings.lease / 3).min(MAX_CANCEL_CHECK_INTERVAL);
        let interrupt = |why: Interruption| {
            interruption
                .lock()
                .expect("interruption lock")
                .get_or_insert(why);
            run_token.cancel();
        };
        loop {
            tokio::select! {
                () = run_token.cancelled() => return,
                () = hard_stop.cancelled() => {
                    interrupt(Interruption::Shutdown);
                    return;
                }
                () = tokio::time::sleep(every) => {}
            }
            let asked = Instant::now();
            match self.consumer.renew(delivery, &task_id, None).await {
                Ok((false, _)) => {
                    interrupt(Interruption::LeaseLost);
                    return;
                }
                Ok((true, true)) => {
                    interrupt(Interruption::Cancelled);
                    return;
                }
                Ok((true, false)) => *confirmed.lock().expect("confirmed lock") = asked,
                Err(e) => {
                    tracing::warn!(%task_id, error = %e, "could not renew the lease; will retry")
                }
            }
        }
    }

    /// Whether this worker still holds the delivery, so only the holder writes the task's files. Another
    /// worker can take an entry over only once it sat idle for the whole lease, so ownership confirmed
    /// (the renew was sent) less than half a lease ago still stands without asking Redis again; otherwise
    /// it renews. When Redis cannot tell, the settlement's own ownership check decides.
    async fn still_owned(
        &self,
        delivery: &Delivery,
        task_id: &TaskId,
        confirmed: &Mutex<Instant>,
    ) -> bool {
        let since = confirmed.lock().expect("confirmed lock").elapsed();
        if since < self.settings.lease / 2 {
            return true;
        }
        self.consumer
            .renew(delivery, task_id, None)
            .await
            .map_or(true, |(owned, _)| owned)
    }

    /// Settles a run that ended by itself.
    async fn settle_run(
        &self,
        delivery: &Delivery,
        envelope: &TaskEnvelope,
        attempt: u32,
        run: &TaskRun,
    ) {
        match run.result.status {
            RunStatus::Succeeded => {
                self.finish(delivery, envelope, attempt, TaskStatus::Succeeded, run)
                    .await
            }
            RunStatus::AgentFailed
            | RunStatus::OutputUnreadable
            | RunStatus::TimedOut
            | RunStatus::OutputLimitExceeded => {
                self.finish(delivery, envelope, attempt, TaskStatus::Failed, run)
                    .await;
            }
            RunStatus::Cancelled => {
                self.finish(delivery, envelope, attempt, TaskStatus::Cancelled, run)
                    .await
            }
            RunStatus::ProcessFailed if attempt >= self.settings.max_attempts => {
                self.dead_letter(delivery, envelope, attempt, run).await;
            }
            RunStatus::ProcessFailed => self.retry_later(delivery, envelope, attempt, run).await,
        }
    }

    /// A terminal status: `06-final-result.json`, `metadata.json`, then ack and the event together.
    async fn finish(
        &self,
        delivery: &Delivery,
        envelope: &TaskEnvelope,
        attempt: u32,
        status: TaskStatus,
        run: &TaskRun,
    ) {
        self.write_final_result(envelope, attempt, status, run);
        self.answer(delivery, envelope, attempt, status, run).await;
        self.write_metadata(envelope, status, attempt, None, run.result.error.clone());
        let event = TaskEvent::for_envelope(envelope, status)
            .with_worker(self.worker_id(), attempt)
            .encode();
        self.settle(delivery, &envelope.task_id, &Settlement::Ack, &event)
            .await;
        record_outcome(status.as_str(), run);
    }

    async fn retry_later(
        &self,
        delivery: &Delivery,
        envelope: &TaskEnvelope,
        attempt: u32,
        run: &TaskRun,
    ) {
        let next_attempt = attempt + 1;
        let backoff = service_kit::queue::retry_backoff(
            self.settings.retry_backoff,
            next_attempt,
            self.settings.retry_backoff_max,
        );
        let mut next = envelope.clone();
        next.attempt = next_attempt;
        let error = run
            .result
            .error
            .clone()
            .unwrap_or_else(|| "the attempt failed".to_owned());
        self.log_queue(
            &envelope.task_id,
            "retry_scheduled",
            json!({ "attempt": attempt, "next_attempt": next_attempt, "backoff_ms": backoff.as_millis() as u64, "error": error }),
        );
        self.write_metadata(&next, TaskStatus::Queued, next_attempt, None, Some(error));
        let event = TaskEvent::for_envelope(&next, TaskStatus::Queued)
            .with_worker(self.worker_id(), attempt)
            .encode();
        let due_ms = service_kit::queue::now_millis() + backoff.as_millis() as i64;
        let settlement = Settlement::RetryAt {
            envelope: next.encode(),
            due_ms,
        };
        self.settle(delivery, &envelope.task_id, &settlement, &event)
            .await;
        record_outcome("retried", run);
    }

    async fn dead_letter(
        &self,
        delivery: &Delivery,
        envelope: &TaskEnvelope,
        attempt: u32,
        run: &TaskRun,
    ) {
        let error = run
            .result
            .error
            .clone()
            .unwrap_or_else(|| "the attempt failed".to_owned());
        self.write_final_result(envelope, attempt, TaskStatus::DeadLettered, run);
        self.answer(delivery, envelope, attempt, TaskStatus::DeadLettered, run)
            .await;
        self.write_metadata(
            envelope,
            TaskStatus::DeadLettered,
            attempt,
            None,
            Some(error.clone()),
        );
        self.log_queue(
            &envelope.task_id,
            "dead_lettered",
            json!({ "attempts": attempt, "error": error, "stream": self.consumer.keys().dead_letter_stream() }),
        );
        let event = TaskEvent::for_envelope(envelope, TaskStatus::DeadLettered)
            .with_worker(self.worker_id(), attempt)
            .encode();
        let settlement = Settlement::DeadLetter {
            envelope: envelope.encode(),
            error,
            task_id: envelope.task_id.to_string(),
            attempts: attempt,
        };
        self.settle(delivery, &envelope.task_id, &settlement, &event)
            .await;
        record_outcome(TaskStatus::DeadLettered.as_str(), run);
    }

    /// An entry whose envelope cannot be read goes to the dead-letter stream as it is, with the reason.
    async fn dead_letter_unreadable(&self, delivery: &Delivery, error: &str) {
        let raw = delivery.raw_envelope.clone().unwrap_or_default();
        let task_id = serde_json::from_slice::<Value>(&raw)
            .ok()
            .and_then(|v| v.get("task_id").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default();
        tracing::warn!(entry_id = %delivery.entry_id, %task_id, %error, "dead-lettering an unreadable envelope");
        let settlement = Settlement::DeadLetter {
            envelope: String::from_utf8_lossy(&raw).into_owned(),
            error: format!("unreadable envelope: {error}"),
            task_id: task_id.clone(),
            attempts: delivery.delivery_count as u32,
        };
        if let Err(e) = self.consumer.settle(delivery, &settlement, None).await {
            tracing::warn!(error = %e, "could not dead-letter an unreadable envelope; it will be reclaimed");
        }
        if let Ok(task_id) = task_id.parse::<TaskId>()
            && self.logs.task_dir(&task_id).is_dir()
        {
            self.log_queue(
                &task_id,
                "dead_lettered",
                json!({ "error": format!("unreadable envelope: {error}") }),
            );
        }
        metrics::counter!("agent_tasks_total", "outcome" => "unreadable").increment(1);
    }

    /// Back onto its stream, unchanged but for the attempt: another worker (or this one, restarted) runs it.
    async fn release(
        &self,
        delivery: &Delivery,
        envelope: &TaskEnvelope,
        attempt: u32,
        reason: &str,
    ) {
        let mut next = envelope.clone();
        next.attempt = attempt + 1;
        self.log_queue(
            &envelope.task_id,
            "released",
            json!({ "worker": self.worker_id(), "attempt": attempt, "reason": reason }),
        );
        self.write_metadata(&next, TaskStatus::Queued, next.attempt, None, None);
        let event = TaskEvent::for_envelope(&next, TaskStatus::Queued)
            .with_worker(self.worker_id(), attempt)
            .encode();
        let settlement = Settlement::Release {
            envelope: next.encode(),
        };
        self.settle(delivery, &envelope.task_id, &settlement, &event)
            .await;
        metrics::counter!("agent_releases_total").increment(1);
    }

    async fn settle(
        &self,
        delivery: &Delivery,
        task_id: &TaskId,
        settlement: &Settlement,
        event: &str,
    ) {
        match self
            .consumer
            .settle(delivery, settlement, Some(event))
            .await
        {
            Ok(true) => {}
            Ok(false) => tracing::warn!(%task_id, "settled a task another worker had taken over"),
            Err(e) => {
                tracing::error!(%task_id, error = %e, "could not settle a task; it will be reclaimed")
            }
        }
    }

    fn write_final_result(
        &self,
        envelope: &TaskEnvelope,
        attempt: u32,
        status: TaskStatus,
        run: &TaskRun,
    ) {
        let result = &run.result;
        let redactor = &self.executor.redactor;
        let final_result = FinalResult {
            task_id: envelope.task_id,
            status,
            success: status == TaskStatus::Succeeded,
            result_text: result
                .result_text
                .as_deref()
                .map(|t| redactor.redact_text(t)),
            error: result.error.as_deref().map(|t| redactor.redact_text(t)),
            cost_usd: result.cost_usd,
            input_tokens: result.input_tokens,
            output_tokens: result.output_tokens,
            duration_ms: result.duration.as_millis() as u64,
            attempts: attempt,
            run: envelope.run,
            runner: self.executor.runner.name().to_owned(),
            model: result.model.clone().or_else(|| run.model.clone()),
            session_id: result.session_id.clone(),
            changes: run.changes.clone(),
            links: run.pull_request.iter().cloned().collect(),
            finished_at: Utc::now(),
        };
        if let Err(e) = self
            .logs
            .write_json(&envelope.task_id, LogFile::FinalResult, &final_result)
        {
            tracing::error!(task_id = %envelope.task_id, error = %e, "could not write 06-final-result.json");
        }
    }

    /// Rewritten only by the worker holding the task (the callers own the delivery).
    fn write_metadata(
        &self,
        envelope: &TaskEnvelope,
        status: TaskStatus,
        attempt: u32,
        worker: Option<&str>,
        last_error: Option<String>,
    ) {
        let task_id = &envelope.task_id;
        let metadata = TaskMetadata {
            task_id: *task_id,
            status,
            // The gateway's `queued` metadata and a re-queue both keep the envelope's creation time.
            created_at: envelope.created_at,
            updated_at: Utc::now(),
            attempt,
            run: envelope.run,
            worker: worker.map(str::to_owned),
            last_error,
            envelope: envelope.clone(),
        };
        if let Err(e) = self.logs.write_json(task_id, LogFile::Metadata, &metadata) {
            tracing::error!(%task_id, error = %e, "could not write metadata.json");
        }
    }

    fn log_queue(&self, task_id: &TaskId, kind: &str, fields: Value) {
        if let Err(e) = self.logs.append(task_id, LogFile::QueueFlow, kind, fields) {
            tracing::error!(%task_id, error = %e, "could not append to 03-queue-flow.jsonl");
        }
    }

    fn worker_id(&self) -> &str {
        self.board.worker_id()
    }
}

fn failed_before_running(error: String) -> TaskRun {
    let mut result = crate::runner::RunResult::new(RunStatus::ProcessFailed, Duration::ZERO);
    result.error = Some(error);
    TaskRun {
        result,
        model: None,
        changes: None,
        pull_request: None,
        refused: None,
        note: None,
    }
}

fn record_outcome(outcome: &'static str, run: &TaskRun) {
    metrics::counter!("agent_tasks_total", "outcome" => outcome).increment(1);
    metrics::histogram!("agent_task_duration_seconds", "outcome" => outcome)
        .record(run.result.duration.as_secs_f64());
    if let Some(cost) = run.result.cost_usd {
        metrics::gauge!("agent_cost_usd_total").increment(cost);
    }
    metrics::counter!("agent_tokens_total", "direction" => "input")
        .increment(run.result.input_tokens);
    metrics::counter!("agent_tokens_total", "direction" => "output")
        .increment(run.result.output_tokens);
}
