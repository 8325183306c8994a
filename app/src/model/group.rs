//! Redundancy groups: a set of links and/or devices with a rule saying how many must be up
//! for the group to be up (`any`, `all`, `k of n`). The dependency graph reads them; see the
//! top of `topology/src/lib.rs` for what they mean there.

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::{string_enum, text_field};

/// Database id of a redundancy group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GroupId(pub i64);

string_enum!(GroupRule, field = "rule", {
    Any => "any",
    All => "all",
    KOfN => "k_of_n",
});

/// A checked group, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInput {
    pub name: String,
    pub rule: GroupRule,
    /// Set exactly when the rule is `k_of_n`.
    pub k: Option<i32>,
    pub description: String,
}

/// The raw form fields of a group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupForm {
    pub name: String,
    pub rule: String,
    pub k: String,
    pub description: String,
}

impl GroupForm {
    pub fn validate(&self) -> Result<GroupInput, AppError> {
        let rule: GroupRule = self.rule.parse()?;
        let k = match (rule, self.k.trim()) {
            (GroupRule::KOfN, raw) => Some(
                raw.parse::<i32>()
                    .ok()
                    .filter(|k| (1..=1000).contains(k))
                    .ok_or_else(|| {
                        AppError::invalid("k", "is required for k of n: a whole number, 1 or more")
                    })?,
            ),
            (_, "") => None,
            (_, _) => {
                return Err(AppError::invalid(
                    "k",
                    "applies only to the rule k_of_n; leave it empty",
                ))
            }
        };
        Ok(GroupInput {
            name: text_field("name", &self.name, 1, 100)?,
            rule,
            k,
            description: text_field("description", &self.description, 0, 300)?,
        })
    }
}

/// A member of a group: a link or a device, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Member {
    Link(i64),
    Device(i64),
}

/// A group as its list shows it, with its members labelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    pub id: GroupId,
    pub name: String,
    pub rule: GroupRule,
    pub k: Option<i32>,
    pub description: String,
    /// (member row id, label such as "link vie1-core-1 → grz1-core-1 (ptp)" or "device x").
    pub members: Vec<(i64, String)>,
}

impl GroupRow {
    /// "any", "all", or "2 of 3".
    pub fn rule_label(&self) -> String {
        match (self.rule, self.k) {
            (GroupRule::KOfN, Some(k)) => format!("{k} of {}", self.members.len()),
            (rule, _) => rule.as_str().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(rule: &str, k: &str) -> GroupForm {
        GroupForm {
            name: "LNZ1 uplinks".into(),
            rule: rule.into(),
            k: k.into(),
            description: String::new(),
        }
    }

    #[test]
    fn k_goes_with_k_of_n_only() {
        assert_eq!(
            form("k_of_n", "2").validate().ok().and_then(|g| g.k),
            Some(2)
        );
        assert_eq!(form("any", "").validate().ok().map(|g| g.k), Some(None));
        for (rule, k) in [
            ("k_of_n", ""),
            ("k_of_n", "0"),
            ("k_of_n", "x"),
            ("all", "2"),
        ] {
            let err = form(rule, k).validate().expect_err("bad k");
            assert_eq!(err.field(), Some("k"), "{rule} {k}: {err}");
        }
        let err = form("most", "").validate().expect_err("bad rule");
        assert_eq!(err.field(), Some("rule"));
    }
}
