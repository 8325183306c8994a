//! The checks of one sample, in the documented order; the first failing one is its reason.

use super::{check_device, check_len, Window};
use crate::registry::{MetricKind, MetricSpec, Registry};
use crate::response::RejectReason;
use crate::shown;
use crate::wire::{Sample, Value};

/// Longest `reason` of a state sample, in bytes.
pub const MAX_REASON_BYTES: usize = 256;
/// Longest label value, in bytes.
pub const MAX_LABEL_VALUE_BYTES: usize = 256;

pub(super) fn check(
    sample: &Sample,
    registry: &Registry,
    window: Window,
) -> Result<&'static MetricSpec, (RejectReason, String)> {
    let Some(spec) = registry.get(&sample.metric) else {
        return Err((
            RejectReason::UnknownMetric,
            "the metric is not in the registry".to_owned(),
        ));
    };
    check_device(&sample.device)?;
    window.check(sample.ts)?;
    spec.instance
        .check(sample.instance.as_deref())
        .map_err(|problem| (RejectReason::BadInstance, format!("the metric {problem}")))?;
    check_labels(sample, spec)?;
    check_value(sample, spec)?;
    Ok(spec)
}

fn check_labels(sample: &Sample, spec: &MetricSpec) -> Result<(), (RejectReason, String)> {
    for (name, value) in &sample.labels {
        if !spec.labels.contains(&name.as_str()) {
            let allowed = if spec.labels.is_empty() {
                "it takes no labels".to_owned()
            } else {
                format!("allowed: {}", spec.labels.join(", "))
            };
            return Err((
                RejectReason::BadLabel,
                format!("label {} is not allowed ({allowed})", shown(name)),
            ));
        }
        if value.len() > MAX_LABEL_VALUE_BYTES || value.chars().any(char::is_control) {
            return Err((
                RejectReason::BadLabel,
                format!("label {name} must be at most {MAX_LABEL_VALUE_BYTES} bytes without control characters"),
            ));
        }
    }
    Ok(())
}

fn check_value(sample: &Sample, spec: &MetricSpec) -> Result<(), (RejectReason, String)> {
    let kind = spec.kind.as_str();
    match (spec.kind, &sample.value) {
        (MetricKind::Gauge | MetricKind::Counter, Value::State(s)) => Err((
            RejectReason::WrongType,
            format!(
                "the metric is a {kind} and takes a number, not the string {}",
                shown(s)
            ),
        )),
        (MetricKind::Gauge | MetricKind::Counter, Value::Number(_)) if sample.reason.is_some() => {
            Err((
                RejectReason::WrongType,
                format!("the metric is a {kind}; only state metrics take a reason"),
            ))
        }
        (MetricKind::Gauge | MetricKind::Counter, Value::Number(v)) => check_number(*v, spec),
        (MetricKind::State(states), Value::Number(v)) => Err((
            RejectReason::WrongType,
            format!(
                "the metric is a state metric and takes one of {}, not the number {v}",
                states.join(", ")
            ),
        )),
        (MetricKind::State(states), Value::State(s)) => {
            if !states.contains(&s.as_str()) {
                return Err((
                    RejectReason::UnknownState,
                    format!(
                        "{} is not one of its states ({})",
                        shown(s),
                        states.join(", ")
                    ),
                ));
            }
            match &sample.reason {
                Some(reason) => check_len("reason", reason, MAX_REASON_BYTES),
                None => Ok(()),
            }
        }
    }
}

fn check_number(v: f64, spec: &MetricSpec) -> Result<(), (RejectReason, String)> {
    if !v.is_finite() {
        return Err((
            RejectReason::NotFinite,
            format!("the value {v} is not a finite number (JSON null stands for NaN and infinity)"),
        ));
    }
    if let Some(min) = spec.min.filter(|min| v < *min) {
        return Err((
            RejectReason::OutOfRange,
            format!("the value {v} is below the minimum {min}"),
        ));
    }
    if let Some(max) = spec.max.filter(|max| v > *max) {
        return Err((
            RejectReason::OutOfRange,
            format!("the value {v} is above the maximum {max}"),
        ));
    }
    Ok(())
}
