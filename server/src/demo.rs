//! `ispvm demo load`: the demo ISP of `server/demo/isp.toml` (compiled in), loaded into a
//! tenant with no inventory, in one transaction, through the same validation and `db::` calls
//! as the forms. The RouterOS simulator serves the same file, so the demo inventory and the
//! simulated fleet agree.

use std::collections::HashMap;

use anyhow::Context;
use serde::Deserialize;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use app::crypto::credential::{CredentialSecret, SecretInput};
use app::crypto::MasterKey;
use app::db;
use app::error::AppError;
use app::model::credential::CredentialKind;
use app::model::customer::CustomerForm;
use app::model::device::{DeviceForm, DeviceId, InterfaceKind, InterfaceRole};
use app::model::group::{GroupForm, Member};
use app::model::link::LinkForm;
use app::model::probe::ProbeForm;
use app::model::service::DependencyKind;
use app::model::service::ServiceForm;
use app::model::site::SiteForm;
use app::model::user::TenantId;

/// The demo ISP, as the simulator also reads it.
pub const DEMO_ISP: &str = include_str!("../demo/isp.toml");

#[derive(Deserialize)]
struct Demo {
    credential: Option<Credential>,
    site: Vec<Site>,
    device: Vec<Device>,
    link: Vec<Link>,
    #[serde(default)]
    redundancy_group: Vec<Group>,
    #[serde(default)]
    customer: Vec<Customer>,
    #[serde(default)]
    provider_service: Vec<Service>,
    /// Defined on their devices, so that the agent serving the site runs them (an agent given
    /// the file as its fleet file reads them itself, with their `interval` and `timeout`).
    #[serde(default)]
    probe: Vec<Probe>,
}

#[derive(Deserialize)]
struct Probe {
    device: String,
    kind: String,
    target: String,
}

#[derive(Deserialize)]
struct Credential {
    name: String,
    username: String,
    password: String,
}

#[derive(Deserialize)]
struct Site {
    code: String,
    name: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    address: String,
    latitude: Option<f64>,
    longitude: Option<f64>,
    timezone: String,
}

#[derive(Deserialize)]
struct Device {
    name: String,
    site: String,
    role: String,
    vendor: String,
    #[serde(default)]
    model: String,
    address: String,
    api_port: u16,
    #[serde(default)]
    api_tls: bool,
    #[serde(default)]
    polling: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    interfaces: Vec<Interface>,
}

#[derive(Deserialize)]
struct Interface {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    speed_mbps: Option<i64>,
    role: String,
}

#[derive(Deserialize)]
struct Link {
    id: String,
    a: String,
    b: String,
    kind: String,
    upstream: bool,
    capacity_mbps: Option<i64>,
}

#[derive(Deserialize)]
struct Group {
    name: String,
    rule: String,
    k: Option<i32>,
    #[serde(default)]
    description: String,
    members: Vec<String>,
}

#[derive(Deserialize)]
struct Customer {
    account_id: String,
    name: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_email: String,
    timezone: String,
    #[serde(default)]
    sla_target: String,
    #[serde(default)]
    services: Vec<Service>,
}

#[derive(Deserialize)]
struct Service {
    name: String,
    kind: String,
    #[serde(default)]
    provider: String,
    device: Option<String>,
    interface: Option<String>,
    #[serde(default)]
    pppoe_pattern: String,
    #[serde(default)]
    sla_target: String,
    #[serde(default)]
    business_hours: String,
    #[serde(default)]
    depends_on: Vec<String>,
}

/// What a load did.
#[derive(Debug, PartialEq, Eq)]
pub enum Loaded {
    /// The tenant already has sites or devices: nothing was written.
    NotEmpty,
    Done {
        sites: usize,
        devices: usize,
        links: usize,
        services: usize,
        probes: usize,
    },
}

