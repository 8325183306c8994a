//! The last assignment on disk: `assignment.json` in the identity directory. It holds the
//! routers' passwords and SNMP secrets in plaintext, so it gets the protection of the agent's
//! private key beside it: mode 0600 in a 0700 directory, written atomically (a temporary file
//! created 0600, `fsync`, rename, `fsync` of the directory), so a crash leaves the old
//! assignment or the new one, never half of one.

use std::path::Path;

use anyhow::Context;
use telemetry::assignment::Assignment;

use crate::identity::store::{sync_dir, write_atomic};

pub const FILE: &str = "assignment.json";

/// The cached assignment; `Ok(None)` when there is none.
pub fn load(dir: &Path) -> anyhow::Result<Option<Assignment>> {
    let path = dir.join(FILE);
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    serde_json::from_slice(&text)
        .map(Some)
        .with_context(|| format!("parsing {}", path.display()))
}

/// Replaces the cached assignment.
pub fn save(dir: &Path, assignment: &Assignment) -> anyhow::Result<()> {
    let json = zeroizing_json(assignment)?;
    write_atomic(dir, FILE, &json, 0o600)?;
    sync_dir(dir)
}

/// The JSON holds secrets: the buffer is wiped when dropped.
fn zeroizing_json(assignment: &Assignment) -> anyhow::Result<secrecy::zeroize::Zeroizing<Vec<u8>>> {
    Ok(secrecy::zeroize::Zeroizing::new(
        serde_json::to_vec(assignment).context("encoding the assignment")?,
    ))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use telemetry::assignment::{AssignedDevice, RouterOsLogin, Secret};

    use super::*;

    fn assignment(revision: &str) -> Assignment {
        Assignment {
            revision: revision.into(),
            sites: vec!["VIE1".into()],
            devices: vec![AssignedDevice {
                id: 3,
                name: "vie1-edge-1".into(),
                site: "VIE1".into(),
                vendor: "mikrotik".into(),
                address: "10.0.0.1".into(),
                api_port: 8728,
                api_tls: false,
                rest_port: None,
                polling: "fast".into(),
                routeros: Some(RouterOsLogin {
                    username: "ispvm".into(),
                    password: Secret::new("s3cret"),
                }),
                snmp: None,
                problems: Vec::new(),
                probes: Vec::new(),
            }],
        }
    }

    #[test]
    fn the_cache_is_private_atomic_and_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(load(dir.path()).expect("no cache").is_none());
        save(dir.path(), &assignment("r1")).expect("save");
        save(dir.path(), &assignment("r2")).expect("save again");
        let path = dir.path().join(FILE);
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        assert_eq!(
            load(dir.path()).expect("load"),
            Some(assignment("r2")),
            "the newest save wins"
        );
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![FILE.to_owned()], "no temporary file is left");
    }

    #[test]
    fn a_damaged_cache_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(FILE), b"{\"revision\": ").expect("write");
        let err = load(dir.path()).expect_err("damaged");
        assert!(format!("{err:#}").contains(FILE), "{err:#}");
    }
}
