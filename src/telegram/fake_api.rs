//! A fake Telegram Bot API server on loopback, for tests and load tools.
//!
//! It behaves like Telegram where the application's guarantees depend on it:
//! getUpdates with real offset semantics and long polling, webhook delivery
//! retried until the bot answers 200, the 4096-character and 64-byte limits,
//! HTML parsing errors, 429 with `retry_after` (injected, or from a rate-limit
//! mode enforcing 30 messages/s overall and 1/s per chat), and 403 for a chat
//! that blocked the bot. It records every call so tests can assert what a
//! person would have seen. Responses have the shapes teloxide deserializes.
//!
//! For load runs it also records when each update left for the bot and when
//! each chat's calls arrived ([`FakeBotApi::delivered_at`],
//! [`FakeBotApi::first_call_after`]), delivers webhooks over several
//! connections like Telegram's `max_connections`
//! ([`FakeBotApi::set_webhook_connections`]), and can drop its full call log
//! ([`FakeBotApi::set_lean`]) so that memory measures the application.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use jiefen::telegram::fake_api::{updates, FakeBotApi, FakeUser};
//! let fake = FakeBotApi::start().await?;
//! let user = FakeUser::new(1001, "zh-hans");
//! let mid = fake.next_message_id(user.id);
//! fake.push_update(updates::text(&user, mid, "你好"));
//! # Ok(()) }
//! ```

use crate::telegram::html;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// The fake bot's user id.
pub const BOT_ID: i64 = 7_000_000_001;
/// The fake bot's username.
pub const BOT_USERNAME: &str = "jiefen_test_bot";
/// The token the fake accepts unless another is given.
pub const DEFAULT_TOKEN: &str = "7000000001:TEST-token_for-the-fake-api";

/// Methods that put a message in a chat (what rate limits, 429 injection
/// and 403 apply to).
const CHAT_METHODS: [&str; 3] = ["sendMessage", "editMessageText", "editMessageReplyMarkup"];

/// One recorded call.
#[derive(Debug, Clone)]
pub struct Call {
    /// The Bot API method.
    pub method: String,
    /// Its parameters as JSON (form values arrive as strings).
    pub params: Value,
    /// The HTTP status the fake answered.
    pub status: u16,
    /// When it arrived.
    pub at: Instant,
}

/// A message the fake accepted from the bot.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    /// The chat it went to.
    pub chat_id: i64,
    /// The id the fake gave it.
    pub message_id: i32,
    /// The text as sent (HTML).
    pub html: String,
    /// The text a person reads (tags removed, entities decoded).
    pub text: String,
    /// The `reply_markup` as sent, if any.
    pub reply_markup: Option<Value>,
}

