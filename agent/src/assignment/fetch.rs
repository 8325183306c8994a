//! `GET /api/agent/v1/assignment` with the enrolled agent's client: the whole assignment when
//! it changed, `Unchanged` on `304 Not Modified`.

use reqwest::header::IF_NONE_MATCH;
use reqwest::StatusCode;
use telemetry::assignment::{etag, Assignment, ASSIGNMENT_PATH};

use crate::link::success;

/// The server's answer.
#[derive(Debug)]
pub enum Fetched {
    /// The revision the agent has is current.
    Unchanged,
    New(Assignment),
}

/// Fetches the assignment from `{server_url}/api/agent/v1/assignment`; `current` is the
/// revision the agent polls, if any. A non-2xx, non-304 answer is a [`crate::link::Refused`].
pub async fn fetch(
    client: &reqwest::Client,
    server_url: &str,
    current: Option<&str>,
) -> anyhow::Result<Fetched> {
    let url = format!("{}{ASSIGNMENT_PATH}", server_url.trim_end_matches('/'));
    let mut request = client.get(&url);
    if let Some(revision) = current {
        request = request.header(IF_NONE_MATCH, etag(revision));
    }
    let response = request
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("fetching {url}: {}", crate::send::error_chain(&e)))?;
    if response.status() == StatusCode::NOT_MODIFIED {
        return Ok(Fetched::Unchanged);
    }
    let response = success(response).await?;
    let assignment = response
        .json::<Assignment>()
        .await
        .map_err(|e| anyhow::anyhow!("reading the assignment from {url}: {e}"))?;
    Ok(Fetched::New(assignment))
}
