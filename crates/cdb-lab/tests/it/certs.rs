//! certs.rs: the drill world's TLS registry made real. The real `openssl` must reach, on the
//! made files, what the mock's `openssl` answers from the registry: the chain verifies, each
//! key matches its certificate, and a certificate from another CA does not verify.

use cdb_lab::certs::Materialiser;
use std::process::Command;

fn openssl(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_worlds_tls_set_becomes_real_keys_and_certificates_with_the_same_chain() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("skipped: openssl is not installed");
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let secrets = root.path().join("secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    let w =
        cdb_drill::world::World::new_with(1, root.path(), &secrets, &["tls.yml".into()]).unwrap();
    let tls = w.tls_dir();
    // The mock's files are records, not certificates: the real openssl cannot read them.
    assert!(!openssl(&tls, &["x509", "-in", "redis.crt", "-noout"]).0);
    let mut m = Materialiser::new(
        &w,
        std::path::Path::new("/usr/bin/openssl"),
        &root.path().join("work"),
    )
    .unwrap();
    assert!(m.rewrite_dir(&tls).unwrap() >= 7);
    let (ok, out) = openssl(
        &tls,
        &[
            "verify",
            "-CAfile",
            "ca.crt",
            "redis.crt",
            "postgres.crt",
            "client.crt",
        ],
    );
    assert!(ok, "{out}");
    for p in ["redis", "postgres", "client"] {
        let cert = openssl(
            &tls,
            &["x509", "-in", &format!("{p}.crt"), "-noout", "-pubkey"],
        )
        .1;
        let key = openssl(&tls, &["pkey", "-in", &format!("{p}.key"), "-pubout"]).1;
        assert_eq!(cert, key, "{p}: key and certificate differ");
    }
    let subject = openssl(&tls, &["x509", "-in", "redis.crt", "-noout", "-subject"]).1;
    assert_eq!(subject.trim(), "subject=CN = cdb_redis");
    // A certificate signed by another CA does not verify against this one.
    let other = tempfile::tempdir().unwrap();
    std::fs::copy(tls.join("redis.crt"), other.path().join("redis.crt")).unwrap();
    let (ok, _) = openssl(
        other.path(),
        &["verify", "-CAfile", "redis.crt", "redis.crt"],
    );
    assert!(!ok, "a server certificate is not its own CA");
}
