//! A peer for comparison: the same filing conversation written the usual
//! way with teloxide's own dispatcher and dialogue storage, run against
//! the same fake Bot API by the same residents (`jiefen-load peer`, built
//! with `--features peer`).
//!
//! What the peer does per update: read the chat's dialogue, write the new
//! one (one durable commit), then answer the button (if any) and send one
//! message. What it does not do, and jiefen does: keep the update durable
//! before Telegram is told it arrived (teloxide's polling confirms an
//! update when it has fetched it, its webhook answers 200 on receipt),
//! keep a reply in an outbox until Telegram accepted it, store the case and
//! its event, route it, look for clusters, pace messages per chat.
//!
//! On SQLite the dialogue storage is teloxide's `SqliteStorage` on the
//! scratch database file (WAL, `synchronous=FULL`, as jiefen opens it). On
//! PostgreSQL teloxide 0.17 builds its `PostgresStorage` only with native
//! TLS, so the peer uses the same two statements through teloxide's
//! `Storage` trait on a pool of the same size.

use super::{
    crowd, latency_phase, measure_floor, ms, percentile, rss_mb, FilingArgs, LatencyRun, Mode,
    ScratchDb, TelegramSide, FIRST_CHAT, STEPS, WEBHOOK_CONNECTIONS, WEBHOOK_SECRET,
};
use anyhow::{anyhow, bail, Result};
use futures::future::BoxFuture;
use jiefen::i18n::{t0, Lang};
use jiefen::storage::Backend;
use jiefen::telegram::fake_api::FakeBotApi;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use teloxide::dispatching::dialogue::{serializer::Json, ErasedStorage, SqliteStorage, Storage};
use teloxide::prelude::*;
use teloxide::types::{
    ButtonRequest, ChatId, InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton,
    KeyboardMarkup, ReplyMarkup,
};
use teloxide::update_listeners::webhooks;

/// What has been filled in so far.
#[derive(Clone, Default, Debug, Serialize, Deserialize)]
struct Draft {
    category: String,
    description: String,
    other_party: String,
    parties: u8,
    lat: f64,
    lon: f64,
    phone: String,
    at_risk: bool,
}

/// Where a chat is in the filing.
#[derive(Clone, Default, Debug, Serialize, Deserialize)]
enum State {
    #[default]
    Start,
    Consent,
    Category,
    Description(Draft),
    OtherParty(Draft),
    Parties(Draft),
    Location(Draft),
    Phone(Draft),
    Risk(Draft),
    Confirm(Draft),
    Filed,
}

type Dlg = Dialogue<State, ErasedStorage<State>>;
type HandlerResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Updates handled, and when the last one finished.
#[derive(Default)]
struct Stats {
    handled: AtomicUsize,
    last_done: Mutex<Option<Instant>>,
    cases: AtomicI64,
}

impl Stats {
    fn done(&self) {
        self.handled.fetch_add(1, Ordering::Relaxed);
        *self.last_done.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }
}

fn inline(buttons: &[(String, String)]) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(
        buttons
            .iter()
            .map(|(label, data)| vec![InlineKeyboardButton::callback(label.clone(), data.clone())]),
    )
}

const CATEGORIES: [&str; 3] = ["category-labor", "category-neighbor", "category-family"];

