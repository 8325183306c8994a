//! Collectors against the simulated demo fleet: every menu of every router, v6 and v7, plain
//! and API-SSL; a router going down and a refused login become `up = down` with the reason.

use super::*;

#[tokio::test]
async fn every_router_of_the_demo_fleet_polls_cleanly() {
    let (fleet, topology) = demo_fleet().await;
    let stats = Stats::default();
    let mut all = Vec::new();
    for router in fleet.routers() {
        let mut poller = Poller::new(
            target(
                &fleet,
                &topology,
                &router.name,
                None,
                Duration::from_secs(10),
            ),
            no_backoff(),
        );
        let samples = poller.poll(agent::poll::now(), &stats).await.samples;
        assert_eq!(
            state(&samples, "up", None),
            Some(("up".into(), None)),
            "{}: {samples:?}",
            router.name
        );
        assert!(
            number(&samples, "uptime_seconds", None).is_some(),
            "{}",
            router.name
        );
        assert!(
            samples
                .iter()
                .any(|s| s.metric == "interface_rx_bytes_total"),
            "{}",
            router.name
        );
        all.extend(samples);
    }
    assert_eq!(Stats::get(&stats.collector_failures), 0);
    assert_valid(&all);
    let by = |device: &str, metric: &str| {
        all.iter()
            .filter(|s| s.device == DeviceRef::Name(device.into()) && s.metric == metric)
            .count()
    };
    // v7 BGP sessions on the edge, PPPoE on the v6 BNG, radios on the Salzburg BNG.
    assert!(by("vie1-edge-1", "bgp_session_state") >= 2);
    assert!(by("vie1-edge-1", "ospf_neighbor_state") >= 1);
    assert!(by("vie1-edge-1", "interface_speed_bps") >= 1);
    assert!(by("vie1-edge-1", "temperature_celsius") >= 1);
    assert!(by("vie1-bng-1", "pppoe_session_uptime_seconds") > 100);
    assert!(by("vie1-bng-1", "queue_bytes_total") > 200);
    assert!(by("vie1-bng-1", "netwatch_status") >= 1);
    assert!(by("sbg1-bng-1", "wireless_signal_dbm") >= 1);
    assert_eq!(
        by("vie1-edge-1", "wireless_clients"),
        0,
        "no radios, no series"
    );
    // The API-SSL router was reached over TLS.
    let tls = fleet
        .routers()
        .iter()
        .find(|r| r.certificate.is_some())
        .expect("a TLS router");
    let up = all
        .iter()
        .find(|s| s.metric == "up" && s.device == DeviceRef::Name(tls.name.clone()))
        .expect("up");
    assert_eq!(up.labels.get("via").map(String::as_str), Some("api_ssl"));
}

#[tokio::test]
async fn every_v7_router_gives_the_same_series_over_rest_as_over_the_api() {
    let topology = Topology::parse(DEMO, "isp.toml").expect("topology parses");
    let options = routeros::sim::FleetOptions {
        rest_port: Some(0),
        ..routeros::sim::FleetOptions::local(11)
    };
    let fleet = Fleet::start(&topology, &options)
        .await
        .expect("fleet starts");
    let credential = topology.credential.as_ref().expect("credential");
    let (user, password) = (&credential.username, &credential.password);
    let stats = Stats::default();
    let mut compared = 0;
    for router in fleet.routers() {
        let interval = Duration::from_secs(10);
        let Some(rest) = Target::simulated_rest(router, user, password, interval) else {
            assert!(
                !router.version.is_v7(),
                "{} is v7 and serves REST",
                router.name
            );
            continue;
        };
        let api = Target::simulated(router, user, password, interval);
        let mut over_api = Poller::new(api, no_backoff());
        let mut over_rest = Poller::new(rest, no_backoff());
        let by_api = over_api.poll(agent::poll::now(), &stats).await.samples;
        let by_rest = over_rest.poll(agent::poll::now(), &stats).await.samples;
        assert_valid(&by_rest);
        let series = |samples: &[telemetry::Sample]| {
            let mut keys: Vec<(String, Option<String>)> = samples
                .iter()
                .map(|s| (s.metric.clone(), s.instance.clone()))
                .collect();
            keys.sort();
            keys
        };
        assert_eq!(series(&by_rest), series(&by_api), "{}", router.name);
        let up = by_rest.iter().find(|s| s.metric == "up").expect("up");
        assert_eq!(
            up.value,
            Value::State("up".into()),
            "{}: {up:?}",
            router.name
        );
        assert_eq!(up.labels.get("via").map(String::as_str), Some("rest"));
        compared += 1;
    }
    assert!(compared >= 5, "most of the demo fleet runs v7: {compared}");
    assert_eq!(Stats::get(&stats.collector_failures), 0);
}

