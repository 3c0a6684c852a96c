//! jiefen-load: the real application, in-process, against the fake Bot API
//! on loopback, driven by simulated residents.
//!
//! `jiefen-load filings --db sqlite --mode webhook` (or `--mode polling`,
//! or `--db postgres://…`) measures, in one run:
//!
//! 1. the floor: single-row durable commits per second on a scratch
//!    database opened exactly as the application opens it (SQLite WAL with
//!    `synchronous=FULL`; PostgreSQL with its fsync and synchronous_commit
//!    settings, which the tool prints);
//! 2. idle RSS with the demo data imported and the application started;
//! 3. saturation: `--residents` residents file a complete case each, all at
//!    once, pressing the buttons the bot actually sent; updates applied per
//!    second (from the first update's arrival to the last one applied, as
//!    the inbox records them) and that as a multiple of the floor;
//! 4. latency: new residents arrive one after another (a Poisson stream)
//!    so that, with their think time, a quarter of the rate just measured is
//!    offered, every step of the filing mixed in as in real use;
//!    update-to-reply p50/p99 over the steady window (once the first
//!    resident has finished and before the last one has started), from the
//!    update's arrival at the application (getUpdates returned it, or its
//!    webhook POST was sent) to the fake receiving the first reply in that
//!    chat.
//!
//! `jiefen-load fanout --db …` queues 1,000 status notifications to 1,000
//! chats and lets the sender drain them against a fake that enforces
//! Telegram's limits (30/s overall, 1/s per chat, 429 past them).
//!
//! `jiefen-load peer --db … --mode …` (built with `--features peer`) runs
//! the same phases as `filings` against a peer for comparison: the filing
//! conversation written with teloxide's dispatcher and dialogue storage.
//!
//! Everything listens on 127.0.0.1 only; every phase has a deadline, and
//! scratch databases are removed at the end.

#[cfg(feature = "peer")]
mod peer;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use jiefen::clock::{SharedClock, SystemClock};
use jiefen::config::ServeConfig;
use jiefen::i18n::{t, t0, Lang};
use jiefen::outgoing::OutMessage;
use jiefen::storage::{batch, outbox, Backend, Storage, StorageOptions};
use jiefen::telegram::fake_api::{updates, FakeBotApi, FakeUser, SentMessage};
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[derive(Parser, Debug)]
#[command(
    name = "jiefen-load",
    about = "Load and fan-out measurements of jiefen against a fake Bot API on loopback"
)]
struct Cli {
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand, Debug)]
enum What {
    /// Floor, idle RSS, saturation and quarter-rate latency of complete filings.
    Filings(FilingArgs),
    /// 1,000 notifications to 1,000 chats at Telegram's limits.
    Fanout(FanoutArgs),
    /// The same measurements of a peer: the filing conversation written
    /// with teloxide's dispatcher and dialogue storage (`--features peer`).
    #[cfg(feature = "peer")]
    Peer(FilingArgs),
}

#[derive(Parser, Debug)]
struct FilingArgs {
    /// `sqlite` (a scratch file in the temp folder) or a PostgreSQL server
    /// URL (a scratch database is created on it and dropped afterwards).
    #[arg(long, default_value = "sqlite")]
    db: String,
    /// How updates reach the application.
    #[arg(long, value_enum, default_value = "webhook")]
    mode: Mode,
    /// Residents filing at once in the saturation phase. Each waits for
    /// the bot's reply, and replies to one chat go out a second apart, so
    /// a crowd of n offers at most about n/2 updates a second: enough
    /// residents make the application, not the crowd, the limit.
    #[arg(long, default_value_t = 3000)]
    residents: usize,
    /// Updates offered in the quarter-rate latency phase, at least (more
    /// when the rate needs more residents for a steady window).
    #[arg(long, default_value_t = 2000)]
    latency_updates: usize,
    /// Updates a second offered in the latency phase; a quarter of the
    /// saturation rate when not given.
    #[arg(long)]
    latency_rate: Option<f64>,
    /// How long a latency-phase resident reads before the next step (ms);
    /// more than the 1.1 s the sender leaves between two messages to one
    /// chat, so the bot's reply has arrived in full.
    #[arg(long, default_value_t = 2500, value_parser = clap::value_parser!(u64).range(1200..))]
    think_ms: u64,
    /// Seconds the floor probe runs.
    #[arg(long, default_value_t = 3)]
    floor_secs: u64,
    /// Seconds after which the run gives up.
    #[arg(long, default_value_t = 300)]
    deadline_secs: u64,
}

