//! Set-up shared by the benches that run on a real database.

use jiefen::storage::{Storage, StorageOptions};

/// A migrated database with the demo data: `BENCH_DATABASE_URL` when set
/// (an empty PostgreSQL database), else SQLite in a temporary folder,
/// which lives as long as the returned guard.
pub async fn demo_storage() -> (Storage, Option<tempfile::TempDir>) {
    let (url, dir) = match std::env::var("BENCH_DATABASE_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let dir = tempfile::tempdir().expect("temporary folder");
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            (url, Some(dir))
        }
    };
    let storage = Storage::connect(&url, &StorageOptions::default())
        .await
        .expect("open the database");
    storage.migrate().await.expect("migrate");
    jiefen::import::import(&storage, &jiefen::import::demo_files(), 0)
        .await
        .expect("demo data");
    (storage, dir)
}
