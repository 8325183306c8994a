//! SLA targets: a percentage exact to the thousandth, as the `numeric(6, 3)` columns store it.
//!
//! A target is a contract figure, so it never passes through a float: forms send text ("99.9"),
//! it is parsed into thousandths of a percent (99 900), the wire carries that integer, and SQL
//! converts it with `$n::bigint::numeric / 1000` and `(sla_target * 1000)::bigint`.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::AppError;

/// An SLA target in thousandths of a percent: `SlaTarget(99_900)` is 99.9 %. Always in
/// (0, 100].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SlaTarget(i64);

impl SlaTarget {
    /// 100 % in thousandths.
    pub const MAX_THOUSANDTHS: i64 = 100_000;

    /// A target from the database's thousandths; `None` if out of range.
    pub fn from_thousandths(n: i64) -> Option<Self> {
        (1..=Self::MAX_THOUSANDTHS).contains(&n).then_some(Self(n))
    }

    pub fn thousandths(self) -> i64 {
        self.0
    }

    /// Parses a form field: empty means no target (`None`); otherwise a decimal such as `99.9`,
    /// `99.95` or `100`, with at most 3 decimal places, more than 0 and at most 100.
    pub fn parse(field: &str, raw: &str) -> Result<Option<Self>, AppError> {
        let s = raw.trim();
        if s.is_empty() {
            return Ok(None);
        }
        let out_of_range = || AppError::invalid(field, "must be more than 0 and at most 100");
        let not_a_number = || AppError::invalid(field, "must be a percentage such as 99.9");
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || !all_digits(int) || !all_digits(frac) || digits.ends_with('.') {
            return Err(not_a_number());
        }
        if frac.len() > 3 {
            return Err(AppError::invalid(
                field,
                "must have at most 3 decimal places",
            ));
        }
        // Leading zeros are harmless ("099.9"); anything longer than this is out of range anyway.
        let int = int.trim_start_matches('0');
        if int.len() > 3 {
            return Err(out_of_range());
        }
        let whole: i64 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| not_a_number())?
        };
        let padded = format!("{frac:0<3}");
        let thousandths: i64 = padded.parse().map_err(|_| not_a_number())?;
        let value = whole * 1000 + thousandths;
        if negative {
            return Err(out_of_range());
        }
        Self::from_thousandths(value)
            .map(Some)
            .ok_or_else(out_of_range)
    }
}

/// The shortest exact decimal: `99.9`, `99.95`, `100`, `0.001`.
impl fmt::Display for SlaTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, frac) = (self.0 / 1000, self.0 % 1000);
        if frac == 0 {
            write!(f, "{whole}")
        } else {
            let frac = format!("{frac:03}");
            write!(f, "{whole}.{}", frac.trim_end_matches('0'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> Result<Option<i64>, String> {
        SlaTarget::parse("sla_target", raw)
            .map(|t| t.map(SlaTarget::thousandths))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn valid_targets_parse_exactly() {
        let cases = [
            ("", None),
            ("   ", None),
            ("99.9", Some(99_900)),
            (" 99.95 ", Some(99_950)),
            ("99.999", Some(99_999)),
            ("100", Some(100_000)),
            ("100.000", Some(100_000)),
            ("0.001", Some(1)),
            ("099.5", Some(99_500)),
            ("5", Some(5_000)),
        ];
        for (raw, want) in cases {
            assert_eq!(parsed(raw), Ok(want), "{raw:?}");
        }
    }

    #[test]
    fn invalid_targets_say_why() {
        let cases = [
            ("0", "more than 0"),
            ("0.000", "more than 0"),
            ("-1", "more than 0"),
            ("100.001", "more than 0"),
            ("1000", "more than 0"),
            ("99999999999999999999", "more than 0"),
            ("99.9999", "3 decimal places"),
            ("abc", "percentage"),
            ("99.", "percentage"),
            (".5", "percentage"),
            ("9 9", "percentage"),
            ("1e2", "percentage"),
            ("99,9", "percentage"),
            ("+99", "percentage"),
        ];
        for (raw, why) in cases {
            let err = parsed(raw).expect_err(raw);
            assert!(err.starts_with("sla_target: "), "{raw:?}: {err}");
            assert!(err.contains(why), "{raw:?}: {err}");
        }
    }

    #[test]
    fn display_is_the_shortest_exact_decimal_and_round_trips() {
        for (n, text) in [
            (99_900, "99.9"),
            (99_950, "99.95"),
            (100_000, "100"),
            (1, "0.001"),
        ] {
            let t = SlaTarget::from_thousandths(n).expect("in range");
            assert_eq!(t.to_string(), text);
            assert_eq!(SlaTarget::parse("f", text), Ok(Some(t)));
        }
        assert_eq!(SlaTarget::from_thousandths(0), None);
        assert_eq!(SlaTarget::from_thousandths(100_001), None);
    }
}
