//! Webhook subscriptions and the durable delivery queue.
//!
//! Deliveries are written in the transaction of the change they report
//! (outbox pattern) and leased by workers: on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED`, so instances never wait on each other; on
//! SQLite inside the single-writer transaction. A lease that runs out (the
//! worker died mid-request) makes the row due again, so nothing is lost.

use super::{classify, flag, from_json_text, get_flag, json_text, Backend, Conn, StorageError};
use crate::config::Secret;
use serde::Serialize;
use sqlx::Row;

/// A subscription as stored. `Debug` masks the secret (through [`Secret`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionRecord {
    /// Row id.
    pub id: i64,
    /// Admin's label.
    pub name: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// HMAC key for signatures.
    pub secret: Secret,
    /// Event codes it receives.
    pub event_types: Vec<String>,
    /// Whether payloads may carry personal data.
    pub personal_data: bool,
    /// Paused subscriptions receive nothing new.
    pub active: bool,
    /// Created.
    pub created_at: i64,
    /// Last changed.
    pub updated_at: i64,
}

impl SubscriptionRecord {
    /// The secret as shown in lists: its first four characters and a mask.
    pub fn masked_secret(&self) -> String {
        let s = self.secret.expose();
        let head: String = s.chars().take(4).collect();
        format!("{head}…")
    }
}

/// Values of a subscription to create or replace.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionValues {
    /// Label.
    pub name: String,
    /// Checked URL.
    pub url: String,
    /// HMAC key.
    pub secret: Secret,
    /// Event codes.
    pub event_types: Vec<String>,
    /// Personal data allowed.
    pub personal_data: bool,
    /// Active.
    pub active: bool,
}

const SUB_COLUMNS: &str =
    "id, name, url, secret, event_types, personal_data, active, created_at, updated_at";

fn row_to_sub(r: &sqlx::any::AnyRow) -> Result<SubscriptionRecord, StorageError> {
    let secret: String = r.try_get("secret")?;
    let events: String = r.try_get("event_types")?;
    Ok(SubscriptionRecord {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        url: r.try_get("url")?,
        secret: Secret::new(secret),
        event_types: from_json_text(&events, "webhook event types")?,
        personal_data: get_flag(r, "personal_data")?,
        active: get_flag(r, "active")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Creates a subscription and returns its id.
pub async fn create(
    conn: &mut Conn,
    v: &SubscriptionValues,
    now: i64,
) -> Result<i64, StorageError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO webhook_subscriptions (name, url, secret, event_types, personal_data, active,
             created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
    )
    .bind(&v.name)
    .bind(&v.url)
    .bind(v.secret.expose())
    .bind(json_text(&v.event_types))
    .bind(flag(v.personal_data))
    .bind(flag(v.active))
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| classify(e, "webhook subscription"))?;
    Ok(id)
}

/// Replaces a subscription's values. Returns false when it does not exist
/// (or was deleted).
pub async fn update(
    conn: &mut Conn,
    id: i64,
    v: &SubscriptionValues,
    now: i64,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE webhook_subscriptions SET name = $1, url = $2, secret = $3, event_types = $4,
             personal_data = $5, active = $6, updated_at = $7
         WHERE id = $8 AND deleted_at IS NULL",
    )
    .bind(&v.name)
    .bind(&v.url)
    .bind(v.secret.expose())
    .bind(json_text(&v.event_types))
    .bind(flag(v.personal_data))
    .bind(flag(v.active))
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, "webhook subscription"))?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a subscription: the row stays for its delivery history, marked
/// deleted, and its pending deliveries are cancelled. Returns false when it
/// does not exist.
pub async fn delete(conn: &mut Conn, id: i64, now: i64) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE webhook_subscriptions SET deleted_at = $1, active = 0, updated_at = $1
         WHERE id = $2 AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE webhook_deliveries SET status = 'cancelled', last_error = 'subscription deleted',
             claimed_by = NULL, claimed_until = NULL
         WHERE subscription_id = $1 AND status = 'pending'",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// One subscription (not deleted).
pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<SubscriptionRecord>, StorageError> {
    let row = sqlx::query(&format!(
        "SELECT {SUB_COLUMNS} FROM webhook_subscriptions WHERE id = $1 AND deleted_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(row_to_sub).transpose()
}

/// Every subscription not deleted, by id.
pub async fn list(conn: &mut Conn) -> Result<Vec<SubscriptionRecord>, StorageError> {
    let rows = sqlx::query(&format!(
        "SELECT {SUB_COLUMNS} FROM webhook_subscriptions WHERE deleted_at IS NULL ORDER BY id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(row_to_sub).collect()
}

/// Active subscriptions (the ones events are delivered to).
pub async fn active(conn: &mut Conn) -> Result<Vec<SubscriptionRecord>, StorageError> {
    let rows = sqlx::query(&format!(
        "SELECT {SUB_COLUMNS} FROM webhook_subscriptions
         WHERE deleted_at IS NULL AND active = 1 ORDER BY id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(row_to_sub).collect()
}

/// A delivery to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery<'a> {
    /// Random id sent to the receiver.
    pub delivery_id: &'a str,
    /// Subscription.
    pub subscription_id: i64,
    /// Event code.
    pub event_type: &'a str,
    /// The JSON body, exactly as it will be sent and signed.
    pub payload: &'a str,
    /// When it is first due (normally now).
    pub due_at: i64,
    /// After a failure at or past this instant the delivery is given up.
    pub give_up_at: i64,
}

/// Queues one delivery in the caller's transaction.
pub async fn enqueue(conn: &mut Conn, d: &NewDelivery<'_>) -> Result<i64, StorageError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO webhook_deliveries (delivery_id, subscription_id, event_type, payload,
             status, attempts, next_attempt_at, give_up_at, created_at)
         VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $5) RETURNING id",
    )
    .bind(d.delivery_id)
    .bind(d.subscription_id)
    .bind(d.event_type)
    .bind(d.payload)
    .bind(d.due_at)
    .bind(d.give_up_at)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| classify(e, "webhook delivery"))?;
    Ok(id)
}

/// A delivery leased to a worker, with what it needs to send it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDelivery {
    /// Row id.
    pub id: i64,
    /// Id sent to the receiver.
    pub delivery_id: String,
    /// Event code.
    pub event_type: String,
    /// Body.
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: i64,
    /// Give-up instant.
    pub give_up_at: i64,
    /// Receiver.
    pub url: String,
    /// HMAC key.
    pub secret: Secret,
}

/// Leases up to `limit` due deliveries to `worker` until `lease_until`.
/// A delivery is due when pending, its next attempt has come, and it is not
/// leased (or its lease ran out).
pub async fn claim_due(
    conn: &mut Conn,
    backend: Backend,
    worker: &str,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<ClaimedDelivery>, StorageError> {
    let lock = match backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        // SQLite serialises writers; the caller's BEGIN IMMEDIATE holds the lock.
        Backend::Sqlite => "",
    };
    sqlx::query(&format!(
        "UPDATE webhook_deliveries SET claimed_by = $1, claimed_until = $2
         WHERE id IN (
             SELECT id FROM webhook_deliveries
             WHERE status = 'pending' AND next_attempt_at <= $3
               AND (claimed_until IS NULL OR claimed_until < $3)
             ORDER BY next_attempt_at, id LIMIT $4 {lock})"
    ))
    .bind(worker)
    .bind(lease_until)
    .bind(now)
    .bind(limit)
    .execute(&mut *conn)
    .await?;
    let rows = sqlx::query(
        "SELECT d.id, d.delivery_id, d.event_type, d.payload, d.attempts, d.give_up_at,
                s.url, s.secret
         FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
         WHERE d.claimed_by = $1 AND d.claimed_until = $2 AND d.status = 'pending'
         ORDER BY d.next_attempt_at, d.id",
    )
    .bind(worker)
    .bind(lease_until)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let secret: String = r.try_get("secret")?;
            Ok(ClaimedDelivery {
                id: r.try_get("id")?,
                delivery_id: r.try_get("delivery_id")?,
                event_type: r.try_get("event_type")?,
                payload: r.try_get("payload")?,
                attempts: r.try_get("attempts")?,
                give_up_at: r.try_get("give_up_at")?,
                url: r.try_get("url")?,
                secret: Secret::new(secret),
            })
        })
        .collect()
}

