//! Reply parsing: every kind, attribute edge cases, malformed sentences, a hand-written byte stream.

use super::*;

fn parse(words: &[&str]) -> Result<Reply, ReplyError> {
    Reply::try_from(&Sentence::new(words.iter().copied()))
}

#[test]
fn re_values_may_contain_equals_signs() {
    let reply = parse(&["!re", "=.id=*1", "=comment=a=b==c", "=name=", ".tag=4"]).expect("ok");
    assert_eq!(reply.tag.as_deref(), Some("4"));
    let ReplyKind::Re(attrs) = reply.kind else {
        panic!("not !re: {reply:?}")
    };
    assert_eq!(attrs["comment"], "a=b==c");
    assert_eq!(attrs["name"], "");
    assert_eq!(attrs[".id"], "*1");
}

#[test]
fn done_carries_ret() {
    let reply = parse(&["!done", "=ret=0123abcd"]).expect("ok");
    assert_eq!(reply.ret(), Some("0123abcd"));
    assert_eq!(reply.tag, None);
    assert_eq!(parse(&["!done", ".tag=x"]).expect("ok").ret(), None);
}

#[test]
fn trap_has_category_and_message() {
    let reply = parse(&["!trap", "=category=2", "=message=interrupted", ".tag=9"]).expect("ok");
    assert_eq!(
        reply.kind,
        ReplyKind::Trap(Trap {
            category: Some(2),
            message: "interrupted".into()
        })
    );
    let reply = parse(&["!trap", "=message=no such command prefix"]).expect("ok");
    assert_eq!(
        reply.kind,
        ReplyKind::Trap(Trap {
            category: None,
            message: "no such command prefix".into()
        })
    );
}

#[test]
fn fatal_message_is_the_bare_word() {
    let reply = parse(&["!fatal", "session terminated on request"]).expect("ok");
    assert_eq!(
        reply.kind,
        ReplyKind::Fatal("session terminated on request".into())
    );
}

#[test]
fn empty_is_its_own_kind() {
    let reply = parse(&["!empty", ".tag=3"]).expect("ok");
    assert_eq!(reply.kind, ReplyKind::Empty);
    assert_eq!(reply.tag.as_deref(), Some("3"));
}

#[test]
fn malformed_replies_name_the_problem() {
    assert_eq!(parse(&[]), Err(ReplyError::Empty));
    assert_eq!(
        parse(&["!bogus"]),
        Err(ReplyError::UnknownKind("!bogus".into()))
    );
    assert_eq!(
        parse(&["!re", "name=x"]),
        Err(ReplyError::UnexpectedWord {
            kind: "!re",
            word: "name=x".into()
        })
    );
    assert_eq!(
        parse(&["!trap", "=category=1"]),
        Err(ReplyError::TrapWithoutMessage)
    );
    assert_eq!(
        parse(&["!trap", "=category=x", "=message=m"]),
        Err(ReplyError::BadCategory("x".into()))
    );
}

#[test]
fn non_utf8_words_decode_as_latin1() {
    let sentence = Sentence {
        words: vec![b"!re".to_vec(), b"=comment=caf\xe9".to_vec()],
    };
    let ReplyKind::Re(attrs) = Reply::try_from(&sentence).expect("ok").kind else {
        panic!("not !re")
    };
    assert_eq!(attrs["comment"], "café");
}

/// A recorded-style byte stream, written out by hand from the manual (not by our encoder):
/// a legacy login challenge, an item with a 2-byte-length word, a trap and its `!done`,
/// `!empty`, and `!fatal`.
#[test]
fn a_byte_stream_of_every_reply_kind() {
    use tokio_util::codec::Decoder;
    let stream: Vec<u8> = [
        b"\x05!done%=ret=ebddd18303a54111e2dea05a92ab46b4\x00".as_slice(),
        b"\x03!re\x07=.id=*1\x0c=name=ether1\x80\x9f=comment=",
        &[b'x'; 150],
        b"\x06.tag=2\x00",
        b"\x05!trap\x0b=category=2\x14=message=interrupted\x06.tag=3\x00",
        b"\x05!done\x06.tag=3\x00",
        b"\x06!empty\x06.tag=4\x00",
        b"\x06!fatal\x1dsession terminated on request\x00",
    ]
    .concat();
    let mut buf = bytes::BytesMut::from(stream.as_slice());
    let mut codec = crate::codec::SentenceCodec::default();
    let mut replies = Vec::new();
    while let Some(sentence) = codec.decode(&mut buf).expect("valid framing") {
        replies.push(Reply::try_from(&sentence).expect("valid reply"));
    }
    assert!(buf.is_empty());
    assert_eq!(replies.len(), 6);
    assert_eq!(replies[0].ret(), Some("ebddd18303a54111e2dea05a92ab46b4"));
    let ReplyKind::Re(item) = &replies[1].kind else {
        panic!("not !re: {:?}", replies[1])
    };
    assert_eq!(item["comment"], "x".repeat(150));
    assert_eq!(replies[1].tag.as_deref(), Some("2"));
    assert_eq!(
        replies[2].kind,
        ReplyKind::Trap(Trap {
            category: Some(2),
            message: "interrupted".into()
        })
    );
    assert_eq!(replies[3].tag.as_deref(), Some("3"));
    assert_eq!(replies[4].kind, ReplyKind::Empty);
    assert_eq!(
        replies[5].kind,
        ReplyKind::Fatal("session terminated on request".into())
    );
}

#[test]
fn built_sentences_parse_back() {
    let s = sentence("!re", &[("name", "ether1"), ("x", "a=b")], Some("t1"));
    let reply = Reply::try_from(&s).expect("ok");
    assert_eq!(reply.tag.as_deref(), Some("t1"));
    let ReplyKind::Re(attrs) = reply.kind else {
        panic!("not !re")
    };
    assert_eq!(attrs["x"], "a=b");
}
