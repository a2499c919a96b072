//! `modules.order` and `modules.builtin`: one module path a line.

/// The paths, in file order.
pub fn parse(text: &str) -> Vec<String> {
    crate::content_lines(text)
        .map(|(_, l)| l.to_string())
        .collect()
}

/// One path a line.
pub fn write<'a>(paths: impl IntoIterator<Item = &'a String>) -> String {
    let mut out = String::new();
    for p in paths {
        out.push_str(p);
        out.push('\n');
    }
    out
}
