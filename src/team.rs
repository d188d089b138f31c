//! Team members (spec §2): care managers, psychiatric consultants, PCPs and practice leads.

use rusqlite::{Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::access::Action;
use crate::audit;
use crate::store::new_id;
use crate::vocab::{Role, string_enum};
use crate::{Error, Registry, Result};

string_enum!(
    /// A billing practitioner's credential (issue 20): what a payer asks of who bills.
    Credential {
        Physician => "physician",
        NursePractitioner => "nurse-practitioner",
        PhysicianAssistant => "physician-assistant",
        ClinicalPsychologist => "clinical-psychologist",
        ClinicalSocialWorker => "clinical-social-worker",
        Other => "other",
    }
);

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct TeamMember {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The member's National Provider Identifier, where they bill (Team & settings). Absent
    /// where a record names the member without their attributes (a chart's care team).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub npi: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub credential: Option<Credential>,
    /// The share of a full-time post spent on collaborative care, 0 to 1 in hundredths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub cocm_fte: Option<f64>,
}

impl TeamMember {
    /// A member as a record names them: id, name and role, without their attributes.
    pub(crate) fn named(id: String, name: String, role: Role) -> TeamMember {
        TeamMember { id, name, role, npi: None, credential: None, cocm_fte: None }
    }
}

const COLUMNS: &str = "id, name, role, npi, credential, cocm_fte_hundredths";

fn from_row(r: &Row) -> rusqlite::Result<TeamMember> {
    let role: String = r.get(2)?;
    let credential: Option<String> = r.get(4)?;
    Ok(TeamMember {
        npi: r.get(3)?,
        credential: credential.and_then(|c| Credential::parse("credential", &c).ok()),
        cocm_fte: r.get::<_, Option<i64>>(5)?.map(|h| h as f64 / 100.0),
        ..TeamMember::named(r.get(0)?, r.get(1)?, Role::parse("role", &role).unwrap_or(Role::PracticeLead))
    })
}

/// Spec-free but payer-bound (issue 20): an NPI is 10 digits whose last is the Luhn check digit
/// of the other nine behind the prefix 80840 (CMS, "NPI check digit"). 1234567893 is one.
pub fn check_npi(field: &str, text: &str) -> Result<String> {
    let npi = text.trim();
    let digits: Vec<u32> = npi.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 10 || npi.len() != 10 {
        return Err(Error::validation(field, format!("an NPI is 10 digits (got '{npi}')")));
    }
    // Luhn over "80840" + the first nine: double every second digit from the right of the
    // payload (the check digit's place excluded), sum the digits, and the check digit makes
    // the sum a multiple of 10.
    let payload: Vec<u32> = [8, 0, 8, 4, 0].into_iter().chain(digits[..9].iter().copied()).collect();
    let sum: u32 = payload.iter().rev().enumerate().map(|(i, d)| if i % 2 == 0 { (d * 2) / 10 + (d * 2) % 10 } else { *d }).sum();
    let check = (10 - sum % 10) % 10;
    if check != digits[9] {
        return Err(Error::validation(field, format!("{npi} is not a valid NPI: its check digit would be {check}")));
    }
    Ok(npi.to_string())
}

/// A CoCM FTE: 0 to 1 with at most two decimals (0.6, 0.25), as hundredths.
pub fn check_fte(field: &str, fte: f64) -> Result<i64> {
    let hundredths = (fte * 100.0).round();
    if !(0.0..=1.0).contains(&fte) || (fte * 100.0 - hundredths).abs() > 1e-6 {
        return Err(Error::validation(field, format!("a CoCM FTE is from 0 to 1 with at most two decimals, e.g. 0.6 (got {fte})")));
    }
    Ok(hundredths as i64)
}

/// A change to a member's attributes; `None` leaves one as it is, an empty text clears it.
#[derive(Clone, Debug, Default, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct MemberEdit {
    #[ts(optional)]
    pub npi: Option<String>,
    #[ts(optional)]
    pub credential: Option<String>,
    /// A number from 0 to 1; `-1` clears it.
    #[ts(optional)]
    pub cocm_fte: Option<f64>,
}

/// Finds a member by id or exact name; `field` names the input in the error.
pub(crate) fn find(conn: &Connection, field: &str, key: &str) -> Result<TeamMember> {
    let key = key.trim();
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM team_members WHERE id = ?1 OR name = ?1"))?
        .query_row([key], from_row)
        .optional()?
        .ok_or_else(|| Error::validation(field, format!("no team member with id or name '{key}'")))
}

/// Finds a member and checks the role the task needs (a wrong member named is bad input; who
/// may do the task at all is `access`'s business).
pub(crate) fn find_with_role(conn: &Connection, field: &str, key: &str, role: Role, task: &str) -> Result<TeamMember> {
    let m = find(conn, field, key)?;
    if m.role != role {
        return Err(Error::validation(field, format!("{task} is for a {role}; {} is a {}", m.name, m.role)));
    }
    Ok(m)
}

pub(crate) fn insert(conn: &Connection, actor: &audit::Actor, name: &str, role: Role) -> Result<TeamMember> {
    insert_with_id(conn, actor, &new_id(), name, role)
}

