//! The boot loader config parsers (GRUB with its script language and
//! grubenv, syslinux, BLS entries and loader.conf) never panic and stay
//! bounded, whatever the text; sourced and included files read the same
//! text again, within the include budget.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rescue_init::bootcfg::{bls, budget, grub, syslinux};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut same = |_: &str| Ok::<String, String>(text.to_string());
    let _ = grub::menu("/boot/grub/grub.cfg", text, &mut budget(&mut same));
    let mut same = |_: &str| Ok::<String, String>(text.to_string());
    let _ = syslinux::parse("/isolinux/isolinux.cfg", text, &mut budget(&mut same));
    let _ = grub::parse("grub.cfg", text, grub::parse_grubenv(text), None);
    let _ = bls::parse_entry("entry.conf", text);
    let _ = bls::parse_default(text);
});
