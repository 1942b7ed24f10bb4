//! Manual-step effects: what a human does in a web console, applied to the world by name.
//!
//! A manual step (`manual=true effect=…`) is not run by bash; the engine applies
//! its effect. Effects that write new credentials put them in the files the step's
//! body names (`$SECRETS_PATH/NAME…`), so the body stays the operator's instructions.

use crate::world::{CI_SECRETS, World};

/// Every effect id, with what it does (shown by `--list` and in docs/drill-world.md).
pub const EFFECTS: &[(&str, &str)] = &[
    (
        "mexc.create-trade-key",
        "create a trade-only, IP-bound MEXC key; key and secret go to the first `$SECRETS_PATH/…KEY…` and `…SECRET…` files the body names (default MEXC_TRADE_API_KEY.next, MEXC_TRADE_API_SECRET.next)",
    ),
    (
        "mexc.create-read-key",
        "the same for a read-only key (default MEXC_API_KEY.next, MEXC_API_SECRET.next)",
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
        "engage the kill switch: cdb_execution stops",
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
            if w.trip("mexc-console-refuses", None) {
                return Err("the MEXC console refused to create an API key (\"API key creation is temporarily unavailable for this account\")".into());
            }
            let trade = effect == "mexc.create-trade-key";
            let (kd, sd) = if trade {
                ("MEXC_TRADE_API_KEY.next", "MEXC_TRADE_API_SECRET.next")
            } else {
                ("MEXC_API_KEY.next", "MEXC_API_SECRET.next")
            };
            let key_file = files
                .iter()
                .find(|f| f.contains("KEY") && !f.contains("SECRET"))
                .cloned()
                .unwrap_or_else(|| kd.into());
            let secret_file = pick(&files, "SECRET", sd);
            let k = w.new_mexc_key(if trade { "trade" } else { "read" });
            w.write_secret_file(&key_file, &k.key).map_err(io)?;
            w.write_secret_file(&secret_file, &k.secret).map_err(io)?;
            Ok(format!(
                "new {} key saved to {key_file} and {secret_file}",
                k.kind
            ))
        }
        "mexc.delete-key" | "mexc.delete-leaked-key" | "mexc.delete-previous-keys" => {
            let mut ids: Vec<String> = Vec::new();
            if effect == "mexc.delete-key" {
                for f in &files {
                    if let Some(v) = w.read_secret_file(f)
                        && w.mexc.keys.iter().any(|k| k.key == v)
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
                    .filter(|k| w.leaked.contains(&k.key) || w.leaked.contains(&k.secret))
                    .map(|k| k.key.clone())
                    .collect();
            }
            if ids.is_empty() && effect != "mexc.delete-leaked-key" {
                let live: Vec<String> = ["MEXC_API_KEY", "MEXC_TRADE_API_KEY"]
                    .iter()
                    .filter_map(|f| w.read_secret_file(f))
                    .collect();
                ids = w
                    .mexc
                    .keys
                    .iter()
                    .filter(|k| !k.revoked && !live.contains(&k.key))
                    .map(|k| k.key.clone())
                    .collect();
            }
            let mut n = 0;
            for id in &ids {
                let held_by_execution = w
                    .containers
                    .get("cdb_execution")
                    .is_some_and(|c| c.running && c.read.get("MEXC_TRADE_API_KEY") == Some(id));
                let is_trade = w
                    .mexc
                    .keys
                    .iter()
                    .any(|k| &k.key == id && k.kind == "trade" && !k.revoked);
                if is_trade && held_by_execution {
                    w.violation(
                        "trade-key-deleted-while-trading",
                        "a trade key was deleted while cdb_execution was running on it: pause trading first".into(),
                    );
                }
                for k in w
                    .mexc
                    .keys
                    .iter_mut()
                    .filter(|k| &k.key == id && !k.revoked)
                {
                    k.revoked = true;
                    n += 1;
                }
            }
            if n == 0 {
                return Err("no matching MEXC key to delete".into());
            }
            Ok(format!("{n} MEXC key(s) deleted"))
        }
        "mexc.check-key-permissions" => {
            let names: Vec<String> = if files.is_empty() {
                vec!["MEXC_API_KEY".into(), "MEXC_TRADE_API_KEY".into()]
            } else {
                files
                    .iter()
                    .filter(|f| f.contains("KEY") && !f.contains("SECRET"))
                    .cloned()
                    .collect()
            };
            for f in &names {
                let Some(id) = w.read_secret_file(f) else {
                    return Err(format!("{f} does not exist"));
                };
                let Some(k) = w.mexc.keys.iter().find(|k| k.key == id) else {
                    return Err(format!("the key in {f} is unknown to the exchange"));
                };
                if k.revoked {
                    return Err(format!("the key in {f} is deleted"));
                }
                if k.withdraw {
                    return Err(format!("the key in {f} has withdrawal permission"));
                }
                if k.kind == "trade" && !k.ip_bound {
                    return Err(format!(
                        "the trade key in {f} is not bound to the host's IP"
                    ));
                }
            }
            Ok(format!(
                "{} key(s) checked: permissions as required",
                names.len()
            ))
        }
        "smtp.create-app-password" => {
            let f = pick(&files, "SMTP_PASSWORD", "SMTP_PASSWORD.next");
            let v = w.fresh_secret("SMTP app password", 16);
            w.smtp.app_passwords.insert(v.clone());
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
        "github.revoke-token" | "provider.revoke-key" => {
            let named: Vec<String> = files.iter().filter_map(|f| w.read_secret_file(f)).collect();
            let mut n = 0;
            let leaked = w.leaked.clone();
            for valid in w.github.external_valid.values_mut() {
                let before = valid.len();
                valid.retain(|v| !leaked.contains(v) && !named.contains(v));
                n += before - valid.len();
            }
            if n == 0 {
                return Err("no leaked provider credential to revoke".into());
            }
            Ok(format!("{n} provider credential(s) revoked"))
        }
        "provider.create-key" => {
            let name = CI_SECRETS
                .iter()
                .filter(|n| w.github.external_valid.contains_key(**n))
                .find(|n| body.contains(**n))
                .map(|n| (*n).to_owned())
                .or_else(|| {
                    w.github
                        .external_valid
                        .keys()
                        .find(|n| {
                            w.github
                                .secrets
                                .get(*n)
                                .is_some_and(|v| w.leaked.contains(v))
                        })
                        .cloned()
                })
                .ok_or_else(|| {
                    "the body names no CI credential held at an outside provider".to_owned()
                })?;
            let f = files
                .first()
                .cloned()
                .unwrap_or_else(|| format!("{name}.next"));
            let v = w.fresh_secret(&format!("{name} (new)"), 20);
            w.github
                .external_valid
                .entry(name.clone())
                .or_default()
                .insert(v.clone());
            w.write_secret_file(&f, &v).map_err(io)?;
            Ok(format!("new {name} saved to {f}"))
        }
        "trading.pause" => {
            w.stop("cdb_execution");
            Ok("kill switch engaged: cdb_execution stopped".into())
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
