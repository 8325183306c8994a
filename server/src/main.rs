//! `ispvm`: the server binary. One binary, several subcommands (serve, migrate, bootstrap,
//! tenant, user, keys, config check); see `ispvm --help`.

use anyhow::Context;
use clap::{Parser, Subcommand};
use secrecy::SecretString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use server::config::{self, AuthMode, Config, LogFormat};
use server::{admin, background, demo, keys, migrate, startup};

#[derive(Parser)]
#[command(
    name = "ispvm",
    version,
    about = "Network monitoring for MikroTik-first ISPs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app and run the background tasks.
    Serve {
        /// Web only, no background tasks (for extra web replicas).
        #[arg(long)]
        no_background: bool,
    },
    /// Apply pending database migrations.
    Migrate,
    /// On an empty database: create the default tenant and the first admin (`admin`).
    /// Uses INITIAL_ADMIN_PASSWORD(_FILE) or prints a generated password once.
    Bootstrap {
        /// Name of the tenant to create.
        #[arg(long, default_value = "Demo ISP")]
        tenant_name: String,
    },
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage users. Passwords come from USER_PASSWORD(_FILE), or are generated and printed.
    #[command(subcommand)]
    User(UserCommand),
    /// Inspect configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage the master key that seals credential secrets (ENCRYPTION_MASTER_KEY_FILE).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage edge agents and their ingest credentials.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// The demo ISP (the fleet `ispvm-sim` simulates).
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Benchmarks, each on a scratch database it creates on the server of DATABASE_URL and
    /// drops at the end. Build with --release; docs/benchmarks.md records the figures.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand)]
enum BenchCommand {
    /// The telemetry write path: samples/s end to end (HTTP → committed rows) against a binary
    /// COPY of the same rows, batch latency at 5,000 samples/s, bytes per sample as written and
    /// compacted. Settings: BENCH_DEVICES (2000), BENCH_ROUNDS (6), BENCH_CLIENTS (4),
    /// BENCH_PACED_SECS (20). The last line is the figures as one JSON object.
    Ingest,
}

#[derive(Subcommand)]
enum DemoCommand {
    /// Load the demo ISP into a tenant that has no inventory yet (else do nothing).
    Load {
        /// Slug of the tenant.
        #[arg(long, default_value = admin::DEFAULT_TENANT_SLUG)]
        tenant: String,
    },
}

#[derive(Subcommand)]
enum AgentCommand {
    /// Agent bearer tokens for `POST /api/ingest/v1/batches`.
    #[command(subcommand)]
    Token(AgentTokenCommand),
    /// Make a one-time enrollment token (valid 10 minutes) for the agent `--name`, as the
    /// Agents page does; prints only the token on stdout. Creates the agent CA if the agent
    /// listener never ran (needs ENCRYPTION_MASTER_KEY_FILE).
    EnrollToken {
        /// Slug of the agent's tenant.
        #[arg(long)]
        tenant: String,
        /// The agent's name; a live agent of that name gets a new token.
        #[arg(long)]
        name: String,
    },
    /// Set the sites the live agent `--agent` serves: afterwards it serves exactly the sites
    /// given (`--site`, repeated) or every site of the tenant (`--all-sites`), and polls their
    /// enabled devices. A site another agent serves is refused. Audited per change.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["sites", "all_sites"])))]
    Assign {
        /// Slug of the agent's tenant.
        #[arg(long)]
        tenant: String,
        /// The agent's name.
        #[arg(long)]
        agent: String,
        /// A site's code; repeat for several.
        #[arg(long = "site")]
        sites: Vec<String>,
        /// Every site of the tenant.
        #[arg(long)]
        all_sites: bool,
    },
}

