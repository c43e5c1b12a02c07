//! Comment text in and out of Jira's two rich formats.
//!
//! Callers write plain text with light markdown: blank-line separated paragraphs, `#` headings, `- `/`* ` and
//! `1. ` lists, fenced code blocks, `**bold**`, `` `code` `` and `[text](url)`. Jira Cloud (REST v3) takes
//! Atlassian Document Format (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/),
//! Jira Server/Data Center (REST v2) takes wiki markup; rich text read back from Cloud becomes plain text.

use serde_json::{Value, json};

/// A block of the caller's text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Block {
    Paragraph(Vec<String>),
    Heading(u8, String),
    BulletList(Vec<String>),
    OrderedList(Vec<String>),
    Code {
        language: Option<String>,
        text: String,
    },
}

/// A run of inline text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Inline {
    Text(String),
    Bold(String),
    Code(String),
    Link { text: String, href: String },
}

fn bullet_item(line: &str) -> Option<&str> {
    line.strip_prefix("- ").or_else(|| line.strip_prefix("* "))
}

fn ordered_item(line: &str) -> Option<&str> {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    line[digits..].strip_prefix(". ")
}

fn heading(line: &str) -> Option<(u8, &str)> {
    let level = line.bytes().take_while(|b| *b == b'#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    line[level..]
        .strip_prefix(' ')
        .map(|text| (level as u8, text.trim()))
}

fn parse_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_end();
        if trimmed.trim().is_empty() {
            continue;
        }
        if let Some(fence) = trimmed.trim_start().strip_prefix("```") {
            let language = Some(fence.trim().to_owned()).filter(|l| !l.is_empty());
            let mut code = Vec::new();
            for code_line in lines.by_ref() {
                if code_line.trim_start().starts_with("```") {
                    break;
                }
                code.push(code_line);
            }
            blocks.push(Block::Code {
                language,
                text: code.join("\n"),
            });
        } else if let Some((level, text)) = heading(trimmed) {
            blocks.push(Block::Heading(level, text.to_owned()));
        } else if bullet_item(trimmed).is_some() {
            let mut items = vec![bullet_item(trimmed).unwrap_or_default().to_owned()];
            while let Some(item) = lines.peek().and_then(|l| bullet_item(l.trim_end())) {
                items.push(item.to_owned());
                lines.next();
            }
            blocks.push(Block::BulletList(items));
        } else if let Some(first) = ordered_item(trimmed) {
            let mut items = vec![first.to_owned()];
            while let Some(item) = lines.peek().and_then(|l| ordered_item(l.trim_end())) {
                items.push(item.to_owned());
                lines.next();
            }
            blocks.push(Block::OrderedList(items));
        } else {
            let mut paragraph = vec![trimmed.to_owned()];
            while let Some(next) = lines.peek().map(|l| l.trim_end()) {
                let starts_other_block = next.trim().is_empty()
                    || next.trim_start().starts_with("```")
                    || heading(next).is_some()
                    || bullet_item(next).is_some()
                    || ordered_item(next).is_some();
                if starts_other_block {
                    break;
                }
                paragraph.push(next.to_owned());
                lines.next();
            }
            blocks.push(Block::Paragraph(paragraph));
        }
    }
    blocks
}

fn parse_inline(text: &str) -> Vec<Inline> {
    let mut runs = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let special = match c {
            '*' if rest.starts_with("**") => rest[2..]
                .find("**")
                .filter(|end| *end > 0)
                .map(|end| (Inline::Bold(rest[2..2 + end].to_owned()), 2 + end + 2)),
            '`' => rest[1..]
                .find('`')
                .filter(|end| *end > 0)
                .map(|end| (Inline::Code(rest[1..1 + end].to_owned()), 1 + end + 1)),
            '[' => link(rest),
            _ => None,
        };
        match special {
            Some((run, consumed)) => {
                if !plain.is_empty() {
                    runs.push(Inline::Text(std::mem::take(&mut plain)));
                }
                runs.push(run);
                rest = &rest[consumed..];
            }
            None => {
                plain.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    if !plain.is_empty() {
        runs.push(Inline::Text(plain));
    }
    runs
}

/// `[text](http…)` at the start of `rest`: the link and the bytes it spans.
fn link(rest: &str) -> Option<(Inline, usize)> {
    let close = rest.find("](")?;
    let text = &rest[1..close];
    let after = &rest[close + 2..];
    let end = after.find(')')?;
    let href = &after[..end];
    let is_url =
        href.starts_with("http://") || href.starts_with("https://") || href.starts_with("mailto:");
    if text.is_empty()
        || text.contains(['[', ']', '\n'])
        || !is_url
        || href.contains(char::is_whitespace)
    {
        return None;
    }
    Some((
        Inline::Link {
            text: text.to_owned(),
            href: href.to_owned(),
        },
        close + 2 + end + 1,
    ))
}

fn adf_inline(text: &str) -> Vec<Value> {
    parse_inline(text)
        .into_iter()
        .map(|run| match run {
            Inline::Text(text) => json!({ "type": "text", "text": text }),
            Inline::Bold(text) => json!({ "type": "text", "text": text, "marks": [{ "type": "strong" }] }),
            Inline::Code(text) => json!({ "type": "text", "text": text, "marks": [{ "type": "code" }] }),
            Inline::Link { text, href } => {
                json!({ "type": "text", "text": text, "marks": [{ "type": "link", "attrs": { "href": href } }] })
            }
        })
        .collect()
}

fn adf_paragraph(lines: &[String]) -> Value {
    let mut content = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if index > 0 {
            content.push(json!({ "type": "hardBreak" }));
        }
        content.extend(adf_inline(line));
    }
    json!({ "type": "paragraph", "content": content })
}

fn adf_list(kind: &str, items: &[String]) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|item| json!({ "type": "listItem", "content": [adf_paragraph(std::slice::from_ref(item))] }))
        .collect();
    json!({ "type": kind, "content": items })
}

