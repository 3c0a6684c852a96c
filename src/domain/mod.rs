//! Domain types that parse and validate themselves.
//!
//! Everything that comes from a user, a file or the admin API is parsed into
//! one of these types before the rest of the program sees it, so a value that
//! exists is a value that is valid.

pub mod case;
pub mod category;
pub mod committee;
pub mod phone;
pub mod region;
pub mod rule;

pub use case::{CaseNumber, CaseStatus, Fulfilment, Outcome};
pub use category::Category;
pub use committee::{Committee, CommitteeId, CommitteeKind};
pub use phone::Phone;
pub use region::{Region, RegionCode, RegionLevel};
pub use rule::{Rule, RuleConditions, RuleId, RuleTarget};

/// Why a value was rejected. `field` names the input field, `message` says
/// what was expected; both are shown to admins as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DomainError {
    /// The field that holds the bad value (`region_code`, `categories`, …).
    pub field: String,
    /// What was wrong and what was expected, in English for admins and logs.
    pub message: String,
}

impl DomainError {
    /// A rejection of `field` with an explanation.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A point on the earth in degrees (WGS-84).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GeoPoint {
    /// Latitude, −90 to 90.
    pub lat: f64,
    /// Longitude, −180 to 180.
    pub lon: f64,
}

/// Mean earth radius used for great-circle distances, in kilometres.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

impl GeoPoint {
    /// A point, checked to lie within the valid ranges.
    pub fn parse(lat: f64, lon: f64) -> Result<Self, DomainError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(DomainError::new(
                "lat",
                "latitude must be between -90 and 90",
            ));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(DomainError::new(
                "lon",
                "longitude must be between -180 and 180",
            ));
        }
        Ok(Self { lat, lon })
    }

    /// The point as a unit vector on the sphere; chord distance between unit
    /// vectors grows monotonically with great-circle distance, which is what
    /// lets an ordinary 3-D R-tree answer "nearest" on the globe.
    pub fn unit_vector(&self) -> [f64; 3] {
        let (la, lo) = (self.lat.to_radians(), self.lon.to_radians());
        [la.cos() * lo.cos(), la.cos() * lo.sin(), la.sin()]
    }

    /// Great-circle distance in kilometres (haversine).
    pub fn distance_km(&self, other: &GeoPoint) -> f64 {
        let (la1, la2) = (self.lat.to_radians(), other.lat.to_radians());
        let dla = la2 - la1;
        let dlo = (other.lon - self.lon).to_radians();
        let a = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
    }
}

/// Converts a great-circle distance in km into the squared chord length
/// between unit vectors, the metric the spatial index works in.
pub fn km_to_chord2(km: f64) -> f64 {
    let theta = km / EARTH_RADIUS_KM;
    let chord = 2.0 * (theta / 2.0).sin();
    chord * chord
}

/// Converts a squared chord length between unit vectors back into km.
pub fn chord2_to_km(chord2: f64) -> f64 {
    let chord = chord2.max(0.0).sqrt();
    2.0 * EARTH_RADIUS_KM * (chord / 2.0).min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_between_minle_and_zhangye_is_about_sixty_km() {
        let minle = GeoPoint::parse(38.43, 100.82).unwrap();
        let zhangye = GeoPoint::parse(38.93, 100.45).unwrap();
        let d = minle.distance_km(&zhangye);
        assert!((55.0..70.0).contains(&d), "{d}");
    }

    #[test]
    fn chord_conversion_round_trips() {
        for km in [0.0, 1.0, 2.3, 100.0, 4000.0] {
            assert!((chord2_to_km(km_to_chord2(km)) - km).abs() < 1e-6);
        }
    }

    #[test]
    fn out_of_range_coordinates_are_rejected() {
        assert_eq!(GeoPoint::parse(91.0, 0.0).unwrap_err().field, "lat");
        assert_eq!(GeoPoint::parse(0.0, f64::NAN).unwrap_err().field, "lon");
    }
}
