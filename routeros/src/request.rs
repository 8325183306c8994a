//! What the client asks: a command with attributes, `.proplist` and query words.
//!
//! `Request::new("/interface/print").proplist(["name", "rx-byte"]).query(Query::eq("type",
//! "ether"))` becomes the sentence `/interface/print`, `=.proplist=name,rx-byte`,
//! `?=type=ether`. Queries are a postfix program over the item's properties (the API manual,
//! "Queries"): each `?` word pushes a test result, `?#` words combine the stack, and an item is
//! returned when everything left on the stack is true.

use crate::codec::Sentence;

/// One query word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// `?name`: the item has the property.
    Has(String),
    /// `?-name`: the item lacks the property.
    Lacks(String),
    /// `?=name=value`: the property equals the value.
    Eq(String, String),
    /// `?<name=value`: the property is less than the value.
    Lt(String, String),
    /// `?>name=value`: the property is greater than the value.
    Gt(String, String),
    /// `?#…`: stack operations: `|` or, `&` and, `!` not, `.` duplicate the top, a digit copies
    /// that stack position. `Query::or()` etc. build the common ones.
    Ops(String),
}

impl Query {
    pub fn eq(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self::Eq(name.into(), value.into())
    }
    pub fn has(name: impl Into<String>) -> Self {
        Self::Has(name.into())
    }
    pub fn lacks(name: impl Into<String>) -> Self {
        Self::Lacks(name.into())
    }
    pub fn lt(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self::Lt(name.into(), value.into())
    }
    pub fn gt(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self::Gt(name.into(), value.into())
    }
    /// `?#|`: pops two results and pushes their disjunction.
    pub fn or() -> Self {
        Self::Ops("|".into())
    }
    /// `?#&`: pops two results and pushes their conjunction.
    pub fn and() -> Self {
        Self::Ops("&".into())
    }
    /// `?#!`: negates the top result.
    pub fn not() -> Self {
        Self::Ops("!".into())
    }

    fn name(&self) -> Option<&str> {
        match self {
            Self::Has(n) | Self::Lacks(n) | Self::Eq(n, _) | Self::Lt(n, _) | Self::Gt(n, _) => {
                Some(n)
            }
            Self::Ops(_) => None,
        }
    }

    /// The word in a REST request's `.query` array, as MikroTik's REST manual writes them:
    /// `name=value` for equality, otherwise the API word without its `?`.
    fn rest_word(&self) -> String {
        match self {
            Self::Eq(n, v) => format!("{n}={v}"),
            other => other.word().split_off(1),
        }
    }

    fn word(&self) -> String {
        match self {
            Self::Has(n) => format!("?{n}"),
            Self::Lacks(n) => format!("?-{n}"),
            Self::Eq(n, v) => format!("?={n}={v}"),
            Self::Lt(n, v) => format!("?<{n}={v}"),
            Self::Gt(n, v) => format!("?>{n}={v}"),
            Self::Ops(ops) => format!("?#{ops}"),
        }
    }
}

/// A command to send. The client adds the `.tag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    command: String,
    attributes: Vec<(String, String)>,
    proplist: Option<Vec<String>>,
    queries: Vec<Query>,
}

/// Why a request cannot be sent as built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("command {0:?} must start with '/' and contain no whitespace")]
    BadCommand(String),
    #[error("attribute or property name {0:?} must be non-empty and contain no '=' or ','")]
    BadName(String),
    #[error("query operations {0:?} may only contain | & ! . and digits")]
    BadOps(String),
}

