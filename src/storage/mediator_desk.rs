//! The mediator's side of the database, as the chat and the sweeper need it:
//! redeeming invites, finding a mediator by Telegram account, the linked
//! mediators of a committee, declines, and the case columns that accept,
//! schedule, resolve, fail, rating and fulfilment write.
//!
//! Every status change names the status it expects (`WHERE status = …`), so
//! two people (or two instances) racing on one case cannot both win.

use super::{classify, flag, get_flag, get_opt_flag, Conn, StorageError};
use crate::domain::{CaseStatus, CommitteeId, Fulfilment, Outcome};
use sqlx::Row;

/// A mediator as the chat sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct Mediator {
    /// Row id (the actor id in case events).
    pub id: i64,
    /// Their committee.
    pub committee_id: CommitteeId,
    /// Full name.
    pub name: String,
    /// Telegram user id, once linked.
    pub telegram_user_id: Option<i64>,
    /// Their private chat with the bot, once linked.
    pub chat_id: Option<i64>,
    /// Language code for messages to them.
    pub language: String,
    /// Whether they receive assignments.
    pub active: bool,
    /// False once Telegram refused a message (bot blocked).
    pub reachable: bool,
}

const MEDIATOR_COLUMNS: &str =
    "id, committee_id, name, telegram_user_id, chat_id, language, active, reachable";

fn row_to_mediator(r: &sqlx::any::AnyRow) -> Result<Mediator, StorageError> {
    Ok(Mediator {
        id: r.try_get("id")?,
        committee_id: r.try_get("committee_id")?,
        name: r.try_get("name")?,
        telegram_user_id: r.try_get("telegram_user_id")?,
        chat_id: r.try_get("chat_id")?,
        language: r.try_get("language")?,
        active: get_flag(r, "active")?,
        reachable: get_flag(r, "reachable")?,
    })
}

/// Creates a mediator of `committee_id` (not linked yet). The admin API has
/// its own; this one serves tests and the terminal chat.
pub async fn insert_mediator(
    conn: &mut Conn,
    committee_id: CommitteeId,
    name: &str,
    language: &str,
    now: i64,
) -> Result<i64, StorageError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO mediators (committee_id, name, language, created_at)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(committee_id)
    .bind(name)
    .bind(language)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| classify(e, "committee_id"))?;
    Ok(id)
}

/// Stores an invite for `mediator_id` by the hash of its code.
pub async fn insert_invite(
    conn: &mut Conn,
    mediator_id: i64,
    code_hash: &str,
    expires_at: i64,
    now: i64,
) -> Result<i64, StorageError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO invites (mediator_id, code_hash, expires_at, created_by, created_at)
         VALUES ($1, $2, $3, 'chat', $4) RETURNING id",
    )
    .bind(mediator_id)
    .bind(code_hash)
    .bind(expires_at)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| classify(e, "invite"))?;
    Ok(id)
}

