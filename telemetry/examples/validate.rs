//! Benchmark: decoding and validating a realistic 10,000-sample batch, and its size on the wire.
//!
//! Run with `cargo run --release -p telemetry --example validate`. Builds the batch
//! deterministically (100 routers × 100 series: availability, resources, 9 interfaces'
//! counters and states, probes), then measures, as medians over several runs:
//! - JSON size raw and gzip-compressed (levels 1 and 6), and the time to compress and inflate;
//! - typed decode (`Batch::from_json`), with the baseline of the same run: serde_json parsing
//!   the same bytes into an untyped `serde_json::Value`;
//! - `validate` alone, and decode + validate, in samples/s.
//!
//! Prints plain lines, then one JSON line.

// An example's job is to print its figures.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use flate2::{read::GzDecoder, write::GzEncoder, Compression};
use telemetry::{validate, AgentInfo, Batch, DeviceRef, Limits, Registry, Sample, UnixMs, Value};
use uuid::Uuid;

const NOW: i64 = 1_795_822_200_000;
const RUNS: usize = 31;

/// xorshift64*: deterministic and dependency-free; quality is irrelevant here.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> f64 {
        (self.next() % n) as f64
    }
}

fn sample(device: i64, metric: &str, instance: Option<String>, ts: i64, value: Value) -> Sample {
    Sample {
        device: DeviceRef::Id(device),
        metric: metric.to_owned(),
        instance,
        ts: UnixMs(ts),
        value,
        reason: None,
        labels: BTreeMap::new(),
    }
}

/// 100 routers × 100 series (6 device-wide, 9 interfaces × 10, 4 probe), polled within 10 s.
fn fleet_batch() -> Batch {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut samples = Vec::with_capacity(10_000);
    for device in 1..=100 {
        let ts = NOW - 10_000 + (device * 97) % 10_000;
        let state = |s: &str| Value::State(s.to_owned());
        samples.push(sample(device, "up", None, ts, state("up")));
        samples.push(sample(
            device,
            "cpu_load_percent",
            None,
            ts,
            Value::Number(rng.below(100)),
        ));
        samples.push(sample(
            device,
            "memory_used_bytes",
            None,
            ts,
            Value::Number(rng.below(1 << 30)),
        ));
        samples.push(sample(
            device,
            "memory_total_bytes",
            None,
            ts,
            Value::Number(1_073_741_824.0),
        ));
        samples.push(sample(
            device,
            "uptime_seconds",
            None,
            ts,
            Value::Number(rng.below(1 << 24)),
        ));
        let sensor = Some("cpu-temperature".to_owned());
        samples.push(sample(
            device,
            "temperature_celsius",
            sensor,
            ts,
            Value::Number(40.0 + rng.below(300) / 10.0),
        ));
        for port in 1..=9 {
            let interface = || Some(format!("sfp-sfpplus{port}"));
            for metric in [
                "interface_rx_bytes_total",
                "interface_tx_bytes_total",
                "interface_rx_packets_total",
                "interface_tx_packets_total",
                "interface_rx_errors_total",
                "interface_tx_errors_total",
                "interface_rx_drops_total",
                "interface_tx_drops_total",
            ] {
                samples.push(sample(
                    device,
                    metric,
                    interface(),
                    ts,
                    Value::Number(rng.below(1 << 50)),
                ));
            }
            samples.push(sample(
                device,
                "interface_running",
                interface(),
                ts,
                state("up"),
            ));
            samples.push(sample(
                device,
                "interface_speed_bps",
                interface(),
                ts,
                Value::Number(1e10),
            ));
        }
        let target = || Some(format!("icmp:10.{}.0.1", device));
        samples.push(sample(device, "probe_up", target(), ts, state("up")));
        samples.push(sample(
            device,
            "probe_rtt_ms",
            target(),
            ts,
            Value::Number(1.0 + rng.below(5000) / 100.0),
        ));
        samples.push(sample(
            device,
            "probe_loss_percent",
            target(),
            ts,
            Value::Number(0.0),
        ));
        samples.push(sample(
            device,
            "probe_jitter_ms",
            target(),
            ts,
            Value::Number(rng.below(300) / 100.0),
        ));
    }
    Batch {
        batch_id: Uuid::from_u128(0x0193_a5f2_7c1e_7d4a_9b2f_5e8c_1d2a_3b4c),
        agent: AgentInfo {
            name: "pop-north".into(),
            version: "0.1.0".into(),
        },
        sent_at: UnixMs(NOW),
        samples,
        events: Vec::new(),
    }
}

