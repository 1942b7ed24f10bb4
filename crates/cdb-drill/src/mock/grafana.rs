//! Mock `grafana cli` / `grafana-cli` inside `cdb_grafana`: `admin reset-admin-password`.
//!
//! `GRAFANA_PASSWORD` only applies on Grafana's first start, so the CLI (or the API) is how the
//! admin password changes. The fault `grafana-reset-ignored` models the real trap of a CLI run
//! against another home path: it reports success and changes nothing.

use super::{Ctx, Loc};
use crate::world::World;
use cdb_model::faults::FaultKind;

pub fn run(w: &mut World, args: &[String], ctx: &mut Ctx) -> i32 {
    if ctx.loc != Loc::Container("cdb_grafana".into()) {
        ctx.errln(
            "grafana cli: no Grafana installation here: run it inside cdb_grafana (docker exec)",
        );
        return 127;
    }
    let words: Vec<&String> = args
        .iter()
        .filter(|a| !a.starts_with("--homepath") && !a.starts_with("--config"))
        .collect();
    let pos: Vec<&str> = words
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(|a| a.as_str())
        .collect();
    if pos.first() != Some(&"admin") || pos.get(1) != Some(&"reset-admin-password") {
        ctx.errln("grafana cli: only `admin reset-admin-password` is modelled by the drill world");
        return 1;
    }
    let password = if args.iter().any(|a| a == "--password-from-stdin") {
        ctx.stdin.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        match pos.get(2) {
            Some(p) => (*p).to_owned(),
            None => {
                ctx.errln("Error: ✗ missing arguments: new password");
                return 1;
            }
        }
    };
    if password.is_empty() {
        ctx.errln("Error: ✗ new password is too short");
        return 1;
    }
    w.remember("GRAFANA_PASSWORD (set by grafana cli)", &password);
    if !w.trip(FaultKind::GrafanaResetIgnored, None) {
        w.grafana.admin_password = password;
    }
    ctx.outln("");
    ctx.outln("Admin password changed successfully ✔");
    0
}
