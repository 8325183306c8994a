//! The `ispvm` binary's configuration errors: one line naming the variable, exit code 2.

use std::process::Command;

fn ispvm(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ispvm"))
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
