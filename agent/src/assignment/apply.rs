//! The pollers of an assignment, keyed by inventory id. [`diff`] (pure) says which devices to
//! stop and which to start; [`Pollers::apply`] does it: a removed or changed device's poller is
//! cancelled (its session closes with it), a new or changed one is started on the shared
//! sample channel and concurrency limit, and an unchanged one keeps its session and its memory
//! of vanished BGP and OSPF series. Each device's probes (its reachability probe and those
//! defined on its page) run in its poller's task (alone for a device that cannot be polled),
//! so they start and stop with it, and a changed probe restarts its device's task.

use std::collections::BTreeMap;
use std::sync::Arc;

use routeros::session::breaker::BackoffPolicy;
use telemetry::assignment::{AssignedDevice, Assignment};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{probe as assigned_probe, reachability, target, Polled};
use crate::fleet::FleetOptions;
use crate::poll::{self, Poller, Reading};
use crate::probe::{self, Probe, Prober};
use crate::stats::Stats;

/// What changes between two assignments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    /// Devices gone or changed: their pollers stop.
    pub stop: Vec<i64>,
    /// Devices new or changed: their pollers start.
    pub start: Vec<AssignedDevice>,
}

/// Compares the devices known (polled or skipped) with a new assignment's. A device whose
/// description changed in any way (address, port, login, interval…) is stopped and started.
pub fn diff(known: &BTreeMap<i64, AssignedDevice>, new: &[AssignedDevice]) -> Diff {
    let fresh: BTreeMap<i64, &AssignedDevice> = new.iter().map(|d| (d.id, d)).collect();
    let stop = known
        .iter()
        .filter(|(id, old)| fresh.get(*id).is_none_or(|d| **d != **old))
        .map(|(id, _)| *id)
        .collect();
    let start = new
        .iter()
        .filter(|d| known.get(&d.id) != Some(d))
        .cloned()
        .collect();
    Diff { stop, start }
}

/// What [`Pollers::apply`] did.
#[derive(Debug, Default)]
pub struct Applied {
    pub started: Vec<i64>,
    /// The stopped pollers' tasks (cancelled; they end at their next await).
    pub stopped: Vec<(i64, JoinHandle<()>)>,
    /// Devices not polled, and why.
    pub skipped: Vec<(i64, String)>,
    /// Probes not run (device id, probe id), and why.
    pub skipped_probes: Vec<(i64, i64, String)>,
}

#[derive(Debug)]
struct Known {
    device: AssignedDevice,
    /// False: skipped (it cannot be polled as described).
    polled: bool,
    /// How many probes run for it.
    probes: usize,
    /// The task of its poller and probes, when any runs.
    task: Option<(CancellationToken, JoinHandle<()>)>,
}

/// The running pollers, and what they need to start more.
#[derive(Debug)]
pub struct Pollers {
    known: BTreeMap<i64, Known>,
    samples: mpsc::Sender<Reading>,
    limit: Arc<Semaphore>,
    policy: BackoffPolicy,
    prober: Arc<Prober>,
    stats: Arc<Stats>,
    cancel: CancellationToken,
}

impl Pollers {
    /// No pollers yet. They hand their samples to `samples`, poll under `limit`, probe with
    /// `prober`, and all stop at `cancel`.
    pub fn new(
        samples: mpsc::Sender<Reading>,
        limit: Arc<Semaphore>,
        policy: BackoffPolicy,
        prober: Arc<Prober>,
        stats: Arc<Stats>,
        cancel: CancellationToken,
    ) -> Self {
        Self {
            known: BTreeMap::new(),
            samples,
            limit,
            policy,
            prober,
            stats,
            cancel,
        }
    }

    /// The ids of the devices being polled.
    pub fn running(&self) -> Vec<i64> {
        self.ids(|k| k.polled)
    }

    /// The ids of the devices being probed.
    pub fn probed(&self) -> Vec<i64> {
        self.ids(|k| k.probes > 0)
    }

