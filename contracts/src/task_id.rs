use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;
use uuid::Uuid;

const PREFIX: &str = "task-";
/// The length of a task id's text: the prefix and a hyphenated UUID.
const TEXT_LEN: usize = PREFIX.len() + uuid::fmt::Hyphenated::LENGTH;

/// `task-` followed by a hyphenated, lowercase UUIDv7: unique, and sortable by creation time.
///
/// Parsing is strict (exact length, lowercase hex, version 7), so a parsed `TaskId` is always a
/// single safe path component: no `/`, no `..`, no encoded tricks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ToSchema)]
#[schema(value_type = String, example = "task-01934f5e-8c7a-7b3e-9c1d-2f4a5b6c7d8e")]
pub struct TaskId(Uuid);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a task id (expected `task-` followed by a lowercase UUIDv7)")]
pub struct InvalidTaskId(pub String);

impl TaskId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    pub fn uuid(&self) -> Uuid {
        self.0
    }

    /// The id's text, rendered on the stack without the formatting machinery: every log line, file path
    /// and message of a task carries it, several times per delivery.
    pub fn text(&self) -> TaskIdText {
        let mut text = [0u8; TEXT_LEN];
        text[..PREFIX.len()].copy_from_slice(PREFIX.as_bytes());
        self.0.hyphenated().encode_lower(&mut text[PREFIX.len()..]);
        TaskIdText(text)
    }
}

/// A [`TaskId`]'s text (`task-` and the lowercase hyphenated UUID), held on the stack.
#[derive(Clone, Copy)]
pub struct TaskIdText([u8; TEXT_LEN]);

impl TaskIdText {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("a task id's text is ASCII")
    }
}

impl Default for TaskId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.text().as_str())
    }
}

impl FromStr for TaskId {
    type Err = InvalidTaskId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidTaskId(s.chars().take(80).collect());
        let rest = s.strip_prefix(PREFIX).ok_or_else(invalid)?;
        let canonical_shape = rest.len() == 36
            && rest.bytes().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
            });
        if !canonical_shape {
            return Err(invalid());
        }
        let uuid = Uuid::parse_str(rest).map_err(|_| invalid())?;
        if uuid.get_version_num() != 7 {
            return Err(invalid());
        }
        Ok(Self(uuid))
    }
}

impl Serialize for TaskId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.text().as_str())
    }
}

impl<'de> Deserialize<'de> for TaskId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_string_form() {
        let id = TaskId::new();
        let text = id.to_string();
        assert!(text.starts_with("task-"));
        assert_eq!(text, format!("task-{}", id.uuid().hyphenated()));
        assert_eq!(text.parse::<TaskId>().unwrap(), id);
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{text}\""));
        assert_eq!(format!("{id:>46}"), format!("     {text}"));
    }

    #[test]
    fn later_ids_sort_after_earlier_ones() {
        let first = TaskId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = TaskId::new();
        assert!(first.to_string() < second.to_string());
    }

    #[test]
    fn refuses_anything_that_is_not_a_canonical_v7_task_id() {
        let v4 = "task-9f1b2c3d-4e5f-4a6b-8c7d-1e2f3a4b5c6d";
        let good = TaskId::new().to_string();
        for bad in [
            "",
            "task-",
            "../../etc/passwd",
            "task-../../etc",
            &good[5..],
            &good.to_uppercase(),
            &format!("{good}/x"),
            &format!("{good}%2f"),
            &good.replace('-', ""),
            "/tmp/task-x",
            v4,
        ] {
            assert!(bad.parse::<TaskId>().is_err(), "accepted {bad:?}");
        }
    }
}