/// Loads the demo into the tenant `slug` if it has no sites and no devices. The credential
/// profile is sealed with `key`; without a key it is left out (and said so in the log).
pub async fn load(pool: &PgPool, slug: &str, key: Option<&MasterKey>) -> anyhow::Result<Loaded> {
    let demo: Demo = toml::from_str(DEMO_ISP).context("server/demo/isp.toml")?;
    let mut tx = pool.begin().await.context("begin")?;
    let tenant = db::tenants::find_by_slug(&mut *tx, slug)
        .await
        .map_err(app_err)?
        .with_context(|| format!("--tenant: no tenant with slug `{slug}`"))?;
    db::links::lock_topology(&mut tx, tenant)
        .await
        .map_err(app_err)?;
    if db::sites::any(&mut *tx, tenant).await.map_err(app_err)? {
        return Ok(Loaded::NotEmpty);
    }
    let loaded = write(&mut tx, tenant, &demo, key).await?;
    // The whole demo must be a valid dependency graph (the same check every link gets).
    db::topology::load(&mut tx, tenant).await.map_err(app_err)?;
    db::audit::record(
        &mut *tx,
        &db::audit::Event {
            tenant: Some(tenant),
            actor: None,
            actor_username: "cli",
            action: "demo.loaded",
            target: "server/demo/isp.toml",
            detail: json!({ "devices": demo.device.len(), "links": demo.link.len() }),
            source_ip: None,
        },
    )
    .await
    .map_err(app_err)?;
    tx.commit().await.context("commit")?;
    Ok(loaded)
}

