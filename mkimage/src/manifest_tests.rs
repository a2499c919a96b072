use super::*;

fn one(text: &str) -> Value {
    let s = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    assert_eq!(s.len(), 1, "{text:?}");
    s[0].value.clone()
}

fn err(text: &str) -> SyntaxError {
    parse(text).expect_err(text)
}

#[test]
fn values_of_every_kind() {
    assert_eq!(one("a = \"x y\""), Value::Str("x y".into()));
    assert_eq!(one("a = 'C:\\raw\\n'"), Value::Str("C:\\raw\\n".into()));
    assert_eq!(
        one("a = \"t\\tq\\\"b\\\\\\u00e9\""),
        Value::Str("t\tq\"b\\é".into())
    );
    assert_eq!(one("a = 19"), Value::Int(19));
    assert_eq!(one("a = -3"), Value::Int(-3));
    assert_eq!(one("a = 1_000_000"), Value::Int(1_000_000));
    assert_eq!(one("a = true"), Value::Bool(true));
    assert_eq!(one("a = false # off"), Value::Bool(false));
    assert_eq!(one("a = []"), Value::List(vec![]));
    let list = Value::List(vec!["x".into(), "y".into()]);
    assert_eq!(one("a = [\"x\", 'y']"), list);
    assert_eq!(
        one("a = [\n  \"x\", # first\n  # between\n  \"y\",\n]\n"),
        list
    );
}

#[test]
fn lines_are_counted_through_arrays_and_comments() {
    let text = "# head\n\nfirst = 1\nlist = [\n \"a\",\n \"b\",\n]\r\nlast = 'z'\n";
    let s = parse(text).unwrap();
    let lines: Vec<(&str, usize)> = s.iter().map(|s| (s.key.as_str(), s.line)).collect();
    assert_eq!(lines, [("first", 3), ("list", 4), ("last", 8)]);
    assert!(parse("").unwrap().is_empty());
    assert!(parse("  # only a comment").unwrap().is_empty());
}

#[test]
fn garbage_is_refused_with_its_line() {
    let cases = [
        ("a = 1\n[table]\n", 2, "tables are not used"),
        ("a = 1\nb = 2\na = 3\n", 3, "already set on line 1"),
        ("a 1", 1, "expected '='"),
        ("a = ", 1, "expected a value"),
        ("a = yes", 1, "not a value"),
        ("a = 1.5", 1, "not a value"),
        ("a = 0x10", 1, "not a value"),
        ("a = 007", 1, "not a value"),
        ("a = 1979-05-27", 1, "not a value"),
        ("a = 1__0", 1, "not a value"),
        ("a = \"open", 1, "not closed"),
        ("a = \"x\" b = 1", 1, "after the value"),
        ("a = \"\\q\"", 1, "unknown escape"),
        ("a = \"\\uD800\"", 1, "unicode"),
        ("a = \"\\u12\"", 1, "unicode"),
        ("a = \"\"\"long\"\"\"", 1, "multi-line"),
        ("\"a\" = 1", 1, "quoted keys"),
        ("a.b = 1", 1, "expected '='"),
        ("= 1", 1, "expected a key"),
        ("a = [1, 2]", 1, "strings only"),
        ("a = [\"x\" \"y\"]", 1, "expected ','"),
        ("a = [\"x\",\n\n", 3, "not closed"),
        ("a = \"bell\u{7}\"", 1, "control character"),
        ("a = 99999999999999999999", 1, "not a value"),
    ];
    for (text, line, want) in cases {
        let e = err(text);
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.message.contains(want), "{text:?}: {e}");
    }
}

#[test]
fn every_fixture_parses_or_fails_cleanly() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let syntax_ok = parse(&text).is_ok();
        // bad-* files may be valid syntax with bad keys or values; their
        // errors are checked in the command line tests.
        if name.starts_with("good-") {
            assert!(syntax_ok, "{name}");
        }
        seen += 1;
    }
    assert!(seen >= 10, "fixtures missing in {}", dir.display());
}
