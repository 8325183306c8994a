//! Recorded replies for the parser tests: `testdata/<name>.txt`, one `key=value` per line, rows
//! separated by `---`, `#` comments. Most were recorded from `ispvm-sim` (the ignored test
//! `record_from_simulator` rewrites those); the `-v6`/`-edge`/`-chr` files hold spellings of
//! real routers the simulator does not print.

use routeros::Attributes;
use telemetry::{DeviceRef, UnixMs, Value};

use super::Out;

macro_rules! fixture_table {
    ($($name:literal),* $(,)?) => {
        const FIXTURES: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("testdata/", $name, ".txt")))),*
        ];
    };
}

fixture_table!(
    "resource-v7",
    "resource-v6",
    "health-v7",
    "health-v6",
    "interface",
    "interface-edge",
    "ethernet",
    "ppp",
    "bgp-v7",
    "bgp-v6",
    "ospf",
    "ospf-edge",
    "queue-simple",
    "queue-tree",
    "wireless",
    "wifi",
    "capsman",
    "netwatch",
    "neighbor-v7",
    "neighbor-v6",
    "routerboard-edge",
    "routerboard-v6",
    "routerboard-chr",
);

/// The rows of a fixture.
pub fn rows(name: &str) -> Vec<Attributes> {
    let text = FIXTURES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("no fixture {name}"));
    parse_rows(text)
}

pub fn parse_rows(text: &str) -> Vec<Attributes> {
    let mut rows = Vec::new();
    let mut row = Attributes::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if line == "---" {
            rows.push(std::mem::take(&mut row));
            continue;
        }
        let (k, v) = line.split_once('=').unwrap_or((line, ""));
        row.insert(k.to_owned(), v.to_owned());
    }
    if !row.is_empty() {
        rows.push(row);
    }
    rows
}

/// Writes rows in the fixture format.
pub fn format_rows(rows: &[Attributes]) -> String {
    rows.iter()
        .map(|row| {
            row.iter()
                .map(|(k, v)| format!("{k}={v}\n"))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

pub const TS: UnixMs = UnixMs(1_795_822_200_000);

pub fn out() -> Out {
    Out::new(DeviceRef::Name("r1".into()), TS)
}

/// The numeric value of one series in the output.
pub fn value_of(out: &Out, metric: &str, instance: Option<&str>) -> Option<f64> {
    out.samples
        .iter()
        .find(|s| s.metric == metric && s.instance.as_deref() == instance)
        .and_then(|s| match s.value {
            Value::Number(v) => Some(v),
            Value::State(_) => None,
        })
}

/// The state of one series in the output.
pub fn state_of(out: &Out, metric: &str, instance: &str) -> Option<String> {
    out.samples
        .iter()
        .find(|s| s.metric == metric && s.instance.as_deref() == Some(instance))
        .and_then(|s| match &s.value {
            Value::State(v) => Some(v.clone()),
            Value::Number(_) => None,
        })
}

/// Rewrites the simulator-recorded fixtures: `cargo test -p agent record_from_simulator --
/// --ignored`. Not part of the suite: the recorded files are the test input.
#[tokio::test]
#[ignore = "rewrites testdata from the simulator"]
async fn record_from_simulator() {
    use routeros::sim::{Fleet, FleetOptions, Topology};
    use routeros::{ClientConfig, Request};

    let text = include_str!("../../../server/demo/isp.toml");
    let topology = Topology::parse(text, "isp.toml").expect("demo parses");
    let fleet = Fleet::start(&topology, &FleetOptions::local(7))
        .await
        .expect("fleet");
    let cred = topology.credential.as_ref().expect("credential");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/collect/testdata");
    let record = [
        ("vie1-edge-1", "/system/health/print", "health-v7"),
        ("vie1-edge-1", "/interface/ethernet/print", "ethernet"),
        ("vie1-edge-1", "/routing/bgp/session/print", "bgp-v7"),
        ("vie1-edge-1", "/routing/ospf/neighbor/print", "ospf"),
        ("vie1-edge-1", "/queue/tree/print", "queue-tree"),
        ("vie1-bng-1", "/interface/print", "interface"),
        ("vie1-bng-1", "/ppp/active/print", "ppp"),
        ("vie1-bng-1", "/queue/simple/print", "queue-simple"),
        ("vie1-bng-1", "/routing/bgp/peer/print", "bgp-v6"),
        ("vie1-bng-1", "/system/health/print", "health-v6"),
        ("vie1-bng-1", "/tool/netwatch/print", "netwatch"),
        ("vie1-core-1", "/ip/neighbor/print", "neighbor-v7"),
        ("vie1-bng-1", "/ip/neighbor/print", "neighbor-v6"),
        (
            "sbg1-bng-1",
            "/interface/wireless/registration-table/print",
            "wireless",
        ),
        (
            "sbg1-cpe-hotel",
            "/interface/wifi/registration-table/print",
            "wifi",
        ),
        (
            "sbg1-bng-1",
            "/caps-man/registration-table/print",
            "capsman",
        ),
    ];
    for (router, command, name) in record {
        let running = fleet.router(router).expect("router");
        let mut config = ClientConfig::new(
            running.address.ip().to_string(),
            cred.username.clone(),
            &cred.password,
        );
        config.port = running.address.port();
        let client = routeros::Client::connect(&config).await.expect("login");
        let mut response = client.call(&Request::new(command)).await.expect("print");
        // Keep the files short: a few PPPoE sessions and queues are as good as 180.
        response.rows.truncate(6);
        let header = format!("# {command} on {router} (ispvm-sim, demo fleet, seed 7)\n");
        std::fs::write(
            dir.join(format!("{name}.txt")),
            header + &format_rows(&response.rows),
        )
        .expect("write");
    }
}