impl SentMessage {
    /// Callback data of every inline button, row by row.
    pub fn button_data(&self) -> Vec<String> {
        self.reply_markup
            .as_ref()
            .and_then(|m| m.get("inline_keyboard"))
            .and_then(Value::as_array)
            .map(|rows| {
                rows.iter()
                    .filter_map(Value::as_array)
                    .flatten()
                    .filter_map(|b| b.get("callback_data").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A failure the fake can be told to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeFailure {
    /// 429 Too Many Requests with `retry_after` seconds.
    TooManyRequests {
        /// Seconds to wait.
        retry_after: u32,
    },
    /// 502 Bad Gateway (Telegram's servers having a bad moment).
    ServerError,
}

/// One webhook delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAttempt {
    /// The update delivered.
    pub update_id: i64,
    /// What the bot answered (0: no answer).
    pub status: u16,
}

#[derive(Debug, Default)]
struct State_ {
    next_update_id: i64,
    queue: VecDeque<(i64, Value)>,
    highest_offset: i64,
    calls: Vec<Call>,
    next_message_id: HashMap<i64, i32>,
    bot_messages: HashMap<(i64, i32), Value>,
    sent: Vec<SentMessage>,
    failures: VecDeque<FakeFailure>,
    rate_limit: bool,
    chat_window: HashMap<i64, Instant>,
    global_window: VecDeque<Instant>,
    blocked: HashSet<i64>,
    webhook: Option<(String, Option<String>)>,
    webhook_attempts: Vec<WebhookAttempt>,
    issued_callbacks: u64,
    /// Webhook deliveries in flight at once (Telegram's `max_connections`).
    webhook_connections: usize,
    /// Update ids being delivered to the webhook now, with their chats.
    webhook_in_flight: HashMap<i64, Option<i64>>,
    /// Chats with a webhook delivery in flight.
    webhook_busy_chats: HashSet<i64>,
    /// The chat of each queued update (read once, when pushed).
    queued_chat: HashMap<i64, Option<i64>>,
    /// When each update first left for the bot (getUpdates answer or
    /// webhook POST).
    delivered_at: HashMap<i64, Instant>,
    /// Callback-query ids of pushed updates, with the chat they came from.
    callback_chats: HashMap<String, i64>,
    /// Arrival times of accepted calls (messages, edits, callback answers)
    /// per chat.
    chat_calls: HashMap<i64, Vec<Instant>>,
    /// Messages accepted per chat (kept until [`FakeBotApi::forget_chat`]).
    chat_sent: HashMap<i64, Vec<SentMessage>>,
    /// Poked when a chat gets a call.
    chat_watch: HashMap<i64, Arc<Notify>>,
    /// Lean mode: no call log and no global message list (load runs).
    lean: bool,
    too_many: usize,
    methods_seen: HashMap<String, usize>,
}

struct Shared {
    token: String,
    state: Mutex<State_>,
    updates_changed: Notify,
    webhook_retry: Duration,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State_> {
        // A panic while holding the lock is a bug in a test; keep serving.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The fake server. Dropping it stops it.
pub struct FakeBotApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for FakeBotApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeBotApi")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Drop for FakeBotApi {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl FakeBotApi {
    /// Starts a fake accepting [`DEFAULT_TOKEN`] on a free loopback port.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with_token(DEFAULT_TOKEN).await
    }

    /// Starts a fake accepting `token`. The port is bound before this
    /// returns, so requests sent right after are queued, never refused.
    pub async fn start_with_token(token: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            token: token.to_owned(),
            state: Mutex::new(State_ {
                next_update_id: 500_000_001,
                webhook_connections: 1,
                ..Default::default()
            }),
            updates_changed: Notify::new(),
            webhook_retry: Duration::from_millis(50),
        });
        let app = Router::new()
            .fallback(any(handle))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let deliverer = tokio::spawn(deliver_webhooks(shared.clone()));
        Ok(Self {
            addr,
            shared,
            tasks: vec![server, deliverer],
        })
    }

    /// The base URL to give teloxide (`Bot::set_api_url`).
    pub fn url(&self) -> url::Url {
        // A socket address always makes a valid URL.
        url::Url::parse(&format!("http://{}/", self.addr))
            .unwrap_or_else(|_| unreachable!("loopback URL"))
    }

    /// The token the fake accepts.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// Queues an update for getUpdates or webhook delivery and returns its
    /// id. An update without `update_id` (or with 0) gets the next id; one
    /// with an id keeps it, so the same update can be delivered twice.
    pub fn push_update(&self, mut update: Value) -> i64 {
        let id = {
            let mut s = self.shared.lock();
            let given = update.get("update_id").and_then(Value::as_i64).unwrap_or(0);
            let id = if given > 0 {
                given
            } else {
                let id = s.next_update_id;
                s.next_update_id += 1;
                id
            };
            if let Some(o) = update.as_object_mut() {
                o.insert("update_id".into(), json!(id));
            }
            let callback = update.get("callback_query").and_then(|c| {
                Some((
                    c.get("id")?.as_str()?.to_owned(),
                    c.get("from")?.get("id")?.as_i64()?,
                ))
            });
            if let Some((cb, chat)) = callback {
                s.callback_chats.insert(cb, chat);
            }
            s.queued_chat
                .insert(id, crate::telegram::update::chat_id(&update));
            s.queue.push_back((id, update));
            id
        };
        self.shared.updates_changed.notify_waiters();
        id
    }

    /// A fresh message id in a chat (for messages a person sends).
    pub fn next_message_id(&self, chat_id: i64) -> i32 {
        let mut s = self.shared.lock();
        let n = s.next_message_id.entry(chat_id).or_insert(0);
        *n += 1;
        *n
    }

    /// Update ids handed out but not yet confirmed by a later offset (or by
    /// a 200 from the webhook).
    pub fn unconfirmed_update_ids(&self) -> Vec<i64> {
        self.shared.lock().queue.iter().map(|(id, _)| *id).collect()
    }

    /// The highest offset any getUpdates has sent.
    pub fn highest_offset(&self) -> i64 {
        self.shared.lock().highest_offset
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    /// Every call to `method` so far.
    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        self.shared
            .lock()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// Messages accepted, in the order they arrived.
    pub fn sent_messages(&self) -> Vec<SentMessage> {
        self.shared.lock().sent.clone()
    }

    /// Messages accepted for one chat, in order.
    pub fn messages_to(&self, chat_id: i64) -> Vec<SentMessage> {
        self.messages_to_since(chat_id, 0)
    }

    /// Messages accepted for one chat from the `from`-th on (0-based), in
    /// order.
    pub fn messages_to_since(&self, chat_id: i64, from: usize) -> Vec<SentMessage> {
        self.shared
            .lock()
            .chat_sent
            .get(&chat_id)
            .map(|v| v.get(from..).unwrap_or_default().to_vec())
            .unwrap_or_default()
    }

    /// A [`Notify`] poked whenever a call for `chat_id` is accepted (a
    /// message, an edit, or the answer to one of its button presses).
    pub fn watch_chat(&self, chat_id: i64) -> Arc<Notify> {
        self.shared
            .lock()
            .chat_watch
            .entry(chat_id)
            .or_insert_with(|| Arc::new(Notify::new()))
            .clone()
    }

    /// When an update first left for the bot: returned by getUpdates, or
    /// POSTed to the webhook.
    pub fn delivered_at(&self, update_id: i64) -> Option<Instant> {
        self.shared.lock().delivered_at.get(&update_id).copied()
    }

    /// The arrival of the first accepted call for `chat_id` at or after
    /// `since` (the bot's reply to something delivered at `since`).
    pub fn first_call_after(&self, chat_id: i64, since: Instant) -> Option<Instant> {
        let s = self.shared.lock();
        let calls = s.chat_calls.get(&chat_id)?;
        let i = calls.partition_point(|t| *t < since);
        calls.get(i).copied()
    }

    /// The arrival of the latest accepted call for `chat_id`.
    pub fn last_call_at(&self, chat_id: i64) -> Option<Instant> {
        self.shared
            .lock()
            .chat_calls
            .get(&chat_id)
            .and_then(|v| v.last().copied())
    }

    /// Drops what the fake remembers about a chat (its messages, call times
    /// and watcher), so long load runs do not grow without bound.
    pub fn forget_chat(&self, chat_id: i64) {
        let mut s = self.shared.lock();
        s.chat_sent.remove(&chat_id);
        s.chat_calls.remove(&chat_id);
        s.chat_watch.remove(&chat_id);
    }

    /// Lean mode for load runs: no call log and no global message list
    /// ([`calls`](Self::calls) and [`sent_messages`](Self::sent_messages)
    /// stay empty); counters, per-chat messages and times are kept.
    pub fn set_lean(&self, on: bool) {
        self.shared.lock().lean = on;
    }

    /// Deliver up to `n` webhook updates at once, as Telegram does with
    /// `max_connections` (default here: 1). Updates of one chat are still
    /// delivered one after another, in order.
    pub fn set_webhook_connections(&self, n: usize) {
        self.shared.lock().webhook_connections = n.max(1);
        self.shared.updates_changed.notify_waiters();
    }

    /// How many calls to `method` were answered 200.
    pub fn ok_count(&self, method: &str) -> usize {
        self.shared
            .lock()
            .methods_seen
            .get(method)
            .copied()
            .unwrap_or(0)
    }

    /// The next `n` chat-message calls fail with `failure`.
    pub fn fail_next(&self, n: usize, failure: FakeFailure) {
        let mut s = self.shared.lock();
        s.failures.extend(std::iter::repeat_n(failure, n));
    }

    /// Enforces Telegram's limits: more than 30 messages in one second, or
    /// two to one chat within a second, get 429.
    pub fn set_rate_limit(&self, on: bool) {
        self.shared.lock().rate_limit = on;
    }

    /// The person in `chat_id` blocks the bot: messages to it get 403.
    pub fn block(&self, chat_id: i64) {
        self.shared.lock().blocked.insert(chat_id);
    }

    /// The current webhook URL and secret, if one is set.
    pub fn webhook(&self) -> Option<(String, Option<String>)> {
        self.shared.lock().webhook.clone()
    }

    /// Webhook deliveries attempted so far.
    pub fn webhook_attempts(&self) -> Vec<WebhookAttempt> {
        self.shared.lock().webhook_attempts.clone()
    }

    /// How many 429 answers the fake has given.
    pub fn too_many_requests_count(&self) -> usize {
        self.shared.lock().too_many
    }

    /// A callback-query id as Telegram would issue one.
    pub fn next_callback_id(&self) -> String {
        let mut s = self.shared.lock();
        s.issued_callbacks += 1;
        format!("{}{:08}", BOT_ID, s.issued_callbacks)
    }
}

/// Builders for realistic update JSON (without `update_id`; the fake
/// assigns it in [`FakeBotApi::push_update`]).
pub mod updates {
    use super::{FakeUser, SentMessage, BOT_ID, BOT_USERNAME};
    use serde_json::{json, Value};

    const DATE: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

    fn private_chat(u: &FakeUser) -> Value {
        json!({"id": u.id, "type": "private", "first_name": u.first_name})
    }

    fn message(u: &FakeUser, message_id: i32, extra: Value) -> Value {
        let mut m = json!({
            "message_id": message_id,
            "date": DATE,
            "chat": private_chat(u),
            "from": u.json(),
        });
        merge(&mut m, extra);
        m
    }

    fn merge(m: &mut Value, extra: Value) {
        if let (Some(m), Value::Object(e)) = (m.as_object_mut(), extra) {
            m.extend(e);
        }
    }

    /// A private text message.
    pub fn text(u: &FakeUser, message_id: i32, text: &str) -> Value {
        json!({"message": message(u, message_id, json!({"text": text}))})
    }

    /// A command such as `/start abc` or `/mycases@bot`, marked as a
    /// bot_command entity as Telegram does.
    pub fn command(u: &FakeUser, message_id: i32, text: &str) -> Value {
        let len = text
            .split_whitespace()
            .next()
            .map(|c| c.encode_utf16().count())
            .unwrap_or(0);
        json!({"message": message(u, message_id, json!({
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len}]
        }))})
    }

    /// Pressing the inline button with `data` on a message the bot sent.
    pub fn callback(u: &FakeUser, callback_id: &str, on: &SentMessage, data: &str) -> Value {
        let mut bot_msg = json!({
            "message_id": on.message_id,
            "date": DATE,
            "chat": private_chat(u),
            "from": {"id": BOT_ID, "is_bot": true, "first_name": "解纷", "username": BOT_USERNAME},
            "text": on.text,
        });
        if let Some(m) = &on.reply_markup {
            if m.get("inline_keyboard").is_some() {
                super::updates::merge(&mut bot_msg, json!({"reply_markup": m}));
            }
        }
        json!({"callback_query": {
            "id": callback_id,
            "from": u.json(),
            "message": bot_msg,
            "chat_instance": format!("ci{}", u.id),
            "data": data,
        }})
    }

    /// A shared location.
    pub fn location(u: &FakeUser, message_id: i32, lat: f64, lon: f64) -> Value {
        json!({"message": message(u, message_id, json!({
            "location": {"latitude": lat, "longitude": lon}
        }))})
    }

    /// A shared contact (the person's own when `own` is true).
    pub fn contact(u: &FakeUser, message_id: i32, phone: &str, own: bool) -> Value {
        let uid = if own { u.id } else { u.id + 1 };
        json!({"message": message(u, message_id, json!({
            "contact": {"phone_number": phone, "first_name": u.first_name, "user_id": uid}
        }))})
    }

    /// A photo in three sizes, with a caption.
    pub fn photo(u: &FakeUser, message_id: i32, caption: Option<&str>) -> Value {
        let sizes: Vec<Value> = [(90, 67), (320, 240), (1280, 960)]
            .iter()
            .enumerate()
            .map(|(i, (w, h))| {
                json!({"file_id": format!("ph{message_id}_{i}"), "file_unique_id": format!("uph{message_id}_{i}"),
                       "width": w, "height": h, "file_size": w * h / 4})
            })
            .collect();
        let mut extra = json!({"photo": sizes});
        if let Some(c) = caption {
            merge(&mut extra, json!({"caption": c}));
        }
        json!({"message": message(u, message_id, extra)})
    }

    /// A document.
    pub fn document(u: &FakeUser, message_id: i32, file_name: &str) -> Value {
        json!({"message": message(u, message_id, json!({"document": {
            "file_id": format!("doc{message_id}"), "file_unique_id": format!("udoc{message_id}"),
            "file_name": file_name, "mime_type": "application/pdf", "file_size": 12345
        }}))})
    }

    /// A voice note.
    pub fn voice(u: &FakeUser, message_id: i32, seconds: u32) -> Value {
        json!({"message": message(u, message_id, json!({"voice": {
            "file_id": format!("voice{message_id}"), "file_unique_id": format!("uvoice{message_id}"),
            "duration": seconds, "mime_type": "audio/ogg", "file_size": 4000
        }}))})
    }

    /// A sticker.
    pub fn sticker(u: &FakeUser, message_id: i32) -> Value {
        json!({"message": message(u, message_id, json!({"sticker": {
            "file_id": "stk", "file_unique_id": "ustk", "type": "regular",
            "width": 512, "height": 512, "is_animated": false, "is_video": false, "emoji": "👍"
        }}))})
    }

    /// An earlier text message, edited.
    pub fn edited_text(u: &FakeUser, message_id: i32, text: &str) -> Value {
        let mut m = message(u, message_id, json!({"text": text}));
        merge(&mut m, json!({"edit_date": DATE + 60}));
        json!({"edited_message": m})
    }

    /// A text message in a group the bot is in.
    pub fn group_text(u: &FakeUser, group_id: i64, message_id: i32, text: &str) -> Value {
        let mut m = message(u, message_id, json!({"text": text}));
        merge(
            &mut m,
            json!({"chat": {"id": group_id, "type": "supergroup", "title": "村民群"}}),
        );
        json!({"message": m})
    }

    /// The person blocked (`true`) or unblocked the bot.
    pub fn blocked(u: &FakeUser, blocked: bool) -> Value {
        let (old, new) = if blocked {
            ("member", "kicked")
        } else {
            ("kicked", "member")
        };
        let bot =
            json!({"id": BOT_ID, "is_bot": true, "first_name": "解纷", "username": BOT_USERNAME});
        json!({"my_chat_member": {
            "chat": private_chat(u), "from": u.json(), "date": DATE,
            "old_chat_member": {"status": old, "user": bot},
            "new_chat_member": {"status": new, "user": bot, "until_date": 0}
        }})
    }
}

/// A person talking to the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    /// User id, also the id of their private chat with the bot.
    pub id: i64,
    /// First name.
    pub first_name: String,
    /// Telegram's language code (`zh-hans`, `en`, …).
    pub language_code: Option<String>,
}

