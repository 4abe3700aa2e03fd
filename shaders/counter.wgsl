// counter.wgsl: advances one GPU step counter. Recorded last in a training step so that every kernel
// of the step (RNG draws, Adam's bias correction, the minibatch cursor) sees the same step number,
// and replaying the recorded step needs no uniform write.
//   advance: counters[index] += amount
// Bindings (group 0):
//   0 counters  storage, read_write  array<u32>
//   1 params    uniform              CounterParams (mirrors latent_gpu::params::CounterParams)
// Workgroup size 1; dispatch (1, 1, 1).

struct CounterParams {
    index: u32,
    amount: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<storage, read_write> counters: array<u32>;
@group(0) @binding(1) var<uniform> params: CounterParams;

@compute @workgroup_size(1)
fn advance() {
    counters[params.index] += params.amount;
}
