//! Loads a tenant's dependency graph (devices, upstream links, redundancy groups, services) into
//! the `topology` crate's model, in four queries, and keeps each tenant's built graph in memory
//! for as long as its inventory version (migrations/20261128000001_inventory_version.sql) stands.

use sqlx::PgConnection;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use topology::{DeviceId, GraphBuilder, GroupId, LinkId, Member, Object, Rule, ServiceId};

use crate::error::AppError;
use crate::model::user::TenantId;

/// Each tenant's built graph with the inventory version it was built at, shared by every
/// request of this process. Readers that only look at the committed inventory (the device page)
/// go through [`GraphCache::get`]; checks inside a write transaction, which must see their own
/// uncommitted rows, call [`load`].
#[derive(Clone, Default)]
pub struct GraphCache(Arc<Mutex<HashMap<TenantId, Versioned>>>);

/// A built graph and the inventory version it was built at.
type Versioned = (i64, Arc<topology::Graph>);

impl std::fmt::Debug for GraphCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tenants = self.0.lock().map(|m| m.len()).unwrap_or_default();
        f.debug_struct("GraphCache")
            .field("tenants", &tenants)
            .finish()
    }
}

impl GraphCache {
    /// The tenant's graph as committed: one indexed read of the version, and the four queries of
    /// [`load`] only when the inventory changed since the graph in memory was built.
    ///
    /// The version is read before the graph is loaded, so a graph is never older than the
    /// version it is kept under: a change committed in between only makes the next call load
    /// again. Of two loads racing, the one at the higher version stays.
    pub async fn get(
        &self,
        conn: &mut PgConnection,
        tenant: TenantId,
    ) -> Result<Arc<topology::Graph>, AppError> {
        let version = sqlx::query_scalar!(
            "select version from inventory_version where tenant_id = $1",
            tenant.0
        )
        .fetch_optional(&mut *conn)
        .await?
        .unwrap_or(0);
        if let Some(graph) = self.cached(tenant, version) {
            return Ok(graph);
        }
        let start = Instant::now();
        let graph = Arc::new(load(conn, tenant).await?);
        tracing::debug!(
            tenant.id = tenant.0,
            inventory.version = version,
            duration_ms = start.elapsed().as_millis() as u64,
            "dependency graph loaded"
        );
        let mut map = self.0.lock().map_err(|_| AppError::Internal)?;
        match map.get(&tenant) {
            Some((kept, _)) if *kept > version => {}
            _ => {
                map.insert(tenant, (version, Arc::clone(&graph)));
            }
        }
        Ok(graph)
    }

    fn cached(&self, tenant: TenantId, version: i64) -> Option<Arc<topology::Graph>> {
        let map = self.0.lock().ok()?;
        map.get(&tenant)
            .filter(|(kept, _)| *kept == version)
            .map(|(_, graph)| Arc::clone(graph))
    }
}

/// The tenant's graph. A device without upstream links is a root: it is where the tenant's
/// network begins as far as the inventory knows (a core router with transit, or a device whose
/// uplinks nobody has entered yet).
pub async fn load(conn: &mut PgConnection, tenant: TenantId) -> Result<topology::Graph, AppError> {
    let mut g = GraphBuilder::new();
    let devices = sqlx::query!(
        r#"select d.id, d.name,
                  not exists(select 1 from link l where l.b_device_id = d.id and l.upstream) as "root!"
           from device d where d.tenant_id = $1"#,
        tenant.0
    )
    .fetch_all(&mut *conn)
    .await?;
    for d in devices {
        g.add_device(DeviceId(d.id), d.name, d.root);
    }
    let links = sqlx::query!(
        r#"select l.id, l.a_device_id, l.b_device_id, da.name as a_name, db.name as b_name
           from link l join device da on da.id = l.a_device_id join device db on db.id = l.b_device_id
           where l.tenant_id = $1 and l.upstream"#,
        tenant.0
    )
    .fetch_all(&mut *conn)
    .await?;
    for l in links {
        g.add_uplink(
            LinkId(l.id),
            format!("{} → {}", l.a_name, l.b_name),
            DeviceId(l.a_device_id),
            DeviceId(l.b_device_id),
        );
    }
    let groups = sqlx::query!(
        r#"select g.id, g.name, g.rule, g.k,
                  array_remove(array_agg(m.link_id order by m.id), null) as "links!",
                  array_remove(array_agg(m.device_id order by m.id), null) as "devices!"
           from redundancy_group g left join redundancy_member m on m.group_id = g.id
           where g.tenant_id = $1 group by g.id"#,
        tenant.0
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut empty_groups = Vec::new();
    for grp in groups {
        // A group without members yet (just created) is not part of the graph, and nor is a
        // service's dependency on it: it says nothing until something is in it.
        if grp.links.is_empty() && grp.devices.is_empty() {
            empty_groups.push(grp.id);
            continue;
        }
        let rule = match (grp.rule.as_str(), grp.k) {
            ("any", _) => Rule::Any,
            ("all", _) => Rule::All,
            ("k_of_n", Some(k)) => Rule::KOfN(usize::try_from(k).unwrap_or(0)),
            (rule, k) => {
                tracing::error!(
                    group.id = grp.id,
                    rule,
                    ?k,
                    "unknown redundancy rule in database"
                );
                return Err(AppError::Internal);
            }
        };
        let members = grp
            .links
            .into_iter()
            .map(|l| Member::Link(LinkId(l)))
            .chain(grp.devices.into_iter().map(|d| Member::Device(DeviceId(d))));
        g.add_group(GroupId(grp.id), grp.name, rule, members);
    }
    let services = sqlx::query!(
        r#"select s.id, s.name, s.access_device_id,
                  array_remove(array_agg(sd.device_id), null) as "devices!",
                  array_remove(array_agg(sd.link_id), null) as "links!",
                  array_remove(array_agg(sd.group_id), null) as "groups!",
                  array_remove(array_agg(sd.depends_on_service_id), null) as "services!"
           from service s left join service_dependency sd on sd.service_id = s.id
           where s.tenant_id = $1 group by s.id"#,
        tenant.0
    )
    .fetch_all(&mut *conn)
    .await?;
    for s in services {
        // A service depends on the device it is delivered on, besides what was entered.
        let deps = s
            .access_device_id
            .into_iter()
            .chain(s.devices)
            .map(|d| Object::Device(DeviceId(d)))
            .chain(s.links.into_iter().map(|l| Object::Link(LinkId(l))))
            .chain(
                s.groups
                    .into_iter()
                    .filter(|g| !empty_groups.contains(g))
                    .map(|g| Object::Group(GroupId(g))),
            )
            .chain(
                s.services
                    .into_iter()
                    .map(|x| Object::Service(ServiceId(x))),
            );
        g.add_service(ServiceId(s.id), s.name, deps);
    }
    g.build().map_err(|err| {
        // The message names the tenant's own objects; it is what the operator must fix.
        AppError::invalid("topology", err.to_string())
    })
}
