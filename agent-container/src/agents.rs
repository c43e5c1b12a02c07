//! Agent definitions: what each command runs with (model, tools, limits, system prompt), tunable without code.
//!
//! `AGENT_DEFINITIONS_FILE` names a JSON file mapping command names to partial definitions; each field given
//! replaces the embedded default of that command:
//! `{"fix": {"model": "claude-sonnet-4-5", "max_budget_usd": 3.0}, "review": {"timeout_seconds": 600}}`.

use std::collections::HashMap;
use std::time::Duration;

use contracts::Command;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq)]
pub struct AgentDefinition {
    /// `None`: the CLI's own default model.
    pub model: Option<String>,
    pub allowed_tools: Vec<String>,
    pub max_turns: u32,
    pub max_budget_usd: f64,
    pub timeout: Duration,
    /// Claude's `--permission-mode`.
    pub permission_mode: String,
    /// Appended to the CLI's system prompt.
    pub system_prompt: String,
    /// Opens the prompt: what this command asks of the agent.
    pub task_preamble: String,
}

/// A definition as written in the file: every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DefinitionOverride {
    model: Option<String>,
    allowed_tools: Option<Vec<String>>,
    max_turns: Option<u32>,
    max_budget_usd: Option<f64>,
    timeout_seconds: Option<u64>,
    permission_mode: Option<String>,
    system_prompt: Option<String>,
    task_preamble: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AgentDefinitions {
    by_command: HashMap<Command, AgentDefinition>,
}

const SYSTEM_PROMPT: &str = "You are a coding agent run by agent-gateway on behalf of a user. You work \
non-interactively: nobody answers questions, so make reasonable assumptions and say what they were. The \
current directory is your workspace. Never print secrets, tokens or credentials.";

fn tools(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

impl Default for AgentDefinitions {
    fn default() -> Self {
        let read_only = tools(&["Read", "Glob", "Grep", "LS"]);
        let definition = |allowed_tools: Vec<String>,
                          max_turns: u32,
                          max_budget_usd: f64,
                          minutes: u64,
                          permission_mode: &str,
                          task_preamble: &str| AgentDefinition {
            model: None,
            allowed_tools,
            max_turns,
            max_budget_usd,
            timeout: Duration::from_secs(minutes * 60),
            permission_mode: permission_mode.to_owned(),
            system_prompt: SYSTEM_PROMPT.to_owned(),
            task_preamble: task_preamble.to_owned(),
        };
        let by_command = HashMap::from([
            (
                Command::Fix,
                definition(
                    tools(&[
                        "Read",
                        "Glob",
                        "Grep",
                        "LS",
                        "Edit",
                        "MultiEdit",
                        "Write",
                        "Bash",
                    ]),
                    40,
                    5.0,
                    30,
                    "acceptEdits",
                    "Fix the problem described below. Change the code in the workspace, run the relevant tests, \
                     and finish with a short summary of what you changed and why.",
                ),
            ),
            (
                Command::Review,
                definition(
                    tools(&[
                        "Read",
                        "Glob",
                        "Grep",
                        "LS",
                        "Bash(git diff:*)",
                        "Bash(git log:*)",
                        "Bash(git show:*)",
                    ]),
                    25,
                    2.0,
                    15,
                    "default",
                    "Review the change described below. Point out bugs, risks and missing tests, most important \
                     first, citing files and lines. Do not modify files.",
                ),
            ),
            (
                Command::Explain,
                definition(
                    read_only.clone(),
                    15,
                    1.0,
                    10,
                    "default",
                    "Explain what is asked below, citing the files that matter. Do not modify files.",
                ),
            ),
            (
                Command::Ask,
                definition(
                    read_only,
                    15,
                    1.0,
                    10,
                    "default",
                    "Answer the question below as precisely as you can. Do not modify files.",
                ),
            ),
            (
                Command::Investigate,
                definition(
                    tools(&["Read", "Glob", "Grep", "LS", "Bash"]),
                    30,
                    3.0,
                    20,
                    "default",
                    "Investigate the problem below: find the likely cause, with evidence, and propose a fix. \
                     Do not modify files.",
                ),
            ),
        ]);
        Self { by_command }
    }
}

impl AgentDefinitions {
    /// The embedded defaults with the file's overrides applied.
    pub fn from_file(path: &str) -> Result<Self, String> {
        let raw = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
        Self::default().with_overrides(&raw)
    }

    /// Applies a JSON object of `{command: partial definition}` over these definitions.
    pub fn with_overrides(mut self, raw: &str) -> Result<Self, String> {
        let overrides: HashMap<String, DefinitionOverride> = serde_json::from_str(raw)
            .map_err(|e| format!("not a JSON object of agent definitions: {e}"))?;
        for (name, change) in overrides {
            let command: Command = name
                .parse()
                .map_err(|e| format!("{e} (use fix, review, explain, ask, investigate)"))?;
            let definition = self
                .by_command
                .get_mut(&command)
                .ok_or_else(|| format!("`{name}` is a control command and runs no agent"))?;
            if let Some(budget) = change.max_budget_usd
                && !(budget.is_finite() && budget > 0.0)
            {
                return Err(format!("{name}.max_budget_usd must be a positive number"));
            }
            if change.model.is_some() {
                definition.model = change.model;
            }
            if let Some(v) = change.allowed_tools {
                definition.allowed_tools = v;
            }
            if let Some(v) = change.max_turns {
                definition.max_turns = v;
            }
            if let Some(v) = change.max_budget_usd {
                definition.max_budget_usd = v;
            }
            if let Some(v) = change.timeout_seconds {
                definition.timeout = Duration::from_secs(v);
            }
            if let Some(v) = change.permission_mode {
                definition.permission_mode = v;
            }
            if let Some(v) = change.system_prompt {
                definition.system_prompt = v;
            }
            if let Some(v) = change.task_preamble {
                definition.task_preamble = v;
            }
        }
        Ok(self)
    }

    /// The definition a command runs with; `None` for the control commands (`cancel`, `retry`).
    pub fn for_command(&self, command: Command) -> Option<&AgentDefinition> {
        self.by_command.get(&command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_only_the_fields_given() {
        let defaults = AgentDefinitions::default();
        let tuned = AgentDefinitions::default()
            .with_overrides(r#"{"fix": {"model": "opus", "max_budget_usd": 1.5}}"#)
            .unwrap();
        let fix = tuned.for_command(Command::Fix).unwrap();
        assert_eq!(fix.model.as_deref(), Some("opus"));
        assert_eq!(fix.max_budget_usd, 1.5);
        assert_eq!(
            fix.allowed_tools,
            defaults.for_command(Command::Fix).unwrap().allowed_tools
        );
        assert_eq!(
            tuned.for_command(Command::Review),
            defaults.for_command(Command::Review)
        );
    }

    #[test]
    fn refuses_unknown_commands_fields_and_bad_budgets() {
        for bad in [
            r#"{"deploy": {}}"#,
            r#"{"cancel": {}}"#,
            r#"{"fix": {"modle": "x"}}"#,
            r#"{"fix": {"max_budget_usd": -1}}"#,
            "[]",
        ] {
            assert!(
                AgentDefinitions::default().with_overrides(bad).is_err(),
                "{bad}"
            );
        }
    }
}
