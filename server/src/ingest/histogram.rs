//! The rollups' percentile summary: a sparse log-bucketed histogram (the DDSketch idea). This is
//! the Rust twin of the SQL functions `telemetry_hist_key` and `telemetry_hist_quantile`
//! (migration 20261127000004), for tests and for reading rollups without SQL.
//!
//! A value's key is `±(2000 + ceil(log_γ |v|))` with γ = 1.0408, and 0 for |v| < 1e-9: keys
//! sort like values, and the representative value of a key, `2γ^k / (1 + γ)`, is within 2 % of
//! every value that maps to it, whatever the unit. Histograms merge exactly by adding counts.

/// The bucket growth factor: (1 + α) / (1 − α) for a relative accuracy α of 2 %.
pub const GAMMA: f64 = 1.0408;
const OFFSET: f64 = 2000.0;

/// The key of a value (NaN maps to 0; the ingest path never stores one).
pub fn key(v: f64) -> i16 {
    if v.is_nan() || v.abs() < 1e-9 {
        return 0;
    }
    let k = OFFSET + (v.abs().ln() / GAMMA.ln()).ceil();
    // Any finite double gives |k| < 20,000; `as` saturates for infinities.
    let k = k as i16;
    if v > 0.0 {
        k
    } else {
        -k
    }
}

/// The representative value of a key.
pub fn value_of(key: i16) -> f64 {
    if key == 0 {
        return 0.0;
    }
    let magnitude = 2.0 * GAMMA.powf(f64::from(key.unsigned_abs()) - OFFSET) / (1.0 + GAMMA);
    if key > 0 {
        magnitude
    } else {
        -magnitude
    }
}

/// The q-quantile (0..=1) by nearest rank over `(key, count)` pairs sorted by key.
pub fn quantile(keys: &[i16], counts: &[i32], q: f64) -> Option<f64> {
    let total: i64 = counts.iter().map(|&c| i64::from(c)).sum();
    if total == 0 {
        return None;
    }
    let rank = ((q * total as f64).ceil() as i64).max(1);
    let mut cumulative = 0i64;
    for (&k, &c) in keys.iter().zip(counts) {
        cumulative += i64::from(c);
        if cumulative >= rank {
            return Some(value_of(k));
        }
    }
    keys.last().map(|&k| value_of(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_like_values_and_read_back_within_two_percent() {
        let values = [
            -1e6, -273.0, -72.5, -0.5, 0.0, 1e-6, 0.25, 1.0, 12.7, 99.9, 1e9, 9.2e18,
        ];
        let keys: Vec<i16> = values.iter().map(|&v| key(v)).collect();
        assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{keys:?}");
        for v in values {
            let back = value_of(key(v));
            assert!(
                (back - v).abs() <= 0.0201 * v.abs(),
                "{v} read back as {back}"
            );
        }
    }

    #[test]
    fn the_95th_percentile_is_the_nearest_rank() {
        // 100 values 1..=100: p95 is 95, within 2 %.
        let mut pairs: Vec<(i16, i32)> = Vec::new();
        for v in 1..=100 {
            let k = key(f64::from(v));
            match pairs.last_mut() {
                Some((last, c)) if *last == k => *c += 1,
                _ => pairs.push((k, 1)),
            }
        }
        let (keys, counts): (Vec<i16>, Vec<i32>) = pairs.into_iter().unzip();
        let p95 = quantile(&keys, &counts, 0.95).unwrap_or(f64::NAN);
        assert!((p95 - 95.0).abs() <= 0.02 * 95.0, "{p95}");
        assert_eq!(quantile(&[], &[], 0.5), None);
    }
}
