//! All SQL lives here, for both backends.
//!
//! One code path serves SQLite and PostgreSQL through sqlx's `Any` driver:
//! queries use `$1` placeholders, which both engines accept, and only plain
//! types (integers, floats, text, booleans) cross the boundary. The few places
//! where the dialects differ (row claiming, upserts) branch on [`Backend`]
//! inside this module, never outside it.
//!
//! Functions that take part in a larger unit of work take `&mut Conn`, which
//! a [`Tx`] dereferences to, so a handler can commit its dialogue state, case
//! rows, events and outgoing messages in one transaction.

pub mod admin_cases;
pub mod alerts;
pub mod audit;
pub mod batch;
pub mod cases;
pub mod committees;
pub mod conversations;
pub mod inbox;
pub mod jobs;
pub mod mediator_desk;
pub mod mediators;
pub mod outbox;
pub mod prefetch;
pub mod reachability;
pub mod regions;
pub mod reports;
pub mod residents;
pub mod retention;
pub mod rules;
pub mod stats;
pub mod terminal;
pub mod tokens;
pub mod webhooks;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor};
use std::str::FromStr;
use std::time::Duration;

/// A transaction on either backend. Dereferences to the connection it runs
/// on; [`Tx::commit`] makes it durable, dropping it rolls it back.
///
/// On SQLite a transaction also holds this process's write turn (see
/// [`Storage::begin`]) until it ends.
pub struct Tx {
    inner: sqlx::Transaction<'static, Any>,
    prefetched: prefetch::Prefetched,
    /// Dialogue saves held back until [`Tx::flush_dialogue_saves`]
    /// (`None`: every save is written at once).
    dialogue_saves: Option<Vec<conversations::DeferredSave>>,
    on_commit: Vec<std::sync::Arc<tokio::sync::Notify>>,
    // Declared after `inner`: the turn is given up only once the
    // transaction is gone.
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Tx {
    /// Rows read up front for a batch (see [`prefetch`]).
    pub fn prefetched(&mut self) -> &mut prefetch::Prefetched {
        &mut self.prefetched
    }

    /// Pokes `notify` once this transaction has committed (a worker that
    /// must not look before the rows it is told of are visible). Nothing
    /// happens when it rolls back.
    pub fn notify_on_commit(&mut self, notify: &std::sync::Arc<tokio::sync::Notify>) {
        if !self
            .on_commit
            .iter()
            .any(|n| std::sync::Arc::ptr_eq(n, notify))
        {
            self.on_commit.push(notify.clone());
        }
    }

    /// Holds back this transaction's dialogue saves
    /// ([`prefetch::save_dialogue`]) until [`Tx::flush_dialogue_saves`],
    /// which writes them all in one statement: a batch saves every chat's
    /// dialogue at once instead of one statement per update. Reads of a
    /// held-back dialogue ([`prefetch::dialogue_or_load`]) see the saved
    /// state.
    pub fn defer_dialogue_saves(&mut self) {
        self.dialogue_saves.get_or_insert_with(Vec::new);
    }

    /// The held-back saves (`None` when saves are written at once).
    pub(crate) fn dialogue_saves(&mut self) -> Option<&mut Vec<conversations::DeferredSave>> {
        self.dialogue_saves.as_mut()
    }

    /// Writes the held-back dialogue saves. [`StorageError::Stale`] when a
    /// chat's dialogue was saved by someone else since it was read: the
    /// caller rolls back (to its savepoint) as for a failed save.
    pub async fn flush_dialogue_saves(&mut self) -> Result<(), StorageError> {
        let saves = match self.dialogue_saves.as_mut() {
            Some(s) if !s.is_empty() => std::mem::take(s),
            _ => return Ok(()),
        };
        conversations::save_many(&mut self.inner, &saves).await
    }

    /// Forgets the held-back saves (their update was rolled back to its
    /// savepoint).
    pub fn discard_dialogue_saves(&mut self) {
        if let Some(s) = self.dialogue_saves.as_mut() {
            s.clear();
        }
    }

    /// Commits, then pokes what [`Tx::notify_on_commit`] named. Held-back
    /// dialogue saves are written first; one refused there fails the
    /// commit (nothing is committed), so no save is ever lost.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        if let Err(e) = self.flush_dialogue_saves().await {
            return Err(match e {
                StorageError::Database(e) => e,
                other => sqlx::Error::Protocol(other.to_string()),
            });
        }
        let on_commit = std::mem::take(&mut self.on_commit);
        self.inner.commit().await?;
        for n in on_commit {
            n.notify_one();
        }
        Ok(())
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.inner.rollback().await
    }
}