#[derive(Subcommand)]
enum AgentTokenCommand {
    /// Create a token for an agent and print it once (only its hash is stored).
    Create {
        /// Slug of the agent's tenant.
        #[arg(long)]
        tenant: String,
        /// The agent's name (one live token per name).
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Write a new random master key to a new file (mode 0600); print its fingerprint.
    Generate {
        /// The file to create; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
    /// Re-seal every secret, in one transaction, from the current key
    /// (ENCRYPTION_MASTER_KEY_FILE) to the key in --new-key-file.
    Rotate {
        /// The new key (from `ispvm keys generate`).
        #[arg(long)]
        new_key_file: PathBuf,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        slug: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    Create {
        /// Slug of the user's tenant.
        #[arg(long, default_value = admin::DEFAULT_TENANT_SLUG)]
        tenant: String,
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "")]
        display_name: String,
        /// admin, operator, viewer or customer.
        #[arg(long, default_value = "viewer")]
        role: String,
        /// Platform super-admin (manages tenants).
        #[arg(long)]
        superadmin: bool,
    },
    ResetPassword {
        #[arg(long)]
        username: String,
    },
    Disable {
        #[arg(long)]
        username: String,
    },
    Enable {
        #[arg(long)]
        username: String,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration, secrets redacted; fail on a bad setting.
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "ispvm: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "ispvm: cannot start the async runtime: {e}"
            );
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "ispvm: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn say(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// A password for a CLI command: USER_PASSWORD(_FILE), else generated and printed once.
fn cli_password() -> anyhow::Result<(SecretString, bool)> {
    match config::secret_from_env("USER_PASSWORD", "USER_PASSWORD_FILE")? {
        Some(p) => Ok((p, false)),
        None => Ok((admin::generate_password(), true)),
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Bench(BenchCommand::Ingest) => server::bench::ingest::run_from_env().await,
        Command::Config(ConfigCommand::Check) => {
            for (k, v) in config.describe() {
                say(&format!("{k}={v}"));
            }
            Ok(())
        }
        Command::Migrate => {
            let pool = startup::connect(&config).await?;
            migrate::run(&pool).await?;
            say("migrations applied");
            Ok(())
        }
        Command::Bootstrap { tenant_name } => {
            let pool = startup::connect(&config).await?;
            ensure_migrated(&pool).await?;
            match admin::bootstrap(&pool, config.initial_admin_password.as_ref(), &tenant_name)
                .await?
            {
                None => say("users exist already; nothing to do"),
                Some((user, Some(generated))) => {
                    use secrecy::ExposeSecret;
                    say(&format!(
                        "created the first admin: username `{user}`, password `{}`",
                        generated.expose_secret()
                    ));
                    say(
                        "this password is shown only once: store it, or change it after signing in",
                    );
                }
                Some((user, None)) => say(&format!(
                    "created the first admin `{user}` with INITIAL_ADMIN_PASSWORD"
                )),
            }
            Ok(())
        }
        Command::Demo(DemoCommand::Load { tenant }) => {
            let pool = startup::connect(&config).await?;
            ensure_migrated(&pool).await?;
            // The demo credential is sealed with the key the database knows (or records it).
            startup::check_master_key(&pool, &config).await?;
            match demo::load(&pool, &tenant, config.encryption_master_key.as_deref()).await? {
                demo::Loaded::NotEmpty => say(&format!(
                    "tenant `{tenant}` has inventory already; the demo is loaded only into an empty one"
                )),
                demo::Loaded::Done {
                    sites,
                    devices,
                    links,
                    services,
                    probes,
                } => say(&format!(
                    "loaded the demo ISP into `{tenant}`: {sites} sites, {devices} devices, \
                     {links} links, {services} services, {probes} probes"
                )),
            }
            Ok(())
        }
        Command::Tenant(TenantCommand::Create { name, slug }) => {
            let pool = startup::connect(&config).await?;
            let id = admin::create_tenant(&pool, &name, &slug).await?;
            say(&format!("created tenant `{slug}` (id {})", id.0));
            Ok(())
        }
        Command::User(cmd) => {
            let pool = startup::connect(&config).await?;
            match cmd {
                UserCommand::Create {
                    tenant,
                    username,
                    display_name,
                    role,
                    superadmin,
                } => {
                    let (password, generated) = cli_password()?;
                    admin::create_user(
                        &pool,
                        &admin::NewUserArgs {
                            tenant_slug: &tenant,
                            username: &username,
                            display_name: &display_name,
                            role: &role,
                            superadmin,
                            password: &password,
                        },
                    )
                    .await?;
                    report_password(&format!("created user `{username}`"), &password, generated);
                }
                UserCommand::ResetPassword { username } => {
                    let (password, generated) = cli_password()?;
                    admin::reset_password(&pool, &username, &password).await?;
                    report_password(
                        &format!("reset the password of `{username}`; their sessions ended"),
                        &password,
                        generated,
                    );
                }
                UserCommand::Disable { username } => {
                    admin::set_disabled(&pool, &username, true).await?;
                    say(&format!("disabled `{username}`; their sessions ended"));
                }
                UserCommand::Enable { username } => {
                    admin::set_disabled(&pool, &username, false).await?;
                    say(&format!("enabled `{username}`"));
                }
            }
            Ok(())
        }
        Command::Keys(cmd) => run_keys(cmd, &config).await,
        Command::Agent(AgentCommand::Token(AgentTokenCommand::Create { tenant, name })) => {
            let pool = startup::connect(&config).await?;
            ensure_migrated(&pool).await?;
            let token = server::ingest::token::create(&pool, &tenant, &name).await?;
            say(&format!(
                "created a token for agent `{name}` of `{tenant}` (shown once): {token}"
            ));
            Ok(())
        }
        Command::Agent(AgentCommand::EnrollToken { tenant, name }) => {
            let pool = startup::connect(&config).await?;
            ensure_migrated(&pool).await?;
            startup::check_master_key(&pool, &config).await?;
            let token = admin::enrollment_token(&pool, &config, &tenant, &name).await?;
            say(&token);
            Ok(())
        }
        Command::Agent(AgentCommand::Assign {
            tenant,
            agent,
            sites,
            all_sites,
        }) => {
            let pool = startup::connect(&config).await?;
            ensure_migrated(&pool).await?;
            let codes = (!all_sites).then_some(sites.as_slice());
            let done = admin::assign_sites(&pool, &tenant, &agent, codes).await?;
            say(&done.to_string());
            Ok(())
        }
        Command::Serve { no_background } => serve(config, no_background).await,
    }
}

async fn run_keys(command: KeysCommand, config: &Config) -> anyhow::Result<()> {
    match command {
        KeysCommand::Generate { out } => {
            let fingerprint = keys::generate(&out)?;
            say(&format!(
                "wrote a new master key to {} (fingerprint {fingerprint})",
                out.display()
            ));
            say("back it up apart from the database backups: without it no credential secret can be read");
        }
        KeysCommand::Rotate { new_key_file } => {
            let (Some(current), Some(current_path)) = (
                config.encryption_master_key.as_deref(),
                config.encryption_master_key_file.as_deref(),
            ) else {
                anyhow::bail!(
                    "ENCRYPTION_MASTER_KEY_FILE: is required by `keys rotate`: it names the current key"
                );
            };
            let new = config::read_master_key(&new_key_file)
                .map_err(|reason| anyhow::anyhow!("--new-key-file: {reason}"))?;
            let pool = startup::connect(config).await?;
            ensure_migrated(&pool).await?;
            let done = keys::rotate(&pool, current_path, current, &new).await?;
            say(&format!(
                "re-sealed {} credential profiles{} and the key check: key {} replaces {}",
                done.profiles,
                if done.agent_ca {
                    ", the agent CA key"
                } else {
                    ""
                },
                done.to,
                done.from
            ));
            say(&format!(
                "now set ENCRYPTION_MASTER_KEY_FILE={} and restart every ispvm process \
                 (until then they cannot use credentials)",
                new_key_file.display()
            ));
            say("keep the old key file for as long as you keep backups taken before now: they need it");
        }
    }
    Ok(())
}

fn report_password(done: &str, password: &SecretString, generated: bool) {
    use secrecy::ExposeSecret;
    if generated {
        say(&format!(
            "{done}; generated password (shown once): {}",
            password.expose_secret()
        ));
    } else {
        say(done);
    }
}

/// Ctrl-C, or SIGTERM from systemd or docker.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = ctrl_c.await;
        }
    }
}

