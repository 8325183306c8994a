//! Framing of the RouterOS API: length-prefixed words and zero-terminated sentences.
//!
//! A word is a length prefix followed by that many bytes; a sentence is a run of words ended by
//! a zero-length word. The prefix takes 1 to 5 bytes (MikroTik's API manual, "API words"):
//!
//! | length            | prefix                          |
//! |-------------------|---------------------------------|
//! | `< 0x80`          | 1 byte, the length              |
//! | `< 0x4000`        | 2 bytes, length \| `0x8000`     |
//! | `< 0x20_0000`     | 3 bytes, length \| `0xC0_0000`  |
//! | `< 0x1000_0000`   | 4 bytes, length \| `0xE000_0000`|
//! | otherwise         | `0xF0`, then the length as u32  |
//!
//! All multi-byte values are big-endian. A first byte of `0xF8..=0xFF` is a reserved control
//! byte, and `0xF1..=0xF7` encodes nothing: both are errors here, never guessed around.
//! This module does no I/O and knows nothing of replies; `reply` gives the words meaning.

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// The largest word accepted by default: far above any real attribute value (scripts and
/// certificates stay under a few hundred KiB), far below what a corrupt prefix can announce.
pub const DEFAULT_MAX_WORD_LEN: usize = 8 * 1024 * 1024;
/// The most words one sentence may carry by default (a `!re` of a rich item has ~100).
pub const DEFAULT_MAX_SENTENCE_WORDS: usize = 16 * 1024;

/// A sentence: the words between two zero-length words, as raw bytes.
///
/// RouterOS sends text in the router's code page (often windows-1252, UTF-8 on newer setups),
/// so the framing layer keeps bytes and leaves decoding to `reply`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sentence {
    pub words: Vec<Vec<u8>>,
}

impl Sentence {
    pub fn new<I, W>(words: I) -> Self
    where
        I: IntoIterator<Item = W>,
        W: Into<Vec<u8>>,
    {
        Self {
            words: words.into_iter().map(Into::into).collect(),
        }
    }
}

/// Why a byte stream is not valid RouterOS API framing.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("reserved control byte {0:#04x} where a word length was expected")]
    ReservedControlByte(u8),
    #[error("invalid word length prefix byte {0:#04x}")]
    InvalidPrefix(u8),
    #[error("word of {len} bytes exceeds the limit of {max} bytes")]
    WordTooLong { len: usize, max: usize },
    #[error("sentence exceeds the limit of {max} words")]
    TooManyWords { max: usize },
    #[error("zero-length word inside a sentence being encoded (it would end the sentence early)")]
    EmptyWordInSentence,
    #[error("stream ended inside a sentence ({buffered} bytes buffered)")]
    Truncated { buffered: usize },
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// Appends the length prefix for a word of `len` bytes.
pub fn encode_length(len: u32, dst: &mut BytesMut) {
    match len {
        0..=0x7F => dst.put_u8(len as u8),
        0x80..=0x3FFF => dst.put_u16(len as u16 | 0x8000),
        0x4000..=0x1F_FFFF => {
            let v = len | 0xC0_0000;
            dst.put_slice(&v.to_be_bytes()[1..]);
        }
        0x20_0000..=0x0FFF_FFFF => dst.put_u32(len | 0xE000_0000),
        _ => {
            dst.put_u8(0xF0);
            dst.put_u32(len);
        }
    }
}

/// Reads a length prefix from the start of `src`: `Ok(None)` if more bytes are needed,
/// otherwise the word length and the size of the prefix.
pub fn decode_length(src: &[u8]) -> Result<Option<(u32, usize)>, CodecError> {
    let Some(&first) = src.first() else {
        return Ok(None);
    };
    let (prefix_len, mask) = match first {
        0x00..=0x7F => return Ok(Some((u32::from(first), 1))),
        0x80..=0xBF => (2, 0x3F),
        0xC0..=0xDF => (3, 0x1F),
        0xE0..=0xEF => (4, 0x0F),
        0xF0 => (5, 0x00),
        0xF1..=0xF7 => return Err(CodecError::InvalidPrefix(first)),
        0xF8..=0xFF => return Err(CodecError::ReservedControlByte(first)),
    };
    let Some(prefix) = src.get(..prefix_len) else {
        return Ok(None);
    };
    let len = prefix[1..]
        .iter()
        .fold(u32::from(first & mask), |acc, &b| (acc << 8) | u32::from(b));
    Ok(Some((len, prefix_len)))
}

/// Encodes and incrementally decodes whole sentences, with size limits on input.
#[derive(Debug)]
pub struct SentenceCodec {
    max_word_len: usize,
    max_words: usize,
    /// Words of the sentence being decoded, kept across calls when a chunk ends mid-sentence.
    partial: Vec<Vec<u8>>,
}

impl Default for SentenceCodec {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_WORD_LEN, DEFAULT_MAX_SENTENCE_WORDS)
    }
}

impl SentenceCodec {
    pub fn new(max_word_len: usize, max_words: usize) -> Self {
        Self {
            max_word_len,
            max_words,
            partial: Vec::new(),
        }
    }
}

impl Decoder for SentenceCodec {
    type Item = Sentence;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Sentence>, CodecError> {
        loop {
            let Some((len, prefix_len)) = decode_length(src)? else {
                return Ok(None);
            };
            let len = len as usize;
            // Refuse before buffering: a corrupt prefix must not make us wait for 4 GiB.
            if len > self.max_word_len {
                return Err(CodecError::WordTooLong {
                    len,
                    max: self.max_word_len,
                });
            }
            if src.len() < prefix_len + len {
                src.reserve(prefix_len + len - src.len());
                return Ok(None);
            }
            src.advance(prefix_len);
            if len == 0 {
                return Ok(Some(Sentence {
                    words: std::mem::take(&mut self.partial),
                }));
            }
            if self.partial.len() >= self.max_words {
                return Err(CodecError::TooManyWords {
                    max: self.max_words,
                });
            }
            self.partial.push(src.split_to(len).to_vec());
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Sentence>, CodecError> {
        match self.decode(src)? {
            Some(sentence) => Ok(Some(sentence)),
            None if src.is_empty() && self.partial.is_empty() => Ok(None),
            None => Err(CodecError::Truncated {
                buffered: src.len() + self.partial.iter().map(Vec::len).sum::<usize>(),
            }),
        }
    }
}

impl Encoder<&Sentence> for SentenceCodec {
    type Error = CodecError;

    fn encode(&mut self, sentence: &Sentence, dst: &mut BytesMut) -> Result<(), CodecError> {
        for word in &sentence.words {
            if word.is_empty() {
                return Err(CodecError::EmptyWordInSentence);
            }
            // Outgoing words are capped by the protocol's u32 length, not by our input limit.
            let len = u32::try_from(word.len()).map_err(|_| CodecError::WordTooLong {
                len: word.len(),
                max: u32::MAX as usize,
            })?;
            dst.reserve(5 + word.len());
            encode_length(len, dst);
            dst.put_slice(word);
        }
        dst.put_u8(0);
        Ok(())
    }
}

impl Encoder<Sentence> for SentenceCodec {
    type Error = CodecError;

    fn encode(&mut self, sentence: Sentence, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.encode(&sentence, dst)
    }
}

#[cfg(test)]
mod tests;
