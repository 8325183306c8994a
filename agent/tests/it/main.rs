//! Integration tests: the agent against the real simulator (`routeros::sim`) and against a
//! small real HTTP ingest server started on port 0 (`server.rs`), and against Debian's `snmpd`
//! and `dnsmasq` started by the tests ([`Daemon`]). One file per concern.

mod collect;
mod crash;
mod dns;
mod forward;
mod server;
mod snmp;

pub use std::sync::Arc;
pub use std::time::Duration;

pub use agent::poll::{Poller, Target};
pub use agent::queue::{Caps, Queue};
pub use agent::stats::Stats;
pub use routeros::session::breaker::BackoffPolicy;
pub use routeros::sim::{Fleet, FleetOptions, Topology};
pub use routeros::tls::{Fingerprint, TlsConfig, Verification};
pub use routeros::ClientConfig;
pub use telemetry::{DeviceRef, Sample, Value};

pub const DEMO: &str = include_str!("../../../server/demo/isp.toml");

/// The demo fleet, every router on 127.0.0.1 with a free port (tests run in parallel, and a
/// demo simulator may be running on the real addresses).
pub async fn demo_fleet() -> (Fleet, Topology) {
    fleet_of(DEMO, 11).await
}

/// The fleet of a topology file's text, on 127.0.0.1 with free ports, simulated with `seed`.
pub async fn fleet_of(text: &str, seed: u64) -> (Fleet, Topology) {
    let topology = Topology::parse(text, "isp.toml").expect("topology parses");
    let fleet = Fleet::start(&topology, &FleetOptions::local(seed))
        .await
        .expect("fleet starts");
    (fleet, topology)
}

/// A poll target for a simulated router, with the demo credential (or `password`).
pub fn target(
    fleet: &Fleet,
    topology: &Topology,
    name: &str,
    password: Option<&str>,
    interval: Duration,
) -> Target {
    let credential = topology.credential.as_ref().expect("credential");
    Target::simulated(
        fleet.router(name).expect("in fleet"),
        &credential.username,
        password.unwrap_or(&credential.password),
        interval,
    )
}

/// Retries at once: tests drive the breaker, not the clock.
pub fn no_backoff() -> BackoffPolicy {
    BackoffPolicy {
        initial: Duration::ZERO,
        max: Duration::ZERO,
        open_after: u32::MAX,
        open_for: Duration::ZERO,
    }
}

pub fn state(
    samples: &[Sample],
    metric: &str,
    instance: Option<&str>,
) -> Option<(String, Option<String>)> {
    samples
        .iter()
        .find(|s| s.metric == metric && s.instance.as_deref() == instance)
        .and_then(|s| match &s.value {
            Value::State(v) => Some((v.clone(), s.reason.clone())),
            Value::Number(_) => None,
        })
}

pub fn number(samples: &[Sample], metric: &str, instance: Option<&str>) -> Option<f64> {
    samples
        .iter()
        .find(|s| s.metric == metric && s.instance.as_deref() == instance)
        .and_then(|s| match s.value {
            Value::Number(v) => Some(v),
            Value::State(_) => None,
        })
}

/// Every sample passes the server's validation of the v1 contract.
pub fn assert_valid(samples: &[Sample]) {
    use telemetry::{validate, AgentInfo, Batch, Limits, Registry};
    let now = agent::poll::now();
    let batch = Batch {
        batch_id: uuid::Uuid::new_v4(),
        agent: AgentInfo {
            name: "t".into(),
            version: "0".into(),
        },
        sent_at: now,
        samples: samples.to_vec(),
        events: Vec::new(),
    };
    let validated = validate(batch, &Registry::v1(), now, &Limits::default()).expect("valid batch");
    assert!(
        validated.sample_rejections.is_empty(),
        "{:#?}",
        validated.sample_rejections
    );
}

/// A daemon the tests start (snmpd, dnsmasq), in the foreground, its output in a file of its
/// own directory; killed when dropped.
pub struct Daemon {
    child: std::process::Child,
    pub dir: tempfile::TempDir,
}

impl Daemon {
    /// Starts `program` (an absolute path, installed by scripts/setup.sh) with the arguments
    /// and environment `setup` gives (it may write files into the daemon's directory first).
    pub fn start(
        program: &str,
        setup: impl FnOnce(&std::path::Path) -> (Vec<String>, Vec<(&'static str, String)>),
    ) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let (args, env) = setup(dir.path());
        assert!(
            std::path::Path::new(program).exists(),
            "{program} is not installed: scripts/setup.sh installs it"
        );
        let log = std::fs::File::create(dir.path().join("output.log")).expect("log file");
        let child = std::process::Command::new(program)
            .args(args)
            .envs(env)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {program}: {e}"));
        Self { child, dir }
    }

    /// What the daemon printed, for assertion messages.
    pub fn output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("output.log")).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A UDP port on 127.0.0.1 that was free a moment ago.
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("udp port")
        .port()
}
