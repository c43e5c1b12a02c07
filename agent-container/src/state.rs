//! What the HTTP side and the workers share: the slot board behind `/status`, and whether new tasks are taken.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use contracts::TaskEnvelope;
use contracts::agent::{SlotState, SlotStatus, WorkerStatus};

#[derive(Clone)]
pub struct AppState {
    pub board: Arc<SlotBoard>,
}

/// What each of the container's slots is doing.
pub struct SlotBoard {
    worker_id: String,
    runner: String,
    accepting: AtomicBool,
    slots: Mutex<Vec<SlotStatus>>,
}

impl SlotBoard {
    pub fn new(worker_id: String, runner: String, concurrency: usize) -> Self {
        let slots = (0..concurrency).map(idle).collect();
        Self {
            worker_id,
            runner,
            accepting: AtomicBool::new(true),
            slots: Mutex::new(slots),
        }
    }

    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    pub fn stop_accepting(&self) {
        self.accepting.store(false, Ordering::SeqCst);
    }

    pub fn is_accepting(&self) -> bool {
        self.accepting.load(Ordering::SeqCst)
    }

    /// Takes an idle slot (the caller holds a concurrency permit, so one is free).
    pub fn occupy(&self) -> usize {
        let mut slots = self.slots.lock().expect("slot board lock");
        let index = slots
            .iter()
            .position(|s| s.state == SlotState::Idle)
            .expect("a concurrency permit guarantees an idle slot");
        slots[index].state = SlotState::Running;
        slots[index].started_at = Some(Utc::now());
        index
    }

    /// Records the task a slot works on, once its envelope is read.
    pub fn assign(&self, slot: usize, envelope: &TaskEnvelope, attempt: u32) {
        let mut slots = self.slots.lock().expect("slot board lock");
        let status = &mut slots[slot];
        status.task_id = Some(envelope.task_id);
        status.command = Some(envelope.command);
        status.priority = Some(envelope.priority);
        status.attempt = Some(attempt);
    }

    pub fn free(&self, slot: usize) {
        self.slots.lock().expect("slot board lock")[slot] = idle(slot);
    }

    pub fn status(&self) -> WorkerStatus {
        WorkerStatus {
            worker_id: self.worker_id.clone(),
            runner: self.runner.clone(),
            accepting: self.is_accepting(),
            slots: self.slots.lock().expect("slot board lock").clone(),
        }
    }
}

fn idle(slot: usize) -> SlotStatus {
    SlotStatus {
        slot,
        state: SlotState::Idle,
        task_id: None,
        command: None,
        priority: None,
        attempt: None,
        started_at: None,
    }
}
