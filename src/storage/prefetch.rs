//! What a batch of updates reads about its chats, read up front: one
//! statement per table for the whole batch instead of one per update.
//!
//! The applier loads these rows at the start of a batch transaction for
//! every chat and user in it; a handler then takes each row once, in place
//! of reading it. A row is taken at most once: a second read in the same
//! update (after the handler may have written it) goes to the database, or,
//! for a dialogue whose save the batch holds back, to that save.
//! This is exact because a batch holds at most one update per chat, and
//! these rows (a person's resident and mediator record, a chat's dialogue
//! and reachability) are written inside a batch only by the update of their
//! own chat.

use super::conversations::{self, FloodCount, StoredDialogue};
use super::mediator_desk::{self, Mediator};
use super::reachability;
use super::residents::{self, ResidentRecord};
use super::{StorageError, Tx};
use std::collections::{HashMap, HashSet};

/// Rows read for a batch, by Telegram user id or chat id. Empty outside
/// a batch, where every lookup goes to the database.
#[derive(Debug, Default)]
pub struct Prefetched {
    residents: HashMap<i64, Option<ResidentRecord>>,
    mediators: HashMap<i64, Option<Mediator>>,
    dialogues: HashMap<i64, Option<StoredDialogue>>,
    /// Chats whose reachability was looked at, and whether someone there
    /// is marked unreachable.
    unreachable: HashMap<i64, bool>,
    /// Flood counts of the batch's users, counted for all of them at once.
    floods: HashMap<i64, BatchFlood>,
}

/// A user's flood count for the batch.
#[derive(Debug)]
struct BatchFlood {
    /// The count after every event of the user in the batch.
    total: i64,
    /// Events of the user the batch counted.
    counted: i64,
    /// Events that have taken their count so far.
    taken: i64,
    notified: bool,
}

/// Reads, in four statements, the resident and mediator records of
/// `users`, and the dialogues and reachability of `chats`, into the
/// transaction (replacing what an earlier call left).
pub async fn load(tx: &mut Tx, users: &[i64], chats: &[i64]) -> Result<(), StorageError> {
    let users = distinct(users);
    let chats = distinct(chats);
    let mut p = Prefetched {
        floods: HashMap::new(),
        residents: users.iter().map(|u| (*u, None)).collect(),
        mediators: users.iter().map(|u| (*u, None)).collect(),
        dialogues: chats.iter().map(|c| (*c, None)).collect(),
        unreachable: chats.iter().map(|c| (*c, false)).collect(),
    };
    for r in residents::by_users(tx, &users).await? {
        p.residents.insert(r.telegram_user_id, Some(r));
    }
    for m in mediator_desk::by_telegram_users(tx, &users).await? {
        if let Some(u) = m.telegram_user_id {
            p.mediators.insert(u, Some(m));
        }
    }
    for (chat, d) in conversations::load_many(tx, &chats).await? {
        p.dialogues.insert(chat, Some(d));
    }
    for chat in reachability::unreachable_among(tx, &chats).await? {
        p.unreachable.insert(chat, true);
    }
    *tx.prefetched() = p;
    Ok(())
}

fn distinct(v: &[i64]) -> Vec<i64> {
    let mut seen = HashSet::with_capacity(v.len());
    v.iter().copied().filter(|x| seen.insert(*x)).collect()
}

/// The resident with this Telegram user id: the batch's row if it has
/// one, else read now.
pub async fn resident_by_user(
    tx: &mut Tx,
    user_id: i64,
) -> Result<Option<ResidentRecord>, StorageError> {
    match tx.prefetched().residents.remove(&user_id) {
        Some(r) => Ok(r),
        None => residents::get_by_user(tx, user_id).await,
    }
}

/// The mediator linked to this Telegram account: the batch's row if it
/// has one, else read now.
pub async fn mediator_by_user(tx: &mut Tx, user_id: i64) -> Result<Option<Mediator>, StorageError> {
    match tx.prefetched().mediators.remove(&user_id) {
        Some(m) => Ok(m),
        None => mediator_desk::by_telegram_user(tx, user_id).await,
    }
}

/// The chat's stored dialogue, if the batch read it (`None`: not read;
/// `Some(None)`: the chat has none). The caller reads it itself otherwise.
pub fn take_dialogue(tx: &mut Tx, chat_id: i64) -> Option<Option<StoredDialogue>> {
    tx.prefetched().dialogues.remove(&chat_id)
}

