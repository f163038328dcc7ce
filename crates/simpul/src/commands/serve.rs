//! `simpul serve`: open the store, load master data, seed the demo city on first start,
//! and serve the API until SIGTERM or Ctrl-C.

use anyhow::Context;
use simpul_api::ledger::SealerTask;
use simpul_api::{AppState, Limits, Security};
use simpul_store::ledger_seal::Sealer;

use crate::settings::Settings;
use crate::{demo_accounts, keys, seed, store};

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    // Bind first, so a port already in use fails before minutes of seeding.
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("tidak bisa mendengarkan di {}", settings.listen))?;
    let address = listener.local_addr()?;
    store::check_scheme(&settings.database_url())?;
    let vault = keys::vault(&settings, true)?;
    let ledger_signer = keys::ledger_signer(&settings, true)?;
    let ledger = keys::ledger_config(&settings, &ledger_signer)?;
    let store = store::open(&settings.database_url(), vault.clone()).await?;
    tokio::spawn(keys::follow(vault.clone()));
    let security = security(&settings)?;
    let directory = simpul_domain::wilayah::embedded();
    seed::ensure_regions(store.as_ref(), directory).await?;
    if settings.demo.seed_on_first_start && store.counts().await?.journal == 0 {
        println!(
            "Registri kosong: mengisi kota demo ({} penduduk, wilayah {})...",
            settings.demo.residents, settings.demo.region
        );
        let spec = super::demo::spec(&settings.demo)?;
        let seeded = seed::populate(store.clone(), spec.clone(), directory).await?;
        println!(
            "Kota demo siap: {} keluarga, {} penduduk.",
            seeded.families, seeded.residents
        );
        if settings.security.demo_accounts && store.accounts().await?.is_empty() {
            let text = demo_accounts::create(
                store.as_ref(),
                &security.hasher,
                directory,
                &spec.region,
                &settings.data_dir,
                &settings.public_url(),
            )
            .await?;
            print!("{text}");
        }
    }
    let watch = simpul_watch::Watch::new(settings.watch.clone())
        .map_err(|e| anyhow::anyhow!("ambang [watch] tidak valid: {e}"))?;
    let limits = Limits {
        service_target_minutes: settings.lampid.target_minutes.max(1),
        ..Limits::default()
    };
    let sealer = SealerTask::start(
        store.clone(),
        Sealer::new(settings.ledger.origin.clone(), ledger_signer),
        simpul_api::ledger::SEAL_EVERY,
    );
    let state = AppState::new(store, vault, security, watch, limits, ledger);
    tokio::spawn(keys::follow_signer(
        state.security.clone(),
        settings.token_keys_file(),
    ));
    let router = simpul_api::router(state);
    let shutdown = shutdown_signal();
    println!("simpul siap di http://{address}/ (dokumentasi API: http://{address}/docs/)");
    tracing::info!(%address, "serving");
    simpul_api::serve(listener, router, shutdown).await?;
    // Seal what the last requests logged before the store closes.
    sealer.stop().await;
    tracing::info!("stopped");
    Ok(())
}

/// The security settings with the token signing keys.
pub fn security(settings: &Settings) -> anyhow::Result<Security> {
    let signer = keys::token_signer(settings)?;
    let mut security = Security::new(signer, settings.public_url());
    let config = &settings.security;
    security.cookie_secure = config.cookie_secure;
    security.default_quota = config.requests_per_minute.max(1);
    security.token_lifetime =
        chrono::TimeDelta::seconds(i64::from(config.token_lifetime_secs.max(1)));
    security.sessions = config.sessions;
    security.throttle = config.sign_in;
    Ok(security)
}

/// Completes on SIGTERM (how service managers stop us) or Ctrl-C. The SIGTERM handler is
/// installed when this is called, not when the future is first polled: a service manager
/// (or a test) may stop the hub the moment it says it is ready, and a signal arriving
/// before the handler would kill the process without the sealer's final pass.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        #[cfg(unix)]
        let terminate = async move {
            match terminate {
                Some(mut signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => {},
            () = terminate => {},
        }
        tracing::info!("shutdown requested; finishing requests in flight");
    }
}
