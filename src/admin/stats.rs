//! Statistics over a period and region, with each metric's definition in
//! the API documentation.

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Caller, Query};
use super::{iso, parse_instant, AdminState};
use crate::domain::RegionCode;
use crate::storage::stats::{self, Scope};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const DAY_MS: i64 = 86_400_000;

/// The period and region.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Start, inclusive: `YYYY-MM-DD` (local time zone) or RFC 3339. Default: 30 days before `to`.
    pub from: Option<String>,
    /// End: `YYYY-MM-DD` (that whole day included) or RFC 3339 (exclusive). Default: now.
    pub to: Option<String>,
    /// Region-code prefix (6, 9 or 12 digits). Default: every region.
    pub region: Option<String>,
}

/// A count under a key.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Count {
    /// The key (a status, category, township code, committee id or rating).
    pub key: String,
    /// How many.
    pub count: i64,
}

/// Satisfaction ratings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Satisfaction {
    /// Ratings given, over cases resolved in the period.
    pub rated: i64,
    /// Mean rating (1–5); null without ratings.
    pub mean: Option<f64>,
    /// How many of each rating, keys `1` to `5`.
    pub distribution: Vec<Count>,
}

/// Whether agreements were carried out (履行).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FulfilmentStats {
    /// Answers to the follow-up question, over cases resolved in the period.
    pub answered: i64,
    /// Answered "carried out in full".
    pub full: i64,
    /// Answered "partly".
    pub partial: i64,
    /// Answered "not carried out".
    pub none: i64,
    /// Fulfilment rate = full / answered; null without answers.
    pub rate: Option<f64>,
}

/// Statistics of a period and region.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"from": "2026-10-22T00:00:00Z", "to": "2026-11-21T00:00:00Z", "region": "620722",
    "submitted": 2, "by_status": [{"key": "resolved", "count": 1}, {"key": "assigned", "count": 1}],
    "by_category": [{"key": "labor", "count": 2}], "by_region": [{"key": "620722101", "count": 2}],
    "by_committee": [{"key": "9", "count": 2}], "resolved": 1, "failed": 0, "resolution_rate": 1.0,
    "median_hours_to_accept": 3.5, "median_days_to_resolve": 6.0, "accept_deadline_breaches": 0,
    "resolve_deadline_breaches": 0,
    "satisfaction": {"rated": 1, "mean": 5.0, "distribution": [{"key": "5", "count": 1}]},
    "fulfilment": {"answered": 1, "full": 1, "partial": 0, "none": 0, "rate": 1.0}}))]
pub struct StatsOut {
    /// Start of the period (inclusive).
    pub from: String,
    /// End of the period (exclusive).
    pub to: String,
    /// Region-code prefix, empty for all.
    pub region: String,
    /// Cases submitted in the period (`submitted_at` in [from, to)).
    pub submitted: i64,
    /// Cases submitted in the period by their status now.
    pub by_status: Vec<Count>,
    /// Cases submitted in the period by category.
    pub by_category: Vec<Count>,
    /// Cases submitted in the period by township (the first 9 digits of the
    /// case's region code; a county-level code stays as it is).
    pub by_region: Vec<Count>,
    /// Cases submitted in the period by the committee holding them now
    /// (key: committee id, `0` for none).
    pub by_committee: Vec<Count>,
    /// Cases resolved with an agreement in the period (`resolved_at` in the period).
    pub resolved: i64,
    /// Cases whose mediation failed in the period (a timeline event into
    /// `failed` in the period) and that never reached agreement.
    pub failed: i64,
    /// 化解率 (resolution rate) = resolved / (resolved + failed), over cases
    /// whose mediation finished in the period as counted above; null when
    /// none finished. Withdrawn cases and cases still open do not count.
    pub resolution_rate: Option<f64>,
    /// Median hours from assignment to acceptance, over cases accepted in
    /// the period (`accepted_at` in the period); null when none.
    pub median_hours_to_accept: Option<f64>,
    /// Median days from submission to resolution, over cases resolved in
    /// the period; null when none.
    pub median_days_to_resolve: Option<f64>,
    /// Accept-deadline breaches: cases whose accept deadline fell in the
    /// period (and has passed) and that were accepted after it or are still
    /// waiting, assigned, for acceptance.
    pub accept_deadline_breaches: i64,
    /// Resolve-deadline breaches: cases whose resolve deadline fell in the
    /// period (and has passed) and that were resolved after it or are still
    /// assigned, accepted or scheduled.
    pub resolve_deadline_breaches: i64,
    /// Satisfaction over cases resolved in the period.
    pub satisfaction: Satisfaction,
    /// Fulfilment over cases resolved in the period.
    pub fulfilment: FulfilmentStats,
}

