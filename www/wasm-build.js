// The two builds of the app (and of its worker) in a release site and the test that picks
// one (release builds fill in the app's names: scripts/trunk/relaxed-simd-build).

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

// `worker`: the Web Worker of the same kind (its .js and _bg.wasm), which
// www/worker.js loads when the page names the worker after its own build.
export const BUILDS = {
    relaxed: { name: 'relaxed-simd', js: './@RELAXED@.js', wasm: './@RELAXED@_bg.wasm', worker: './latent-worker-relaxed-simd' },
    portable: { name: 'portable', js: './@PORTABLE@.js', wasm: './@PORTABLE@_bg.wasm', worker: './latent-worker' },
};

// The build `validate` (WebAssembly.validate, or a stand-in in tests) says this browser can run.
export function pick(validate) {
    let relaxed = false;
    try {
        relaxed = validate(RELAXED_MADD_MODULE);
    } catch {
        // A browser whose validate throws on it has no relaxed SIMD either.
    }
    return relaxed ? BUILDS.relaxed : BUILDS.portable;
}
