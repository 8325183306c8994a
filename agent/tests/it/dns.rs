//! DNS probes against Debian's dnsmasq, answering for `probe.test` only.

use super::*;
use agent::probe::{Check, Probe, Prober};

/// dnsmasq on a free port: `up.probe.test` has an A record, every other name in `probe.test`
/// is NXDOMAIN (`--local`), and nothing is forwarded anywhere.
fn dnsmasq() -> (Daemon, u16) {
    let port = free_udp_port();
    let daemon = Daemon::start("/usr/sbin/dnsmasq", |_| {
        let args = vec![
            "--keep-in-foreground".into(),
            "--conf-file=/dev/null".into(),
            format!("--port={port}"),
            "--listen-address=127.0.0.1".into(),
            "--bind-interfaces".into(),
            "--no-resolv".into(),
            "--no-hosts".into(),
            "--local=/probe.test/".into(),
            "--host-record=up.probe.test,192.0.2.10".into(),
            "--log-facility=-".into(),
            "--pid-file=".into(),
        ];
        (args, Vec::new())
    });
    (daemon, port)
}

fn probe(target: &str) -> Probe {
    Probe {
        device: DeviceRef::Name("vie1-core-1".into()),
        check: Check::parse("dns", target).expect("target parses"),
        interval: Duration::from_secs(10),
        timeout: Duration::from_millis(1_500),
    }
}

#[tokio::test]
async fn a_dns_probe_is_up_with_an_answer_and_down_with_the_servers_reason() {
    let (daemon, port) = dnsmasq();
    let prober = Prober::new().expect("prober");
    let up = probe(&format!("up.probe.test@127.0.0.1:{port}"));
    let instance = format!("dns:up.probe.test@127.0.0.1:{port}");
    // dnsmasq takes a moment to bind: ask until it answers (or 10 s).
    let mut samples = Vec::new();
    for _ in 0..50 {
        samples = prober.run(&up, agent::poll::now()).await;
        if state(&samples, "probe_up", Some(&instance)).is_some_and(|(v, _)| v == "up") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        state(&samples, "probe_up", Some(&instance)),
        Some(("up".into(), None)),
        "dnsmasq said: {}",
        daemon.output()
    );
    let rtt = number(&samples, "probe_rtt_ms", Some(&instance)).expect("rtt");
    assert!((0.0..1_500.0).contains(&rtt), "{rtt}");
    assert_valid(&samples);

    let missing = prober
        .run(
            &probe(&format!("missing.probe.test@127.0.0.1:{port}")),
            agent::poll::now(),
        )
        .await;
    let (value, reason) = state(
        &missing,
        "probe_up",
        Some(&format!("dns:missing.probe.test@127.0.0.1:{port}")),
    )
    .expect("probe_up");
    assert_eq!(value, "down");
    assert!(
        reason.as_deref().is_some_and(|r| r.contains("NXDOMAIN")),
        "{reason:?}"
    );
    assert_eq!(number(&missing, "probe_rtt_ms", None), None);
    assert_valid(&missing);
}

#[tokio::test]
async fn a_silent_dns_server_is_down_with_the_timeout() {
    let prober = Prober::new().expect("prober");
    // A socket that takes queries and never answers.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("address").port();
    let mut slow = probe(&format!("up.probe.test@127.0.0.1:{port}"));
    slow.timeout = Duration::from_millis(300);
    let samples = prober.run(&slow, agent::poll::now()).await;
    let (value, reason) = state(
        &samples,
        "probe_up",
        Some(&format!("dns:up.probe.test@127.0.0.1:{port}")),
    )
    .expect("probe_up");
    assert_eq!(value, "down");
    assert_eq!(reason.as_deref(), Some("timeout after 300 ms"));
}