    fn ids(&self, which: impl Fn(&Known) -> bool) -> Vec<i64> {
        self.known
            .iter()
            .filter(|(_, k)| which(k))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Makes the pollers those of `assignment`.
    pub fn apply(&mut self, assignment: &Assignment, options: &FleetOptions) -> Applied {
        let known: BTreeMap<i64, AssignedDevice> = self
            .known
            .iter()
            .map(|(id, k)| (*id, k.device.clone()))
            .collect();
        let Diff { stop, start } = diff(&known, &assignment.devices);
        let mut applied = Applied::default();
        for id in stop {
            if let Some(Known {
                task: Some((cancel, task)),
                ..
            }) = self.known.remove(&id)
            {
                cancel.cancel();
                applied.stopped.push((id, task));
            }
        }
        let icmp = self.prober.icmp_available();
        for device in start {
            let id = device.id;
            let polled = match target(&device, options) {
                Ok(polled) => {
                    applied.started.push(id);
                    Some(polled)
                }
                Err(reason) => {
                    applied.skipped.push((id, reason));
                    None
                }
            };
            let mut probes: Vec<Probe> = reachability(&device, icmp, options).into_iter().collect();
            for p in &device.probes {
                match assigned_probe(&device, p) {
                    Ok(probe) => probes.push(probe),
                    Err(reason) => applied.skipped_probes.push((id, p.id, reason)),
                }
            }
            let known = Known {
                polled: polled.is_some(),
                probes: probes.len(),
                task: (polled.is_some() || !probes.is_empty()).then(|| self.spawn(polled, probes)),
                device,
            };
            self.known.insert(id, known);
        }
        let probes: usize = self.known.values().map(|k| k.probes).sum();
        let targets = self.running().len() + probes;
        self.stats
            .targets
            .store(targets as u64, std::sync::atomic::Ordering::Relaxed);
        applied
    }

    /// One task for a device's poller and probes (either may be absent).
    fn spawn(
        &self,
        polled: Option<Polled>,
        probes: Vec<Probe>,
    ) -> (CancellationToken, JoinHandle<()>) {
        let cancel = self.cancel.child_token();
        let (limit, samples, stats) =
            (self.limit.clone(), self.samples.clone(), self.stats.clone());
        let (prober, probe_samples, probe_cancel) =
            (self.prober.clone(), self.samples.clone(), cancel.clone());
        let policy = self.policy;
        let poll_cancel = cancel.clone();
        let task = tokio::spawn(async move {
            let poll = async move {
                match polled {
                    Some(Polled::Router(target)) => {
                        let poller = Poller::new(target, policy);
                        poll::run_every(poller, limit, samples, stats, poll_cancel).await;
                    }
                    Some(Polled::Snmp(target)) => {
                        poll::run_every(target, limit, samples, stats, poll_cancel).await;
                    }
                    None => {}
                }
            };
            let probes = futures_util::future::join_all(probes.into_iter().map(|probe| {
                probe::run_probe(
                    prober.clone(),
                    probe,
                    probe_samples.clone(),
                    probe_cancel.clone(),
                )
            }));
            tokio::join!(poll, probes);
        });
        (cancel, task)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use telemetry::assignment::{RouterOsLogin, Secret, SnmpSettings};

    use super::*;

    fn router(id: i64, address: &str) -> AssignedDevice {
        AssignedDevice {
            id,
            name: format!("r{id}"),
            site: "POP1".into(),
            vendor: "mikrotik".into(),
            address: address.into(),
            api_port: 8728,
            api_tls: false,
            rest_port: None,
            polling: "slow".into(),
            routeros: Some(RouterOsLogin {
                username: "ispvm".into(),
                password: Secret::new("pw"),
            }),
            snmp: None,
            problems: Vec::new(),
            probes: Vec::new(),
        }
    }

    fn known(devices: &[AssignedDevice]) -> BTreeMap<i64, AssignedDevice> {
        devices.iter().map(|d| (d.id, d.clone())).collect()
    }

    #[test]
    fn removed_and_changed_devices_stop_new_and_changed_ones_start() {
        let before = known(&[
            router(1, "10.0.0.1"),
            router(2, "10.0.0.2"),
            router(3, "10.0.0.3"),
        ]);
        let mut changed = router(2, "10.0.0.2");
        changed.routeros = Some(RouterOsLogin {
            username: "ispvm".into(),
            password: Secret::new("new password"),
        });
        let after = [
            router(1, "10.0.0.1"),
            changed.clone(),
            router(4, "10.0.0.4"),
        ];
        let d = diff(&before, &after);
        assert_eq!(d.stop, vec![2, 3]);
        assert_eq!(d.start, vec![changed, router(4, "10.0.0.4")]);
        let same = diff(
            &before,
            &[
                router(1, "10.0.0.1"),
                router(2, "10.0.0.2"),
                router(3, "10.0.0.3"),
            ],
        );
        assert_eq!(
            (same.stop.len(), same.start.len()),
            (0, 0),
            "unchanged: nothing restarts"
        );
        let empty = diff(&BTreeMap::new(), &[]);
        assert_eq!((empty.stop.len(), empty.start.len()), (0, 0));
        assert_eq!(diff(&before, &[]).stop, vec![1, 2, 3]);
    }

    fn assignment(revision: &str, devices: Vec<AssignedDevice>) -> Assignment {
        Assignment {
            revision: revision.into(),
            sites: vec!["POP1".into()],
            devices,
        }
    }

    #[tokio::test]
    async fn applying_stops_removed_pollers_and_keeps_unchanged_ones() {
        let (tx, mut rx) = mpsc::channel(16);
        let stats = Arc::new(Stats::default());
        let cancel = CancellationToken::new();
        let prober = Arc::new(Prober::new().expect("prober"));
        let icmp = prober.icmp_available();
        let mut pollers = Pollers::new(
            tx,
            Arc::new(Semaphore::new(4)),
            BackoffPolicy::default(),
            prober,
            stats.clone(),
            cancel.clone(),
        );
        // Slow polling (300 s), probes every 10 s: hardly anything runs during the test; the
        // pollers and probes are only started and stopped.
        let options = FleetOptions::defaults();
        let mut no_login = router(5, "10.0.0.5");
        no_login.routeros = None;
        no_login.problems = vec!["credential profile x: sealed with another master key".into()];
        let mut snmp = router(6, "10.0.0.6");
        snmp.vendor = "generic_snmp".into();
        snmp.routeros = None;
        snmp.snmp = Some(SnmpSettings::V2c {
            community: Secret::new("public"),
        });
        let first = pollers.apply(
            &assignment(
                "a",
                vec![
                    router(1, "10.0.0.1"),
                    router(2, "10.0.0.2"),
                    no_login.clone(),
                    snmp.clone(),
                ],
            ),
            &options,
        );
        assert_eq!(first.started, vec![1, 2, 6]);
        assert_eq!(
            first.skipped,
            vec![(
                5,
                "credential profile x: sealed with another master key".to_owned()
            )],
            "the server's problem is the reason"
        );
        assert_eq!(pollers.running(), vec![1, 2, 6]);
        // Without ICMP the SNMP device has no reachability probe (TCP needs a port to connect).
        let probed = if icmp {
            vec![1, 2, 5, 6]
        } else {
            vec![1, 2, 5]
        };
        assert_eq!(pollers.probed(), probed, "unpolled 5 is still probed");
        assert_eq!(Stats::get(&stats.targets), 3 + probed.len() as u64);

        let second = pollers.apply(
            &assignment(
                "b",
                vec![router(2, "10.0.0.2"), router(3, "10.0.0.3"), no_login, snmp],
            ),
            &options,
        );
        assert_eq!(
            second.started,
            vec![3],
            "2 and 6 keep running, 5 is still skipped"
        );
        assert!(
            second.skipped.is_empty(),
            "a skipped device is not retried until it changes"
        );
        let stopped: Vec<i64> = second.stopped.iter().map(|(id, _)| *id).collect();
        assert_eq!(stopped, vec![1]);
        for (_, task) in second.stopped {
            tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .expect("a removed device's poller ends")
                .expect("it ended cleanly");
        }
        assert_eq!(pollers.running(), vec![2, 3, 6]);
        let probed = if icmp {
            vec![2, 3, 5, 6]
        } else {
            vec![2, 3, 5]
        };
        assert_eq!(pollers.probed(), probed);
        assert_eq!(Stats::get(&stats.targets), 3 + probed.len() as u64);

        // Stopping the agent ends every poller; then the channel closes.
        cancel.cancel();
        drop(pollers);
        // (A poller whose random first tick came early may have handed over a poll.)
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            while rx.recv().await.is_some() {}
        })
        .await;
        assert!(closed.is_ok(), "the pollers let go of the channel");
    }

