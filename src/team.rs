//! Team members (spec §2): care managers, psychiatric consultants, PCPs and practice leads.

use rusqlite::{Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::access::Action;
use crate::audit;
use crate::store::new_id;
use crate::vocab::Role;
use crate::{Error, Registry, Result};

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, ts_rs::TS)]
pub struct TeamMember {
    pub id: String,
    pub name: String,
    pub role: Role,
}

fn from_row(r: &Row) -> rusqlite::Result<TeamMember> {
    let role: String = r.get(2)?;
    Ok(TeamMember { id: r.get(0)?, name: r.get(1)?, role: Role::parse("role", &role).unwrap_or(Role::PracticeLead) })
}

/// Finds a member by id or exact name; `field` names the input in the error.
pub(crate) fn find(conn: &Connection, field: &str, key: &str) -> Result<TeamMember> {
    let key = key.trim();
    conn.prepare_cached("SELECT id, name, role FROM team_members WHERE id = ?1 OR name = ?1")?
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
    let member = TeamMember { id: id.to_string(), name: name.to_string(), role };
    conn.execute(
        "INSERT INTO team_members (id, name, role, created_at) VALUES (?1, ?2, ?3, ?4)",
        (&member.id, &member.name, role.as_str(), audit::now()),
    )?;
    audit::record(conn, actor, "create", "team_member", Some(&member.id), serde_json::json!({ "name": name, "role": role }))?;
    Ok(member)
}

impl Registry {
    pub fn add_member(&mut self, name: &str, role: Role) -> Result<TeamMember> {
        self.write(Action::ManageTeam, |tx, actor| insert(tx, actor, name, role))
    }

    pub fn list_members(&self) -> Result<Vec<TeamMember>> {
        let mut stmt = self.conn.prepare("SELECT id, name, role FROM team_members ORDER BY role, name")?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A member by id or exact name; `field` names the input in the error.
    pub fn find_member(&self, field: &str, key: &str) -> Result<TeamMember> {
        find(&self.conn, field, key)
    }
}
