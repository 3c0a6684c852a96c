//! The durable outbox: every reply and notification is a row committed with
//! the change that caused it, then sent by the Telegram sender (straight
//! after commit, or by its periodic sweep) and marked sent.
//!
//! Rows of one chat go out in id order: a row is claimable only when no
//! older row of its chat is still pending (callback answers excepted; they
//! are not chat messages and never wait, nor make others wait). A claim is a
//! lease (`claimed_by`, `claimed_until`): an instance that dies mid-send
//! leaves the row to be claimed again when the lease runs out, which makes
//! delivery at-least-once. On PostgreSQL the claim skips rows another
//! instance is claiming at that moment (`FOR UPDATE SKIP LOCKED`).

use super::{Conn, StorageError};
use crate::outgoing::{OutBody, OutMessage, MAX_TEXT_CHARS};
use sqlx::Row;

/// Where an outbox row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    /// Waiting to be sent (or being sent under a lease).
    Pending,
    /// Telegram accepted it.
    Sent,
    /// Telegram refused it (400); not retried.
    Failed,
    /// The recipient blocked the bot (403); not retried.
    Dropped,
}

impl OutboxStatus {
    fn parse(s: &str) -> Result<Self, StorageError> {
        match s {
            "pending" => Ok(Self::Pending),
            "sent" => Ok(Self::Sent),
            "failed" => Ok(Self::Failed),
            "dropped" => Ok(Self::Dropped),
            other => Err(StorageError::Corrupt(format!("outbox status {other}"))),
        }
    }
}

/// One outbox row: exactly one Bot API call.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    /// Row id (the order within a chat).
    pub id: i64,
    /// The recipient chat.
    pub chat_id: i64,
    /// The Bot API method (`sendMessage`, `editMessageText`, …).
    pub method: String,
    /// What to send.
    pub body: OutBody,
    /// The case it is about, if any.
    pub case_id: Option<i64>,
    /// Where it stands.
    pub status: OutboxStatus,
    /// Failed attempts so far.
    pub attempts: i64,
    /// When it may be sent (ms).
    pub next_attempt_at: i64,
}

/// The Bot API method a body is sent with.
pub fn method_of(body: &OutBody) -> &'static str {
    match body {
        OutBody::Text { .. } => "sendMessage",
        OutBody::EditText { .. } => "editMessageText",
        OutBody::EditKeyboard { .. } => "editMessageReplyMarkup",
        OutBody::AnswerCallback { .. } => "answerCallbackQuery",
    }
}

const COLUMNS: &str = "id, chat_id, method, payload, case_id, status, attempts, next_attempt_at";

fn row_to_outbox(r: &sqlx::any::AnyRow) -> Result<OutboxRow, StorageError> {
    let payload: String = r.try_get("payload")?;
    let status: String = r.try_get("status")?;
    Ok(OutboxRow {
        id: r.try_get("id")?,
        chat_id: r.try_get("chat_id")?,
        method: r.try_get("method")?,
        body: super::from_json_text(&payload, "outbox payload")?,
        case_id: r.try_get("case_id")?,
        status: OutboxStatus::parse(&status)?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
    })
}

/// Splits a message into what Telegram accepts: a text longer than 4096
/// characters becomes several messages cut at line breaks (never inside a
/// tag or entity), with the keyboard on the last one. Other bodies pass
/// through unchanged.
pub fn split_for_telegram(msg: &OutMessage) -> Vec<OutBody> {
    match &msg.body {
        OutBody::Text { html, keyboard } => {
            let parts = crate::telegram::html::split(html, MAX_TEXT_CHARS);
            let n = parts.len();
            if n == 0 {
                return vec![msg.body.clone()];
            }
            parts
                .into_iter()
                .enumerate()
                .map(|(i, html)| OutBody::Text {
                    html,
                    keyboard: if i + 1 == n { keyboard.clone() } else { None },
                })
                .collect()
        }
        OutBody::EditText {
            message_id,
            html,
            keyboard,
        } => {
            // An edit cannot become two messages; keep the first part and
            // say it continues rather than have Telegram refuse the edit.
            let mut parts = crate::telegram::html::split(html, MAX_TEXT_CHARS - 2);
            let html = if parts.len() > 1 {
                let mut first = parts.swap_remove(0);
                first.push_str(" …");
                first
            } else {
                html.clone()
            };
            vec![OutBody::EditText {
                message_id: *message_id,
                html,
                keyboard: keyboard.clone(),
            }]
        }
        other => vec![other.clone()],
    }
}