impl FakeUser {
    /// A user with a language code.
    pub fn new(id: i64, language_code: &str) -> Self {
        Self {
            id,
            first_name: format!("用户{id}"),
            language_code: Some(language_code.to_owned()),
        }
    }

    fn json(&self) -> Value {
        let mut v = json!({"id": self.id, "is_bot": false, "first_name": self.first_name});
        if let (Some(o), Some(l)) = (v.as_object_mut(), &self.language_code) {
            o.insert("language_code".into(), json!(l));
        }
        v
    }
}

fn ok(result: Value) -> Response {
    (StatusCode::OK, Json(json!({"ok": true, "result": result}))).into_response()
}

fn err(code: u16, description: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        Json(json!({"ok": false, "error_code": code, "description": description})),
    )
        .into_response()
}

fn too_many(retry_after: u32) -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        Json(json!({
            "ok": false, "error_code": 429,
            "description": format!("Too Many Requests: retry after {retry_after}"),
            "parameters": {"retry_after": retry_after}
        })),
    )
        .into_response()
}

/// Parameters from a JSON body, a form body, or the query string.
fn parse_params(headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Result<Value, String> {
    let mut params = Map::new();
    if let Some(q) = query {
        for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
            params.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    let ctype = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !body.is_empty() {
        if ctype.starts_with("application/json") {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(o)) => params.extend(o),
                Ok(_) | Err(_) => return Err("Bad Request: invalid JSON body".into()),
            }
        } else if ctype.starts_with("application/x-www-form-urlencoded") {
            for (k, v) in url::form_urlencoded::parse(body) {
                params.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        } else if ctype.starts_with("multipart/form-data") {
            // teloxide sends methods that could carry a file (setWebhook's
            // certificate) as multipart even without one.
            let boundary = ctype
                .split(';')
                .filter_map(|p| p.trim().strip_prefix("boundary="))
                .next()
                .map(|b| b.trim_matches('"').to_owned())
                .ok_or("Bad Request: multipart without boundary")?;
            for (k, v) in parse_multipart(body, &boundary) {
                params.insert(k, Value::String(v));
            }
        }
    }
    Ok(Value::Object(params))
}

/// Text fields of a multipart body (file parts are recorded by name only).
fn parse_multipart(body: &[u8], boundary: &str) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    let delimiter = format!("--{boundary}");
    let mut out = Vec::new();
    for part in text.split(delimiter.as_str()) {
        let part = part.strip_prefix("\r\n").unwrap_or(part);
        if part.starts_with("--") || part.trim().is_empty() {
            continue;
        }
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("name="))
            .next()
            .map(|n| {
                n.split("\r\n")
                    .next()
                    .unwrap_or(n)
                    .trim_matches('"')
                    .to_owned()
            })
        else {
            continue;
        };
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        if head.contains("filename=") {
            out.push((name, "<file>".to_owned()));
        } else {
            out.push((name, value.to_owned()));
        }
    }
    out
}

