// lib/matmul_common.wgsl (include-only): the interface shared by every matmul variant
// (matmul.wgsl, matmul_tiled.wgsl, matmul_subgroup.wgsl, matmul_naive.wgsl): bindings, operand loads
// and the fused epilogue.
//
// Computes C (+)= epilogue(op(A)·op(B)) with op(A) m×k and op(B) k×n, all row-major f32.
// Bindings (group 0):
//   0 a        storage, read        A, stored m×k (or k×m when TRANS_A)
//   1 b        storage, read        B, stored k×n (or n×k when TRANS_B)
//   2 c        storage, read_write  C, m×n
//   3 operand  storage, read        epilogue operand: bias (n) for BIAS_ACT, layer output y (m×n) for ACT_GRAD
//   4 params   uniform              MatmulParams (mirrors latent_gpu::params::MatmulParams)
//   5 counters storage, read        GPU step counters (numbers the dropout mask)
// Overrides: TRANS_A, TRANS_B select the three forms backprop needs (A·B, Aᵀ·B, A·Bᵀ); EPILOGUE,
// ACTIVATION and DROPOUT specialise the epilogue (latent_gpu's matmul_pipelines.rs builds one pipeline
// per combination a model uses).
//
// Fused inverted dropout (DROPOUT and the model's threshold > 0): BIAS_ACT multiplies each output by its mask
// (0, or keep_scale = 1/(1 − p)), drawn from lib/rng.wgsl at (seed, stream) × (element, step); ACT_GRAD
// redraws the same mask for the same element and step, so the backward pass needs no stored mask:
// d_pre = acc · mask · f'(y / keep_scale), y being the stored (dropped) output. Threshold 0 = no dropout.
//
// Batched models (a sweep's K models in one dispatch, dispatch z = K): model z's A, B, C and epilogue
// operand start stride_a·z, stride_b·z, stride_c·z and stride_operand·z elements in (a stride of 0: one
// matrix every model shares). Each model's products, epilogue and dropout mask are exactly what the
// same dispatch computes for that model alone: only where it reads and writes moves, and model z's
// drop probability is its own (dropouts[z], a dropout sweep). A single model's pipeline sets
// BATCHED = false and reads dropouts[0] at a constant index (software adapters would otherwise
// treat the threshold as a value per invocation and run the dropout branch for every element).

struct MatmulParams {
    m: u32,
    n: u32,
    k: u32,
    accumulate: u32,
    dropout_seed: u32,
    dropout_stream: u32,
    dropout_counter: u32,
    _pad: u32,
    stride_a: u32,
    stride_b: u32,
    stride_c: u32,
    stride_operand: u32,
    // Per model: x = threshold (0: no dropout, else round(p·2²⁴)), y = keep_scale's f32 bits.
    dropouts: array<vec4<u32>, 64>,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<storage, read> operand: array<f32>;
@group(0) @binding(4) var<uniform> params: MatmulParams;
@group(0) @binding(5) var<storage, read> counters: array<u32>;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
// The epilogue is specialised per pipeline, not read from params: software adapters run both sides
// of every branch they cannot prove uniform, so a run-time choice made every matmul pay for all the
// epilogues (see latent_gpu's matmul_pipelines.rs). DROPOUT: the rate may be non-zero.
override EPILOGUE: u32 = 0u;
override ACTIVATION: u32 = 0u;
override DROPOUT: bool = false;

// Where this invocation's model's matrices start (set once by enter_model).
var<private> a_base: u32;
var<private> b_base: u32;
var<private> c_base: u32;
var<private> operand_base: u32;
// This invocation's model's dropout (set once by enter_model).
var<private> drop_threshold: u32;
var<private> keep_scale: f32;

// Every variant's entry point calls this first with the model it computes (lib/model.wgsl's
// model_of its workgroup).
fn enter_model(model: u32) {
    a_base = model * params.stride_a;
    b_base = model * params.stride_b;
    c_base = model * params.stride_c;
    operand_base = model * params.stride_operand;
    let dropout = params.dropouts[model];
    drop_threshold = dropout.x;
    keep_scale = bitcast<f32>(dropout.y);
}

const EPILOGUE_NONE: u32 = 0u;
const EPILOGUE_BIAS_ACT: u32 = 1u;
const EPILOGUE_ACT_GRAD: u32 = 2u;

fn load_a(row: u32, kk: u32) -> f32 {
    if (TRANS_A) {
        return a[a_base + kk * params.m + row];
    }
    return a[a_base + row * params.k + kk];
}

fn load_b(kk: u32, col: u32) -> f32 {
    if (TRANS_B) {
        return b[b_base + col * params.k + kk];
    }
    return b[b_base + kk * params.n + col];
}

// The dropout mask of output element `index` at the current step: 0 or keep_scale.
fn dropout_factor(index: u32) -> f32 {
    let key = vec2<u32>(params.dropout_seed, params.dropout_stream);
    let draw = rng_bits24(key, index, counters[params.dropout_counter]);
    return select(0.0, keep_scale, draw >= drop_threshold); // ⓘ dropout
}

// Applies the epilogue to one finished dot product and stores it; ignores out-of-range cells so
// callers can compute whole blocks at matrix edges.
fn store_c(row: u32, col: u32, acc: f32) {
    if (row >= params.m || col >= params.n) {
        return;
    }
    let index = row * params.n + col;
    var value = acc;
    if (EPILOGUE == EPILOGUE_BIAS_ACT) {
        value = activate(ACTIVATION, acc + operand[operand_base + col]); // ⓘ layer
        if (DROPOUT && drop_threshold != 0u) { // ⓘ dropout
            value *= dropout_factor(index); // ⓘ dropout
        }
    } else if (EPILOGUE == EPILOGUE_ACT_GRAD) {
        var y = operand[operand_base + index];
        var factor = 1.0;
        if (DROPOUT && drop_threshold != 0u) {
            factor = dropout_factor(index); // ⓘ dropout
            y = y / keep_scale;
        }
        value = acc * factor * activation_derivative(ACTIVATION, y);
    }
    if (params.accumulate != 0u) {
        value += c[c_base + index];
    }
    c[c_base + index] = value;
}