impl std::ops::Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.inner
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tx")
    }
}
/// A connection on either backend (what a [`Tx`] dereferences to).
pub type Conn = AnyConnection;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Which database engine a [`Storage`] talks to, chosen from the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite in WAL mode.
    Sqlite,
    /// PostgreSQL, for several instances.
    Postgres,
}

impl Backend {
    /// The backend a connection URL names.
    pub fn from_url(url: &str) -> Result<Self, StorageError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StorageError::BadUrl)
        }
    }
}

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The URL names neither SQLite nor PostgreSQL.
    #[error("database URL must start with sqlite: or postgres://")]
    BadUrl,
    /// A unique value is already taken.
    #[error("{0} already exists")]
    Conflict(String),
    /// A referenced row does not exist.
    #[error("{0} refers to something that does not exist")]
    MissingReference(String),
    /// A value broke a CHECK or NOT NULL constraint.
    #[error("{0} breaks a rule of the schema")]
    Invalid(String),
    /// The row asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// Someone else changed the row first (optimistic concurrency).
    #[error("{0} was changed concurrently")]
    Stale(String),
    /// Stored data could not be read back (a bug or a hand-edited row).
    #[error("stored data is malformed: {0}")]
    Corrupt(String),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Other writers of this process held SQLite's write lock for longer
    /// than the busy timeout.
    #[error("the database stayed busy for longer than the busy timeout")]
    Busy,
    /// Any other database failure (connection lost, disk full, …).
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StorageError {
    fn from(e: sqlx::Error) -> Self {
        classify(e, "value")
    }
}

/// Turns a constraint violation into a typed error naming `what`; anything
/// else stays a database error.
pub fn classify(e: sqlx::Error, what: &str) -> StorageError {
    use sqlx::error::ErrorKind;
    match &e {
        sqlx::Error::RowNotFound => StorageError::NotFound(what.to_owned()),
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => StorageError::Conflict(what.to_owned()),
            ErrorKind::ForeignKeyViolation => StorageError::MissingReference(what.to_owned()),
            ErrorKind::CheckViolation | ErrorKind::NotNullViolation => {
                StorageError::Invalid(what.to_owned())
            }
            _ => StorageError::Database(e),
        },
        _ => StorageError::Database(e),
    }
}

/// Settings for opening a [`Storage`].
#[derive(Debug, Clone)]
pub struct StorageOptions {
    /// Connections in the pool.
    pub max_connections: u32,
    /// How long a statement waits for a locked SQLite database.
    pub busy_timeout: Duration,
}

impl Default for StorageOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            busy_timeout: Duration::from_secs(10),
        }
    }
}

/// The database: a connection pool and the backend it speaks to.
#[derive(Clone, Debug)]
pub struct Storage {
    pool: AnyPool,
    /// SQLite: the one connection every write transaction runs on.
    writer: Option<AnyPool>,
    backend: Backend,
    /// SQLite's write turn: writers of this process queue here, first come
    /// first served, instead of in SQLite's busy handler (which sleeps
    /// 1–100 ms between tries and leaves the lock idle meanwhile).
    write_turn: std::sync::Arc<tokio::sync::Mutex<()>>,
    busy_timeout: Duration,
}