/// One mediator.
pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<Mediator>, StorageError> {
    let row = sqlx::query(&format!(
        "SELECT {MEDIATOR_COLUMNS} FROM mediators WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(row_to_mediator).transpose()
}

/// The mediator linked to this Telegram account, if any (active or not).
pub async fn by_telegram_user(
    conn: &mut Conn,
    user_id: i64,
) -> Result<Option<Mediator>, StorageError> {
    let row = sqlx::query(&format!(
        "SELECT {MEDIATOR_COLUMNS} FROM mediators WHERE telegram_user_id = $1"
    ))
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(row_to_mediator).transpose()
}

/// The mediators linked to these Telegram accounts, in one statement.
pub async fn by_telegram_users(
    conn: &mut Conn,
    users: &[i64],
) -> Result<Vec<Mediator>, StorageError> {
    let head = format!("SELECT {MEDIATOR_COLUMNS} FROM mediators WHERE telegram_user_id IN (");
    super::fetch_for_ids(conn, &head, users)
        .await?
        .iter()
        .map(row_to_mediator)
        .collect()
}

/// Active, linked and reachable mediators of a committee, by id: those who
/// receive its assignments.
pub async fn linked_of_committee(
    conn: &mut Conn,
    committee_id: CommitteeId,
) -> Result<Vec<Mediator>, StorageError> {
    let rows = sqlx::query(&format!(
        "SELECT {MEDIATOR_COLUMNS} FROM mediators
         WHERE committee_id = $1 AND active = 1 AND reachable = 1 AND chat_id IS NOT NULL
         ORDER BY id"
    ))
    .bind(committee_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(row_to_mediator).collect()
}

/// What redeeming an invite code found.
#[derive(Debug, Clone, PartialEq)]
pub enum Redeemed {
    /// Linked: the mediator as now stored.
    Linked(Mediator),
    /// The code was used before.
    AlreadyUsed,
    /// The code expired.
    Expired,
    /// No invite has this code.
    Unknown,
}

/// Redeems the invite whose code hashes to `code_hash`: marks it used and
/// links the Telegram account and chat to its mediator, once.
pub async fn redeem_invite(
    conn: &mut Conn,
    code_hash: &str,
    user_id: i64,
    chat_id: i64,
    now: i64,
) -> Result<Redeemed, StorageError> {
    let row = sqlx::query(
        "SELECT id, mediator_id, expires_at, used_at FROM invites WHERE code_hash = $1",
    )
    .bind(code_hash)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else {
        return Ok(Redeemed::Unknown);
    };
    let invite_id: i64 = r.try_get("id")?;
    let mediator_id: i64 = r.try_get("mediator_id")?;
    let expires_at: i64 = r.try_get("expires_at")?;
    let used_at: Option<i64> = r.try_get("used_at")?;
    if used_at.is_some() {
        return Ok(Redeemed::AlreadyUsed);
    }
    if expires_at <= now {
        return Ok(Redeemed::Expired);
    }
    // Single use even when two chats race with the same code.
    let done = sqlx::query("UPDATE invites SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
        .bind(now)
        .bind(invite_id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() != 1 {
        return Ok(Redeemed::AlreadyUsed);
    }
    sqlx::query(
        "UPDATE mediators SET telegram_user_id = $1, chat_id = $2, linked_at = $3, reachable = 1
         WHERE id = $4",
    )
    .bind(user_id)
    .bind(chat_id)
    .bind(now)
    .bind(mediator_id)
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, "telegram account"))?;
    match get(conn, mediator_id).await? {
        Some(m) => Ok(Redeemed::Linked(m)),
        None => Ok(Redeemed::Unknown),
    }
}

/// Wrong invite codes from `chat_id` in the current window of `window_ms`
/// (a window that ended counts as zero).
pub async fn invite_failures(
    conn: &mut Conn,
    chat_id: i64,
    now: i64,
    window_ms: i64,
) -> Result<i64, StorageError> {
    let row = sqlx::query("SELECT window_start, failures FROM invite_failures WHERE chat_id = $1")
        .bind(chat_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(r) => {
            let start: i64 = r.try_get("window_start")?;
            if now - start < window_ms {
                r.try_get("failures")?
            } else {
                0
            }
        }
        None => 0,
    })
}

/// Counts one more wrong code from `chat_id`; returns the count in the window.
pub async fn record_invite_failure(
    conn: &mut Conn,
    chat_id: i64,
    now: i64,
    window_ms: i64,
) -> Result<i64, StorageError> {
    let n: i64 = sqlx::query_scalar(
        "INSERT INTO invite_failures (chat_id, window_start, failures) VALUES ($1, $2, 1)
         ON CONFLICT (chat_id) DO UPDATE SET
             failures = CASE WHEN $2 - invite_failures.window_start >= $3 THEN 1
                             ELSE invite_failures.failures + 1 END,
             window_start = CASE WHEN $2 - invite_failures.window_start >= $3 THEN $2
                                 ELSE invite_failures.window_start END
         RETURNING failures",
    )
    .bind(chat_id)
    .bind(now)
    .bind(window_ms)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| classify(e, "invite failures"))?;
    Ok(n)
}

// ----- declines -----

/// Records that a mediator declined the current assignment (once per
/// mediator; a second decline keeps the first reason).
pub async fn add_mediator_decline(
    conn: &mut Conn,
    case_id: i64,
    mediator_id: i64,
    committee_id: CommitteeId,
    reason: &str,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO mediator_declines (case_id, mediator_id, committee_id, at, reason)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_id, mediator_id) DO NOTHING",
    )
    .bind(case_id)
    .bind(mediator_id)
    .bind(committee_id)
    .bind(now)
    .bind(reason)
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, "mediator decline"))?;
    Ok(())
}

