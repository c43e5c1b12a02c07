//! Finding the agent's mention in a message and reading `@agent <command> <free text>` after it.
//!
//! A text mention counts the way GitHub recognizes one: case-insensitive, at the start of a word (so not
//! `bob@agent.io`), not the prefix of a longer name (so not `@agentic` or `@agent-x`), and not inside a code
//! span, a fenced or indented code block (Markdown) or a `{code}`/`{noformat}`/`{{…}}` region (Jira).

use contracts::Command;

/// A command read from a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCommand {
    pub command: Command,
    pub instruction: String,
}

/// Reads `<command> <free text>`; an unknown first word means `ask` with the whole text as the instruction.
pub fn parse_command(text: &str) -> ParsedCommand {
    let text = text.trim();
    let (first, rest) = match text.find(char::is_whitespace) {
        Some(split) => (&text[..split], text[split..].trim()),
        None => (text, ""),
    };
    let word = first
        .trim_end_matches([':', ',', '.', '!', ';'])
        .to_lowercase();
    match word.parse::<Command>() {
        Ok(command) => ParsedCommand {
            command,
            instruction: rest.to_owned(),
        },
        Err(_) => ParsedCommand {
            command: Command::Ask,
            instruction: text.to_owned(),
        },
    }
}

/// The text after the first mention of `trigger` (e.g. `@agent`) outside code, if the text has one.
pub fn text_after_trigger<'a>(text: &'a str, trigger: &str) -> Option<&'a str> {
    let masked = mask_code(text);
    let end = find_word_mention(&masked, trigger)?;
    Some(&text[end..])
}

/// Whether `text` mentions `trigger` outside code.
pub fn mentions(text: &str, trigger: &str) -> bool {
    find_word_mention(&mask_code(text), trigger).is_some()
}

/// The text after the first of `tokens` (matched literally, case-insensitively) outside code: Slack's
/// `<@U123>` and Jira's `[~accountid:…]`/`[~name]` mentions.
pub fn text_after_token<'a>(text: &'a str, tokens: &[String]) -> Option<&'a str> {
    let masked = mask_code(text).to_ascii_lowercase();
    tokens
        .iter()
        .filter(|token| !token.is_empty())
        .filter_map(|token| {
            masked
                .find(&token.to_ascii_lowercase())
                .map(|at| at + token.len())
        })
        .min()
        .map(|end| &text[end..])
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The byte offset just past the first word-boundary mention of `trigger` in `masked`.
fn find_word_mention(masked: &str, trigger: &str) -> Option<usize> {
    if trigger.is_empty() {
        return None;
    }
    let haystack = masked.as_bytes();
    let needle = trigger.as_bytes();
    let mut from = 0;
    while from + needle.len() <= haystack.len() {
        let at = from + find_ignore_ascii_case(&haystack[from..], needle)?;
        let end = at + needle.len();
        let before_ok = at == 0 || {
            let before = haystack[at - 1];
            !(before.is_ascii_alphanumeric() || matches!(before, b'_' | b'@' | b'.' | b'/' | b'`'))
        };
        let after_ok = match haystack.get(end) {
            None => true,
            Some(&next) if is_name_byte(next) => false,
            // `@agent.io` is an address; `@agent.` ends a sentence.
            Some(b'.') => !haystack
                .get(end + 1)
                .is_some_and(|b| b.is_ascii_alphanumeric()),
            Some(_) => true,
        };
        if before_ok && after_ok {
            return Some(end);
        }
        from = at + 1;
    }
    None
}

fn find_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0].to_ascii_lowercase();
    let mut start = 0;
    while start + needle.len() <= haystack.len() {
        let offset = haystack[start..=haystack.len() - needle.len()]
            .iter()
            .position(|b| b.to_ascii_lowercase() == first)?;
        let at = start + offset;
        if haystack[at..at + needle.len()].eq_ignore_ascii_case(needle) {
            return Some(at);
        }
        start = at + 1;
    }
    None
}

/// `text` with every byte inside code replaced by a space, so offsets still match the original.
fn mask_code(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    mask_fenced_and_indented_blocks(&mut bytes);
    mask_delimited(&mut bytes, b"{code", b"{code}");
    mask_delimited(&mut bytes, b"{noformat", b"{noformat}");
    mask_delimited(&mut bytes, b"{{", b"}}");
    mask_inline_code(&mut bytes);
    String::from_utf8(bytes).expect("only ASCII-delimited regions are replaced by ASCII spaces")
}

fn blank(bytes: &mut [u8]) {
    bytes.iter_mut().for_each(|b| {
        if *b != b'\n' {
            *b = b' '
        }
    });
}

