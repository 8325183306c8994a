//! The RouterOS API decoder on arbitrary bytes, fed in two chunks split where the input says
//! (a sentence cut across reads): it must never panic, never hang, and every sentence it
//! returns must encode back to bytes that decode to the same sentence. Each decoded sentence
//! is also read as a reply (`!re`, `!done`, `!trap`, `!fatal`, `!empty`, tags, attributes).

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use routeros::codec::{Sentence, SentenceCodec};
use routeros::reply::Reply;
use tokio_util::codec::{Decoder, Encoder};

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let cut = usize::from(split).min(rest.len());
    // Small limits, so that the too-long and too-many paths are reached too.
    let mut codec = SentenceCodec::new(4_096, 64);
    let mut buffer = BytesMut::new();
    let mut sentences: Vec<Sentence> = Vec::new();
    for chunk in [&rest[..cut], &rest[cut..]] {
        buffer.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buffer) {
                Ok(Some(sentence)) => sentences.push(sentence),
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    let _ = codec.decode_eof(&mut buffer);
    for sentence in &sentences {
        let _ = Reply::try_from(sentence);
        let mut encoded = BytesMut::new();
        SentenceCodec::default()
            .encode(sentence, &mut encoded)
            .expect("a decoded sentence encodes");
        let again = SentenceCodec::new(4_096, 64)
            .decode(&mut encoded)
            .expect("its encoding decodes")
            .expect("to a whole sentence");
        assert_eq!(&again, sentence);
        assert!(encoded.is_empty());
    }
});
