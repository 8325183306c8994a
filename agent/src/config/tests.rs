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
    assert_eq!(settings.assignment_interval, Duration::from_secs(60));
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
    // Without a token the settings resolve (the agent may be enrolled); a bearer agent needs one.
    let settings = Settings::resolve(args.clone(), &env(HashMap::new())).expect("no token");
    let err = settings.bearer().expect_err("no token");
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

#[test]
fn an_enrolled_agent_needs_no_token_and_talks_https() {
    let args = Args {
        fleet: Some("f.toml".into()),
        ..Args::default()
    };
    let settings = Settings::resolve(args.clone(), &env(HashMap::new())).expect("valid");
    assert_eq!(
        settings.identity_dir,
        PathBuf::from("/var/lib/ispvm-agent/identity")
    );
    let err = settings.bearer().expect_err("no URL");
    assert!(err.to_string().contains("ISPVM_AGENT_SERVER_URL"), "{err}");
    assert_eq!(
        settings
            .enrolled_server_url("https://enrolled.example:8443/")
            .expect("the enrolled URL"),
        "https://enrolled.example:8443"
    );
    let given = Settings::resolve(
        Args {
            server_url: Some("http://plain.example".into()),
            identity_dir: Some("/etc/ispvm-agent/id".into()),
            ..args
        },
        &env(HashMap::new()),
    )
    .expect("valid");
    assert_eq!(given.identity_dir, PathBuf::from("/etc/ispvm-agent/id"));
    let err = given
        .enrolled_server_url("https://enrolled.example")
        .expect_err("the setting wins, and must be https");
    assert!(
        err.to_string().contains("must start with https://"),
        "{err}"
    );
}

const TOKEN: &str = "ispvmenroll_5ec75ec75ec75ec75ec75ec75ec75ec75ec75ec75ec75ec75ec75ec75ec75ec7_0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f";

fn enroll_args(extra: &[&str]) -> Args {
    let mut argv = vec!["ispvm-agent", "enroll"];
    argv.extend_from_slice(extra);
    Args::try_parse_from(argv).expect("parses")
}

fn enroll_settings(args: Args, vars: &[(&'static str, String)]) -> anyhow::Result<EnrollSettings> {
    match Invocation::resolve(args, &env(vars.iter().cloned().collect()))? {
        Invocation::Enroll(settings) => Ok(settings),
        Invocation::Run(_) => panic!("not the enroll command"),
    }
}

#[test]
fn the_enroll_command_takes_its_token_from_the_environment_or_a_file() {
    let args = enroll_args(&[
        "--server-url",
        "https://ispvm.example.net:8443",
        "--identity-dir",
        "/srv/identity",
    ]);
    assert!(matches!(args.command, Some(Command::Enroll)));
    let settings = enroll_settings(
        args.clone(),
        &[("ISPVM_AGENT_ENROLL_TOKEN", TOKEN.to_owned())],
    )
    .expect("valid");
    assert_eq!(settings.server_url, "https://ispvm.example.net:8443");
    assert_eq!(settings.identity_dir, PathBuf::from("/srv/identity"));
    assert_eq!(settings.token.ca_sha256, "0f".repeat(32));
    assert!(!format!("{settings:?}").contains(&settings.token.secret));

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{TOKEN}\n")).expect("write");
    let from_file = enroll_settings(
        args.clone(),
        &[("ISPVM_AGENT_ENROLL_TOKEN_FILE", file.display().to_string())],
    )
    .expect("valid");
    assert_eq!(from_file.token, settings.token);

    let both = enroll_settings(
        args.clone(),
        &[
            ("ISPVM_AGENT_ENROLL_TOKEN", TOKEN.to_owned()),
            ("ISPVM_AGENT_ENROLL_TOKEN_FILE", file.display().to_string()),
        ],
    )
    .expect_err("both");
    assert!(both.to_string().contains("not both"), "{both}");
    let none = enroll_settings(args.clone(), &[]).expect_err("no token");
    assert!(
        none.to_string()
            .contains("ISPVM_AGENT_ENROLL_TOKEN or ISPVM_AGENT_ENROLL_TOKEN_FILE"),
        "{none}"
    );
    let bad = enroll_settings(
        args,
        &[("ISPVM_AGENT_ENROLL_TOKEN", "ispvmenroll_s3cret".to_owned())],
    )
    .expect_err("not a token");
    let text = format!("{bad:#}");
    assert!(
        text.contains("not an enrollment token") && !text.contains("s3cret"),
        "{text}"
    );

    // Never on the command line.
    assert!(Args::try_parse_from(["ispvm-agent", "enroll", "--token", TOKEN]).is_err());
}

#[test]
fn the_enroll_command_needs_an_https_server_url() {
    let token = [("ISPVM_AGENT_ENROLL_TOKEN", TOKEN.to_owned())];
    let err = enroll_settings(enroll_args(&[]), &token).expect_err("no URL");
    assert!(err.to_string().contains("ISPVM_AGENT_SERVER_URL"), "{err}");
    let err = enroll_settings(enroll_args(&["--server-url", "http://x"]), &token)
        .expect_err("plain http");
    assert!(
        err.to_string().contains("must start with https://"),
        "{err}"
    );

    // The settings file's server URL and identity directory count; a fleet is not needed.
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("agent.toml");
    std::fs::write(
        &config,
        "server_url = \"https://file.example\"\nidentity_dir = \"/srv/id\"\n",
    )
    .expect("write");
    let config = config.display().to_string();
    let settings = enroll_settings(enroll_args(&["--config", &config]), &token).expect("valid");
    assert_eq!(
        (settings.server_url.as_str(), settings.identity_dir),
        ("https://file.example", PathBuf::from("/srv/id"))
    );
}

#[test]
fn no_subcommand_is_the_run_mode_and_once_still_works() {
    let args =
        Args::try_parse_from(["ispvm-agent", "--once", "--fleet", "f.toml"]).expect("parses");
    assert!(args.command.is_none());
    match Invocation::resolve(args, &env(HashMap::new())).expect("valid") {
        Invocation::Run(settings) => assert!(settings.once),
        Invocation::Enroll(_) => panic!("not enroll"),
    }
}

#[test]
fn without_a_fleet_file_the_server_assigns_the_devices() {
    let args = Args {
        assignment_interval: Some("15s".into()),
        ..Args::default()
    };
    let settings = Settings::resolve(args, &env(HashMap::new())).expect("valid");
    assert_eq!(settings.fleet, None);
    assert_eq!(settings.assignment_interval, Duration::from_secs(15));
    let cli = Args::try_parse_from(["ispvm-agent", "--assignment-interval", "2m"]).expect("parses");
    let settings = Settings::resolve(cli, &env(HashMap::new())).expect("valid");
    assert_eq!(settings.assignment_interval, Duration::from_secs(120));
    let once = Args {
        once: true,
        ..Args::default()
    };
    let err = Settings::resolve(once, &env(HashMap::new())).expect_err("no fleet");
    assert!(
        format!("{err:#}").contains("--once needs a fleet file"),
        "{err:#}"
    );
}