#[tokio::test]
async fn a_router_going_down_is_up_down_with_the_reason_then_up_again() {
    let (fleet, topology) = demo_fleet().await;
    let stats = Stats::default();
    let name = "vie1-core-1";
    let router = fleet.router(name).expect("router");
    let mut poller = Poller::new(
        target(&fleet, &topology, name, None, Duration::from_secs(10)),
        no_backoff(),
    );
    let before = poller.poll(agent::poll::now(), &stats).await.samples;
    assert_eq!(
        state(&before, "up", None).map(|s| s.0).as_deref(),
        Some("up")
    );
    let uptime_before = number(&before, "uptime_seconds", None).expect("uptime");

    let mut down = router.control.watch_down();
    let now = routeros::sim::control::now_ms();
    let fault = routeros::sim::Fault::parse(&format!("router-down {name} 1h"), now).expect("fault");
    fleet.faults().inject(fault).expect("known router");
    down.wait_for(|d| *d).await.expect("goes down");
    let during = poller.poll(agent::poll::now(), &stats).await.samples;
    assert_valid(&during);
    let (up, reason) = state(&during, "up", None).expect("up sample");
    assert_eq!(up, "down");
    let reason = reason.expect("a reason");
    assert!(
        reason.starts_with("connection lost") || reason.starts_with("connection failed"),
        "{reason}"
    );
    // Only the evidence: no stale values of a router that did not answer.
    assert_eq!(during.len(), 1);
    assert_eq!(Stats::get(&stats.polls_failed), 1);

    fleet.faults().clear(routeros::sim::control::now_ms());
    down.wait_for(|d| !*d).await.expect("comes back");
    let after = poller.poll(agent::poll::now(), &stats).await.samples;
    assert_eq!(
        state(&after, "up", None).map(|s| s.0).as_deref(),
        Some("up")
    );
    // It rebooted: uptime went down, which is how the server sees a counter reset too.
    assert!(number(&after, "uptime_seconds", None).expect("uptime") < uptime_before);
    // A reboot is when firmware changes: the facts are read again at once, not on the next
    // slow interval.
    assert!(state(&before, "device_info", None).is_some());
    assert!(state(&after, "device_info", None).is_some());
}

#[tokio::test]
async fn a_refused_login_is_up_down_with_the_router_s_message() {
    let (fleet, topology) = demo_fleet().await;
    let stats = Stats::default();
    for name in ["vie1-edge-1", "vie1-bng-1"] {
        // v7 (plain login) and v6 (legacy challenge).
        let mut poller = Poller::new(
            target(
                &fleet,
                &topology,
                name,
                Some("wrong"),
                Duration::from_secs(10),
            ),
            BackoffPolicy::default(),
        );
        let samples = poller.poll(agent::poll::now(), &stats).await.samples;
        let (up, reason) = state(&samples, "up", None).expect("up");
        assert_eq!(up, "down");
        let reason = reason.expect("reason");
        assert!(reason.starts_with("login refused"), "{name}: {reason}");
        // The breaker opens at once on a refused login: the next poll does not try again
        // (no lockout storm) and still writes the evidence, with the original reason.
        let again = poller.poll(agent::poll::now(), &stats).await.samples;
        let (_, reason) = state(&again, "up", None).expect("up");
        let reason = reason.expect("reason");
        assert!(
            reason.contains("circuit open") && reason.contains("refused"),
            "{reason}"
        );
    }
}

