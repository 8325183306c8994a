//! CSV import and export of the inventory (server only).
//!
//! One file holds one kind of object ([`ImportKind`]): sites, devices, interfaces, links,
//! redundancy groups, customers or services, imported in that order since each refers to the
//! ones before by name (a device's `site` is a site code; an interface's and a link's devices
//! are device names; a group's members and a service's dependencies are lists of references,
//! [`refs`]; a service's customer is an account id). The formats are [`format`]; an export is
//! a valid import of the same kind.
//!
//! A file is read whole ([`decode`], [`read`]): it must be UTF-8 (a BOM is fine), have a header
//! naming known columns, and at most [`MAX_ROWS`] rows. Then [`run`] applies every row inside
//! the caller's transaction, each row in its own savepoint, so that one bad row is reported
//! with its line and column while the others are still checked. A dry run is the same run
//! rolled back; applying commits only when no row failed (all or nothing). Rows are upserts by
//! their natural key (site code, device name, device + interface name, link ends + kind, group
//! name, customer account id, service name), so re-importing an export changes nothing. A
//! group's members and a service's dependencies are replaced by the cell's list.
//!
//! Services are read in two passes: first every row's fields, then every row's dependencies,
//! so that a service may depend on one further down the file.

pub mod refs;

use std::collections::HashMap;

use sqlx::{Connection, PgConnection};

use crate::db;
use crate::error::AppError;
use crate::model::customer::{unknown_timezone, CustomerForm};
use crate::model::device::{DeviceForm, DeviceId, InterfaceKind, InterfaceRole};
use crate::model::group::{GroupForm, Member};
use crate::model::import::{
    ImportKind, PreviewRow, RowAction, RowError, PREVIEW_ROWS, SHOWN_ERRORS,
};
use crate::model::link::LinkForm;
use crate::model::service::{DependencyKind, ServiceForm, ServiceId};
use crate::model::site::SiteForm;
use crate::model::text_field;
use crate::model::user::TenantId;

/// The largest file accepted (5,000 devices take about 0.5 MB).
pub const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;
/// The most data rows in one file.
pub const MAX_ROWS: usize = 50_000;

/// The columns of one kind of file. Column order in a file is free; names are matched without
/// regard to case and surrounding spaces.
#[derive(Debug, Clone, Copy)]
pub struct Format {
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
}

impl Format {
    /// Every column, required first: the order an export writes.
    pub fn columns(&self) -> impl Iterator<Item = &'static str> {
        self.required.iter().chain(self.optional).copied()
    }
}

pub fn format(kind: ImportKind) -> Format {
    match kind {
        ImportKind::Sites => Format {
            required: &["code", "name"],
            optional: &["region", "address", "latitude", "longitude", "timezone"],
        },
        ImportKind::Devices => Format {
            required: &["name", "site", "role", "mgmt_address"],
            optional: &[
                "vendor",
                "model",
                "api_port",
                "api_tls",
                "rest_port",
                "snmp_version",
                "credential_profile",
                "snmp_profile",
                "polling_profile",
                "tags",
                "enabled",
            ],
        },
        ImportKind::Interfaces => Format {
            required: &["device", "name"],
            optional: &["kind", "speed_mbps", "role"],
        },
        ImportKind::Links => Format {
            required: &["a_device", "b_device", "kind"],
            optional: &["a_interface", "b_interface", "upstream", "capacity_mbps"],
        },
        ImportKind::Groups => Format {
            required: &["name", "rule"],
            optional: &["k", "description", "members"],
        },
        ImportKind::Customers => Format {
            required: &["account_id", "name"],
            optional: &[
                "contact_name",
                "contact_email",
                "contact_phone",
                "timezone",
                "sla_target",
            ],
        },
        ImportKind::Services => Format {
            required: &["name", "kind"],
            optional: &[
                "customer",
                "access_device",
                "access_interface",
                "pppoe_username_pattern",
                "sla_target",
                "business_hours",
                "provider",
                "enabled",
                "depends_on",
            ],
        },
    }
}

/// The file as text: UTF-8, with or without a byte-order mark. Anything else is refused with
/// what to do about it (spreadsheets often save UTF-16 or a legacy code page).
pub fn decode(bytes: &[u8]) -> Result<&str, String> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err("the file is UTF-16; save it as UTF-8 (in Excel: \"CSV UTF-8\")".to_owned());
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let line_at = |at: usize| 1 + bytes[..at].iter().filter(|b| **b == b'\n').count();
    let text = std::str::from_utf8(bytes).map_err(|err| {
        let at = err.valid_up_to();
        format!(
            "the file is not UTF-8 (line {}, byte {}); save it as UTF-8 (in Excel: \"CSV \
             UTF-8\")",
            line_at(at),
            at + 1
        )
    })?;
    // A NUL is valid UTF-8 but no text column can hold it: a binary file, or a broken export.
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        return Err(format!(
            "the file holds a NUL byte (line {}, byte {}): it is not a text CSV file",
            line_at(at),
            at + 1
        ));
    }
    Ok(text)
}

