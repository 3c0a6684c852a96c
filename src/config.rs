//! Configuration: one typed struct from command-line flags and `JIEFEN_*`
//! environment variables. A bad value stops start-up with one line naming the
//! setting and what was expected.

use chrono::NaiveTime;
use clap::Args;
use std::net::SocketAddr;
use std::time::Duration;

/// A secret value (bot token, webhook secret). `Debug` and `Display` mask it
/// so it never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret itself; call only where it is sent, never where it is logged.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::str::FromStr for Secret {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Err("must not be empty".into());
        }
        Ok(Self(s.trim().to_owned()))
    }
}

/// Daily hours in which people may be reminded or woken by escalations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkingHours {
    /// First minute reminders may go out.
    pub start: NaiveTime,
    /// First minute they may not.
    pub end: NaiveTime,
}

impl std::str::FromStr for WorkingHours {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let expected = || format!("'{s}' is not a range like 08:00-20:00");
        let (a, b) = s.split_once('-').ok_or_else(expected)?;
        let start = NaiveTime::parse_from_str(a.trim(), "%H:%M").map_err(|_| expected())?;
        let end = NaiveTime::parse_from_str(b.trim(), "%H:%M").map_err(|_| expected())?;
        if start >= end {
            return Err(format!("'{s}': the start must be before the end"));
        }
        Ok(Self { start, end })
    }
}

fn parse_tz(s: &str) -> Result<chrono_tz::Tz, String> {
    s.parse::<chrono_tz::Tz>()
        .map_err(|_| format!("'{s}' is not an IANA time zone like Asia/Shanghai"))
}

fn parse_url(s: &str) -> Result<url::Url, String> {
    let u = url::Url::parse(s).map_err(|e| format!("'{s}' is not a URL ({e})"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!("'{s}' must be an http(s) URL"));
    }
    Ok(u)
}

fn parse_database_url(s: &str) -> Result<String, String> {
    if s.starts_with("sqlite:") || s.starts_with("postgres://") || s.starts_with("postgresql://") {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "'{s}' must start with sqlite: (e.g. sqlite://jiefen.db) or postgres://"
        ))
    }
}

pub(crate) fn parse_language(s: &str) -> Result<String, String> {
    crate::i18n::Lang::parse(s)
        .map(|l| l.code().to_owned())
        .ok_or_else(|| format!("'{s}' is not one of zh-CN, zh-TW, en"))
}

/// Settings every subcommand needs.
#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// Database URL: `sqlite://FILE` (created if missing) or `postgres://…`.
    #[arg(long = "db", env = "JIEFEN_DATABASE_URL", default_value = "sqlite://jiefen.db",
          value_parser = parse_database_url, global = true)]
    pub database_url: String,

    /// Connections in the database pool.
    #[arg(
        long,
        env = "JIEFEN_DB_MAX_CONNECTIONS",
        default_value_t = 8,
        global = true
    )]
    pub db_max_connections: u32,
}

/// Settings of the running service (`serve`).
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Telegram bot token from @BotFather.
    #[arg(long, env = "JIEFEN_BOT_TOKEN", hide_env_values = true)]
    pub bot_token: Secret,

    /// Base URL of the Bot API (tests point it at a fake server).
    #[arg(long, env = "JIEFEN_TELEGRAM_API_URL", default_value = "https://api.telegram.org",
          value_parser = parse_url)]
    pub telegram_api_url: url::Url,

    /// Public HTTPS URL Telegram should deliver updates to. Long polling when absent.
    #[arg(long, env = "JIEFEN_WEBHOOK_URL", value_parser = parse_url)]
    pub webhook_url: Option<url::Url>,

    /// Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (1–256 of A-Z a-z 0-9 _ -).
    #[arg(long, env = "JIEFEN_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<Secret>,

    /// Address of the HTTP server (admin API, webhook, health, metrics).
    #[arg(long, env = "JIEFEN_ADMIN_LISTEN", default_value = "127.0.0.1:8080")]
    pub admin_listen: SocketAddr,

    /// Telegram chat id that receives alerts and the daily digest.
    #[arg(long, env = "JIEFEN_ADMIN_CHAT_ID")]
    pub admin_chat_id: Option<i64>,

    /// Messages per second the bot may send overall (Telegram's limit is 30;
    /// bots with paid broadcasts may send up to 1000). One a second per chat
    /// always applies.
    #[arg(long, env = "JIEFEN_SEND_RATE", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub send_rate: u32,

    #[command(flatten)]
    pub policy: PolicyConfig,
}