/// `pre` (what [`take_dialogue`] gave) when the batch read the dialogue,
/// else the dialogue this transaction saved last (when it holds saves
/// back), else the chat's dialogue read now.
pub async fn dialogue_or_load(
    tx: &mut Tx,
    chat_id: i64,
    pre: Option<Option<StoredDialogue>>,
) -> Result<Option<StoredDialogue>, StorageError> {
    if let Some(d) = pre {
        return Ok(d);
    }
    let held = tx
        .dialogue_saves()
        .and_then(|saves| saves.iter().rev().find(|s| s.chat_id == chat_id))
        .map(|s| StoredDialogue {
            state: s.state.clone(),
            version: s.read_version.map_or(1, |v| v + 1),
        });
    match held {
        Some(d) => Ok(Some(d)),
        None => conversations::load(tx, chat_id).await,
    }
}

/// Saves a chat's dialogue as [`conversations::save`] does, or holds the
/// save back when the transaction does that
/// ([`Tx::defer_dialogue_saves`]); the version check then happens when
/// the saves are written. Returns the new version.
pub async fn save_dialogue(
    tx: &mut Tx,
    chat_id: i64,
    state: &str,
    read_version: Option<i64>,
    now: i64,
) -> Result<i64, StorageError> {
    let already_held = match tx.dialogue_saves() {
        None => return conversations::save(tx, chat_id, state, read_version, now).await,
        Some(saves) => saves.iter().any(|s| s.chat_id == chat_id),
    };
    if already_held {
        // A second save of the same chat: write the first, so each save
        // names the version the one before it made.
        tx.flush_dialogue_saves().await?;
    }
    if let Some(saves) = tx.dialogue_saves() {
        saves.push(conversations::DeferredSave {
            chat_id,
            state: state.to_owned(),
            read_version,
            now,
        });
    }
    Ok(read_version.map_or(1, |v| v + 1))
}

/// Marks everyone using `chat_id` reachable again; nothing to write when
/// the batch already saw that nobody there is marked unreachable.
pub async fn mark_reachable(tx: &mut Tx, chat_id: i64) -> Result<(), StorageError> {
    if tx.prefetched().unreachable.remove(&chat_id) == Some(false) {
        return Ok(());
    }
    reachability::mark_reachable(tx, chat_id).await
}

/// Counts one flood-control event for each entry of `users` (a user may
/// appear more than once), for the whole batch in one statement; each
/// event then takes its own count with [`flood_hit`], in the same order.
///
/// The caller holds every update of the batch locked already, so on
/// PostgreSQL the counters written here belong to chats no other batch can
/// be applying; they are written in user order, so two statements that
/// share a counter (a user writing in a group too) lock in the same order.
pub async fn count_floods(
    tx: &mut Tx,
    users: &[i64],
    now: i64,
    window_ms: i64,
) -> Result<(), StorageError> {
    let mut events: Vec<(i64, i64)> = Vec::new();
    for u in users {
        match events.iter_mut().find(|(v, _)| v == u) {
            Some((_, n)) => *n += 1,
            None => events.push((*u, 1)),
        }
    }
    events.sort_unstable();
    // RETURNING gives no order: match the counts by user.
    let counted: HashMap<i64, i64> = events.iter().copied().collect();
    let counts = conversations::flood_hit_many(tx, &events, now, window_ms).await?;
    let floods = &mut tx.prefetched().floods;
    for (user, count) in counts {
        floods.insert(
            user,
            BatchFlood {
                total: count.hits,
                counted: counted.get(&user).copied().unwrap_or(0),
                taken: 0,
                notified: count.notified,
            },
        );
    }
    Ok(())
}

/// One flood-control event of `user_id`: its count from the batch's
/// [`count_floods`] if it has one left, else counted now.
pub async fn flood_hit(
    tx: &mut Tx,
    user_id: i64,
    now: i64,
    window_ms: i64,
) -> Result<FloodCount, StorageError> {
    if let Some(f) = tx.prefetched().floods.get_mut(&user_id) {
        if f.taken < f.counted {
            f.taken += 1;
            return Ok(FloodCount {
                hits: f.total - f.counted + f.taken,
                notified: f.notified,
            });
        }
    }
    conversations::flood_hit(tx, user_id, now, window_ms).await
}

/// Notes that the throttle notice went out to `user_id` in the current
/// window, for the rest of the batch too.
pub async fn flood_mark_notified(tx: &mut Tx, user_id: i64) -> Result<(), StorageError> {
    if let Some(f) = tx.prefetched().floods.get_mut(&user_id) {
        f.notified = true;
    }
    conversations::flood_mark_notified(tx, user_id).await
}
