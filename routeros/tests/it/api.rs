//! Logins, prints with queries and `.proplist`, traps, multiplexing, cancellation, `/quit`.

use super::*;

#[tokio::test]
async fn v7_plain_login_proplist_and_queries() {
    let fleet = fleet().await;
    let client = Client::connect(&config(&fleet, "tst-core-1"))
        .await
        .expect("logs in");
    let uplinks = client
        .call(
            &Request::new("/interface/print")
                .proplist(["name", "rx-byte", "running"])
                .query(Query::eq("name", "sfp-sfpplus1"))
                .query(Query::eq("name", "ether1"))
                .query(Query::or()),
        )
        .await
        .expect("print");
    let names: Vec<&str> = uplinks.rows.iter().map(|r| r["name"].as_str()).collect();
    assert_eq!(names, ["ether1", "sfp-sfpplus1"]);
    for row in &uplinks.rows {
        let keys: Vec<&str> = row.keys().map(String::as_str).collect();
        assert_eq!(keys, ["name", "running", "rx-byte"], "only the proplist");
        assert!(row["rx-byte"].parse::<u64>().expect("numeric") > 0);
    }
    let resource = client
        .call(&Request::new("/system/resource/print"))
        .await
        .expect("print");
    assert_eq!(resource.rows[0]["version"], "7.16.2 (stable)");
    let bgp = client
        .call(&Request::new("/routing/bgp/session/print").query(Query::eq("remote.as", "1299")))
        .await
        .expect("print");
    assert!(bgp.rows.len() <= 1);
}

#[tokio::test]
async fn v6_legacy_challenge_login_and_count_only() {
    let fleet = fleet().await;
    let client = Client::connect(&config(&fleet, "tst-bng-1"))
        .await
        .expect("MD5 challenge login");
    let count = client
        .call(&Request::new("/ppp/active/print").attr("count-only", ""))
        .await
        .expect("count");
    let sessions = client
        .call(&Request::new("/ppp/active/print").proplist(["name"]))
        .await
        .expect("print");
    assert_eq!(count.done["ret"], sessions.rows.len().to_string());
    assert!(sessions.rows.len() >= 30, "{}", sessions.rows.len());
    let peers = client
        .call(&Request::new("/routing/bgp/peer/print"))
        .await
        .expect("v6 BGP path");
    assert!(peers.rows.is_empty());
    let err = client
        .call(&Request::new("/routing/bgp/session/print"))
        .await
        .expect_err("no v7 path on v6");
    assert!(matches!(err, Error::Trap { .. }), "{err:?}");
}

#[tokio::test]
async fn wrong_password_is_refused_on_both_login_kinds() {
    let fleet = fleet().await;
    for (router, message) in [
        ("tst-core-1", "invalid user name or password (6)"),
        ("tst-bng-1", "cannot log in"),
    ] {
        let mut config = config(&fleet, router);
        config.password = "wrong".into();
        let err = Client::connect(&config).await.expect_err("refused");
        assert!(
            matches!(&err, Error::LoginRefused { user, message: m, .. } if user == USER && m == message),
            "{router}: {err:?}"
        );
    }
}

#[tokio::test]
async fn unknown_commands_trap_like_routeros() {
    let fleet = fleet().await;
    let client = Client::connect(&config(&fleet, "tst-core-1"))
        .await
        .expect("logs in");
    let cases = [
        ("/ip/adress/print", "no such command prefix"),
        ("/interface/frobnicate", "no such command"),
        ("/interface/set", "not enough permissions (9)"),
    ];
    for (command, expected) in cases {
        let err = client.call(&Request::new(command)).await.expect_err("trap");
        assert!(
            matches!(&err, Error::Trap { message, .. } if message == expected),
            "{command}: {err:?}"
        );
    }
    // Traps do not hurt the connection.
    client
        .call(&Request::new("/system/identity/print"))
        .await
        .expect("still fine");
}

