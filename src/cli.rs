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
    /// Talk to the bot in the terminal, as a resident and as demo mediators,
    /// without Telegram. Uses a fresh SQLite database with the demo data
    /// unless --db is given. Reads a script from standard input when it is
    /// not a terminal and prints the transcript.
    Chat {
        /// The resident's language.
        #[arg(long, default_value = "zh-CN", value_parser = crate::config::parse_language)]
        lang: String,
    },
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
/// `quiet` keeps the default at warnings (the terminal chat's screen is the
/// conversation).
pub fn init_logging(format: &str, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = if quiet {
        "warn"
    } else {
        "info,sqlx=warn,hyper=warn,reqwest=warn"
    };
    let filter = EnvFilter::try_from_env("JIEFEN_LOG").unwrap_or_else(|_| EnvFilter::new(default));
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

/// Whether the database URL was given (flag or environment) rather than
/// left at its default.
pub fn database_given(matches: &clap::ArgMatches) -> bool {
    use clap::parser::ValueSource;
    let given = |m: &clap::ArgMatches| {
        matches!(
            m.value_source("database_url"),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        )
    };
    given(matches) || matches.subcommand().is_some_and(|(_, sub)| given(sub))
}

/// Runs one command line to completion. `database_given` says whether the
/// database URL was chosen by the person (see [`database_given`]).
pub async fn run(cli: Cli, database_given: bool) -> anyhow::Result<()> {
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
        Command::Chat { lang } => {
            let lang = crate::i18n::Lang::parse(&lang).unwrap_or_default();
            run_chat(&cli.db, database_given, lang).await?;
        }
        Command::Serve(cfg) => {
            cfg.validate().map_err(anyhow::Error::msg)?;
            let storage = open(&cli.db).await?;
            let shutdown = tokio_util::sync::CancellationToken::new();
            crate::app::cancel_on_signal(shutdown.clone());
            let clock: crate::clock::SharedClock = std::sync::Arc::new(SystemClock);
            let running = crate::app::start(storage.clone(), &cfg, clock, shutdown).await?;
            running.wait().await?;
            storage.close().await;
        }
    }
    Ok(())
}

/// The terminal chat: a fresh demo database unless one was given.
async fn run_chat(
    db: &DatabaseConfig,
    database_given: bool,
    lang: crate::i18n::Lang,
) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    use std::sync::Arc;
    use tokio::io::AsyncBufReadExt;

    let clock: crate::clock::SharedClock = Arc::new(SystemClock);
    let scratch = if database_given {
        None
    } else {
        let dir = std::env::temp_dir().join(format!(
            "jiefen-chat-{}",
            crate::secrets::random_secret(8).to_lowercase()
        ));
        std::fs::create_dir_all(&dir).context("could not create a temporary folder")?;
        Some(dir)
    };
    let mut db = db.clone();
    if let Some(dir) = &scratch {
        db.database_url = format!("sqlite://{}", dir.join("chat.db").display());
    }
    let result = async {
        let storage = open(&db).await?;
        let mut conn = storage.acquire().await?;
        let empty = crate::storage::committees::list_all(&mut conn)
            .await?
            .is_empty();
        drop(conn);
        if empty {
            crate::import::import(&storage, &crate::import::demo_files(), clock.now_ms()).await?;
        }
        crate::terminal::seed_demo_mediators(&storage, clock.now_ms()).await?;
        let router = crate::routing::Router::load(&storage).await?;
        let engine = crate::app::build_engine(
            router,
            crate::config::PolicyConfig::default(),
            clock.clone(),
            None,
        );
        let interactive = std::io::stdin().is_terminal();
        let stdout = std::io::stdout();
        let mut chat = crate::terminal::TerminalChat::new(
            storage.clone(),
            engine,
            clock.clone(),
            lang,
            stdout.lock(),
            !interactive,
        );
        chat.link_demo_mediators().await?;
        chat.banner()?;
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        loop {
            if interactive {
                use std::io::Write;
                print!("> ");
                let _ = std::io::stdout().flush();
            }
            let Some(line) = lines.next_line().await? else {
                break;
            };
            if !chat.line(&line).await? {
                break;
            }
        }
        drop(chat);
        storage.close().await;
        anyhow::Ok(())
    }
    .await;
    if let Some(dir) = scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}
