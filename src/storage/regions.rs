//! Regions: the administrative hierarchy and its centroids.

use super::{classify, flag, get_flag, BindOptF64, Conn, StorageError};
use crate::domain::{GeoPoint, Region, RegionCode};
use sqlx::Row;

fn row_to_region(r: &sqlx::any::AnyRow) -> Result<Region, StorageError> {
    let code: String = r.try_get("code")?;
    let parent: Option<String> = r.try_get("parent_code")?;
    let lat: Option<f64> = r.try_get("lat")?;
    let lon: Option<f64> = r.try_get("lon")?;
    let corrupt = |e: crate::domain::DomainError| StorageError::Corrupt(e.to_string());
    Ok(Region {
        code: RegionCode::parse(&code).map_err(corrupt)?,
        name: r.try_get("name")?,
        parent_code: parent
            .map(|p| RegionCode::parse(&p))
            .transpose()
            .map_err(corrupt)?,
        centroid: match (lat, lon) {
            (Some(lat), Some(lon)) => Some(GeoPoint { lat, lon }),
            _ => None,
        },
        population: r.try_get("population")?,
        illustrative: get_flag(r, "illustrative")?,
    })
}

const COLUMNS: &str = "code, name, level, parent_code, lat, lon, population, illustrative";

/// Inserts or replaces a region (keyed by code).
pub async fn upsert(conn: &mut Conn, region: &Region) -> Result<(), StorageError> {
    sqlx::query(&format!(
        "INSERT INTO regions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
           parent_code = excluded.parent_code, lat = excluded.lat, lon = excluded.lon,
           population = excluded.population, illustrative = excluded.illustrative"
    ))
    .bind(region.code.as_str())
    .bind(&region.name)
    .bind(region.level().code())
    .bind(region.parent_code.as_ref().map(|c| c.as_str().to_owned()))
    .bind_opt_f64(region.centroid.map(|p| p.lat))
    .bind_opt_f64(region.centroid.map(|p| p.lon))
    .bind(region.population)
    .bind(flag(region.illustrative))
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(e, &format!("region {}", region.code)))?;
    Ok(())
}

/// One region by code.
pub async fn get(conn: &mut Conn, code: &str) -> Result<Option<Region>, StorageError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM regions WHERE code = $1"))
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(row_to_region).transpose()
}

/// The regions with these codes, in one statement (those that exist, in no
/// particular order).
pub async fn get_many(conn: &mut Conn, codes: &[&str]) -> Result<Vec<Region>, StorageError> {
    if codes.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM regions WHERE code IN ({})",
        super::placeholder_list(codes.len(), 0)
    );
    let mut q = sqlx::query(&sql);
    for c in codes {
        q = q.bind(*c);
    }
    let rows = q.fetch_all(&mut *conn).await?;
    rows.iter().map(row_to_region).collect()
}

/// Every region, ordered by code.
pub async fn list(conn: &mut Conn) -> Result<Vec<Region>, StorageError> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM regions ORDER BY code"))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(row_to_region).collect()
}

/// The direct children of a region, ordered by code (for the region picker).
pub async fn children(conn: &mut Conn, parent: &str) -> Result<Vec<Region>, StorageError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM regions WHERE parent_code = $1 ORDER BY code"
    ))
    .bind(parent)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(row_to_region).collect()
}

/// Villages, townships and counties whose centroid may lie within
/// `radius_km` of `p`, in one statement: every one that does, and some
/// just outside (a box around the circle), ordered by code. The caller
/// measures the distance.
pub async fn placed_near(
    conn: &mut Conn,
    p: GeoPoint,
    radius_km: f64,
) -> Result<Vec<Region>, StorageError> {
    // Degrees of latitude per km on the sphere distance_km uses, with a
    // margin; longitude degrees widen with the latitude.
    let dlat = radius_km.max(0.0) / (crate::domain::EARTH_RADIUS_KM * std::f64::consts::PI / 180.0)
        * 1.1
        + 1e-6;
    let edge = (p.lat.abs() + dlat).to_radians();
    let mut dlon = if edge < 89f64.to_radians() {
        dlat / edge.cos()
    } else {
        // Near a pole every longitude is close.
        360.0
    };
    if p.lon - dlon < -180.0 || p.lon + dlon > 180.0 {
        // A box across the antimeridian: every longitude.
        dlon = 360.0;
    }
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM regions
         WHERE level IN ('village', 'township', 'county')
           AND lat BETWEEN $1 AND $2 AND lon BETWEEN $3 AND $4
         ORDER BY code"
    ))
    .bind(p.lat - dlat)
    .bind(p.lat + dlat)
    .bind(p.lon - dlon)
    .bind(p.lon + dlon)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(row_to_region).collect()
}

/// Regions at one level, ordered by code.
pub async fn at_level(conn: &mut Conn, level: &str) -> Result<Vec<Region>, StorageError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM regions WHERE level = $1 ORDER BY code"
    ))
    .bind(level)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(row_to_region).collect()
}
