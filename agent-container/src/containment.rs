//! The containment supervisor: `agent-container contain <status-file> <program> <args…>`.
//!
//! The worker starts it as the leader of a new process group, with the agent's cleared environment. It starts
//! the agent in that group (stdin, stdout and stderr pass straight through), and:
//! - when the agent exits, writes its exit status to `<status-file>` and kills the whole group, so nothing
//!   the agent left running in the background (`sleep 600 &`) outlives the run;
//! - when the worker dies (even by SIGKILL), it notices its parent change and kills the group, so a crashed
//!   worker's task is not finished by an orphan while another worker re-runs it.
//!
//! The worker kills the group itself on timeout or cancel. All of this without `unsafe`: the group comes from
//! `process_group(0)`, the parent check from `parent_id()`.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::getpgrp;

pub const SUBCOMMAND: &str = "contain";

/// How often the supervisor checks that the worker is still its parent.
const PARENT_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// The agent's exit, as the supervisor records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentExit {
    Code(i32),
    Signal(i32),
    SpawnError(String),
}

/// Runs the supervisor with the arguments after the subcommand; returns the process exit code.
pub fn supervise(args: &[String]) -> i32 {
    let [status_file, program, rest @ ..] = args else {
        eprintln!("usage: agent-container {SUBCOMMAND} <status-file> <program> [args…]");
        return 2;
    };
    let status_file = Path::new(status_file);
    let parent = std::os::unix::process::parent_id();
    let mut child = match std::process::Command::new(program).args(rest).spawn() {
        Ok(child) => child,
        Err(e) => {
            let _ = std::fs::write(status_file, format!("spawn-error {e}"));
            return 127;
        }
    };
    let (exited_tx, exited_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = exited_tx.send(child.wait());
    });
    loop {
        match exited_rx.recv_timeout(PARENT_CHECK_INTERVAL) {
            Ok(status) => {
                use std::os::unix::process::ExitStatusExt;
                let record = match status {
                    Ok(status) => match (status.code(), status.signal()) {
                        (Some(code), _) => format!("exit {code}"),
                        (None, Some(signal)) => format!("signal {signal}"),
                        (None, None) => "exit 1".to_owned(),
                    },
                    Err(e) => format!("spawn-error waiting for the agent failed: {e}"),
                };
                let _ = std::fs::write(status_file, record);
                kill_own_group();
                return 1;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if std::os::unix::process::parent_id() != parent {
                    kill_own_group();
                    return 1;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                kill_own_group();
                return 1;
            }
        }
    }
}

/// Kills every process of the supervisor's group, the supervisor included.
fn kill_own_group() {
    let _ = killpg(getpgrp(), Signal::SIGKILL);
}

/// What the supervisor recorded, if it got that far.
pub fn read_status(path: &Path) -> Option<AgentExit> {
    let raw = std::fs::read_to_string(path).ok()?;
    let (kind, value) = raw.split_once(' ')?;
    match kind {
        "exit" => value.trim().parse().ok().map(AgentExit::Code),
        "signal" => value.trim().parse().ok().map(AgentExit::Signal),
        "spawn-error" => Some(AgentExit::SpawnError(value.to_owned())),
        _ => None,
    }
}