async fn on_message(bot: Bot, dialogue: Dlg, msg: Message, stats: Arc<Stats>) -> HandlerResult {
    let zh = Lang::ZhCn;
    let chat = msg.chat.id;
    let state = dialogue.get_or_default().await?;
    let text = msg.text().map(str::to_owned);
    let reply: (String, Option<ReplyMarkup>) = match state {
        _ if text.as_deref() == Some("/start") => {
            dialogue.update(State::Consent).await?;
            (
                t0(zh, "welcome-consent"),
                Some(inline(&[(t0(zh, "btn-agree"), "agree".into())]).into()),
            )
        }
        State::Description(mut d) if text.is_some() => {
            d.description = text.unwrap_or_default();
            dialogue.update(State::OtherParty(d)).await?;
            (
                "第 3 步：对方是谁？比如姓名、单位或和您的关系。".into(),
                None,
            )
        }
        State::OtherParty(mut d) if text.is_some() => {
            d.other_party = text.unwrap_or_default();
            dialogue.update(State::Parties(d)).await?;
            let n: Vec<(String, String)> =
                (1..=3).map(|i| (i.to_string(), format!("p:{i}"))).collect();
            (
                "第 4 步：这件事一共涉及几个人？".into(),
                Some(inline(&n).into()),
            )
        }
        State::Location(mut d) if msg.location().is_some() => {
            let at = msg.location().copied();
            d.lat = at.map(|l| l.latitude).unwrap_or_default();
            d.lon = at.map(|l| l.longitude).unwrap_or_default();
            dialogue.update(State::Phone(d)).await?;
            let keyboard = KeyboardMarkup::new(vec![vec![
                KeyboardButton::new("发送我的手机号").request(ButtonRequest::Contact)
            ]])
            .resize_keyboard()
            .one_time_keyboard();
            (
                "第 6 步：请留一个联系电话，方便调解员联系您。".into(),
                Some(keyboard.into()),
            )
        }
        State::Phone(mut d) if msg.contact().is_some() => {
            d.phone = msg
                .contact()
                .map(|c| c.phone_number.clone())
                .unwrap_or_default();
            dialogue.update(State::Risk(d)).await?;
            let buttons = inline(&[
                (t0(zh, "btn-risk-yes"), "risk:yes".into()),
                (t0(zh, "btn-risk-no"), "risk:no".into()),
            ]);
            (
                "第 7 步：现在有没有人可能受到伤害？".into(),
                Some(buttons.into()),
            )
        }
        _ => ("请按上面的提示操作。".into(), None),
    };
    // The update counts as handled once its new state is stored.
    stats.done();
    let send = bot.send_message(chat, reply.0);
    match reply.1 {
        Some(k) => send.reply_markup(k).await?,
        None => send.await?,
    };
    Ok(())
}

async fn on_callback(
    bot: Bot,
    dialogue: Dlg,
    q: CallbackQuery,
    stats: Arc<Stats>,
) -> HandlerResult {
    let zh = Lang::ZhCn;
    let chat = dialogue.chat_id();
    let state = dialogue.get_or_default().await?;
    let data = q.data.clone().unwrap_or_default();
    let reply: (String, Option<InlineKeyboardMarkup>) = match (state, data.as_str()) {
        (State::Consent, "agree") => {
            dialogue.update(State::Category).await?;
            let buttons: Vec<(String, String)> = CATEGORIES
                .iter()
                .map(|c| (t0(zh, c), format!("c:{c}")))
                .collect();
            (t0(zh, "ask-category"), Some(inline(&buttons)))
        }
        (State::Category, c) if c.starts_with("c:") => {
            let d = Draft {
                category: c.trim_start_matches("c:").to_owned(),
                ..Draft::default()
            };
            dialogue.update(State::Description(d)).await?;
            ("第 2 步：请简单说说发生了什么。".into(), None)
        }
        (State::Parties(mut d), p) if p.starts_with("p:") => {
            d.parties = p.trim_start_matches("p:").parse().unwrap_or(1);
            dialogue.update(State::Location(d)).await?;
            (
                "第 5 步：事情发生在哪里？如果您就在现场，请发送您的位置。".into(),
                None,
            )
        }
        (State::Risk(mut d), r) if r.starts_with("risk:") => {
            d.at_risk = r == "risk:yes";
            let summary = format!(
                "请核对：{}；{}；对方：{}；{} 人；电话 {}。",
                t0(zh, &d.category),
                d.description,
                d.other_party,
                d.parties,
                d.phone
            );
            dialogue.update(State::Confirm(d)).await?;
            (
                summary,
                Some(inline(&[(t0(zh, "btn-submit"), "submit".into())])),
            )
        }
        (State::Confirm(_), "submit") => {
            dialogue.update(State::Filed).await?;
            let seq = stats.cases.fetch_add(1, Ordering::Relaxed) + 1;
            let year = chrono::Utc::now().format("%Y");
            (
                format!("已收到您的纠纷，编号 620722-{year}-{seq:06}。调解员会尽快联系您。"),
                None,
            )
        }
        _ => ("这一步已经完成了。".into(), None),
    };
    stats.done();
    bot.answer_callback_query(q.id.clone()).await?;
    let send = bot.send_message(chat, reply.0);
    match reply.1 {
        Some(k) => send.reply_markup(k).await?,
        None => send.await?,
    };
    Ok(())
}