fn int_param(p: &Value, k: &str) -> Option<i64> {
    match p.get(k)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn str_param<'a>(p: &'a Value, k: &str) -> Option<&'a str> {
    p.get(k)?.as_str()
}

fn bool_param(p: &Value, k: &str) -> bool {
    match p.get(k) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

/// `reply_markup` as JSON whether it came as an object or a JSON string.
fn markup_param(p: &Value) -> Result<Option<Value>, String> {
    match p.get("reply_markup") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s)
            .map(Some)
            .map_err(|_| "Bad Request: can't parse reply keyboard markup JSON object".to_owned()),
        Some(v) => Ok(Some(v.clone())),
    }
}

fn check_markup(m: &Option<Value>) -> Result<(), String> {
    let Some(rows) = m
        .as_ref()
        .and_then(|m| m.get("inline_keyboard"))
        .and_then(Value::as_array)
    else {
        return Ok(());
    };
    for b in rows.iter().filter_map(Value::as_array).flatten() {
        if let Some(d) = b.get("callback_data").and_then(Value::as_str) {
            if d.is_empty() || d.len() > crate::outgoing::MAX_CALLBACK_BYTES {
                return Err("Bad Request: BUTTON_DATA_INVALID".into());
            }
        }
    }
    Ok(())
}