    /// A port on 127.0.0.1 that accepts connections (and closes them), and its accept task.
    async fn accepting() -> (u16, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                drop(stream);
            }
        });
        (port, accept)
    }

    #[tokio::test]
    async fn a_device_that_cannot_be_polled_is_still_probed_for_reachability() {
        // The device's API port: a listener that accepts, so the TCP probe (agents without an
        // ICMP socket) is up; with ICMP the echo goes to 127.0.0.1.
        let (port, accept) = accepting().await;
        let (tx, mut rx) = mpsc::channel(16);
        let cancel = CancellationToken::new();
        let mut pollers = Pollers::new(
            tx,
            Arc::new(Semaphore::new(4)),
            BackoffPolicy::default(),
            Arc::new(Prober::new().expect("prober")),
            Arc::new(Stats::default()),
            cancel.clone(),
        );
        let mut options = FleetOptions::defaults();
        options.intervals.fast = Duration::from_millis(200);
        let mut device = router(9, "127.0.0.1");
        device.api_port = port;
        device.routeros = None;
        let applied = pollers.apply(&assignment("a", vec![device]), &options);
        assert_eq!(applied.skipped.len(), 1, "no login: not polled");
        assert_eq!(pollers.probed(), vec![9]);

        let reading = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a probe reading within 10 s")
            .expect("the channel is open");
        let up = reading
            .samples
            .iter()
            .find(|s| s.metric == "probe_up")
            .expect("probe_up");
        assert_eq!(up.device, telemetry::DeviceRef::Id(9));
        assert_eq!(up.value, telemetry::Value::State("up".into()), "{up:?}");
        let instance = up.instance.as_deref().unwrap_or_default();
        assert!(
            instance == "icmp:127.0.0.1" || instance == format!("tcp:127.0.0.1:{port}"),
            "{instance}"
        );

        // Unassigned: the probe stops with the device.
        let gone = pollers.apply(&assignment("b", Vec::new()), &options);
        for (_, task) in gone.stopped {
            tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .expect("the probe ends")
                .expect("cleanly");
        }
        assert!(pollers.probed().is_empty());
        cancel.cancel();
        accept.abort();
    }

    /// The next reading holding `probe_up` for `instance`, within 10 s.
    async fn probe_up(rx: &mut mpsc::Receiver<Reading>, instance: &str) -> telemetry::Sample {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let reading = rx.recv().await.expect("the channel is open");
                if let Some(up) = reading
                    .samples
                    .into_iter()
                    .find(|s| s.metric == "probe_up" && s.instance.as_deref() == Some(instance))
                {
                    return up;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no probe_up of {instance} within 10 s"))
    }

    #[tokio::test]
    async fn the_probes_defined_on_a_device_run_beside_its_reachability_probe() {
        let (open, accept) = accepting().await;
        // A port nothing listens on: bound, then let go.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let (tx, mut rx) = mpsc::channel(64);
        let stats = Arc::new(Stats::default());
        let cancel = CancellationToken::new();
        let mut pollers = Pollers::new(
            tx,
            Arc::new(Semaphore::new(4)),
            BackoffPolicy::default(),
            Arc::new(Prober::new().expect("prober")),
            stats.clone(),
            cancel.clone(),
        );
        let options = FleetOptions::defaults();
        let defined = |id: i64, kind: &str, target: String| telemetry::assignment::AssignedProbe {
            id,
            kind: kind.into(),
            target,
            interval_s: 1,
            timeout_ms: 500,
        };
        let mut device = router(7, "127.0.0.1");
        device.routeros = None;
        device.probes = vec![
            defined(1, "tcp", format!("127.0.0.1:{open}")),
            defined(2, "smtp", "127.0.0.1:25".into()),
        ];
        let applied = pollers.apply(&assignment("a", vec![device.clone()]), &options);
        assert_eq!(
            applied.skipped_probes.len(),
            1,
            "{:?}",
            applied.skipped_probes
        );
        let (device_id, probe_id, reason) = &applied.skipped_probes[0];
        assert_eq!((*device_id, *probe_id), (7, 2));
        assert!(reason.contains("unknown probe kind \"smtp\""), "{reason}");
        assert_eq!(pollers.probed(), vec![7]);
        assert_eq!(
            Stats::get(&stats.targets),
            2,
            "the reachability probe and the TCP probe; no poller"
        );
        let up = probe_up(&mut rx, &format!("tcp:127.0.0.1:{open}")).await;
        assert_eq!(up.device, telemetry::DeviceRef::Id(7));
        assert_eq!(up.value, telemetry::Value::State("up".into()), "{up:?}");

        // The probe's target changes on the device page: the device's task restarts with it.
        device.probes = vec![defined(1, "tcp", format!("127.0.0.1:{closed}"))];
        let changed = pollers.apply(&assignment("b", vec![device]), &options);
        let stopped: Vec<i64> = changed.stopped.iter().map(|(id, _)| *id).collect();
        assert_eq!(stopped, vec![7]);
        assert!(changed.skipped_probes.is_empty());
        let down = probe_up(&mut rx, &format!("tcp:127.0.0.1:{closed}")).await;
        assert_eq!(down.value, telemetry::Value::State("down".into()));
        assert!(
            down.reason
                .as_deref()
                .unwrap_or_default()
                .contains("connect"),
            "{down:?}"
        );
        cancel.cancel();
        accept.abort();
    }

    #[test]
    fn a_device_with_a_rest_port_is_polled_over_rest_with_tls() {
        let options = FleetOptions::defaults();
        let mut device = router(8, "10.0.0.8");
        let Ok(Polled::Router(api)) = target(&device, &options) else {
            panic!("a router");
        };
        assert_eq!(
            (
                api.client.transport,
                api.client.port,
                api.client.tls.is_some()
            ),
            (routeros::Transport::Api, 8728, false)
        );
        device.rest_port = Some(8443);
        let Ok(Polled::Router(rest)) = target(&device, &options) else {
            panic!("a router");
        };
        assert_eq!(
            (
                rest.client.transport,
                rest.client.port,
                rest.client.tls.is_some()
            ),
            (routeros::Transport::Rest, 8443, true),
            "HTTPS on the REST port"
        );
    }

    #[test]
    fn the_reachability_probe_is_icmp_or_a_connect_to_the_api_port() {
        let options = FleetOptions::defaults();
        let r = router(3, "10.0.0.3");
        let icmp = reachability(&r, true, &options).expect("a probe");
        assert_eq!(icmp.check, crate::probe::Check::Icmp([10, 0, 0, 3].into()));
        assert_eq!(icmp.device, telemetry::DeviceRef::Id(3));
        assert_eq!(icmp.interval, Duration::from_secs(10), "the fast interval");
        let tcp = reachability(&r, false, &options).expect("a probe");
        assert_eq!(tcp.check, crate::probe::Check::Tcp("10.0.0.3:8728".into()));
        let mut snmp = router(4, "10.0.0.4");
        snmp.vendor = "generic_snmp".into();
        assert!(reachability(&snmp, true, &options).is_some());
        assert!(
            reachability(&snmp, false, &options).is_none(),
            "UDP has no connect"
        );
        let named = router(5, "core-1.pop.example");
        assert!(
            reachability(&named, true, &options).is_none(),
            "not an IP address"
        );
    }
}