fn app_err(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// Names an object of the file in an error.
fn at<'a>(what: &'a str, name: &'a str) -> impl Fn(AppError) -> anyhow::Error + 'a {
    move |e| anyhow::anyhow!("demo {what} `{name}`: {e}")
}

async fn write(
    conn: &mut PgConnection,
    tenant: TenantId,
    demo: &Demo,
    key: Option<&MasterKey>,
) -> anyhow::Result<Loaded> {
    let profile = match (&demo.credential, key) {
        (Some(c), Some(key)) => Some(credential(conn, tenant, c, key).await?),
        (Some(c), None) => {
            tracing::warn!(
                credential = c.name,
                "no master key (ENCRYPTION_MASTER_KEY_FILE): the demo credential profile is left out"
            );
            None
        }
        (None, _) => None,
    };
    let mut sites = HashMap::new();
    for s in &demo.site {
        let input = SiteForm {
            name: s.name.clone(),
            code: s.code.clone(),
            region: s.region.clone(),
            address: s.address.clone(),
            latitude: s.latitude.map(|v| v.to_string()).unwrap_or_default(),
            longitude: s.longitude.map(|v| v.to_string()).unwrap_or_default(),
            timezone: s.timezone.clone(),
        }
        .validate()
        .map_err(at("site", &s.code))?;
        let id = db::sites::insert(&mut *conn, tenant, &input)
            .await
            .map_err(at("site", &s.code))?;
        sites.insert(s.code.clone(), id.0);
    }
    let mut devices = HashMap::new();
    for d in &demo.device {
        let site = sites
            .get(&d.site)
            .with_context(|| format!("demo device `{}`: no site `{}`", d.name, d.site))?;
        let input = DeviceForm {
            name: d.name.clone(),
            site_id: site.to_string(),
            vendor: d.vendor.clone(),
            model: d.model.clone(),
            role: d.role.clone(),
            mgmt_address: d.address.clone(),
            api_port: d.api_port.to_string(),
            api_tls: d.api_tls.then(|| "on".to_owned()),
            rest_port: String::new(),
            snmp_version: String::new(),
            credential_profile_id: profile.map(|p| p.to_string()).unwrap_or_default(),
            snmp_profile_id: String::new(),
            polling_profile: d.polling.clone(),
            tags: d.tags.join(" "),
            enabled: Some("on".to_owned()),
        }
        .validate()
        .map_err(at("device", &d.name))?;
        let id = db::devices::insert(&mut *conn, tenant, &input)
            .await
            .map_err(at("device", &d.name))?;
        for i in &d.interfaces {
            let kind: InterfaceKind = i.kind.parse().map_err(at("interface", &i.name))?;
            let role: InterfaceRole = i.role.parse().map_err(at("interface", &i.name))?;
            db::devices::add_interface(&mut *conn, tenant, id, &i.name, kind, i.speed_mbps, role)
                .await
                .map_err(at("interface", &i.name))?;
        }
        devices.insert(d.name.clone(), id);
    }
    let end = |spec: &str| -> anyhow::Result<(DeviceId, Option<String>)> {
        let (device, interface) = match spec.split_once(':') {
            Some((d, i)) => (d, Some(i.to_owned())),
            None => (spec, None),
        };
        let id = devices
            .get(device)
            .with_context(|| format!("demo link end `{spec}`: no device `{device}`"))?;
        Ok((*id, interface))
    };
    let mut links = HashMap::new();
    for l in &demo.link {
        let (a, a_if) = end(&l.a)?;
        let (b, b_if) = end(&l.b)?;
        let input = LinkForm {
            a_device_id: a.0.to_string(),
            a_interface: a_if.unwrap_or_default(),
            b_device_id: b.0.to_string(),
            b_interface: b_if.unwrap_or_default(),
            kind: l.kind.clone(),
            upstream: l.upstream.then(|| "on".to_owned()),
            capacity_mbps: l.capacity_mbps.map(|c| c.to_string()).unwrap_or_default(),
        }
        .validate()
        .map_err(at("link", &l.id))?;
        let a_id = db::devices::link_end(&mut *conn, tenant, a, input.a_interface.as_deref())
            .await
            .map_err(at("link", &l.id))?;
        let b_id = db::devices::link_end(&mut *conn, tenant, b, input.b_interface.as_deref())
            .await
            .map_err(at("link", &l.id))?;
        let id = db::links::insert(&mut *conn, tenant, &input, a_id, b_id)
            .await
            .map_err(at("link", &l.id))?;
        links.insert(l.id.clone(), id.0);
    }
    let mut groups = HashMap::new();
    for g in &demo.redundancy_group {
        let input = GroupForm {
            name: g.name.clone(),
            rule: g.rule.clone(),
            k: g.k.map(|k| k.to_string()).unwrap_or_default(),
            description: g.description.clone(),
        }
        .validate()
        .map_err(at("redundancy group", &g.name))?;
        let id = db::groups::insert(&mut *conn, tenant, &input)
            .await
            .map_err(at("redundancy group", &g.name))?;
        for m in &g.members {
            let member = match m.split_once(':') {
                Some(("link", l)) => links.get(l).map(|id| Member::Link(*id)),
                Some(("device", d)) => devices.get(d).map(|id| Member::Device(id.0)),
                _ => None,
            }
            .with_context(|| format!("demo redundancy group `{}`: no member `{m}`", g.name))?;
            db::groups::add_member(&mut *conn, tenant, id, member)
                .await
                .map_err(at("redundancy group", &g.name))?;
        }
        groups.insert(g.name.clone(), id.0);
    }
    let refs = Refs {
        devices: &devices,
        links: &links,
        groups: &groups,
    };
    let mut services = HashMap::new();
    for c in &demo.customer {
        let input = CustomerForm {
            name: &c.name,
            account_id: &c.account_id,
            contact_name: &c.contact_name,
            contact_email: &c.contact_email,
            contact_phone: "",
            timezone: &c.timezone,
            sla_target: &c.sla_target,
        }
        .validate()
        .map_err(at("customer", &c.account_id))?;
        let id = db::customers::insert(&mut *conn, tenant, &input)
            .await
            .map_err(at("customer", &c.account_id))?;
        for s in &c.services {
            service(conn, tenant, s, Some(id.0), &refs, &mut services).await?;
        }
    }
    for s in &demo.provider_service {
        service(conn, tenant, s, None, &refs, &mut services).await?;
    }
    for p in &demo.probe {
        let what = format!("{} {}", p.kind, p.target);
        let device = devices
            .get(&p.device)
            .with_context(|| format!("demo probe `{what}`: no device `{}`", p.device))?;
        let input = ProbeForm {
            kind: p.kind.clone(),
            target: p.target.clone(),
            interval_s: String::new(),
            timeout_ms: String::new(),
        }
        .validate()
        .map_err(at("probe", &what))?;
        db::probes::insert(&mut *conn, tenant, *device, &input, None)
            .await
            .map_err(at("probe", &what))?;
    }
    Ok(Loaded::Done {
        sites: sites.len(),
        devices: devices.len(),
        links: links.len(),
        services: services.len(),
        probes: demo.probe.len(),
    })
}

/// The file's names of objects already written, by kind.
struct Refs<'a> {
    devices: &'a HashMap<String, DeviceId>,
    links: &'a HashMap<String, i64>,
    groups: &'a HashMap<String, i64>,
}

