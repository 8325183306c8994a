//! `/system/routerboard`: what the device is (`device_info`, its facts as labels: model,
//! serial number, board, architecture, RouterOS version, firmware type) and whether its
//! RouterBOOT firmware waits for `/system/routerboard/upgrade` (`firmware_upgrade_pending`).
//!
//! Facts change only with an upgrade or a board swap, so `crate::poll` reads this menu on the
//! slow interval (and again after a reboot or a RouterOS version change). A CHR or an x86
//! install prints `routerboard: no` and nothing else: it is told apart by `/system/resource`'s
//! board name, and has no firmware to upgrade. Upgrading RouterOS does not upgrade RouterBOOT:
//! `upgrade-firmware` is the firmware the installed RouterOS brings, `current-firmware` the
//! one running, and they differ until an admin upgrades it and reboots
//! (<https://help.mikrotik.com/docs/spaces/ROS/pages/328155/RouterBOARD>).

use routeros::{Attributes, Request};

use super::resource::System;
use super::value::boolean;
use super::{field, labels, Out};

pub fn request() -> Request {
    Request::new("/system/routerboard/print").proplist([
        "routerboard",
        "model",
        "serial-number",
        "firmware-type",
        "factory-firmware",
        "current-firmware",
        "upgrade-firmware",
    ])
}

/// `device_info`'s state: a RouterBOARD, else what `/system/resource` calls the board.
fn platform(routerboard: bool, system: &System) -> &'static str {
    if routerboard {
        return "routerboard";
    }
    match system.board_name.as_deref().map(str::to_ascii_lowercase) {
        Some(board) if board.starts_with("chr") => "chr",
        Some(board) if board.starts_with("x86") => "x86",
        _ => "other",
    }
}

pub fn parse(rows: &[Attributes], system: &System, out: &mut Out) {
    let Some(row) = rows.first() else {
        return;
    };
    let Some(routerboard) = field(row, "routerboard").and_then(boolean) else {
        return;
    };
    let text = |name| field(row, name).map(str::trim).filter(|v| !v.is_empty());
    let info = out.state("device_info", None, platform(routerboard, system));
    labels(
        info,
        [
            ("model", text("model")),
            ("serial_number", text("serial-number")),
            ("board_name", system.board_name.as_deref()),
            ("architecture", system.architecture.as_deref()),
            ("routeros_version", system.version.as_deref()),
            ("firmware_type", text("firmware-type")),
            ("factory_firmware", text("factory-firmware")),
        ],
    );
    if !routerboard {
        return;
    }
    let (Some(current), Some(upgrade)) = (text("current-firmware"), text("upgrade-firmware"))
    else {
        return;
    };
    let pending = current != upgrade;
    let sample = out.state(
        "firmware_upgrade_pending",
        None,
        if pending { "yes" } else { "no" },
    );
    if pending {
        sample.reason = Some(format!(
            "RouterBOOT {current} is running and RouterOS brings {upgrade}: \
             run /system/routerboard/upgrade, then reboot"
        ));
    }
    labels(
        sample,
        [
            ("current_firmware", Some(current)),
            ("upgrade_firmware", Some(upgrade)),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixtures::{out, parse_rows, rows};
    use telemetry::Sample;

    fn system(version: &str, board: &str, architecture: &str) -> System {
        System {
            version: Some(version.into()),
            board_name: Some(board.into()),
            architecture: Some(architecture.into()),
            uptime: Some(60.0),
        }
    }

    fn sample<'o>(out: &'o Out, metric: &str) -> Option<&'o Sample> {
        out.samples.iter().find(|s| s.metric == metric)
    }

    fn state(sample: &Sample) -> &str {
        match &sample.value {
            telemetry::Value::State(s) => s,
            telemetry::Value::Number(_) => "a number",
        }
    }

    #[test]
    fn a_routerboard_upgraded_without_its_firmware_is_pending() {
        let mut out = out();
        let system = system("7.16.2", "CCR2004-16G-2S+", "arm64");
        parse(&rows("routerboard-edge"), &system, &mut out);
        crate::collect::assert_valid(&out.samples);
        let info = sample(&out, "device_info").expect("device_info");
        assert_eq!(state(info), "routerboard");
        let label = |name: &str| info.labels.get(name).map(String::as_str);
        assert_eq!(label("model"), Some("CCR2004-16G-2S+"));
        assert_eq!(label("serial_number"), Some("HFK09XXKW1N"));
        assert_eq!(label("routeros_version"), Some("7.16.2"));
        assert_eq!(label("architecture"), Some("arm64"));
        assert_eq!(label("firmware_type"), Some("al64v8"));
        assert_eq!(label("factory_firmware"), Some("7.1"));
        let pending = sample(&out, "firmware_upgrade_pending").expect("pending");
        assert_eq!(state(pending), "yes");
        assert_eq!(pending.labels["current_firmware"], "7.12.1");
        assert_eq!(pending.labels["upgrade_firmware"], "7.16.2");
        let reason = pending.reason.as_deref().expect("a reason");
        assert!(
            reason.contains("7.12.1") && reason.contains("/system/routerboard/upgrade"),
            "{reason}"
        );
    }

    #[test]
    fn a_v6_board_with_current_firmware_is_not_pending() {
        let mut out = out();
        let system = system("6.49.17", "hAP ac", "mipsbe");
        parse(&rows("routerboard-v6"), &system, &mut out);
        crate::collect::assert_valid(&out.samples);
        let info = sample(&out, "device_info").expect("device_info");
        assert_eq!(state(info), "routerboard");
        assert_eq!(info.labels["model"], "RouterBOARD 962UiGS-5HacT2HnT");
        assert_eq!(info.labels["board_name"], "hAP ac");
        let pending = sample(&out, "firmware_upgrade_pending").expect("pending");
        assert_eq!(state(pending), "no");
        assert_eq!(pending.reason, None);
    }

    #[test]
    fn chr_and_x86_have_facts_but_no_firmware() {
        for (board, expected) in [("CHR", "chr"), ("x86", "x86"), ("", "other")] {
            let mut out = out();
            let system = System {
                board_name: Some(board.to_owned()).filter(|b| !b.is_empty()),
                ..system("7.16.2", "", "x86_64")
            };
            parse(&rows("routerboard-chr"), &system, &mut out);
            crate::collect::assert_valid(&out.samples);
            assert_eq!(out.samples.len(), 1, "{board}: only device_info");
            let info = sample(&out, "device_info").expect("device_info");
            assert_eq!(state(info), expected);
            assert_eq!(info.labels.get("model"), None);
            assert_eq!(info.labels["routeros_version"], "7.16.2");
            assert_eq!(info.labels["architecture"], "x86_64");
        }
    }

    #[test]
    fn junk_gives_nothing_or_only_what_is_there() {
        let system = System::default();
        for junk in ["", "model=RB5009\n", "routerboard=maybe\nmodel=x\n"] {
            let mut out = out();
            parse(&parse_rows(junk), &system, &mut out);
            assert!(out.samples.is_empty(), "{junk:?}: {:?}", out.samples);
        }
        // A board without its firmware fields: the facts, no pending state.
        let mut out = out();
        parse(
            &parse_rows("routerboard=true\nmodel=RB5009UG+S+\ncurrent-firmware=7.16\n"),
            &system,
            &mut out,
        );
        crate::collect::assert_valid(&out.samples);
        assert_eq!(out.samples.len(), 1);
        assert_eq!(out.samples[0].labels["model"], "RB5009UG+S+");
    }
}