#[derive(Parser, Debug)]
struct FanoutArgs {
    /// `sqlite` or a PostgreSQL server URL, as for `filings`.
    #[arg(long, default_value = "sqlite")]
    db: String,
    /// Notifications (one chat each).
    #[arg(long, default_value_t = 1000)]
    chats: usize,
    /// Seconds after which the run gives up.
    #[arg(long, default_value_t = 120)]
    deadline_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    Webhook,
    Polling,
}

/// The overall send rate of filings runs: in effect no overall limit (the
/// fake does not enforce one there); one message a second per chat still
/// applies.
const UNLIMITED_SENDS: u32 = 1_000_000;
/// Telegram's default `max_connections` for webhooks.
const WEBHOOK_CONNECTIONS: usize = 40;
const WEBHOOK_SECRET: &str = "load-webhook-secret";
/// Chats of saturation residents start here; latency residents after them.
const FIRST_CHAT: i64 = 3_000_000_000;

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let (spec, secs) = match &cli.what {
        What::Filings(a) => (a.db.as_str(), a.deadline_secs),
        #[cfg(feature = "peer")]
        What::Peer(a) => (a.db.as_str(), a.deadline_secs),
        What::Fanout(a) => (a.db.as_str(), a.deadline_secs),
    };
    let db = ScratchDb::create(spec).await?;
    let run = async {
        match &cli.what {
            What::Filings(a) => filings(&db, a).await,
            #[cfg(feature = "peer")]
            What::Peer(a) => peer::run(&db, a).await,
            What::Fanout(a) => fanout(&db, a).await,
        }
    };
    let r = tokio::time::timeout(Duration::from_secs(secs), run).await;
    db.remove().await;
    r.map_err(|_| anyhow!("the run did not finish within {secs} s"))?
}

// ---------------------------------------------------------------- database

/// A database that exists for one run.
struct ScratchDb {
    url: String,
    backend: Backend,
    sqlite_dir: Option<std::path::PathBuf>,
    pg: Option<(String, String)>,
}

impl ScratchDb {
    async fn create(spec: &str) -> Result<Self> {
        let suffix = jiefen::secrets::random_secret(10).to_lowercase();
        if spec == "sqlite" || spec.starts_with("sqlite:") {
            let dir = std::env::temp_dir().join(format!("jiefen-load-{suffix}"));
            std::fs::create_dir_all(&dir).context("create a scratch folder")?;
            let url = format!("sqlite://{}", dir.join("load.db").display());
            return Ok(Self {
                url,
                backend: Backend::Sqlite,
                sqlite_dir: Some(dir),
                pg: None,
            });
        }
        let admin = Storage::connect(spec, &one_connection())
            .await
            .context("connect to the --db server")?;
        if admin.backend() != Backend::Postgres {
            bail!("--db: expected `sqlite` or a postgres:// URL");
        }
        let name = format!("jiefen_load_{suffix}");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(admin.pool())
            .await
            .context("create the scratch database")?;
        admin.close().await;
        Ok(Self {
            url: jiefen::storage::replace_db_name(spec, &name),
            backend: Backend::Postgres,
            sqlite_dir: None,
            pg: Some((spec.to_owned(), name)),
        })
    }

    /// Opens the database as `serve` does, and migrates it.
    async fn open(&self) -> Result<Storage> {
        let storage = Storage::connect(&self.url, &StorageOptions::default()).await?;
        storage.migrate().await?;
        Ok(storage)
    }