async fn service(
    conn: &mut PgConnection,
    tenant: TenantId,
    s: &Service,
    customer: Option<i64>,
    refs: &Refs<'_>,
    services: &mut HashMap<String, i64>,
) -> anyhow::Result<()> {
    let device = match &s.device {
        Some(d) => refs
            .devices
            .get(d)
            .with_context(|| format!("demo service `{}`: no device `{d}`", s.name))?
            .0
            .to_string(),
        None => String::new(),
    };
    let customer = customer.map(|c| c.to_string()).unwrap_or_default();
    let input = ServiceForm {
        name: &s.name,
        kind: &s.kind,
        customer_id: &customer,
        access_device_id: &device,
        access_interface: s.interface.as_deref().unwrap_or_default(),
        pppoe_username_pattern: &s.pppoe_pattern,
        sla_target: &s.sla_target,
        business_hours: &s.business_hours,
        provider: &s.provider,
        enabled: true,
    }
    .validate()
    .map_err(at("service", &s.name))?;
    let interface = db::services::resolve_refs(&mut *conn, tenant, &input)
        .await
        .map_err(at("service", &s.name))?;
    let id = db::services::insert(&mut *conn, tenant, &input, interface)
        .await
        .map_err(at("service", &s.name))?;
    for dep in &s.depends_on {
        let target = match dep.split_once(':') {
            Some(("device", d)) => refs.devices.get(d).map(|id| (DependencyKind::Device, id.0)),
            Some(("link", l)) => refs.links.get(l).map(|id| (DependencyKind::Link, *id)),
            Some(("group", g)) => refs.groups.get(g).map(|id| (DependencyKind::Group, *id)),
            Some(("service", x)) => services.get(x).map(|id| (DependencyKind::Service, *id)),
            _ => None,
        }
        .with_context(|| format!("demo service `{}`: no dependency `{dep}`", s.name))?;
        db::services::dependencies::add(&mut *conn, tenant, id, target.0, target.1)
            .await
            .map_err(at("service", &s.name))?;
    }
    services.insert(s.name.clone(), id.0);
    Ok(())
}

async fn credential(
    conn: &mut PgConnection,
    tenant: TenantId,
    c: &Credential,
    key: &MasterKey,
) -> anyhow::Result<i64> {
    let secret = CredentialSecret::from_input(
        CredentialKind::RouterOs,
        SecretInput {
            username: Some(c.username.clone()),
            password: Some(c.password.clone().into()),
            ..SecretInput::default()
        },
    )
    .map_err(at("credential", &c.name))?;
    let secret_uuid = Uuid::new_v4();
    let ciphertext = secret
        .seal(key, tenant, secret_uuid)
        .map_err(|e| anyhow::anyhow!("seal the demo credential: {e}"))?;
    let id = db::credentials::insert(
        &mut *conn,
        tenant,
        &db::credentials::NewProfile {
            name: &c.name,
            kind: CredentialKind::RouterOs,
            description: "RouterOS API login of the demo fleet (the simulator accepts it)",
            secret_uuid,
            ciphertext: &ciphertext,
            key_fingerprint: key.fingerprint(),
        },
    )
    .await
    .map_err(at("credential", &c.name))?;
    Ok(id.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_file_reads_and_its_references_hold() {
        let demo: Demo = toml::from_str(DEMO_ISP).expect("demo parses");
        assert!(demo.site.len() >= 3 && demo.device.len() >= 10);
        let names: Vec<&str> = demo.device.iter().map(|d| d.name.as_str()).collect();
        for l in &demo.link {
            for end in [&l.a, &l.b] {
                let device = end.split(':').next().unwrap_or_default();
                assert!(names.contains(&device), "link {} names {device}", l.id);
            }
        }
        // Every simulated router listens on its own loopback address.
        let mut addresses: Vec<&str> = demo.device.iter().map(|d| d.address.as_str()).collect();
        addresses.sort_unstable();
        addresses.dedup();
        assert_eq!(addresses.len(), demo.device.len());
        assert!(addresses.iter().all(|a| a.starts_with("127.")));
        for p in &demo.probe {
            assert!(names.contains(&p.device.as_str()), "probe on {}", p.device);
        }
    }
}