/// Queues a message (split as Telegram requires) in the caller's
/// transaction. Returns the new row ids, in sending order.
pub async fn enqueue(
    conn: &mut Conn,
    msg: &OutMessage,
    case_id: Option<i64>,
    now: i64,
) -> Result<Vec<i64>, StorageError> {
    let mut ids = Vec::new();
    for body in split_for_telegram(msg) {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO outbox (chat_id, method, payload, case_id, status, attempts,
                                 next_attempt_at, created_at)
             VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5) RETURNING id",
        )
        .bind(msg.chat_id)
        .bind(method_of(&body))
        .bind(super::json_text(&body))
        .bind(case_id)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| super::classify(e, "outbox message"))?;
        ids.push(id);
    }
    Ok(ids)
}

/// Queues several messages (each split as Telegram requires) in the
/// caller's transaction, with one statement per 100 rows, in order.
/// Returns how many rows were queued.
pub async fn enqueue_all(
    conn: &mut Conn,
    msgs: &[OutMessage],
    case_id: Option<i64>,
    now: i64,
) -> Result<usize, StorageError> {
    Ok(enqueue_ids(conn, msgs, case_id, now).await?.len())
}

/// Like [`enqueue_all`], returning the ids of the rows queued (one per
/// Telegram call), so the caller can claim exactly these ([`claim_ids`]).
pub async fn enqueue_ids(
    conn: &mut Conn,
    msgs: &[OutMessage],
    case_id: Option<i64>,
    now: i64,
) -> Result<Vec<i64>, StorageError> {
    let rows: Vec<(i64, &'static str, String)> = msgs
        .iter()
        .flat_map(|m| {
            split_for_telegram(m)
                .into_iter()
                .map(move |body| (m.chat_id, method_of(&body), super::json_text(&body)))
        })
        .collect();
    let mut ids = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(100) {
        // $1 is the case, $2 the time; each row binds three more.
        let values = super::value_rows(chunk.len(), 3, 2, "$1, 'pending', 0, $2, $2");
        let sql = format!(
            "INSERT INTO outbox (chat_id, method, payload, case_id, status, attempts,
                                 next_attempt_at, created_at)
             VALUES {values} RETURNING id"
        );
        let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(case_id).bind(now);
        for (chat, method, payload) in chunk {
            q = q.bind(*chat).bind(*method).bind(payload.as_str());
        }
        ids.extend(
            q.fetch_all(&mut *conn)
                .await
                .map_err(|e| super::classify(e, "outbox message"))?,
        );
    }
    Ok(ids)
}

/// What makes a row claimable besides being pending and due: not under
/// another lease, and the oldest pending message of its chat (callback
/// answers need not wait for earlier messages). Expects the claimed table
/// as `o`.
macro_rules! claimable_rest {
    () => {
        "AND (o.claimed_until IS NULL OR o.claimed_until < $3)
               AND (o.method = 'answerCallbackQuery' OR NOT EXISTS (
                   SELECT 1 FROM outbox p
                   WHERE p.chat_id = o.chat_id AND p.status = 'pending' AND p.id < o.id
                     AND p.method <> 'answerCallbackQuery'))"
    };
}

/// The rows a claim over the due range may take: pending, due, and
/// `claimable_rest!`. Read through the `(status || '', next_attempt_at)`
/// index, which only this test names (see the migration `0010_outbox_due`).
const CLAIMABLE: &str = concat!(
    "o.status || '' = 'pending' AND o.next_attempt_at <= $3 ",
    claimable_rest!()
);

/// The same test for a claim of given rows or chats, read by primary key or
/// through `(chat_id, status, id)`.
const CLAIMABLE_OF: &str = concat!(
    "o.status = 'pending' AND o.next_attempt_at <= $3 ",
    claimable_rest!()
);

/// The claim of the claimable rows whose `key` (`o.id` or `o.chat_id`) is
/// one of `n` values bound from `$4`; `$1` the instance, `$2` the lease's
/// end, `$3` now.
fn claim_of_sql(key: &str, n: usize, lock: &str) -> String {
    format!(
        "UPDATE outbox SET claimed_by = $1, claimed_until = $2, next_attempt_at = $2
         WHERE id IN (
             SELECT o.id FROM outbox o
             WHERE {key} IN ({}) AND {CLAIMABLE_OF}{lock})
         RETURNING {COLUMNS}",
        super::placeholder_list(n, 3)
    )
}

