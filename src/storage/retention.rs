//! Retention: pseudonymising finished cases and forgetting residents once
//! the retention period has passed.

use super::{Conn, StorageError};

/// What one retention pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RetentionReport {
    /// Cases whose personal data was removed.
    pub cases: u64,
    /// Residents whose phone number and dialogue were removed.
    pub residents: u64,
}

/// Removes personal data from cases closed or withdrawn before `cutoff`
/// (ms): description, other party, address, exact place, phone, agreement
/// text, meeting place, attachments, and the words in their timeline. The
/// case number, category, region, status, times, outcome, rating and
/// fulfilment stay for statistics. Residents with no case left that still
/// holds personal data, and not seen since `cutoff`, lose their phone
/// number and dialogue state.
pub async fn pseudonymise_before(
    conn: &mut Conn,
    cutoff: i64,
    now: i64,
) -> Result<RetentionReport, StorageError> {
    const DUE: &str = "status IN ('closed', 'withdrawn') AND pseudonymised_at IS NULL
                       AND COALESCE(closed_at, updated_at) < $1";
    sqlx::query(&format!(
        "DELETE FROM case_attachments WHERE case_id IN (SELECT id FROM cases WHERE {DUE})"
    ))
    .bind(cutoff)
    .execute(&mut *conn)
    .await?;
    sqlx::query(&format!(
        "UPDATE case_events SET reason = '',
             details = CASE WHEN actor_kind IN ('resident', 'mediator') THEN '{{}}' ELSE details END
         WHERE case_id IN (SELECT id FROM cases WHERE {DUE})"
    ))
    .bind(cutoff)
    .execute(&mut *conn)
    .await?;
    let cases = sqlx::query(&format!(
        "UPDATE cases SET description = '', other_party = '', address = '', lat = NULL, lon = NULL,
             contact_phone = NULL, agreement = NULL, scheduled_place = NULL,
             pseudonymised_at = $2, updated_at = $2
         WHERE {DUE}"
    ))
    .bind(cutoff)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();

    let forgettable = "erased_at IS NULL AND created_at < $1
         AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.resident_id = residents.id
                         AND c.pseudonymised_at IS NULL)";
    sqlx::query(&format!(
        "DELETE FROM conversations WHERE chat_id IN (SELECT chat_id FROM residents WHERE {forgettable})
           AND updated_at < $1"
    ))
    .bind(cutoff)
    .execute(&mut *conn)
    .await?;
    let residents = sqlx::query(&format!(
        "UPDATE residents SET phone = NULL, erased_at = $2 WHERE {forgettable}
           AND NOT EXISTS (SELECT 1 FROM conversations v WHERE v.chat_id = residents.chat_id)"
    ))
    .bind(cutoff)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(RetentionReport { cases, residents })
}
