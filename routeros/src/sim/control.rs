//! Fault control: inject, list and clear faults, in process (`FaultControl`) or over a small
//! line-based TCP port (`serve`), e.g. `echo 'link-down vie-grz-fibre-a 5m' | nc 127.0.0.1 9728`.
//!
//! Each line is a fault in the syntax of `fault` (times relative to now), `list` or `clear`
//! (end every fault now);
//! each answer is one line starting with `ok` or `error:` (`list` sends one line per fault
//! first).

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_util::codec::{Framed, LinesCodec};
use tokio_util::sync::CancellationToken;

use super::fault::{Fault, FaultKind};
use super::model::Router;
use super::topology::Topology;
use super::SimError;

/// A handle on the fleet's faults; clones share them.
#[derive(Debug, Clone)]
pub struct FaultControl {
    faults: Arc<RwLock<Vec<Fault>>>,
    /// What faults may name: link ids, and routers with their BGP peers and PPPoE.
    catalog: Arc<(Vec<String>, Vec<Router>)>,
}

impl FaultControl {
    pub(super) fn new(
        faults: Arc<RwLock<Vec<Fault>>>,
        routers: Vec<Router>,
        topology: &Topology,
    ) -> Self {
        let links = topology.links.iter().map(|l| l.id.clone()).collect();
        Self {
            faults,
            catalog: Arc::new((links, routers)),
        }
    }

    /// Adds a fault after checking that what it names exists.
    pub fn inject(&self, fault: Fault) -> Result<(), SimError> {
        let (links, routers) = &*self.catalog;
        let bad = |reason: String| SimError::BadFault {
            fault: fault.to_string(),
            reason,
        };
        let router = |name: &str| {
            routers
                .iter()
                .find(|r| r.name == name)
                .ok_or_else(|| bad(format!("no simulated router named {name:?}")))
        };
        match &fault.kind {
            FaultKind::RouterDown { router: name } => drop(router(name)?),
            FaultKind::LinkDown { link }
            | FaultKind::Congestion { link }
            | FaultKind::PacketLoss { link, .. } => {
                if !links.contains(link) {
                    return Err(bad(format!("no link with id {link:?}")));
                }
            }
            FaultKind::BgpFlap { router: name, peer } => {
                if !router(name)?.bgp.iter().any(|b| b.name == *peer) {
                    return Err(bad(format!("{name} has no BGP peer named {peer:?}")));
                }
            }
            FaultKind::PppoeDisconnect { router: name } => {
                if router(name)?.pppoe.is_none() {
                    return Err(bad(format!("{name} serves no PPPoE")));
                }
            }
        }
        tracing::info!(%fault, "fault injected");
        self.write().push(fault);
        Ok(())
    }

    /// Ends the faults in force now and drops those not yet begun. Past ones stay: forgetting
    /// them would rewrite history (counters frozen by an outage would jump). Routers that were
    /// down come back, rebooted.
    pub fn clear(&self, now_ms: u64) {
        let mut faults = self.write();
        faults.retain(|f| f.from_ms < now_ms);
        for fault in faults.iter_mut() {
            fault.until_ms = fault.until_ms.min(now_ms);
        }
    }

    pub fn list(&self) -> Vec<Fault> {
        self.faults
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Fault>> {
        // Writers push or clear in one step; a poisoned lock still holds a consistent list.
        self.faults.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one control line at `now_ms`; the answer lines.
    pub fn apply(&self, line: &str, now_ms: u64) -> Vec<String> {
        match line.trim() {
            "list" => {
                let mut lines: Vec<String> = self.list().iter().map(Fault::to_string).collect();
                lines.push(format!("ok {} fault(s)", lines.len()));
                lines
            }
            "clear" => {
                self.clear(now_ms);
                vec!["ok cleared".into()]
            }
            command => match Fault::parse(command, now_ms) {
                Err(e) => vec![format!("error: {e}")],
                Ok(fault) => {
                    let shown = fault.to_string();
                    match self.inject(fault) {
                        Ok(()) => vec![format!("ok {shown}")],
                        Err(e) => vec![format!("error: {e}")],
                    }
                }
            },
        }
    }

    /// Applies a scenario: one fault per line (`#` comments), times relative to `now_ms`.
    pub fn apply_scenario(&self, text: &str, now_ms: u64) -> Result<usize, String> {
        let mut count = 0;
        for (number, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let fault =
                Fault::parse(line, now_ms).map_err(|e| format!("line {}: {e}", number + 1))?;
            self.inject(fault)
                .map_err(|e| format!("line {}: {e}", number + 1))?;
            count += 1;
        }
        Ok(count)
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

/// Serves the control port until `shutdown`.
pub async fn serve(listener: TcpListener, control: FaultControl, shutdown: CancellationToken) {
    let mut sessions = tokio::task::JoinSet::new();
    loop {
        let stream = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "control port: accept failed");
                    continue;
                }
            },
        };
        let control = control.clone();
        let shutdown = shutdown.clone();
        sessions.spawn(async move {
            // Lines are short; a 4 KiB cap keeps a stray client from buffering without end.
            let mut lines = Framed::new(stream, LinesCodec::new_with_max_length(4096));
            loop {
                let line = tokio::select! {
                    () = shutdown.cancelled() => break,
                    line = lines.next() => line,
                };
                let Some(Ok(line)) = line else { break };
                for answer in control.apply(&line, now_ms()) {
                    if lines.send(answer).await.is_err() {
                        return;
                    }
                }
            }
        });
        while sessions.try_join_next().is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control() -> FaultControl {
        let topology = Topology::parse(include_str!("../../tests/fixtures/fleet.toml"), "t")
            .expect("fixture parses");
        let routers = Router::build_all(&topology);
        FaultControl::new(Arc::default(), routers, &topology)
    }

    #[test]
    fn scenarios_load_every_line_or_name_the_bad_one() {
        let faults = control();
        let scenario = "# warm-up first\n+5m link-down core-bng 10m\n\n+1h pppoe-disconnect tst-bng-1 5m # evening\n";
        assert_eq!(faults.apply_scenario(scenario, 0), Ok(2));
        assert_eq!(faults.list()[0].from_ms, 300_000);
        let err = faults
            .apply_scenario("router-down tst-core-1 1m\ncongestion no-such-link 5m\n", 0)
            .expect_err("bad link");
        assert!(
            err.starts_with("line 2: ") && err.contains("no link with id"),
            "{err}"
        );
        let err = faults
            .apply_scenario("pppoe-disconnect tst-core-1 5m", 0)
            .expect_err("no PPPoE there");
        assert!(err.contains("serves no PPPoE"), "{err}");
    }

    #[test]
    fn clear_ends_current_faults_and_drops_future_ones() {
        let faults = control();
        faults
            .apply_scenario("link-down core-bng 10m\n+1h link-down core-ring 5m\n", 0)
            .expect("valid");
        faults.clear(60_000);
        let left = faults.list();
        assert_eq!(left.len(), 1);
        assert_eq!((left[0].from_ms, left[0].until_ms), (0, 60_000));
    }
}
