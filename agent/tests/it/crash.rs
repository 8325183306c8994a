//! `kill -9`: the real `ispvm-agent` process is killed with SIGKILL while it writes its buffer
//! (batches are sealed every 20 ms, each written and fsynced), several times, and started
//! again on the same buffer. Every batch it acknowledged as buffered (its debug log line
//! "batch sealed", written only after the fsync and rename) must reach the server, none may be
//! set aside as corrupt, and the killed writes leave nothing behind.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use uuid::Uuid;

use super::server::{self, Ingest};
use super::*;

/// Routers of the demo fleet that speak the plain API (no certificate to pin).
fn fleet_file(fleet: &Fleet, topology: &Topology, path: &Path) -> usize {
    let credential = topology.credential.as_ref().expect("credential");
    let mut text = format!(
        "[credential]\nusername = {:?}\npassword = {:?}\n",
        credential.username, credential.password
    );
    let mut n = 0;
    for router in fleet
        .routers()
        .iter()
        .filter(|r| r.certificate.is_none())
        .take(4)
    {
        text.push_str(&format!(
            "\n[[device]]\nname = {:?}\naddress = \"{}\"\napi_port = {}\npolling = \"fast\"\n",
            router.name,
            router.address.ip(),
            router.address.port()
        ));
        n += 1;
    }
    std::fs::write(path, text).expect("write the fleet file");
    n
}

/// Starts the agent; a thread collects the ids of the batches it reports buffered, and the
/// address of its status endpoint (on a free port) into `status`.
fn start_agent(
    dir: &Path,
    server_url: &str,
    acknowledged: &Arc<Mutex<Vec<Uuid>>>,
    status: &Arc<Mutex<Option<String>>>,
) -> (Child, std::thread::JoinHandle<()>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ispvm-agent"))
        .env_clear()
        .env("ISPVM_AGENT_SERVER_URL", server_url)
        .env("ISPVM_AGENT_TOKEN", server::TOKEN)
        .env("ISPVM_AGENT_NAME", "crash-test")
        .env("ISPVM_AGENT_FLEET", dir.join("fleet.toml"))
        .env("ISPVM_AGENT_BUFFER_DIR", dir.join("buffer"))
        .env("ISPVM_AGENT_FAST_INTERVAL", "100ms")
        .env("ISPVM_AGENT_BATCH_MAX_DELAY", "20ms")
        .env("ISPVM_AGENT_STATUS_ADDR", "127.0.0.1:0")
        .env("LOG_LEVEL", "warn,agent::seal=debug,ispvm_agent=info")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ispvm-agent");
    let stderr = child.stderr.take().expect("stderr");
    let list = acknowledged.clone();
    let status = status.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if line.contains("status endpoint at GET /status") {
                let address = line
                    .split_once("address=")
                    .and_then(|(_, rest)| rest.split_whitespace().next())
                    .unwrap_or_else(|| panic!("no address in {line:?}"));
                *status.lock().expect("lock") = Some(address.to_owned());
            }
            if !line.contains("batch sealed") {
                continue;
            }
            let id = line
                .split_once("batch.id=")
                .and_then(|(_, rest)| rest.get(..36))
                .and_then(|id| Uuid::parse_str(id).ok())
                .unwrap_or_else(|| panic!("no batch id in {line:?}"));
            list.lock().expect("lock").push(id);
        }
    });
    (child, reader)
}

async fn wait_acknowledged(acknowledged: &Mutex<Vec<Uuid>>, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().expect("lock").len() < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} batches not buffered in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_killed_mid_write_loses_no_acknowledged_batch() {
    let (fleet, topology) = demo_fleet().await;
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(fleet_file(&fleet, &topology, &dir.path().join("fleet.toml")) >= 2);
    // A closed port for the killed runs, held bound for the whole test: they buffer
    // everything. (The server of the last run gets a fresh port.)
    let ingest = Ingest::new();
    let closed = server::start(ingest.clone(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .stop()
        .await;
    let url = format!("http://{}", closed.address);
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let status = Arc::new(Mutex::new(None));

    for round in 1..=4 {
        let (mut child, reader) = start_agent(dir.path(), &url, &acknowledged, &status);
        let before = acknowledged.lock().expect("lock").len();
        wait_acknowledged(&acknowledged, before + 10).await;
        // A little later than the last acknowledgement, varied per round: the kill lands
        // somewhere in the seal → write → fsync → rename cycle.
        tokio::time::sleep(Duration::from_millis(3 * round)).await;
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        reader.join().expect("reader");
    }

    // A server at last; one more run drains everything to it.
    let running = server::start(ingest.clone(), "127.0.0.1:0".parse().expect("addr")).await;
    let url = format!("http://{}", running.address);
    let (mut child, reader) = start_agent(dir.path(), &url, &acknowledged, &status);
    let killed_runs = acknowledged.lock().expect("lock").clone();
    let mut missing: Vec<Uuid> = killed_runs.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !missing.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} acknowledged batches never arrived",
            missing.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        let record = ingest.record.lock().expect("lock");
        missing.retain(|id| !record.written.contains_key(id));
    }
    // The status endpoint of the running agent tells the same story.
    let address = status
        .lock()
        .expect("lock")
        .clone()
        .expect("status endpoint logged");
    let client = reqwest::Client::new();
    let text = client
        .get(format!("http://{address}/status"))
        .send()
        .await
        .expect("GET /status")
        .text()
        .await
        .expect("body");
    let answer: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(answer["agent"], "crash-test");
    assert!(
        answer["sent_batches"].as_u64().expect("sent") >= 1,
        "{answer}"
    );
    let pushed = answer["last_push_at_ms"].as_i64().expect("a push happened");
    assert!((agent::poll::now().0 - pushed).abs() < 60_000, "{answer}");
    assert_eq!(answer["dropped_batches"], 0);
    assert!(answer["buffer"]["batches"].is_u64(), "{answer}");
    let missing_route = client
        .get(format!("http://{address}/nope"))
        .send()
        .await
        .expect("GET /nope");
    assert_eq!(missing_route.status(), 404);
    // SIGTERM would do too; the test only needs the process gone.
    child.kill().expect("stop");
    child.wait().expect("reaped");
    reader.join().expect("reader");
    running.stop().await;

    let buffer = dir.path().join("buffer");
    let corrupt = std::fs::read_dir(buffer.join("corrupt"))
        .expect("corrupt dir")
        .count();
    assert_eq!(corrupt, 0, "a killed write never leaves a corrupt batch");
    assert!(killed_runs.len() >= 40);
    fleet.shutdown().await;
}