/// The dialogue table on PostgreSQL, the statements of teloxide's
/// `PostgresStorage`.
struct PgDialogues {
    pool: sqlx::PgPool,
}

impl PgDialogues {
    async fn open(url: &str, max_connections: u32) -> Result<Arc<Self>> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(max_connections)
            .connect(url)
            .await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS teloxide_dialogues (
                 chat_id BIGINT PRIMARY KEY, dialogue BYTEA NOT NULL)",
        )
        .execute(&pool)
        .await?;
        Ok(Arc::new(Self { pool }))
    }
}

#[derive(Debug, thiserror::Error)]
enum PgDialogueError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("dialogue: {0}")]
    Json(#[from] serde_json::Error),
    #[error("no such dialogue")]
    NotFound,
}

impl Storage<State> for PgDialogues {
    type Error = PgDialogueError;

    fn remove_dialogue(
        self: Arc<Self>,
        ChatId(chat_id): ChatId,
    ) -> BoxFuture<'static, Result<(), Self::Error>> {
        Box::pin(async move {
            let r = sqlx::query("DELETE FROM teloxide_dialogues WHERE chat_id = $1")
                .bind(chat_id)
                .execute(&self.pool)
                .await?;
            if r.rows_affected() == 0 {
                return Err(PgDialogueError::NotFound);
            }
            Ok(())
        })
    }

    fn update_dialogue(
        self: Arc<Self>,
        ChatId(chat_id): ChatId,
        dialogue: State,
    ) -> BoxFuture<'static, Result<(), Self::Error>> {
        Box::pin(async move {
            let d = serde_json::to_vec(&dialogue)?;
            sqlx::query(
                "INSERT INTO teloxide_dialogues VALUES ($1, $2)
                 ON CONFLICT (chat_id) DO UPDATE SET dialogue = excluded.dialogue",
            )
            .bind(chat_id)
            .bind(d)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn get_dialogue(
        self: Arc<Self>,
        ChatId(chat_id): ChatId,
    ) -> BoxFuture<'static, Result<Option<State>, Self::Error>> {
        Box::pin(async move {
            let row: Option<Vec<u8>> =
                sqlx::query_scalar("SELECT dialogue FROM teloxide_dialogues WHERE chat_id = $1")
                    .bind(chat_id)
                    .fetch_optional(&self.pool)
                    .await?;
            Ok(row.map(|d| serde_json::from_slice(&d)).transpose()?)
        })
    }
}