pub(crate) fn insert_with_id(conn: &Connection, actor: &audit::Actor, id: &str, name: &str, role: Role) -> Result<TeamMember> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::validation("name", "a team member needs a name"));
    }
    let taken: bool = conn.query_row("SELECT EXISTS (SELECT 1 FROM team_members WHERE name = ?1)", [name], |r| r.get(0))?;
    if taken {
        return Err(Error::Conflict(format!("name: a team member named '{name}' already exists")));
    }
    let member = TeamMember::named(id.to_string(), name.to_string(), role);
    conn.execute(
        "INSERT INTO team_members (id, name, role, created_at) VALUES (?1, ?2, ?3, ?4)",
        (&member.id, &member.name, role.as_str(), audit::now()),
    )?;
    audit::record(conn, actor, "create", "team_member", Some(&member.id), serde_json::json!({ "name": name, "role": role }))?;
    Ok(member)
}

impl Registry {
    pub fn add_member(&mut self, name: &str, role: Role) -> Result<TeamMember> {
        if role == Role::Kiosk {
            return Err(crate::Error::validation("role", "a kiosk is not a team member: a member signs a clinic tablet in as a kiosk"));
        }
        self.write(Action::ManageTeam, |tx, actor| insert(tx, actor, name, role))
    }

    pub fn list_members(&self) -> Result<Vec<TeamMember>> {
        let mut stmt = self.conn.prepare(&format!("SELECT {COLUMNS} FROM team_members ORDER BY role, name"))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A member by id or exact name; `field` names the input in the error.
    pub fn find_member(&self, field: &str, key: &str) -> Result<TeamMember> {
        find(&self.conn, field, key)
    }

    /// A practice lead sets a member's NPI, credential and CoCM FTE (`cocm team edit`): each
    /// checked first, all in one audited change, or nothing changes.
    pub fn edit_member(&mut self, member: &str, edit: &MemberEdit) -> Result<TeamMember> {
        let m = find(&self.conn, "member", member)?;
        let npi = match edit.npi.as_deref().map(str::trim) {
            None => m.npi.clone(),
            Some("") => None,
            Some(text) => Some(check_npi("npi", text)?),
        };
        let credential = match edit.credential.as_deref().map(str::trim) {
            None => m.credential,
            Some("") => None,
            Some(text) => Some(Credential::parse("credential", text)?),
        };
        let fte = match edit.cocm_fte {
            None => m.cocm_fte.map(|f| (f * 100.0).round() as i64),
            Some(-1.0) => None,
            Some(f) => Some(check_fte("cocm-fte", f)?),
        };
        self.write(Action::ManageTeam, |tx, actor| set_details(tx, actor, &m, npi.as_deref(), credential, fte))
    }
}

/// Sets a member's NPI, credential and CoCM FTE (in hundredths), checked by the caller, with
/// the audit row saying what changed.
pub(crate) fn set_details(
    conn: &Connection,
    actor: &audit::Actor,
    m: &TeamMember,
    npi: Option<&str>,
    credential: Option<Credential>,
    fte_hundredths: Option<i64>,
) -> Result<TeamMember> {
    conn.execute(
        "UPDATE team_members SET npi = ?2, credential = ?3, cocm_fte_hundredths = ?4 WHERE id = ?1",
        (&m.id, npi, credential.map(|c| c.as_str()), fte_hundredths),
    )?;
    let after = find(conn, "member", &m.id)?;
    let facts = |t: &TeamMember| serde_json::json!({ "npi": t.npi, "credential": t.credential, "cocm_fte": t.cocm_fte });
    audit::record(conn, actor, "update", "team_member", Some(&m.id), serde_json::json!({ "from": facts(m), "to": facts(&after) }))?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npi_check_digits() {
        // 1234567893: payload 80840 + 123456789; from the right, every other digit doubled
        // (digits of the product summed): 9→9, 8, 7→5, 6, 5→1, 4, 3→6, 2, 1→2, 0, 4→8, 8, 0,
        // 8; sum 67, so the check digit is 10 − 7 = 3.
        assert_eq!(check_npi("npi", " 1234567893 ").unwrap(), "1234567893");
        for bad in ["1234567890", "123456789", "12345678931", "12345678a3", "", "1234 67893"] {
            assert!(check_npi("npi", bad).is_err(), "{bad}");
        }
        // 1245319599: 9→9, 5, 9→9, 1, 3→6, 5, 4→8, 2, 1→2, 0, 4→8, 8, 0, 8; sum 71, check 9.
        assert!(check_npi("npi", "1245319599").is_ok());
        let e = check_npi("npi", "1234567890").unwrap_err().to_string();
        assert_eq!(e, "npi: 1234567890 is not a valid NPI: its check digit would be 3");
    }

    #[test]
    fn fte_is_zero_to_one_in_hundredths() {
        assert_eq!((check_fte("f", 0.6).unwrap(), check_fte("f", 0.25).unwrap(), check_fte("f", 1.0).unwrap()), (60, 25, 100));
        assert_eq!(check_fte("f", 0.0).unwrap(), 0);
        for bad in [1.01, -0.1, 0.333, f64::NAN] {
            assert!(check_fte("f", bad).is_err(), "{bad}");
        }
    }
}
