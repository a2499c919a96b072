//! The ISO 9660 reader (volume descriptors, directories, Rock Ridge,
//! Joliet) and the boot-menu discovery on top of it never panic, whatever
//! the image bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rescue_init::iso::{menu, Iso, Medium};

fuzz_target!(|data: &[u8]| {
    // Put the fuzz bytes where the volume descriptors live, so the reader
    // gets past "not an ISO" quickly.
    let mut image = vec![0u8; 16 * 2048];
    image.extend_from_slice(data);
    let Ok(medium) = Medium::new("fuzz".into(), Box::new(image)) else { return };
    let Ok(iso) = Iso::new(medium) else { return };
    let _ = menu::discover(&iso);
    let _ = iso.lookup("/isolinux/isolinux.cfg");
});