/// The claim of up to `$4` due rows; `$1` the instance, `$2` the lease's
/// end, `$3` now.
fn claim_due_sql(lock: &str) -> String {
    format!(
        "UPDATE outbox SET claimed_by = $1, claimed_until = $2, next_attempt_at = $2
         WHERE id IN (
             SELECT o.id FROM outbox o
             WHERE {CLAIMABLE}
             ORDER BY o.id LIMIT $4{lock})
         RETURNING {COLUMNS}"
    )
}

/// Which claim [`claim_statement`] gives.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum ClaimOf {
    /// Of given rows.
    Ids(usize),
    /// Of the rows of given chats.
    Chats(usize),
    /// Over the due range.
    Due,
}

/// A claim's statement, for tests of its plan: `$1` the instance, `$2` the
/// lease's end, `$3` now, then the ids or chats (or the limit).
#[doc(hidden)]
pub fn claim_statement(of: ClaimOf) -> String {
    match of {
        ClaimOf::Ids(n) => claim_of_sql("o.id", n, ""),
        ClaimOf::Chats(n) => claim_of_sql("o.chat_id", n, ""),
        ClaimOf::Due => claim_due_sql(""),
    }
}

/// Claims the claimable rows whose `key` is one of `values`, 500 values
/// a statement, oldest first.
async fn claim_of(
    conn: &mut Conn,
    instance: &str,
    now: i64,
    lease_until: i64,
    key: &str,
    values: &[i64],
    lock: &str,
) -> Result<Vec<OutboxRow>, StorageError> {
    let mut out = Vec::with_capacity(values.len());
    for chunk in values.chunks(500) {
        let sql = claim_of_sql(key, chunk.len(), lock);
        let mut q = sqlx::query(&sql).bind(instance).bind(lease_until).bind(now);
        for v in chunk {
            q = q.bind(*v);
        }
        let rows = q.fetch_all(&mut *conn).await?;
        read_claimed(conn, &rows, &mut out).await?;
    }
    out.sort_by_key(|r| r.id);
    Ok(out)
}

/// Claims those of `ids` that are claimable now (see [`claim_due`]) for
/// `instance` until `lease_until`. The applier claims the replies it has
/// just queued this way, in the same transaction: only its own rows are
/// looked at, however many other replies wait in the outbox. A reply that
/// waits behind an earlier message to its chat is left for the sender,
/// which looks again when that message is marked sent.
pub async fn claim_ids(
    conn: &mut Conn,
    instance: &str,
    now: i64,
    lease_until: i64,
    ids: &[i64],
) -> Result<Vec<OutboxRow>, StorageError> {
    claim_of(conn, instance, now, lease_until, "o.id", ids, "").await
}

