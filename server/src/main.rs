//! `teahouse`: run the chat server, or (`teahouse backup`) copy its
//! database, or (`teahouse grant-role`) give an account a role. See `teahouse --help`.

use clap::{Parser, Subcommand};
use leptos::config::get_configuration;
use server::backup::{backup, BackupArgs};
use server::{build, run, Config, Signals, StartError};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc malloc: see server/Cargo.toml for the figures.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Teahouse (茶馆): self-hosted real-time chat. Without a command, runs the server.
#[derive(Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Cli {
    /// The server's flags.
    #[command(flatten)]
    serve: Config,
    /// Something to do instead of serving.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Copy the database to a new file, consistently, while the server runs.
    ///
    /// The copy is the database as of one moment (SQLite VACUUM INTO),
    /// checked before it is given its name; an existing FILE is never
    /// overwritten. To restore: stop the server, put the file in place as
    /// <data-dir>/teahouse.db, remove <data-dir>/teahouse.db-wal and
    /// <data-dir>/teahouse.db-shm if present, start the server
    /// (README: "Backup and restore").
    Backup(BackupArgs),
    /// Give an account a role: make the first admin (`teahouse grant-role
    /// alice`), or an agent (`--role agent`), or back to `--role user`.
    ///
    /// The account must have signed up. Works while the server runs (roles
    /// are checked on every call). Admins then grant and revoke roles from
    /// the admin page.
    GrantRole(server::grant::GrantArgs),
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            EnvFilter::new("info,sqlx=warn,tower_sessions=warn,tower_http=warn")
        }))
        .init();
    let cli = Cli::parse();
    if let Some(Command::GrantRole(args)) = &cli.command {
        match server::grant::grant(args).await {
            Ok(user) => println!("{} ({}) is now {}", user.username, user.nickname, args.role),
            Err(e) => {
                eprintln!("teahouse grant-role: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    if let Some(Command::Backup(args)) = cli.command {
        match backup(&args.database_url(), &args.to).await {
            Ok(done) => println!(
                "backup written to {}: {} bytes, {} events",
                args.to.display(),
                done.bytes,
                done.events
            ),
            Err(e) => {
                eprintln!("teahouse backup: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    if let Err(e) = start(cli.serve).await {
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
    let signals = Signals::listen();
    tokio::select! {
        done = run(listener, server, signals.first()) => done,
        // A second SIGTERM or Ctrl-C during the drain: stop at once (what
        // was acknowledged is stored; sends in flight get no answer).
        () = signals.second() => {
            tracing::warn!("second signal during the drain: exiting now");
            std::process::exit(1);
        }
    }
}