/// Deadlines, time and retention: the rules the service applies to cases.
#[derive(Debug, Clone, Args)]
pub struct PolicyConfig {
    /// Time zone in which dates and times are shown and asked for.
    #[arg(long, env = "JIEFEN_TIMEZONE", default_value = "Asia/Shanghai", value_parser = parse_tz)]
    pub timezone: chrono_tz::Tz,

    /// Hours in which reminders and escalations may reach people (local time).
    #[arg(long, env = "JIEFEN_WORKING_HOURS", default_value = "08:00-20:00")]
    pub working_hours: WorkingHours,

    /// Hours a committee has to accept an assigned case.
    #[arg(long, env = "JIEFEN_ACCEPT_HOURS", default_value_t = 24,
          value_parser = clap::value_parser!(i64).range(1..=720))]
    pub accept_hours: i64,

    /// Days to resolve an accepted case.
    #[arg(long, env = "JIEFEN_RESOLVE_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(i64).range(1..=365))]
    pub resolve_days: i64,

    /// Days after resolution to ask whether the agreement was carried out.
    #[arg(long, env = "JIEFEN_FOLLOWUP_DAYS", default_value_t = 14,
          value_parser = clap::value_parser!(i64).range(1..=365))]
    pub followup_days: i64,

    /// Days after a case is closed before its personal data is pseudonymised.
    #[arg(long, env = "JIEFEN_RETENTION_DAYS", default_value_t = 1095,
          value_parser = clap::value_parser!(i64).range(30..=36500))]
    pub retention_days: i64,

    /// Language for people whose Telegram language is unknown.
    #[arg(long, env = "JIEFEN_DEFAULT_LANGUAGE", default_value = "zh-CN", value_parser = parse_language)]
    pub default_language: String,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            timezone: chrono_tz::Asia::Shanghai,
            working_hours: WorkingHours {
                start: NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
                end: NaiveTime::from_hms_opt(20, 0, 0).unwrap_or_default(),
            },
            accept_hours: 24,
            resolve_days: 30,
            followup_days: 14,
            retention_days: 1095,
            default_language: "zh-CN".into(),
        }
    }
}

impl PolicyConfig {
    /// The accept deadline as a duration.
    pub fn accept_window(&self) -> Duration {
        Duration::from_secs(self.accept_hours as u64 * 3600)
    }
}

impl ServeConfig {
    /// Checks settings that depend on each other.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(secret) = &self.webhook_secret {
            let s = secret.expose();
            if s.len() > 256
                || !s
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(
                    "JIEFEN_WEBHOOK_SECRET: expected 1-256 characters of A-Z, a-z, 0-9, _ and -"
                        .into(),
                );
            }
        }
        if self.webhook_url.is_some() && self.webhook_secret.is_none() {
            return Err("JIEFEN_WEBHOOK_SECRET: required when JIEFEN_WEBHOOK_URL is set".into());
        }
        if let Some(u) = &self.webhook_url {
            if u.scheme() != "https" && !matches!(u.host_str(), Some("127.0.0.1" | "localhost")) {
                return Err("JIEFEN_WEBHOOK_URL: Telegram delivers only to https URLs".into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_output() {
        let s = Secret::new("123:ABC");
        assert_eq!(format!("{s:?} {s}"), "Secret(***) ***");
    }

    #[test]
    fn working_hours_parse_and_reject_reversed_ranges() {
        let w: WorkingHours = "08:00-20:00".parse().unwrap();
        assert_eq!(w.start, NaiveTime::from_hms_opt(8, 0, 0).unwrap());
        assert!("20:00-08:00".parse::<WorkingHours>().is_err());
        assert!("8-20".parse::<WorkingHours>().is_err());
    }

    #[test]
    fn database_urls_must_name_a_supported_engine() {
        assert!(parse_database_url("mysql://x")
            .unwrap_err()
            .contains("sqlite:"));
        assert!(parse_database_url("sqlite://jiefen.db").is_ok());
    }
}
