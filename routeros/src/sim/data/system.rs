//! `/system/resource`, `/system/health`, `/system/routerboard`, `/system/identity`.

use super::{unit, utilisation, yes, Ctx, Row};

/// A Cloud Hosted Router or an x86 install: no RouterBOARD.
fn virtual_or_pc(ctx: &Ctx) -> bool {
    let model = ctx.router.model.to_ascii_lowercase();
    model.starts_with("chr") || model.starts_with("x86")
}

/// Memory, CPU count and architecture by role: a believable spread, not a product catalogue.
fn hardware(ctx: &Ctx) -> (u64, u32, &'static str) {
    const MIB: u64 = 1024 * 1024;
    if virtual_or_pc(ctx) {
        return (4 * 1024 * MIB, 4, "x86_64");
    }
    match ctx.router.role.as_str() {
        "core" | "edge" => (16 * 1024 * MIB, 16, "arm64"),
        "aggregation" => (4 * 1024 * MIB, 4, "arm64"),
        "access" => (1024 * MIB, 4, "arm"),
        _ => (256 * MIB, 1, "arm"),
    }
}

/// What the board shipped with.
fn factory(ctx: &Ctx) -> &'static str {
    if ctx.router.version.is_v7() {
        "7.1"
    } else {
        "6.40.8"
    }
}

fn version_text(ctx: &Ctx) -> String {
    let channel = if ctx.router.version.is_v7() {
        "stable"
    } else {
        "long-term"
    };
    format!("{} ({channel})", ctx.router.version)
}

/// CPU load in percent: follows traffic (more PPPoE sessions, more load) plus 10 s noise.
pub fn cpu_load(ctx: &Ctx) -> u32 {
    let h = ctx.hash(&["cpu"]);
    let base = 0.08 + 0.12 * unit(h) + if ctx.router.pppoe.is_some() { 0.1 } else { 0.0 };
    let bucket = (ctx.now() / 10.0).floor() as u64;
    let noise = unit(ctx.hash(&["cpu", &bucket.to_string()])) * 6.0;
    (100.0 * utilisation(base, h, ctx.now()) + noise).clamp(0.0, 100.0) as u32
}

pub fn resource(ctx: &Ctx) -> Vec<Row> {
    let (total_memory, cpus, arch) = hardware(ctx);
    let h = ctx.hash(&["memory"]);
    let used = 0.25 + 0.2 * unit(h) + 0.05 * (ctx.now() / 3_600.0).sin().abs();
    let free_memory = (total_memory as f64 * (1.0 - used)) as u64;
    let total_hdd: u64 = if total_memory > 1 << 30 {
        128 << 20
    } else {
        16 << 20
    };
    vec![vec![
        ("uptime", ctx.uptime()),
        ("version", version_text(ctx)),
        ("build-time", "2024-10-28 10:48:31".into()),
        ("factory-software", factory(ctx).into()),
        ("free-memory", free_memory.to_string()),
        ("total-memory", total_memory.to_string()),
        ("cpu", arch.to_uppercase()),
        ("cpu-count", cpus.to_string()),
        (
            "cpu-frequency",
            if arch == "arm64" { "2000" } else { "1400" }.into(),
        ),
        ("cpu-load", cpu_load(ctx).to_string()),
        ("free-hdd-space", (total_hdd / 3).to_string()),
        ("total-hdd-space", total_hdd.to_string()),
        ("architecture-name", arch.into()),
        ("board-name", ctx.router.model.clone()),
        ("platform", "MikroTik".into()),
    ]]
}

/// Board temperature drifts with load; the PSU voltage with a slow wobble.
fn readings(ctx: &Ctx) -> (f64, f64, f64) {
    let h = ctx.hash(&["health"]);
    let temperature = 38.0 + 8.0 * unit(h) + 0.15 * f64::from(cpu_load(ctx));
    let voltage = 23.8 + 0.6 * unit(h.rotate_left(9)) + 0.1 * (ctx.now() / 900.0).sin();
    (temperature, temperature + 9.0, voltage)
}

/// v7 prints one item per sensor (`name`, `value`, `type`); v6 one item with a field each.
pub fn health(ctx: &Ctx) -> Vec<Row> {
    let (board, cpu, volts) = readings(ctx);
    if !ctx.router.version.is_v7() {
        return vec![vec![
            ("voltage", format!("{volts:.1}")),
            ("temperature", format!("{board:.0}")),
            ("cpu-temperature", format!("{cpu:.0}")),
        ]];
    }
    let mut sensors = vec![
        ("voltage", format!("{volts:.1}"), "V"),
        ("temperature", format!("{board:.0}"), "C"),
        ("cpu-temperature", format!("{cpu:.0}"), "C"),
    ];
    if matches!(ctx.router.role.as_str(), "core" | "edge") {
        let rpm = 4_800.0 + 40.0 * (cpu - 40.0);
        sensors.push(("fan1-speed", format!("{rpm:.0}"), "RPM"));
        sensors.push(("fan2-speed", format!("{:.0}", rpm + 120.0), "RPM"));
        sensors.push(("psu1-state", "ok".into(), ""));
        sensors.push(("psu2-state", "ok".into(), ""));
    }
    sensors
        .into_iter()
        .enumerate()
        .map(|(i, (name, value, kind))| {
            vec![
                (".id", format!("*{:X}", i + 1)),
                ("name", name.to_owned()),
                ("value", value),
                ("type", kind.to_owned()),
            ]
        })
        .collect()
}

/// RouterBOOT's type, by board family, as real boards print it.
fn firmware_type(model: &str) -> &'static str {
    match model {
        m if m.starts_with("CCR1") => "tilegx",
        m if m.starts_with("RB5009") => "88f7040",
        m if m.starts_with("RB4011") => "al2",
        m if m.starts_with("SXT") || m.starts_with("hAP ac") => "ipq4000L",
        _ => "al64v8",
    }
}

/// True for the routers whose RouterOS was upgraded without `/system/routerboard/upgrade`
/// (about one in three, by name, whatever the seed): their RouterBOOT is older than the one
/// their RouterOS brings.
pub fn firmware_behind(name: &str) -> bool {
    super::mix(0, &[name, "routerboot"]).is_multiple_of(3)
}

/// A RouterBOARD prints its model, serial and firmware; a CHR or x86 only `routerboard: no`.
pub fn routerboard(ctx: &Ctx) -> Vec<Row> {
    if virtual_or_pc(ctx) {
        return vec![vec![("routerboard", yes(false))]];
    }
    let serial = format!("{:012X}", ctx.hash(&["serial"]) & 0xFFFF_FFFF_FFFF);
    let upgrade = ctx.router.version.to_string();
    let current = match (
        firmware_behind(&ctx.router.name),
        ctx.router.version.is_v7(),
    ) {
        (false, _) => upgrade.clone(),
        (true, true) => "7.12.1".into(),
        (true, false) => "6.45.9".into(),
    };
    vec![vec![
        ("routerboard", yes(true)),
        ("board-name", ctx.router.model.clone()),
        ("model", ctx.router.model.clone()),
        ("serial-number", serial),
        ("firmware-type", firmware_type(&ctx.router.model).into()),
        ("factory-firmware", factory(ctx).into()),
        ("current-firmware", current),
        ("upgrade-firmware", upgrade),
    ]]
}

pub fn identity(ctx: &Ctx) -> Vec<Row> {
    vec![vec![("name", ctx.router.name.clone())]]
}