/// A v7 session vanishes from `/routing/bgp/session` while it is down; its connection stays,
/// so the session is reported `idle`, by the poller that saw it up and by one that never did
/// (an agent started during the outage), with the connection's labels.
#[tokio::test]
async fn a_bgp_session_that_vanishes_on_v7_is_reported_idle() {
    let (fleet, topology) = demo_fleet().await;
    let stats = Stats::default();
    let name = "vie1-edge-1";
    let poller = || {
        Poller::new(
            target(&fleet, &topology, name, None, Duration::from_secs(10)),
            no_backoff(),
        )
    };
    let mut seen_up = poller();
    let before = seen_up.poll(agent::poll::now(), &stats).await.samples;
    let session = before
        .iter()
        .find(|s| s.metric == "bgp_session_state")
        .expect("a session")
        .clone();
    let instance = session.instance.clone().expect("instance");
    let peer = instance.trim_end_matches("-1");
    let now = routeros::sim::control::now_ms();
    let fault =
        routeros::sim::Fault::parse(&format!("bgp-flap {name} {peer} 10m"), now).expect("fault");
    fleet.faults().inject(fault).expect("known peer");
    for mut p in [seen_up, poller()] {
        let during = p.poll(agent::poll::now(), &stats).await.samples;
        assert_valid(&during);
        let (value, reason) =
            state(&during, "bgp_session_state", Some(&instance)).expect("still reported");
        assert_eq!(value, "idle");
        assert_eq!(
            reason.as_deref(),
            Some("no session: the connection is configured but not up")
        );
        let gone: Vec<_> = during
            .iter()
            .filter(|s| {
                s.metric == "bgp_session_state" && s.instance.as_deref() == Some(instance.as_str())
            })
            .collect();
        assert_eq!(gone.len(), 1, "one sample for the session");
        assert_eq!(gone[0].labels, session.labels, "labels kept");
    }
}

/// The buffer's default size against the demo fleet's rate: one poll of every router, each
/// weighted by its polling interval, gives samples per second; one sealed batch of them gives
/// bytes per sample on disk. 72 hours of that must fit in the default cap.
#[tokio::test]
async fn the_default_buffer_holds_72_hours_of_the_demo_fleet() {
    let (fleet, topology) = demo_fleet().await;
    let options = agent::fleet::FleetOptions::defaults();
    // The intervals the demo file gives each router.
    let configured = agent::fleet::parse(DEMO, &options)
        .expect("demo fleet")
        .targets;
    let stats = Stats::default();
    let mut per_second = 0.0;
    let mut all = Vec::new();
    for router in fleet.routers() {
        let interval = configured
            .iter()
            .find(|t| t.name == router.name)
            .expect("configured")
            .interval;
        let mut poller = Poller::new(
            target(&fleet, &topology, &router.name, None, interval),
            no_backoff(),
        );
        let samples = poller.poll(agent::poll::now(), &stats).await.samples;
        per_second += samples.len() as f64 / interval.as_secs_f64();
        all.extend(samples);
    }
    all.truncate(10_000);
    let batch = telemetry::Batch {
        batch_id: uuid::Uuid::new_v4(),
        agent: agent::run::agent_info("pop"),
        sent_at: agent::poll::now(),
        samples: all.clone(),
        events: Vec::new(),
    };
    let bytes = agent::seal::encode(&batch).expect("encode").len() as f64;
    let per_sample = bytes / all.len() as f64;
    let hours_72 = per_second * 72.0 * 3_600.0 * per_sample;
    eprintln!(
        "demo fleet: {per_second:.0} samples/s, {per_sample:.1} bytes/sample gzip on disk, 72 h = {:.0} MiB, default cap holds {:.0} h",
        hours_72 / 1_048_576.0,
        agent::config::DEFAULT_MAX_BUFFER_BYTES as f64 / (per_second * per_sample) / 3_600.0
    );
    assert!(hours_72 < agent::config::DEFAULT_MAX_BUFFER_BYTES as f64);
}

