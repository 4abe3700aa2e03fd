//! Every kernel check on the native adapter (Vulkan; lavapipe in CI). A missing adapter fails the
//! run: it never skips.
#![cfg(not(target_arch = "wasm32"))]

use std::io::Write as _;
use std::sync::OnceLock;

use latent_tests::{checks, Harness};

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| match pollster::block_on(Harness::new()) {
        Ok(h) => {
            // Written to the stderr handle directly so it shows even when the test passes.
            writeln!(std::io::stderr(), "GPU kernel checks run on: {}", h.ctx.summary()).ok();
            h
        }
        Err(e) => panic!("{e}\nInstall a Vulkan driver (CI: Debian's mesa-vulkan-drivers gives lavapipe)."),
    })
}

macro_rules! native_tests {
    ($($name:ident),*) => {$(
        #[test]
        fn $name() {
            if let Err(report) = pollster::block_on(checks::$name(harness())) {
                panic!("{report}");
            }
        }
    )*};
}

latent_tests::for_each_check!(native_tests);