/// Checks a text as Telegram does; returns what a reader sees.
fn check_text(p: &Value) -> Result<String, String> {
    let text = str_param(p, "text").unwrap_or("");
    let html_mode = str_param(p, "parse_mode").is_some_and(|m| m.eq_ignore_ascii_case("html"));
    let (visible, len) = if html_mode {
        let tokens = html::tokenize(text)
            .map_err(|e| format!("Bad Request: can't parse entities: {}", e.0))?;
        (html::visible_text(&tokens), html::visible_len(&tokens))
    } else {
        (text.to_owned(), text.encode_utf16().count())
    };
    if visible.trim().is_empty() {
        return Err("Bad Request: message text is empty".into());
    }
    if len > crate::outgoing::MAX_TEXT_CHARS {
        return Err("Bad Request: message is too long".into());
    }
    Ok(visible)
}

fn chat_json(chat_id: i64) -> Value {
    if chat_id < 0 {
        json!({"id": chat_id, "type": "supergroup", "title": "群"})
    } else {
        json!({"id": chat_id, "type": "private", "first_name": format!("用户{chat_id}")})
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Methods the fake knows, in Telegram's spelling (Telegram matches method
/// names case-insensitively, and teloxide sends `SendMessage`).
const METHODS: [&str; 12] = [
    "getMe",
    "getUpdates",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "setMyCommands",
    "deleteMyCommands",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "logOut",
];

fn canonical_method(m: &str) -> String {
    METHODS
        .iter()
        .find(|k| k.eq_ignore_ascii_case(m))
        .map(|k| (*k).to_owned())
        .unwrap_or_else(|| m.to_owned())
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // `/bot<token>/<method>`; tolerate a doubled slash from a base URL
    // that ends in one.
    let path = percent_decode(uri.path());
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let bot = segments.next().unwrap_or("").to_owned();
    let method = canonical_method(segments.next().unwrap_or(""));
    let params = match parse_params(&headers, query.as_deref(), &body) {
        Ok(p) => p,
        Err(e) => return err(400, &e),
    };
    let token_ok = bot
        .strip_prefix("bot")
        .is_some_and(|t| crate::secrets::constant_time_eq(t.as_bytes(), shared.token.as_bytes()));
    let response = if !token_ok {
        err(401, "Unauthorized")
    } else if method == "getUpdates" {
        get_updates(&shared, &params).await
    } else {
        let mut s = shared.lock();
        dispatch(&shared, &mut s, &method, &params)
    };
    let at = Instant::now();
    let status = response.status().as_u16();
    let mut s = shared.lock();
    if status == 429 {
        s.too_many += 1;
    }
    if status == 200 {
        *s.methods_seen.entry(method.clone()).or_insert(0) += 1;
        let chat = if method == "answerCallbackQuery" {
            str_param(&params, "callback_query_id").and_then(|c| s.callback_chats.get(c).copied())
        } else if CHAT_METHODS.contains(&method.as_str()) {
            int_param(&params, "chat_id")
        } else {
            None
        };
        if let Some(chat) = chat {
            s.chat_calls.entry(chat).or_default().push(at);
            if let Some(w) = s.chat_watch.get(&chat) {
                w.notify_one();
            }
        }
    }
    if !s.lean {
        s.calls.push(Call {
            method,
            params,
            status,
            at,
        });
    }
    response
}

fn dispatch(shared: &Shared, s: &mut State_, method: &str, p: &Value) -> Response {
    if CHAT_METHODS.contains(&method) {
        if let Some(f) = s.failures.pop_front() {
            return match f {
                FakeFailure::TooManyRequests { retry_after } => too_many(retry_after),
                FakeFailure::ServerError => err(502, "Bad Gateway"),
            };
        }
        let Some(chat_id) = int_param(p, "chat_id") else {
            return err(400, "Bad Request: chat not found");
        };
        if s.blocked.contains(&chat_id) {
            return err(403, "Forbidden: bot was blocked by the user");
        }
        if s.rate_limit {
            let now = Instant::now();
            let second = Duration::from_secs(1);
            while s
                .global_window
                .front()
                .is_some_and(|t| now.duration_since(*t) >= second)
            {
                s.global_window.pop_front();
            }
            let chat_busy = s
                .chat_window
                .get(&chat_id)
                .is_some_and(|t| now.duration_since(*t) < second);
            if chat_busy || s.global_window.len() >= 30 {
                return too_many(1);
            }
            s.global_window.push_back(now);
            s.chat_window.insert(chat_id, now);
        }
    }
    match method {
        "getMe" => ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": "解纷", "username": BOT_USERNAME,
            "can_join_groups": true, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "can_connect_to_business": false,
            "has_main_web_app": false
        })),
        "sendMessage" => send_message(s, p),
        "editMessageText" | "editMessageReplyMarkup" => edit_message(s, method, p),
        "answerCallbackQuery" => {
            if str_param(p, "callback_query_id").is_none_or(str::is_empty) {
                return err(400, "Bad Request: query is too old and response timeout expired or query ID is invalid");
            }
            if str_param(p, "text").is_some_and(|t| t.chars().count() > 200) {
                return err(400, "Bad Request: MESSAGE_TOO_LONG");
            }
            ok(json!(true))
        }
        "setMyCommands" | "deleteMyCommands" => ok(json!(true)),
        "setWebhook" => {
            let url = str_param(p, "url").unwrap_or("").to_owned();
            if url.is_empty() {
                s.webhook = None;
                return ok(json!(true));
            }
            if url::Url::parse(&url).is_err() {
                return err(400, "Bad Request: bad webhook: Failed to resolve host");
            }
            s.webhook = Some((url, str_param(p, "secret_token").map(str::to_owned)));
            if bool_param(p, "drop_pending_updates") {
                s.queue.clear();
            }
            shared.updates_changed.notify_waiters();
            ok(json!(true))
        }
        "deleteWebhook" => {
            s.webhook = None;
            if bool_param(p, "drop_pending_updates") {
                s.queue.clear();
            }
            ok(json!(true))
        }
        "getWebhookInfo" => ok(json!({
            "url": s.webhook.as_ref().map(|w| w.0.clone()).unwrap_or_default(),
            "has_custom_certificate": false,
            "pending_update_count": s.queue.len(),
        })),
        _ => err(404, "Not Found"),
    }
}