impl Storage {
    /// Opens (and for SQLite creates) the database at `url`. Does not migrate.
    pub async fn connect(url: &str, opts: &StorageOptions) -> Result<Self, StorageError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let connect = AnyConnectOptions::from_str(&url).map_err(|_| StorageError::BadUrl)?;
        let busy_ms = opts.busy_timeout.as_millis();
        let options = move |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(Duration::from_secs(30))
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        if conn.backend_name() == "SQLite" {
                            // WAL lets readers run beside the writer; FULL makes every commit
                            // durable before it returns, which the inbox guarantee relies on.
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = FULL").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute(format!("PRAGMA busy_timeout = {busy_ms}").as_str())
                                .await?;
                        }
                        Ok(())
                    })
                })
        };
        let pool = options(match backend {
            // SQLite has one writer; a few readers beside it are enough.
            Backend::Sqlite => opts.max_connections.clamp(1, 8),
            Backend::Postgres => opts.max_connections.max(1),
        })
        .connect_with(connect.clone())
        .await
        .map_err(StorageError::Database)?;
        // SQLite drops a connection's page cache whenever another
        // connection has written since its last transaction, so writers
        // taking turns on different connections would each start cold.
        // Every write transaction runs on this one connection instead,
        // which keeps its cache and its prepared statements.
        let writer = match backend {
            Backend::Sqlite => Some(
                options(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect_with(connect)
                    .await
                    .map_err(StorageError::Database)?,
            ),
            Backend::Postgres => None,
        };
        Ok(Self {
            pool,
            writer,
            backend,
            write_turn: Default::default(),
            busy_timeout: opts.busy_timeout,
        })
    }

    /// Applies pending migrations for this backend.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection pool, for code in this module and for tests.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a transaction. On SQLite the transaction takes the write lock
    /// at once (`BEGIN IMMEDIATE`) so two writers never deadlock upgrading
    /// from a read lock, and first waits for this process's write turn, so
    /// the lock passes straight from one writer to the next (another
    /// process on the same file still waits in SQLite's busy handler).
    pub async fn begin(&self) -> Result<Tx, StorageError> {
        let (tx, turn) = match self.backend {
            Backend::Sqlite => {
                let turn =
                    tokio::time::timeout(self.busy_timeout, self.write_turn.clone().lock_owned())
                        .await
                        .map_err(|_| StorageError::Busy)?;
                let writer = self.writer.as_ref().unwrap_or(&self.pool);
                (writer.begin_with("BEGIN IMMEDIATE").await, Some(turn))
            }
            Backend::Postgres => (self.pool.begin().await, None),
        };
        let inner = tx.map_err(StorageError::Database)?;
        Ok(Tx {
            inner,
            prefetched: Default::default(),
            dialogue_saves: None,
            on_commit: Vec::new(),
            _turn: turn,
        })
    }

    /// A connection from the pool for statements outside a transaction
    /// (reads, or a PostgreSQL write that commits on its own).
    pub async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<Any>, StorageError> {
        self.pool.acquire().await.map_err(StorageError::Database)
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), StorageError> {
        let mut c = self.acquire().await?;
        c.ping().await.map_err(StorageError::Database)
    }

    /// Closes every connection.
    pub async fn close(&self) {
        if let Some(w) = &self.writer {
            w.close().await;
        }
        self.pool.close().await;
    }
}

/// Reads a `meta` counter.
pub async fn meta_get(conn: &mut Conn, key: &str) -> Result<i64, StorageError> {
    let v: Option<i64> = sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(v.unwrap_or(0))
}

/// Increments a `meta` counter and returns its new value.
pub async fn meta_bump(conn: &mut Conn, key: &str) -> Result<i64, StorageError> {
    let updated = sqlx::query("UPDATE meta SET value = value + 1 WHERE key = $1")
        .bind(key)
        .execute(&mut *conn)
        .await?;
    if updated.rows_affected() == 0 {
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, 1)")
            .bind(key)
            .execute(&mut *conn)
            .await?;
    }
    meta_get(conn, key).await
}

/// Counts the rows of each table, in a fixed order; used by `import` and by
/// tests that check both backends hold the same data.
pub async fn table_counts(conn: &mut Conn) -> Result<Vec<(&'static str, i64)>, StorageError> {
    const TABLES: [&str; 8] = [
        "regions",
        "committees",
        "routing_rules",
        "mediators",
        "residents",
        "cases",
        "case_events",
        "outbox",
    ];
    let mut out = Vec::with_capacity(TABLES.len());
    for t in TABLES {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {t}"))
            .fetch_one(&mut *conn)
            .await?;
        out.push((t, n));
    }
    Ok(out)
}

/// `($2, $3, $4, extra), ($5, $6, $7, extra), …`: `rows` rows of `per_row`
/// numbered placeholders after the first `skip`, each row ending with
/// `extra` (SQL shared by every row; empty for none). For multi-row inserts.
pub(crate) fn value_rows(rows: usize, per_row: usize, skip: usize, extra: &str) -> String {
    let mut out = String::with_capacity(rows * (per_row * 5 + extra.len() + 4));
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..per_row {
            if c > 0 {
                out.push_str(", ");
            }
            out.push_str(&format!("${}", skip + r * per_row + c + 1));
        }
        if !extra.is_empty() {
            out.push_str(", ");
            out.push_str(extra);
        }
        out.push(')');
    }
    out
}

