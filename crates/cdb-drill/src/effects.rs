//! Manual-step effects: what a human does in a web console, applied to the world by name.
//!
//! A manual step (`manual=true effect=…`) is not run by bash; the engine applies
//! its effect. Effects that write new credentials put them in the files the step's
//! body names (`$SECRETS_PATH/NAME…`), so the body stays the operator's instructions.

use crate::world::{CI_SECRETS, World};
use cdb_model::faults::FaultKind;

/// Every effect id, with what it does (shown by `--list` and in docs/drill-world.md).
pub const EFFECTS: &[(&str, &str)] = &[
    (
        "mexc.create-trade-key",
        "create a trade-only, IP-bound MEXC key; key and secret go to the first `$SECRETS_PATH/…KEY…` and `…SECRET…` files the body names (default MEXC_TRADE_API_KEY.txt.next, MEXC_TRADE_API_SECRET.txt.next)",
    ),
    (
        "mexc.create-read-key",
        "the same for a read-only key (default MEXC_API_KEY.txt.next, MEXC_API_SECRET.txt.next)",
    ),
    (
        "mexc.delete-key",
        "delete the keys whose ids are in the files the body names; with none named, the leaked keys, else every key no live file references",
    ),
    ("mexc.delete-leaked-key", "delete every leaked MEXC key"),
    (
        "mexc.delete-previous-keys",
        "delete every MEXC key that no current MEXC_* file references",
    ),
    (
        "mexc.check-key-permissions",
        "fail unless the keys in the named (or current) files exist, have no withdrawal permission and trade keys are IP-bound",
    ),
    (
        "smtp.create-app-password",
        "create an SMTP app password in the first SMTP_PASSWORD file the body names (default SMTP_PASSWORD.next)",
    ),
    (
        "smtp.revoke-app-password",
        "revoke the app passwords in the files named; with none named, the leaked ones, else those the current SMTP_PASSWORD file does not hold",
    ),
    (
        "github.revoke-token",
        "revoke, at its provider, a leaked credential CI holds (GitHub App key, AI-provider key, Slack webhook)",
    ),
    ("provider.revoke-key", "the same as github.revoke-token"),
    (
        "provider.create-key",
        "create a new credential for the CI secret the body names; written to the first `$SECRETS_PATH/…` file named (default NAME.next)",
    ),
    (
        "trading.pause",
        "engage the kill switch: its state file on the kill_switch_state volume says `state=active` (exchange.rs)",
    ),
    (
        "mexc.cancel-open-orders",
        "in the MEXC console, cancel every open order of the account and review the positions",
    ),
    (
        "comms.*",
        "a message to people (internal channel, exchange support, users): recorded, no change to the world",
    ),
    (
        "escalate.*",
        "a page or call to the next owner: recorded, no change to the world",
    ),
    (
        "record.*",
        "a note in the incident record: recorded, no change to the world",
    ),
];

/// The `$SECRETS_PATH/NAME` files a step body names, in order.
pub fn named_files(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    for pat in ["$SECRETS_PATH/", "${SECRETS_PATH}/"] {
        let mut rest = body;
        while let Some(at) = rest.find(pat) {
            let tail = &rest[at + pat.len()..];
            let name: String = tail
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
                .collect();
            let name = name.trim_end_matches('.').to_owned();
            if !name.is_empty() {
                out.push((body.len() - rest.len() + at, name));
            }
            rest = tail;
        }
    }
    out.sort();
    out.into_iter().map(|(_, n)| n).collect()
}

