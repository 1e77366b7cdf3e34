//! The book's prose against its rule: no measured figure typed by hand (every one is
//! included from generated output), and every include resolves. The scan itself is tested
//! on planted lines in `casebook::tool::prose`.

use std::path::Path;

#[test]
fn the_book_types_no_figure_and_every_include_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let found = casebook::tool::prose::scan(&root).expect("the book can be read");
    let lines: Vec<String> =
        found.iter().map(|f| format!("{}:{}: {}: {}", f.file.display(), f.line, f.what, f.text)).collect();
    assert!(lines.is_empty(), "{} finding(s):\n{}", lines.len(), lines.join("\n"));
}
