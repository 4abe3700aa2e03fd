// The app's module and the two builds of its worker in a release site, and the test that picks the
// worker's (release builds fill in the app's name: scripts/trunk/relaxed-simd-build).

// A module of one function that splats three f32 constants and applies f32x4.relaxed_madd (opcode
// 0xfd 0x105): it validates only where the browser runs relaxed SIMD.
const RELAXED_MADD_MODULE = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // types: () -> v128
    0x03, 0x02, 0x01, 0x00, // one function of type 0
    0x0a, 0x1c, 0x01, 0x1a, 0x00, // code: one body of 26 bytes, no locals
    0x43, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x13, // f32.const 0, f32x4.splat
    0x43, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x13,
    0x43, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x13,
    0xfd, 0x85, 0x02, // f32x4.relaxed_madd
    0x0b, // end
]);

// The page's module: one build for every browser (it runs no training step).
export const APP = { js: './@APP@.js', wasm: './@APP@_bg.wasm' };

// The worker's builds (its .js and _bg.wasm): www/worker.js loads the one the page names its
// workers after.
export const WORKERS = {
    relaxed: { name: 'relaxed-simd', files: './latent-worker-relaxed-simd' },
    portable: { name: 'portable', files: './latent-worker' },
};

// The worker build `validate` (WebAssembly.validate, or a stand-in in tests) says this browser can run.
export function pickWorker(validate) {
    let relaxed = false;
    try {
        relaxed = validate(RELAXED_MADD_MODULE);
    } catch {
        // A browser whose validate throws on it has no relaxed SIMD either.
    }
    return relaxed ? WORKERS.relaxed : WORKERS.portable;
}
