//! Registries on network file systems are refused: SQLite's locking is not safe over NFS or
//! SMB/CIFS, so two workstations writing one file there can corrupt it. A practice shares a
//! registry through the practice server (`cocm serve`) instead.

use std::path::Path;

use crate::{Error, Result};

/// File system types whose locking SQLite cannot rely on.
const NETWORK_FILE_SYSTEMS: &[&str] = &["nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "afs", "fuse.sshfs", "9p"];

/// Refuses `path` (a registry, or where one is to be made) if it sits on a network file system.
pub fn refuse_network_file_system(path: &Path) -> Result<()> {
    match network_file_system(path) {
        None => Ok(()),
        Some(fs) => Err(Error::Incompatible(format!(
            "{} is on a network file system ({fs}), where SQLite's locking is not safe for a registry; \
             keep the registry on the local disk of one machine, run `cocm serve` there, and connect to that practice server",
            path.display()
        ))),
    }
}

/// The network file system `path` is on, if it is on one (Linux: /proc/self/mountinfo).
fn network_file_system(path: &Path) -> Option<String> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    // A file not made yet is judged by its folder.
    let existing = path.ancestors().find(|p| p.exists())?;
    let real = std::fs::canonicalize(existing).ok()?;
    let fs = file_system_of(&mountinfo, &real)?;
    NETWORK_FILE_SYSTEMS.contains(&fs.as_str()).then_some(fs)
}

/// The type of the file system mounted deepest above `path`, from mountinfo's text: each line
/// is `id parent major:minor root mount-point options [optional fields] - type source options`.
fn file_system_of(mountinfo: &str, path: &Path) -> Option<String> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let mount_point = unescape(fields.get(4)?);
            let dash = fields.iter().position(|f| *f == "-")?;
            let fs = fields.get(dash + 1)?;
            path.starts_with(&mount_point).then(|| (mount_point.len(), fs.to_string()))
        })
        .max_by_key(|(depth, _)| *depth)
        .map(|(_, fs)| fs)
}

/// mountinfo writes a space, tab, newline and backslash in a path as `\040`, `\011`, `\012`, `\134`.
fn unescape(field: &str) -> String {
    field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 0:35 / /mnt/practice rw,relatime shared:20 - nfs4 files:/export rw,vers=4.2
41 40 8:2 / /mnt/practice/local rw - ext4 /dev/sdb1 rw
42 22 0:36 / /srv/team\\040share rw - cifs //nas/team rw
";

    #[test]
    fn the_deepest_mount_above_a_path_decides() {
        assert_eq!(file_system_of(MOUNTINFO, Path::new("/home/ana/registry.cocm")).as_deref(), Some("ext4"));
        assert_eq!(file_system_of(MOUNTINFO, Path::new("/mnt/practice/registry.cocm")).as_deref(), Some("nfs4"));
        // A local disk mounted inside the NFS share is local.
        assert_eq!(file_system_of(MOUNTINFO, Path::new("/mnt/practice/local/registry.cocm")).as_deref(), Some("ext4"));
        // Escaped spaces in mount points; and /srv/teamwork is not under /srv/team share.
        assert_eq!(file_system_of(MOUNTINFO, Path::new("/srv/team share/r.cocm")).as_deref(), Some("cifs"));
        assert_eq!(file_system_of(MOUNTINFO, Path::new("/srv/team sharex/r.cocm")).as_deref(), Some("ext4"));
    }

    #[test]
    fn a_local_temporary_folder_is_accepted() {
        let dir = std::env::temp_dir();
        assert!(refuse_network_file_system(&dir.join("not-made-yet.cocm")).is_ok());
    }
}