/// The median of `RUNS` timings of `f`, which gets a fresh input from `setup` each run (setup
/// is not timed).
fn median<I, O>(mut setup: impl FnMut() -> I, mut f: impl FnMut(I) -> O) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let input = setup();
            let start = Instant::now();
            std::hint::black_box(f(input));
            start.elapsed()
        })
        .collect();
    times.sort_unstable();
    times[RUNS / 2]
}

fn gzip(raw: &[u8], level: u32) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::new(level));
    encoder.write_all(raw).expect("in memory");
    encoder.finish().expect("in memory")
}

fn gunzip(compressed: &[u8]) -> Vec<u8> {
    let mut raw = Vec::new();
    GzDecoder::new(compressed)
        .read_to_end(&mut raw)
        .expect("valid gzip");
    raw
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let batch = fleet_batch();
    let n = batch.samples.len();
    let registry = Registry::v1();
    let limits = Limits::default();
    let accepted = validate(batch.clone(), &registry, UnixMs(NOW), &limits)
        .expect("valid")
        .samples
        .len();
    assert_eq!(accepted, n, "the benchmark batch should be entirely valid");

    let raw = serde_json::to_vec(&batch).expect("serialises");
    let fast = gzip(&raw, 1);
    let default = gzip(&raw, 6);
    let gzip1 = median(|| (), |()| gzip(&raw, 1));
    let gzip6 = median(|| (), |()| gzip(&raw, 6));
    let inflate = median(|| (), |()| gunzip(&default));

    let decode = median(|| (), |()| Batch::from_json(&raw).expect("decodes"));
    let untyped = median(
        || (),
        |()| serde_json::from_slice::<serde_json::Value>(&raw).expect("parses"),
    );
    let check = median(
        || batch.clone(),
        |b| validate(b, &registry, UnixMs(NOW), &limits),
    );
    let both = median(
        || (),
        |()| {
            validate(
                Batch::from_json(&raw).expect("decodes"),
                &registry,
                UnixMs(NOW),
                &limits,
            )
        },
    );

    let per_s = |d: Duration| n as f64 / d.as_secs_f64();
    println!("batch: {n} samples, {} devices", 100);
    println!(
        "json raw: {} B ({:.1} B/sample)",
        raw.len(),
        raw.len() as f64 / n as f64
    );
    println!(
        "gzip -1: {} B ({:.1} B/sample, {:.1}x) in {:.2} ms; gzip -6: {} B ({:.1} B/sample, {:.1}x) in {:.2} ms; inflate {:.2} ms",
        fast.len(),
        fast.len() as f64 / n as f64,
        raw.len() as f64 / fast.len() as f64,
        ms(gzip1),
        default.len(),
        default.len() as f64 / n as f64,
        raw.len() as f64 / default.len() as f64,
        ms(gzip6),
        ms(inflate),
    );
    println!(
        "decode (typed Batch): {:.2} ms = {:.0} samples/s",
        ms(decode),
        per_s(decode)
    );
    println!(
        "baseline, same run (untyped serde_json::Value): {:.2} ms",
        ms(untyped)
    );
    println!(
        "validate: {:.2} ms = {:.0} samples/s",
        ms(check),
        per_s(check)
    );
    println!(
        "decode + validate: {:.2} ms = {:.0} samples/s",
        ms(both),
        per_s(both)
    );
    println!(
        "{{\"samples\":{n},\"json_bytes\":{},\"gzip1_bytes\":{},\"gzip6_bytes\":{},\"gzip1_ms\":{:.3},\"gzip6_ms\":{:.3},\"inflate_ms\":{:.3},\"decode_ms\":{:.3},\"untyped_parse_ms\":{:.3},\"validate_ms\":{:.3},\"validate_samples_per_s\":{:.0},\"decode_validate_samples_per_s\":{:.0}}}",
        raw.len(),
        fast.len(),
        default.len(),
        ms(gzip1),
        ms(gzip6),
        ms(inflate),
        ms(decode),
        ms(untyped),
        ms(check),
        per_s(check),
        per_s(both),
    );
}