#[tokio::test]
async fn many_commands_in_flight_on_one_connection() {
    let fleet = fleet().await;
    fleet
        .router("tst-core-1")
        .expect("in fleet")
        .control
        .set_latency(Duration::from_millis(200));
    let client = Client::connect(&config(&fleet, "tst-core-1"))
        .await
        .expect("logs in");
    let paths = [
        "/system/resource/print",
        "/system/health/print",
        "/system/routerboard/print",
        "/interface/print",
        "/routing/bgp/session/print",
        "/routing/ospf/neighbor/print",
        "/queue/simple/print",
        "/queue/tree/print",
        "/ip/neighbor/print",
        "/tool/netwatch/print",
    ];
    let started = std::time::Instant::now();
    let calls = paths.map(|p| {
        let client = client.clone();
        tokio::spawn(async move { client.call(&Request::new(p)).await })
    });
    for (path, call) in paths.iter().zip(calls) {
        call.await
            .expect("joined")
            .unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    // Ten 200 ms commands, answered concurrently rather than one after another.
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_slow_command_times_out_and_is_cancelled() {
    let fleet = fleet().await;
    let control = &fleet.router("tst-core-1").expect("in fleet").control;
    let mut config = config(&fleet, "tst-core-1");
    config.request_timeout = Duration::from_millis(300);
    let client = Client::connect(&config).await.expect("logs in");
    control.set_latency(Duration::from_secs(30));
    let err = client
        .call(&Request::new("/interface/print"))
        .await
        .expect_err("timeout");
    assert!(matches!(err, Error::RequestTimeout { .. }), "{err:?}");
    control.set_latency(Duration::ZERO);
    // The router answered the /cancel and the connection is usable at once.
    client
        .call(&Request::new("/system/identity/print"))
        .await
        .expect("still fine");
}

type Raw = tokio_util::codec::Framed<tokio::net::TcpStream, routeros::codec::SentenceCodec>;

/// Sends one sentence and returns the replies up to `!done`, each as its words joined.
async fn exchange(peer: &mut Raw, words: &[&str]) -> Vec<String> {
    use futures_util::{SinkExt, StreamExt};
    peer.send(routeros::codec::Sentence::new(words.iter().copied()))
        .await
        .expect("sent");
    let mut replies = Vec::new();
    loop {
        let reply = peer.next().await.expect("open").expect("valid");
        let words: Vec<String> = reply
            .words
            .into_iter()
            .map(|w| String::from_utf8(w).expect("utf8"))
            .collect();
        let done = words[0] == "!done";
        replies.push(words.join(" "));
        if done {
            return replies;
        }
    }
}

/// Speaks the protocol by hand, to see the exact sentences the simulator sends.
#[tokio::test]
async fn raw_sentences_untagged_tagged_and_empty() {
    let fleet = fleet().await;
    let address = fleet.router("tst-cpe-1").expect("in fleet").address;
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connects");
    let mut peer = Raw::new(stream, routeros::codec::SentenceCodec::default());
    assert_eq!(
        exchange(&mut peer, &["/interface/print"]).await,
        ["!trap =message=not logged in", "!done"]
    );
    let (name, password) = (format!("=name={USER}"), format!("=password={PASSWORD}"));
    assert_eq!(
        exchange(&mut peer, &["/login", &name, &password]).await,
        ["!done"]
    );
    // RouterOS 7.18+ says `!empty` when nothing matches.
    assert_eq!(
        exchange(&mut peer, &["/ppp/active/print", ".tag=a"]).await,
        ["!empty .tag=a", "!done .tag=a"]
    );
    let one = [
        "/interface/print",
        "=.proplist=name,type",
        "?type=wifi",
        ".tag=b",
    ];
    assert_eq!(
        exchange(&mut peer, &one).await,
        ["!re =name=wlan1 =type=wifi .tag=b", "!done .tag=b"]
    );
}

#[tokio::test]
async fn quit_ends_with_fatal() {
    let fleet = fleet().await;
    let client = Client::connect(&config(&fleet, "tst-core-1"))
        .await
        .expect("logs in");
    let err = client
        .call(&Request::new("/quit"))
        .await
        .expect_err("fatal");
    assert!(
        matches!(&err, Error::Fatal { message, .. } if message == "session terminated on request"),
        "{err:?}"
    );
    assert!(client.is_closed());
}
