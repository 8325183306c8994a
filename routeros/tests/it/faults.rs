//! Faults: a router going down and back, and the control port.

use super::*;

#[tokio::test]
async fn a_router_down_fault_closes_the_api_until_cleared() {
    let fleet = fleet().await;
    let mut down = fleet
        .router("tst-core-1")
        .expect("in fleet")
        .control
        .watch_down();
    let session = Session::new(
        config(&fleet, "tst-core-1"),
        BackoffPolicy {
            initial: Duration::ZERO,
            ..BackoffPolicy::default()
        },
    );
    let resource = Request::new("/system/resource/print");
    let before = session.call(&resource).await.expect("up");
    let now = routeros::sim::control::now_ms();
    let fault = routeros::sim::Fault::parse("router-down tst-core-1 1h", now).expect("valid");
    fleet.faults().inject(fault).expect("known router");
    // The router follows its faults twice a second; wait for that, not for a fixed time.
    down.wait_for(|d| *d).await.expect("router goes down");
    let err = session.call(&resource).await.expect_err("down");
    assert!(err.breaks_connection(), "{err:?}");
    fleet.faults().clear(routeros::sim::control::now_ms());
    down.wait_for(|d| !*d).await.expect("router comes back");
    let after = session.call(&resource).await.expect("reconnected");
    // It rebooted when the fault ended: a fresh uptime, not the one from before.
    assert_ne!(after.rows[0]["uptime"], before.rows[0]["uptime"]);
    assert!(after.rows[0]["uptime"].ends_with('s') && !after.rows[0]["uptime"].contains('d'));
}

type Lines = tokio_util::codec::Framed<tokio::net::TcpStream, tokio_util::codec::LinesCodec>;

async fn ask(lines: &mut Lines, line: &str) -> String {
    use futures_util::{SinkExt, StreamExt};
    lines.send(line).await.expect("sent");
    lines.next().await.expect("answer").expect("line")
}

#[tokio::test]
async fn the_control_port_injects_lists_and_clears() {
    use futures_util::StreamExt;

    let fleet = fleet().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("addr");
    let stop = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(routeros::sim::control::serve(
        listener,
        fleet.faults().clone(),
        stop.clone(),
    ));
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connects");
    let mut lines = Lines::new(stream, tokio_util::codec::LinesCodec::new());
    let answer = ask(&mut lines, "link-down core-bng 5m").await;
    assert!(
        answer.starts_with("ok link-down core-bng from "),
        "{answer}"
    );
    let answer = ask(&mut lines, "bgp-flap tst-core-1 nobody 5m").await;
    assert!(
        answer.starts_with("error: fault bgp-flap tst-core-1 nobody from ")
            && answer.ends_with(": tst-core-1 has no BGP peer named \"nobody\""),
        "{answer}"
    );
    let answer = ask(&mut lines, "meteor tst-core-1 5m").await;
    assert!(answer.starts_with("error: unknown fault"), "{answer}");
    let listed = ask(&mut lines, "list").await;
    assert!(listed.starts_with("link-down core-bng from "), "{listed}");
    let total = lines.next().await.expect("answer").expect("line");
    assert_eq!(total, "ok 1 fault(s)");
    assert_eq!(fleet.faults().list().len(), 1);
    assert_eq!(ask(&mut lines, "clear").await, "ok cleared");
    // Ended, not forgotten: its past still shapes the counters.
    let ended = fleet.faults().list();
    assert!(ended[0].until_ms <= routeros::sim::control::now_ms());
    stop.cancel();
    task.await.expect("control task ends");
}