fn send_message(s: &mut State_, p: &Value) -> Response {
    let chat_id = int_param(p, "chat_id").unwrap_or(0);
    let markup = match markup_param(p) {
        Ok(m) => m,
        Err(e) => return err(400, &e),
    };
    if let Err(e) = check_markup(&markup) {
        return err(400, &e);
    }
    let visible = match check_text(p) {
        Ok(v) => v,
        Err(e) => return err(400, &e),
    };
    let message_id = {
        let n = s.next_message_id.entry(chat_id).or_insert(0);
        *n += 1;
        *n
    };
    let mut msg = json!({
        "message_id": message_id,
        "date": now_secs(),
        "chat": chat_json(chat_id),
        "from": {"id": BOT_ID, "is_bot": true, "first_name": "解纷", "username": BOT_USERNAME},
        "text": visible,
    });
    let inline = markup
        .clone()
        .filter(|m| m.get("inline_keyboard").is_some());
    if let (Some(o), Some(m)) = (msg.as_object_mut(), &inline) {
        o.insert("reply_markup".into(), m.clone());
    }
    s.bot_messages.insert((chat_id, message_id), msg.clone());
    let sent = SentMessage {
        chat_id,
        message_id,
        html: str_param(p, "text").unwrap_or("").to_owned(),
        text: visible,
        reply_markup: markup,
    };
    if !s.lean {
        s.sent.push(sent.clone());
    }
    s.chat_sent.entry(chat_id).or_default().push(sent);
    ok(msg)
}