/// Markdown fenced blocks (``` or ~~~ up to the closing fence) and indented blocks (4 spaces or a tab,
/// after a blank line).
fn mask_fenced_and_indented_blocks(bytes: &mut [u8]) {
    let mut line_start = 0;
    let mut open_fence: Option<(u8, usize)> = None;
    let mut previous_blank = true;
    let mut in_indented = false;
    while line_start < bytes.len() {
        let line_end = bytes[line_start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |p| line_start + p);
        let line = &bytes[line_start..line_end];
        let leading_spaces = line.iter().take_while(|&&b| b == b' ').count();
        let content = &line[leading_spaces.min(line.len())..];
        let fence = (leading_spaces < 4)
            .then(|| {
                let marker = *content.first()?;
                if marker != b'`' && marker != b'~' {
                    return None;
                }
                let run = content.iter().take_while(|&&b| b == marker).count();
                (run >= 3).then_some((marker, run))
            })
            .flatten();
        let is_blank = line.iter().all(|b| b.is_ascii_whitespace());
        match (open_fence, fence) {
            (Some((marker, run)), Some((m, r))) if m == marker && r >= run => {
                blank(&mut bytes[line_start..line_end]);
                open_fence = None;
            }
            (Some(_), _) => blank(&mut bytes[line_start..line_end]),
            (None, Some(found)) => {
                blank(&mut bytes[line_start..line_end]);
                open_fence = Some(found);
            }
            (None, None) => {
                let indented = line.starts_with(b"    ") || line.starts_with(b"\t");
                in_indented = indented && !is_blank && (previous_blank || in_indented);
                if in_indented {
                    blank(&mut bytes[line_start..line_end]);
                }
            }
        }
        previous_blank = is_blank;
        line_start = line_end + 1;
    }
}

/// `open…close` regions (an unclosed one runs to the end).
fn mask_delimited(bytes: &mut [u8], open: &[u8], close: &[u8]) {
    let mut from = 0;
    while let Some(start) = find_ignore_ascii_case(&bytes[from..], open).map(|p| from + p) {
        let search_from = start + open.len();
        let end = find_ignore_ascii_case(&bytes[search_from..], close)
            .map_or(bytes.len(), |p| search_from + p + close.len());
        blank(&mut bytes[start..end]);
        from = end;
        if from >= bytes.len() {
            break;
        }
    }
}

/// Backtick code spans: a run of N backticks up to the next run of exactly N.
fn mask_inline_code(bytes: &mut [u8]) {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
        let mut j = i + run;
        let mut closed = None;
        while j < bytes.len() {
            if bytes[j] == b'`' {
                let close_run = bytes[j..].iter().take_while(|&&b| b == b'`').count();
                if close_run == run {
                    closed = Some(j + close_run);
                    break;
                }
                j += close_run;
            } else {
                j += 1;
            }
        }
        match closed {
            Some(end) => {
                blank(&mut bytes[i..end]);
                i = end;
            }
            None => i += run,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_mentions_the_way_github_does() {
        for text in [
            "@agent fix it",
            "hey @Agent fix it",
            "(@AGENT) please",
            "@agent",
            "thanks @agent.",
            "cc @agent, please look",
            "line one\n@agent explain",
        ] {
            assert!(mentions(text, "@agent"), "{text:?}");
        }
        for text in [
            "@agentic fix it",
            "mail bob@agent.io",
            "@agent-smith fix",
            "@agent_x",
            "see @agent.io",
            "`@agent fix` is the syntax",
            "```\n@agent fix\n```",
            "~~~rust\n@agent fix\n~~~",
            "text\n\n    @agent fix\n",
            "{code}@agent fix{code}",
            "{noformat}\n@agent fix\n{noformat}",
            "{{@agent fix}}",
            "agent fix",
            "",
        ] {
            assert!(!mentions(text, "@agent"), "{text:?}");
        }
    }

    #[test]
    fn a_mention_after_code_still_counts() {
        assert_eq!(
            text_after_trigger("`x` and\n```\ncode\n```\n@agent fix the `y` bug", "@agent"),
            Some(" fix the `y` bug")
        );
    }

    #[test]
    fn reads_the_grammar() {
        assert_eq!(
            parse_command(" fix the flaky test "),
            ParsedCommand {
                command: Command::Fix,
                instruction: "the flaky test".into()
            }
        );
        assert_eq!(parse_command("Review: please").command, Command::Review);
        assert_eq!(
            parse_command("what does this do?"),
            ParsedCommand {
                command: Command::Ask,
                instruction: "what does this do?".into()
            }
        );
        assert_eq!(parse_command("cancel").command, Command::Cancel);
        assert_eq!(parse_command("").instruction, "");
    }

    #[test]
    fn finds_literal_tokens() {
        let tokens = vec!["<@U1>".to_owned(), "[~accountid:abc]".to_owned()];
        assert_eq!(text_after_token("<@U1> fix it", &tokens), Some(" fix it"));
        assert_eq!(
            text_after_token("hi [~ACCOUNTID:abc] explain", &tokens),
            Some(" explain")
        );
        assert_eq!(text_after_token("`<@U1>` no", &tokens), None);
    }
}
