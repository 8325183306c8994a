//! `/system/health`: temperatures and voltages, instance = the sensor name.
//!
//! v7 prints one item per sensor (`name`, `value`, `type` = `C`, `V`, `RPM`, …); v6 prints one
//! item with a field per sensor (`temperature`, `cpu-temperature`, `voltage`). Fans and PSU
//! states have no metric in v1 and are skipped.

use routeros::{Attributes, Request};

use super::value::number;
use super::{field, Out};

pub fn request() -> Request {
    // No `.proplist`: v6 names its fields after the sensors, which differ by board.
    Request::new("/system/health/print")
}

pub fn parse(rows: &[Attributes], out: &mut Out) {
    for row in rows {
        if let (Some(name), Some(value)) = (field(row, "name"), field(row, "value")) {
            // v7: one sensor per item.
            let metric = match field(row, "type") {
                Some("C") => "temperature_celsius",
                Some("V") => "voltage_volts",
                _ => continue,
            };
            if let Some(v) = number(value) {
                out.number(metric, Some(name), v);
            }
            continue;
        }
        // v6: every field of the one item is a sensor.
        for (name, value) in row {
            let metric = if name.ends_with("temperature") {
                "temperature_celsius"
            } else if name.ends_with("voltage") {
                "voltage_volts"
            } else {
                continue;
            };
            if let Some(v) = number(value) {
                out.number(metric, Some(name), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixtures::{out, rows, value_of};

    #[test]
    fn v7_sensors_by_item_and_v6_sensors_by_field() {
        for name in ["health-v7", "health-v6"] {
            let mut out = out();
            parse(&rows(name), &mut out);
            crate::collect::assert_valid(&out.samples);
            assert!(
                value_of(&out, "temperature_celsius", Some("cpu-temperature")).is_some(),
                "{name}"
            );
            let volts = value_of(&out, "voltage_volts", Some("voltage")).expect("voltage");
            assert!((20.0..30.0).contains(&volts), "{name}: {volts}");
            // Fans and PSU states are not v1 metrics.
            assert!(out.samples.iter().all(|s| !s
                .instance
                .as_deref()
                .unwrap_or("")
                .contains("fan")));
        }
    }
}
