//! Byte fixtures and property tests for the word and sentence framing.

use super::*;
use proptest::prelude::*;

fn prefix(len: u32) -> Vec<u8> {
    let mut buf = BytesMut::new();
    encode_length(len, &mut buf);
    buf.to_vec()
}

fn encode(sentence: &Sentence) -> BytesMut {
    let mut buf = BytesMut::new();
    SentenceCodec::default()
        .encode(sentence, &mut buf)
        .expect("encodes");
    buf
}

/// Decodes everything in `bytes` fed in the given chunk sizes (cycled), as a peer reading a
/// socket would see it.
fn decode_chunked(bytes: &[u8], chunks: &[usize]) -> Result<Vec<Sentence>, CodecError> {
    let mut codec = SentenceCodec::default();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut sizes = chunks.iter().copied().cycle();
    while !rest.is_empty() {
        let n = sizes.next().unwrap_or(1).clamp(1, rest.len());
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        while let Some(sentence) = codec.decode(&mut buf)? {
            out.push(sentence);
        }
    }
    if let Some(sentence) = codec.decode_eof(&mut buf)? {
        out.push(sentence);
    }
    Ok(out)
}

#[test]
fn length_prefixes_match_the_manual_byte_for_byte() {
    // One fixture per encoding, at both edges of its range.
    let cases: &[(u32, &[u8])] = &[
        (0x00, &[0x00]),
        (0x7F, &[0x7F]),
        (0x80, &[0x80, 0x80]),
        (0x3FFF, &[0xBF, 0xFF]),
        (0x4000, &[0xC0, 0x40, 0x00]),
        (0x1F_FFFF, &[0xDF, 0xFF, 0xFF]),
        (0x20_0000, &[0xE0, 0x20, 0x00, 0x00]),
        (0x0FFF_FFFF, &[0xEF, 0xFF, 0xFF, 0xFF]),
        (0x1000_0000, &[0xF0, 0x10, 0x00, 0x00, 0x00]),
        (u32::MAX, &[0xF0, 0xFF, 0xFF, 0xFF, 0xFF]),
    ];
    for &(len, bytes) in cases {
        assert_eq!(prefix(len), bytes, "encoding {len:#x}");
        assert_eq!(
            decode_length(bytes).expect("valid prefix"),
            Some((len, bytes.len())),
            "decoding {bytes:02x?}"
        );
        // Every proper prefix of the prefix asks for more bytes instead of guessing.
        for cut in 0..bytes.len() {
            assert_eq!(decode_length(&bytes[..cut]).expect("valid so far"), None);
        }
    }
}

#[test]
fn a_sentence_is_words_then_a_zero_byte() {
    let sentence = Sentence::new(["/login", "=name=admin", ".tag=7"]);
    let mut expected = vec![6];
    expected.extend_from_slice(b"/login");
    expected.push(11);
    expected.extend_from_slice(b"=name=admin");
    expected.push(6);
    expected.extend_from_slice(b".tag=7");
    expected.push(0);
    assert_eq!(encode(&sentence).to_vec(), expected);
    assert_eq!(
        decode_chunked(&expected, &[1]).expect("decodes"),
        [sentence]
    );
}

#[test]
fn reserved_control_bytes_are_refused() {
    for byte in 0xF8..=0xFF_u8 {
        let mut buf = BytesMut::from(&[byte, 1, 2, 3, 4, 5][..]);
        let err = SentenceCodec::default()
            .decode(&mut buf)
            .expect_err("refused");
        assert!(
            matches!(err, CodecError::ReservedControlByte(b) if b == byte),
            "{err}"
        );
    }
    for byte in 0xF1..=0xF7_u8 {
        let mut buf = BytesMut::from(&[byte, 1, 2, 3, 4][..]);
        let err = SentenceCodec::default()
            .decode(&mut buf)
            .expect_err("refused");
        assert!(
            matches!(err, CodecError::InvalidPrefix(b) if b == byte),
            "{err}"
        );
    }
}

#[test]
fn an_absurd_length_is_refused_before_any_body_arrives() {
    // 0x1000_0000 bytes announced; only the prefix is here, and the limit is 1 MiB.
    let mut buf = BytesMut::from(&[0xF0, 0x10, 0x00, 0x00, 0x00][..]);
    let err = SentenceCodec::new(1 << 20, 16)
        .decode(&mut buf)
        .expect_err("refused");
    assert!(
        matches!(
            err,
            CodecError::WordTooLong {
                len: 0x1000_0000,
                max: 0x10_0000
            }
        ),
        "{err}"
    );
}

