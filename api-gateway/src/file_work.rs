//! Where a delivery's task-log file work runs.
//!
//! Creating a task's directory and files takes tens of microseconds on a healthy disk or tmpfs: less than
//! handing the work to another thread and back (a wake-up and two context switches, measured at about a
//! tenth of the gateway's CPU under load), so it runs on the async worker. A moving average of how long
//! the work takes decides: while it is above [`SLOW_WORK`] (a saturated or degraded disk), the work runs
//! on the blocking pool instead, so a slow disk delays the deliveries that create tasks, not every request
//! the worker serves. The average keeps following the work on the pool, so the work comes back once the
//! disk is fast again (below half of [`SLOW_WORK`], so an average near the limit does not flap). One slow
//! piece (the thread was preempted) moves the average by a sixteenth.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// While the average piece of file work takes longer than this, the work runs on the blocking pool.
pub const SLOW_WORK: Duration = Duration::from_millis(1);
/// Each piece moves the average by 1/`SMOOTHING` of its difference from it.
const SMOOTHING: u64 = 16;

/// Decides, piece by piece, whether file work runs inline or on the blocking pool. Cheap to clone.
#[derive(Debug, Clone)]
pub struct FileWork {
    average_micros: Arc<AtomicU64>,
    offloading: Arc<AtomicBool>,
    slow_work: Duration,
}

impl Default for FileWork {
    fn default() -> Self {
        Self::new(SLOW_WORK)
    }
}

impl FileWork {
    pub fn new(slow_work: Duration) -> Self {
        Self {
            average_micros: Arc::new(AtomicU64::new(0)),
            offloading: Arc::new(AtomicBool::new(false)),
            slow_work,
        }
    }

    /// Runs `work` inline or on the blocking pool; `None` when it panicked on the pool (logged there).
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        if !self.offloading() {
            let started = Instant::now();
            let value = work();
            self.record(started.elapsed());
            return Some(value);
        }
        let placement = self.clone();
        let timed = move || {
            let started = Instant::now();
            let value = work();
            placement.record(started.elapsed());
            value
        };
        match tokio::task::spawn_blocking(timed).await {
            Ok(value) => Some(value),
            Err(error) => {
                tracing::error!(%error, "task log work panicked");
                None
            }
        }
    }

    /// Whether work goes to the blocking pool now.
    pub fn offloading(&self) -> bool {
        self.offloading.load(Ordering::Relaxed)
    }

    /// Folds how long a piece of work took into the average, and moves the work when the average says so.
    pub fn record(&self, took: Duration) {
        let sample = took.as_micros() as u64;
        let fold = |average: u64| average - average / SMOOTHING + sample / SMOOTHING;
        let previous = self
            .average_micros
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |average| {
                Some(fold(average))
            })
            .unwrap_or_default();
        let average = fold(previous);
        let limit = self.slow_work.as_micros() as u64;
        let offloading = self.offloading();
        let move_off = !offloading && average > limit;
        let come_back = offloading && average < limit / 2;
        if (move_off || come_back)
            && self
                .offloading
                .compare_exchange(offloading, move_off, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                average_ms = average as f64 / 1000.0,
                "task log storage speed changed: file work moves {}",
                if move_off {
                    "to the blocking pool"
                } else {
                    "back inline"
                }
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_disk_moves_the_work_off_and_a_fast_one_brings_it_back() {
        let placement = FileWork::new(Duration::from_millis(1));
        placement.record(Duration::from_micros(60));
        placement.record(Duration::from_millis(8));
        assert!(
            !placement.offloading(),
            "one preempted piece is not a slow disk"
        );
        for _ in 0..20 {
            placement.record(Duration::from_millis(3));
        }
        assert!(placement.offloading(), "steadily slow work moves off");
        for _ in 0..60 {
            placement.record(Duration::from_micros(50));
        }
        assert!(!placement.offloading(), "fast work comes back");
    }

    #[tokio::test]
    async fn runs_work_either_way_and_survives_a_panic_on_the_pool() {
        let placement = FileWork::new(Duration::from_millis(1));
        assert_eq!(placement.run(|| 7).await, Some(7));
        for _ in 0..40 {
            placement.record(Duration::from_millis(5));
        }
        assert!(placement.offloading());
        assert_eq!(placement.run(|| 8).await, Some(8));
        assert_eq!(placement.run(|| -> i32 { panic!("boom") }).await, None);
    }
}
