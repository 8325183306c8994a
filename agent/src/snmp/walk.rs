//! Walking table columns with GETBULK, as pure steps over owned answers (the I/O is in
//! `super::Snmp::walk`): which column each varbind belongs to, when a column has ended, and the
//! table the walk fills.

use std::collections::BTreeMap;

/// A table column: its name (for [`Table::column`]) and its OID prefix.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub prefix: &'static [u64],
}

impl Column {
    pub const fn new(name: &'static str, prefix: &'static [u64]) -> Self {
        Self { name, prefix }
    }
}

/// An answer, copied out of the session's receive buffer.
#[derive(Debug, Clone, PartialEq)]
pub enum Owned {
    Integer(i64),
    /// Counter32, Counter64, Gauge32/Unsigned32, TimeTicks.
    Unsigned(u64),
    /// An OCTET STRING, lossily as UTF-8.
    Text(String),
    /// noSuchObject, noSuchInstance.
    Missing,
    /// endOfMibView.
    End,
    /// Anything else (an OID, an address): not read by the collectors.
    Other,
}

impl Owned {
    pub fn from_value(value: &snmp2::Value<'_>) -> Self {
        use snmp2::Value as V;
        match *value {
            V::Integer(n) => Self::Integer(n),
            V::Counter32(n) | V::Unsigned32(n) | V::Timeticks(n) => Self::Unsigned(n.into()),
            V::Counter64(n) => Self::Unsigned(n),
            V::OctetString(bytes) => Self::Text(String::from_utf8_lossy(bytes).into_owned()),
            V::NoSuchObject | V::NoSuchInstance => Self::Missing,
            V::EndOfMibView => Self::End,
            _ => Self::Other,
        }
    }

    pub fn number(&self) -> Option<f64> {
        match *self {
            Self::Integer(n) => Some(n as f64),
            Self::Unsigned(n) => Some(n as f64),
            _ => None,
        }
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// Walked columns: column name → row index → value. Only rows indexed by one arc (ifIndex,
/// hrDeviceIndex) are kept.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Table {
    columns: BTreeMap<&'static str, BTreeMap<u64, Owned>>,
}

static EMPTY: BTreeMap<u64, Owned> = BTreeMap::new();

impl Table {
    pub fn insert(&mut self, column: &'static str, index: u64, value: Owned) {
        self.columns.entry(column).or_default().insert(index, value);
    }

    /// A column's rows; empty when the device has no such column.
    pub fn column(&self, name: &str) -> &BTreeMap<u64, Owned> {
        self.columns.get(name).unwrap_or(&EMPTY)
    }

    pub fn get(&self, column: &str, index: u64) -> Option<&Owned> {
        self.column(column).get(&index)
    }
}

/// An OID from its arcs. Every OID here starts `1.3.6.1`, which BER can always encode.
pub fn oid(arcs: &[u64]) -> snmp2::Oid<'static> {
    snmp2::Oid::from(arcs).unwrap_or_else(|e| unreachable!("OID {arcs:?} does not encode: {e:?}"))
}

/// The arcs of an answered OID (empty if it does not decode).
pub fn arcs(oid: &snmp2::Oid<'_>) -> Vec<u64> {
    oid.iter().map(Iterator::collect).unwrap_or_default()
}

/// One GETBULK answer applied to the walk: `answers` repeats the active `cursors`' columns in
/// order (non-repeaters 0). A column ends at endOfMibView, at the first OID outside it, or at
/// an OID that does not increase (a broken agent would otherwise loop the walk forever). Returns
/// the cursors still walking, each at the last OID seen in its column.
pub fn step(
    columns: &[Column],
    mut cursors: Vec<(usize, Vec<u64>)>,
    answers: Vec<(Vec<u64>, Owned)>,
    table: &mut Table,
) -> Vec<(usize, Vec<u64>)> {
    if answers.is_empty() || cursors.is_empty() {
        return Vec::new();
    }
    let k = cursors.len();
    let mut done = vec![false; k];
    for (i, (at, value)) in answers.into_iter().enumerate() {
        let slot = i % k;
        if done[slot] {
            continue;
        }
        let (column, cursor) = &mut cursors[slot];
        let column = columns[*column];
        let inside = at.len() > column.prefix.len() && at.starts_with(column.prefix);
        if value == Owned::End || !inside || at <= *cursor {
            done[slot] = true;
            continue;
        }
        if let [index] = at[column.prefix.len()..] {
            table.insert(column.name, index, value);
        }
        *cursor = at;
    }
    cursors
        .into_iter()
        .zip(done)
        .filter(|(_, d)| !d)
        .map(|(c, _)| c)
        .collect()
}
