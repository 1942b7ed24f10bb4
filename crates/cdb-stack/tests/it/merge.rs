//! `-f` merging follows the Compose specification's merge rules for the keys the model reads.

use cdb_stack::{ComposeFile, HealthProof, MountKind, classify, merge, parse_file};

fn file(path: &str, text: &str) -> ComposeFile {
    parse_file(path, text).unwrap_or_else(|e| panic!("{e}"))
}

const BASE: &str = "name: p
services:
  a:
    image: img:1
    environment:
      KEEP: '1'
      OVERRIDE: old
    secrets:
      - s1
    command: [\"sh\", \"-c\", \"run $(cat /run/secrets/s1)\"]
    healthcheck:
      test: [\"CMD-SHELL\", \"kill -0 1\"]
      interval: 10s
    ports:
      - \"127.0.0.1:80:80\"
    volumes:
      - data:/data
      - ./conf:/conf:ro
    networks: [n1]
secrets:
  s1:
    file: ./one
  s2:
    file: ./two
volumes:
  data:
  other:
networks:
  n1:
    external: true
  n2:
";

const OVER: &str = "services:
  a:
    image: img:2
    environment:
      OVERRIDE: new
      ADDED: x
    secrets:
      - s2
      - source: s1
        target: s1
    command: [\"run\"]
    healthcheck:
      test: [\"CMD-SHELL\", \"nc -z localhost 80\"]
    ports:
      - \"127.0.0.1:80:80\"
      - \"127.0.0.1:81:81\"
    volumes:
      - other:/data
      - ./tls:/tls:ro
    networks: [n1, n2]
";

#[test]
fn overlay_follows_composes_merge_rules() {
    let base = file("base.yml", BASE);
    let over = file("over.yml", OVER);
    let p = merge(&[&base, &over]).expect("merges");
    assert_eq!(p.name.as_deref(), Some("p"));
    assert_eq!(p.files, ["base.yml", "over.yml"]);
    let a = p.service("a").expect("a");
    // Scalars: the later file wins.
    assert_eq!(a.image.as_ref().map(|i| i.value.as_str()), Some("img:2"));
    // Environment: merged by name.
    assert_eq!(a.env("KEEP"), Some("1"));
    assert_eq!(a.env("OVERRIDE"), Some("new"));
    assert_eq!(a.env("ADDED"), Some("x"));
    // Secrets: unique by target; the long form with the same target replaces in place.
    let secrets: Vec<(&str, &str)> = a
        .secrets
        .iter()
        .map(|s| (s.source.value.as_str(), s.mount_path.as_str()))
        .collect();
    assert_eq!(
        secrets,
        [("s1", "/run/secrets/s1"), ("s2", "/run/secrets/s2")]
    );
    assert_eq!(a.secrets[0].source.at.file, "over.yml");
    // Command and health check test: replaced, not appended.
    assert_eq!(a.command.as_ref().expect("cmd").value.words(), ["run"]);
    assert_eq!(classify(a).value, HealthProof::Port);
    // Ports: unique by (ip, target, published, protocol).
    assert_eq!(a.ports.len(), 2);
    // Volumes: unique by target; `other` replaces `data` at /data.
    let vols: Vec<(&MountKind, &str)> = a
        .volumes
        .iter()
        .map(|m| (&m.value.kind, m.value.target.as_str()))
        .collect();
    assert_eq!(
        vols,
        [
            (&MountKind::Volume("other".into()), "/data"),
            (&MountKind::Bind("./conf".into()), "/conf"),
            (&MountKind::Bind("./tls".into()), "/tls"),
        ]
    );
    // Networks: a set.
    let nets: Vec<&str> = a.networks.iter().map(|n| n.value.as_str()).collect();
    assert_eq!(nets, ["n1", "n2"]);
    // The overlay's command no longer reads s1.
    let reads = cdb_stack::secret_reads(&p, a);
    assert!(reads.iter().all(|r| r.when == cdb_stack::ReadWhen::Unsaid));
}

#[test]
fn order_matters() {
    let base = file("base.yml", BASE);
    let over = file("over.yml", OVER);
    let p = merge(&[&over, &base]).expect("merges");
    let a = p.service("a").expect("a");
    assert_eq!(a.image.as_ref().map(|i| i.value.as_str()), Some("img:1"));
    assert_eq!(a.env("OVERRIDE"), Some("old"));
    assert_eq!(classify(a).value, HealthProof::Process);
}

#[test]
fn a_merged_project_must_declare_what_it_mounts() {
    let over = file("over.yml", OVER);
    let e = merge(&[&over]).expect_err("s2 is declared nowhere");
    assert_eq!(e.at.file, "over.yml");
    assert!(e.message.contains("secret `s2`"), "{e}");
}
