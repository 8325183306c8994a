//! Tests of the probes against real sockets on 127.0.0.1: a TCP listener, an HTTP server, the
//! loopback's ICMP echo; and of the burst figures (the target syntax is `telemetry::probe`'s).
use super::*;
use crate::collect::assert_valid;
use telemetry::Value;

fn probe(check: Check) -> Probe {
    Probe {
        device: DeviceRef::Name("core-1".into()),
        check,
        interval: Duration::from_secs(10),
        timeout: Duration::from_secs(2),
    }
}

fn state(samples: &[Sample]) -> (String, Option<String>) {
    let up = samples
        .iter()
        .find(|s| s.metric == "probe_up")
        .expect("probe_up");
    match &up.value {
        Value::State(v) => (v.clone(), up.reason.clone()),
        Value::Number(_) => panic!("probe_up is a state"),
    }
}

fn number(samples: &[Sample], metric: &str) -> Option<f64> {
    samples
        .iter()
        .find(|s| s.metric == metric)
        .and_then(|s| match s.value {
            Value::Number(v) => Some(v),
            Value::State(_) => None,
        })
}

#[test]
fn a_burst_gives_mean_rtt_loss_and_jitter() {
    let echoes = Echoes::of(&[10.0, 14.0, 12.0], 5).expect("replies");
    assert_eq!(echoes.rtt_ms, 12.0);
    assert_eq!(echoes.loss_percent, 40.0);
    assert_eq!(echoes.jitter_ms, Some(3.0));
    let one = Echoes::of(&[7.0], 5).expect("a reply");
    assert_eq!((one.loss_percent, one.jitter_ms), (80.0, None));
    assert_eq!(Echoes::of(&[], 5), None);
}

#[tokio::test]
async fn tcp_is_up_on_a_listening_port_and_down_with_the_reason_on_a_closed_one() {
    let prober = Prober::new().expect("prober");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let open = listener.local_addr().expect("addr").to_string();
    let samples = prober
        .run(&probe(Check::Tcp(open.clone())), crate::poll::now())
        .await;
    assert_valid(&samples);
    assert_eq!(state(&samples), ("up".into(), None));
    assert!(number(&samples, "probe_rtt_ms").expect("rtt") >= 0.0);
    assert!(samples
        .iter()
        .all(|s| s.instance.as_deref() == Some(format!("tcp:{open}").as_str())));

    drop(listener);
    let samples = prober
        .run(&probe(Check::Tcp(open)), crate::poll::now())
        .await;
    assert_valid(&samples);
    let (up, reason) = state(&samples);
    assert_eq!(up, "down");
    assert!(
        reason.as_deref().unwrap_or_default().contains("refused"),
        "{reason:?}"
    );
    assert_eq!(
        number(&samples, "probe_rtt_ms"),
        None,
        "no time for a failure"
    );
}

#[tokio::test]
async fn http_is_up_on_2xx_and_down_with_the_status_otherwise() {
    use axum::http::StatusCode;
    let app = axum::Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .route(
            "/broken",
            axum::routing::get(|| async { StatusCode::SERVICE_UNAVAILABLE }),
        )
        .route(
            "/slow",
            axum::routing::get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let prober = Prober::new().expect("prober");

    let samples = prober
        .run(
            &probe(Check::Http(format!("{base}/health"))),
            crate::poll::now(),
        )
        .await;
    assert_valid(&samples);
    assert_eq!(state(&samples), ("up".into(), None));
    assert!(number(&samples, "probe_rtt_ms").is_some());

    let samples = prober
        .run(
            &probe(Check::Http(format!("{base}/broken"))),
            crate::poll::now(),
        )
        .await;
    assert_eq!(
        state(&samples),
        ("down".into(), Some("HTTP 503 Service Unavailable".into()))
    );

    let mut slow = probe(Check::Http(format!("{base}/slow")));
    slow.timeout = Duration::from_millis(200);
    let samples = prober.run(&slow, crate::poll::now()).await;
    assert_eq!(
        state(&samples),
        ("down".into(), Some("timeout after 200 ms".into()))
    );
}

#[tokio::test]
async fn icmp_to_the_loopback_answers_every_echo() {
    let prober = Prober::new().expect("prober");
    let samples = prober
        .run(
            &probe(Check::Icmp("127.0.0.1".parse().expect("ip"))),
            crate::poll::now(),
        )
        .await;
    assert_valid(&samples);
    assert_eq!(
        state(&samples),
        ("up".into(), None),
        "ICMP needs the unprivileged ICMP socket or root: {samples:?}"
    );
    assert_eq!(number(&samples, "probe_loss_percent"), Some(0.0));
    assert!(number(&samples, "probe_rtt_ms").expect("rtt") < 100.0);
    assert!(number(&samples, "probe_jitter_ms").is_some());
}
