//! The REST transport (RouterOS v7 `/rest` over HTTPS) against the simulator's REST service:
//! the same answers as the API for the same requests (queries, `.proplist`, `count-only`),
//! traps as errors, a refused login that opens the breaker, certificate checks, no REST on v6,
//! and a router going down.

use routeros::Transport;

use crate::*;

async fn rest_fleet() -> Fleet {
    let topology = Topology::parse(FLEET, "fleet.toml").expect("fixture parses");
    Fleet::start(
        &topology,
        &FleetOptions {
            seed: 42,
            port: Some(0),
            rest_port: Some(0),
            ..FleetOptions::default()
        },
    )
    .await
    .expect("fleet starts")
}

/// `name`'s REST service, its certificate checked by `verification` (pinned by default).
fn rest_config(fleet: &Fleet, name: &str, verification: Option<Verification>) -> ClientConfig {
    let rest = fleet
        .router(name)
        .and_then(|r| r.rest.clone())
        .expect("a v7 router serves REST");
    let mut config = ClientConfig::new(rest.address.ip().to_string(), USER, PASSWORD);
    config.port = rest.address.port();
    config.connect_timeout = Duration::from_secs(5);
    config.request_timeout = Duration::from_secs(5);
    config.transport = Transport::Rest;
    config.tls = Some(TlsConfig {
        verification: verification
            .unwrap_or_else(|| Verification::Pinned(Fingerprint::of(&rest.certificate))),
        server_name: None,
    });
    config
}

#[tokio::test]
async fn rest_answers_what_the_api_answers() {
    let fleet = rest_fleet().await;
    let api = Session::new(config(&fleet, "tst-core-1"), BackoffPolicy::default());
    let rest = Session::new(
        rest_config(&fleet, "tst-core-1", None),
        BackoffPolicy::default(),
    );
    // Fields that do not move between two calls (counters and uptime do).
    let requests = [
        Request::new("/interface/print").proplist(["name", "type", "mtu"]),
        Request::new("/interface/print")
            .proplist(["name"])
            .query(Query::eq("name", "ether1"))
            .query(Query::eq("name", "sfp-sfpplus2"))
            .query(Query::or()),
        Request::new("/interface/print")
            .proplist(["name", "comment"])
            .query(Query::lacks("comment")),
        Request::new("/interface/print").attr("count-only", ""),
        Request::new("/system/routerboard/print"),
        Request::new("/system/resource/print").proplist(["board-name", "version"]),
        Request::new("/routing/bgp/connection/print").proplist(["name", "remote.as"]),
    ];
    for request in &requests {
        let by_api = api.call(request).await.expect("API");
        let by_rest = rest.call(request).await.expect("REST");
        assert_eq!(by_rest, by_api, "{request:?}");
    }
    let names = rest.call(&requests[1]).await.expect("REST");
    assert_eq!(names.rows.len(), 2, "the or-query picks two: {names:?}");
    let counted = rest.call(&requests[3]).await.expect("REST");
    assert!(counted.rows.is_empty());
    assert!(counted.done["ret"].parse::<usize>().expect("a count") >= 5);
}

#[tokio::test]
async fn traps_become_errors_with_the_routers_words() {
    let fleet = rest_fleet().await;
    let rest = Session::new(
        rest_config(&fleet, "tst-core-1", None),
        BackoffPolicy::default(),
    );
    for (command, says) in [
        ("/nowhere/print", "no such command prefix"),
        ("/interface/frobnicate", "no such command"),
        ("/interface/set", "not enough permissions"),
    ] {
        match rest.call(&Request::new(command)).await {
            Err(Error::Trap { message, .. }) => {
                assert!(message.contains(says), "{command}: {message}")
            }
            other => panic!("{command}: expected a trap, got {other:?}"),
        }
    }
    match rest
        .call(&Request::new("/interface/print").query(Query::Ops("|".into())))
        .await
    {
        Err(Error::Trap { message, .. }) => assert!(message.contains("underflow"), "{message}"),
        other => panic!("a query that cannot run: {other:?}"),
    }
    // A trap is the command's failure, not the router's: the session goes on.
    rest.call(&Request::new("/system/resource/print"))
        .await
        .expect("still answering");
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_opens_the_breaker() {
    let fleet = rest_fleet().await;
    let mut config = rest_config(&fleet, "tst-core-1", None);
    config.password = "wrong".to_owned().into();
    let rest = Session::new(config, BackoffPolicy::default());
    let request = Request::new("/system/resource/print");
    match rest.call(&request).await {
        Err(Error::LoginRefused { user, .. }) => assert_eq!(user, USER),
        other => panic!("expected a refused login, got {other:?}"),
    }
    assert!(
        matches!(rest.call(&request).await, Err(Error::CircuitOpen { .. })),
        "no retry storm against the account"
    );
}

#[tokio::test]
async fn the_certificate_is_checked() {
    let fleet = rest_fleet().await;
    // Default: the Mozilla roots, which do not know the router's self-signed certificate.
    let web_pki = Session::new(
        rest_config(
            &fleet,
            "tst-core-1",
            Some(TlsConfig::default().verification),
        ),
        BackoffPolicy::default(),
    );
    let request = Request::new("/system/resource/print");
    match web_pki.call(&request).await {
        Err(Error::Tls { .. }) => {}
        other => panic!("expected a TLS error, got {other:?}"),
    }
    // Pinned to another router's certificate.
    let other = fleet
        .router("tst-core-2")
        .and_then(|r| r.rest.clone())
        .expect("REST");
    let wrong_pin = Session::new(
        rest_config(
            &fleet,
            "tst-core-1",
            Some(Verification::Pinned(Fingerprint::of(&other.certificate))),
        ),
        BackoffPolicy::default(),
    );
    match wrong_pin.call(&request).await {
        Err(Error::Tls { source, .. }) => {
            assert!(
                source.to_string().contains("does not match the pinned"),
                "{source}"
            );
        }
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

#[tokio::test]
async fn v6_routers_have_no_rest_and_a_router_going_down_stops_answering() {
    let fleet = rest_fleet().await;
    for router in fleet.routers() {
        assert_eq!(
            router.rest.is_some(),
            router.version.is_v7(),
            "{}",
            router.name
        );
    }
    let rest = Session::new(
        rest_config(&fleet, "tst-core-1", None),
        BackoffPolicy {
            initial: Duration::ZERO,
            max: Duration::ZERO,
            open_after: u32::MAX,
            open_for: Duration::ZERO,
        },
    );
    let request = Request::new("/system/resource/print");
    rest.call(&request).await.expect("up");
    let router = fleet.router("tst-core-1").expect("router");
    router.control.set_down(true);
    let err = rest.call(&request).await.expect_err("down");
    assert!(err.is_router_failure(), "{err:?}");
    router.control.set_down(false);
    rest.call(&request).await.expect("back");
}
