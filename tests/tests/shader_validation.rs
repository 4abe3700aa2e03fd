//! Every shader parses and validates in naga, with all failures reported at once; every uniform
//! struct has the size of its Rust mirror; every listed entry point exists.
#![cfg(not(target_arch = "wasm32"))]

use latent_gpu::shaders::{ShaderSource, ALL};

fn check(shader: &ShaderSource) -> Vec<String> {
    let mut problems = Vec::new();
    let module = match naga::front::wgsl::parse_str(shader.source) {
        Ok(module) => module,
        Err(e) => return vec![format!("{}: parse error:\n{}", shader.name, e.emit_to_string(shader.source))],
    };
    // A shader gets the subgroup capability only if it declares it needs subgroups (the device
    // feature it then requires).
    let capabilities = if shader.subgroups { naga::valid::Capabilities::SUBGROUP } else { naga::valid::Capabilities::empty() };
    let mut validator = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), capabilities);
    if shader.subgroups {
        validator.subgroup_stages(naga::valid::ShaderStages::COMPUTE);
        validator.subgroup_operations(
            naga::valid::SubgroupOperationSet::BASIC | naga::valid::SubgroupOperationSet::BALLOT | naga::valid::SubgroupOperationSet::SHUFFLE,
        );
    }
    if let Err(e) = validator.validate(&module) {
        problems.push(format!("{}: validation error:\n{}", shader.name, e.emit_to_string(shader.source)));
    }
    for entry in shader.entry_points {
        if !module.entry_points.iter().any(|ep| ep.name == *entry) {
            problems.push(format!("{}: entry point `{entry}` is missing", shader.name));
        }
    }
    let (struct_name, rust_size) = shader.uniform;
    let span = module.types.iter().find_map(|(_, ty)| match &ty.inner {
        naga::TypeInner::Struct { span, .. } if ty.name.as_deref() == Some(struct_name) => Some(*span as usize),
        _ => None,
    });
    match span {
        Some(span) if span == rust_size => {}
        Some(span) => problems.push(format!("{}: WGSL `{struct_name}` is {span} bytes, its Rust mirror {rust_size}", shader.name)),
        None => problems.push(format!("{}: no struct `{struct_name}`", shader.name)),
    }
    problems
}

#[test]
fn every_shader_validates_in_naga() {
    let problems: Vec<String> = ALL.iter().flat_map(check).collect();
    assert!(problems.is_empty(), "{} problem(s):\n\n{}", problems.len(), problems.join("\n\n"));
}

#[test]
fn every_shader_file_is_listed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shaders");
    let mut unlisted = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())).flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".wgsl") {
            if !ALL.iter().any(|s| s.name == stem) {
                unlisted.push(name);
            }
        }
    }
    assert!(unlisted.is_empty(), "shaders not in latent_gpu::shaders::ALL: {unlisted:?}");
}
