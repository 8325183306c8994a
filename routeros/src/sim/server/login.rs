//! `/login`: the plain method, or the MD5 challenge for routers that predate it.

use std::time::{SystemTime, UNIX_EPOCH};

use super::command::{trap, Command};
use super::RouterState;
use crate::client::login::challenge_response;
use crate::codec::Sentence;
use crate::reply::sentence;
use crate::sim::data;

/// Login progress of one connection.
#[derive(Debug, Default)]
pub(super) struct Login {
    pub(super) done: bool,
    challenge: Option<[u8; 16]>,
}

impl Login {
    pub(super) fn step(&mut self, state: &RouterState, command: &Command) -> Vec<Sentence> {
        let tag = command.tag.as_deref();
        let name = command.attributes.get("name");
        let refused = if state.router.version.is_v7() {
            "invalid user name or password (6)"
        } else {
            "cannot log in"
        };
        if state.router.version.legacy_login() {
            // Pre-6.43 behaviour: any `/login` without `=response=` gets a fresh challenge.
            let Some(response) = command.attributes.get("response") else {
                let nanos = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or_default();
                let a = data::mix(state.seed, &[&state.router.name, &nanos.to_string()]);
                let b = data::mix(a, &["challenge"]);
                let mut challenge = [0_u8; 16];
                challenge[..8].copy_from_slice(&a.to_be_bytes());
                challenge[8..].copy_from_slice(&b.to_be_bytes());
                self.challenge = Some(challenge);
                return vec![sentence("!done", &[("ret", &hex::encode(challenge))], tag)];
            };
            let expected = self
                .challenge
                .take()
                .map(|c| challenge_response(&state.password, &c));
            if name == Some(&state.username) && expected.as_ref() == Some(response) {
                self.done = true;
                return vec![sentence("!done", &[], tag)];
            }
            return trap(refused, None, tag);
        }
        if name == Some(&state.username)
            && command.attributes.get("password") == Some(&state.password)
        {
            self.done = true;
            return vec![sentence("!done", &[], tag)];
        }
        trap(refused, None, tag)
    }
}