    async fn remove(self) {
        if let Some(dir) = &self.sqlite_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((admin_url, name)) = &self.pg {
            if let Ok(admin) = Storage::connect(admin_url, &one_connection()).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(admin.pool())
                    .await;
                admin.close().await;
            }
        }
    }
}

fn one_connection() -> StorageOptions {
    StorageOptions {
        max_connections: 1,
        ..Default::default()
    }
}

/// Single-row durable commits, one after another, on the application's own
/// pool settings: how many a second, and how long each took (sorted), so
/// the disk's own tail can be set beside the application's.
async fn measure_floor(storage: &Storage, secs: u64) -> Result<(f64, Vec<Duration>)> {
    {
        let mut c = storage.acquire().await?;
        batch::create_commit_probe(&mut c).await?;
    }
    let start = Instant::now();
    let until = start + Duration::from_secs(secs);
    let mut n: i64 = 0;
    let mut each = Vec::new();
    while Instant::now() < until {
        let began = Instant::now();
        let mut tx = storage.begin().await?;
        batch::insert_commit_probe(&mut tx, n, n).await?;
        tx.commit().await?;
        each.push(began.elapsed());
        n += 1;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    let mut c = storage.acquire().await?;
    batch::drop_commit_probe(&mut c).await?;
    each.sort();
    Ok((rate, each))
}

async fn durability_settings(storage: &Storage) -> Result<String> {
    let mut c = storage.acquire().await?;
    Ok(match storage.backend() {
        Backend::Sqlite => {
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&mut *c)
                .await?;
            let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(&mut *c)
                .await?;
            let sync = match sync {
                0 => "OFF",
                1 => "NORMAL",
                2 => "FULL",
                3 => "EXTRA",
                _ => "?",
            };
            format!("SQLite journal_mode={mode} synchronous={sync}")
        }
        Backend::Postgres => {
            let fsync: String = sqlx::query_scalar("SHOW fsync").fetch_one(&mut *c).await?;
            let sc: String = sqlx::query_scalar("SHOW synchronous_commit")
                .fetch_one(&mut *c)
                .await?;
            let v: String = sqlx::query_scalar("SHOW server_version")
                .fetch_one(&mut *c)
                .await?;
            format!("PostgreSQL {v} fsync={fsync} synchronous_commit={sc}")
        }
    })
}

// ---------------------------------------------------------------- the app

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

#[derive(Parser, Debug)]
struct ServeArgs {
    #[command(flatten)]
    serve: ServeConfig,
}

