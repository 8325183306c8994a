//! RouterOS's value spellings, parsed: durations (`1w2d3h4m5s` on v7, `1w2d03:04:05` on v6),
//! `up/down` pairs, rates with units (`780Mbps-80MHz/2S`, `12M`), link speeds
//! (`10G-baseSR-LR`, `1Gbps`), booleans and versions.

/// A RouterOS duration in seconds. v7 prints `1w2d3h4m5s` (also `500ms`, `1.5s`), v6
/// `1w2d03:04:05`; both may lead with weeks and days.
pub fn duration_secs(text: &str) -> Option<f64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut total = 0.0;
    let mut number = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        if c == ':' {
            // v6: the rest is hh:mm:ss, with `number` the hours.
            let rest: String = std::iter::once(c).chain(chars).collect();
            let mut parts = rest.trim_start_matches(':').split(':');
            let h: f64 = number.parse().ok()?;
            let m: f64 = parts.next()?.parse().ok()?;
            let s: f64 = parts.next()?.parse().ok()?;
            if parts.next().is_some() {
                return None;
            }
            return Some(total + h * 3_600.0 + m * 60.0 + s);
        }
        let value: f64 = number.parse().ok()?;
        number.clear();
        let unit = match c {
            'w' => 604_800.0,
            'd' => 86_400.0,
            'h' => 3_600.0,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                0.001
            }
            'm' => 60.0,
            's' => 1.0,
            _ => return None,
        };
        total += value * unit;
    }
    if number.is_empty() {
        Some(total)
    } else {
        // A bare number is seconds (`0.010` as `last-activity` prints it).
        Some(total + number.parse::<f64>().ok()?)
    }
}

/// A plain number (`123`, `23.8`, `-62`).
pub fn number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The leading number of a value such as `-62@6Mbps`.
pub fn leading_number(text: &str) -> Option<f64> {
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+'))))
        .map_or(text.len(), |(i, _)| i);
    number(&text[..end])
}

/// `a/b` pairs (queues print `upload/download`) as two numbers.
pub fn pair(text: &str) -> Option<(f64, f64)> {
    let (a, b) = text.split_once('/')?;
    Some((number(a)?, number(b)?))
}

/// A rate in bit/s: `12M`, `1.5G`, `780Mbps-80MHz/2S`, `54Mbps`, `866.6Mbps-80MHz/2S/SGI`,
/// `0`. The multiplier letter is decimal (k, M, G), as RouterOS means it for rates.
pub fn rate_bps(text: &str) -> Option<f64> {
    let text = text.trim();
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let value = number(&text[..end])?;
    let multiplier = match text[end..].chars().next() {
        None => 1.0,
        Some('k' | 'K') => 1e3,
        Some('M') => 1e6,
        Some('G') => 1e9,
        Some('b') => 1.0,
        Some(_) => return None,
    };
    Some(value * multiplier)
}

/// An Ethernet speed in bit/s: v7 mode names (`1G-baseT-full`, `10G-baseSR-LR`, `2.5G-baseT`,
/// `100M-baseT-full`) and v6 names (`1Gbps`, `100Mbps`).
pub fn link_speed_bps(text: &str) -> Option<f64> {
    rate_bps(text).filter(|&bps| bps > 0.0)
}

/// `true`/`false` (also `yes`/`no`, which older versions print in some menus).
pub fn boolean(text: &str) -> Option<bool> {
    match text {
        "true" | "yes" => Some(true),
        "false" | "no" => Some(false),
        _ => None,
    }
}

/// The major version of `7.16.2 (stable)` or `6.49.17 (long-term)`.
pub fn major_version(text: &str) -> Option<u32> {
    text.trim().split(['.', ' ']).next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_both_spellings() {
        let cases = [
            (
                "1w2d3h4m5s",
                Some(604_800.0 + 2.0 * 86_400.0 + 3.0 * 3_600.0 + 245.0),
            ),
            ("0s", Some(0.0)),
            ("45s", Some(45.0)),
            ("3m", Some(180.0)),
            ("500ms", Some(0.5)),
            (
                "1w2d03:04:05",
                Some(604_800.0 + 2.0 * 86_400.0 + 3.0 * 3_600.0 + 245.0),
            ),
            ("00:00:10", Some(10.0)),
            ("2d00:00:01", Some(172_801.0)),
            ("0.010", Some(0.01)),
            ("", None),
            ("5x", None),
            ("1:2", None),
        ];
        for (text, want) in cases {
            assert_eq!(duration_secs(text), want, "{text}");
        }
    }

    #[test]
    fn rates_speeds_pairs_and_numbers() {
        assert_eq!(rate_bps("12M"), Some(12e6));
        assert_eq!(rate_bps("780Mbps-80MHz/2S"), Some(780e6));
        assert_eq!(rate_bps("866.6Mbps-80MHz/2S/SGI"), Some(866.6e6));
        assert_eq!(rate_bps("0"), Some(0.0));
        assert_eq!(rate_bps("fast"), None);
        assert_eq!(link_speed_bps("10G-baseSR-LR"), Some(10e9));
        assert_eq!(link_speed_bps("2.5G-baseT"), Some(2.5e9));
        assert_eq!(link_speed_bps("100Mbps"), Some(100e6));
        assert_eq!(link_speed_bps("auto"), None);
        assert_eq!(pair("123/456"), Some((123.0, 456.0)));
        assert_eq!(pair("123"), None);
        assert_eq!(leading_number("-62@6Mbps"), Some(-62.0));
        assert_eq!(number("23.8"), Some(23.8));
        assert_eq!(number("nan"), None);
        assert_eq!(boolean("yes"), Some(true));
        assert_eq!(major_version("7.16.2 (stable)"), Some(7));
        assert_eq!(major_version("6.49.17 (long-term)"), Some(6));
        assert_eq!(major_version("x"), None);
    }
}