fn pick(files: &[String], needle: &str, default: &str) -> String {
    files
        .iter()
        .find(|f| f.contains(needle))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

/// Applies an effect. `Ok` carries what happened; `Err` why the human could not do it.
pub fn apply(w: &mut World, effect: &str, body: &str) -> Result<String, String> {
    let files = named_files(body);
    let io = |e: std::io::Error| format!("could not write the secret file: {e}");
    match effect {
        "mexc.create-trade-key" | "mexc.create-read-key" => {
            if w.trip(FaultKind::MexcConsoleRefuses, None) {
                return Err("the MEXC console refused to create an API key (\"API key creation is temporarily unavailable for this account\")".into());
            }
            let trade = effect == "mexc.create-trade-key";
            let (kd, sd) = if trade {
                (
                    "MEXC_TRADE_API_KEY.txt.next",
                    "MEXC_TRADE_API_SECRET.txt.next",
                )
            } else {
                ("MEXC_API_KEY.txt.next", "MEXC_API_SECRET.txt.next")
            };
            let key_file = files
                .iter()
                .find(|f| f.contains("KEY") && !f.contains("SECRET"))
                .cloned()
                .unwrap_or_else(|| kd.into());
            let secret_file = pick(&files, "SECRET", sd);
            let mut k = w.new_mexc_key(if trade {
                crate::world::KeyKind::Trade
            } else {
                crate::world::KeyKind::Read
            });
            // Faults of the catalogue: a trade key without its permission or its IP binding.
            let no_perm = trade && w.trip(FaultKind::MexcKeyMissingPermission, None);
            let no_ip = trade && w.trip(FaultKind::MexcKeyNotIpBound, None);
            if let Some(live) = w.mexc.keys.iter_mut().find(|x| x.key == k.key) {
                if no_perm {
                    live.kind = crate::world::KeyKind::Read;
                }
                if no_ip {
                    live.ip_bound = false;
                }
                k = live.clone();
            }
            w.write_secret_file(&key_file, &k.key).map_err(io)?;
            w.write_secret_file(&secret_file, &k.secret).map_err(io)?;
            Ok(format!(
                "new {} key saved to {key_file} and {secret_file}",
                k.kind
            ))
        }
        "mexc.delete-key" | "mexc.delete-leaked-key" | "mexc.delete-previous-keys" => {
            let live_key = |k: &crate::world::MexcKey| !k.revoked;
            let mut ids: Vec<String> = Vec::new();
            if effect == "mexc.delete-key" {
                for f in &files {
                    if let Some(v) = w.read_secret_file(f)
                        && w.mexc.keys.iter().any(|k| k.key == v && live_key(k))
                    {
                        ids.push(v);
                    }
                }
            }
            if ids.is_empty() && effect != "mexc.delete-previous-keys" {
                ids = w
                    .mexc
                    .keys
                    .iter()
                    .filter(|k| {
                        live_key(k) && (w.leaked.contains(&k.key) || w.leaked.contains(&k.secret))
                    })
                    .map(|k| k.key.clone())
                    .collect();
            }
            if ids.is_empty() && effect != "mexc.delete-leaked-key" {
                // "Delete the old keys" / "the pair that failed": every key no live file holds.
                let live: Vec<String> = ["MEXC_API_KEY", "MEXC_TRADE_API_KEY"]
                    .iter()
                    .filter_map(|f| w.read_secret_file(f))
                    .collect();
                ids = w
                    .mexc
                    .keys
                    .iter()
                    .filter(|k| live_key(k) && !live.contains(&k.key))
                    .map(|k| k.key.clone())
                    .collect();
            }
            if ids.is_empty() {
                return Ok("no key left to delete (already deleted)".into());
            }
            for id in &ids {
                // Trading is paused by the kill switch, not by a stopped container.
                let held_by_execution = !crate::exchange::switch_active(w)
                    && w.containers
                        .get("cdb_execution")
                        .is_some_and(|c| c.running && c.read.get("MEXC_TRADE_API_KEY") == Some(id));
                let is_trade = w
                    .mexc
                    .keys
                    .iter()
                    .any(|k| &k.key == id && k.kind == crate::world::KeyKind::Trade);
                if is_trade && held_by_execution {
                    w.violation(
                        crate::world::ViolationKind::TradeKeyDeletedWhileTrading,
                        "a trade key was deleted while cdb_execution was trading on it (kill switch released): engage the kill switch first".into(),
                    );
                }
                for k in w.mexc.keys.iter_mut().filter(|k| &k.key == id) {
                    k.revoked = true;
                }
            }
            Ok(format!("{} MEXC key(s) deleted", ids.len()))
        }
        "mexc.check-key-permissions" => {
            // What the console shows: every live key of the account, and the keys the body's files name.
            for k in w.mexc.keys.iter().filter(|k| !k.revoked) {
                if k.withdraw {
                    return Err(format!("a live {} key has withdrawal permission", k.kind));
                }
                if k.kind == crate::world::KeyKind::Trade && !k.ip_bound {
                    return Err("a live trade key is not bound to the host's IP".into());
                }
            }
            for f in files
                .iter()
                .filter(|f| f.contains("KEY") && !f.contains("SECRET"))
            {
                let Some(id) = w.read_secret_file(f) else {
                    return Err(format!("{f} does not exist"));
                };
                match w.mexc.keys.iter().find(|k| k.key == id) {
                    None => return Err(format!("the key in {f} is unknown to the exchange")),
                    Some(k) if k.revoked => return Err(format!("the key in {f} is deleted")),
                    Some(_) => {}
                }
            }
            let n = w.mexc.keys.iter().filter(|k| !k.revoked).count();
            Ok(format!("{n} live key(s): permissions as required"))
        }
        "smtp.create-app-password" => {
            let f = pick(&files, "SMTP_PASSWORD", "SMTP_PASSWORD.next");
            let v = w.fresh_secret("SMTP app password", 16);
            // Fault `smtp-app-password-invalid`: saved with a typo, the provider rejects it.
            if !w.trip(FaultKind::SmtpAppPasswordInvalid, None) {
                w.smtp.app_passwords.insert(v.clone());
            }
            w.write_secret_file(&f, &v).map_err(io)?;
            Ok(format!("new app password saved to {f}"))
        }
        "smtp.revoke-app-password" => {
            let mut vals: Vec<String> = files
                .iter()
                .filter_map(|f| w.read_secret_file(f))
                .filter(|v| w.smtp.app_passwords.contains(v))
                .collect();
            if vals.is_empty() {
                vals = w
                    .smtp
                    .app_passwords
                    .iter()
                    .filter(|v| w.leaked.contains(*v))
                    .cloned()
                    .collect();
            }
            if vals.is_empty() {
                let cur = w.read_secret_file("SMTP_PASSWORD").unwrap_or_default();
                vals = w
                    .smtp
                    .app_passwords
                    .iter()
                    .filter(|v| **v != cur)
                    .cloned()
                    .collect();
            }
            if vals.is_empty() {
                return Err("no app password to revoke".into());
            }
            for v in &vals {
                w.smtp.app_passwords.remove(v);
            }
            Ok(format!("{} app password(s) revoked", vals.len()))
        }
        "github.rotate-app-key" | "provider.create-key" | "slack.rotate-webhook" => {
            let default = match effect {
                "github.rotate-app-key" => Some("GH_APP_PRIVATE_KEY"),
                "slack.rotate-webhook" => Some("SLACK_WEBHOOK_URL"),
                _ => None,
            };
            // The credential named in the body; else (a rollback "for each credential that
            // failed") every CI-only credential whose value in CI its provider rejects.
            let mut names: Vec<String> = CI_SECRETS
                .iter()
                .filter(|n| w.github.external_valid.contains_key(**n) && body.contains(**n))
                .map(|n| (*n).to_owned())
                .collect();
            if names.is_empty() {
                names = w
                    .github
                    .external_valid
                    .iter()
                    .filter(|(n, valid)| {
                        !w.github.secrets.get(*n).is_some_and(|v| valid.contains(v))
                    })
                    .map(|(n, _)| n.clone())
                    .collect();
            }
            if names.is_empty()
                && let Some(d) = default
            {
                names.push(d.to_owned());
            }
            if names.is_empty() {
                return Ok("no CI credential needs a replacement".into());
            }
            for name in &names {
                let f = files
                    .iter()
                    .find(|f| f.starts_with(name.as_str()))
                    .cloned()
                    .unwrap_or_else(|| format!("{name}.next"));
                let v = w.fresh_secret(&format!("{name} (new)"), 20);
                w.github
                    .external_valid
                    .entry(name.clone())
                    .or_default()
                    .insert(v.clone());
                w.github.external_latest.insert(name.clone(), v.clone());
                // Fault `ci-credential-invalid`: the key is saved with a typo (a copy cut short);
                // its issuer knows only the real one.
                let saved = if effect == "provider.create-key"
                    && w.trip(FaultKind::CiCredentialInvalid, None)
                {
                    w.fresh_secret(&format!("{name} (mistyped)"), 19)
                } else {
                    v
                };
                w.write_secret_file(&f, &saved).map_err(io)?;
            }
            Ok(format!("new {} saved", names.join(", ")))
        }
        "github.revoke-token"
        | "github.delete-app-key"
        | "provider.revoke-key"
        | "slack.revoke-webhook" => {
            let only = match effect {
                "github.delete-app-key" => Some("GH_APP_PRIVATE_KEY"),
                "slack.revoke-webhook" => Some("SLACK_WEBHOOK_URL"),
                "provider.revoke-key" => Some("AI_PROVIDER_API_KEY"),
                _ => None,
            };
            let leaked = w.leaked.clone();
            let latest = w.github.external_latest.clone();
            let mut n = 0;
            for (name, valid) in w.github.external_valid.iter_mut() {
                if only.is_some_and(|o| o != name) {
                    continue;
                }
                let before = valid.len();
                // Containment revokes the leaked value; revoke keeps only the newest one.
                valid.retain(|v| !leaked.contains(v) && latest.get(name).is_none_or(|l| l == v));
                n += before - valid.len();
            }
            Ok(format!("{n} credential(s) revoked at the issuer"))
        }
        "grafana.create-sa-token" => {
            if w.read_secret_file("GRAFANA_SA_TOKEN").is_none() {
                return Ok("no GRAFANA_SA_TOKEN in use: skipped".into());
            }
            let id = w.grafana.next_token;
            w.grafana.next_token += 1;
            let t = format!("glsa_{}", w.rand_hex(16));
            w.values.insert(t.clone(), "GRAFANA_SA_TOKEN (new)".into());
            w.grafana.tokens.insert(t.clone(), (2, id));
            let f = pick(&files, "GRAFANA_SA_TOKEN.next", "GRAFANA_SA_TOKEN.next");
            w.write_secret_file(&f, &t).map_err(io)?;
            Ok(format!("new service-account token saved to {f}"))
        }
        "grafana.revoke-sa-token" => {
            let newest = w
                .grafana
                .tokens
                .values()
                .map(|(_, id)| *id)
                .max()
                .unwrap_or(0);
            let before = w.grafana.tokens.len();
            w.grafana.tokens.retain(|_, (_, id)| *id == newest);
            Ok(format!(
                "{} old token(s) deleted",
                before - w.grafana.tokens.len()
            ))
        }
        "trading.pause" => {
            crate::exchange::set_switch(w, true, "manual", "incident containment");
            Ok("kill switch engaged (state=active)".into())
        }
        "mexc.cancel-open-orders" => {
            let n = w.exchange.open_orders.len();
            w.exchange.open_orders.clear();
            Ok(format!("{n} open order(s) cancelled; positions reviewed"))
        }
        e if e.starts_with("comms.") || e.starts_with("escalate.") || e.starts_with("record.") => {
            Ok("done (people only; no change to the stack)".into())
        }
        other => Err(format!(
            "unknown effect `{other}` (the effects are listed in crates/cdb-drill/src/effects.rs)"
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_named_files_in_order() {
        let b = "save key to $SECRETS_PATH/MEXC_TRADE_API_KEY.next and ${SECRETS_PATH}/MEXC_TRADE_API_SECRET.next.";
        assert_eq!(
            super::named_files(b),
            vec!["MEXC_TRADE_API_KEY.next", "MEXC_TRADE_API_SECRET.next"]
        );
    }
}
