//! Per-device series limits: the configuration and the decision. The server counts a device's
//! series (it has the store); this module says whether one more is allowed, and why not.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How many series (metric, instance pairs) one device may have.
///
/// The default, 50,000, covers a PPPoE concentrator with a few thousand sessions even when
/// each session's dynamic interface is collected (about 11 series per session); a bigger one
/// gets an entry in `per_device`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardinalityLimits {
    pub max_series_per_device: u32,
    /// Overrides by inventory device id.
    #[serde(default)]
    pub per_device: BTreeMap<i64, u32>,
}

impl Default for CardinalityLimits {
    fn default() -> CardinalityLimits {
        CardinalityLimits {
            max_series_per_device: 50_000,
            per_device: BTreeMap::new(),
        }
    }
}

/// A new series refused because its device is at its limit; the message is the sample's
/// rejection message (reason `too_many_series`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "device {device_id} already has {limit} series, its limit; new series are refused until old \
     ones expire or the limit is raised"
)]
pub struct SeriesLimitExceeded {
    pub device_id: i64,
    pub limit: u32,
}

impl CardinalityLimits {
    /// The limit of one device.
    pub fn limit_for(&self, device_id: i64) -> u32 {
        self.per_device
            .get(&device_id)
            .copied()
            .unwrap_or(self.max_series_per_device)
    }

    /// Whether a device that has `existing_series` may start one more. Samples of series that
    /// already exist are never refused by this.
    pub fn admit_new_series(
        &self,
        device_id: i64,
        existing_series: u32,
    ) -> Result<(), SeriesLimitExceeded> {
        let limit = self.limit_for(device_id);
        if existing_series < limit {
            Ok(())
        } else {
            Err(SeriesLimitExceeded { device_id, limit })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_per_device_with_overrides() {
        let limits = CardinalityLimits {
            max_series_per_device: 3,
            per_device: BTreeMap::from([(7, 5)]),
        };
        assert_eq!(limits.admit_new_series(1, 2), Ok(()));
        assert_eq!(
            limits.admit_new_series(1, 3),
            Err(SeriesLimitExceeded {
                device_id: 1,
                limit: 3
            })
        );
        assert_eq!(limits.admit_new_series(7, 4), Ok(()));
        assert_eq!(
            limits.admit_new_series(7, 5),
            Err(SeriesLimitExceeded {
                device_id: 7,
                limit: 5
            })
        );
    }

    #[test]
    fn the_refusal_says_which_device_and_what_to_do() {
        let refusal = CardinalityLimits::default()
            .admit_new_series(42, 50_000)
            .map_err(|e| e.to_string());
        assert_eq!(
            refusal,
            Err("device 42 already has 50000 series, its limit; new series are refused until old ones \
                 expire or the limit is raised"
                .to_owned())
        );
    }

    #[test]
    fn it_reads_from_configuration_with_overrides_optional() -> Result<(), serde_json::Error> {
        let limits: CardinalityLimits = serde_json::from_str(r#"{"max_series_per_device":10}"#)?;
        assert_eq!(limits.limit_for(1), 10);
        let limits: CardinalityLimits =
            serde_json::from_str(r#"{"max_series_per_device":10,"per_device":{"3":99}}"#)?;
        assert_eq!(limits.limit_for(3), 99);
        Ok(())
    }
}
