//! Early warning at scale: cluster detection for one newly filed case
//! against 100,000 open cases, on a real database.
//!
//! Run with `cargo bench --bench oversight` (SQLite in a temporary folder).
//! Set `BENCH_DATABASE_URL=postgres://…/db` to run it on an empty
//! PostgreSQL database instead (it is migrated and filled by the bench).
//!
//! The caseload is deliberately dense: 100,000 cases filed over the last 30
//! days inside a 100 km × 100 km square (a whole prefecture's intake in one
//! county-sized area), every category. At that density a 2 km / 7-day
//! neighbourhood of one category group holds about five cases, so many timed
//! filings raise or join a cluster — the expensive path is measured, not
//! only the empty one. Each timed filing runs in its own transaction, which
//! is rolled back, so the caseload stays the same.
//!
//! Besides criterion's timing it prints the p50/p90/p99 of individually
//! timed detections and the SQLite query plan of the candidate query.

use criterion::{criterion_group, criterion_main, Criterion};
use jiefen::domain::{CaseNumber, Category, GeoPoint, RegionCode};
use jiefen::oversight::clusters::{self, ClusterSettings};
use jiefen::storage::cases::{self, NewCaseRow};
use jiefen::storage::{Backend, Storage};

mod common;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

const CASES: i64 = 100_000;
const DAY: i64 = 86_400_000;
/// 2026-11-21 08:00 UTC.
const NOW: i64 = 1_795_248_000_000;

fn random_point(rng: &mut StdRng) -> GeoPoint {
    // 0.9° of latitude ≈ 100 km; 1.15° of longitude ≈ 100 km at 38.5°N.
    GeoPoint {
        lat: rng.gen_range(38.0..38.9),
        lon: rng.gen_range(100.3..101.45),
    }
}

fn new_case(rng: &mut StdRng, seq: i64, resident: i64, at: i64) -> NewCaseRow {
    let region = RegionCode::parse("620722101201").expect("demo village code");
    NewCaseRow {
        number: CaseNumber::new(&region, 2026, seq),
        resident_id: resident,
        language: "zh-CN".into(),
        category: Category::ALL[rng.gen_range(0..Category::ALL.len())],
        description: "benchmark case".into(),
        other_party: String::new(),
        party_count: rng.gen_range(1..4),
        point: Some(random_point(rng)),
        location_source: "shared".into(),
        address: String::new(),
        region_code: region,
        at_risk: false,
        contact_phone: None,
        now: at,
    }
}

struct Fixture {
    storage: Storage,
    resident: i64,
    _dir: Option<tempfile::TempDir>,
}

async fn fixture() -> Fixture {
    let (storage, dir) = common::demo_storage().await;
    let mut tx = storage.begin().await.expect("begin");
    let resident = jiefen::storage::residents::record_consent(&mut tx, 1, 1, "zh-CN", 0)
        .await
        .expect("resident")
        .id;
    tx.commit().await.expect("commit");

    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(2026);
    let mut seq = 0;
    while seq < CASES {
        let mut tx = storage.begin().await.expect("begin");
        for _ in 0..5_000 {
            seq += 1;
            let at = NOW - rng.gen_range(0..30 * DAY);
            cases::insert(&mut tx, &new_case(&mut rng, seq, resident, at))
                .await
                .expect("insert case");
        }
        tx.commit().await.expect("commit");
    }
    if storage.backend() == Backend::Postgres {
        sqlx::query("ANALYZE cases")
            .execute(storage.pool())
            .await
            .expect("analyze");
    } else {
        sqlx::query("ANALYZE")
            .execute(storage.pool())
            .await
            .expect("analyze");
    }
    eprintln!(
        "[oversight] {} open cases inserted in {:.1} s ({:?})",
        CASES,
        started.elapsed().as_secs_f64(),
        storage.backend()
    );
    Fixture {
        storage,
        resident,
        _dir: dir,
    }
}

/// Files one case and runs detection on it in a transaction that is rolled
/// back; returns the time detection took and whether it changed an alert.
async fn one(f: &Fixture, rng: &mut StdRng, seq: i64) -> (Duration, bool) {
    let settings = ClusterSettings::default();
    let mut tx = f.storage.begin().await.expect("begin");
    let id = cases::insert(&mut tx, &new_case(rng, seq, f.resident, NOW))
        .await
        .expect("insert");
    let t = Instant::now();
    let change = clusters::on_case_filed(&mut tx, id, &settings, NOW, None)
        .await
        .expect("detect");
    let took = t.elapsed();
    tx.rollback().await.expect("rollback");
    (took, change.is_some())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let f = rt.block_on(fixture());

    if f.storage.backend() == Backend::Sqlite {
        let plan: Vec<String> = rt.block_on(async {
            let rows = sqlx::query(
                "EXPLAIN QUERY PLAN SELECT c.id FROM cases c
                 WHERE c.category IN ('labor', 'debt') AND c.lat >= 38.4 AND c.lat <= 38.44
                   AND c.lon >= 100.8 AND c.lon <= 100.85 AND c.submitted_at >= 0
                   AND c.submitted_at <= 1 AND c.status <> 'withdrawn'",
            )
            .fetch_all(f.storage.pool())
            .await
            .expect("plan");
            use sqlx::Row;
            rows.iter()
                .map(|r| r.try_get::<String, _>("detail").unwrap_or_default())
                .collect()
        });
        eprintln!("[oversight] candidate query plan: {}", plan.join(" | "));
    }

    let mut rng = StdRng::seed_from_u64(7);
    let mut seq = 900_000;
    let mut times = Vec::with_capacity(2_000);
    let mut changed = 0;
    rt.block_on(async {
        for _ in 0..2_000 {
            seq += 1;
            let (d, ch) = one(&f, &mut rng, seq).await;
            times.push(d);
            changed += usize::from(ch);
        }
    });
    times.sort();
    eprintln!(
        "[oversight] detection over {} open cases, {} filings timed one by one ({} raised or joined an alert): p50 {:?}, p90 {:?}, p99 {:?}, max {:?}",
        CASES,
        times.len(),
        changed,
        percentile(&times, 0.5),
        percentile(&times, 0.9),
        percentile(&times, 0.99),
        times[times.len() - 1],
    );

    let mut group = c.benchmark_group("oversight");
    group.sample_size(50);
    group.bench_function("on_case_filed_100k_open_cases", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    seq += 1;
                    total += one(&f, &mut rng, seq).await.0;
                }
                total
            })
        })
    });
    group.finish();
    rt.block_on(f.storage.close());
}

criterion_group!(benches, bench);
criterion_main!(benches);
