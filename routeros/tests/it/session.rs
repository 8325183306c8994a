//! `Session`: reconnecting, backing off, and opening the circuit.

use super::*;

#[tokio::test]
async fn a_session_reconnects_after_the_router_comes_back() {
    let fleet = fleet().await;
    let control = fleet
        .router("tst-core-1")
        .expect("in fleet")
        .control
        .clone();
    let session = Session::new(
        config(&fleet, "tst-core-1"),
        BackoffPolicy {
            initial: Duration::ZERO,
            ..BackoffPolicy::default()
        },
    );
    let identity = Request::new("/system/identity/print");
    session.call(&identity).await.expect("first call connects");
    control.set_down(true);
    let err = session.call(&identity).await.expect_err("router down");
    assert!(err.breaks_connection(), "{err:?}");
    control.set_down(false);
    let back = session.call(&identity).await.expect("reconnected");
    assert_eq!(back.rows[0]["name"], "tst-core-1");
}

#[tokio::test]
async fn wrong_credentials_open_the_circuit_instead_of_retrying() {
    let fleet = fleet().await;
    let mut config = config(&fleet, "tst-core-1");
    config.password = "wrong".into();
    let session = Session::new(config, BackoffPolicy::default());
    let identity = Request::new("/system/identity/print");
    let err = session.call(&identity).await.expect_err("refused");
    assert!(matches!(err, Error::LoginRefused { .. }), "{err:?}");
    let err = session.call(&identity).await.expect_err("circuit open");
    assert!(
        matches!(&err, Error::CircuitOpen { failures: 1, last_error, .. } if last_error.contains("refused the login")),
        "{err:?}"
    );
}

#[tokio::test]
async fn connect_failures_back_off() {
    // A port nobody listens on: bind one, note it, close it.
    let listener = std::net::TcpListener::bind("127.77.0.200:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let mut config = ClientConfig::new("127.77.0.200", USER, PASSWORD);
    config.port = port;
    let session = Session::new(
        config,
        BackoffPolicy {
            initial: Duration::from_secs(3600),
            max: Duration::from_secs(7200),
            ..BackoffPolicy::default()
        },
    );
    let identity = Request::new("/system/identity/print");
    let err = session.call(&identity).await.expect_err("refused");
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    let err = session.call(&identity).await.expect_err("backing off");
    assert!(
        matches!(&err, Error::BackingOff { retry_in, .. } if *retry_in > Duration::from_secs(3500)),
        "{err:?}"
    );
}
