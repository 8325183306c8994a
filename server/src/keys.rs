//! `ispvm keys`: create a master key file, and rotate every secret of the installation to a new
//! key in one transaction. Also the checks that a key is the database's key, shared with
//! start-up (`startup::check_master_key`).
//!
//! Rotation acts on all tenants at once (the master key is the installation's), so its queries
//! are the unscoped ones of `db::credentials`. It audits one event per tenant whose secrets it
//! re-sealed.

use anyhow::{anyhow, bail, Context};
use serde_json::json;
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use app::crypto::credential::reseal;
use app::crypto::{key_check_opens, seal_key_check, MasterKey};
use app::db;
use app::db::credentials::NewSecret;
use app::db::encryption_key::KeyCheck;
use app::model::user::TenantId;

/// Writes a new random key to `out`, readable by its owner only (0600), and returns its
/// fingerprint. An existing file is never overwritten: it may be the only copy of a key.
pub fn generate(out: &Path) -> anyhow::Result<String> {
    let (key, line) = MasterKey::generate();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow!(
                    "--out: {} exists; a key file is never overwritten (secrets may be sealed with it)",
                    out.display()
                )
            } else {
                anyhow!("--out: cannot create {}: {e}", out.display())
            }
        })?;
    file.write_all(line.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("--out: cannot write {}", out.display()))?;
    Ok(key.fingerprint().to_owned())
}

/// The one-line error for a key that is not the database's.
fn wrong_key(path: &Path, key: &MasterKey, recorded: &str) -> anyhow::Error {
    anyhow!(
        "ENCRYPTION_MASTER_KEY_FILE: the key in {} (fingerprint {}) is not the key this \
         database's secrets were sealed with (fingerprint {recorded})",
        path.display(),
        key.fingerprint()
    )
}

/// Succeeds if `key` opens the database's key-check row.
pub fn verify_check(path: &Path, key: &MasterKey, check: &KeyCheck) -> anyhow::Result<()> {
    if check.key_fingerprint != key.fingerprint() {
        return Err(wrong_key(path, key, &check.key_fingerprint));
    }
    if !key_check_opens(key, &check.ciphertext) {
        bail!(
            "ENCRYPTION_MASTER_KEY_FILE: the key in {} has the fingerprint recorded in the \
             database ({}) but does not open its key check: the encryption_key_check row was \
             changed",
            path.display(),
            key.fingerprint()
        );
    }
    Ok(())
}

/// Without a key-check row: succeeds if every profile was sealed with `key` (or there are none).
pub fn verify_profiles_sealed_by(
    path: &Path,
    key: &MasterKey,
    fingerprints: &[String],
) -> anyhow::Result<()> {
    match fingerprints.iter().find(|f| *f != key.fingerprint()) {
        Some(other) => Err(wrong_key(path, key, other)),
        None => Ok(()),
    }
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub profiles: usize,
    /// Whether the agent CA's key was re-sealed too.
    pub agent_ca: bool,
    pub from: String,
    pub to: String,
}

/// Re-seals every credential profile of every tenant, the agent CA's key and the key-check row, from `current` to
/// `new`, in one transaction. Everything is opened before anything is written: a wrong current
/// key, or a secret that does not open, fails with nothing changed.
pub async fn rotate(
    pool: &PgPool,
    current_path: &Path,
    current: &MasterKey,
    new: &MasterKey,
) -> anyhow::Result<Rotation> {
    let db_err = |e: app::error::AppError| anyhow!("{e}");
    if current.fingerprint() == new.fingerprint() {
        bail!(
            "--new-key-file: that is the current key (fingerprint {}); create a new one with \
             `ispvm keys generate`",
            new.fingerprint()
        );
    }
    let mut tx = pool.begin().await.context("begin")?;
    // Locks the row every web request that seals a secret share-locks: none runs meanwhile.
    match db::encryption_key::get_for_update(&mut tx)
        .await
        .map_err(db_err)?
    {
        Some(check) => verify_check(current_path, current, &check)?,
        None => verify_profiles_sealed_by(
            current_path,
            current,
            &db::credentials::fingerprints_in_use(&mut *tx)
                .await
                .map_err(db_err)?,
        )?,
    }
    let profiles = db::credentials::all_sealed_for_update(&mut tx)
        .await
        .map_err(db_err)?;
    let mut resealed = Vec::with_capacity(profiles.len());
    let mut per_tenant: BTreeMap<i64, usize> = BTreeMap::new();
    for p in &profiles {
        let blob = reseal(
            current,
            new,
            p.tenant_id,
            p.kind,
            p.secret_uuid,
            &p.ciphertext,
        )
        .map_err(|e| {
            anyhow!(
                "credential profile {} (`{}`, tenant {}) {e}; nothing was changed",
                p.id.0,
                p.name,
                p.tenant_id.0
            )
        })?;
        resealed.push((p.id, blob));
        *per_tenant.entry(p.tenant_id.0).or_default() += 1;
    }
    for (id, blob) in &resealed {
        db::credentials::set_sealed(
            &mut *tx,
            *id,
            &NewSecret {
                ciphertext: blob,
                key_fingerprint: new.fingerprint(),
            },
        )
        .await
        .map_err(db_err)?;
    }
    // The agent CA's key (server/src/agents/ca.rs), if the agent listener ever ran.
    let agent_ca = match db::agents::ca(&mut *tx).await.map_err(db_err)? {
        Some(ca) => {
            let key = current
                .open(crate::agents::ca::CA_KEY_AAD, &ca.key_sealed)
                .map_err(|e| anyhow!("the agent CA key {e}; nothing was changed"))?;
            let blob = new
                .seal(crate::agents::ca::CA_KEY_AAD, &key)
                .context("seal the agent CA key")?;
            db::agents::reseal_ca(&mut *tx, &blob)
                .await
                .map_err(db_err)?;
            true
        }
        None => false,
    };
    let check = seal_key_check(new).context("seal the key check")?;
    db::encryption_key::set(&mut *tx, new.fingerprint(), &check)
        .await
        .map_err(db_err)?;
    for (tenant, count) in &per_tenant {
        db::audit::record(
            &mut *tx,
            &db::audit::Event {
                tenant: Some(TenantId(*tenant)),
                actor: None,
                actor_username: "cli",
                action: "encryption_key.rotated",
                target: new.fingerprint(),
                detail: json!({
                    "from": current.fingerprint(),
                    "to": new.fingerprint(),
                    "profiles": count,
                    "via": "cli",
                }),
                source_ip: None,
            },
        )
        .await
        .map_err(db_err)?;
    }
    tx.commit().await.context("commit")?;
    Ok(Rotation {
        profiles: resealed.len(),
        agent_ca,
        from: current.fingerprint().to_owned(),
        to: new.fingerprint().to_owned(),
    })
}