/// Floor, idle RSS, saturation and latency, as `filings` measures them,
/// with the peer bot in place of jiefen.
pub async fn run(db: &ScratchDb, a: &FilingArgs) -> Result<()> {
    let storage = db.open().await?;
    println!("database: {}", super::durability_settings(&storage).await?);
    println!(
        "peer: teloxide dispatcher with dialogue storage; mode: {:?}, residents: {}",
        a.mode, a.residents
    );
    let (floor, _) = measure_floor(&storage, a.floor_secs).await?;
    println!("floor: {floor:.0} single-row durable commits/s");
    let pool_size = storage.pool().options().get_max_connections();
    storage.close().await;
    let dialogues: Arc<ErasedStorage<State>> = match db.backend {
        Backend::Sqlite => {
            let path = db
                .url
                .strip_prefix("sqlite://")
                .ok_or_else(|| anyhow!("unexpected SQLite URL {}", db.url))?;
            SqliteStorage::open(path, Json)
                .await
                .map_err(|e| anyhow!("dialogue storage: {e}"))?
                .erase()
        }
        Backend::Postgres => PgDialogues::open(&db.url, pool_size).await?.erase(),
    };

    let side = TelegramSide::new()?;
    let fake = Arc::new(side.spawn(FakeBotApi::start()).await??);
    fake.set_lean(true);
    fake.set_webhook_connections(WEBHOOK_CONNECTIONS);
    let stats = Arc::new(Stats::default());
    let bot = Bot::new(fake.token()).set_api_url(fake.url());
    let handler = dptree::entry()
        .branch(
            Update::filter_message()
                .enter_dialogue::<Message, ErasedStorage<State>, State>()
                .endpoint(on_message),
        )
        .branch(
            Update::filter_callback_query()
                .enter_dialogue::<CallbackQuery, ErasedStorage<State>, State>()
                .endpoint(on_callback),
        );
    let mut dispatcher = Dispatcher::builder(bot.clone(), handler)
        .dependencies(dptree::deps![dialogues, stats.clone()])
        .default_handler(|_| async {})
        .build();
    let stop = dispatcher.shutdown_token();
    let mode = a.mode;
    let running = tokio::spawn(async move {
        match mode {
            Mode::Polling => dispatcher.dispatch().await,
            Mode::Webhook => {
                let port = super::free_port()?;
                let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
                let url = format!("http://127.0.0.1:{port}/webhook").parse()?;
                let listener = webhooks::axum(
                    bot,
                    webhooks::Options::new(addr, url).secret_token(WEBHOOK_SECRET.into()),
                )
                .await?;
                dispatcher
                    .dispatch_with_listener(
                        listener,
                        LoggingErrorHandler::with_custom_text("peer webhook"),
                    )
                    .await;
            }
        }
        Ok::<_, anyhow::Error>(())
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (idle, _) = rss_mb();
    println!("idle RSS (peer + fake started): {idle:.1} MB");

    // Saturation: everyone at once.
    let n = a.residents;
    let samples = crowd(
        side.handle(),
        &fake,
        FIRST_CHAT,
        &vec![Duration::ZERO; n],
        Duration::ZERO,
    )
    .await?;
    let handled = stats.handled.load(Ordering::Relaxed);
    let first = samples
        .iter()
        .flatten()
        .map(|s| s.delivered)
        .min()
        .ok_or_else(|| anyhow!("no update was delivered"))?;
    let last = stats
        .last_done
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .ok_or_else(|| anyhow!("no update was handled"))?;
    let span = last
        .saturating_duration_since(first)
        .as_secs_f64()
        .max(0.001);
    let rate = handled as f64 / span;
    let mut lat: Vec<Duration> = samples.iter().flatten().map(|s| s.latency).collect();
    lat.sort();
    println!(
        "saturation: {handled} updates handled in {span:.2} s: {rate:.0} updates/s = {:.2} x floor; \
         latency under saturation p50 {:.1} ms, p99 {:.1} ms",
        rate / floor,
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
    );
    if handled != n * STEPS {
        bail!("expected {} handled updates, found {handled}", n * STEPS);
    }

    let offered = a.latency_rate.unwrap_or(rate / 4.0).max(1.0);
    let LatencyRun { sorted, m } =
        latency_phase(&side, &fake, FIRST_CHAT + n as i64, offered, a).await?;
    let cases = stats.cases.load(Ordering::Relaxed);
    println!(
        "checks: {cases} cases confirmed (expected {}), {} 429s",
        n + m,
        fake.too_many_requests_count()
    );
    if let Ok(wait) = stop.shutdown() {
        wait.await;
    }
    running.await??;
    let (_, peak) = rss_mb();
    println!("peak RSS (peer + fake + residents, whole run): {peak:.1} MB");
    println!(
        "SUMMARY peer mode={:?} db={:?} floor={floor:.0}/s applied={rate:.0}/s ratio={:.2} p50={:.1}ms p99={:.1}ms idle_rss={idle:.1}MB peak_rss={peak:.1}MB",
        a.mode,
        db.backend,
        rate / floor,
        ms(percentile(&sorted, 0.5)),
        ms(percentile(&sorted, 0.99)),
    );
    if cases != (n + m) as i64 {
        bail!("not every filing was confirmed");
    }
    Ok(())
}