/// One data row: its line in the file and its values by column (absent optional columns are
/// blank).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: u64,
    values: HashMap<&'static str, String>,
}

impl Record {
    pub fn get(&self, column: &str) -> &str {
        self.values.get(column).map_or("", String::as_str)
    }
}

/// What reading a file gave: its rows, and the rows that could not even be split into the
/// header's columns.
#[derive(Debug, Default)]
pub struct Table {
    pub records: Vec<Record>,
    pub errors: Vec<RowError>,
}

/// Splits the text into rows and checks the header. A header problem, a broken quote or too
/// many rows reject the whole file; a row with the wrong number of fields is a row error.
pub fn read(kind: ImportKind, text: &str) -> Result<Table, String> {
    let fmt = format(kind);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|err| format!("the header line cannot be read: {err}"))?
        .clone();
    let expected = || fmt.columns().collect::<Vec<_>>().join(", ");
    let mut columns: Vec<&'static str> = Vec::with_capacity(header.len());
    let mut unknown = Vec::new();
    for name in &header {
        let lower = name.to_lowercase();
        match fmt.columns().find(|c| *c == lower) {
            Some(c) if columns.contains(&c) => {
                return Err(format!("the column \"{c}\" appears twice in the header"))
            }
            Some(c) => columns.push(c),
            None => unknown.push(format!("\"{name}\"")),
        }
    }
    if header.is_empty() || (header.len() == 1 && header.get(0) == Some("")) {
        return Err(format!(
            "the file is empty; the first line must name the columns: {}",
            expected()
        ));
    }
    if !unknown.is_empty() {
        return Err(format!(
            "unknown column{} {} for a {kind} file; the columns are: {}",
            if unknown.len() == 1 { "" } else { "s" },
            unknown.join(", "),
            expected()
        ));
    }
    let missing: Vec<_> = fmt
        .required
        .iter()
        .filter(|c| !columns.contains(c))
        .collect();
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|c| format!("\"{c}\"")).collect();
        return Err(format!(
            "missing required column{} {} for a {kind} file",
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        ));
    }
    let mut table = Table::default();
    for row in reader.records() {
        let row = row.map_err(|err| match err.position() {
            Some(pos) => format!("line {}: {err}", pos.line()),
            None => err.to_string(),
        })?;
        let line = row.position().map_or(0, csv::Position::line);
        if row.len() != columns.len() {
            table.errors.push(RowError {
                line,
                column: None,
                message: format!("has {} fields; the header has {}", row.len(), columns.len()),
            });
            continue;
        }
        if table.records.len() + table.errors.len() >= MAX_ROWS {
            return Err(format!(
                "the file has more than {MAX_ROWS} rows; split it into several files"
            ));
        }
        let values = columns
            .iter()
            .zip(row.iter())
            .map(|(c, v)| (*c, v.to_owned()))
            .collect();
        table.records.push(Record { line, values });
    }
    if table.records.is_empty() && table.errors.is_empty() {
        return Err("the file has a header but no rows".to_owned());
    }
    Ok(table)
}

/// What a run did (or would do).
#[derive(Debug, Default)]
pub struct Outcome {
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    /// The first [`SHOWN_ERRORS`] row errors; `error_count` counts them all.
    pub errors: Vec<RowError>,
    pub error_count: i64,
    /// The first [`PREVIEW_ROWS`] rows' actions.
    pub preview: Vec<PreviewRow>,
    /// A problem of the rows taken together (an upstream cycle, a group rule its members
    /// cannot meet), which fails the file.
    pub file_error: Option<String>,
}

impl Outcome {
    pub fn failed(&self) -> bool {
        self.error_count > 0 || self.file_error.is_some()
    }

    fn error(&mut self, err: RowError) {
        self.error_count += 1;
        if self.errors.len() < SHOWN_ERRORS {
            self.errors.push(err);
        }
    }

    fn done(&mut self, line: u64, key: String, action: RowAction) {
        match action {
            RowAction::Create => self.created += 1,
            RowAction::Update => self.updated += 1,
            RowAction::Unchanged => self.unchanged += 1,
        }
        if self.preview.len() < PREVIEW_ROWS {
            self.preview.push(PreviewRow { line, key, action });
        }
    }
}

/// A row's failure: the CSV column to blame, if one is, and why.
struct Failure {
    column: Option<String>,
    message: String,
}

impl Failure {
    fn at(column: &str, message: impl Into<String>) -> Self {
        Self {
            column: Some(column.to_owned()),
            message: message.into(),
        }
    }
}

