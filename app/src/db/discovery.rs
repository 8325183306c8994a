//! Link discovery: the neighbour rows the review shows (the ingest writes them, see
//! `server/src/ingest/neighbor.rs`), the devices and links they are matched with, dismissals.

use sqlx::PgExecutor;

use crate::db::{parse_column, rfc3339};
use crate::error::AppError;
use crate::model::device::DeviceId;
use crate::model::discovery::{KnownDevice, KnownLink, Neighbor};
use crate::model::link::LinkId;
use crate::model::user::TenantId;

/// Neighbours not seen for this many days are hidden from the review (and deleted by the
/// ingest after 30).
pub const HIDE_AFTER_DAYS: i32 = 7;

/// The tenant's neighbour rows seen within [`HIDE_AFTER_DAYS`].
pub async fn neighbors(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<Neighbor>, AppError> {
    let rows = sqlx::query!(
        r#"select id, device_id, interface, identity, address, mac, platform, board,
                  remote_interface, last_seen, dismissed_at is not null as "dismissed!"
           from discovered_neighbor
           where tenant_id = $1 and last_seen > now() - make_interval(days => $2)
           order by id
           limit 20000"#,
        tenant.0,
        HIDE_AFTER_DAYS
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Neighbor {
            id: r.id,
            device: DeviceId(r.device_id),
            interface: r.interface,
            identity: r.identity,
            address: r.address,
            mac: r.mac,
            platform: r.platform,
            board: r.board,
            remote_interface: r.remote_interface,
            last_seen: rfc3339(r.last_seen),
            dismissed: r.dismissed,
        })
        .collect())
}

/// Every device of the tenant, as the matching needs it.
pub async fn devices(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
) -> Result<Vec<KnownDevice>, AppError> {
    let rows = sqlx::query!(
        r#"select id, name, role, host(mgmt_address) as "address!" from device
           where tenant_id = $1 order by id"#,
        tenant.0
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(KnownDevice {
                id: DeviceId(r.id),
                name: r.name,
                role: parse_column("device.role", &r.role)?,
                mgmt_address: r.address,
            })
        })
        .collect()
}

/// Every link of the tenant by its ends.
pub async fn links(db: impl PgExecutor<'_>, tenant: TenantId) -> Result<Vec<KnownLink>, AppError> {
    let rows = sqlx::query!(
        r#"select l.id, l.a_device_id, ia.name as "a_iface?", l.b_device_id,
                  ib.name as "b_iface?", da.name as a_name, db.name as b_name, l.kind
           from link l
           join device da on da.id = l.a_device_id
           join device db on db.id = l.b_device_id
           left join interface ia on ia.id = l.a_interface_id
           left join interface ib on ib.id = l.b_interface_id
           where l.tenant_id = $1 order by l.id"#,
        tenant.0
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let end = |name: &str, iface: &Option<String>| match iface {
                Some(i) => format!("{name} {i}"),
                None => name.to_owned(),
            };
            KnownLink {
                id: LinkId(r.id),
                label: format!(
                    "{} – {} ({})",
                    end(&r.a_name, &r.a_iface),
                    end(&r.b_name, &r.b_iface),
                    r.kind
                ),
                a_device: DeviceId(r.a_device_id),
                a_interface: r.a_iface,
                b_device: DeviceId(r.b_device_id),
                b_interface: r.b_iface,
            }
        })
        .collect())
}

/// Marks the rows dismissed; the ingest clears the mark when a row's data changes.
pub async fn dismiss(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    ids: &[i64],
) -> Result<(), AppError> {
    sqlx::query!(
        "update discovered_neighbor set dismissed_at = now(), updated_at = now()
         where tenant_id = $1 and id = any($2)",
        tenant.0,
        ids
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Marks a link as found by discovery (accepted from, or confirmed by, a neighbour table).
pub async fn mark_link_discovered(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    link: LinkId,
) -> Result<(), AppError> {
    sqlx::query!(
        "update link set discovered = true, updated_at = now() where tenant_id = $1 and id = $2",
        tenant.0,
        link.0
    )
    .execute(db)
    .await?;
    Ok(())
}