/// Mediators of `committee_id` who declined the current assignment.
pub async fn mediator_declines(
    conn: &mut Conn,
    case_id: i64,
    committee_id: CommitteeId,
) -> Result<Vec<i64>, StorageError> {
    let ids = sqlx::query_scalar(
        "SELECT mediator_id FROM mediator_declines WHERE case_id = $1 AND committee_id = $2
         ORDER BY mediator_id",
    )
    .bind(case_id)
    .bind(committee_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ids)
}

/// Forgets individual declines (a new assignment starts afresh).
pub async fn clear_mediator_declines(conn: &mut Conn, case_id: i64) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM mediator_declines WHERE case_id = $1")
        .bind(case_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Records that a committee as a whole declined (or let the accept deadline
/// pass on) a case; routing skips it from now on.
pub async fn add_committee_decline(
    conn: &mut Conn,
    case_id: i64,
    committee_id: CommitteeId,
    reason: &str,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO case_declines (case_id, committee_id, at, reason) VALUES ($1, $2, $3, $4)
         ON CONFLICT (case_id, committee_id) DO NOTHING",
    )
    .bind(case_id)
    .bind(committee_id)
    .bind(now)
    .bind(reason)
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, "committee decline"))?;
    Ok(())
}

/// Committees that declined a case.
pub async fn declined_committees(
    conn: &mut Conn,
    case_id: i64,
) -> Result<Vec<CommitteeId>, StorageError> {
    let ids = sqlx::query_scalar(
        "SELECT committee_id FROM case_declines WHERE case_id = $1 ORDER BY at, committee_id",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ids)
}

// ----- case columns of the mediator's work -----

/// The case columns that [`super::cases::CaseRecord`] does not carry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CaseProgress {
    /// When a mediator accepted.
    pub accepted_at: Option<i64>,
    /// The meeting, when scheduled.
    pub scheduled_at: Option<i64>,
    /// Where.
    pub scheduled_place: Option<String>,
    /// When resolved.
    pub resolved_at: Option<i64>,
    /// When the fulfilment follow-up is due.
    pub followup_due: Option<i64>,
    /// How it ended.
    pub outcome: Option<String>,
    /// The agreement reached.
    pub agreement: Option<String>,
    /// Whether judicial confirmation is wanted.
    pub judicial_confirmation: Option<bool>,
    /// The resident's rating, 1–5.
    pub rating: Option<i64>,
    /// `full`, `partial`, `none`.
    pub fulfilment: Option<String>,
}

/// The progress columns of a case.
pub async fn progress(conn: &mut Conn, case_id: i64) -> Result<CaseProgress, StorageError> {
    let row = sqlx::query(
        "SELECT accepted_at, scheduled_at, scheduled_place, resolved_at, followup_due, outcome,
                agreement, judicial_confirmation, rating, fulfilment
         FROM cases WHERE id = $1",
    )
    .bind(case_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else {
        return Err(StorageError::NotFound(format!("case {case_id}")));
    };
    Ok(CaseProgress {
        accepted_at: r.try_get("accepted_at")?,
        scheduled_at: r.try_get("scheduled_at")?,
        scheduled_place: r.try_get("scheduled_place")?,
        resolved_at: r.try_get("resolved_at")?,
        followup_due: r.try_get("followup_due")?,
        outcome: r.try_get("outcome")?,
        agreement: r.try_get("agreement")?,
        judicial_confirmation: get_opt_flag(&r, "judicial_confirmation")?,
        rating: r.try_get("rating")?,
        fulfilment: r.try_get("fulfilment")?,
    })
}

/// `assigned` → `accepted` by `mediator_id`, with the resolve deadline.
/// Returns false when the case was no longer waiting (someone was first).
pub async fn accept(
    conn: &mut Conn,
    case_id: i64,
    mediator_id: i64,
    resolve_deadline: i64,
    now: i64,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE cases SET status = 'accepted', mediator_id = $1, accepted_at = $2,
             resolve_deadline = $3, updated_at = $2, version = version + 1
         WHERE id = $4 AND status = 'assigned'",
    )
    .bind(mediator_id)
    .bind(now)
    .bind(resolve_deadline)
    .bind(case_id)
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, "case accept"))?;
    Ok(done.rows_affected() == 1)
}

