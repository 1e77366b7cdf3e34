//! The two hidden modes a case binary also runs in, started by the harness itself: a
//! measured child run of one row, and a load generator started by such a run.

use anyhow::Context;

use crate::{
    case::Case,
    model::variant::VariantSet,
    run::child::{CHILD_FLAG, ChildSpec, Ctx},
    run::load::{GenCtx, LOAD_FLAG},
    run::process,
};

/// If this process was started in a hidden mode, runs it and returns its outcome.
pub(crate) fn hidden<C: Case>() -> Option<anyhow::Result<()>> {
    let mode = std::env::args_os().nth(1)?;
    if mode == CHILD_FLAG {
        Some(child::<C>())
    } else if mode == LOAD_FLAG {
        Some(load::<C>())
    } else {
        None
    }
}

/// Child mode: read the spec, run the row once, write the record.
fn child<C: Case>() -> anyhow::Result<()> {
    process::die_with_starter();
    let spec_path = std::env::args_os().nth(2).context("child mode needs a spec path")?;
    let spec: ChildSpec = serde_json::from_slice(&std::fs::read(&spec_path)?)?;
    let params: C::Params = serde_json::from_value(spec.params.clone()).context("the child's parameters")?;
    let shared: C::Shared = serde_json::from_value(spec.shared.clone()).context("the set-up's shared facts")?;
    let executable = std::env::current_exe().context("cannot find this program's own path")?;
    let variant = <C::Variant as VariantSet>::parse(&spec.point.variant)
        .with_context(|| format!("{} has no variant '{}'", C::INFO.name, spec.point.variant))?;
    let row: C::Spec = spec.point.decode()?;
    let mut ctx = Ctx::for_spec(&spec, executable);
    C::run(&params, &shared, variant, row, &mut ctx)?;
    let record = ctx.finish()?;
    std::fs::write(&spec.result_path, serde_json::to_vec(&record)?)?;
    Ok(())
}

/// Load-generator mode: run `Case::load` and write what it recorded and what it cost.
fn load<C: Case>() -> anyhow::Result<()> {
    let (mut generator, file, spec) = GenCtx::open()?;
    let params: C::Params = serde_json::from_value(file.params.clone()).context("the generator's parameters")?;
    let shared: C::Shared = serde_json::from_value(file.shared.clone()).context("the set-up's shared facts")?;
    C::load(&params, &shared, &spec, &mut generator)?;
    generator.close(&file)
}
