//! Neighbour events (`/ip/neighbor` rows) on the write path: the latest of each neighbour per
//! device and interface goes into `discovered_neighbor`, in the batch's transaction, instead
//! of `device_event`. The inventory's discovery review (`app::db::discovery`) reads the table.
//!
//! A row holds the data of its latest sighting: an older sighting (a replayed backlog) only
//! ever moves `first_seen` back. A change of the neighbour's data clears a dismissal, so the
//! review shows the neighbour again.

use std::collections::BTreeMap;

use anyhow::Context;
use sqlx::PgExecutor;
use time::OffsetDateTime;

use telemetry::{AcceptedEvent, EventDetail};

/// Rows not seen for this long are deleted when their device reports neighbours again (the
/// review hides them after 7 days already).
const FORGET_AFTER_DAYS: i32 = 30;

/// Neighbour sightings of one batch, one per neighbour (the latest), as parallel columns.
#[derive(Debug, Default)]
pub struct NeighborRows {
    pub device_ids: Vec<i64>,
    pub interfaces: Vec<String>,
    pub identities: Vec<String>,
    pub addresses: Vec<String>,
    pub macs: Vec<String>,
    pub platforms: Vec<String>,
    pub boards: Vec<String>,
    pub remote_interfaces: Vec<String>,
    /// The protocols joined by commas (an array of arrays does not `unnest` per row).
    pub protocols: Vec<String>,
    pub seen: Vec<OffsetDateTime>,
}

impl NeighborRows {
    /// The neighbour events among `events`, their devices resolved by `device_of`; of two
    /// sightings of one neighbour in the batch the later is kept (one upsert may not touch a
    /// row twice).
    pub fn collect(
        events: &[AcceptedEvent],
        device_of: impl Fn(&AcceptedEvent) -> Option<i64>,
    ) -> anyhow::Result<NeighborRows> {
        let mut latest: BTreeMap<(i64, &str, &str, &str), (OffsetDateTime, &EventDetail)> =
            BTreeMap::new();
        for a in events {
            let EventDetail::Neighbor {
                interface,
                identity,
                mac,
                ..
            } = &a.event.detail
            else {
                continue;
            };
            let device = device_of(a).context("a resolved device")?;
            let at = a.event.ts.to_datetime().context("a validated timestamp")?;
            let key = (device, interface.as_str(), mac.as_str(), identity.as_str());
            if latest.get(&key).is_none_or(|(seen, _)| *seen <= at) {
                latest.insert(key, (at, &a.event.detail));
            }
        }
        let mut rows = NeighborRows::default();
        for ((device, ..), (at, detail)) in latest {
            let EventDetail::Neighbor {
                interface,
                identity,
                address,
                mac,
                platform,
                board,
                remote_interface,
                protocols,
            } = detail
            else {
                continue;
            };
            rows.device_ids.push(device);
            rows.interfaces.push(interface.clone());
            rows.identities.push(identity.clone());
            rows.addresses.push(address.clone());
            rows.macs.push(mac.clone());
            rows.platforms.push(platform.clone());
            rows.boards.push(board.clone());
            rows.remote_interfaces.push(remote_interface.clone());
            rows.protocols.push(protocols.join(","));
            rows.seen.push(at);
        }
        Ok(rows)
    }

    pub fn is_empty(&self) -> bool {
        self.device_ids.is_empty()
    }
}

/// Inserts or refreshes each neighbour of the batch.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    tenant_id: i64,
    rows: &NeighborRows,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"insert into discovered_neighbor as n (tenant_id, device_id, interface, identity,
                  address, mac, platform, board, remote_interface, protocols, first_seen,
                  last_seen)
           select $1, k.device_id, k.interface, k.identity, k.address, k.mac, k.platform,
                  k.board, k.remote_interface, string_to_array(k.protocols, ','), k.seen, k.seen
           from unnest($2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                       $8::text[], $9::text[], $10::text[], $11::timestamptz[])
                as k(device_id, interface, identity, address, mac, platform, board,
                     remote_interface, protocols, seen)
           on conflict (tenant_id, device_id, interface, mac, identity) do update set
               address = case when excluded.last_seen >= n.last_seen
                              then excluded.address else n.address end,
               platform = case when excluded.last_seen >= n.last_seen
                               then excluded.platform else n.platform end,
               board = case when excluded.last_seen >= n.last_seen
                            then excluded.board else n.board end,
               remote_interface = case when excluded.last_seen >= n.last_seen
                                       then excluded.remote_interface
                                       else n.remote_interface end,
               protocols = case when excluded.last_seen >= n.last_seen
                                then excluded.protocols else n.protocols end,
               dismissed_at = case
                   when excluded.last_seen < n.last_seen
                        or (n.address, n.platform, n.board, n.remote_interface)
                           is not distinct from (excluded.address, excluded.platform,
                                                 excluded.board, excluded.remote_interface)
                   then n.dismissed_at end,
               first_seen = least(n.first_seen, excluded.first_seen),
               last_seen = greatest(n.last_seen, excluded.last_seen),
               updated_at = now()"#,
        tenant_id,
        &rows.device_ids,
        &rows.interfaces,
        &rows.identities,
        &rows.addresses,
        &rows.macs,
        &rows.platforms,
        &rows.boards,
        &rows.remote_interfaces,
        &rows.protocols,
        &rows.seen
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes the neighbours of these devices that were not seen for [`FORGET_AFTER_DAYS`].
pub async fn forget_old(
    db: impl PgExecutor<'_>,
    tenant_id: i64,
    device_ids: &[i64],
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "delete from discovered_neighbor
         where tenant_id = $1 and device_id = any($2)
           and last_seen < now() - make_interval(days => $3)",
        tenant_id,
        device_ids,
        FORGET_AFTER_DAYS
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
