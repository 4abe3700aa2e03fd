// lib/posterior.wgsl (include-only): where latent element e = i·latent + d lives in the encoder's
// output h = [μ | logσ²] (rows × 2·latent): returns (index of μ, index of logσ²).

fn posterior_indices(e: u32, latent: u32) -> vec2<u32> {
    let mu_at = (e / latent) * 2u * latent + e % latent;
    return vec2<u32>(mu_at, mu_at + latent);
}