/// Runs `head` — a statement binding `$1…` to `leading` and ending in
/// `… IN (` — for `ids`, 500 ids per statement.
pub(crate) async fn execute_for_ids(
    conn: &mut Conn,
    head: &str,
    leading: &[i64],
    ids: &[i64],
) -> Result<(), StorageError> {
    for chunk in ids.chunks(500) {
        let sql = format!("{head}{})", placeholder_list(chunk.len(), leading.len()));
        let mut q = sqlx::query(&sql);
        for v in leading.iter().chain(chunk) {
            q = q.bind(*v);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Runs `head` — a query ending in `… IN (` — for `ids`, 500 ids per
/// statement, and returns every row (none, without a statement, for no ids).
pub(crate) async fn fetch_for_ids(
    conn: &mut Conn,
    head: &str,
    ids: &[i64],
) -> Result<Vec<sqlx::any::AnyRow>, StorageError> {
    let mut rows = Vec::new();
    for chunk in ids.chunks(500) {
        let sql = format!("{head}{})", placeholder_list(chunk.len(), 0));
        let mut q = sqlx::query(&sql);
        for v in chunk {
            q = q.bind(*v);
        }
        rows.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(rows)
}

/// `postgres://u@h:p/db?x` with the database `db` replaced by `name`
/// (for scratch databases created on a server: tests, the load tool).
pub fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[after_scheme..].find('/').map(|i| i + after_scheme);
    let mut out = match path_start {
        Some(i) => format!("{}/{}", &base[..i], name),
        None => format!("{base}/{name}"),
    };
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// `$2, $3, …`: `n` numbered placeholders after the first `skip` (an `IN`
/// list).
pub(crate) fn placeholder_list(n: usize, skip: usize) -> String {
    (1..=n)
        .map(|i| format!("${}", skip + i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Encodes a value as JSON text for a TEXT column.
pub(crate) fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}

/// Decodes JSON text from a TEXT column.
pub(crate) fn from_json_text<T: serde::de::DeserializeOwned>(
    s: &str,
    what: &str,
) -> Result<T, StorageError> {
    serde_json::from_str(s).map_err(|e| StorageError::Corrupt(format!("{what}: {e}")))
}

/// Booleans are stored as 0/1 on both backends (see the migrations).
pub(crate) fn flag(v: bool) -> i64 {
    i64::from(v)
}

/// Reads a 0/1 column as a boolean.
pub(crate) fn get_flag(r: &sqlx::any::AnyRow, col: &str) -> Result<bool, sqlx::Error> {
    use sqlx::Row;
    Ok(r.try_get::<i64, _>(col)? != 0)
}

/// Reads a nullable 0/1 column.
pub(crate) fn get_opt_flag(r: &sqlx::any::AnyRow, col: &str) -> Result<Option<bool>, sqlx::Error> {
    use sqlx::Row;
    Ok(r.try_get::<Option<i64>, _>(col)?.map(|v| v != 0))
}

/// Binding an absent `f64` through the Any driver mislabels its type on
/// PostgreSQL (sqlx 0.8 maps a NULL double to `float4`, which the server
/// rejects for a `double precision` column). `bind_opt_f64` binds NULL with
/// the label that comes out right on both backends.
pub(crate) trait BindOptF64: Sized {
    /// Binds an optional double.
    fn bind_opt_f64(self, v: Option<f64>) -> Self;
}

impl<'q> BindOptF64 for sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    fn bind_opt_f64(self, v: Option<f64>) -> Self {
        match v {
            Some(x) => self.bind(x),
            // `Option<f32>::None` is encoded as the PostgreSQL `float8` NULL.
            None => self.bind(None::<f32>),
        }
    }
}

impl<'q, O> BindOptF64 for sqlx::query::QueryScalar<'q, Any, O, sqlx::any::AnyArguments<'q>> {
    fn bind_opt_f64(self, v: Option<f64>) -> Self {
        match v {
            Some(x) => self.bind(x),
            None => self.bind(None::<f32>),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_rows_after_the_shared_ones() {
        assert_eq!(value_rows(2, 2, 1, "$1"), "($2, $3, $1), ($4, $5, $1)");
        assert_eq!(value_rows(1, 3, 0, ""), "($1, $2, $3)");
        assert_eq!(placeholder_list(3, 1), "$2, $3, $4");
    }
}