fn edit_message(s: &mut State_, method: &str, p: &Value) -> Response {
    let chat_id = int_param(p, "chat_id").unwrap_or(0);
    let Some(message_id) = int_param(p, "message_id").and_then(|m| i32::try_from(m).ok()) else {
        return err(400, "Bad Request: message identifier is not specified");
    };
    let markup = match markup_param(p) {
        Ok(m) => m,
        Err(e) => return err(400, &e),
    };
    if let Err(e) = check_markup(&markup) {
        return err(400, &e);
    }
    let Some(existing) = s.bot_messages.get(&(chat_id, message_id)).cloned() else {
        return err(400, "Bad Request: message to edit not found");
    };
    let text = if method == "editMessageText" {
        match check_text(p) {
            Ok(v) => v,
            Err(e) => return err(400, &e),
        }
    } else {
        existing["text"].as_str().unwrap_or("").to_owned()
    };
    let old_markup = existing.get("reply_markup").cloned();
    if existing["text"].as_str() == Some(text.as_str()) && old_markup == markup {
        return err(
            400,
            "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
        );
    }
    let mut msg = existing;
    if let Some(o) = msg.as_object_mut() {
        o.insert("text".into(), json!(text));
        o.insert("edit_date".into(), json!(now_secs()));
        match &markup {
            Some(m) => o.insert("reply_markup".into(), m.clone()),
            None => o.remove("reply_markup"),
        };
    }
    s.bot_messages.insert((chat_id, message_id), msg.clone());
    ok(msg)
}

