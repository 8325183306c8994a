//! The router's side of `?` queries and `.proplist`: which items a print returns, with which
//! properties.
//!
//! Query words form a postfix program over one item (the API manual, "Queries"): `?name`
//! (has), `?-name` (lacks), `?name=x` or `?=name=x` (equals), `?<name=x`, `?>name=x` each push
//! a boolean; `?#` words combine them (`|` or, `&` and, `!` not, `.` duplicate). The item is
//! returned when every value left on the stack is true.

use super::data::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Word {
    Has(String),
    Lacks(String),
    Eq(String, String),
    Lt(String, String),
    Gt(String, String),
    Ops(String),
}

/// Parses a query word (with its leading `?`).
pub fn parse(word: &str) -> Result<Word, String> {
    let body = word
        .strip_prefix('?')
        .ok_or_else(|| format!("not a query word: {word:?}"))?;
    let pair = |rest: &str| -> Result<(String, String), String> {
        rest.split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .ok_or_else(|| format!("query word {word:?} needs name=value"))
    };
    if let Some(ops) = body.strip_prefix('#') {
        if let Some(bad) = ops.chars().find(|c| !matches!(c, '|' | '&' | '!' | '.')) {
            return Err(format!("unsupported query operation {bad:?} in {word:?}"));
        }
        return Ok(Word::Ops(ops.to_owned()));
    }
    if let Some(rest) = body.strip_prefix('<') {
        let (k, v) = pair(rest)?;
        return Ok(Word::Lt(k, v));
    }
    if let Some(rest) = body.strip_prefix('>') {
        let (k, v) = pair(rest)?;
        return Ok(Word::Gt(k, v));
    }
    if let Some(name) = body.strip_prefix('-') {
        return Ok(Word::Lacks(name.to_owned()));
    }
    let body = body.strip_prefix('=').unwrap_or(body);
    match body.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok(Word::Eq(k.to_owned(), v.to_owned())),
        Some(_) => Err(format!("query word {word:?} has an empty name")),
        None if body.is_empty() => Err("empty query word".into()),
        None => Ok(Word::Has(body.to_owned())),
    }
}

fn get<'r>(row: &'r Row, name: &str) -> Option<&'r str> {
    row.iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.as_str())
}

/// Numbers compare as numbers, everything else as text.
fn less(a: &str, b: &str) -> bool {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x < y,
        _ => a < b,
    }
}

/// Whether `row` passes the query program.
pub fn matches(query: &[Word], row: &Row) -> Result<bool, String> {
    let mut stack: Vec<bool> = Vec::new();
    let underflow = || "query stack underflow".to_owned();
    for word in query {
        match word {
            Word::Has(k) => stack.push(get(row, k).is_some()),
            Word::Lacks(k) => stack.push(get(row, k).is_none()),
            Word::Eq(k, v) => stack.push(get(row, k) == Some(v.as_str())),
            Word::Lt(k, v) => stack.push(get(row, k).is_some_and(|x| less(x, v))),
            Word::Gt(k, v) => stack.push(get(row, k).is_some_and(|x| less(v, x))),
            Word::Ops(ops) => {
                for op in ops.chars() {
                    match op {
                        '!' => {
                            let top = stack.pop().ok_or_else(underflow)?;
                            stack.push(!top);
                        }
                        '.' => {
                            let top = *stack.last().ok_or_else(underflow)?;
                            stack.push(top);
                        }
                        _ => {
                            let b = stack.pop().ok_or_else(underflow)?;
                            let a = stack.pop().ok_or_else(underflow)?;
                            stack.push(if op == '|' { a || b } else { a && b });
                        }
                    }
                }
            }
        }
    }
    Ok(stack.into_iter().all(|v| v))
}

/// Keeps only the listed properties (in the row's own order), as `.proplist` does.
pub fn project(row: Row, proplist: Option<&[String]>) -> Row {
    match proplist {
        None => row,
        Some(names) => row
            .into_iter()
            .filter(|(k, _)| names.iter().any(|n| n == k))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Row {
        vec![
            ("name", "ether1".to_owned()),
            ("type", "ether".to_owned()),
            ("mtu", "1500".to_owned()),
            ("comment", "a=b".to_owned()),
        ]
    }

    fn run(words: &[&str]) -> Result<bool, String> {
        let query: Vec<Word> = words.iter().map(|w| parse(w)).collect::<Result<_, _>>()?;
        matches(&query, &row())
    }

    #[test]
    fn simple_tests() {
        assert_eq!(run(&[]), Ok(true));
        assert_eq!(run(&["?name=ether1"]), Ok(true));
        assert_eq!(run(&["?=name=ether1"]), Ok(true), "librouteros' form");
        assert_eq!(run(&["?name=ether2"]), Ok(false));
        assert_eq!(run(&["?comment=a=b"]), Ok(true));
        assert_eq!(run(&["?comment"]), Ok(true));
        assert_eq!(run(&["?-comment"]), Ok(false));
        assert_eq!(run(&["?-disabled"]), Ok(true));
        assert_eq!(
            run(&["?>mtu=999"]),
            Ok(true),
            "numeric, not 1500 < 999 as text"
        );
        assert_eq!(run(&["?<mtu=999"]), Ok(false));
        assert_eq!(run(&["?<missing=5"]), Ok(false));
    }

    #[test]
    fn stack_operations() {
        assert_eq!(run(&["?name=ether2", "?name=ether1", "?#|"]), Ok(true));
        assert_eq!(run(&["?name=ether2", "?type=ether", "?#&"]), Ok(false));
        assert_eq!(run(&["?name=ether1", "?#!"]), Ok(false));
        assert_eq!(run(&["?name=ether2", "?#!."]), Ok(true));
        // Several values left: all must hold.
        assert_eq!(run(&["?name=ether1", "?type=vlan"]), Ok(false));
        assert_eq!(run(&["?#|"]), Err("query stack underflow".into()));
    }

    #[test]
    fn bad_words_are_errors() {
        assert!(parse("?#x").is_err());
        assert!(parse("?<mtu").is_err());
        assert!(parse("?").is_err());
        assert!(parse("?=").is_err());
        assert!(parse("name").is_err());
    }

    #[test]
    fn proplist_keeps_only_named_properties() {
        let names = ["mtu".to_owned(), "name".to_owned(), "nope".to_owned()];
        let projected = project(row(), Some(&names));
        assert_eq!(
            projected,
            vec![("name", "ether1".to_owned()), ("mtu", "1500".to_owned())]
        );
    }
}
