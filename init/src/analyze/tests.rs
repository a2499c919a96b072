use super::*;

const TIMELINE: &str = "0 800000 phase kernel\n\
800000 850000 phase early mounts\n\
850000 2850000 phase devices\n\
900000 1100000 module virtio_blk\n\
2850000 9850000 phase ReaR system-setup\n\
3000000 3000000 rear-setup 00-functions.sh\n\
5000000 5000000 rear-setup 40-start-udev-or-load-modules.sh\n\
9900000 9900000 login shell on /dev/ttyS0\n";

#[test]
fn reads_spans_and_rejects_garbage_with_file_and_line() {
    let spans = parse("t", TIMELINE).unwrap();
    assert_eq!(spans.len(), 8);
    assert_eq!(spans[1].name, "early mounts");
    assert_eq!(spans[3].micros(), 200_000);
    // The record in the recovered system prefixes its lines.
    let rec = parse("r", "  timeline 5 7 teardown umount /mnt/local/boot\n").unwrap();
    assert_eq!(rec[0].name, "umount /mnt/local/boot");
    let e = parse("f", "1 2 phase ok\nnot a span\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "f:2: expected START END GROUP NAME (microseconds, words)"
    );
    let e = parse("f", "9 3 phase backwards\n").unwrap_err();
    assert_eq!(e.to_string(), "f:1: END is before START");
}

#[test]
fn setup_script_marks_last_until_the_next_or_the_phase_end() {
    let mut spans = parse("t", TIMELINE).unwrap();
    close_marks(&mut spans, "rear-setup");
    let f = spans.iter().find(|s| s.name == "00-functions.sh").unwrap();
    assert_eq!((f.start, f.end), (3_000_000, 5_000_000));
    let u = spans
        .iter()
        .find(|s| s.name.starts_with("40-start"))
        .unwrap();
    assert_eq!(u.end, 9_850_000, "the last one ends with system-setup");
    let login = spans.iter().find(|s| s.group == "login").unwrap();
    assert_eq!(login.micros(), 0, "other marks stay instants");
}

#[test]
fn blame_is_longest_first_and_the_chain_is_the_phases_in_order() {
    let mut spans = parse("t", TIMELINE).unwrap();
    close_marks(&mut spans, "rear-setup");
    let blame = blame(&spans);
    let first: Vec<&str> = blame.lines().map(|l| l.trim_start()).collect();
    assert!(
        first[0].starts_with("7.000s  phase      ReaR system-setup"),
        "{blame}"
    );
    assert!(
        first[1].starts_with("4.850s  rear-setup 40-start"),
        "{blame}"
    );
    assert!(
        !blame.contains("shell on"),
        "instants have no duration to blame"
    );
    let chain = critical_chain(&spans);
    let lines: Vec<&str> = chain.lines().collect();
    assert_eq!(lines[0], "kernel @0.000s +0.800s");
    assert_eq!(lines[3], "ReaR system-setup @2.850s +7.000s");
    assert_eq!(lines.len(), 4);
}

#[test]
fn json_escapes_names() {
    let spans = vec![Span {
        start: 1,
        end: 2,
        group: "script".into(),
        name: "a \"b\"\\\u{1}".into(),
    }];
    assert_eq!(json(&spans), "[{\"group\":\"script\",\"name\":\"a \\\"b\\\"\\\\\\u0001\",\"start_us\":1,\"end_us\":2}]\n");
}

#[test]
fn the_chart_has_a_row_with_a_tooltip_per_span() {
    let mut spans = parse("t", TIMELINE).unwrap();
    spans.push(Span {
        start: 10,
        end: 20,
        group: "script".into(),
        name: "<&>".into(),
    });
    let svg = plot::svg(&spans, "boot");
    assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<g><title>").count(), spans.len());
    assert!(svg.contains("<title>ReaR system-setup: 2.850s → 9.850s (7.000s)</title>"));
    assert!(svg.contains("&lt;&amp;&gt;") && !svg.contains("<&>"));
    assert!(svg.matches("<line ").count() >= 5, "a grid");
}

#[test]
fn kernel_milestones_come_from_its_log() {
    let kmsg = "6,1,0,-;Linux version 6.1\n6,200,950000,-;Trying to unpack rootfs image as initramfs...\n\
                6,210,1400000,-;Freeing initrd memory: 1548K\n6,300,1700000,-;Run /init as init process\n";
    let spans = kernel_spans(kmsg);
    assert_eq!(
        spans,
        vec![Span {
            start: 950_000,
            end: 1_400_000,
            group: "kernel".into(),
            name: "unpack the initramfs".into()
        }]
    );
    assert!(kernel_spans("garbage").is_empty());
}