/// Starts the application as `serve` would, pointed at `fake`.
async fn start_app(
    storage: &Storage,
    fake: &FakeBotApi,
    mode: Mode,
    send_rate: u32,
    shutdown: CancellationToken,
) -> Result<jiefen::app::Running> {
    let port = free_port()?;
    let mut args: Vec<String> = vec![
        "jiefen".into(),
        "--bot-token".into(),
        fake.token().into(),
        "--telegram-api-url".into(),
        fake.url().to_string(),
        "--admin-listen".into(),
        format!("127.0.0.1:{port}"),
        "--send-rate".into(),
        send_rate.min(1000).to_string(),
    ];
    if mode == Mode::Webhook {
        args.extend([
            "--webhook-url".into(),
            format!("http://127.0.0.1:{port}/telegram/webhook"),
            "--webhook-secret".into(),
            WEBHOOK_SECRET.into(),
        ]);
    }
    let mut cfg = ServeArgs::try_parse_from(args)
        .map_err(|e| anyhow!("{e}"))?
        .serve;
    cfg.validate().map_err(|e| anyhow!(e))?;
    // Beyond what the command line accepts (Telegram's paid ceiling):
    // the filings run measures applying updates, not Telegram's limit.
    cfg.send_rate = send_rate;
    let clock: SharedClock = Arc::new(SystemClock);
    jiefen::app::start(storage.clone(), &cfg, clock, shutdown).await
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Resident set size now and at its peak, in MB (`/proc/self/status`).
fn rss_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(f64::NAN)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

// ---------------------------------------------------------------- residents

/// What a resident waits for after a step.
enum Expect {
    /// A new message carrying a button with this label.
    Button(String),
    /// A new message whose visible text contains this.
    Text(String),
}

/// One step of a filing.
enum Action {
    Command(&'static str),
    Text(String),
    Press(String),
    Location(f64, f64),
    Contact(&'static str),
}

/// The complete filing, as tests/it/resident.rs walks it: consent →
/// category → description → other party → parties → location → phone →
/// at-risk → submit.
fn script(i: usize) -> Vec<(Action, Expect)> {
    let lang = Lang::ZhCn;
    let categories = ["category-labor", "category-neighbor", "category-family"];
    let category = t0(lang, categories[i % categories.len()]);
    vec![
        (
            Action::Command("/start"),
            Expect::Button(t0(lang, "btn-agree")),
        ),
        (
            Action::Press(t0(lang, "btn-agree")),
            Expect::Button(category.clone()),
        ),
        (Action::Press(category), step_prompt(2)),
        (
            Action::Text(format!("老板欠了我们三个月工资，共 {} 元 <急>", 1000 + i)),
            step_prompt(3),
        ),
        (
            Action::Text("张三 <老板> & Co".into()),
            Expect::Button("2".into()),
        ),
        (Action::Press("2".into()), step_prompt(5)),
        (Action::Location(38.606, 100.801), step_prompt(6)),
        (
            Action::Contact("+86 138-0013-8000"),
            Expect::Button(t0(lang, "btn-risk-no")),
        ),
        (
            Action::Press(t0(lang, "btn-risk-no")),
            Expect::Button(t0(lang, "btn-submit")),
        ),
        // The confirmation carries the case number (county-year-sequence).
        (
            Action::Press(t0(lang, "btn-submit")),
            Expect::Text(format!("-{}-", chrono::Utc::now().format("%Y"))),
        ),
    ]
}

/// The zh-CN question of step `n` starts "第 n 步".
fn step_prompt(n: u32) -> Expect {
    Expect::Text(format!("第 {n} 步"))
}

const STEPS: usize = 10;

/// The message among `msgs` with a button labelled `label`, and its data.
fn find_button(msgs: &[SentMessage], label: &str) -> Option<(SentMessage, String)> {
    msgs.iter().rev().find_map(|m| {
        let rows = m
            .reply_markup
            .as_ref()?
            .get("inline_keyboard")?
            .as_array()?;
        rows.iter()
            .filter_map(Value::as_array)
            .flatten()
            .find(|b| b.get("text").and_then(Value::as_str) == Some(label))
            .and_then(|b| b.get("callback_data")?.as_str())
            .map(|d| (m.clone(), d.to_owned()))
    })
}

/// One step's update: when it reached the application, and how long the
/// first reply took.
#[derive(Debug, Clone, Copy)]
struct Sample {
    delivered: Instant,
    latency: Duration,
}

/// One resident's filing, begun after `start_after`. Returns each step's
/// sample.
async fn resident(
    fake: Arc<FakeBotApi>,
    chat: i64,
    i: usize,
    start_after: Duration,
    think: Duration,
    timeout: Duration,
) -> Result<Vec<Sample>> {
    tokio::time::sleep(start_after).await;
    let user = FakeUser::new(chat, "zh-hans");
    let watch = fake.watch_chat(chat);
    let mut seen = 0usize;
    let mut shown: Vec<SentMessage> = Vec::new();
    let mut latencies = Vec::with_capacity(STEPS);
    for (step, (action, expect)) in script(i).into_iter().enumerate() {
        if step > 0 && !think.is_zero() {
            // Read everything first: act `think` after the chat's latest
            // message (a reply of several messages is paced a second apart).
            tokio::time::sleep(think).await;
            while let Some(last) = fake.last_call_at(chat) {
                let quiet = last.elapsed();
                if quiet >= think {
                    break;
                }
                tokio::time::sleep(think - quiet).await;
            }
        }
        let update = match &action {
            Action::Command(c) => updates::command(&user, fake.next_message_id(chat), c),
            Action::Text(text) => updates::text(&user, fake.next_message_id(chat), text),
            Action::Location(lat, lon) => {
                updates::location(&user, fake.next_message_id(chat), *lat, *lon)
            }
            Action::Contact(phone) => {
                updates::contact(&user, fake.next_message_id(chat), phone, true)
            }
            Action::Press(label) => {
                let (on, data) = find_button(&shown, label)
                    .ok_or_else(|| anyhow!("chat {chat} step {step}: no button {label:?}"))?;
                updates::callback(&user, &fake.next_callback_id(), &on, &data)
            }
        };
        let update_id = fake.push_update(update);
        let until = tokio::time::Instant::now() + timeout;
        let reached = loop {
            let poked = watch.notified();
            let new = fake.messages_to_since(chat, seen);
            let done = match &expect {
                Expect::Text(part) => new.iter().any(|m| m.text.contains(part.as_str())),
                Expect::Button(label) => find_button(&new, label).is_some(),
            };
            if done {
                seen += new.len();
                shown = new;
                break true;
            }
            if tokio::time::timeout_at(until, poked).await.is_err() {
                break false;
            }
        };
        if !reached {
            bail!("chat {chat} step {step}: no answer within {timeout:?}");
        }
        let delivered = fake
            .delivered_at(update_id)
            .ok_or_else(|| anyhow!("update {update_id} was never delivered"))?;
        let replied = fake
            .first_call_after(chat, delivered)
            .ok_or_else(|| anyhow!("chat {chat} step {step}: no reply recorded"))?;
        latencies.push(Sample {
            delivered,
            latency: replied.saturating_duration_since(delivered),
        });
    }
    fake.forget_chat(chat);
    Ok(latencies)
}

/// Threads for Telegram's side (the fake and the residents). Shut down
/// without waiting when dropped, also on an early return.
struct TelegramSide(Option<tokio::runtime::Runtime>);

impl TelegramSide {
    fn new() -> Result<Self> {
        Ok(Self(Some(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("telegram-side")
                .enable_all()
                .build()?,
        )))
    }
}

impl std::ops::Deref for TelegramSide {
    type Target = tokio::runtime::Runtime;
    fn deref(&self) -> &tokio::runtime::Runtime {
        self.0.as_ref().expect("running until dropped")
    }
}

impl Drop for TelegramSide {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// Runs residents from `first_chat`, one per entry of `starts` (each
/// begins that long from now), on `peer` (Telegram's side, not the
/// application's runtime); returns every resident's samples, in step order.
async fn crowd(
    peer: &tokio::runtime::Handle,
    fake: &Arc<FakeBotApi>,
    first_chat: i64,
    starts: &[Duration],
    think: Duration,
) -> Result<Vec<Vec<Sample>>> {
    let mut set = tokio::task::JoinSet::new();
    for (i, start) in starts.iter().enumerate() {
        set.spawn_on(
            resident(
                fake.clone(),
                first_chat + i as i64,
                i,
                *start,
                think,
                Duration::from_secs(60),
            ),
            peer,
        );
    }
    let mut all = Vec::with_capacity(starts.len());
    while let Some(r) = set.join_next().await {
        all.push(r??);
    }
    Ok(all)
}

/// Start times of `n` residents arriving as a Poisson stream of `per_sec`
/// a second (seeded, so every run offers the same stream).
fn poisson_starts(n: usize, per_sec: f64) -> Vec<Duration> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(20_261_121);
    let mut at = 0.0f64;
    (0..n)
        .map(|_| {
            let t = Duration::from_secs_f64(at);
            let u: f64 = rng.gen_range(f64::EPSILON..1.0);
            at += -u.ln() / per_sec;
            t
        })
        .collect()
}

/// The samples of the steady window: after the first resident finished
/// and before the last one started, when residents at every step are
/// about. `None` when the run was too short to have one.
fn steady_window(residents: &[Vec<Sample>]) -> Option<(Vec<Sample>, Duration)> {
    let first_done = residents
        .iter()
        .filter_map(|r| r.last())
        .map(|s| s.delivered)
        .min()?;
    let last_start = residents
        .iter()
        .filter_map(|r| r.first())
        .map(|s| s.delivered)
        .max()?;
    if last_start <= first_done {
        return None;
    }
    let inside: Vec<Sample> = residents
        .iter()
        .flatten()
        .filter(|s| s.delivered >= first_done && s.delivered <= last_start)
        .copied()
        .collect();
    Some((inside, last_start - first_done))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Applied updates of chats in `[from, to)`: (count, first received_at,
/// last applied_at), from the inbox.
async fn applied_window(storage: &Storage, from: i64, to: i64) -> Result<(i64, i64, i64)> {
    let mut c = storage.acquire().await?;
    let row: (i64, Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), MIN(received_at), MAX(applied_at) FROM inbox
         WHERE status = 'done' AND chat_id >= $1 AND chat_id < $2",
    )
    .bind(from)
    .bind(to)
    .fetch_one(&mut *c)
    .await?;
    Ok((row.0, row.1.unwrap_or(0), row.2.unwrap_or(0)))
}

async fn count(storage: &Storage, sql: &str) -> Result<i64> {
    let mut c = storage.acquire().await?;
    Ok(sqlx::query_scalar(sql).fetch_one(&mut *c).await?)
}

/// What the latency phase measured.
struct LatencyRun {
    /// Update-to-reply latencies of the steady window, sorted.
    sorted: Vec<Duration>,
    /// Residents who filed.
    m: usize,
}

/// The latency phase: residents arrive one after another (a Poisson
/// stream) from `first_chat`, so that `offered` updates a second are
/// offered, each filing at a reader's pace. Prints what it measured.
async fn latency_phase(
    side: &TelegramSide,
    fake: &Arc<FakeBotApi>,
    first_chat: i64,
    offered: f64,
    a: &FilingArgs,
) -> Result<LatencyRun> {
    // Each resident thinks long enough for Telegram's one-message-a-second
    // per chat never to delay the first reply: 2.5 s by default, well past
    // the 1.1 s the sender leaves between two messages to one chat, so a
    // resident never acts while the bot's reply is still arriving.
    let think = Duration::from_millis(a.think_ms);
    // A filing lasts about STEPS × think (~25 s); new residents arrive at
    // offered / STEPS a second, so that about offered updates a second are
    // offered once the first residents are done. Enough residents that
    // arrivals go on for at least twice a filing's length, leaving a steady
    // window at least as long as one filing.
    let per_sec = offered / STEPS as f64;
    let m = a
        .latency_updates
        .div_ceil(STEPS)
        .max((per_sec * 2.0 * STEPS as f64 * think.as_secs_f64()).ceil() as usize);
    let starts = poisson_starts(m, per_sec);
    let residents = crowd(side.handle(), fake, first_chat, &starts, think).await?;
    let total: usize = residents.iter().map(Vec::len).sum();
    let (window, window_len) = steady_window(&residents)
        .ok_or_else(|| anyhow!("the latency run had no steady window; raise --latency-updates"))?;
    if std::env::var_os("JIEFEN_LOAD_STEPS").is_some() {
        for step in 0..STEPS {
            let mut v: Vec<Duration> = residents
                .iter()
                .filter_map(|r| r.get(step))
                .map(|s| s.latency)
                .collect();
            v.sort();
            eprintln!(
                "step {step}: p50 {:.1} ms p99 {:.1} ms",
                ms(percentile(&v, 0.5)),
                ms(percentile(&v, 0.99))
            );
        }
    }
    let mut sorted: Vec<Duration> = window.iter().map(|s| s.latency).collect();
    sorted.sort();
    let achieved = sorted.len() as f64 / window_len.as_secs_f64();
    println!(
        "quarter rate: offered {offered:.0}/s; steady window {:.1} s, {} of {total} updates, {achieved:.0}/s: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        window_len.as_secs_f64(),
        sorted.len(),
        ms(percentile(&sorted, 0.5)),
        ms(percentile(&sorted, 0.99)),
        ms(sorted.last().copied().unwrap_or_default()),
    );

    Ok(LatencyRun { sorted, m })
}

async fn filings(db: &ScratchDb, a: &FilingArgs) -> Result<()> {
    let storage = db.open().await?;
    let settings = durability_settings(&storage).await?;
    println!("database: {settings}");
    println!("mode: {:?}, residents: {}", a.mode, a.residents);

    let (floor, commits) = measure_floor(&storage, a.floor_secs).await?;
    println!(
        "floor: {floor:.0} single-row durable commits/s; one commit p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        ms(percentile(&commits, 0.5)),
        ms(percentile(&commits, 0.99)),
        ms(percentile(&commits, 0.999)),
        ms(commits.last().copied().unwrap_or_default()),
    );

    jiefen::import::import(&storage, &jiefen::import::demo_files(), now_ms())
        .await
        .map_err(|e| anyhow!("demo data: {e}"))?;
    // Telegram and the residents run on their own threads, as they would
    // in their own process: the application's runtime schedules only the
    // application's tasks.
    let peer = TelegramSide::new()?;
    let fake = Arc::new(peer.spawn(FakeBotApi::start()).await??);
    fake.set_lean(true);
    fake.set_webhook_connections(WEBHOOK_CONNECTIONS);
    let shutdown = CancellationToken::new();
    // Replies in a conversation are not bulk notifications; the overall
    // limit is raised so that sending is not what is measured here.
    let running = start_app(&storage, &fake, a.mode, UNLIMITED_SENDS, shutdown.clone()).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (idle, _) = rss_mb();
    println!("idle RSS (demo data, app + fake started): {idle:.1} MB");

    // Saturation: everyone at once, no thinking.
    let n = a.residents;
    let started = Instant::now();
    let lat: Vec<Duration> = crowd(
        peer.handle(),
        &fake,
        FIRST_CHAT,
        &vec![Duration::ZERO; n],
        Duration::ZERO,
    )
    .await?
    .into_iter()
    .flatten()
    .map(|s| s.latency)
    .collect();
    let wall = started.elapsed();
    let (applied, first, last) =
        applied_window(&storage, FIRST_CHAT, FIRST_CHAT + n as i64).await?;
    let rate = applied as f64 / ((last - first).max(1) as f64 / 1000.0);
    let mut sorted = lat;
    sorted.sort();
    println!(
        "saturation: {applied} updates applied in {:.2} s (wall {:.2} s): {rate:.0} updates/s = {:.2} x floor; \
         latency under saturation p50 {:.1} ms, p99 {:.1} ms",
        (last - first) as f64 / 1000.0,
        wall.as_secs_f64(),
        rate / floor,
        ms(percentile(&sorted, 0.5)),
        ms(percentile(&sorted, 0.99)),
    );
    if applied != (n * STEPS) as i64 {
        bail!("expected {} applied updates, found {applied}", n * STEPS);
    }

    // Latency at a quarter of the maximum rate. Residents arrive one after
    // another, as they would in a town, each filing at a reader's pace, so
    // every step of the filing is in the mix at any moment.
    let offered = a.latency_rate.unwrap_or(rate / 4.0).max(1.0);
    let lat_first = FIRST_CHAT + n as i64;
    let LatencyRun { sorted, m } = latency_phase(&peer, &fake, lat_first, offered, a).await?;

    if std::env::var_os("JIEFEN_LOAD_STEPS").is_some() {
        // Where the time goes for some kinds of update: intake to
        // apply, and apply to the first reply leaving the outbox.
        let mut c = storage.acquire().await?;
        for kind in ["\"location\"", "\"contact\"", "\"text\"", ":submit\""] {
            let row: (Option<f64>, Option<f64>, Option<f64>) = sqlx::query_as(&format!(
                "SELECT AVG(CAST(i.applied_at - i.received_at AS DOUBLE PRECISION)),
                        AVG(CAST(f.next_attempt_at - 60000 - i.applied_at AS DOUBLE PRECISION)),
                        AVG(CAST(f.sent_at - (f.next_attempt_at - 60000) AS DOUBLE PRECISION))
                 FROM inbox i JOIN outbox f ON f.id = (SELECT MIN(o.id) FROM outbox o
                      WHERE o.chat_id = i.chat_id AND o.created_at >= i.applied_at)
                 WHERE i.chat_id >= $1 AND i.payload LIKE '%{kind}%'"
            ))
            .bind(lat_first)
            .fetch_one(&mut *c)
            .await?;
            eprintln!(
                "{kind}: inbox->applied {:?} ms, applied->claimed {:?} ms, claimed->marked sent {:?} ms",
                row.0, row.1, row.2
            );
        }
    }
    let cases = count(&storage, "SELECT COUNT(*) FROM cases").await?;
    let failed = count(
        &storage,
        "SELECT COUNT(*) FROM inbox WHERE status <> 'done'",
    )
    .await?;
    println!(
        "checks: {cases} cases filed (expected {}), {failed} updates not done, {} 429s",
        n + m,
        fake.too_many_requests_count()
    );
    shutdown.cancel();
    running.wait().await?;
    let (_, peak) = rss_mb();
    println!("peak RSS (app + fake + residents, whole run): {peak:.1} MB");
    println!(
        "SUMMARY mode={:?} db={:?} floor={floor:.0}/s commit_p99={:.2}ms applied={rate:.0}/s ratio={:.2} p50={:.1}ms p99={:.1}ms idle_rss={idle:.1}MB peak_rss={peak:.1}MB",
        a.mode,
        db.backend,
        ms(percentile(&commits, 0.99)),
        rate / floor,
        ms(percentile(&sorted, 0.5)),
        ms(percentile(&sorted, 0.99)),
    );
    storage.close().await;
    if cases != (n + m) as i64 || failed != 0 {
        bail!("not every filing completed");
    }
    Ok(())
}

// ---------------------------------------------------------------- fan-out

async fn fanout(db: &ScratchDb, a: &FanoutArgs) -> Result<()> {
    let storage = db.open().await?;
    println!("database: {}", durability_settings(&storage).await?);
    jiefen::import::import(&storage, &jiefen::import::demo_files(), now_ms())
        .await
        .map_err(|e| anyhow!("demo data: {e}"))?;
    let fake = Arc::new(FakeBotApi::start().await?);
    fake.set_lean(true);
    fake.set_rate_limit(true);
    let shutdown = CancellationToken::new();
    let running = start_app(&storage, &fake, Mode::Polling, 30, shutdown.clone()).await?;
    let base = FIRST_CHAT + 500_000;
    let lang = Lang::ZhCn;
    let mut tx = storage.begin().await?;
    let now = now_ms();
    for i in 0..a.chats {
        let html = t(
            lang,
            "resident-accepted",
            &[
                ("number", format!("620722-2026-{:06}", i + 1).into()),
                ("committee", "六坝镇人民调解委员会".into()),
                ("mediator", "王调解".into()),
            ],
        );
        outbox::enqueue(&mut tx, &OutMessage::text(base + i as i64, html), None, now).await?;
    }
    tx.commit().await?;
    let started = Instant::now();
    running.outbox_notify().notify_one();
    let sent = Arc::new(AtomicUsize::new(0));
    loop {
        let n = fake.ok_count("sendMessage");
        sent.store(n, Ordering::Relaxed);
        if n >= a.chats {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let total = started.elapsed();
    let floor = (a.chats.saturating_sub(1)) as f64 / 30.0;
    let too_many = fake.too_many_requests_count();
    println!(
        "fan-out: {} messages to {} chats in {:.2} s; floor {floor:.2} s; {:+.1} % over the floor; {too_many} 429s",
        sent.load(Ordering::Relaxed),
        a.chats,
        total.as_secs_f64(),
        (total.as_secs_f64() / floor - 1.0) * 100.0,
    );
    println!(
        "SUMMARY fanout db={:?} total={:.2}s floor={floor:.2}s over={:+.1}% 429s={too_many}",
        db.backend,
        total.as_secs_f64(),
        (total.as_secs_f64() / floor - 1.0) * 100.0
    );
    shutdown.cancel();
    running.wait().await?;
    storage.close().await;
    Ok(())
}