/// Form fields that are called differently in the CSV files.
fn column_of(field: &str) -> &str {
    match field {
        "site_id" => "site",
        "credential_profile_id" => "credential_profile",
        "snmp_profile_id" => "snmp_profile",
        "a_device_id" => "a_device",
        "b_device_id" => "b_device",
        "customer_id" => "customer",
        "access_device_id" => "access_device",
        other => other,
    }
}

/// Applies the rows inside the caller's transaction (`conn` must be in one): each row in a
/// savepoint, so a failing row is rolled back alone and reported. Returns `Err` only for
/// server faults; what is wrong with the data is in the [`Outcome`]. The caller commits only
/// if `!outcome.failed()`.
pub async fn run(
    conn: &mut PgConnection,
    tenant: TenantId,
    kind: ImportKind,
    table: &Table,
) -> Result<Outcome, AppError> {
    let mut out = Outcome::default();
    for err in &table.errors {
        out.error(err.clone());
    }
    let topology = matches!(kind, ImportKind::Links | ImportKind::Groups);
    if topology {
        // Taken before the names are read, so that they cannot change under the run.
        db::links::lock_topology(&mut *conn, tenant).await?;
    }
    let mut rows = Rows::load(&mut *conn, tenant, kind).await?;
    // Rows done, reported once the services' second pass has had its say.
    let mut done = Vec::new();
    for rec in &table.records {
        let mut savepoint = conn.begin().await?;
        match rows.apply(&mut savepoint, tenant, kind, rec).await {
            Ok((key, action)) => {
                savepoint.commit().await?;
                done.push((rec.line, key, action));
            }
            Err(Step::Row(f)) => {
                savepoint.rollback().await?;
                out.error(RowError {
                    line: rec.line,
                    column: f.column,
                    message: f.message,
                });
            }
            Err(Step::Fault(err)) => return Err(err),
        }
    }
    let deps = rows.dependencies(&mut *conn, tenant).await?;
    for (line, key, action) in done {
        match deps.get(&line) {
            Some(Err(f)) => out.error(RowError {
                line,
                column: f.column.clone(),
                message: f.message.clone(),
            }),
            Some(Ok(true)) if action == RowAction::Unchanged => {
                out.done(line, key, RowAction::Update);
            }
            _ => out.done(line, key, action),
        }
    }
    if topology && !out.failed() {
        // The rows together must still form a dependency DAG whose groups' rules their members
        // can meet; the graph names what is wrong.
        if let Err(err) = db::topology::load(&mut *conn, tenant).await {
            match err {
                AppError::Invalid { reason, .. } => out.file_error = Some(reason),
                other => return Err(other),
            }
        }
    }
    Ok(out)
}

/// A row's end: a data problem (reported, the run goes on) or a server fault (the run stops).
enum Step {
    Row(Failure),
    Fault(AppError),
}

impl From<AppError> for Step {
    fn from(err: AppError) -> Self {
        match err {
            AppError::Invalid { field, reason } | AppError::Conflict { field, reason } => {
                Step::Row(Failure::at(column_of(&field), reason))
            }
            AppError::NotFound => Step::Row(Failure {
                column: None,
                message: "refers to something that does not exist".to_owned(),
            }),
            other => Step::Fault(other),
        }
    }
}

impl From<sqlx::Error> for Step {
    fn from(err: sqlx::Error) -> Self {
        Step::Fault(err.into())
    }
}

/// The names rows refer to, loaded once per run, and the keys seen so far in the file (a key
/// twice in one file is an error rather than a silent second update).
struct Rows {
    sites: HashMap<String, i64>,
    devices: HashMap<String, i64>,
    profiles: HashMap<String, i64>,
    /// Customers by account id.
    customers: HashMap<String, i64>,
    /// What list cells may name (groups' members, services' dependencies).
    names: refs::Names,
    seen: HashMap<String, u64>,
    /// Time zones checked so far: `pg_timezone_names` builds its list on every call (about
    /// 25 ms), so each distinct zone of a file is asked once.
    zones: HashMap<String, bool>,
    /// Services written by the first pass, whose dependencies the second pass sets.
    pending: Vec<Pending>,
}

/// A service row's dependencies, as its `depends_on` cell lists them.
struct Pending {
    line: u64,
    service: ServiceId,
    refs: Vec<refs::Ref>,
}

/// What the second pass did to each pending row, by line: whether its dependencies changed,
/// or why they could not be set.
type DependencyResults = HashMap<u64, Result<bool, Failure>>;