#[tokio::test]
async fn the_neighbour_table_is_read_on_the_first_poll_and_then_every_300_s() {
    let (fleet, topology) = demo_fleet().await;
    let stats = Stats::default();
    let mut poller = Poller::new(
        target(
            &fleet,
            &topology,
            "vie1-edge-1",
            None,
            Duration::from_secs(10),
        ),
        no_backoff(),
    );
    let start = agent::poll::now();
    let first = poller.poll(start, &stats).await;
    // Both ends of each of the edge's links in the demo file: it hears the two cores.
    let heard: Vec<(String, String)> = first
        .events
        .iter()
        .filter_map(|e| match &e.detail {
            telemetry::EventDetail::Neighbor {
                interface,
                identity,
                ..
            } => Some((interface.clone(), identity.clone())),
            _ => None,
        })
        .collect();
    assert!(
        heard.contains(&("sfp28-1".into(), "vie1-core-1".into())),
        "{heard:?}"
    );
    assert!(heard.contains(&("sfp28-2".into(), "vie1-core-2".into())));
    let at = |ms: i64| telemetry::UnixMs(start.0 + ms);
    let soon = poller.poll(at(10_000), &stats).await;
    assert!(soon.events.is_empty(), "{:?}", soon.events);
    let later = poller.poll(at(300_000), &stats).await;
    assert_eq!(later.events.len(), first.events.len());
}

/// The rows of one print, asked directly (what the agent's samples are compared with).
async fn print(
    fleet: &Fleet,
    topology: &Topology,
    router: &str,
    command: &str,
) -> Vec<routeros::Attributes> {
    let credential = topology.credential.as_ref().expect("credential");
    let running = fleet.router(router).expect("router");
    let mut config = ClientConfig::new(
        running.address.ip().to_string(),
        credential.username.clone(),
        &credential.password,
    );
    config.port = running.address.port();
    config.tls = target(fleet, topology, router, None, Duration::from_secs(10))
        .client
        .tls;
    let client = routeros::Client::connect(&config).await.expect("login");
    client
        .call(&routeros::Request::new(command))
        .await
        .expect("print")
        .rows
}

