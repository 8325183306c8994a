//! Tests of the identity: the directory's files and the renewal threshold. Enrollment, renewal
//! and status reports run against the real server's agent listener in
//! `server/tests/it/enroll.rs` (the server crate depends on this one, not the other way).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use secrecy::ExposeSecret;

use super::*;

/// An identity with a real (self-signed) certificate and key, valid `not_before..not_after`.
fn identity(not_before: i64, not_after: i64) -> Identity {
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["agent".to_owned()])
        .expect("params")
        .self_signed(&key)
        .expect("cert");
    Identity {
        agent_id: uuid::Uuid::new_v4(),
        name: "pop-vie1".to_owned(),
        server_url: "https://ispvm.example.net:8443".to_owned(),
        ca_pem: cert.pem(),
        cert_pem: cert.pem(),
        key_pem: SecretString::from(key.serialize_pem()),
        not_before: UnixMs(not_before),
        not_after: UnixMs(not_after),
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn same(a: &Identity, b: &Identity) -> bool {
    (a.agent_id, &a.name, &a.server_url, &a.ca_pem, &a.cert_pem)
        == (b.agent_id, &b.name, &b.server_url, &b.ca_pem, &b.cert_pem)
        && a.key_pem.expose_secret() == b.key_pem.expose_secret()
        && (a.not_before, a.not_after) == (b.not_before, b.not_after)
}

#[test]
fn saved_identities_load_back_with_a_private_key_and_replace_the_old_one() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("identity");
    assert!(Identity::load(&dir).expect("no dir").is_none());

    let first = identity(1_000, 4_000);
    first.save(&dir).expect("save");
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("agent-1.key")), 0o600);
    let loaded = Identity::load(&dir).expect("load").expect("an identity");
    assert!(same(&loaded, &first));
    let debug = format!("{loaded:?}");
    assert!(!debug.contains(first.key_pem.expose_secret()) && !debug.contains("PRIVATE KEY"));

    let second = identity(3_000, 6_000);
    second.save(&dir).expect("save again");
    assert!(same(
        &Identity::load(&dir).expect("load").expect("an identity"),
        &second
    ));
    assert_eq!(
        names(&dir),
        ["agent-2.key", "agent-2.pem", "ca-2.pem", "identity.json"],
        "the old generation is deleted once the new one is saved"
    );
    assert_eq!(mode(&dir.join("agent-2.key")), 0o600);
}

#[test]
fn an_interrupted_save_leaves_the_old_identity() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path();
    let old = identity(1_000, 4_000);
    old.save(dir).expect("save");
    // A crash after the next generation's files, before identity.json named them.
    std::fs::write(dir.join("agent-2.pem"), "half").expect("write");
    std::fs::write(dir.join(".identity.json.tmp"), "{").expect("write");
    assert!(same(
        &Identity::load(dir).expect("load").expect("some"),
        &old
    ));
    let new = identity(2_000, 5_000);
    new.save(dir).expect("save");
    assert!(same(
        &Identity::load(dir).expect("load").expect("some"),
        &new
    ));
    assert_eq!(
        names(dir),
        ["agent-3.key", "agent-3.pem", "ca-3.pem", "identity.json"]
    );
}

/// Breaks a saved identity.
type Damage = dyn Fn(&Path);

#[test]
fn partial_or_corrupt_identities_are_refused_with_a_clear_error() {
    let error = |prepare: &Damage| {
        let root = tempfile::tempdir().expect("tempdir");
        identity(0, 1).save(root.path()).expect("save");
        prepare(root.path());
        format!("{:#}", Identity::load(root.path()).expect_err("refused"))
    };
    let cases: [(&Damage, &[&str]); 5] = [
        (
            &|d| std::fs::remove_file(d.join("agent-1.key")).expect("rm"),
            &["incomplete", "agent-1.key", "enroll again"],
        ),
        (
            &|d| std::fs::remove_file(d.join("identity.json")).expect("rm"),
            &["incomplete", "no identity.json"],
        ),
        (
            &|d| std::fs::write(d.join("identity.json"), "{\"agent_id\":").expect("write"),
            &["identity.json is corrupt", "enroll again"],
        ),
        (
            &|d| std::fs::write(d.join("agent-1.pem"), "not a certificate").expect("write"),
            &["agent-1.pem is corrupt", "no PEM certificate"],
        ),
        (
            &|d| {
                std::fs::write(d.join("agent-1.key"), "-----BEGIN PRIVATE KEY-----\n")
                    .expect("write")
            },
            &["agent-1.key is corrupt"],
        ),
    ];
    for (prepare, expected) in cases {
        let text = error(prepare);
        for part in expected {
            assert!(text.contains(part), "{part:?} not in {text:?}");
        }
    }
    // A directory without identity files (say, made by the installer) is no identity.
    let empty = tempfile::tempdir().expect("tempdir");
    std::fs::write(empty.path().join(".agent-1.key.tmp"), "x").expect("write");
    assert!(Identity::load(empty.path()).expect("fine").is_none());
}

#[test]
fn renewal_is_due_when_less_than_a_third_of_the_lifetime_is_left() {
    let id = identity(1_000, 4_000);
    for (now, due) in [
        (0, false),
        (1_000, false),
        (2_999, false),
        (3_000, false), // exactly a third left
        (3_001, true),
        (4_000, true),
        (9_000, true),
    ] {
        assert_eq!(id.renewal_due(UnixMs(now)), due, "at {now}");
    }
    assert!(identity(5, 5).renewal_due(UnixMs(0)), "an empty lifetime");
}
