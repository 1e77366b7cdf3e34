//! The prose scan: a measured figure typed into the book's prose is a figure that will drift
//! from the code that measured it. Every number with a unit of measure (a duration, a size,
//! a rate, a ratio like `1.9x`, a percentage) must come from generated output, through an
//! `{{#include}}`; code blocks, inline code and HTML comments are not prose. A short
//! allow-list (`docs/figures-allowed.txt`) holds the constants that are not measurements,
//! each with its reason. The scan also checks that every include names a file that exists
//! and, when it names an anchor, that the anchor is there.

use std::{
    path::{Path, PathBuf},
    sync::LazyLock,
};

use regex::Regex;

/// A number with a unit of measure after it: what a measurement looks like in prose.
static FIGURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        (?:^|[^\w.])
        (\d[\d,]*(?:\.\d+)?\s?
          (?:ms|µs|us|ns|seconds|sec|s|minutes|min|(?:KiB|MiB|GiB|KB|MB|GB|kB|B)(?:/s)?|Hz|k/s|M/s|/s|x|%)
        )
        (?:$|[^\w])",
    )
    .expect("a valid pattern")
});

static INCLUDE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^\\])\{\{#include\s+([^\s}:]+)(?::([\w\-.]+))?\s*\}\}").expect("a valid pattern")
});

/// A link's target: an address, not prose.
static LINK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\]\([^)]*\)").expect("a valid pattern"));

/// One figure found in prose, or one include that does not resolve.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub file: PathBuf,
    pub line: usize,
    pub text: String,
    pub what: &'static str,
}

/// The prose of a Markdown text, line by line: code blocks, inline code, includes and HTML
/// comments blanked out (line numbers kept).
fn prose_lines(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut comment = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            lines.push(String::new());
            continue;
        }
        if fenced {
            lines.push(String::new());
            continue;
        }
        let mut out = String::new();
        let mut rest = line;
        loop {
            if comment {
                match rest.find("-->") {
                    Some(end) => {
                        comment = false;
                        rest = &rest[end + 3..];
                    }
                    None => break,
                }
            }
            match rest.find("<!--") {
                Some(start) => {
                    out += &rest[..start];
                    rest = &rest[start + 4..];
                    comment = true;
                }
                None => {
                    out += rest;
                    break;
                }
            }
        }
        let out = INCLUDE.replace_all(&out, "");
        // Inline code: the parts between pairs of backticks.
        let kept: String = out.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        // Link targets are addresses, not prose.
        let kept = LINK.replace_all(&kept, "]").to_string();
        lines.push(kept);
    }
    lines
}

/// The figures in a Markdown text's prose that the allow-list does not name.
pub fn figures(file: &Path, text: &str, allowed: &[String]) -> Vec<Finding> {
    let mut found = Vec::new();
    for (index, line) in prose_lines(text).iter().enumerate() {
        for capture in FIGURE.captures_iter(line) {
            let figure = capture[1].trim().to_string();
            if !allowed.contains(&figure) {
                found.push(Finding {
                    file: file.into(),
                    line: index + 1,
                    text: figure,
                    what: "a figure typed into prose",
                });
            }
        }
    }
    found
}

/// The includes in a Markdown file that name a missing file or anchor.
pub fn broken_includes(file: &Path, text: &str) -> Vec<Finding> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        for capture in INCLUDE.captures_iter(line) {
            let target = dir.join(&capture[1]);
            let broken = match std::fs::read_to_string(&target) {
                Err(_) => Some("an include of a file that does not exist"),
                Ok(body) => capture.get(2).and_then(|anchor| {
                    let anchor = anchor.as_str();
                    // mdBook's line ranges (`:10:20`) are not anchors.
                    let named = anchor.chars().any(|c| !c.is_ascii_digit());
                    (named && !body.contains(&format!("ANCHOR: {anchor}")))
                        .then_some("an include of an anchor that does not exist")
                }),
            };
            if let Some(what) = broken {
                found.push(Finding { file: file.into(), line: index + 1, text: capture[0].to_string(), what });
            }
        }
    }
    found
}

/// The allow-list: one `figure | reason` per line; `#` starts a comment.
pub fn allowed(text: &str) -> Result<Vec<String>, String> {
    let mut allowed = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once('|') {
            Some((figure, reason)) if !figure.trim().is_empty() && !reason.trim().is_empty() => {
                allowed.push(figure.trim().to_string())
            }
            _ => {
                return Err(format!(
                    "line {}: `{line}` is not `figure | the reason it is not a measurement`",
                    index + 1
                ));
            }
        }
    }
    Ok(allowed)
}

/// Scans the book's hand-written pages (every `.md` under `docs/src` but the generated
/// `results/`) and the README.
pub fn scan(root: &Path) -> anyhow::Result<Vec<Finding>> {
    let allowed = allowed(&std::fs::read_to_string(root.join("docs/figures-allowed.txt")).unwrap_or_default())
        .map_err(|e| anyhow::anyhow!("docs/figures-allowed.txt: {e}"))?;
    let mut files = vec![root.join("README.md")];
    let mut dirs = vec![root.join("docs/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)?.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "results") {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        let shown = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
        found.extend(figures(&shown, &text, &allowed));
        found.extend(broken_includes(&file, &text).into_iter().map(|f| Finding { file: shown.clone(), ..f }));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str, allowed: &[&str]) -> Vec<String> {
        let allowed: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
        figures(Path::new("x.md"), text, &allowed).into_iter().map(|f| f.text).collect()
    }

    #[test]
    fn a_planted_figure_is_found_whatever_its_unit() {
        assert_eq!(texts("rayon reached 1.9x over sequential", &[]), ["1.9x"]);
        assert_eq!(texts("p99 was 4.9 ms, and 20.3 ms beside it", &[]), ["4.9 ms", "20.3 ms"]);
        assert_eq!(
            texts("it held 226.2 MiB/s and 93% of the time; 1,151 s in all", &[]),
            ["226.2 MiB/s", "93%", "1,151 s"]
        );
    }

    #[test]
    fn code_includes_comments_links_and_allowed_constants_are_not_prose() {
        let text = "```\nlet x = 5 ms;\n```\nthe `10 ms` timer\n{{#include a.md:b}}\n<!-- 3 s -->\n[see](x.md#12-ms)\nBevy ticks at 64 Hz";
        assert!(texts(text, &["64 Hz"]).is_empty(), "{:?}", texts(text, &["64 Hz"]));
        assert_eq!(texts(text, &[]), ["64 Hz"]);
    }

    #[test]
    fn words_and_counts_are_not_figures() {
        assert!(texts("1,000 workers, 16 clients, version 2, rust 1.95 and x86_64", &[]).is_empty());
    }

    #[test]
    fn the_allow_list_needs_a_reason_on_every_line() {
        assert_eq!(allowed("# constants\n64 Hz | Bevy's fixed timestep\n").unwrap(), ["64 Hz"]);
        assert!(allowed("64 Hz\n").is_err());
        assert!(allowed("64 Hz |  \n").is_err());
    }

    #[test]
    fn includes_must_name_a_file_and_an_anchor_that_exist() {
        let dir = std::env::temp_dir().join(format!("casebook-prose-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("part.md"), "<!-- ANCHOR: here -->\nx\n<!-- ANCHOR_END: here -->\n").unwrap();
        let page = dir.join("page.md");
        let text =
            "{{#include part.md:here}}\n{{#include part.md:gone}}\n{{#include nothing.md}}\n{{#include part.md:1:2}}\n";
        let found: Vec<usize> = broken_includes(&page, text).into_iter().map(|f| f.line).collect();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found, [2, 3]);
    }
}
