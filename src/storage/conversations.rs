//! Dialogue state per chat (JSON, versioned for optimistic concurrency) and
//! per-user flood counters.

use super::{Conn, StorageError};
use sqlx::Row;

/// A chat's stored dialogue.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDialogue {
    /// The state as JSON text.
    pub state: String,
    /// Bumped by every save; a save names the version it read.
    pub version: i64,
}

/// The stored dialogue of a chat.
pub async fn load(conn: &mut Conn, chat_id: i64) -> Result<Option<StoredDialogue>, StorageError> {
    let row = sqlx::query("SELECT state, version FROM conversations WHERE chat_id = $1")
        .bind(chat_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(r) => Some(StoredDialogue {
            state: r.try_get("state")?,
            version: r.try_get("version")?,
        }),
        None => None,
    })
}

/// The stored dialogues of these chats (those that have one), in one
/// statement.
pub async fn load_many(
    conn: &mut Conn,
    chats: &[i64],
) -> Result<Vec<(i64, StoredDialogue)>, StorageError> {
    let head = "SELECT chat_id, state, version FROM conversations WHERE chat_id IN (";
    let mut out = Vec::new();
    for r in super::fetch_for_ids(conn, head, chats).await? {
        out.push((
            r.try_get("chat_id")?,
            StoredDialogue {
                state: r.try_get("state")?,
                version: r.try_get("version")?,
            },
        ));
    }
    Ok(out)
}

/// Saves a chat's dialogue. `read_version` is the version [`load`] returned
/// (`None` when there was no row); when someone else saved in between, the
/// save is refused with [`StorageError::Stale`] and the caller's transaction
/// must roll back and retry. Returns the new version.
pub async fn save(
    conn: &mut Conn,
    chat_id: i64,
    state: &str,
    read_version: Option<i64>,
    now: i64,
) -> Result<i64, StorageError> {
    let stale = || StorageError::Stale(format!("conversation {chat_id}"));
    match read_version {
        Some(v) => {
            let done = sqlx::query(
                "UPDATE conversations SET state = $1, version = version + 1, updated_at = $2
                 WHERE chat_id = $3 AND version = $4",
            )
            .bind(state)
            .bind(now)
            .bind(chat_id)
            .bind(v)
            .execute(&mut *conn)
            .await?;
            if done.rows_affected() == 1 {
                Ok(v + 1)
            } else {
                Err(stale())
            }
        }
        None => {
            let done = sqlx::query(
                "INSERT INTO conversations (chat_id, state, version, updated_at)
                 VALUES ($1, $2, 1, $3) ON CONFLICT (chat_id) DO NOTHING",
            )
            .bind(chat_id)
            .bind(state)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            if done.rows_affected() == 1 {
                Ok(1)
            } else {
                Err(stale())
            }
        }
    }
}

/// A dialogue save held back so a batch writes all of its chats' saves
/// together (see [`Tx::defer_dialogue_saves`](super::Tx::defer_dialogue_saves)).
#[derive(Debug, Clone, PartialEq)]
pub struct DeferredSave {
    /// The chat whose dialogue this is.
    pub chat_id: i64,
    /// The new state as JSON text.
    pub state: String,
    /// The version the state was read at (`None`: the chat had none).
    pub read_version: Option<i64>,
    /// When it was saved.
    pub now: i64,
}

/// Writes held-back saves as [`save`] would one by one, in at most two
/// statements per 200 saves: one update of the chats that had a dialogue
/// (each row only at the version it was read at) and one insert of the
/// chats that had none. Refused with [`StorageError::Stale`] when any of
/// them was saved by someone else in between; the caller rolls back.
pub async fn save_many(conn: &mut Conn, saves: &[DeferredSave]) -> Result<(), StorageError> {
    let stale = |n: usize| {
        let chats: Vec<String> = saves.iter().map(|s| s.chat_id.to_string()).collect();
        StorageError::Stale(format!(
            "conversation of {n} of the chats {}",
            chats.join(", ")
        ))
    };
    let (updates, inserts): (Vec<&DeferredSave>, Vec<&DeferredSave>) =
        saves.iter().partition(|s| s.read_version.is_some());
    for chunk in updates.chunks(200) {
        let sql = format!(
            "UPDATE conversations SET state = v.column2, version = conversations.version + 1,
               updated_at = v.column3
             FROM (VALUES {}) AS v
             WHERE conversations.chat_id = v.column1 AND conversations.version = v.column4",
            super::value_rows(chunk.len(), 4, 0, "")
        );
        let mut q = sqlx::query(&sql);
        for s in chunk {
            q = q
                .bind(s.chat_id)
                .bind(s.state.as_str())
                .bind(s.now)
                .bind(s.read_version.unwrap_or_default());
        }
        let done = q.execute(&mut *conn).await?;
        let missed = chunk.len() as u64 - done.rows_affected().min(chunk.len() as u64);
        if missed > 0 {
            return Err(stale(missed as usize));
        }
    }
    for chunk in inserts.chunks(200) {
        let sql = format!(
            "INSERT INTO conversations (chat_id, state, updated_at, version) VALUES {}
             ON CONFLICT (chat_id) DO NOTHING",
            super::value_rows(chunk.len(), 3, 0, "1")
        );
        let mut q = sqlx::query(&sql);
        for s in chunk {
            q = q.bind(s.chat_id).bind(s.state.as_str()).bind(s.now);
        }
        let done = q.execute(&mut *conn).await?;
        let missed = chunk.len() as u64 - done.rows_affected().min(chunk.len() as u64);
        if missed > 0 {
            return Err(stale(missed as usize));
        }
    }
    Ok(())
}

