//! Probes defined on a device (`device_probe`): the device page's list with each probe's last
//! result, add and remove. Tenant-scoped; the caller checks the device first.

use sqlx::{PgConnection, PgExecutor};

use crate::db::{parse_column, violated_constraint};
use crate::error::AppError;
use crate::model::device::DeviceId;
use crate::model::probe::{ProbeId, ProbeInput, ProbeResult, ProbeRow, MAX_PER_DEVICE};
use crate::model::user::{TenantId, UserId};

/// The device's probes by kind and target, each with the newest `probe_up` sample of its series
/// (instance `<kind>:<target>`) and, when that run was up, its round trip (the agent writes
/// both samples of a run together).
pub async fn list(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    device: DeviceId,
) -> Result<Vec<ProbeRow>, AppError> {
    let rows = sqlx::query!(
        r#"select p.id, p.kind, p.target, p.interval_s, p.timeout_ms,
                  l.state as "state?", l.reason as "reason?",
                  extract(epoch from now() - l.at)::int8 as "age_s?",
                  (r.value * 1000)::int8 as "rtt_us?"
           from device_probe p
           left join series s on s.device_id = p.device_id and s.metric = 'probe_up'
                             and s.instance = p.kind || ':' || p.target
           left join lateral telemetry_latest(s.id, 'infinity', false) l on s.id is not null
           left join series rs on rs.device_id = p.device_id and rs.metric = 'probe_rtt_ms'
                              and rs.instance = p.kind || ':' || p.target
           left join lateral telemetry_latest(rs.id, 'infinity', true) r
                  on rs.id is not null and l.state = 'up'
           where p.tenant_id = $1 and p.device_id = $2
           order by p.kind, p.target"#,
        tenant.0,
        device.0
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(ProbeRow {
                id: ProbeId(r.id),
                kind: parse_column("device_probe.kind", &r.kind)?,
                target: r.target,
                interval_s: r.interval_s,
                timeout_ms: r.timeout_ms,
                last: r.state.map(|state| ProbeResult {
                    state,
                    reason: r.reason,
                    rtt_us: r.rtt_us,
                    age_s: r.age_s.unwrap_or_default(),
                }),
            })
        })
        .collect()
}

/// Adds a probe to the tenant's device (whose row it locks, so the per-device limit holds
/// against concurrent adds). The same kind and target twice is a `Conflict` on `target`; more
/// than [`MAX_PER_DEVICE`] probes a `Conflict` on `kind`; a device outside the tenant
/// `NotFound`.
pub async fn insert(
    conn: &mut PgConnection,
    tenant: TenantId,
    device: DeviceId,
    probe: &ProbeInput,
    by: Option<UserId>,
) -> Result<ProbeId, AppError> {
    let count = sqlx::query_scalar!(
        r#"select (select count(*) from device_probe p
                   where p.tenant_id = d.tenant_id and p.device_id = d.id) as "count!"
           from device d where d.tenant_id = $1 and d.id = $2
           for no key update of d"#,
        tenant.0,
        device.0
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    if count >= MAX_PER_DEVICE {
        return Err(AppError::conflict(
            "kind",
            format!("a device has at most {MAX_PER_DEVICE} probes: remove one first"),
        ));
    }
    sqlx::query_scalar!(
        r#"insert into device_probe (tenant_id, device_id, kind, target, interval_s, timeout_ms,
                                     created_by)
           values ($1, $2, $3, $4, $5, $6, $7) returning id"#,
        tenant.0,
        device.0,
        probe.kind.as_str(),
        probe.target,
        probe.interval_s,
        probe.timeout_ms,
        by.map(|u| u.0)
    )
    .fetch_one(&mut *conn)
    .await
    .map(ProbeId)
    .map_err(|err| match violated_constraint(&err) {
        Some("device_probe_device_id_kind_target_key") => AppError::conflict(
            "target",
            format!(
                "the device already has the {} probe {}",
                probe.kind, probe.target
            ),
        ),
        _ => err.into(),
    })
}

/// Removes the device's probe, returning its `<kind>:<target>`; `NotFound` when the tenant's
/// device has no such probe.
pub async fn delete(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    device: DeviceId,
    id: ProbeId,
) -> Result<String, AppError> {
    let gone = sqlx::query_scalar!(
        r#"delete from device_probe where tenant_id = $1 and device_id = $2 and id = $3
           returning kind || ':' || target as "instance!""#,
        tenant.0,
        device.0,
        id.0
    )
    .fetch_optional(db)
    .await?;
    gone.ok_or(AppError::NotFound)
}