async fn ensure_migrated(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    let pending = migrate::pending(pool)
        .await
        .context("read the migration state")?;
    if !pending.is_empty() {
        anyhow::bail!("the database schema is behind this binary ({} migrations pending): run `ispvm migrate`", pending.len());
    }
    Ok(())
}

async fn serve(config: Config, no_background: bool) -> anyhow::Result<()> {
    if config.auth_mode == AuthMode::Oidc {
        anyhow::bail!("AUTH_MODE: oidc is not supported yet; use local");
    }
    let pool = startup::connect(&config).await?;
    ensure_migrated(&pool).await?;
    startup::check_master_key(&pool, &config).await?;
    let state = startup::state(&config, pool.clone())?;
    let storage = server::ingest::timescale::StorageMode::read(&pool).await?;
    tracing::info!(mode = ?storage, "telemetry storage");
    let ingest = server::ingest::IngestState::new(pool.clone(), &config.telemetry, storage);
    let agent_listener =
        server::agents::AgentListener::bind(&config, &pool, ingest.clone()).await?;
    let router = startup::router(&config, state, ingest);
    let listener = tokio::net::TcpListener::bind(config.listen_addr)
        .await
        .with_context(|| format!("LISTEN_ADDR: cannot listen on {}", config.listen_addr))?;
    tracing::info!(addr = %config.listen_addr, url = %config.public_base_url, "serving");
    say(&format!(
        "ISPVM is serving on http://{} (public URL {})",
        config.listen_addr, config.public_base_url
    ));

    let shutdown = CancellationToken::new();
    let mut tasks: JoinSet<(&'static str, anyhow::Result<()>)> = JoinSet::new();
    if !no_background {
        background::spawn(&mut tasks, pool.clone(), shutdown.clone());
        server::ingest::maintenance::spawn(
            &mut tasks,
            pool,
            storage,
            config.telemetry.clone(),
            shutdown.clone(),
        );
    }
    let web_stop = shutdown.clone();
    tasks.spawn(async move { ("web", startup::serve(listener, router, web_stop).await) });
    if let Some(agents) = agent_listener {
        if let Some(url) = &config.agents.public_url {
            say(&format!("Agents enroll and push at {url}"));
        }
        let agents_stop = shutdown.clone();
        tasks.spawn(async move { ("agents", agents.serve(agents_stop).await) });
    }
    let signal_stop = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutdown requested");
        signal_stop.cancel();
    });

    // The first task to end ends the process: log which one and why, stop the others.
    let mut outcome = Ok(());
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((name, Ok(()))) => tracing::info!(task = name, "task ended"),
            Ok((name, Err(e))) => {
                tracing::error!(task = name, error = %e, "task failed");
                outcome = Err(e.context(format!("task {name}")));
            }
            Err(e) => {
                tracing::error!(error = %e, "task panicked");
                outcome = Err(anyhow::anyhow!("a task panicked: {e}"));
            }
        }
        shutdown.cancel();
    }
    outcome
}