impl Request {
    pub fn new(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
            attributes: Vec::new(),
            proplist: None,
            queries: Vec::new(),
        }
    }

    /// `=name=value`.
    pub fn attr(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.push((name.into(), value.into()));
        self
    }

    /// `=.proplist=a,b,c`: only these properties come back, which is also much cheaper for
    /// the router to compute.
    pub fn proplist<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.proplist = Some(names.into_iter().map(Into::into).collect());
        self
    }

    pub fn query(mut self, query: Query) -> Self {
        self.queries.push(query);
        self
    }

    pub fn command(&self) -> &str {
        &self.command
    }

    /// The JSON object a REST `POST /rest<command>` sends: the attributes, then `.proplist`
    /// and `.query` as arrays (see [`crate::rest`]).
    pub(crate) fn rest_body(&self) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::Value;
        let mut body: serde_json::Map<String, Value> = self
            .attributes
            .iter()
            .map(|(n, v)| (n.clone(), Value::String(v.clone())))
            .collect();
        if let Some(props) = &self.proplist {
            body.insert(
                ".proplist".to_owned(),
                props.iter().cloned().map(Value::String).collect(),
            );
        }
        if !self.queries.is_empty() {
            body.insert(
                ".query".to_owned(),
                self.queries
                    .iter()
                    .map(|q| Value::String(q.rest_word()))
                    .collect(),
            );
        }
        body
    }

    /// The sentence to send, tagged with `tag`.
    pub fn to_sentence(&self, tag: &str) -> Result<Sentence, RequestError> {
        let valid_command = self.command.starts_with('/')
            && self.command.len() > 1
            && !self.command.contains(char::is_whitespace);
        if !valid_command {
            return Err(RequestError::BadCommand(self.command.clone()));
        }
        let names = self
            .attributes
            .iter()
            .map(|(n, _)| n.as_str())
            .chain(self.proplist.iter().flatten().map(String::as_str))
            .chain(self.queries.iter().filter_map(Query::name));
        for name in names {
            if name.is_empty() || name.contains(['=', ',']) {
                return Err(RequestError::BadName(name.to_owned()));
            }
        }
        for query in &self.queries {
            if let Query::Ops(ops) = query {
                let valid = !ops.is_empty()
                    && ops
                        .chars()
                        .all(|c| matches!(c, '|' | '&' | '!' | '.') || c.is_ascii_digit());
                if !valid {
                    return Err(RequestError::BadOps(ops.clone()));
                }
            }
        }
        let mut words = vec![self.command.clone()];
        words.extend(self.attributes.iter().map(|(n, v)| format!("={n}={v}")));
        if let Some(props) = &self.proplist {
            words.push(format!("=.proplist={}", props.join(",")));
        }
        words.extend(self.queries.iter().map(Query::word));
        words.push(format!(".tag={tag}"));
        Ok(Sentence::new(words))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(request: &Request) -> Vec<String> {
        request
            .to_sentence("7")
            .expect("valid")
            .words
            .into_iter()
            .map(|w| String::from_utf8(w).expect("utf8"))
            .collect()
    }

    #[test]
    fn a_rest_body_carries_attributes_proplist_and_the_query_words() {
        let request = Request::new("/interface/print")
            .attr("detail", "")
            .proplist(["name", "rx-byte"])
            .query(Query::eq("type", "ether"))
            .query(Query::eq("type", "vlan"))
            .query(Query::or())
            .query(Query::lacks("disabled"));
        assert_eq!(
            serde_json::Value::Object(request.rest_body()),
            serde_json::json!({
                "detail": "",
                ".proplist": ["name", "rx-byte"],
                ".query": ["type=ether", "type=vlan", "#|", "-disabled"],
            })
        );
        assert!(Request::new("/system/resource/print")
            .rest_body()
            .is_empty());
    }

    #[test]
    fn proplist_queries_and_tag_become_words_in_order() {
        let request = Request::new("/interface/print")
            .proplist(["name", "rx-byte"])
            .query(Query::eq("type", "ether"))
            .query(Query::eq("type", "vlan"))
            .query(Query::or())
            .query(Query::has("comment"))
            .query(Query::lacks("disabled"))
            .query(Query::gt("mtu", "1500"))
            .query(Query::lt("mtu", "9000"))
            .query(Query::not());
        assert_eq!(
            words(&request),
            [
                "/interface/print",
                "=.proplist=name,rx-byte",
                "?=type=ether",
                "?=type=vlan",
                "?#|",
                "?comment",
                "?-disabled",
                "?>mtu=1500",
                "?<mtu=9000",
                "?#!",
                ".tag=7",
            ]
        );
    }

    #[test]
    fn attribute_values_may_hold_anything() {
        let request = Request::new("/login")
            .attr("name", "admin")
            .attr("password", "p=ss word");
        assert_eq!(
            words(&request),
            ["/login", "=name=admin", "=password=p=ss word", ".tag=7"]
        );
    }

    #[test]
    fn bad_requests_are_refused_before_sending() {
        let bad = [
            (
                Request::new("interface/print"),
                RequestError::BadCommand("interface/print".into()),
            ),
            (
                Request::new("/interface print"),
                RequestError::BadCommand("/interface print".into()),
            ),
            (
                Request::new("/x").attr("a=b", "c"),
                RequestError::BadName("a=b".into()),
            ),
            (
                Request::new("/x").proplist(["a,b"]),
                RequestError::BadName("a,b".into()),
            ),
            (
                Request::new("/x").query(Query::Ops("|x".into())),
                RequestError::BadOps("|x".into()),
            ),
        ];
        for (request, error) in bad {
            assert_eq!(request.to_sentence("1"), Err(error));
        }
    }
}
