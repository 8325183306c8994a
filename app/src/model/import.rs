//! CSV imports of the inventory: what an upload became (its dry run or its application), as the
//! import pages show it. The file formats themselves are in `crate::import` (server only).

use serde::{Deserialize, Serialize};

use crate::model::string_enum;

/// Database id of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImportId(pub i64);

string_enum!(
    /// What one CSV file holds: one kind of object per file, imported in this order.
    ImportKind, field = "kind", {
        Sites => "sites",
        Devices => "devices",
        Interfaces => "interfaces",
        Links => "links",
        Groups => "groups",
        Customers => "customers",
        Services => "services",
    }
);

string_enum!(
    /// `Rejected`: the file itself is unusable; `Previewed`: dry run done; `Applied`: committed.
    ImportStatus, field = "status", {
        Rejected => "rejected",
        Previewed => "previewed",
        Applied => "applied",
    }
);

string_enum!(
    /// What a row does (or did) to the inventory.
    RowAction, field = "action", {
        Create => "create",
        Update => "update",
        Unchanged => "unchanged",
    }
);

impl RowAction {
    /// What an upsert did: a returned row says inserted (`true`) or updated (`false`); no row
    /// means the conflict's `where` found nothing to change.
    pub fn of_upsert(inserted: Option<bool>) -> Self {
        match inserted {
            Some(true) => Self::Create,
            Some(false) => Self::Update,
            None => Self::Unchanged,
        }
    }
}

/// A row that cannot be imported. `line` is the line of the file (the header is line 1);
/// `column` names the CSV column when one is to blame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
}

/// What a row does: the object's key (a name) and the action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewRow {
    pub line: u64,
    pub key: String,
    pub action: RowAction,
}

/// Rows of a preview kept and shown; the counts cover every row.
pub const PREVIEW_ROWS: usize = 200;
/// Row errors kept and shown; `error_count` counts them all.
pub const SHOWN_ERRORS: usize = 200;

/// An import as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportDetail {
    pub id: ImportId,
    pub kind: ImportKind,
    pub filename: String,
    pub size_bytes: i64,
    pub status: ImportStatus,
    /// Why the file was rejected as a whole (encoding, headers, size, a topology cycle).
    pub file_error: Option<String>,
    pub data_rows: i64,
    pub created_rows: i64,
    pub updated_rows: i64,
    pub unchanged_rows: i64,
    pub error_count: i64,
    pub errors: Vec<RowError>,
    pub preview: Vec<PreviewRow>,
    pub created_by: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub applied_by: Option<String>,
    pub applied_at: Option<String>,
}

impl ImportDetail {
    /// Only a clean dry run can be applied, and only once.
    pub fn can_apply(&self) -> bool {
        self.status == ImportStatus::Previewed
            && self.error_count == 0
            && self.file_error.is_none()
            && self.data_rows > 0
    }
}

/// One line of the list of recent imports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRow {
    pub id: ImportId,
    pub kind: ImportKind,
    pub filename: String,
    pub status: ImportStatus,
    pub data_rows: i64,
    pub error_count: i64,
    pub created_by: Option<String>,
    pub created_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail() -> ImportDetail {
        ImportDetail {
            id: ImportId(1),
            kind: ImportKind::Devices,
            filename: "d.csv".into(),
            size_bytes: 10,
            status: ImportStatus::Previewed,
            file_error: None,
            data_rows: 3,
            created_rows: 3,
            updated_rows: 0,
            unchanged_rows: 0,
            error_count: 0,
            errors: vec![],
            preview: vec![],
            created_by: None,
            created_at: String::new(),
            applied_by: None,
            applied_at: None,
        }
    }

    #[test]
    fn only_a_clean_preview_can_be_applied() {
        assert!(detail().can_apply());
        let with_error = ImportDetail {
            error_count: 1,
            ..detail()
        };
        assert!(!with_error.can_apply());
        let applied = ImportDetail {
            status: ImportStatus::Applied,
            ..detail()
        };
        assert!(!applied.can_apply());
        let empty = ImportDetail {
            data_rows: 0,
            ..detail()
        };
        assert!(!empty.can_apply());
        let cycle = ImportDetail {
            file_error: Some("cycle".into()),
            ..detail()
        };
        assert!(!cycle.can_apply());
    }
}