/// What a flood counter says after counting one more event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloodCount {
    /// Events in the current window, this one included.
    pub hits: i64,
    /// Whether the throttle notice was already sent in this window.
    pub notified: bool,
}

/// Counts one event of `user_id` in a fixed window of `window_ms` and
/// returns the count so far. One statement, so concurrent instances count
/// correctly.
pub async fn flood_hit(
    conn: &mut Conn,
    user_id: i64,
    now: i64,
    window_ms: i64,
) -> Result<FloodCount, StorageError> {
    let row = sqlx::query(
        "INSERT INTO flood_counters (user_id, window_start, hits, notified) VALUES ($1, $2, 1, 0)
         ON CONFLICT (user_id) DO UPDATE SET
           hits = CASE WHEN excluded.window_start - flood_counters.window_start >= $3
                       THEN 1 ELSE flood_counters.hits + 1 END,
           notified = CASE WHEN excluded.window_start - flood_counters.window_start >= $3
                       THEN 0 ELSE flood_counters.notified END,
           window_start = CASE WHEN excluded.window_start - flood_counters.window_start >= $3
                       THEN excluded.window_start ELSE flood_counters.window_start END
         RETURNING hits, notified",
    )
    .bind(user_id)
    .bind(now)
    .bind(window_ms)
    .fetch_one(&mut *conn)
    .await?;
    Ok(FloodCount {
        hits: row.try_get("hits")?,
        notified: row.try_get::<i64, _>("notified")? != 0,
    })
}

/// Counts `n` events for each `(user_id, n)` (distinct users) in one
/// statement per 500 users, as [`flood_hit`] would one by one, and returns
/// each user's count after all of them.
pub async fn flood_hit_many(
    conn: &mut Conn,
    users: &[(i64, i64)],
    now: i64,
    window_ms: i64,
) -> Result<Vec<(i64, FloodCount)>, StorageError> {
    let mut out = Vec::with_capacity(users.len());
    for chunk in users.chunks(500) {
        let sql = format!(
            "INSERT INTO flood_counters (user_id, hits, window_start, notified) VALUES {}
             ON CONFLICT (user_id) DO UPDATE SET
               hits = CASE WHEN excluded.window_start - flood_counters.window_start >= $2
                           THEN excluded.hits ELSE flood_counters.hits + excluded.hits END,
               notified = CASE WHEN excluded.window_start - flood_counters.window_start >= $2
                           THEN 0 ELSE flood_counters.notified END,
               window_start = CASE WHEN excluded.window_start - flood_counters.window_start >= $2
                           THEN excluded.window_start ELSE flood_counters.window_start END
             RETURNING user_id, hits, notified",
            super::value_rows(chunk.len(), 2, 2, "$1, 0")
        );
        let mut q = sqlx::query(&sql).bind(now).bind(window_ms);
        for (user, n) in chunk {
            q = q.bind(*user).bind(*n);
        }
        for row in q.fetch_all(&mut *conn).await? {
            out.push((
                row.try_get("user_id")?,
                FloodCount {
                    hits: row.try_get("hits")?,
                    notified: row.try_get::<i64, _>("notified")? != 0,
                },
            ));
        }
    }
    Ok(out)
}

/// Notes that the throttle notice went out in the current window.
pub async fn flood_mark_notified(conn: &mut Conn, user_id: i64) -> Result<(), StorageError> {
    sqlx::query("UPDATE flood_counters SET notified = 1 WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
