//! The pollers of an assignment, keyed by inventory id. [`diff`] (pure) says which devices to
//! stop and which to start; [`Pollers::apply`] does it: a removed or changed device's poller is
//! cancelled (its session closes with it), a new or changed one is started on the shared
//! sample channel and concurrency limit, and an unchanged one keeps its session and its memory
//! of vanished BGP and OSPF series.

use std::collections::BTreeMap;
use std::sync::Arc;

use routeros::session::breaker::BackoffPolicy;
use telemetry::assignment::{AssignedDevice, Assignment};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{target, Polled};
use crate::fleet::FleetOptions;
use crate::poll::{self, Poller, Reading};
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
}

#[derive(Debug)]
struct Known {
    device: AssignedDevice,
    /// `None`: skipped (it cannot be polled as described).
    running: Option<(CancellationToken, JoinHandle<()>)>,
}

/// The running pollers, and what they need to start more.
#[derive(Debug)]
pub struct Pollers {
    known: BTreeMap<i64, Known>,
    samples: mpsc::Sender<Reading>,
    limit: Arc<Semaphore>,
    policy: BackoffPolicy,
    stats: Arc<Stats>,
    cancel: CancellationToken,
}

impl Pollers {
    /// No pollers yet. They hand their samples to `samples`, poll under `limit`, and all stop
    /// at `cancel`.
    pub fn new(
        samples: mpsc::Sender<Reading>,
        limit: Arc<Semaphore>,
        policy: BackoffPolicy,
        stats: Arc<Stats>,
        cancel: CancellationToken,
    ) -> Self {
        Self {
            known: BTreeMap::new(),
            samples,
            limit,
            policy,
            stats,
            cancel,
        }
    }

    /// The ids of the devices being polled.
    pub fn running(&self) -> Vec<i64> {
        self.known
            .iter()
            .filter(|(_, k)| k.running.is_some())
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
                running: Some((cancel, task)),
                ..
            }) = self.known.remove(&id)
            {
                cancel.cancel();
                applied.stopped.push((id, task));
            }
        }
        for device in start {
            let id = device.id;
            let running = match target(&device, options) {
                Ok(polled) => {
                    applied.started.push(id);
                    Some(self.spawn(polled))
                }
                Err(reason) => {
                    applied.skipped.push((id, reason));
                    None
                }
            };
            self.known.insert(id, Known { device, running });
        }
        self.stats.targets.store(
            self.running().len() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        applied
    }

    fn spawn(&self, polled: Polled) -> (CancellationToken, JoinHandle<()>) {
        let cancel = self.cancel.child_token();
        let (limit, samples, stats) =
            (self.limit.clone(), self.samples.clone(), self.stats.clone());
        let task = match polled {
            Polled::Router(target) => tokio::spawn(poll::run_every(
                Poller::new(target, self.policy),
                limit,
                samples,
                stats,
                cancel.clone(),
            )),
            Polled::Snmp(target) => tokio::spawn(poll::run_every(
                target,
                limit,
                samples,
                stats,
                cancel.clone(),
            )),
        };
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
        let mut pollers = Pollers::new(
            tx,
            Arc::new(Semaphore::new(4)),
            BackoffPolicy::default(),
            stats.clone(),
            cancel.clone(),
        );
        // Slow polling (300 s): nothing is polled during the test, only started and stopped.
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
        assert_eq!(Stats::get(&stats.targets), 3);

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
        assert_eq!(Stats::get(&stats.targets), 3);

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
}