/// `from` → `scheduled` with the meeting's instant and place.
pub async fn schedule(
    conn: &mut Conn,
    case_id: i64,
    from: CaseStatus,
    at: i64,
    place: &str,
    now: i64,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE cases SET status = 'scheduled', scheduled_at = $1, scheduled_place = $2,
             updated_at = $3, version = version + 1
         WHERE id = $4 AND status = $5",
    )
    .bind(at)
    .bind(place)
    .bind(now)
    .bind(case_id)
    .bind(from.code())
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, "case schedule"))?;
    Ok(done.rows_affected() == 1)
}

/// `from` → `resolved` with the agreement, whether judicial confirmation is
/// wanted, and when to follow up.
pub async fn resolve(
    conn: &mut Conn,
    case_id: i64,
    from: CaseStatus,
    agreement: &str,
    judicial_confirmation: bool,
    followup_due: i64,
    now: i64,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE cases SET status = 'resolved', outcome = 'agreement', agreement = $1,
             judicial_confirmation = $2, resolved_at = $3, followup_due = $4, updated_at = $3,
             version = version + 1
         WHERE id = $5 AND status = $6",
    )
    .bind(agreement)
    .bind(flag(judicial_confirmation))
    .bind(now)
    .bind(followup_due)
    .bind(case_id)
    .bind(from.code())
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, "case resolve"))?;
    Ok(done.rows_affected() == 1)
}

/// `from` → `failed` (mediation did not reach an agreement).
pub async fn fail(
    conn: &mut Conn,
    case_id: i64,
    from: CaseStatus,
    now: i64,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE cases SET status = 'failed', updated_at = $1, version = version + 1
         WHERE id = $2 AND status = $3",
    )
    .bind(now)
    .bind(case_id)
    .bind(from.code())
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, "case fail"))?;
    Ok(done.rows_affected() == 1)
}

/// `from` → `closed` with an outcome.
pub async fn close(
    conn: &mut Conn,
    case_id: i64,
    from: CaseStatus,
    outcome: Outcome,
    now: i64,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE cases SET status = 'closed', outcome = $1, closed_at = $2, updated_at = $2,
             version = version + 1
         WHERE id = $3 AND status = $4",
    )
    .bind(outcome.code())
    .bind(now)
    .bind(case_id)
    .bind(from.code())
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, "case close"))?;
    Ok(done.rows_affected() == 1)
}

/// Stores the resident's rating, once. Returns false when already rated.
pub async fn set_rating(conn: &mut Conn, case_id: i64, rating: i64) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE cases SET rating = $1, version = version + 1 WHERE id = $2 AND rating IS NULL",
    )
    .bind(rating)
    .bind(case_id)
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, "case rating"))?;
    Ok(done.rows_affected() == 1)
}

/// Stores whether the agreement was carried out, once.
pub async fn set_fulfilment(
    conn: &mut Conn,
    case_id: i64,
    fulfilment: Fulfilment,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE cases SET fulfilment = $1, version = version + 1
         WHERE id = $2 AND fulfilment IS NULL",
    )
    .bind(fulfilment.code())
    .bind(case_id)
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, "case fulfilment"))?;
    Ok(done.rows_affected() == 1)
}

/// Cases a mediator sees in /mycases: those of their committee waiting for
/// someone to accept, and those they accepted that are still open, oldest
/// first.
pub async fn open_for_mediator(
    conn: &mut Conn,
    mediator_id: i64,
    committee_id: CommitteeId,
    limit: i64,
) -> Result<Vec<i64>, StorageError> {
    let ids = sqlx::query_scalar(
        "SELECT id FROM cases
         WHERE committee_id = $1
           AND (status = 'assigned' OR (mediator_id = $2 AND status IN ('accepted', 'scheduled')))
         ORDER BY submitted_at, id LIMIT $3",
    )
    .bind(committee_id)
    .bind(mediator_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ids)
}

