use super::TempRoot;
use crate::applets::handoff::{run_for_test, KexecLoader};
use crate::handoff::Plan;
use std::cell::Cell;

fn setup(handoff: &str) -> TempRoot {
    let t = TempRoot::new();
    t.kernel("/root/boot/vmlinuz-6.1")
        .file("/root/boot/initrd.img-6.1", "cpio")
        .file("/host-cmdline", "root=/dev/sda1 ro\n");
    let text = handoff.replace("@ROOT@", &t.host("/root").display().to_string());
    t.file("/handoff", text);
    t
}

fn check(t: &TempRoot, extra: &[&str], loader: Option<&dyn KexecLoader>) -> (i32, String, String) {
    let h = t.host("/handoff").display().to_string();
    let c = t.host("/host-cmdline").display().to_string();
    let mut args = vec![h.as_str(), "--host-cmdline", c.as_str()];
    args.extend_from_slice(extra);
    run_for_test(&args, loader)
}

#[test]
fn a_good_plan_passes() {
    let t = setup("ROOT=@ROOT@\n");
    let (code, out, err) = check(&t, &[], None);
    assert_eq!(code, 0, "{out}{err}");
    for want in [
        "kernel:   ",
        "[newest vmlinuz-* in ",
        "initrd:   ",
        "cmdline:  root=/dev/sda1 ro  [host command line recorded in ",
        "  ok   kernel: ",
        "result: a kexec would work\n",
    ] {
        assert!(out.contains(want), "{want:?} not in\n{out}");
    }
}

#[test]
fn a_bad_kernel_fails() {
    let t = setup("ROOT=@ROOT@\nFALLBACK=poweroff\n");
    t.file("/root/boot/vmlinuz-6.1", "garbage");
    let (code, out, _) = check(&t, &[], None);
    assert_eq!(code, 1);
    assert!(
        out.contains("  FAIL kernel: ") && out.contains("too short"),
        "{out}"
    );
    assert!(
        out.ends_with("result: a kexec would FAIL (then FALLBACK=poweroff)\n"),
        "{out}"
    );
}

#[test]
fn a_bad_file_fails_naming_the_line() {
    let t = setup("ROOT=@ROOT@\nKERNAL=/x\n");
    let (code, out, _) = check(&t, &[], None);
    assert_eq!(code, 1);
    assert!(out.contains("/handoff:2: unknown key \"KERNAL\""), "{out}");
    assert!(out.ends_with("result: no usable handoff file\n"), "{out}");
    let t = setup("ROOT=@ROOT@\nKERNEL=/nope\nFALLBACK=shell\n");
    let (code, out, _) = check(&t, &[], None);
    assert_eq!(code, 1);
    assert!(
        out.contains("/handoff:2: KERNEL: \"/nope\" inside "),
        "{out}"
    );
    assert!(
        out.ends_with("result: a kexec would FAIL (then FALLBACK=shell)\n"),
        "{out}"
    );
}

#[test]
fn other_actions_pass_without_a_kernel() {
    let t = setup("ACTION=poweroff\n");
    let (code, out, _) = check(&t, &["--load"], None);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.ends_with("result: ACTION=poweroff, nothing to kexec\n"),
        "{out}"
    );
}

#[test]
fn load_goes_through_the_loader() {
    let t = setup("ROOT=@ROOT@\n");
    let calls = Cell::new(0);
    let ok = |p: &Plan| -> Result<(), String> {
        calls.set(calls.get() + 1);
        assert!(p.kexec.is_some());
        Ok(())
    };
    let (code, out, _) = check(&t, &["--load"], Some(&ok));
    assert_eq!((code, calls.get()), (0, 1), "{out}");
    assert!(
        out.contains("  ok   load: the kernel accepted the image (unloaded again)\n"),
        "{out}"
    );
    let fail = |_: &Plan| Err::<(), _>(std::io::Error::from_raw_os_error(1));
    let (code, out, _) = check(&t, &["--load"], Some(&fail));
    assert_eq!(code, 1);
    assert!(
        out.contains("  FAIL load: Operation not permitted"),
        "{out}"
    );
    let (code, out, _) = check(&t, &["--load"], None);
    assert_eq!(code, 1);
    assert!(
        out.contains("FAIL load: this build has no kexec loader"),
        "{out}"
    );
    // Without --load the loader is not called.
    let (code, _, _) = check(&t, &[], Some(&ok));
    assert_eq!((code, calls.get()), (0, 1));
}

#[test]
fn a_command_line_too_long_for_kexec_file_load_is_named() {
    let t = setup(&format!("ROOT=@ROOT@\nCMDLINE='{}'\n", "x".repeat(2040)));
    let (code, out, _) = check(&t, &[], None);
    assert!(
        out.contains("cmdline: 2040 bytes: kexec_file_load takes at most 2016 for this kernel"),
        "{out}"
    );
    // With kexec-tools here a warning, else a failure saying so.
    match crate::kexec::tool() {
        Some(_) => assert!(out.contains("WARN cmdline") && code == 0, "{out}"),
        None => assert!(out.contains("no kexec-tools here") && code == 1, "{out}"),
    }
    assert!(out.contains("  ok   kexec: "), "{out}");
}
