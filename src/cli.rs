//! The command line: `serve`, `migrate`, `import`, `token`.

use crate::clock::{Clock, SystemClock};
use crate::config::{DatabaseConfig, ServeConfig};
use crate::secrets::Role;
use crate::storage::{Storage, StorageOptions};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// jiefen (解纷): the Telegram front door of a county's people's-mediation network.
#[derive(Debug, Parser)]
#[command(name = "jiefen", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub db: DatabaseConfig,

    /// Log format: text for people, json for log collectors.
    #[arg(long, env = "JIEFEN_LOG_FORMAT", default_value = "text", global = true,
          value_parser = ["text", "json"])]
    pub log_format: String,

    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the bot, the admin API and the background jobs.
    Serve(Box<ServeConfig>),
    /// Apply database migrations and exit.
    Migrate,
    /// Load regions, committees and rules from CSV files (or the demo data).
    Import {
        /// A folder with regions.csv, committees.csv and rules.csv, or one of those files.
        #[arg(required_unless_present = "demo")]
        path: Option<PathBuf>,
        /// Load the demo dataset shipped with jiefen (Zhangye city, Minle county).
        #[arg(long, conflicts_with = "path")]
        demo: bool,
    },
    /// Manage admin API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

/// Token subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once.
    Create {
        /// Whose token this is (shown in the audit log).
        #[arg(long)]
        name: String,
        /// What it may do.
        #[arg(long, value_enum, default_value = "viewer")]
        role: Role,
    },
    /// List tokens (never the secrets).
    List,
    /// Revoke a token by id.
    Revoke {
        /// The token's id from `token list`.
        id: i64,
    },
}

/// Sets up logging to standard error.
pub fn init_logging(format: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("JIEFEN_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,hyper=warn,reqwest=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}

async fn open(db: &DatabaseConfig) -> anyhow::Result<Storage> {
    let opts = StorageOptions {
        max_connections: db.db_max_connections,
        ..Default::default()
    };
    let storage = Storage::connect(&db.database_url, &opts)
        .await
        .context("JIEFEN_DATABASE_URL: could not open the database")?;
    storage
        .migrate()
        .await
        .context("could not migrate the database")?;
    Ok(storage)
}

/// Runs one command line to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let clock = SystemClock;
    match cli.command {
        Command::Migrate => {
            open(&cli.db).await?;
            println!("migrations applied");
        }
        Command::Import { path, demo } => {
            let storage = open(&cli.db).await?;
            let files = if demo {
                crate::import::demo_files()
            } else {
                let path = path.context("give a path or --demo")?;
                crate::import::ImportFiles::from_path(&path)?
            };
            let summary = crate::import::import(&storage, &files, clock.now_ms()).await?;
            println!(
                "imported {} regions, {} committees, {} rules",
                summary.regions, summary.committees, summary.rules
            );
        }
        Command::Token(cmd) => {
            let storage = open(&cli.db).await?;
            match cmd {
                TokenCommand::Create { name, role } => {
                    let (id, secret) =
                        crate::secrets::create_token(&storage, &name, role, clock.now_ms(), "cli")
                            .await?;
                    println!(
                        "token {id} ({}, {name}):\n{secret}\nIt is shown only this once.",
                        role.code()
                    );
                }
                TokenCommand::List => {
                    let mut c = storage.acquire().await?;
                    for t in crate::storage::tokens::list(&mut c).await? {
                        let state = if t.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "live"
                        };
                        println!("{}\t{}\t{}\t{}", t.id, t.role, state, t.name);
                    }
                }
                TokenCommand::Revoke { id } => {
                    let mut tx = storage.begin().await?;
                    let done = crate::storage::tokens::revoke(&mut tx, id, clock.now_ms()).await?;
                    if !done {
                        anyhow::bail!("no live token with id {id}");
                    }
                    crate::storage::audit::record(
                        &mut tx,
                        clock.now_ms(),
                        "cli",
                        "token.revoke",
                        "token",
                        &id.to_string(),
                        &serde_json::json!({}),
                    )
                    .await?;
                    tx.commit().await?;
                    println!("token {id} revoked");
                }
            }
        }
        Command::Serve(cfg) => {
            cfg.validate().map_err(anyhow::Error::msg)?;
            let _storage = open(&cli.db).await?;
            anyhow::bail!("serve is not available in this build yet");
        }
    }
    Ok(())
}
