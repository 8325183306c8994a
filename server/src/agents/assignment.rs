//! `GET /api/agent/v1/assignment` (`telemetry::assignment`): the enabled devices of the sites
//! the calling agent serves, with their RouterOS logins and SNMP settings opened from the
//! credential profiles. The only place a credential secret leaves the server, and only inside
//! the agent's mutual-TLS connection; it is never logged. Each device carries the probes defined
//! on its page.
//!
//! The revision is a SHA-256 over everything the answer is made of: the agent, the master
//! key's fingerprint, the sites, and each device's fields and probes with its profiles'
//! *ciphertexts*. It
//! is computed before anything is opened, so an unchanged assignment (`If-None-Match`) costs
//! one query and no decryption, and it moves with every edit of a device or a credential, an
//! assignment change, a key rotation, or a server started with another key (which changes
//! whether the profiles open). No plaintext goes into it.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use telemetry::assignment::{
    etag, none_match, AssignedDevice, AssignedProbe, Assignment, RouterOsLogin, Secret,
    SnmpPrivacy, SnmpSettings,
};

use app::crypto::credential::CredentialSecret;
use app::crypto::MasterKey;
use app::db::agents::assignment::{self, AssignedRow};
use app::db::credentials::SealedProfile;
use app::error::AppError;
use app::model::agent::AgentSite;
use app::model::user::TenantId;

use super::api::{caller, AgentError};
use super::listener::ClientCertificate;
use super::AgentApi;

/// Bumped when the answer's shape changes, so agents fetch it again after an upgrade (v2: the
/// devices' probes).
const FORMAT: &[u8] = b"ispvm.assignment.v2";

/// `GET /api/agent/v1/assignment`.
pub async fn assignment(
    State(api): State<AgentApi>,
    Extension(cert): Extension<ClientCertificate>,
    headers: HeaderMap,
) -> Result<Response, AgentError> {
    let agent = caller(&api, cert).await?;
    let tenant = TenantId(agent.tenant_id);
    let mut conn = api
        .pool
        .acquire()
        .await
        .map_err(|e| AgentError::Internal(e.into()))?;
    let sites = assignment::sites_of(&mut *conn, tenant, agent.id).await?;
    let rows = assignment::devices(&mut conn, tenant, agent.id).await?;
    drop(conn);
    let revision = revision(agent.id, &api.master, &sites, &rows);
    let tag = etag(&revision);
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| none_match(v, &revision));
    if unchanged {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [
                (header::ETAG, tag),
                (header::CACHE_CONTROL, "no-store".into()),
            ],
        )
            .into_response());
    }
    let devices: Vec<AssignedDevice> = rows.into_iter().map(|r| device(&api.master, r)).collect();
    let problems = devices.iter().filter(|d| !d.problems.is_empty()).count();
    tracing::info!(
        agent.id = %agent.id,
        agent.name = %agent.name,
        revision = %revision,
        devices = devices.len(),
        devices_with_problems = problems,
        "assignment sent"
    );
    let body = Assignment {
        revision,
        sites: sites.into_iter().map(|s| s.code).collect(),
        devices,
    };
    Ok((
        [
            (header::ETAG, tag),
            (header::CACHE_CONTROL, "no-store".into()),
        ],
        Json(body),
    )
        .into_response())
}

/// Length-prefixed, so that no two different inputs feed the same bytes.
fn feed(hash: &mut Sha256, bytes: &[u8]) {
    hash.update((bytes.len() as u64).to_be_bytes());
    hash.update(bytes);
}

fn feed_profile(hash: &mut Sha256, profile: Option<&SealedProfile>) {
    match profile {
        None => feed(hash, b"-"),
        Some(p) => {
            feed(hash, &p.id.0.to_be_bytes());
            feed(hash, p.name.as_bytes());
            feed(hash, p.secret_uuid.as_bytes());
            feed(hash, &p.ciphertext);
            feed(hash, p.key_fingerprint.as_bytes());
        }
    }
}

