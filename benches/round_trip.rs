//! What one statement costs through the application's own storage layer,
//! apart from the work the database does for it: a primary-key read and a
//! one-row update of the demo data, inside one transaction, timed in runs
//! of 1,000 statements.
//!
//! Run with `cargo bench --bench round_trip` (SQLite in a temporary
//! folder). Set `BENCH_DATABASE_URL=postgres://…/db` to run it on an empty
//! PostgreSQL database instead (it is migrated and filled by the bench).
//!
//! On SQLite each statement is a round trip to the connection's own thread
//! (sqlx runs every SQLite connection on one), on PostgreSQL one over the
//! socket. Run it once as it is and once confined to one core
//! (`taskset -c 0 cargo bench --bench round_trip`): the difference is what
//! waking a thread on another, idle, core costs on the machine.

mod common;

use std::time::Instant;

const PER_RUN: usize = 1_000;
const RUNS: usize = 15;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let (storage, _dir) = common::demo_storage().await;
    let mut tx = storage.begin().await.expect("begin");
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM committees ORDER BY id")
        .fetch_all(&mut *tx)
        .await
        .expect("committees");
    let (mut reads, mut writes) = (vec![], vec![]);
    for _ in 0..RUNS {
        let t = Instant::now();
        for i in 0..PER_RUN {
            let _: String = sqlx::query_scalar("SELECT name FROM committees WHERE id = $1")
                .bind(ids[i % ids.len()])
                .fetch_one(&mut *tx)
                .await
                .expect("read");
        }
        reads.push(t.elapsed().as_secs_f64() * 1e6 / PER_RUN as f64);
        let t = Instant::now();
        for i in 0..PER_RUN {
            sqlx::query("UPDATE committees SET phone = phone WHERE id = $1")
                .bind(ids[i % ids.len()])
                .execute(&mut *tx)
                .await
                .expect("write");
        }
        writes.push(t.elapsed().as_secs_f64() * 1e6 / PER_RUN as f64);
    }
    tx.rollback().await.expect("rollback");
    println!(
        "{:?}: one statement, median of {RUNS} runs of {PER_RUN}: primary-key read {:.1} µs, one-row update {:.1} µs",
        storage.backend(),
        median(reads),
        median(writes)
    );
}
