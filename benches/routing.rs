//! Routing at national scale: 700,000 synthetic committees spread over
//! China's extent and 1,000 rules, decided in memory (no database: capacity
//! is answered by a function, as the router's database probe would).
//!
//! Run with `cargo bench --bench routing`. Besides criterion's timings it
//! prints the figures criterion does not give: the p50/p99 of 100,000
//! individually timed decisions, the index build time and the index memory
//! (resident-set growth while building, and the index's own estimate).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode};
use jiefen::domain::{
    Category, Committee, CommitteeKind, GeoPoint, RegionCode, Rule, RuleConditions, RuleTarget,
};
use jiefen::routing::{CaseFacts, RoutingIndex};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Counties on a grid over lat 18–53, lon 73–135 (China's bounding box).
const GRID_ROWS: usize = 50;
const GRID_COLS: usize = 58;
const TOWNSHIPS_PER_COUNTY: usize = 14;
const VILLAGES_PER_COUNTY: usize = 220;
const INDUSTRY: [Category; 6] = [
    Category::Labor,
    Category::Medical,
    Category::Traffic,
    Category::PropertyMgmt,
    Category::Family,
    Category::Consumer,
];
const LAT: (f64, f64) = (18.0, 53.0);
const LON: (f64, f64) = (73.0, 135.0);

struct County {
    code: String,
    cell: (f64, f64, f64, f64),
    industry_ids: Vec<i64>,
}

fn county_code(i: usize) -> String {
    // PPCCDD: province 11.., city 01..10, county 01..09 (never a city code).
    format!("{:02}{:02}{:02}", 11 + i / 90, (i % 90) / 9 + 1, i % 9 + 1)
}

fn point_in(rng: &mut StdRng, cell: (f64, f64, f64, f64)) -> GeoPoint {
    GeoPoint {
        lat: rng.gen_range(cell.0..cell.1),
        lon: rng.gen_range(cell.2..cell.3),
    }
}

fn committees(rng: &mut StdRng) -> (Vec<Committee>, Vec<County>) {
    let dlat = (LAT.1 - LAT.0) / GRID_ROWS as f64;
    let dlon = (LON.1 - LON.0) / GRID_COLS as f64;
    let mut out = Vec::with_capacity(710_000);
    let mut counties = Vec::new();
    let mut id = 0i64;
    let mut push = |out: &mut Vec<Committee>,
                    kind: CommitteeKind,
                    specialties: Vec<Category>,
                    region: String,
                    location: GeoPoint| {
        id += 1;
        out.push(Committee {
            id,
            code: format!("{region}-{id}"),
            name: format!("第{id}号人民调解委员会"),
            kind,
            specialties,
            region_code: RegionCode::parse(&region).expect("synthetic region code"),
            location,
            address: format!("{region}号路{id}号"),
            phone: "0936-1234567".into(),
            capacity: 50,
            active: id % 97 != 0,
            illustrative: true,
        });
        id
    };
    for r in 0..GRID_ROWS {
        for c in 0..GRID_COLS {
            let i = r * GRID_COLS + c;
            let code = county_code(i);
            let lat0 = LAT.0 + r as f64 * dlat;
            let lon0 = LON.0 + c as f64 * dlon;
            let cell = (lat0, lat0 + dlat, lon0, lon0 + dlon);
            let centre = GeoPoint {
                lat: lat0 + dlat / 2.0,
                lon: lon0 + dlon / 2.0,
            };
            push(
                &mut out,
                CommitteeKind::County,
                vec![],
                code.clone(),
                centre,
            );
            push(&mut out, CommitteeKind::Court, vec![], code.clone(), centre);
            let mut industry_ids = Vec::new();
            for s in INDUSTRY {
                let p = point_in(rng, cell);
                industry_ids.push(push(
                    &mut out,
                    CommitteeKind::Industry,
                    vec![s],
                    code.clone(),
                    p,
                ));
            }
            for t in 0..TOWNSHIPS_PER_COUNTY {
                let p = point_in(rng, cell);
                push(
                    &mut out,
                    CommitteeKind::Township,
                    vec![],
                    format!("{code}{:03}", 100 + t),
                    p,
                );
            }
            for v in 0..VILLAGES_PER_COUNTY {
                let p = point_in(rng, cell);
                push(
                    &mut out,
                    CommitteeKind::Village,
                    vec![],
                    format!("{code}{:03}{:03}", 100 + v % TOWNSHIPS_PER_COUNTY, 200 + v),
                    p,
                );
            }
            counties.push(County {
                code,
                cell,
                industry_ids,
            });
        }
    }
    (out, counties)
}

fn nearest(kind: CommitteeKind, specialty: Option<Category>, max: Option<f64>) -> RuleTarget {
    RuleTarget::Nearest {
        kind,
        specialty,
        max_distance_km: max,
        within_county: true,
    }
}

/// 990 county-specific rules (a county's own labour or medical committee)
/// followed by the ten generic rules of the demo table.
fn rules(rng: &mut StdRng, counties: &[County]) -> Vec<Rule> {
    let mut out = Vec::with_capacity(1000);
    for i in 0..990 {
        let county = &counties[rng.gen_range(0..counties.len())];
        let k = rng.gen_range(0..INDUSTRY.len());
        let target = if i % 2 == 0 {
            RuleTarget::Committee {
                committee_id: county.industry_ids[k],
            }
        } else {
            nearest(CommitteeKind::Industry, Some(INDUSTRY[k]), None)
        };
        out.push(Rule {
            id: i + 1,
            priority: (i + 1) * 10,
            name: format!("县规则 {i}"),
            enabled: i % 50 != 0,
            conditions: RuleConditions {
                categories: vec![INDUSTRY[k]],
                region_prefix: Some(county.code.clone()),
                min_parties: None,
                at_risk: None,
            },
            target,
            accept_hours: None,
            resolve_days: None,
        });
    }
    let generic: [(RuleConditions, RuleTarget); 10] = [
        (
            RuleConditions {
                at_risk: Some(true),
                ..Default::default()
            },
            nearest(CommitteeKind::County, None, None),
        ),
        (
            cats(Category::Labor),
            nearest(CommitteeKind::Industry, Some(Category::Labor), None),
        ),
        (
            cats(Category::Medical),
            nearest(CommitteeKind::Industry, Some(Category::Medical), None),
        ),
        (
            cats(Category::Traffic),
            nearest(CommitteeKind::Industry, Some(Category::Traffic), None),
        ),
        (
            cats(Category::PropertyMgmt),
            nearest(CommitteeKind::Industry, Some(Category::PropertyMgmt), None),
        ),
        (
            cats(Category::Family),
            nearest(CommitteeKind::Industry, Some(Category::Family), None),
        ),
        (
            cats(Category::Consumer),
            nearest(CommitteeKind::Industry, Some(Category::Consumer), None),
        ),
        (
            cats(Category::Expropriation),
            nearest(CommitteeKind::County, None, None),
        ),
        (
            RuleConditions {
                min_parties: Some(5),
                ..Default::default()
            },
            nearest(CommitteeKind::Township, None, None),
        ),
        (
            RuleConditions::default(),
            nearest(CommitteeKind::Village, None, Some(15.0)),
        ),
    ];
    for (j, (conditions, target)) in generic.into_iter().enumerate() {
        let id = 991 + j as i64;
        out.push(Rule {
            id,
            priority: 100_000 + id,
            name: format!("通用规则 {j}"),
            enabled: true,
            conditions,
            target,
            accept_hours: None,
            resolve_days: None,
        });
    }
    out
}

fn cats(c: Category) -> RuleConditions {
    RuleConditions {
        categories: vec![c],
        ..Default::default()
    }
}

fn cases(rng: &mut StdRng, counties: &[County], n: usize) -> Vec<CaseFacts> {
    (0..n)
        .map(|_| {
            let county = &counties[rng.gen_range(0..counties.len())];
            let v = rng.gen_range(0..VILLAGES_PER_COUNTY);
            CaseFacts {
                category: Category::ALL[rng.gen_range(0..Category::ALL.len())],
                point: point_in(rng, county.cell),
                region_code: RegionCode::parse(&format!(
                    "{}{:03}{:03}",
                    county.code,
                    100 + v % TOWNSHIPS_PER_COUNTY,
                    200 + v
                ))
                .expect("synthetic case region"),
                party_count: if rng.gen_bool(0.1) {
                    6
                } else {
                    rng.gen_range(1..4)
                },
                at_risk: rng.gen_bool(0.02),
            }
        })
        .collect()
}

/// About 2% of committees are full.
fn has_room(id: i64, _capacity: i64) -> bool {
    id % 50 != 7
}

fn rss_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = s.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn mb(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

fn routing(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(2026);
    let (committees, counties) = committees(&mut rng);
    let rules = rules(&mut rng, &counties);
    let cases = cases(&mut rng, &counties, 100_000);
    println!(
        "routing: {} committees, {} rules, {} cases",
        committees.len(),
        rules.len(),
        cases.len()
    );

    let rss_before = rss_bytes();
    let start = Instant::now();
    let index = RoutingIndex::build(1, &committees, rules.clone());
    let first_build = start.elapsed();
    let rss_after = rss_bytes();
    if let (Some(a), Some(b)) = (rss_before, rss_after) {
        println!(
            "routing: index memory (RSS growth while building) {:.1} MB",
            mb(b.saturating_sub(a))
        );
    }
    println!(
        "routing: index memory (estimate of its heap) {:.1} MB",
        mb(index.approx_heap_bytes() as u64)
    );
    let mut builds = vec![first_build];
    for _ in 0..2 {
        let t = Instant::now();
        black_box(RoutingIndex::build(1, &committees, rules.clone()));
        builds.push(t.elapsed());
    }
    builds.sort();
    println!(
        "routing: index build: min {:?}, median {:?}, max {:?} (3 builds)",
        builds[0], builds[1], builds[2]
    );

    // Warm up, then time each decision on its own for the tail.
    for f in cases.iter().take(10_000) {
        black_box(index.decide_sync(f, &[], has_room));
    }
    let mut times: Vec<Duration> = Vec::with_capacity(cases.len());
    let mut unrouted = 0;
    for f in &cases {
        let t = Instant::now();
        let choice = index.decide_sync(black_box(f), &[], has_room);
        times.push(t.elapsed());
        unrouted += usize::from(choice.committee_id.is_none());
        black_box(choice);
    }
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "routing: decide over {} cases: p50 {:?}, p90 {:?}, p99 {:?}, p99.9 {:?}, max {:?} ({} unrouted)",
        times.len(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(0.999),
        times[times.len() - 1],
        unrouted
    );

    let mut g = c.benchmark_group("routing");
    g.sample_size(50).measurement_time(Duration::from_secs(8));
    let mut i = 0;
    g.bench_function("decide", |b| {
        b.iter(|| {
            i = (i + 1) % cases.len();
            index.decide_sync(black_box(&cases[i]), &[], has_room)
        })
    });
    g.bench_function("decide_after_two_declines", |b| {
        b.iter(|| {
            i = (i + 1) % cases.len();
            let f = &cases[i];
            let first = index.decide_sync(f, &[], has_room).committee_id;
            let excluded: Vec<i64> = first.into_iter().collect();
            let second = index.decide_sync(f, &excluded, has_room).committee_id;
            let excluded: Vec<i64> = excluded.into_iter().chain(second).collect();
            index.decide_sync(black_box(f), &excluded, has_room)
        })
    });
    g.bench_function("escalate_from_village", |b| {
        b.iter(|| {
            i = (i + 1) % cases.len();
            // Committee 23 is a village committee (each county's ids run
            // centre, court, 6 industry, 14 townships, then villages); the
            // ladder is walked from the case's own region.
            index.escalate_sync(black_box(&cases[i]), 23, &[], has_room)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("routing_rebuild");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(15));
    g.bench_function("build_index_700k", |b| {
        b.iter_batched(
            || rules.clone(),
            |r| RoutingIndex::build(1, &committees, r),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, routing);
criterion_main!(benches);
