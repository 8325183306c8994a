//! The client against a scripted peer on an in-memory pipe: multiplexing, timeouts, and every
//! kind of bad input ending in its own error.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncWriteExt, DuplexStream};
use tokio_util::codec::Framed;

use super::*;
use crate::codec::Sentence;
use crate::reply::sentence;

type Peer = Framed<DuplexStream, SentenceCodec>;

fn pair(timeout: Duration) -> (Client, Peer) {
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    (
        Client::over(ours, "test-router:8728".into(), timeout),
        Framed::new(theirs, SentenceCodec::default()),
    )
}

async fn next(peer: &mut Peer) -> Vec<String> {
    let sentence = peer.next().await.expect("a sentence").expect("valid");
    sentence
        .words
        .into_iter()
        .map(|w| String::from_utf8(w).expect("utf8"))
        .collect()
}

fn tag_of(words: &[String]) -> String {
    words
        .iter()
        .find_map(|w| w.strip_prefix(".tag="))
        .expect("tagged")
        .to_owned()
}

#[tokio::test]
async fn replies_are_routed_by_tag_even_out_of_order() {
    let (client, mut peer) = pair(Duration::from_secs(5));
    let first = {
        let client = client.clone();
        tokio::spawn(async move { client.call(&Request::new("/interface/print")).await })
    };
    let first_words = next(&mut peer).await;
    let second = {
        let client = client.clone();
        tokio::spawn(async move { client.call(&Request::new("/system/resource/print")).await })
    };
    let second_words = next(&mut peer).await;
    assert_eq!(first_words[0], "/interface/print");
    assert_eq!(second_words[0], "/system/resource/print");
    let (t1, t2) = (tag_of(&first_words), tag_of(&second_words));
    assert_ne!(t1, t2);
    // Answer the second command first, interleaving the first one's rows.
    for s in [
        sentence("!re", &[("name", "ether1")], Some(&t1)),
        sentence("!re", &[("cpu-load", "7")], Some(&t2)),
        sentence("!done", &[], Some(&t2)),
        sentence("!re", &[("name", "ether2")], Some(&t1)),
        sentence("!done", &[], Some(&t1)),
    ] {
        peer.send(s).await.expect("sent");
    }
    let second = second.await.expect("joined").expect("ok");
    assert_eq!(second.rows.len(), 1);
    assert_eq!(second.rows[0]["cpu-load"], "7");
    let first = first.await.expect("joined").expect("ok");
    let names: Vec<&str> = first.rows.iter().map(|r| r["name"].as_str()).collect();
    assert_eq!(names, ["ether1", "ether2"]);
}

#[tokio::test]
async fn empty_then_done_is_an_empty_result() {
    let (client, mut peer) = pair(Duration::from_secs(5));
    let call = tokio::spawn(async move { client.call(&Request::new("/queue/tree/print")).await });
    let tag = tag_of(&next(&mut peer).await);
    peer.send(sentence("!empty", &[], Some(&tag)))
        .await
        .expect("sent");
    peer.send(sentence("!done", &[], Some(&tag)))
        .await
        .expect("sent");
    assert_eq!(
        call.await.expect("joined").expect("ok"),
        Response::default()
    );
}

#[tokio::test]
async fn a_trap_is_an_error_naming_command_and_message() {
    let (client, mut peer) = pair(Duration::from_secs(5));
    let call = {
        let client = client.clone();
        tokio::spawn(async move { client.call(&Request::new("/ip/adress/print")).await })
    };
    let tag = tag_of(&next(&mut peer).await);
    peer.send(sentence(
        "!trap",
        &[("category", "0"), ("message", "no such command prefix")],
        Some(&tag),
    ))
    .await
    .expect("sent");
    peer.send(sentence("!done", &[], Some(&tag)))
        .await
        .expect("sent");
    let err = call.await.expect("joined").expect_err("trap");
    assert!(
        matches!(&err, Error::Trap { command, category: Some(0), message, .. }
            if command == "/ip/adress/print" && message == "no such command prefix"),
        "{err:?}"
    );
    // The connection is still good.
    assert!(!client.is_closed());
}