#[test]
fn too_many_words_are_refused() {
    let bytes = encode(&Sentence::new(["a", "b", "c"]));
    let mut buf = BytesMut::from(&bytes[..]);
    let err = SentenceCodec::new(16, 2)
        .decode(&mut buf)
        .expect_err("refused");
    assert!(matches!(err, CodecError::TooManyWords { max: 2 }), "{err}");
}

#[test]
fn a_stream_ending_mid_word_or_mid_sentence_is_truncated() {
    let bytes = encode(&Sentence::new(["/interface/print", "=.proplist=name"]));
    for cut in 1..bytes.len() {
        let err = decode_chunked(&bytes[..cut], &[3]).expect_err("truncated");
        assert!(
            matches!(err, CodecError::Truncated { .. }),
            "cut {cut}: {err}"
        );
    }
}

#[test]
fn an_empty_word_cannot_be_encoded_inside_a_sentence() {
    let err = SentenceCodec::default()
        .encode(&Sentence::new(["/a", ""]), &mut BytesMut::new())
        .expect_err("refused");
    assert!(matches!(err, CodecError::EmptyWordInSentence));
}

#[test]
fn words_at_every_boundary_up_to_the_four_byte_class_roundtrip() {
    // The 4- and 5-byte classes start at 2 MiB and 256 MiB: the 2 MiB word is built here, the
    // 256 MiB one is covered at the prefix level above (allocating it would only test memcpy).
    for len in [0x7F, 0x80, 0x3FFF, 0x4000, 0x1F_FFFF, 0x20_0000] {
        let word = vec![b'x'; len];
        let sentence = Sentence {
            words: vec![b"=k=".to_vec(), word],
        };
        let bytes = encode(&sentence);
        assert_eq!(
            decode_chunked(&bytes, &[4096]).expect("decodes"),
            [sentence],
            "{len:#x}"
        );
    }
}

/// A length from one of the five classes, biased to the edges of each.
fn any_length() -> impl Strategy<Value = u32> {
    prop_oneof![
        0..0x80_u32,
        0x80..0x4000_u32,
        0x4000..0x20_0000_u32,
        0x20_0000..0x1000_0000_u32,
        0x1000_0000..=u32::MAX,
        prop::sample::select(vec![
            0x7F,
            0x80,
            0x3FFF,
            0x4000,
            0x1F_FFFF,
            0x20_0000,
            0x0FFF_FFFF,
            0x1000_0000
        ]),
    ]
}

fn any_word() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 1..0x80),
        prop::collection::vec(any::<u8>(), 0x80..0x200),
        prop::collection::vec(any::<u8>(), 0x3F80..0x4080),
    ]
}

fn any_sentences() -> impl Strategy<Value = Vec<Sentence>> {
    prop::collection::vec(
        prop::collection::vec(any_word(), 0..6).prop_map(|words| Sentence { words }),
        1..5,
    )
}

proptest! {
    #[test]
    fn every_length_roundtrips_through_its_prefix(len in any_length()) {
        let bytes = prefix(len);
        let expected_size = match len {
            0..=0x7F => 1,
            0x80..=0x3FFF => 2,
            0x4000..=0x1F_FFFF => 3,
            0x20_0000..=0x0FFF_FFFF => 4,
            _ => 5,
        };
        prop_assert_eq!(bytes.len(), expected_size);
        prop_assert_eq!(decode_length(&bytes)?, Some((len, expected_size)));
    }

    #[test]
    fn sentences_survive_any_chunking(
        sentences in any_sentences(),
        chunks in prop::collection::vec(1_usize..700, 1..8),
    ) {
        let mut bytes = BytesMut::new();
        let mut codec = SentenceCodec::default();
        for sentence in &sentences {
            codec.encode(sentence, &mut bytes)?;
        }
        prop_assert_eq!(decode_chunked(&bytes, &chunks)?, sentences);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        // Any outcome is fine except a panic or an unbounded wait for data.
        let _ = decode_chunked(&bytes, &[7]);
    }
}