/// Claims the rows of `chats` that are claimable now (see [`claim_due`]):
/// after the sender marks a chat's message sent, the chat's next message is
/// claimable, and this finds it from the chat alone, however many replies
/// to other chats wait in the outbox.
pub async fn claim_next_of_chats(
    conn: &mut Conn,
    instance: &str,
    now: i64,
    lease_until: i64,
    chats: &[i64],
) -> Result<Vec<OutboxRow>, StorageError> {
    let skip_locked = if conn.backend_name() == "PostgreSQL" {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let mut chats = chats.to_vec();
    chats.sort_unstable();
    chats.dedup();
    claim_of(
        conn,
        instance,
        now,
        lease_until,
        "o.chat_id",
        &chats,
        skip_locked,
    )
    .await
}

/// Claims up to `limit` due rows for `instance` until `lease_until`, oldest
/// first, at most the oldest pending one per chat. A claimed row's next
/// attempt moves to the end of its lease, so rows being sent drop out of
/// the due range the next claim scans (a sender that dies leaves them due
/// again when the lease runs out).
pub async fn claim_due(
    conn: &mut Conn,
    instance: &str,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<OutboxRow>, StorageError> {
    let skip_locked = if conn.backend_name() == "PostgreSQL" {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = claim_due_sql(skip_locked);
    let rows = sqlx::query(&sql)
        .bind(instance)
        .bind(lease_until)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    read_claimed(conn, &rows, &mut out).await?;
    out.sort_by_key(|r| r.id);
    Ok(out)
}

/// Reads claimed rows into `out`. A row that cannot be read would otherwise
/// be claimed again and again and hold up its chat: it is failed instead.
async fn read_claimed(
    conn: &mut Conn,
    rows: &[sqlx::any::AnyRow],
    out: &mut Vec<OutboxRow>,
) -> Result<(), StorageError> {
    for r in rows {
        match row_to_outbox(r) {
            Ok(row) => out.push(row),
            Err(StorageError::Corrupt(what)) => {
                let id: i64 = r.try_get("id")?;
                mark_failed(conn, id, &what).await?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The head of the "sent" marks, rows read by primary key.
const MARK_SENT: &str = "UPDATE outbox SET status = 'sent', sent_at = $1, claimed_by = NULL,
         claimed_until = NULL, error = NULL
     WHERE status = 'pending' AND id IN (";

/// Marks rows sent, with one statement per 500.
pub async fn mark_sent_many(conn: &mut Conn, ids: &[i64], now: i64) -> Result<(), StorageError> {
    super::execute_for_ids(conn, MARK_SENT, &[now], ids).await
}

/// Marks a row sent.
pub async fn mark_sent(conn: &mut Conn, id: i64, now: i64) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE outbox SET status = 'sent', sent_at = $2, claimed_by = NULL,
             claimed_until = NULL, error = NULL
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Releases a row to be tried again at `next_attempt_at`. `count_attempt`
/// is false for flood waits (429), which are not the message's fault.
pub async fn reschedule(
    conn: &mut Conn,
    id: i64,
    next_attempt_at: i64,
    count_attempt: bool,
    error: &str,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE outbox SET next_attempt_at = $2, attempts = attempts + $3, error = $4,
             claimed_by = NULL, claimed_until = NULL
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(next_attempt_at)
    .bind(i64::from(count_attempt))
    .bind(error)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Marks a row failed for good (Telegram refused it).
pub async fn mark_failed(conn: &mut Conn, id: i64, error: &str) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE outbox SET status = 'failed', attempts = attempts + 1, error = $2,
             claimed_by = NULL, claimed_until = NULL
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(error)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Drops every pending row for a chat that blocked the bot. Returns how
/// many rows were dropped.
pub async fn drop_pending_for_chat(
    conn: &mut Conn,
    chat_id: i64,
    error: &str,
) -> Result<u64, StorageError> {
    let r = sqlx::query(
        "UPDATE outbox SET status = 'dropped', error = $2, claimed_by = NULL, claimed_until = NULL
         WHERE chat_id = $1 AND status = 'pending'",
    )
    .bind(chat_id)
    .bind(error)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected())
}

/// Every row of a chat, oldest first.
pub async fn for_chat(conn: &mut Conn, chat_id: i64) -> Result<Vec<OutboxRow>, StorageError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE chat_id = $1 ORDER BY id"
    ))
    .bind(chat_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(row_to_outbox).collect()
}

/// How many rows are still pending.
pub async fn pending_count(conn: &mut Conn) -> Result<i64, StorageError> {
    // Through the due range's index.
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status || '' = 'pending'")
        .fetch_one(&mut *conn)
        .await?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{Storage, StorageOptions};

    /// SQLite's plan for `sql` (with `n` values bound), one line per step.
    async fn plan(storage: &Storage, sql: &str, n: usize) -> String {
        let mut c = storage.acquire().await.unwrap();
        let explain = format!("EXPLAIN QUERY PLAN {sql}");
        let mut q = sqlx::query(&explain);
        for i in 0..n {
            q = q.bind(i as i64);
        }
        let rows = q.fetch_all(&mut *c).await.unwrap();
        rows.iter()
            .map(|r| r.try_get::<String, _>("detail").unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[tokio::test]
    async fn claims_and_sent_marks_of_given_rows_read_only_those_rows() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("plan.db").display());
        let storage = Storage::connect(&url, &StorageOptions::default())
            .await
            .unwrap();
        storage.migrate().await.unwrap();
        // Claims of given rows and chats, and "sent" marks, read those rows
        // (by primary key or by chat), never every pending row through the
        // index of the due range.
        for (what, sql, n) in [
            ("claim by id", claim_of_sql("o.id", 3, ""), 6),
            ("claim by chat", claim_of_sql("o.chat_id", 3, ""), 6),
            ("sent marks", format!("{MARK_SENT}$2, $3)"), 3),
        ] {
            let p = plan(&storage, &sql, n).await;
            assert!(!p.contains("outbox_due"), "{what}:\n{p}");
        }
        storage.close().await;
    }
}