impl Rows {
    async fn load(
        conn: &mut PgConnection,
        tenant: TenantId,
        kind: ImportKind,
    ) -> Result<Self, AppError> {
        let lower = |v: Vec<(i64, String)>| -> HashMap<String, i64> {
            v.into_iter()
                .map(|(id, n)| (n.to_lowercase(), id))
                .collect()
        };
        let mut rows = Rows {
            sites: HashMap::new(),
            devices: HashMap::new(),
            profiles: HashMap::new(),
            customers: HashMap::new(),
            names: refs::Names::default(),
            seen: HashMap::new(),
            zones: HashMap::new(),
            pending: Vec::new(),
        };
        match kind {
            ImportKind::Sites => {}
            ImportKind::Devices => {
                rows.sites = lower(db::sites::codes(&mut *conn, tenant).await?);
                rows.profiles = lower(db::credentials::names(&mut *conn, tenant).await?);
            }
            ImportKind::Interfaces | ImportKind::Links => {
                rows.devices = lower(db::devices::names(&mut *conn, tenant).await?);
            }
            ImportKind::Customers => {}
            ImportKind::Groups | ImportKind::Services => {
                rows.devices = lower(db::devices::names(&mut *conn, tenant).await?);
                rows.names.devices = rows.devices.clone();
                rows.names.links = db::links::ends(&mut *conn, tenant).await?;
                if kind == ImportKind::Services {
                    rows.customers = lower(db::customers::accounts(&mut *conn, tenant).await?);
                    rows.names.groups = lower(db::groups::names(&mut *conn, tenant).await?);
                }
            }
        }
        Ok(rows)
    }

    /// Whether the database knows the time zone, asked once per distinct zone of a file.
    async fn zone_known(&mut self, conn: &mut PgConnection, zone: &str) -> Result<bool, Step> {
        if let Some(known) = self.zones.get(zone) {
            return Ok(*known);
        }
        let known = db::timezone_exists(&mut *conn, zone).await?;
        self.zones.insert(zone.to_owned(), known);
        Ok(known)
    }

    /// A list cell's references resolved to ids, or the first that names nothing.
    fn resolve(
        &self,
        column: &str,
        list: &[refs::Ref],
    ) -> Result<Vec<(DependencyKind, i64)>, Step> {
        list.iter()
            .map(|r| {
                self.names
                    .resolve(r)
                    .map(|id| (r.kind(), id))
                    .map_err(|message| Step::Row(Failure::at(column, message)))
            })
            .collect()
    }

    /// The services' second pass: each pending row's dependencies become its `depends_on`
    /// list, each row in a savepoint. Dependencies no longer listed are removed from every row
    /// first, so that a file which turns a dependency around is not taken for a cycle; then the
    /// missing ones are added through the service form's own checks (the tenant's objects
    /// only, no cycle between services, which names both).
    async fn dependencies(
        &mut self,
        conn: &mut PgConnection,
        tenant: TenantId,
    ) -> Result<DependencyResults, AppError> {
        let mut results = DependencyResults::new();
        if self.pending.is_empty() {
            return Ok(results);
        }
        self.names.services = db::services::names(&mut *conn, tenant)
            .await?
            .into_iter()
            .map(|(id, n)| (n.to_lowercase(), id))
            .collect();
        let pending = std::mem::take(&mut self.pending);
        let mut missing = Vec::new();
        for p in &pending {
            let mut savepoint = conn.begin().await?;
            match self.unlist(&mut savepoint, tenant, p).await {
                Ok((removed, add)) => {
                    savepoint.commit().await?;
                    results.insert(p.line, Ok(removed));
                    missing.push((p, add));
                }
                Err(Step::Row(f)) => {
                    savepoint.rollback().await?;
                    results.insert(p.line, Err(f));
                }
                Err(Step::Fault(err)) => return Err(err),
            }
        }
        for (p, add) in missing {
            if add.is_empty() {
                continue;
            }
            let mut savepoint = conn.begin().await?;
            let mut added = Ok(());
            for (kind, target) in add {
                added = db::services::dependencies::add(
                    &mut savepoint,
                    tenant,
                    p.service,
                    kind,
                    target,
                )
                .await
                .map(drop)
                .map_err(blame("depends_on"));
                if added.is_err() {
                    break;
                }
            }
            match added {
                Ok(()) => {
                    savepoint.commit().await?;
                    results.insert(p.line, Ok(true));
                }
                Err(Step::Row(f)) => {
                    savepoint.rollback().await?;
                    results.insert(p.line, Err(f));
                }
                Err(Step::Fault(err)) => return Err(err),
            }
        }
        Ok(results)
    }

