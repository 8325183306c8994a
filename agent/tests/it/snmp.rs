//! SNMP polling against Debian's net-snmp `snmpd`, started by the test on a free port with a
//! v2c community and a v3 user (SHA + AES).

use super::*;
use agent::snmp::{self, SnmpAuth, SnmpTarget};
use secrecy::SecretString;

const COMMUNITY: &str = "ispvm-test-community";
const USER: &str = "ispvm";
const AUTH_PASSWORD: &str = "auth-pass-123";
const PRIVACY_PASSWORD: &str = "priv-pass-456";

fn snmpd() -> (Daemon, u16) {
    snmpd_with(|_| String::new())
}

/// snmpd with more configuration lines, which `extra` may write files for in its directory.
fn snmpd_with(extra: impl FnOnce(&std::path::Path) -> String) -> (Daemon, u16) {
    let port = free_udp_port();
    let daemon = Daemon::start("/usr/sbin/snmpd", |dir| {
        let conf = dir.join("snmpd.conf");
        std::fs::write(
            &conf,
            format!(
                "agentAddress udp:127.0.0.1:{port}\n\
                 rocommunity {COMMUNITY} 127.0.0.1\n\
                 createUser {USER} SHA \"{AUTH_PASSWORD}\" AES \"{PRIVACY_PASSWORD}\"\n\
                 rouser {USER} priv\n{}",
                extra(dir)
            ),
        )
        .expect("config");
        let persistent = dir.join("persistent");
        std::fs::create_dir(&persistent).expect("persistent dir");
        let args = ["-f", "-Lo", "-C", "-c"]
            .map(String::from)
            .into_iter()
            .chain([
                conf.display().to_string(),
                "-p".into(),
                dir.join("snmpd.pid").display().to_string(),
            ])
            .collect();
        let env = vec![
            ("SNMP_PERSISTENT_DIR", persistent.display().to_string()),
            // No MIB files are needed to serve: keep snmpd from looking for them.
            ("MIBS", String::new()),
        ];
        (args, env)
    });
    (daemon, port)
}

fn target(port: u16, auth: SnmpAuth, timeout: Duration) -> SnmpTarget {
    SnmpTarget {
        name: "sw-1".into(),
        device: DeviceRef::Name("sw-1".into()),
        host: "127.0.0.1".into(),
        port,
        auth,
        interval: Duration::from_secs(60),
        timeout,
    }
}

fn v2c(community: &str) -> SnmpAuth {
    SnmpAuth::V2c {
        community: SecretString::from(community.to_owned()),
    }
}

fn v3(password: &str) -> SnmpAuth {
    SnmpAuth::V3 {
        user: USER.into(),
        protocol: SnmpAuth::parse_protocol("sha").expect("sha"),
        password: SecretString::from(password.to_owned()),
        privacy: Some((
            SnmpAuth::parse_cipher("aes").expect("aes"),
            SecretString::from(PRIVACY_PASSWORD.to_owned()),
        )),
    }
}