async fn get_updates(shared: &Shared, p: &Value) -> Response {
    let offset = int_param(p, "offset").unwrap_or(0);
    let limit = int_param(p, "limit").unwrap_or(100).clamp(1, 100) as usize;
    let timeout = int_param(p, "timeout").unwrap_or(0).clamp(0, 50) as u64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    loop {
        // Register interest before looking, so a push in between is not missed.
        let changed = shared.updates_changed.notified();
        {
            let mut s = shared.lock();
            if s.webhook.is_some() {
                return err(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
            }
            if offset > 0 {
                // Confirmation: everything below the offset is gone for good.
                s.queue.retain(|(id, _)| *id >= offset);
                s.highest_offset = s.highest_offset.max(offset);
            } else if offset < 0 {
                let keep = usize::try_from(-offset).unwrap_or(0);
                while s.queue.len() > keep {
                    s.queue.pop_front();
                }
            }
            let batch: Vec<Value> = s.queue.iter().take(limit).map(|(_, u)| u.clone()).collect();
            let now = Instant::now();
            let ids: Vec<i64> = s.queue.iter().take(limit).map(|(id, _)| *id).collect();
            for id in ids {
                s.delivered_at.entry(id).or_insert(now);
            }
            if !batch.is_empty() || timeout == 0 {
                return ok(Value::Array(batch));
            }
        }
        if tokio::time::timeout_at(deadline, changed).await.is_err() {
            return ok(json!([]));
        }
    }
}

/// Delivers queued updates to the webhook, retrying each until the bot
/// answers 200, as Telegram does: one at a time in order by default, or up
/// to `webhook_connections` at once, never two of one chat at once (so one
/// chat's updates still arrive in order).
async fn deliver_webhooks(shared: Arc<Shared>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    let mut deliveries = tokio::task::JoinSet::new();
    loop {
        let changed = shared.updates_changed.notified();
        let next = {
            let mut s = shared.lock();
            let mut pick = None;
            if let Some((url, secret)) = s.webhook.clone() {
                if s.webhook_in_flight.len() < s.webhook_connections {
                    let mut chats_ahead: HashSet<i64> = HashSet::new();
                    for (id, u) in &s.queue {
                        let chat = s.queued_chat.get(id).copied().flatten();
                        let busy = s.webhook_in_flight.contains_key(id)
                            || chat.is_some_and(|c| s.webhook_busy_chats.contains(&c));
                        // A chat's later update waits behind its earlier one.
                        let blocked = chat.is_some_and(|c| chats_ahead.contains(&c));
                        if !busy && !blocked {
                            pick = Some((url.clone(), secret.clone(), *id, chat, u.clone()));
                            break;
                        }
                        if let Some(c) = chat {
                            chats_ahead.insert(c);
                        }
                        // With one connection only the front is ever tried.
                        if s.webhook_connections == 1 {
                            break;
                        }
                    }
                }
            }
            if let Some((_, _, id, chat, _)) = &pick {
                s.webhook_in_flight.insert(*id, *chat);
                if let Some(c) = chat {
                    s.webhook_busy_chats.insert(*c);
                }
                s.delivered_at.entry(*id).or_insert_with(Instant::now);
            }
            pick
        };
        let Some((url, secret, id, _chat, update)) = next else {
            tokio::select! {
                _ = changed => {}
                Some(_) = deliveries.join_next(), if !deliveries.is_empty() => {}
            }
            continue;
        };
        let client = client.clone();
        let sh = shared.clone();
        deliveries.spawn(async move {
            let mut req = client.post(&url).json(&update);
            if let Some(secret) = &secret {
                req = req.header("X-Telegram-Bot-Api-Secret-Token", secret);
            }
            let status = match req.send().await {
                Ok(r) => r.status().as_u16(),
                Err(_) => 0,
            };
            if status != 200 {
                tokio::time::sleep(sh.webhook_retry).await;
            }
            let mut s = sh.lock();
            if let Some(Some(c)) = s.webhook_in_flight.remove(&id) {
                s.webhook_busy_chats.remove(&c);
            }
            s.webhook_attempts.push(WebhookAttempt {
                update_id: id,
                status,
            });
            if status == 200 {
                // Remove exactly the entry delivered (a duplicate pushed on
                // purpose stays queued and is delivered again).
                if let Some(i) = s.queue.iter().position(|(qid, _)| *qid == id) {
                    s.queue.remove(i);
                }
                if !s.queue.iter().any(|(qid, _)| *qid == id) {
                    s.queued_chat.remove(&id);
                }
            }
            drop(s);
            sh.updates_changed.notify_waiters();
        });
    }
}