/// Every router's facts, compared with its `/system/routerboard`; the registration tables each
/// router has, picked from its interface types: the legacy table and CAPsMAN on the v6
/// Salzburg BNG, the `wifi` table on the v7 hotel CPE, none on the others (which have none of
/// these menus, and are asked none). The facts come again only on the slow interval.
#[tokio::test]
async fn facts_and_the_registration_tables_each_router_has() {
    let (fleet, topology) = demo_fleet().await;
    let stats = Stats::default();
    let mut pending = Vec::new();
    let mut polled = std::collections::HashMap::new();
    for router in fleet.routers() {
        let name = router.name.as_str();
        let mut poller = Poller::new(
            target(&fleet, &topology, name, None, Duration::from_secs(10)),
            no_backoff(),
        );
        let samples = poller.poll(agent::poll::now(), &stats).await.samples;
        assert_valid(&samples);
        let board = &print(&fleet, &topology, name, "/system/routerboard/print").await[0];
        let info = samples
            .iter()
            .find(|s| s.metric == "device_info")
            .unwrap_or_else(|| panic!("{name}: no device_info in {samples:?}"));
        assert_eq!(info.value, Value::State("routerboard".into()), "{name}");
        assert_eq!(info.labels["model"], board["model"], "{name}");
        assert_eq!(
            info.labels["serial_number"], board["serial-number"],
            "{name}"
        );
        assert!(info.labels.contains_key("routeros_version"), "{name}");
        let behind = board["current-firmware"] != board["upgrade-firmware"];
        let (value, reason) = state(&samples, "firmware_upgrade_pending", None).expect("pending");
        assert_eq!(value, if behind { "yes" } else { "no" }, "{name}");
        assert_eq!(reason.is_some(), behind, "{name}");
        pending.push(behind);
        // The next poll does not read the facts again: they are on the slow interval.
        let next = poller.poll(agent::poll::now(), &stats).await.samples;
        assert_eq!(state(&next, "up", None).map(|s| s.0).as_deref(), Some("up"));
        assert_eq!(state(&next, "device_info", None), None, "{name}");
        polled.insert(name.to_owned(), samples);
    }
    assert!(
        pending.contains(&true) && pending.contains(&false),
        "{pending:?}"
    );
    assert_eq!(Stats::get(&stats.collector_failures), 0);

    let clients = |router: &str| number(&polled[router], "wireless_clients", None);
    let signals = |router: &str| -> Vec<(String, String)> {
        polled[router]
            .iter()
            .filter(|s| s.metric == "wireless_signal_dbm")
            .map(|s| {
                let label = |l: &str| s.labels.get(l).cloned().unwrap_or_default();
                (label("interface"), label("ssid"))
            })
            .collect()
    };
    // The v6 BNG: its own radio (legacy `wireless`) and the hotspot's CAPsMAN clients.
    let legacy = print(
        &fleet,
        &topology,
        "sbg1-bng-1",
        "/interface/wireless/registration-table/print",
    )
    .await;
    let managed = print(
        &fleet,
        &topology,
        "sbg1-bng-1",
        "/caps-man/registration-table/print",
    )
    .await;
    assert!(!managed.is_empty());
    assert_eq!(
        clients("sbg1-bng-1"),
        Some((legacy.len() + managed.len()) as f64)
    );
    let bng = signals("sbg1-bng-1");
    assert!(bng.contains(&("wlan1".into(), String::new())), "{bng:?}");
    assert!(
        bng.iter()
            .any(|(i, ssid)| i.starts_with("cap") && ssid == "Alpenlink-Hotspot"),
        "{bng:?}"
    );
    // The v7 CPE: the `wifi` package's table, its AP by the link's SSID.
    assert_eq!(clients("sbg1-cpe-hotel"), Some(1.0));
    assert_eq!(
        signals("sbg1-cpe-hotel"),
        [("wlan1".to_owned(), "sbg-bng1-hotel".to_owned())]
    );
    // Routers without radios: no wireless series.
    for router in ["vie1-edge-1", "vie1-bng-1", "lnz1-bng-1"] {
        assert_eq!(clients(router), None, "{router}");
    }
}

/// The hotel CPE as a 7.12 router: its radio is a `wifiwave2` interface, and the agent reads
/// the `wifiwave2` table the simulator serves for it.
#[tokio::test]
async fn a_wifiwave2_radio_is_read_from_its_own_table() {
    let demo = DEMO.replace(
        "model = \"SXTsq 5 ac\"\nrouteros = \"7.16.2\"",
        "model = \"SXTsq 5 ac\"\nrouteros = \"7.12.1\"",
    );
    assert_ne!(demo, DEMO, "the demo hotel CPE's version moved");
    let (fleet, topology) = fleet_of(&demo, 13).await;
    let stats = Stats::default();
    let mut poller = Poller::new(
        target(
            &fleet,
            &topology,
            "sbg1-cpe-hotel",
            None,
            Duration::from_secs(10),
        ),
        no_backoff(),
    );
    let samples = poller.poll(agent::poll::now(), &stats).await.samples;
    assert_valid(&samples);
    let table = print(
        &fleet,
        &topology,
        "sbg1-cpe-hotel",
        "/interface/wifiwave2/registration-table/print",
    )
    .await;
    assert_eq!(table.len(), 1);
    let mac = table[0]["mac-address"].to_ascii_uppercase();
    assert_eq!(number(&samples, "wireless_clients", None), Some(1.0));
    let signal: f64 = table[0]["signal"].parse().expect("signal");
    assert_eq!(
        number(&samples, "wireless_signal_dbm", Some(&mac)),
        Some(signal)
    );
    assert_eq!(Stats::get(&stats.collector_failures), 0);
}
