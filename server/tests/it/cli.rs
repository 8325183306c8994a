//! The `ispvm` binary: configuration errors (one line naming the variable, exit code 2), `keys
//! generate`, and a wrong master key at start-up.

use std::process::Command;

fn ispvm(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    // coreutils' `timeout`: a command that should fail but serves instead ends (124), not hangs.
    let out = Command::new("/usr/bin/timeout")
        .arg("60")
        .arg(env!("CARGO_BIN_EXE_ispvm"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("run ispvm");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_missing_database_url_is_one_line_naming_it() {
    let (code, _, err) = ispvm(&["migrate"], &[]);
    assert_eq!(code, 1);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("DATABASE_URL: is required"), "{err}");
}

#[test]
fn an_invalid_setting_exits_2_naming_the_variable() {
    let (code, _, err) = ispvm(&["config", "check"], &[("AUTH_MODE", "ldap")]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim(),
        "ispvm: configuration error: AUTH_MODE: `ldap` is not one of local, oidc"
    );
}

#[test]
fn config_check_redacts_secrets() {
    let (code, out, _) = ispvm(
        &["config", "check"],
        &[
            ("DATABASE_URL", "postgres://ispvm:s3cret-pw@db/ispvm"),
            ("INITIAL_ADMIN_PASSWORD", "another secret value"),
        ],
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("DATABASE_URL=postgres://ispvm:***@db/ispvm"),
        "{out}"
    );
    assert!(
        !out.contains("s3cret-pw") && !out.contains("another secret value"),
        "{out}"
    );
}

#[test]
fn keys_generate_writes_an_owner_only_key_and_never_overwrites() {
    use std::os::unix::fs::PermissionsExt;
    let key = crate::KeyFile::generate();
    let out = key.path.with_file_name("new.key");
    let out_arg = out.to_str().expect("utf-8 path");
    let (code, stdout, err) = ispvm(&["keys", "generate", "--out", out_arg], &[]);
    assert_eq!(code, 0, "{err}");
    let mode = std::fs::metadata(&out)
        .expect("key file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    let written = server::config::read_master_key(&out).expect("a valid key file");
    assert!(
        stdout.contains(&format!("(fingerprint {})", written.fingerprint())),
        "{stdout}"
    );
    let contents = std::fs::read_to_string(&out).expect("read");
    assert!(
        !stdout.contains(contents.trim()),
        "the key itself was printed"
    );

    let (code, _, err) = ispvm(&["keys", "generate", "--out", out_arg], &[]);
    assert_eq!(code, 1);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("exists; a key file is never overwritten"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&out).expect("read"),
        contents,
        "overwritten"
    );
}

#[test]
fn a_bad_master_key_file_is_a_configuration_error() {
    let key = crate::KeyFile::generate();
    let bad = key.path.with_file_name("bad.key");
    std::fs::write(&bad, "not a key\n").expect("write");
    let bad = bad.to_str().expect("utf-8 path");
    let (code, _, err) = ispvm(&["config", "check"], &[("ENCRYPTION_MASTER_KEY_FILE", bad)]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim(),
        format!(
            "ispvm: configuration error: ENCRYPTION_MASTER_KEY_FILE: {bad} is not a key file: \
             expected one line of base64 (create one with `ispvm keys generate`)"
        )
    );
    let (code, _, err) = ispvm(&["keys", "rotate", "--new-key-file", key.path_str()], &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("ENCRYPTION_MASTER_KEY_FILE: is required by `keys rotate`"),
        "{err}"
    );
}

#[sqlx::test(migrator = "server::migrate::MIGRATOR")]
async fn serve_with_the_wrong_key_exits_with_one_line(pool: sqlx::PgPool) {
    let (a, b) = (crate::KeyFile::generate(), crate::KeyFile::generate());
    server::startup::check_master_key(&pool, &a.config())
        .await
        .expect("record A");
    let url = crate::database_url(&pool);
    let (code, _, err) = ispvm(
        &["serve", "--no-background"],
        &[
            ("DATABASE_URL", url.as_str()),
            ("LISTEN_ADDR", "127.0.0.1:0"),
            ("ENCRYPTION_MASTER_KEY_FILE", b.path_str()),
            ("LOG_LEVEL", "error"),
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(
        err.trim(),
        format!(
            "ispvm: ENCRYPTION_MASTER_KEY_FILE: the key in {} (fingerprint {}) is not the key \
             this database's secrets were sealed with (fingerprint {})",
            b.path.display(),
            b.key.fingerprint(),
            a.key.fingerprint()
        )
    );
}