/// Polls until `up` is `up` (snmpd takes a moment to start), at most 10 s.
async fn poll_until_up(target: &SnmpTarget, daemon: &Daemon) -> Vec<Sample> {
    let stats = Stats::default();
    for _ in 0..50 {
        let samples = snmp::poll(target, agent::poll::now(), &stats).await;
        if state(&samples, "up", None).is_some_and(|(v, _)| v == "up") {
            return samples;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("snmpd never answered; it said: {}", daemon.output());
}

#[tokio::test]
async fn v2c_and_v3_polls_write_uptime_and_interfaces() {
    let (daemon, port) = snmpd();
    let first = poll_until_up(
        &target(port, v2c(COMMUNITY), Duration::from_secs(2)),
        &daemon,
    )
    .await;
    assert_valid(&first);
    let up = first.iter().find(|s| s.metric == "up").expect("up sample");
    assert_eq!(up.labels.get("via").map(String::as_str), Some("snmp"));
    let uptime = number(&first, "uptime_seconds", None).expect("uptime");
    assert!(uptime > 0.0, "{uptime}");
    // The loopback is there on every Linux host, up, with 64-bit counters.
    assert_eq!(
        state(&first, "interface_running", Some("lo")),
        Some(("up".into(), None))
    );
    let rx = number(&first, "interface_rx_bytes_total", Some("lo")).expect("lo rx bytes");
    assert!(number(&first, "interface_rx_packets_total", Some("lo")).is_some());
    // net-snmp serves hrProcessorLoad only after a minute of CPU samples, so a fresh snmpd
    // has no CPU load yet (the unit tests cover its mapping): a poll without it is whole.
    assert_eq!(number(&first, "cpu_load_percent", None), None);

    // v3 with authPriv reads the same interfaces (net-snmp caches their counters for a few
    // seconds, so they have not necessarily moved).
    let second = poll_until_up(
        &target(port, v3(AUTH_PASSWORD), Duration::from_secs(2)),
        &daemon,
    )
    .await;
    assert_valid(&second);
    let interfaces = |samples: &[Sample]| -> Vec<String> {
        samples
            .iter()
            .filter(|s| s.metric == "interface_running")
            .filter_map(|s| s.instance.clone())
            .collect()
    };
    assert_eq!(interfaces(&second), interfaces(&first));
    let rx_later = number(&second, "interface_rx_bytes_total", Some("lo")).expect("lo rx bytes");
    assert!(rx_later >= rx, "{rx_later} >= {rx}");
}

#[tokio::test]
async fn a_wrong_secret_or_a_silent_device_is_down_with_the_reason() {
    let (daemon, port) = snmpd();
    let stats = Stats::default();
    // Wait for the daemon first, so that what follows is about the secrets.
    poll_until_up(
        &target(port, v2c(COMMUNITY), Duration::from_secs(2)),
        &daemon,
    )
    .await;
    let down = |samples: &[Sample]| {
        let (value, reason) = state(samples, "up", None).expect("up sample");
        assert_eq!(value, "down");
        assert_eq!(samples.len(), 1, "nothing but `up`: {samples:?}");
        assert_valid(samples);
        reason.expect("a reason")
    };
    // snmpd drops a request with an unknown community without a word.
    let wrong_community = snmp::poll(
        &target(port, v2c("not-the-community"), Duration::from_millis(400)),
        agent::poll::now(),
        &stats,
    )
    .await;
    assert_eq!(
        down(&wrong_community),
        "timeout: no SNMP answer within 400ms"
    );
    // A v3 request with the wrong key is answered by a report (wrong digest).
    let wrong_key = snmp::poll(
        &target(port, v3("not-the-password"), Duration::from_millis(800)),
        agent::poll::now(),
        &stats,
    )
    .await;
    let reason = down(&wrong_key);
    assert!(
        reason.starts_with("SNMP error") || reason.starts_with("timeout"),
        "{reason}"
    );
    assert!(!reason.contains("not-the-password"), "{reason}");
    assert_eq!(Stats::get(&stats.polls_failed), 2);
    assert_eq!(Stats::get(&stats.polls_ok), 0);
}

/// A device whose uptime answers but whose interface walk fails (a busy agent timing out
/// mid-table) is `up`, with its uptime: the failure is logged and counted as a failed
/// collector, and only the interface series miss the poll. snmpd hands the `ifDescr` column to
/// a `pass` script that sleeps, and waits for it, so the walk's GETBULK gets no answer in time.
#[tokio::test]
async fn a_walk_failing_after_the_uptime_answered_leaves_the_device_up() {
    let (daemon, port) = snmpd_with(|dir| {
        let script = dir.join("slow.sh");
        std::fs::write(&script, "sleep 3\n").expect("script");
        format!(
            "pass -p 1 .1.3.6.1.2.1.2.2.1.2 /bin/sh {}\n",
            script.display()
        )
    });
    let target = target(port, v2c(COMMUNITY), Duration::from_millis(700));
    let stats = Stats::default();
    // snmpd takes a moment to start: polls before that are down and counted as such.
    let mut samples = Vec::new();
    for _ in 0..50 {
        samples = snmp::poll(&target, agent::poll::now(), &stats).await;
        if state(&samples, "up", None).is_some_and(|(v, _)| v == "up") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        state(&samples, "up", None),
        Some(("up".into(), None)),
        "snmpd said: {}",
        daemon.output()
    );
    assert_valid(&samples);
    assert!(number(&samples, "uptime_seconds", None).is_some_and(|u| u > 0.0));
    assert!(
        samples.iter().all(|s| !s.metric.starts_with("interface_")),
        "the walk gave nothing: {samples:?}"
    );
    assert_eq!(Stats::get(&stats.polls_ok), 1);
    assert_eq!(Stats::get(&stats.collector_failures), 1);
}
