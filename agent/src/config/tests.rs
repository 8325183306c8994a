//! Tests of the settings: precedence, secrets, durations and sizes.
use std::collections::HashMap;

use secrecy::ExposeSecret;

use super::*;

fn env(map: HashMap<&'static str, String>) -> impl Fn(&str) -> Option<String> {
    move |name| map.get(name).cloned()
}

#[test]
fn file_then_environment_then_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret\n").expect("write");
    let config = dir.path().join("agent.toml");
    std::fs::write(
        &config,
        format!(
            "server_url = \"https://file.example\"\nname = \"pop-a\"\nfleet = \"f.toml\"\nfast_interval = \"5s\"\nmax_buffer_size = \"1GiB\"\ntoken_file = {:?}\n",
            token.display().to_string()
        ),
    )
    .expect("write");
    let args = Args {
        config: Some(config),
        server_url: Some("https://cli.example/".into()),
        ..Args::default()
    };
    let settings = Settings::resolve(args, &env(HashMap::new())).expect("valid");
    assert_eq!(
        settings.ingest_url().as_deref(),
        Some("https://cli.example/api/ingest/v1/batches")
    );
    assert_eq!(settings.name, "pop-a");
    assert_eq!(settings.intervals.fast, Duration::from_secs(5));
    assert_eq!(settings.intervals.medium, Duration::from_secs(60));
    assert_eq!(settings.max_buffer_bytes, 1 << 30);
    assert_eq!(
        settings.max_buffer_age,
        Duration::from_secs(72 * 3_600),
        "the default"
    );
    assert_eq!(
        settings
            .token
            .as_ref()
            .map(|t| t.expose_secret().to_owned())
            .as_deref(),
        Some("s3cret")
    );
    // Secrets never show in Debug output (and so never in logs).
    assert!(!format!("{settings:?}").contains("s3cret"));
}

#[test]
fn secrets_from_the_environment_or_a_file_and_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pw");
    std::fs::write(&file, "router-pw").expect("write");
    let args = Args {
        server_url: Some("https://x".into()),
        fleet: Some("f.toml".into()),
        ..Args::default()
    };
    let vars = HashMap::from([
        ("ISPVM_AGENT_TOKEN", "tok".to_owned()),
        (
            "ISPVM_AGENT_ROUTER_PASSWORD_FILE",
            file.display().to_string(),
        ),
    ]);
    let settings = Settings::resolve(args.clone(), &env(vars)).expect("valid");
    assert_eq!(
        settings
            .router_password
            .map(|p| p.expose_secret().to_owned())
            .as_deref(),
        Some("router-pw")
    );
    let both = HashMap::from([
        ("ISPVM_AGENT_TOKEN", "tok".to_owned()),
        ("ISPVM_AGENT_TOKEN_FILE", file.display().to_string()),
    ]);
    let err = Settings::resolve(args.clone(), &env(both)).expect_err("both");
    assert!(err.to_string().contains("not both"), "{err}");
    let err = Settings::resolve(args.clone(), &env(HashMap::new())).expect_err("no token");
    assert!(err.to_string().contains("ISPVM_AGENT_TOKEN"), "{err}");
    let once = Args {
        once: true,
        server_url: None,
        ..args
    };
    assert!(Settings::resolve(once, &env(HashMap::new())).is_ok());
}

#[test]
fn durations_and_sizes() {
    assert_eq!(
        parse_duration("500ms").expect("ok"),
        Duration::from_millis(500)
    );
    assert_eq!(parse_duration("5m").expect("ok"), Duration::from_secs(300));
    assert_eq!(parse_duration("10").expect("ok"), Duration::from_secs(10));
    assert_eq!(
        parse_duration("3d").expect("ok"),
        Duration::from_secs(72 * 3_600)
    );
    assert!(parse_duration("0s").is_err() && parse_duration("1w").is_err());
    assert_eq!(parse_size("2GiB").expect("ok"), 2 << 30);
    assert_eq!(parse_size("500MB").expect("ok"), 500_000_000);
    assert!(parse_size("1TB").is_err());
}

#[test]
fn the_status_address_defaults_to_localhost_and_can_be_turned_off() {
    let args = Args {
        once: true,
        fleet: Some("f.toml".into()),
        ..Args::default()
    };
    let default = Settings::resolve(args.clone(), &env(HashMap::new())).expect("valid");
    assert_eq!(
        default.status_addr,
        Some("127.0.0.1:9108".parse().expect("addr"))
    );
    let off = Args {
        status_addr: Some("off".into()),
        ..args.clone()
    };
    assert_eq!(
        Settings::resolve(off, &env(HashMap::new()))
            .expect("valid")
            .status_addr,
        None
    );
    let bad = Args {
        status_addr: Some("localhost".into()),
        ..args
    };
    let err = Settings::resolve(bad, &env(HashMap::new())).expect_err("no port");
    assert!(
        format!("{err:#}").contains("status address \"localhost\""),
        "{err:#}"
    );
}
