//! Sites (points of presence) and the validation of their form.

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::text_field;

/// Database id of a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SiteId(pub i64);

/// A site as lists and detail pages show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteRow {
    pub id: SiteId,
    pub name: String,
    pub code: String,
    pub region: String,
    pub address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub timezone: String,
    pub device_count: i64,
}

/// A site's fields as a form sends them (numbers as text, so that blank means "none").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SiteForm {
    pub name: String,
    pub code: String,
    pub region: String,
    pub address: String,
    pub latitude: String,
    pub longitude: String,
    pub timezone: String,
}

/// A checked site, ready to store. The timezone is checked against the database's zone list
/// by `db::sites`, since the browser has no zone table.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteInput {
    pub name: String,
    pub code: String,
    pub region: String,
    pub address: String,
    pub coordinates: Option<(f64, f64)>,
    pub timezone: String,
}

impl SiteForm {
    pub fn validate(&self) -> Result<SiteInput, AppError> {
        let name = text_field("name", &self.name, 1, 100)?;
        let code = self.code.trim().to_owned();
        let code_ok = !code.is_empty()
            && code.len() <= 16
            && code
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            && code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !code_ok {
            return Err(AppError::invalid(
                "code",
                "must be 1-16 letters, digits, - or _, starting with a letter or digit",
            ));
        }
        let region = text_field("region", &self.region, 0, 100)?;
        let address = text_field("address", &self.address, 0, 300)?;
        let latitude = coordinate("latitude", &self.latitude, 90.0)?;
        let longitude = coordinate("longitude", &self.longitude, 180.0)?;
        let coordinates = match (latitude, longitude) {
            (Some(lat), Some(lon)) => Some((lat, lon)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(AppError::invalid(
                    "longitude",
                    "is required with a latitude",
                ))
            }
            (None, Some(_)) => {
                return Err(AppError::invalid(
                    "latitude",
                    "is required with a longitude",
                ))
            }
        };
        let timezone = match self.timezone.trim() {
            "" => "UTC".to_owned(),
            tz => text_field("timezone", tz, 1, 64)?,
        };
        Ok(SiteInput {
            name,
            code: code.to_uppercase(),
            region,
            address,
            coordinates,
            timezone,
        })
    }
}

fn coordinate(field: &str, raw: &str, limit: f64) -> Result<Option<f64>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    match raw.parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() <= limit => Ok(Some(v)),
        _ => Err(AppError::invalid(
            field,
            format!("must be a number between -{limit} and {limit}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A way to break a form, and the field the error must name.
    type Case<F> = (fn(&mut F), &'static str);

    fn form() -> SiteForm {
        SiteForm {
            name: " Vienna POP 1 ".into(),
            code: "vie1".into(),
            latitude: "48.2".into(),
            longitude: "16.37".into(),
            timezone: "Europe/Vienna".into(),
            ..SiteForm::default()
        }
    }

    #[test]
    fn a_good_form_is_normalised() {
        let input = form().validate().expect("valid");
        assert_eq!(input.name, "Vienna POP 1");
        assert_eq!(input.code, "VIE1");
        assert_eq!(input.coordinates, Some((48.2, 16.37)));
    }

    #[test]
    fn bad_fields_are_named() {
        let cases: [Case<SiteForm>; 6] = [
            (|f| f.name = "  ".into(), "name"),
            (|f| f.code = "vie 1".into(), "code"),
            (|f| f.code = "-x".into(), "code"),
            (|f| f.latitude = "91".into(), "latitude"),
            (|f| f.longitude = "NaN".into(), "longitude"),
            (|f| f.longitude = String::new(), "longitude"),
        ];
        for (break_it, field) in cases {
            let mut f = form();
            break_it(&mut f);
            let err = f.validate().expect_err(field);
            assert_eq!(err.field(), Some(field), "{err}");
        }
    }

    #[test]
    fn blank_timezone_is_utc() {
        let mut f = form();
        f.timezone = String::new();
        assert_eq!(f.validate().expect("valid").timezone, "UTC");
    }
}