/// The answer's revision: 32 hex digits (128 bits of SHA-256).
pub fn revision(
    agent: uuid::Uuid,
    key: &MasterKey,
    sites: &[AgentSite],
    rows: &[AssignedRow],
) -> String {
    let mut hash = Sha256::new();
    feed(&mut hash, FORMAT);
    feed(&mut hash, agent.as_bytes());
    feed(&mut hash, key.fingerprint().as_bytes());
    for site in sites {
        feed(&mut hash, site.code.as_bytes());
    }
    for r in rows {
        feed(&mut hash, &r.id.to_be_bytes());
        for text in [&r.name, &r.site_code, &r.vendor, &r.address, &r.polling] {
            feed(&mut hash, text.as_bytes());
        }
        feed(&mut hash, r.snmp_version.as_bytes());
        feed(&mut hash, &r.api_port.to_be_bytes());
        feed(&mut hash, &[u8::from(r.api_tls)]);
        feed(&mut hash, &r.rest_port.unwrap_or(0).to_be_bytes());
        feed_profile(&mut hash, r.credential.as_ref());
        feed_profile(&mut hash, r.snmp.as_ref());
        feed(&mut hash, &(r.probes.len() as u64).to_be_bytes());
        for p in &r.probes {
            feed(&mut hash, &p.id.to_be_bytes());
            feed(&mut hash, p.kind.as_bytes());
            feed(&mut hash, p.target.as_bytes());
            feed(&mut hash, &p.interval_s.to_be_bytes());
            feed(&mut hash, &p.timeout_ms.to_be_bytes());
        }
    }
    hex::encode(&hash.finalize()[..16])
}

/// Opens a profile, or says why not (the cause is logged by `open_sealed`).
fn open(key: &MasterKey, profile: &SealedProfile) -> Result<CredentialSecret, String> {
    app::api::credentials::ssr::open_sealed(key, profile).map_err(|e| match e {
        AppError::Unavailable(_) => format!(
            "credential profile {}: sealed with another master key than the server's \
             (restart the server with the current ENCRYPTION_MASTER_KEY_FILE)",
            profile.name
        ),
        _ => format!(
            "credential profile {}: cannot be opened (damaged?); see the server's log",
            profile.name
        ),
    })
}

/// A device as the agent is sent it; what cannot be opened or is missing goes to `problems`.
pub fn device(key: &MasterKey, r: AssignedRow) -> AssignedDevice {
    let mut problems = Vec::new();
    let mikrotik = r.vendor == "mikrotik";
    let routeros = match &r.credential {
        None => {
            if mikrotik {
                problems.push(
                    "no credential profile: a MikroTik device is polled with a RouterOS login; \
                     choose one on the device"
                        .to_owned(),
                );
            }
            None
        }
        Some(profile) => match open(key, profile) {
            Ok(CredentialSecret::RouterOs { username, password }) => Some(RouterOsLogin {
                username,
                password: Secret::new(password.expose_secret()),
            }),
            Ok(_) => {
                problems.push(format!(
                    "credential profile {}: not a RouterOS login",
                    profile.name
                ));
                None
            }
            Err(problem) => {
                problems.push(problem);
                None
            }
        },
    };
    let snmp = match (r.snmp_version.as_str(), &r.snmp) {
        ("none", _) => {
            if !mikrotik {
                problems.push(format!(
                    "SNMP is off on the device: a {} device is polled over SNMP",
                    r.vendor
                ));
            }
            None
        }
        (version, None) => {
            problems.push(format!("SNMP {version} without an SNMP profile"));
            None
        }
        (version, Some(profile)) => match (version, open(key, profile)) {
            ("v2c", Ok(CredentialSecret::SnmpV2c { community })) => Some(SnmpSettings::V2c {
                community: Secret::new(community.expose_secret()),
            }),
            ("v3", Ok(CredentialSecret::SnmpV3(v3))) => Some(SnmpSettings::V3 {
                user: v3.user,
                auth_protocol: v3.auth_protocol.as_str().to_lowercase(),
                auth_password: Secret::new(v3.auth_passphrase.expose_secret()),
                privacy: v3.privacy.map(|(protocol, password)| SnmpPrivacy {
                    protocol: protocol.as_str().to_lowercase(),
                    password: Secret::new(password.expose_secret()),
                }),
            }),
            (_, Ok(_)) => {
                problems.push(format!(
                    "SNMP profile {}: not an SNMP {version} profile",
                    profile.name
                ));
                None
            }
            (_, Err(problem)) => {
                problems.push(problem);
                None
            }
        },
    };
    AssignedDevice {
        id: r.id,
        name: r.name,
        site: r.site_code,
        vendor: r.vendor,
        address: r.address,
        api_port: u16::try_from(r.api_port).unwrap_or(8728),
        api_tls: r.api_tls,
        rest_port: r.rest_port.and_then(|p| u16::try_from(p).ok()),
        polling: r.polling,
        routeros,
        snmp,
        problems,
        // The columns' checks keep both within 10-3600 s and 100-10000 ms.
        probes: r
            .probes
            .into_iter()
            .map(|p| AssignedProbe {
                id: p.id,
                kind: p.kind,
                target: p.target,
                interval_s: u32::try_from(p.interval_s).unwrap_or(10),
                timeout_ms: u32::try_from(p.timeout_ms).unwrap_or(2000),
            })
            .collect(),
    }
}
