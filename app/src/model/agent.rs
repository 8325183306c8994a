//! Edge agents as the Agents page shows them: enrolled with a one-time token, known by their
//! client certificate, reporting their buffer and pushes every minute.

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::text_field;

/// How long an enrollment token stays usable.
pub const TOKEN_LIFETIME_MINUTES: i64 = 10;

/// A status report older than this means the agent is not talking to the server.
pub const STATUS_STALE_SECONDS: i64 = 180;

/// A buffered batch older than this means the agent is behind (a backlog is draining, or pushes
/// fail).
pub const BACKLOG_WARN_SECONDS: i64 = 300;

/// What an agent's latest status report said (`telemetry::enroll::AgentStatus`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentReport {
    /// Seconds since the report arrived.
    pub age_s: i64,
    pub buffer_batches: u64,
    pub buffer_bytes: u64,
    /// Seconds the oldest buffered batch has waited, by the agent's clock.
    pub oldest_buffered_s: Option<i64>,
    /// Seconds since the server last took a batch, by the agent's clock.
    pub last_push_s: Option<i64>,
    pub dropped_samples: u64,
    pub targets: u64,
    /// The revision of the server's assignment the agent polls (none with a fleet file).
    pub assignment_revision: Option<String>,
    /// Seconds since the agent last fetched its assignment, by its clock.
    pub assignment_fetched_s: Option<i64>,
}

/// One agent of the tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRow {
    /// The agent's UUID, as its certificate names it.
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub enrolled_at: Option<String>,
    pub enrolled_from: Option<String>,
    pub revoked_at: Option<String>,
    pub version: Option<String>,
    pub certificate_not_after: Option<String>,
    /// The last batch the server stored from it.
    pub last_batch_at: Option<String>,
    pub report: Option<AgentReport>,
    /// The sites it serves: it polls their enabled devices.
    pub sites: Vec<AgentSite>,
}

/// A site as the Agents page names it, served by an agent or free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSite {
    pub id: i64,
    pub code: String,
    pub name: String,
}

/// What the page says of an agent at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentHealth {
    /// A token was made; the agent has not enrolled.
    Pending,
    /// Reporting, nothing old buffered, nothing dropped.
    Ok,
    /// Reporting, but holding old batches or dropping samples.
    Behind,
    /// Enrolled, but no report for [`STATUS_STALE_SECONDS`].
    Silent,
    Revoked,
}

impl AgentHealth {
    pub fn label(self) -> &'static str {
        match self {
            AgentHealth::Pending => "pending",
            AgentHealth::Ok => "ok",
            AgentHealth::Behind => "behind",
            AgentHealth::Silent => "silent",
            AgentHealth::Revoked => "revoked",
        }
    }
}

impl AgentRow {
    pub fn health(&self) -> AgentHealth {
        if self.revoked_at.is_some() {
            return AgentHealth::Revoked;
        }
        if self.enrolled_at.is_none() {
            return AgentHealth::Pending;
        }
        match &self.report {
            Some(r) if r.age_s <= STATUS_STALE_SECONDS => {
                if r.dropped_samples > 0
                    || r.oldest_buffered_s
                        .is_some_and(|s| s > BACKLOG_WARN_SECONDS)
                {
                    AgentHealth::Behind
                } else {
                    AgentHealth::Ok
                }
            }
            _ => AgentHealth::Silent,
        }
    }
}

/// A token just made, shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewToken {
    pub agent_name: String,
    pub token: String,
    pub expires_at: String,
    /// The agent listener's URL, if the server knows it (`AGENT_PUBLIC_URL`).
    pub server_url: Option<String>,
}

/// The Agents page's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentsView {
    pub agents: Vec<AgentRow>,
    /// The token made by the caller's last request, taken from their session (so it shows
    /// once, with or without JavaScript).
    pub new_token: Option<NewToken>,
    /// Why agents cannot enroll on this server, if they cannot.
    pub unavailable: Option<String>,
    /// The tenant's sites no agent serves, for the assignment forms.
    pub free_sites: Vec<AgentSite>,
}

/// The site field of the assignment forms: a site id from the select.
pub fn parse_site_field(text: &str) -> Result<i64, AppError> {
    text.trim()
        .parse()
        .map_err(|_| AppError::invalid("site", "choose a site"))
}

/// The "enroll an agent" form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentForm {
    pub name: String,
}

impl AgentForm {
    /// The agent's name: 1 to 100 characters, no control characters.
    pub fn validate(&self) -> Result<String, AppError> {
        let name = text_field("name", &self.name, 1, 100)?;
        if name.chars().any(char::is_control) {
            return Err(AppError::invalid(
                "name",
                "must not contain control characters",
            ));
        }
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> AgentRow {
        AgentRow {
            id: "x".into(),
            name: "pop-1".into(),
            created_at: String::new(),
            enrolled_at: Some("t".into()),
            enrolled_from: None,
            revoked_at: None,
            version: None,
            certificate_not_after: None,
            last_batch_at: None,
            sites: Vec::new(),
            report: Some(AgentReport {
                age_s: 30,
                buffer_batches: 1,
                buffer_bytes: 100,
                oldest_buffered_s: Some(5),
                last_push_s: Some(5),
                dropped_samples: 0,
                targets: 3,
                assignment_revision: None,
                assignment_fetched_s: None,
            }),
        }
    }

    fn reporting(change: impl FnOnce(&mut AgentReport)) -> AgentRow {
        let mut r = row();
        if let Some(report) = r.report.as_mut() {
            change(report);
        }
        r
    }

    #[test]
    fn health_follows_the_report() {
        assert_eq!(row().health(), AgentHealth::Ok);
        let r = reporting(|r| r.oldest_buffered_s = Some(BACKLOG_WARN_SECONDS + 1));
        assert_eq!(r.health(), AgentHealth::Behind);
        assert_eq!(
            reporting(|r| r.dropped_samples = 1).health(),
            AgentHealth::Behind
        );
        let r = reporting(|r| r.age_s = STATUS_STALE_SECONDS + 1);
        assert_eq!(r.health(), AgentHealth::Silent);
        let mut r = row();
        r.report = None;
        assert_eq!(r.health(), AgentHealth::Silent);
        let mut r = row();
        r.enrolled_at = None;
        assert_eq!(r.health(), AgentHealth::Pending);
        let mut r = row();
        r.revoked_at = Some("t".into());
        assert_eq!(r.health(), AgentHealth::Revoked);
    }

    #[test]
    fn the_site_field_is_an_id() {
        assert_eq!(parse_site_field(" 42 ").ok(), Some(42));
        assert_eq!(
            parse_site_field(""),
            Err(AppError::invalid("site", "choose a site"))
        );
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(
            AgentForm {
                name: " pop-1 ".into()
            }
            .validate()
            .ok()
            .as_deref(),
            Some("pop-1")
        );
        assert!(AgentForm { name: "".into() }.validate().is_err());
        assert!(AgentForm {
            name: "a\u{7}b".into()
        }
        .validate()
        .is_err());
        assert!(AgentForm {
            name: "x".repeat(101)
        }
        .validate()
        .is_err());
    }
}
