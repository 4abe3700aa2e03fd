//! Every kernel check inside headless Chromium's WebGPU: the browser's WGSL compiler is stricter
//! than naga, so this is where a shader that only naga accepts would fail.
#![cfg(target_arch = "wasm32")]

use std::cell::OnceCell;
use std::rc::Rc;

use latent_tests::{checks, Harness};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

thread_local! {
    static HARNESS: OnceCell<Rc<Harness>> = const { OnceCell::new() };
}

async fn harness() -> Rc<Harness> {
    if let Some(h) = HARNESS.with(|cell| cell.get().cloned()) {
        return h;
    }
    let h = match Harness::new().await {
        Ok(h) => Rc::new(h),
        Err(e) => panic!("{e}\nStart Chromium with --enable-unsafe-webgpu (see webdriver.json)."),
    };
    console_log!("GPU kernel checks run on: {}", h.ctx.summary());
    HARNESS.with(|cell| cell.get_or_init(|| Rc::clone(&h)).clone())
}

macro_rules! browser_tests {
    ($($name:ident),*) => {$(
        #[wasm_bindgen_test]
        async fn $name() {
            let h = harness().await;
            if let Err(report) = checks::$name(&h).await {
                panic!("{report}");
            }
        }
    )*};
}

latent_tests::for_each_check!(browser_tests);
