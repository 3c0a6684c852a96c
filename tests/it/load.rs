//! The load tool (`jiefen-load`), run small: it must start the real
//! application against the fake Bot API, file every case it drives, and
//! report figures that agree with each other. The figures themselves are
//! measured with a release build (BENCHMARKS.md), not here.

use std::collections::HashMap;
use std::process::Command;

fn load(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_jiefen-load"))
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("run jiefen-load");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "jiefen-load {args:?} failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The `key=value` pairs of the SUMMARY line, numbers without their unit.
fn summary(stdout: &str) -> HashMap<String, String> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("SUMMARY "))
        .unwrap_or_else(|| panic!("no SUMMARY line in:\n{stdout}"));
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn number(s: &HashMap<String, String>, key: &str) -> f64 {
    let v = s.get(key).unwrap_or_else(|| panic!("no {key} in {s:?}"));
    v.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '%')
        .parse()
        .unwrap_or_else(|e| panic!("{key}={v}: {e}"))
}

fn filings(db: &str, mode: &str) {
    let residents = 30;
    let out = load(&[
        "filings",
        "--db",
        db,
        "--mode",
        mode,
        "--residents",
        &residents.to_string(),
        "--latency-rate",
        "10",
        "--latency-updates",
        "10",
        "--think-ms",
        "1200",
        "--floor-secs",
        "1",
        "--deadline-secs",
        "240",
    ]);
    // Every step of every saturation resident was applied, and every
    // filing of both phases is a case with no update left undone.
    assert!(
        out.contains(&format!("saturation: {} updates applied", residents * 10)),
        "{out}"
    );
    let checks = out
        .lines()
        .find(|l| l.starts_with("checks: "))
        .unwrap_or_else(|| panic!("no checks line in:\n{out}"));
    let filed: Vec<u64> = checks
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(filed[0], filed[1], "{checks}");
    assert!(filed[0] > residents, "{checks}");
    assert!(checks.contains(" 0 updates not done"), "{checks}");

    let s = summary(&out);
    assert_eq!(s["mode"].to_lowercase(), mode);
    let floor = number(&s, "floor");
    let applied = number(&s, "applied");
    assert!(floor > 0.0 && applied > 0.0, "{s:?}");
    let ratio = number(&s, "ratio");
    assert!(
        (ratio - applied / floor).abs() < 0.01 + 0.01 * ratio,
        "{s:?}"
    );
    let (p50, p99) = (number(&s, "p50"), number(&s, "p99"));
    assert!(0.0 < p50 && p50 <= p99, "{s:?}");
    let (idle, peak) = (number(&s, "idle_rss"), number(&s, "peak_rss"));
    assert!(0.0 < idle && idle <= peak, "{s:?}");
}

fn fanout(db: &str) {
    let chats = 60;
    let out = load(&["fanout", "--db", db, "--chats", &chats.to_string()]);
    assert!(
        out.contains(&format!("fan-out: {chats} messages to {chats} chats")),
        "{out}"
    );
    let s = summary(&out);
    // Never faster than Telegram's 30 a second allows, and never refused.
    assert!(number(&s, "total") >= number(&s, "floor"), "{s:?}");
    assert_eq!(s["429s"], "0", "{s:?}");
}

mod filings_by_webhook {
    #[test]
    fn sqlite() {
        super::filings("sqlite", "webhook");
    }
}

mod filings_by_polling {
    #[test]
    fn postgres() {
        if let Some(url) = crate::support::db::postgres_server_url() {
            super::filings(&url, "polling");
        }
    }
}

mod fanout_at_telegrams_limits {
    #[test]
    fn sqlite() {
        super::fanout("sqlite");
    }

    #[test]
    fn postgres() {
        if let Some(url) = crate::support::db::postgres_server_url() {
            super::fanout(&url);
        }
    }
}
