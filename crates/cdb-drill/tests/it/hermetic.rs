//! Hermeticity: decoy docker/psql/redis-cli/curl/gh/openssl on the caller's PATH are never run,
//! and the caller's HOME is never touched.

use assert_cmd::Command;

#[test]
fn decoys_on_the_callers_path_are_never_run() {
    let d = crate::fixture();
    let decoys = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let record = decoys.path().join("record");
    std::fs::write(&record, "").unwrap();
    for tool in [
        "docker",
        "psql",
        "redis-cli",
        "curl",
        "gh",
        "openssl",
        "grafana-cli",
        "grafana",
    ] {
        let p = decoys.path().join(tool);
        std::fs::write(
            &p,
            format!("#!/bin/sh\necho \"{tool} $*\" >> '{}'\n", record.display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        decoys.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(crate::mock_exe())
        .args(["drill", "--all", "--root", d.path().to_str().unwrap()])
        .env("PATH", path)
        .env("HOME", home.path())
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(std::fs::read_to_string(&record).unwrap(), "", "a decoy ran");
    assert_eq!(
        std::fs::read_dir(home.path()).unwrap().count(),
        0,
        "the caller's HOME was touched"
    );
}

#[test]
fn the_mock_refuses_to_run_outside_a_sandbox() {
    let out = Command::new(crate::mock_exe())
        .args(["__cdb-mock", "docker", "ps"])
        .env_remove("CDB_DRILL_STATE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127));
}
