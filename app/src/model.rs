//! Wire types and pure logic shared by the server and the browser. Nothing here touches the
//! database or the network.

pub mod agent;
pub mod audit;
pub mod credential;
pub mod customer;
pub mod device;
pub mod discovery;
pub mod group;
pub mod import;
pub mod link;
pub mod probe;
pub mod service;
pub mod site;
pub mod sla;
pub mod summary;
pub mod telemetry;
pub mod user;

/// A closed set of values that travels as a lowercase string (forms, JSON, database columns):
/// the enum, `ALL`, `as_str`, `Display` and a `FromStr` whose error names the form field and
/// lists the accepted values.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, field = $field:literal, { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        // The same spelling as `as_str` (checked by the enums' tests).
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::error::AppError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let s = s.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(s))
                    .ok_or_else(|| {
                        let accepted: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                        $crate::error::AppError::invalid(
                            $field,
                            format!("must be one of: {}", accepted.join(", ")),
                        )
                    })
            }
        }
    };
}
pub(crate) use string_enum;

/// Trims a free-text field and checks its length in characters (`min` 0 allows blank).
pub fn text_field(
    field: &str,
    raw: &str,
    min: usize,
    max: usize,
) -> Result<String, crate::error::AppError> {
    let value = raw.trim();
    let len = value.chars().count();
    if len < min {
        return Err(crate::error::AppError::invalid(
            field,
            if min == 1 {
                "is required".to_owned()
            } else {
                format!("must be at least {min} characters")
            },
        ));
    }
    if len > max {
        return Err(crate::error::AppError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(crate::error::AppError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

/// One page of a list, with the total the filters matched.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub total: i64,
    /// 1-based.
    pub page: i64,
    pub per_page: i64,
}

impl<T> Page<T> {
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }
}

/// Rows per list page.
pub const PER_PAGE: i64 = 50;

/// A 1-based page number from a query string; anything unreadable is page 1.
pub fn page_number(raw: Option<&str>) -> i64 {
    raw.and_then(|p| p.trim().parse::<i64>().ok())
        .filter(|p| (1..=1_000_000).contains(p))
        .unwrap_or(1)
}
