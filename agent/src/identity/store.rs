//! The identity directory. One identity is four files of one generation `N`:
//!
//! - `ca-N.pem`, `agent-N.pem`: the CA and the agent's certificate;
//! - `agent-N.key`: the agent's private key (PKCS#8 PEM), mode 0600;
//! - `identity.json`: the id, name, server URL and validity, and `generation: N`.
//!
//! `identity.json` is the commit point. A save writes the next generation's three PEM files,
//! then `identity.json` naming it, each atomically (a hidden temporary file, `fsync`, rename,
//! `fsync` of the directory), and only then deletes the older generation. A crash at any
//! step leaves the old identity whole (a renewal repeats) or the new one whole: never a key
//! of one certificate beside another certificate. The directory is created 0700.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use anyhow::{bail, Context};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use telemetry::UnixMs;
use uuid::Uuid;

use super::Identity;

const META: &str = "identity.json";
const REDO: &str = "remove the directory and enroll again (`ispvm-agent enroll`, with a new token)";

/// `identity.json`.
#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    agent_id: Uuid,
    name: String,
    server_url: String,
    not_before: UnixMs,
    not_after: UnixMs,
    generation: u64,
}

struct Files {
    ca: String,
    cert: String,
    key: String,
}

fn files(generation: u64) -> Files {
    Files {
        ca: format!("ca-{generation}.pem"),
        cert: format!("agent-{generation}.pem"),
        key: format!("agent-{generation}.key"),
    }
}

/// The generation of one of the PEM files, by its name.
fn generation_of(name: &str) -> Option<u64> {
    let stem = name
        .strip_suffix(".pem")
        .or_else(|| name.strip_suffix(".key"))?;
    let number = stem
        .strip_prefix("ca-")
        .or_else(|| stem.strip_prefix("agent-"))?;
    number.parse().ok()
}

/// The generations that have files in `dir` (empty when there is no `dir`).
fn generations(dir: &Path) -> anyhow::Result<Vec<u64>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        if let Some(g) = entry.file_name().to_str().and_then(generation_of) {
            found.push(g);
        }
    }
    Ok(found)
}

pub(super) fn load(dir: &Path) -> anyhow::Result<Option<Identity>> {
    let meta_path = dir.join(META);
    let text = match fs::read_to_string(&meta_path) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            if generations(dir)?.is_empty() {
                return Ok(None);
            }
            bail!(
                "the identity in {} is incomplete: key or certificate files but no {META} \
                 (an enrollment interrupted while saving?); {REDO}",
                dir.display()
            );
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", meta_path.display())),
    };
    let meta: Meta = serde_json::from_str(&text)
        .with_context(|| format!("{} is corrupt; {REDO}", meta_path.display()))?;
    let names = files(meta.generation);
    let read = |name: &str| {
        fs::read_to_string(dir.join(name)).with_context(|| {
            format!(
                "the identity in {} is incomplete: {META} names {name}, which cannot be read; \
                 {REDO}",
                dir.display()
            )
        })
    };
    let corrupt = |name: &str| format!("{} is corrupt; {REDO}", dir.join(name).display());
    let ca_pem = read(&names.ca)?;
    check_certificate(&ca_pem).with_context(|| corrupt(&names.ca))?;
    let cert_pem = read(&names.cert)?;
    check_certificate(&cert_pem).with_context(|| corrupt(&names.cert))?;
    let key_pem = SecretString::from(read(&names.key)?);
    PrivateKeyDer::from_pem_slice(key_pem.expose_secret().as_bytes())
        .map_err(|e| anyhow::anyhow!("not a PEM private key: {e}"))
        .with_context(|| corrupt(&names.key))?;
    Ok(Some(Identity {
        agent_id: meta.agent_id,
        name: meta.name,
        server_url: meta.server_url,
        ca_pem,
        cert_pem,
        key_pem,
        not_before: meta.not_before,
        not_after: meta.not_after,
    }))
}

/// At least one PEM certificate, and nothing else that claims to be one.
pub(crate) fn check_certificate(pem: &str) -> anyhow::Result<()> {
    let mut count = 0;
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        cert.map_err(|e| anyhow::anyhow!("not a PEM certificate: {e}"))?;
        count += 1;
    }
    if count == 0 {
        bail!("no PEM certificate in it");
    }
    Ok(())
}

pub(super) fn save(identity: &Identity, dir: &Path) -> anyhow::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    let generation = generations(dir)?.into_iter().max().unwrap_or(0) + 1;
    let names = files(generation);
    write_atomic(dir, &names.ca, identity.ca_pem.as_bytes(), 0o644)?;
    write_atomic(dir, &names.cert, identity.cert_pem.as_bytes(), 0o644)?;
    write_atomic(
        dir,
        &names.key,
        identity.key_pem.expose_secret().as_bytes(),
        0o600,
    )?;
    sync_dir(dir)?;
    let meta = Meta {
        agent_id: identity.agent_id,
        name: identity.name.clone(),
        server_url: identity.server_url.clone(),
        not_before: identity.not_before,
        not_after: identity.not_after,
        generation,
    };
    let json = serde_json::to_vec_pretty(&meta).context("encoding identity.json")?;
    write_atomic(dir, META, &json, 0o644)?;
    sync_dir(dir)?;
    remove_others(dir, generation);
    Ok(())
}

/// Deletes older generations and temporary files left by a crash. Best effort: the new
/// identity is complete already, and a leftover is deleted at the next save.
fn remove_others(dir: &Path, keep: u64) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        // The assignment cache's temporary file may be one being written right now (another
        // task); a crash's leftover of it is replaced by its next save.
        let cache_tmp = name == format!(".{}.tmp", crate::assignment::cache::FILE);
        let stale = generation_of(name).is_some_and(|g| g != keep)
            || (name.starts_with('.') && name.ends_with(".tmp") && !cache_tmp);
        if stale {
            if let Err(e) = fs::remove_file(entry.path()) {
                tracing::warn!(file = %entry.path().display(), error = %e, "could not delete an old identity file");
            }
        }
    }
    if let Err(e) = sync_dir(dir) {
        tracing::debug!(error = %e, "syncing the identity directory after clean-up");
    }
}

/// Writes `name` in `dir` with `mode`: a hidden temporary file (created with the mode, so a
/// key is never readable by others, not even for a moment), `fsync`, rename.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("removing {}", tmp.display())),
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    let path = dir.join(name);
    fs::rename(&tmp, &path).with_context(|| format!("renaming to {}", path.display()))
}

pub(crate) fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))
}
