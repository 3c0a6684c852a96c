//! Regions: list, and import from CSV (the same format and checks as
//! `jiefen import`).

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Caller, Query, Text};
use super::{audit, AdminState, IMPORT_BODY_LIMIT};
use crate::domain::{Region, RegionCode};
use crate::import::{import, ImportFiles};
use crate::storage;
use axum::extract::{DefaultBodyLimit, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A region.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"code": "620722101", "name": "六坝镇", "level": "township",
    "parent_code": "620722", "lat": 38.605, "lon": 100.8, "population": 30000}))]
pub struct RegionOut {
    /// 6 (county), 9 (township) or 12 (village) digits.
    pub code: String,
    /// Name.
    pub name: String,
    /// `province`, `city`, `county`, `township` or `village`.
    pub level: String,
    /// The parent's code.
    pub parent_code: Option<String>,
    /// Centroid latitude.
    pub lat: Option<f64>,
    /// Centroid longitude.
    pub lon: Option<f64>,
    /// Population, when known.
    pub population: Option<i64>,
}

impl From<Region> for RegionOut {
    fn from(r: Region) -> Self {
        Self {
            level: r.level().code().to_owned(),
            code: r.code.as_str().to_owned(),
            name: r.name,
            parent_code: r.parent_code.map(|p| p.as_str().to_owned()),
            lat: r.centroid.map(|c| c.lat),
            lon: r.centroid.map(|c| c.lon),
            population: r.population,
        }
    }
}

/// Filters of the region list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RegionQuery {
    /// Only the direct children of this region.
    pub parent: Option<String>,
    /// Only regions at this level.
    pub level: Option<String>,
}

/// What an import wrote.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"regions": 12, "committees": 0}))]
pub struct ImportResult {
    /// Regions created or updated.
    pub regions: usize,
    /// Committees created or updated.
    pub committees: usize,
}

pub(super) fn router() -> OpenApiRouter<AdminState> {
    let (schemas, paths, import_route) = routes!(import_regions);
    OpenApiRouter::new().routes(routes!(list_regions)).routes((
        schemas,
        paths,
        import_route.layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)),
    ))
}

/// Lists regions, ordered by code.
#[utoipa::path(get, path = "/api/v1/regions", tag = "regions", params(RegionQuery),
    responses(
        (status = 200, description = "Regions", body = Vec<RegionOut>),
        (status = 400, description = "Bad query string", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
    ))]
async fn list_regions(
    State(state): State<AdminState>,
    _caller: Caller,
    Query(q): Query<RegionQuery>,
) -> ApiResult<axum::Json<Vec<RegionOut>>> {
    let mut conn = state.storage.acquire().await?;
    let regions = match q.parent.as_deref() {
        Some(p) => {
            let p = RegionCode::parse(p)
                .map_err(|e| ApiError::bad_request(Some("parent"), e.message))?;
            storage::regions::children(&mut conn, p.as_str()).await?
        }
        None => storage::regions::list(&mut conn).await?,
    };
    let level = q.level.as_deref().map(str::trim);
    Ok(axum::Json(
        regions
            .into_iter()
            .filter(|r| level.is_none_or(|l| r.level().code() == l))
            .map(RegionOut::from)
            .collect(),
    ))
}

/// Imports regions from CSV (columns `code,name,parent_code,lat,lon,population,illustrative`;
/// `code` and `name` required). Rows are keyed by code: importing twice is
/// the same as once. Every row is checked first; a bad row names its line
/// and field and nothing is written. Admin only.
#[utoipa::path(post, path = "/api/v1/regions/import", tag = "regions",
    request_body(content = String, content_type = "text/csv",
        example = "code,name,parent_code,lat,lon\n620722101,六坝镇,620722,38.605,100.8\n"),
    responses(
        (status = 200, description = "Imported", body = ImportResult),
        (status = 400, description = "Body is not UTF-8", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 413, description = "Larger than 5 MiB", body = ErrorBody),
        (status = 422, description = "A row is wrong (message names line and field)", body = ErrorBody),
    ))]
async fn import_regions(
    State(state): State<AdminState>,
    caller: Caller,
    Text(csv): Text,
) -> ApiResult<axum::Json<ImportResult>> {
    caller.require_admin()?;
    let now = state.now();
    let files = ImportFiles {
        regions: Some(csv),
        ..Default::default()
    };
    let summary = import(&state.storage, &files, now).await?;
    // The import commits its own transaction; the audit row follows it.
    let mut tx = state.storage.begin().await?;
    audit(
        &mut tx,
        now,
        &caller,
        "region.import",
        "region",
        "",
        serde_json::json!({ "regions": summary.regions }),
    )
    .await?;
    tx.commit().await.map_err(storage::StorageError::from)?;
    Ok(axum::Json(ImportResult {
        regions: summary.regions,
        committees: summary.committees,
    }))
}

impl From<crate::import::ImportSummary> for ImportResult {
    fn from(s: crate::import::ImportSummary) -> Self {
        Self {
            regions: s.regions,
            committees: s.committees,
        }
    }
}