    /// Resolves a pending row's list and removes the dependencies it no longer holds. Returns
    /// whether any was removed, and the ones to add.
    async fn unlist(
        &self,
        conn: &mut PgConnection,
        tenant: TenantId,
        p: &Pending,
    ) -> Result<(bool, Vec<(DependencyKind, i64)>), Step> {
        let wanted = self.resolve("depends_on", &p.refs)?;
        let have: Vec<(DependencyKind, i64)> =
            db::services::dependencies::list(&mut *conn, tenant, p.service)
                .await?
                .iter()
                .map(|d| (d.kind(), d.target_id()))
                .collect();
        let mut removed = false;
        for (kind, target) in &have {
            if !wanted.contains(&(*kind, *target)) {
                db::services::dependencies::remove(&mut *conn, tenant, p.service, *kind, *target)
                    .await?;
                removed = true;
            }
        }
        let add = wanted.into_iter().filter(|w| !have.contains(w)).collect();
        Ok((removed, add))
    }

    fn once(&mut self, line: u64, key: &str, what: &str) -> Result<(), Step> {
        match self.seen.insert(key.to_lowercase(), line) {
            Some(first) => Err(Step::Row(Failure {
                column: None,
                message: format!("the same {what} as line {first}"),
            })),
            None => Ok(()),
        }
    }

    fn device(&self, column: &str, name: &str) -> Result<i64, Step> {
        if name.is_empty() {
            return Err(Step::Row(Failure::at(column, "is required")));
        }
        self.devices
            .get(&name.to_lowercase())
            .copied()
            .ok_or_else(|| {
                Step::Row(Failure::at(
                    column,
                    format!("no device named \"{name}\" (import devices first)"),
                ))
            })
    }

    fn profile(&self, column: &str, name: &str) -> Result<String, Step> {
        if name.is_empty() {
            return Ok(String::new());
        }
        self.profiles
            .get(&name.to_lowercase())
            .map(i64::to_string)
            .ok_or_else(|| {
                Step::Row(Failure::at(
                    column,
                    format!("no credential profile named \"{name}\""),
                ))
            })
    }

    async fn apply(
        &mut self,
        conn: &mut PgConnection,
        tenant: TenantId,
        kind: ImportKind,
        rec: &Record,
    ) -> Result<(String, RowAction), Step> {
        match kind {
            ImportKind::Sites => {
                let site = SiteForm {
                    name: rec.get("name").to_owned(),
                    code: rec.get("code").to_owned(),
                    region: rec.get("region").to_owned(),
                    address: rec.get("address").to_owned(),
                    latitude: rec.get("latitude").to_owned(),
                    longitude: rec.get("longitude").to_owned(),
                    timezone: rec.get("timezone").to_owned(),
                }
                .validate()?;
                self.once(rec.line, &site.code, "site code")?;
                if !self.zone_known(&mut *conn, &site.timezone).await? {
                    return Err(Step::Row(Failure::at(
                        "timezone",
                        format!("unknown time zone \"{}\"", site.timezone),
                    )));
                }
                let action = db::sites::upsert(&mut *conn, tenant, &site).await?;
                Ok((site.code, action))
            }
            ImportKind::Devices => {
                let site = rec.get("site");
                let site_id = match site {
                    "" => String::new(),
                    code => self
                        .sites
                        .get(&code.to_lowercase())
                        .map(i64::to_string)
                        .ok_or_else(|| {
                            Step::Row(Failure::at(
                                "site",
                                format!("no site with code \"{code}\" (import sites first)"),
                            ))
                        })?,
                };
                let device = DeviceForm {
                    name: rec.get("name").to_owned(),
                    site_id,
                    vendor: non_blank(rec.get("vendor"), "mikrotik"),
                    model: rec.get("model").to_owned(),
                    role: rec.get("role").to_owned(),
                    mgmt_address: rec.get("mgmt_address").to_owned(),
                    api_port: rec.get("api_port").to_owned(),
                    api_tls: flag(rec, "api_tls", false)?,
                    rest_port: rec.get("rest_port").to_owned(),
                    snmp_version: rec.get("snmp_version").to_owned(),
                    credential_profile_id: self
                        .profile("credential_profile", rec.get("credential_profile"))?,
                    snmp_profile_id: self.profile("snmp_profile", rec.get("snmp_profile"))?,
                    polling_profile: rec.get("polling_profile").to_owned(),
                    tags: rec.get("tags").to_owned(),
                    enabled: flag(rec, "enabled", true)?,
                }
                .validate()?;
                self.once(rec.line, &device.name, "device name")?;
                let action = db::devices::upsert(&mut *conn, tenant, &device).await?;
                Ok((device.name, action))
            }
            ImportKind::Interfaces => {
                let device = self.device("device", rec.get("device"))?;
                let name = text_field("name", rec.get("name"), 1, 100)?;
                self.once(
                    rec.line,
                    &format!("{}\u{0}{name}", rec.get("device")),
                    "device and interface",
                )?;
                let kind: InterfaceKind = match rec.get("kind") {
                    "" => InterfaceKind::Ethernet,
                    k => k.parse()?,
                };
                let role: InterfaceRole = match rec.get("role") {
                    "" => InterfaceRole::Other,
                    r => r.parse()?,
                };
                let speed = crate::model::device::mbps("speed_mbps", rec.get("speed_mbps"))?;
                let action = db::devices::upsert_interface(
                    &mut *conn,
                    tenant,
                    DeviceId(device),
                    &name,
                    kind,
                    speed,
                    role,
                )
                .await?;
                Ok((format!("{} {name}", rec.get("device")), action))
            }
            ImportKind::Links => {
                let a = self.device("a_device", rec.get("a_device"))?;
                let b = self.device("b_device", rec.get("b_device"))?;
                let link = LinkForm {
                    a_device_id: a.to_string(),
                    a_interface: rec.get("a_interface").to_owned(),
                    b_device_id: b.to_string(),
                    b_interface: rec.get("b_interface").to_owned(),
                    kind: rec.get("kind").to_owned(),
                    upstream: flag(rec, "upstream", true)?,
                    capacity_mbps: rec.get("capacity_mbps").to_owned(),
                }
                .validate()?;
                let end = |d: &str, i: &str| {
                    if i.is_empty() {
                        d.to_owned()
                    } else {
                        format!("{d}:{i}")
                    }
                };
                let key = format!(
                    "{} → {} ({})",
                    end(rec.get("a_device"), rec.get("a_interface")),
                    end(rec.get("b_device"), rec.get("b_interface")),
                    link.kind
                );
                self.once(rec.line, &key, "link")?;
                let a_if = db::devices::link_end(
                    &mut *conn,
                    tenant,
                    link.a_device,
                    link.a_interface.as_deref(),
                )
                .await?;
                let b_if = db::devices::link_end(
                    &mut *conn,
                    tenant,
                    link.b_device,
                    link.b_interface.as_deref(),
                )
                .await?;
                let action = db::links::upsert(&mut *conn, tenant, &link, a_if, b_if).await?;
                Ok((key, action))
            }
            ImportKind::Groups => self.group(conn, tenant, rec).await,
            ImportKind::Customers => {
                let customer = CustomerForm {
                    name: rec.get("name"),
                    account_id: rec.get("account_id"),
                    contact_name: rec.get("contact_name"),
                    contact_email: rec.get("contact_email"),
                    contact_phone: rec.get("contact_phone"),
                    timezone: rec.get("timezone"),
                    sla_target: rec.get("sla_target"),
                }
                .validate()?;
                self.once(rec.line, &customer.account_id, "account id")?;
                if !self.zone_known(&mut *conn, &customer.timezone).await? {
                    return Err(unknown_timezone("timezone").into());
                }
                let action = db::customers::upsert(&mut *conn, tenant, &customer).await?;
                Ok((customer.account_id, action))
            }
            ImportKind::Services => self.service(conn, tenant, rec).await,
        }
    }

