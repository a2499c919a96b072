//! `rescue-test-helper`: the test fixtures for humans and the Makefile.
//!
//!   rescue-test-helper kernel          provision the test kernel, print paths
//!   rescue-test-helper kernel-path     print only the vmlinuz path
//!   rescue-test-helper image NAME      build the busybox image NAME with
//!                                      mkimage, print its path
//!   rescue-test-helper demo            build `make demo`'s image and disk,
//!                                      print kernel=, image=, disk= for sh

use anyhow::{bail, Result};
use rescue_tests::{ImageSpec, Kernel};

fn main() {
    if let Err(e) = run(std::env::args().skip(1).collect()) {
        eprintln!("rescue-test-helper: {e:#}");
        std::process::exit(1);
    }
}

fn run(args: Vec<String>) -> Result<()> {
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["kernel"] => {
            let k = Kernel::get()?;
            println!("vmlinuz={}", k.vmlinuz.display());
            let show = |p: &Option<std::path::PathBuf>| {
                p.as_ref()
                    .map_or("(none)".into(), |p| p.display().to_string())
            };
            println!("modules={}", show(&k.modules));
            println!("config={}", show(&k.config));
        }
        ["kernel-path"] => println!("{}", Kernel::get()?.vmlinuz.display()),
        ["image", name] => println!("{}", ImageSpec::new(name).build()?.path.display()),
        ["demo"] => {
            let d = rescue_tests::demo::build()?;
            for (name, path) in [
                ("kernel", &d.kernel),
                ("image", &d.image),
                ("disk", &d.disk),
            ] {
                // Single-quoted for the Makefile's eval.
                println!(
                    "{name}='{}'",
                    path.display().to_string().replace('\'', "'\\''")
                );
            }
        }
        _ => bail!("usage: rescue-test-helper kernel | kernel-path | image NAME | demo"),
    }
    Ok(())
}
