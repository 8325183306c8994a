//! What the router says: the five reply kinds and their attributes, parsed from sentences.
//!
//! A reply sentence starts with `!re` (one item), `!done` (the command finished, optionally with
//! `=ret=`), `!trap` (an error: `=category=`, `=message=`), `!fatal` (the router is closing the
//! connection; the reason follows as a bare word) or `!empty` (RouterOS 7.18+: the command
//! produced no items). Attribute words are `=key=value`, where the value may itself contain `=`;
//! `.tag=` echoes the tag of the command being answered.

use std::collections::BTreeMap;

use crate::codec::Sentence;

/// A reply's attributes, by name. RouterOS sends each name at most once per sentence.
pub type Attributes = BTreeMap<String, String>;

/// One reply sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The `.tag` of the command this answers; `None` for untagged replies (and `!fatal`).
    pub tag: Option<String>,
    pub kind: ReplyKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyKind {
    /// `!re`: one item of the result.
    Re(Attributes),
    /// `!done`: the command finished. `ret` is set by `/login`'s legacy challenge and by `add`.
    Done { attributes: Attributes },
    /// `!trap`: the command failed. `!done` still follows.
    Trap(Trap),
    /// `!fatal`: the router closes the connection after this.
    Fatal(String),
    /// `!empty`: the command produced no items (RouterOS 7.18 and later). `!done` follows.
    Empty,
}

/// The contents of a `!trap`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trap {
    /// 0 missing item or command, 1 argument value, 2 interrupted, 3 scripting, 4 general,
    /// 5 API, 6 TTY, 7 `:return` value. Absent on some traps.
    pub category: Option<u32>,
    pub message: String,
}

impl Reply {
    /// The `=ret=` of a `!done`, if any.
    pub fn ret(&self) -> Option<&str> {
        match &self.kind {
            ReplyKind::Done { attributes } => attributes.get("ret").map(String::as_str),
            _ => None,
        }
    }
}

/// Text of a word: UTF-8 when it is, else Latin-1. RouterOS does not say which code page it
/// sends (windows-1252 is common on v6), and a monitoring client must not fail on a comment.
pub fn word_text(word: &[u8]) -> String {
    match std::str::from_utf8(word) {
        Ok(text) => text.to_owned(),
        Err(_) => word.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Splits `=key=value` into its parts; `None` if the word is not an attribute word.
pub fn split_attribute(word: &str) -> Option<(&str, &str)> {
    let rest = word.strip_prefix('=')?;
    let (key, value) = rest.split_once('=')?;
    (!key.is_empty()).then_some((key, value))
}

/// Why a sentence is not a valid reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("empty reply sentence")]
    Empty,
    #[error("unknown reply word {0:?}")]
    UnknownKind(String),
    #[error("unexpected word {word:?} in a {kind} reply")]
    UnexpectedWord { kind: &'static str, word: String },
    #[error("!trap without =message=")]
    TrapWithoutMessage,
    #[error("!trap with a non-numeric category {0:?}")]
    BadCategory(String),
}

impl TryFrom<&Sentence> for Reply {
    type Error = ReplyError;

    fn try_from(sentence: &Sentence) -> Result<Self, ReplyError> {
        let mut words = sentence.words.iter().map(|w| word_text(w));
        let first = words.next().ok_or(ReplyError::Empty)?;
        let kind_name: &'static str = match first.as_str() {
            "!re" => "!re",
            "!done" => "!done",
            "!trap" => "!trap",
            "!fatal" => "!fatal",
            "!empty" => "!empty",
            _ => return Err(ReplyError::UnknownKind(first)),
        };
        if kind_name == "!fatal" {
            // The reason is a bare word ("session terminated on request"); accept the
            // attribute form too, as some proxies rewrite it.
            let message: Vec<String> = words
                .map(|w| match split_attribute(&w) {
                    Some(("message", m)) => m.to_owned(),
                    _ => w,
                })
                .collect();
            return Ok(Reply {
                tag: None,
                kind: ReplyKind::Fatal(message.join(" ")),
            });
        }
        let mut tag = None;
        let mut attributes = Attributes::new();
        for word in words {
            if let Some(value) = word.strip_prefix(".tag=") {
                tag = Some(value.to_owned());
            } else if let Some((key, value)) = split_attribute(&word) {
                attributes.insert(key.to_owned(), value.to_owned());
            } else {
                return Err(ReplyError::UnexpectedWord {
                    kind: kind_name,
                    word,
                });
            }
        }
        let kind = match kind_name {
            "!re" => ReplyKind::Re(attributes),
            "!done" => ReplyKind::Done { attributes },
            "!empty" => ReplyKind::Empty,
            _ => {
                let category = attributes
                    .get("category")
                    .map(|c| c.parse().map_err(|_| ReplyError::BadCategory(c.clone())))
                    .transpose()?;
                let message = attributes
                    .remove("message")
                    .ok_or(ReplyError::TrapWithoutMessage)?;
                ReplyKind::Trap(Trap { category, message })
            }
        };
        Ok(Reply { tag, kind })
    }
}

/// Builds reply sentences; the simulator's side of this module.
pub fn sentence(kind: &str, attributes: &[(&str, &str)], tag: Option<&str>) -> Sentence {
    let mut words = vec![kind.as_bytes().to_vec()];
    words.extend(
        attributes
            .iter()
            .map(|(k, v)| format!("={k}={v}").into_bytes()),
    );
    if let Some(tag) = tag {
        words.push(format!(".tag={tag}").into_bytes());
    }
    Sentence { words }
}

#[cfg(test)]
mod tests;