/// The chat and language of a case's resident when Telegram still reaches
/// them and their data was not erased.
pub async fn resident_contact(
    conn: &mut Conn,
    resident_id: i64,
) -> Result<Option<(i64, String)>, StorageError> {
    let row = sqlx::query(
        "SELECT chat_id, language, reachable FROM residents WHERE id = $1 AND erased_at IS NULL",
    )
    .bind(resident_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    if !get_flag(&r, "reachable")? {
        return Ok(None);
    }
    Ok(Some((r.try_get("chat_id")?, r.try_get("language")?)))
}

// ----- what the sweeper looks for -----

/// Assigned cases whose accept deadline passed, with that deadline.
pub async fn accept_overdue(conn: &mut Conn, now: i64) -> Result<Vec<(i64, i64)>, StorageError> {
    let rows = sqlx::query(
        "SELECT id, accept_deadline FROM cases
         WHERE status = 'assigned' AND accept_deadline IS NOT NULL AND accept_deadline <= $1
         ORDER BY accept_deadline, id",
    )
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("accept_deadline")?)))
        .collect()
}

/// Accepted or scheduled cases whose resolve deadline passed, with it.
pub async fn resolve_overdue(conn: &mut Conn, now: i64) -> Result<Vec<(i64, i64)>, StorageError> {
    let rows = sqlx::query(
        "SELECT id, resolve_deadline FROM cases
         WHERE status IN ('accepted', 'scheduled') AND resolve_deadline IS NOT NULL
           AND resolve_deadline <= $1
         ORDER BY resolve_deadline, id",
    )
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("resolve_deadline")?)))
        .collect()
}

/// Scheduled cases whose meeting lies in `(after, until]`, with its instant.
pub async fn meetings_between(
    conn: &mut Conn,
    after: i64,
    until: i64,
) -> Result<Vec<(i64, i64)>, StorageError> {
    let rows = sqlx::query(
        "SELECT id, scheduled_at FROM cases
         WHERE status = 'scheduled' AND scheduled_at > $1 AND scheduled_at <= $2
         ORDER BY scheduled_at, id",
    )
    .bind(after)
    .bind(until)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("scheduled_at")?)))
        .collect()
}

/// Resolved cases whose follow-up is due and not yet answered.
pub async fn followups_due(conn: &mut Conn, now: i64) -> Result<Vec<i64>, StorageError> {
    let ids = sqlx::query_scalar(
        "SELECT id FROM cases
         WHERE status = 'resolved' AND fulfilment IS NULL AND followup_due IS NOT NULL
           AND followup_due <= $1
         ORDER BY followup_due, id",
    )
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ids)
}

/// One line of the daily digest: a township (or the county itself when a
/// case was placed no deeper) and its counts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DigestLine {
    /// Township code (9 digits) or county code (6).
    pub region_code: String,
    /// Filed in the window.
    pub new: i64,
    /// Resolved in the window.
    pub resolved: i64,
    /// Open with a missed accept or resolve deadline now.
    pub overdue: i64,
}

/// Counts for the daily digest over `[from, to)`, by township.
pub async fn digest(conn: &mut Conn, from: i64, to: i64) -> Result<Vec<DigestLine>, StorageError> {
    let rows = sqlx::query(
        "SELECT substr(region_code, 1, 9) AS township,
                SUM(CASE WHEN submitted_at >= $1 AND submitted_at < $2 THEN 1 ELSE 0 END) AS n_new,
                SUM(CASE WHEN resolved_at >= $1 AND resolved_at < $2 THEN 1 ELSE 0 END) AS n_resolved,
                SUM(CASE WHEN (status = 'assigned' AND accept_deadline <= $2)
                          OR (status IN ('accepted', 'scheduled') AND resolve_deadline <= $2)
                         THEN 1 ELSE 0 END) AS n_overdue
         FROM cases
         GROUP BY substr(region_code, 1, 9)
         ORDER BY substr(region_code, 1, 9)",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = vec![];
    for r in &rows {
        let line = DigestLine {
            region_code: r.try_get("township")?,
            new: r.try_get("n_new")?,
            resolved: r.try_get("n_resolved")?,
            overdue: r.try_get("n_overdue")?,
        };
        if line.new + line.resolved + line.overdue > 0 {
            out.push(line);
        }
    }
    Ok(out)
}