    /// A group row: the group's fields, then its members replaced by the `members` list. The
    /// caller holds the topology lock and checks the graph after the rows.
    async fn group(
        &mut self,
        conn: &mut PgConnection,
        tenant: TenantId,
        rec: &Record,
    ) -> Result<(String, RowAction), Step> {
        let group = GroupForm {
            name: rec.get("name").to_owned(),
            rule: rec.get("rule").to_owned(),
            k: rec.get("k").to_owned(),
            description: rec.get("description").to_owned(),
        }
        .validate()?;
        let list = refs::parse(rec.get("members"))
            .map_err(|message| Step::Row(Failure::at("members", message)))?;
        if let Some(other) = list
            .iter()
            .find(|r| !matches!(r.kind(), DependencyKind::Device | DependencyKind::Link))
        {
            return Err(Step::Row(Failure::at(
                "members",
                format!(
                    "a group's members are devices and links, not a {}",
                    other.kind()
                ),
            )));
        }
        let wanted: Vec<Member> = self
            .resolve("members", &list)?
            .into_iter()
            .map(|(kind, id)| match kind {
                DependencyKind::Link => Member::Link(id),
                _ => Member::Device(id),
            })
            .collect();
        self.once(rec.line, &group.name, "group name")?;
        let (id, mut action) = db::groups::upsert(&mut *conn, tenant, &group).await?;
        let have = db::groups::members(&mut *conn, tenant, id).await?;
        let mut changed = false;
        for (row, member) in &have {
            if !wanted.contains(member) {
                db::groups::remove_member(&mut *conn, tenant, id, *row).await?;
                changed = true;
            }
        }
        for member in wanted {
            if !have.iter().any(|(_, m)| *m == member) {
                db::groups::add_member(&mut *conn, tenant, id, member)
                    .await
                    .map_err(blame("members"))?;
                changed = true;
            }
        }
        if changed && action == RowAction::Unchanged {
            action = RowAction::Update;
        }
        Ok((group.name, action))
    }

