//! The `jiefen` binary: parses the command line and hands over to the library.

use clap::{CommandFactory, FromArgMatches};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let matches = jiefen::cli::Cli::command().get_matches();
    let database_given = jiefen::cli::database_given(&matches);
    let cli = match jiefen::cli::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let quiet = matches!(cli.command, jiefen::cli::Command::Chat { .. });
    jiefen::cli::init_logging(&cli.log_format, quiet);
    match jiefen::cli::run(cli, database_given).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line a person can act on: the outermost context and its causes.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
