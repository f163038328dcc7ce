//! `simpul demo`: generate a synthetic population into the configured store.

use anyhow::Context;
use simpul_demo::DemoSpec;
use simpul_domain::KodeWilayah;

use crate::settings::{DemoSettings, Settings};
use crate::{seed, store};

/// Flags override the `[demo]` settings.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Residents to generate (default from settings: 200,000).
    #[arg(long)]
    pub residents: Option<u64>,
    /// Region code to populate: a province (35), city (35.77) or kecamatan.
    #[arg(long)]
    pub region: Option<String>,
    /// Random seed; the same seed gives the same population.
    #[arg(long)]
    pub seed: Option<u64>,
}

/// The generator's spec from the demo settings, dated today.
pub fn spec(demo: &DemoSettings) -> anyhow::Result<DemoSpec> {
    let region = KodeWilayah::parse(&demo.region)
        .with_context(|| format!("kode wilayah demo {:?}", demo.region))?;
    Ok(DemoSpec {
        region,
        residents: demo.residents,
        seed: demo.seed,
        today: simpul_domain::today(),
    })
}

pub async fn run(mut settings: Settings, args: DemoArgs) -> anyhow::Result<()> {
    let demo = &mut settings.demo;
    demo.residents = args.residents.unwrap_or(demo.residents);
    demo.region = args.region.unwrap_or_else(|| demo.region.clone());
    demo.seed = args.seed.unwrap_or(demo.seed);
    let spec = spec(&settings.demo)?;
    store::check_scheme(&settings.database_url())?;
    let vault = crate::keys::vault(&settings, true)?;
    let store = store::open(&settings.database_url(), vault).await?;
    let directory = simpul_domain::wilayah::embedded();
    seed::ensure_regions(store.as_ref(), directory).await?;
    let seeded = seed::populate(store, spec, directory).await?;
    println!(
        "{} keluarga, {} penduduk ditulis ke {}",
        seeded.families,
        seeded.residents,
        settings.data_dir.display()
    );
    Ok(())
}