    /// A service row's fields, checked by the service form and written; its dependencies wait
    /// for the second pass ([`Rows::dependencies`]).
    async fn service(
        &mut self,
        conn: &mut PgConnection,
        tenant: TenantId,
        rec: &Record,
    ) -> Result<(String, RowAction), Step> {
        let customer_id = match rec.get("customer") {
            "" => String::new(),
            account => self
                .customers
                .get(&account.to_lowercase())
                .map(i64::to_string)
                .ok_or_else(|| {
                    Step::Row(Failure::at(
                        "customer",
                        format!(
                            "no customer with account id \"{account}\" (import customers first)"
                        ),
                    ))
                })?,
        };
        let access_device_id = match rec.get("access_device") {
            "" => String::new(),
            name => self.device("access_device", name)?.to_string(),
        };
        let service = ServiceForm {
            name: rec.get("name"),
            kind: rec.get("kind"),
            customer_id: &customer_id,
            access_device_id: &access_device_id,
            access_interface: rec.get("access_interface"),
            pppoe_username_pattern: rec.get("pppoe_username_pattern"),
            sla_target: rec.get("sla_target"),
            business_hours: rec.get("business_hours"),
            provider: rec.get("provider"),
            enabled: flag(rec, "enabled", true)?.is_some(),
        }
        .validate()?;
        let list = refs::parse(rec.get("depends_on"))
            .map_err(|message| Step::Row(Failure::at("depends_on", message)))?;
        self.once(rec.line, &service.name, "service name")?;
        let interface = db::services::resolve_refs(&mut *conn, tenant, &service).await?;
        let (id, action) = db::services::upsert(&mut *conn, tenant, &service, interface).await?;
        self.pending.push(Pending {
            line: rec.line,
            service: id,
            refs: list,
        });
        Ok((service.name, action))
    }
}

/// Blames a form's error on one CSV column (the dependency and member checks name their
/// `target_id` field).
fn blame(column: &'static str) -> impl Fn(AppError) -> Step {
    move |err| match err {
        AppError::Invalid { reason, .. } | AppError::Conflict { reason, .. } => {
            Step::Row(Failure::at(column, reason))
        }
        other => other.into(),
    }
}

fn non_blank(value: &str, default: &str) -> String {
    if value.is_empty() { default } else { value }.to_owned()
}

/// A yes/no column as the forms' checkbox value (`Some("on")` when set); blank is `default`.
fn flag(rec: &Record, column: &str, default: bool) -> Result<Option<String>, Step> {
    let on = match rec.get(column).to_lowercase().as_str() {
        "" => default,
        "true" | "yes" | "1" | "on" => true,
        "false" | "no" | "0" | "off" => false,
        _ => {
            return Err(Step::Row(Failure::at(
                column,
                "must be true or false (or yes/no, 1/0)",
            )))
        }
    };
    Ok(on.then(|| "on".to_owned()))
}

/// Writes rows (each in the kind's column order) as a CSV file with a header.
pub fn write(kind: ImportKind, rows: &[Vec<String>]) -> Result<String, AppError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fault = |err: csv::Error| {
        tracing::error!(error = %err, "csv export");
        AppError::Internal
    };
    w.write_record(format(kind).columns()).map_err(fault)?;
    for row in rows {
        w.write_record(row).map_err(fault)?;
    }
    let bytes = w.into_inner().map_err(|err| {
        tracing::error!(error = %err, "csv export");
        AppError::Internal
    })?;
    String::from_utf8(bytes).map_err(|err| {
        tracing::error!(error = %err, "csv export");
        AppError::Internal
    })
}