#[tokio::test(start_paused = true)]
async fn a_request_timeout_cancels_the_command_on_the_router() {
    let (client, mut peer) = pair(Duration::from_secs(2));
    let call = {
        let client = client.clone();
        tokio::spawn(async move { client.call(&Request::new("/tool/ping")).await })
    };
    let tag = tag_of(&next(&mut peer).await);
    // No answer: the paused clock jumps to the timeout, and a /cancel for that tag follows.
    let cancel = next(&mut peer).await;
    assert_eq!(cancel[0], "/cancel");
    assert!(cancel.contains(&format!("=tag={tag}")), "{cancel:?}");
    let err = call.await.expect("joined").expect_err("timeout");
    assert!(
        matches!(&err, Error::RequestTimeout { command, timeout, .. }
            if command == "/tool/ping" && *timeout == Duration::from_secs(2)),
        "{err:?}"
    );
    // The router's late replies are dropped quietly and the connection keeps working.
    let cancel_tag = tag_of(&cancel);
    for s in [
        sentence(
            "!trap",
            &[("category", "2"), ("message", "interrupted")],
            Some(&tag),
        ),
        sentence("!done", &[], Some(&tag)),
        sentence("!done", &[], Some(&cancel_tag)),
    ] {
        peer.send(s).await.expect("sent");
    }
    let again = {
        let client = client.clone();
        tokio::spawn(async move { client.call(&Request::new("/system/identity/print")).await })
    };
    let tag = tag_of(&next(&mut peer).await);
    peer.send(sentence("!re", &[("name", "r1")], Some(&tag)))
        .await
        .expect("sent");
    peer.send(sentence("!done", &[], Some(&tag)))
        .await
        .expect("sent");
    assert_eq!(again.await.expect("joined").expect("ok").rows.len(), 1);
}

/// Sends `bytes` as the router's answer to one call and returns the call's error.
async fn error_after(bytes: &[u8]) -> Error {
    let (client, mut peer) = pair(Duration::from_secs(5));
    let call = {
        let client = client.clone();
        tokio::spawn(async move { client.call(&Request::new("/interface/print")).await })
    };
    let _ = next(&mut peer).await;
    let mut stream = peer.into_inner();
    stream.write_all(bytes).await.expect("written");
    drop(stream);
    let err = call.await.expect("joined").expect_err("must fail");
    // The connection is over for everyone, with the same error.
    assert!(client.is_closed());
    let later = client.call(&Request::new("/x")).await.expect_err("closed");
    assert_eq!(later.to_string(), err.to_string());
    err
}

fn encoded(sentences: &[Sentence]) -> Vec<u8> {
    let mut buf = bytes::BytesMut::new();
    let mut codec = SentenceCodec::default();
    for s in sentences {
        tokio_util::codec::Encoder::encode(&mut codec, s, &mut buf).expect("encodes");
    }
    buf.to_vec()
}

#[tokio::test]
async fn fatal_mid_stream_ends_the_connection_with_its_message() {
    let bytes = encoded(&[
        sentence("!re", &[("name", "ether1")], Some("1")),
        Sentence::new(["!fatal", "session terminated on request"]),
    ]);
    let err = error_after(&bytes).await;
    assert!(
        matches!(&err, Error::Fatal { message, .. } if message == "session terminated on request"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_truncated_word_is_a_protocol_error_not_a_hang() {
    // A word announcing 10 bytes, 3 delivered, then EOF.
    let err = error_after(&[3, b'!', b'r', b'e', 10, b'=', b'a', b'=']).await;
    assert!(
        matches!(&err, Error::Protocol { detail, .. } if detail.contains("stream ended")),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_absurd_length_prefix_is_a_protocol_error() {
    let err = error_after(&[0xF0, 0x7F, 0xFF, 0xFF, 0xFF]).await;
    assert!(
        matches!(&err, Error::Protocol { detail, .. } if detail.contains("exceeds the limit")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_control_byte_is_a_protocol_error() {
    let err = error_after(&[0xFF]).await;
    assert!(
        matches!(&err, Error::Protocol { detail, .. } if detail.contains("reserved control byte")),
        "{err:?}"
    );
}

#[tokio::test]
async fn unexpected_replies_are_protocol_errors() {
    let err = error_after(&encoded(&[Sentence::new(["!weird", ".tag=1"])])).await;
    assert!(
        matches!(&err, Error::Protocol { detail, .. } if detail.contains("unknown reply word")),
        "{err:?}"
    );
    let err = error_after(&encoded(&[Sentence::new(["!re", "=name=x"])])).await;
    assert!(
        matches!(&err, Error::Protocol { detail, .. } if detail.contains("untagged")),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_peer_closing_is_a_lost_connection() {
    let err = error_after(&[]).await;
    assert!(
        matches!(&err, Error::ConnectionLost { detail, .. } if detail.contains("closed")),
        "{err:?}"
    );
}

#[tokio::test]
async fn invalid_requests_fail_without_touching_the_connection() {
    let (client, _peer) = pair(Duration::from_secs(5));
    let err = client
        .call(&Request::new("no-slash"))
        .await
        .expect_err("invalid");
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(!client.is_closed());
}