/// The caller's text as an ADF document (Jira Cloud, REST v3).
pub fn to_adf(text: &str) -> Value {
    let content: Vec<Value> = parse_blocks(text)
        .into_iter()
        .map(|block| match block {
            Block::Paragraph(lines) => adf_paragraph(&lines),
            Block::Heading(level, text) => {
                json!({ "type": "heading", "attrs": { "level": level }, "content": adf_inline(&text) })
            }
            Block::BulletList(items) => adf_list("bulletList", &items),
            Block::OrderedList(items) => adf_list("orderedList", &items),
            Block::Code { language, text } => {
                let mut block = json!({ "type": "codeBlock" });
                if let Some(language) = language {
                    block["attrs"] = json!({ "language": language });
                }
                if !text.is_empty() {
                    block["content"] = json!([{ "type": "text", "text": text }]);
                }
                block
            }
        })
        .collect();
    json!({ "type": "doc", "version": 1, "content": content })
}

/// Characters that would otherwise start wiki markup in plain text (`snake_case`, `{braces}`, `[WIP]`, `a*b`).
const WIKI_SPECIAL: &[char] = &['{', '}', '[', ']', '|', '*', '_', '\\'];

fn wiki_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if WIKI_SPECIAL.contains(&c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

fn wiki_inline(text: &str) -> String {
    parse_inline(text)
        .into_iter()
        .map(|run| match run {
            Inline::Text(text) => wiki_escape(&text),
            Inline::Bold(text) => format!("*{}*", wiki_escape(&text)),
            Inline::Code(text) => format!("{{{{{}}}}}", wiki_escape(&text)),
            Inline::Link { text, href } => format!("[{}|{href}]", wiki_escape(&text)),
        })
        .collect()
}

/// The caller's text as wiki markup (Jira Server/Data Center, REST v2).
pub fn to_wiki(text: &str) -> String {
    let blocks: Vec<String> = parse_blocks(text)
        .into_iter()
        .map(|block| match block {
            Block::Paragraph(lines) => lines
                .iter()
                .map(|l| wiki_inline(l))
                .collect::<Vec<_>>()
                .join("\n"),
            Block::Heading(level, text) => format!("h{level}. {}", wiki_inline(&text)),
            Block::BulletList(items) => items
                .iter()
                .map(|i| format!("* {}", wiki_inline(i)))
                .collect::<Vec<_>>()
                .join("\n"),
            Block::OrderedList(items) => items
                .iter()
                .map(|i| format!("# {}", wiki_inline(i)))
                .collect::<Vec<_>>()
                .join("\n"),
            Block::Code { language, text } => match language {
                Some(language) => format!("{{code:{language}}}\n{text}\n{{code}}"),
                None => format!("{{code}}\n{text}\n{{code}}"),
            },
        })
        .collect();
    blocks.join("\n\n")
}

/// An ADF document (or any node) as plain text: blocks separated by blank lines, list items as `- `.
pub fn adf_to_text(node: &Value) -> String {
    let mut out = String::new();
    write_blocks(node, &mut out, "");
    out.trim().to_owned()
}

fn write_blocks(node: &Value, out: &mut String, prefix: &str) {
    let children = node
        .get("content")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    match node.get("type").and_then(Value::as_str).unwrap_or_default() {
        "doc" | "blockquote" | "panel" | "expand" | "nestedExpand" | "layoutSection"
        | "layoutColumn" | "table" | "tableRow" | "tableCell" | "tableHeader" => {
            for child in children {
                write_blocks(child, out, prefix);
            }
        }
        "bulletList" | "orderedList" => {
            for child in children {
                write_blocks(child, out, "- ");
            }
            out.push('\n');
        }
        "listItem" => {
            let mut item = String::new();
            for child in children {
                write_blocks(child, &mut item, "");
            }
            out.push_str(prefix);
            out.push_str(item.trim());
            out.push('\n');
        }
        "codeBlock" => {
            out.push_str("```\n");
            write_inline(children, out);
            out.push_str("\n```\n\n");
        }
        "rule" => out.push_str("---\n\n"),
        _ if node.get("text").is_some() || (node.get("attrs").is_some() && children.is_empty()) => {
            write_inline(std::slice::from_ref(node), out);
        }
        _ => {
            write_inline(children, out);
            out.push_str("\n\n");
        }
    }
}

fn write_inline(nodes: &[Value], out: &mut String) {
    for node in nodes {
        let attr = |name: &str| {
            node.pointer(&format!("/attrs/{name}"))
                .and_then(Value::as_str)
        };
        match node.get("type").and_then(Value::as_str).unwrap_or_default() {
            "text" => out.push_str(node.get("text").and_then(Value::as_str).unwrap_or_default()),
            "hardBreak" => out.push('\n'),
            "mention" => out.push_str(attr("text").or(attr("id")).unwrap_or_default()),
            "emoji" => out.push_str(attr("text").or(attr("shortName")).unwrap_or_default()),
            "inlineCard" | "blockCard" => out.push_str(attr("url").unwrap_or_default()),
            "date" => out.push_str(attr("timestamp").unwrap_or_default()),
            "status" => out.push_str(attr("text").unwrap_or_default()),
            _ => {
                let children = node
                    .get("content")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                write_inline(children, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_become_paragraphs_with_hard_breaks() {
        let doc = to_adf("first line\nsecond line\n\nnext paragraph");
        assert_eq!(
            doc,
            json!({"type": "doc", "version": 1, "content": [
                {"type": "paragraph", "content": [
                    {"type": "text", "text": "first line"},
                    {"type": "hardBreak"},
                    {"type": "text", "text": "second line"}
                ]},
                {"type": "paragraph", "content": [{"type": "text", "text": "next paragraph"}]}
            ]})
        );
    }

    #[test]
    fn markdown_becomes_adf_marks_lists_headings_and_code() {
        let doc = to_adf(
            "# Fix\nSee **PR** `#12` at [the PR](https://example.com/pr/12).\n- one\n- two\n1. a\n```rust\nfn main() {}\n```",
        );
        assert_eq!(
            doc["content"],
            json!([
                {"type": "heading", "attrs": {"level": 1}, "content": [{"type": "text", "text": "Fix"}]},
                {"type": "paragraph", "content": [
                    {"type": "text", "text": "See "},
                    {"type": "text", "text": "PR", "marks": [{"type": "strong"}]},
                    {"type": "text", "text": " "},
                    {"type": "text", "text": "#12", "marks": [{"type": "code"}]},
                    {"type": "text", "text": " at "},
                    {"type": "text", "text": "the PR", "marks": [{"type": "link", "attrs": {"href": "https://example.com/pr/12"}}]},
                    {"type": "text", "text": "."}
                ]},
                {"type": "bulletList", "content": [
                    {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "one"}]}]},
                    {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "two"}]}]}
                ]},
                {"type": "orderedList", "content": [
                    {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "a"}]}]}
                ]},
                {"type": "codeBlock", "attrs": {"language": "rust"}, "content": [{"type": "text", "text": "fn main() {}"}]}
            ])
        );
    }

    #[test]
    fn unmatched_markers_stay_text() {
        let doc = to_adf("2 ** 3 and a lone ` and [not a link](javascript:x)");
        assert_eq!(
            doc["content"][0]["content"],
            json!([{"type": "text", "text": "2 ** 3 and a lone ` and [not a link](javascript:x)"}])
        );
    }

    #[test]
    fn markdown_becomes_wiki_markup() {
        let wiki = to_wiki(
            "## Done\nSee **PR** `x` [here](https://e.com).\n\n- a\n- b\n\n```\nlet x = 1;\n```",
        );
        assert_eq!(
            wiki,
            "h2. Done\n\nSee *PR* {{x}} [here|https://e.com].\n\n* a\n* b\n\n{code}\nlet x = 1;\n{code}"
        );
    }

    #[test]
    fn plain_text_does_not_turn_into_wiki_markup() {
        assert_eq!(
            to_wiki("rename my_var_name in {config} [WIP] a*b"),
            "rename my\\_var\\_name in \\{config\\} \\[WIP\\] a\\*b"
        );
    }

    #[test]
    fn adf_reads_back_as_text() {
        let text = "Hello **there**\nsecond\n\n- one\n- two\n\n```\ncode\n```";
        assert_eq!(
            adf_to_text(&to_adf(text)),
            "Hello there\nsecond\n\n- one\n- two\n\n```\ncode\n```"
        );
        let mention = json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
            {"type": "mention", "attrs": {"id": "5b10", "text": "@agent"}},
            {"type": "text", "text": " fix this"}
        ]}]});
        assert_eq!(adf_to_text(&mention), "@agent fix this");
    }
}
