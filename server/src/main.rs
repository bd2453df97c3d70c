//! `teahouse`: run the chat server. See `teahouse --help`.

use clap::Parser;
use leptos::config::get_configuration;
use server::{build, run, shutdown_signal, Config, StartError};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc malloc: see server/Cargo.toml for the figures.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            EnvFilter::new("info,sqlx=warn,tower_sessions=warn,tower_http=warn")
        }))
        .init();
    let config = Config::parse();
    if let Err(e) = start(config).await {
        tracing::error!("{e}");
        eprintln!("teahouse: {e}");
        std::process::exit(1);
    }
}

async fn start(config: Config) -> Result<(), StartError> {
    let leptos = get_configuration(None).map_err(|e| StartError::Leptos(e.to_string()))?;
    let options = leptos.leptos_options;
    let addr = config.addr.unwrap_or(options.site_addr);
    let server = build(&config, options).await?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: addr.to_string(),
            source,
        })?;
    let local = listener.local_addr().map_err(StartError::Serve)?;
    tracing::info!(data_dir = %config.data_dir.display(), "Teahouse listening on http://{local}");
    println!("Teahouse (茶馆) is running: open http://{local}");
    run(listener, server, shutdown_signal()).await
}
