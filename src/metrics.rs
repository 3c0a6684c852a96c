//! Prometheus metrics served at `/metrics`.
//!
//! [`Metrics`] is a cheap handle (an `Arc`) that every part of the service
//! clones: the Telegram intake counts updates received and applied, handlers
//! report their latency, the outbox worker counts send outcomes, routing
//! counts its decisions. Gauges that describe the database (outbox depth,
//! early-warning queue, cases by status) are not kept in memory: they are read from the database
//! at scrape time by [`Metrics::scrape`], so every instance reports the same
//! truth and a restart loses nothing (DESIGN.md guarantee 3).

use crate::domain::CaseStatus;
use crate::storage::{self, Storage, StorageError};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Duration;

type Labels = Vec<(&'static str, &'static str)>;

/// Send outcomes the outbox worker reports; anything else counts as `other`
/// so a typo cannot create unbounded label values.
const SEND_OUTCOMES: [&str; 4] = ["sent", "retry", "failed", "dropped"];
/// Routing decision outcomes.
const ROUTING_OUTCOMES: [&str; 4] = ["rule", "fallback", "escalation", "unrouted"];

/// The service's metrics; clone it freely.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    updates_received: Counter,
    updates_applied: Counter,
    handler_seconds: Histogram,
    send_outcomes: Family<Labels, Counter>,
    routing_decisions: Family<Labels, Counter>,
    outbox_depth: Gauge,
    early_warning_depth: Gauge,
    cases_by_status: Family<Labels, Gauge>,
    // Scrapes are serialised so two concurrent scrapes do not interleave
    // setting the database gauges and encoding them.
    scrape_lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn bounded(value: &str, known: &[&'static str]) -> &'static str {
    known
        .iter()
        .copied()
        .find(|k| *k == value)
        .unwrap_or("other")
}

impl Metrics {
    /// A fresh registry with every metric registered (all start at zero).
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("jiefen");
        let updates_received = Counter::default();
        registry.register(
            "telegram_updates_received",
            "Telegram updates written to the inbox",
            updates_received.clone(),
        );
        let updates_applied = Counter::default();
        registry.register(
            "telegram_updates_applied",
            "Telegram updates whose effects were committed",
            updates_applied.clone(),
        );
        // 1 ms to about 33 s.
        let handler_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        registry.register(
            "handler_seconds",
            "Time to handle one update, seconds",
            handler_seconds.clone(),
        );
        let send_outcomes = Family::<Labels, Counter>::default();
        registry.register(
            "outbox_sends",
            "Outgoing message attempts by outcome (sent, retry, failed, dropped)",
            send_outcomes.clone(),
        );
        let routing_decisions = Family::<Labels, Counter>::default();
        registry.register(
            "routing_decisions",
            "Routing decisions by outcome (rule, fallback, escalation, unrouted)",
            routing_decisions.clone(),
        );
        let outbox_depth = Gauge::default();
        registry.register(
            "outbox_pending",
            "Outgoing messages waiting to be sent (read from the database at scrape time)",
            outbox_depth.clone(),
        );
        let early_warning_depth = Gauge::default();
        registry.register(
            "early_warning_pending",
            "Filed cases waiting for early warning (read from the database at scrape time)",
            early_warning_depth.clone(),
        );
        let cases_by_status = Family::<Labels, Gauge>::default();
        registry.register(
            "cases",
            "Cases by status (read from the database at scrape time)",
            cases_by_status.clone(),
        );
        // Every label value exists from the start so dashboards see zeros.
        for o in SEND_OUTCOMES {
            let _ = send_outcomes.get_or_create(&vec![("outcome", o)]);
        }
        for o in ROUTING_OUTCOMES {
            let _ = routing_decisions.get_or_create(&vec![("outcome", o)]);
        }
        for s in CaseStatus::ALL {
            let _ = cases_by_status.get_or_create(&vec![("status", s.code())]);
        }
        Self {
            inner: Arc::new(Inner {
                registry,
                updates_received,
                updates_applied,
                handler_seconds,
                send_outcomes,
                routing_decisions,
                outbox_depth,
                early_warning_depth,
                cases_by_status,
                scrape_lock: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// One Telegram update was written to the inbox.
    pub fn update_received(&self) {
        self.inner.updates_received.inc();
    }

    /// One Telegram update's effects were committed.
    pub fn update_applied(&self) {
        self.inner.updates_applied.inc();
    }

    /// A handler took `elapsed`.
    pub fn observe_handler(&self, elapsed: Duration) {
        self.inner.handler_seconds.observe(elapsed.as_secs_f64());
    }

    /// One send attempt ended with `outcome`: `sent`, `retry`, `failed` or
    /// `dropped` (anything else is counted as `other`).
    pub fn send_outcome(&self, outcome: &str) {
        let o = bounded(outcome, &SEND_OUTCOMES);
        self.inner
            .send_outcomes
            .get_or_create(&vec![("outcome", o)])
            .inc();
    }

    /// Routing decided a case by `outcome`: `rule`, `fallback`, `escalation`
    /// or `unrouted` (anything else is counted as `other`).
    pub fn routing_decision(&self, outcome: &str) {
        let o = bounded(outcome, &ROUTING_OUTCOMES);
        self.inner
            .routing_decisions
            .get_or_create(&vec![("outcome", o)])
            .inc();
    }

    /// Reads the database gauges and renders every metric in the Prometheus
    /// text format.
    pub async fn scrape(&self, storage: &Storage) -> Result<String, StorageError> {
        let _guard = self.inner.scrape_lock.lock().await;
        let mut conn = storage.acquire().await?;
        let depth = storage::stats::outbox_depth(&mut conn).await?;
        let early_warning = storage::stats::early_warning_depth(&mut conn).await?;
        let counts = storage::stats::case_status_counts(&mut conn).await?;
        drop(conn);
        self.inner.outbox_depth.set(depth);
        self.inner.early_warning_depth.set(early_warning);
        for s in CaseStatus::ALL {
            let n = counts
                .iter()
                .find(|(code, _)| code == s.code())
                .map(|(_, n)| *n)
                .unwrap_or(0);
            self.inner
                .cases_by_status
                .get_or_create(&vec![("status", s.code())])
                .set(n);
        }
        Ok(self.render())
    }

    /// Renders the metrics as they are now (without reading the database).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.inner.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_show_in_the_text_format_with_bounded_labels() {
        let m = Metrics::new();
        m.update_received();
        m.update_received();
        m.send_outcome("sent");
        m.send_outcome("bogus");
        m.routing_decision("rule");
        m.observe_handler(Duration::from_millis(5));
        let text = m.render();
        assert!(
            text.contains("jiefen_telegram_updates_received_total 2"),
            "{text}"
        );
        assert!(text.contains(r#"jiefen_outbox_sends_total{outcome="sent"} 1"#));
        assert!(text.contains(r#"jiefen_outbox_sends_total{outcome="other"} 1"#));
        assert!(text.contains(r#"jiefen_routing_decisions_total{outcome="rule"} 1"#));
        assert!(text.contains("jiefen_handler_seconds_count 1"));
    }
}