/// Records a successful delivery (only while `worker` still holds it).
pub async fn mark_delivered(
    conn: &mut Conn,
    id: i64,
    worker: &str,
    http_status: i64,
    now: i64,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $1,
             attempts = attempts + 1, last_http_status = $2, last_error = NULL,
             claimed_by = NULL, claimed_until = NULL
         WHERE id = $3 AND claimed_by = $4 AND status = 'pending'",
    )
    .bind(now)
    .bind(http_status)
    .bind(id)
    .bind(worker)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a failed attempt: due again at `next_attempt_at`, or `failed`
/// for good when `give_up` is set.
#[allow(clippy::too_many_arguments)]
pub async fn mark_attempt_failed(
    conn: &mut Conn,
    id: i64,
    worker: &str,
    http_status: Option<i64>,
    error: &str,
    next_attempt_at: i64,
    give_up: bool,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1,
             next_attempt_at = $2, last_http_status = $3, last_error = $4,
             claimed_by = NULL, claimed_until = NULL
         WHERE id = $5 AND claimed_by = $6 AND status = 'pending'",
    )
    .bind(if give_up { "failed" } else { "pending" })
    .bind(next_attempt_at)
    .bind(http_status)
    .bind(error)
    .bind(id)
    .bind(worker)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A delivery as shown to admins (no secret; the payload is included
/// because admins may inspect what was sent).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryRecord {
    /// Row id.
    pub id: i64,
    /// Id sent to the receiver.
    pub delivery_id: String,
    /// Subscription.
    pub subscription_id: i64,
    /// Event code.
    pub event_type: String,
    /// `pending`, `delivered`, `failed` or `cancelled`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Next attempt (pending ones).
    pub next_attempt_at: i64,
    /// Give-up instant.
    pub give_up_at: i64,
    /// Queued.
    pub created_at: i64,
    /// Delivered.
    pub delivered_at: Option<i64>,
    /// Last HTTP status received.
    pub last_http_status: Option<i64>,
    /// Last error.
    pub last_error: Option<String>,
    /// The JSON body.
    pub payload: serde_json::Value,
}

const DELIVERY_COLUMNS: &str = "id, delivery_id, subscription_id, event_type, status, attempts, \
    next_attempt_at, give_up_at, created_at, delivered_at, last_http_status, last_error, payload";

fn row_to_delivery(r: &sqlx::any::AnyRow) -> Result<DeliveryRecord, StorageError> {
    let payload: String = r.try_get("payload")?;
    Ok(DeliveryRecord {
        id: r.try_get("id")?,
        delivery_id: r.try_get("delivery_id")?,
        subscription_id: r.try_get("subscription_id")?,
        event_type: r.try_get("event_type")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        give_up_at: r.try_get("give_up_at")?,
        created_at: r.try_get("created_at")?,
        delivered_at: r.try_get("delivered_at")?,
        last_http_status: r.try_get("last_http_status")?,
        last_error: r.try_get("last_error")?,
        payload: from_json_text(&payload, "webhook payload")?,
    })
}

/// A subscription's deliveries, newest first, optionally of one status,
/// with ids below `before_id` (cursor paging), at most `limit`.
pub async fn deliveries(
    conn: &mut Conn,
    subscription_id: i64,
    status: Option<&str>,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<DeliveryRecord>, StorageError> {
    let rows = sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
         WHERE subscription_id = $1 AND status LIKE $2 AND id < $3
         ORDER BY id DESC LIMIT $4"
    ))
    .bind(subscription_id)
    .bind(status.unwrap_or("%"))
    .bind(before_id.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(row_to_delivery).collect()
}

/// Deliveries given up for good, newest first, across subscriptions.
pub async fn failed(conn: &mut Conn, limit: i64) -> Result<Vec<DeliveryRecord>, StorageError> {
    let rows = sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE status = 'failed'
         ORDER BY id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(row_to_delivery).collect()
}

/// Deliveries still pending (queue depth).
pub async fn pending_count(conn: &mut Conn) -> Result<i64, StorageError> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'")
            .fetch_one(&mut *conn)
            .await?;
    Ok(n)
}