pub(super) fn router() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new().routes(routes!(get_stats))
}

fn counts(v: Vec<(String, i64)>) -> Vec<Count> {
    v.into_iter()
        .map(|(key, count)| Count { key, count })
        .collect()
}

/// The median of a list of durations in ms, converted by `unit_ms`.
fn median(mut v: Vec<i64>, unit_ms: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    let m = if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0
    };
    Some((m / unit_ms * 10.0).round() / 10.0)
}

fn ratio(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| (num as f64 / den as f64 * 1000.0).round() / 1000.0)
}

/// Statistics for a period and region. Each number's definition is given
/// with its field below; periods are half-open `[from, to)`; "in the
/// period" means the named instant falls in it; `region` filters by the
/// case's region code.
#[utoipa::path(get, path = "/api/v1/stats", tag = "stats", params(StatsQuery),
    responses(
        (status = 200, description = "Statistics", body = StatsOut),
        (status = 400, description = "Bad query string, or from not before to", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
    ))]
async fn get_stats(
    State(state): State<AdminState>,
    _caller: Caller,
    Query(q): Query<StatsQuery>,
) -> ApiResult<axum::Json<StatsOut>> {
    let tz = state.policy.timezone;
    let now = state.now();
    let to = match &q.to {
        Some(s) => parse_instant(s, "to", tz, true)?,
        None => now,
    };
    let from = match &q.from {
        Some(s) => parse_instant(s, "from", tz, false)?,
        None => to.saturating_sub(30 * DAY_MS),
    };
    if from >= to {
        return Err(ApiError::bad_request(
            Some("from"),
            "from must be before to",
        ));
    }
    let region = q
        .region
        .as_deref()
        .map(RegionCode::parse_prefix)
        .transpose()
        .map_err(|e| ApiError::bad_request(Some("region"), e.message))?
        .unwrap_or_default();
    let scope = Scope {
        from,
        to,
        region_prefix: region.clone(),
    };
    let mut conn = state.storage.acquire().await?;
    let by_status = stats::submitted_by(&mut conn, &scope, "status").await?;
    let submitted = by_status.iter().map(|(_, n)| n).sum();
    let by_category = stats::submitted_by(&mut conn, &scope, "category").await?;
    let by_region = stats::submitted_by(&mut conn, &scope, "township").await?;
    let by_committee = stats::submitted_by(&mut conn, &scope, "committee").await?;
    let resolved = stats::resolved_in(&mut conn, &scope).await?;
    let failed = stats::failed_in(&mut conn, &scope).await?;
    let accept = stats::accept_durations(&mut conn, &scope).await?;
    let resolve = stats::resolve_durations(&mut conn, &scope).await?;
    let accept_breaches = stats::accept_breaches(&mut conn, &scope, now).await?;
    let resolve_breaches = stats::resolve_breaches(&mut conn, &scope, now).await?;
    let ratings = stats::ratings(&mut conn, &scope).await?;
    let fulfilment = stats::fulfilment(&mut conn, &scope).await?;
    drop(conn);

    let rated: i64 = ratings.iter().map(|(_, n)| n).sum();
    let rating_sum: i64 = ratings.iter().map(|(r, n)| r * n).sum();
    let answer = |k: &str| {
        fulfilment
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    let (full, partial, none) = (answer("full"), answer("partial"), answer("none"));
    let answered = full + partial + none;
    Ok(axum::Json(StatsOut {
        from: iso(from),
        to: iso(to),
        region,
        submitted,
        by_status: counts(by_status),
        by_category: counts(by_category),
        by_region: counts(by_region),
        by_committee: counts(by_committee),
        resolved,
        failed,
        resolution_rate: ratio(resolved, resolved + failed),
        median_hours_to_accept: median(accept, 3_600_000.0),
        median_days_to_resolve: median(resolve, DAY_MS as f64),
        accept_deadline_breaches: accept_breaches,
        resolve_deadline_breaches: resolve_breaches,
        satisfaction: Satisfaction {
            rated,
            mean: (rated > 0).then(|| ((rating_sum as f64 / rated as f64) * 100.0).round() / 100.0),
            distribution: ratings
                .into_iter()
                .map(|(r, n)| Count {
                    key: r.to_string(),
                    count: n,
                })
                .collect(),
        },
        fulfilment: FulfilmentStats {
            answered,
            full,
            partial,
            none,
            rate: ratio(full, answered),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_list_is_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![], 1.0), None);
        assert_eq!(median(vec![3, 1, 2], 1.0), Some(2.0));
        assert_eq!(median(vec![4, 1, 3, 2], 1.0), Some(2.5));
        assert_eq!(ratio(1, 3), Some(0.333));
        assert_eq!(ratio(0, 0), None);
    }
}
