//! A database that exists for one test: a temporary SQLite file, or a
//! PostgreSQL database created under `TEST_DATABASE_URL` and dropped after.

use jiefen::storage::{Backend, Storage, StorageOptions};

/// Set in CI so that a missing or unreachable PostgreSQL fails the run
/// instead of skipping the PostgreSQL half of the suite.
const REQUIRE_POSTGRES: &str = "JIEFEN_REQUIRE_POSTGRES";

/// A migrated, empty database for one test.
pub struct TestDb {
    /// The storage under test.
    pub storage: Storage,
    /// The URL it was opened with (for a second instance in the same test).
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<PgDrop>,
}

struct PgDrop {
    admin_url: String,
    name: String,
}

impl Drop for PgDrop {
    fn drop(&mut self) {
        // Drop the database even when the test panicked. A fresh runtime on
        // its own thread, because Drop may run inside the test's runtime.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async move {
                    if let Ok(s) = Storage::connect(
                        &admin_url,
                        &StorageOptions {
                            max_connections: 1,
                            ..Default::default()
                        },
                    )
                    .await
                    {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(s.pool())
                                .await;
                        s.close().await;
                    }
                });
            }
        })
        .join();
    }
}

fn options() -> StorageOptions {
    StorageOptions {
        max_connections: 4,
        ..Default::default()
    }
}

/// `TEST_DATABASE_URL`, or `None` when it is not set (a failure instead
/// when `JIEFEN_REQUIRE_POSTGRES` is set).
pub fn postgres_server_url() -> Option<String> {
    let required = std::env::var(REQUIRE_POSTGRES).is_ok_and(|v| !v.is_empty() && v != "0");
    let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
        assert!(
            !required,
            "{REQUIRE_POSTGRES} is set but TEST_DATABASE_URL is not"
        );
        eprintln!("TEST_DATABASE_URL not set: PostgreSQL half skipped");
        return None;
    };
    Some(url)
}

impl TestDb {
    /// A fresh SQLite database in a temporary folder.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let storage = Storage::connect(&url, &options())
            .await
            .expect("open SQLite");
        storage.migrate().await.expect("migrate SQLite");
        TestDb {
            storage,
            url,
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A fresh PostgreSQL database, or `None` when `TEST_DATABASE_URL` is
    /// not set (a failure instead when `JIEFEN_REQUIRE_POSTGRES` is set).
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = postgres_server_url()?;
        let admin = Storage::connect(
            &admin_url,
            &StorageOptions {
                max_connections: 1,
                ..Default::default()
            },
        )
        .await
        .expect("connect to TEST_DATABASE_URL");
        assert_eq!(
            admin.backend(),
            Backend::Postgres,
            "TEST_DATABASE_URL must be postgres://"
        );
        let name = format!(
            "jiefen_test_{}",
            jiefen::secrets::random_secret(12).to_lowercase()
        );
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(admin.pool())
            .await
            .expect("create test database");
        admin.close().await;
        let url = jiefen::storage::replace_db_name(&admin_url, &name);
        let pg = PgDrop { admin_url, name };
        let storage = Storage::connect(&url, &options())
            .await
            .expect("open test database");
        storage.migrate().await.expect("migrate PostgreSQL");
        Some(TestDb {
            storage,
            url,
            _dir: None,
            pg: Some(pg),
        })
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.storage.backend()
    }

    /// Closes the pool and drops the database.
    pub async fn cleanup(self) {
        self.storage.close().await;
        drop(self.pg);
    }
}