/// The kind's rows from the database, in the kind's column order.
pub async fn export(
    conn: &mut PgConnection,
    tenant: TenantId,
    kind: ImportKind,
) -> Result<String, AppError> {
    let rows = match kind {
        ImportKind::Sites => db::sites::export(&mut *conn, tenant).await?,
        ImportKind::Devices => db::devices::export(&mut *conn, tenant).await?,
        ImportKind::Interfaces => db::devices::export_interfaces(&mut *conn, tenant).await?,
        ImportKind::Links => db::links::export(&mut *conn, tenant).await?,
        ImportKind::Groups => db::groups::export(&mut *conn, tenant).await?,
        ImportKind::Customers => db::customers::export(&mut *conn, tenant).await?,
        ImportKind::Services => db::services::export(&mut *conn, tenant).await?,
    };
    write(kind, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_or_without_bom_is_read() {
        assert_eq!(decode(b"code,name\n").ok(), Some("code,name\n"));
        assert_eq!(decode(b"\xEF\xBB\xBFcode,name\n").ok(), Some("code,name\n"));
        assert_eq!(decode("Wien,Graz\n".as_bytes()).ok(), Some("Wien,Graz\n"));
    }

    #[test]
    fn other_encodings_are_refused_with_the_place() {
        let err = decode(b"\xFF\xFEc\x00o\x00").expect_err("utf-16");
        assert!(err.contains("UTF-16"), "{err}");
        // Latin-1 "ö" on line 2.
        let err = decode(b"code,name\nVIE1,Wien H\xF6he\n").expect_err("latin-1");
        assert!(err.contains("not UTF-8 (line 2, byte 22)"), "{err}");
        let err = decode(b"code,name\nVIE1,Wien\0\n").expect_err("nul");
        assert!(err.contains("NUL byte (line 2, byte 20)"), "{err}");
    }

    #[test]
    fn headers_are_checked_by_name() {
        let t = read(ImportKind::Sites, " Name ,CODE\nWien,VIE1\n").expect("ok");
        assert_eq!(t.records.len(), 1);
        assert_eq!(t.records[0].get("code"), "VIE1");
        assert_eq!(
            t.records[0].get("region"),
            "",
            "absent optional column is blank"
        );
        assert_eq!(t.records[0].line, 2);

        let err = read(ImportKind::Sites, "code,name,colour\nVIE1,Wien,red\n").expect_err("x");
        assert!(err.contains("unknown column \"colour\""), "{err}");
        assert!(
            err.contains("code, name, region"),
            "lists the columns: {err}"
        );
        let err = read(ImportKind::Devices, "name,site\nr1,VIE1\n").expect_err("x");
        assert_eq!(
            err,
            "missing required columns \"role\", \"mgmt_address\" for a devices file"
        );
        let err = read(ImportKind::Sites, "code,name,code\n").expect_err("x");
        assert!(err.contains("\"code\" appears twice"), "{err}");
        let err = read(ImportKind::Sites, "").expect_err("x");
        assert!(err.contains("the file is empty"), "{err}");
        let err = read(ImportKind::Sites, "code,name\n").expect_err("x");
        assert_eq!(err, "the file has a header but no rows");
    }

    #[test]
    fn a_short_row_is_a_row_error_not_a_file_error() {
        let t = read(ImportKind::Sites, "code,name\nVIE1,Wien\nGRZ1\nLNZ1,Linz\n").expect("ok");
        assert_eq!(t.records.len(), 2);
        assert_eq!(
            t.errors,
            vec![RowError {
                line: 3,
                column: None,
                message: "has 1 fields; the header has 2".to_owned()
            }]
        );
        assert_eq!(t.records[1].line, 4);
    }

    #[test]
    fn quoted_fields_keep_commas_and_newlines() {
        let t = read(
            ImportKind::Sites,
            "code,name,address\nVIE1,\"Wien, Floridsdorf\",\"Line 1\nLine 2\"\nGRZ1,Graz,\n",
        )
        .expect("ok");
        assert_eq!(t.records[0].get("name"), "Wien, Floridsdorf");
        assert_eq!(t.records[0].get("address"), "Line 1\nLine 2");
        assert_eq!(
            t.records[1].line, 4,
            "a row starts on the line after the quoted newline"
        );
    }

    #[test]
    fn too_many_rows_reject_the_file() {
        let mut text = String::from("code,name\n");
        for i in 0..=MAX_ROWS {
            text.push_str(&format!("S{i},Site {i}\n"));
        }
        let err = read(ImportKind::Sites, &text).expect_err("too many");
        assert!(err.contains("more than 50000 rows"), "{err}");
    }

    #[test]
    fn an_export_reads_back_as_an_import() {
        let rows = vec![vec![
            "VIE1".to_owned(),
            "Wien, \"Interxion\"".to_owned(),
            String::new(),
            String::new(),
            "48.27".to_owned(),
            "16.42".to_owned(),
            "Europe/Vienna".to_owned(),
        ]];
        let text = write(ImportKind::Sites, &rows).expect("csv");
        let t = read(ImportKind::Sites, &text).expect("read back");
        assert_eq!(t.records[0].get("name"), "Wien, \"Interxion\"");
        assert_eq!(t.records[0].get("timezone"), "Europe/Vienna");
    }

    #[test]
    fn flags_are_strict() {
        let t = read(
            ImportKind::Links,
            "a_device,b_device,kind,upstream\na,b,ptp,no\na,b,ptp,\na,b,ptp,maybe\n",
        )
        .expect("ok");
        assert!(matches!(flag(&t.records[0], "upstream", true), Ok(None)));
        assert!(matches!(flag(&t.records[1], "upstream", true), Ok(Some(_))));
        assert!(matches!(
            flag(&t.records[2], "upstream", true),
            Err(Step::Row(Failure { column: Some(c), .. })) if c == "upstream"
        ));
    }
}
