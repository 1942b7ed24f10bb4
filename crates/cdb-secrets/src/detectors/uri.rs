//! Connection URIs (postgres, redis, amqp, mysql, mongodb, smtp) with a literal password inside.

use super::{cat, fake_alnum};
use crate::detector::{Candidate, Detector, DetectorKind, Examples, Span};
use crate::text::is_placeholder;

pub(crate) const PASSWORD: Detector = Detector {
    id: "secret-uri-password",
    summary: "A connection URI whose user-info holds a literal password; the value is the password.",
    kind: DetectorKind::Provider,
    keywords: &["postgres", "redis", "amqp", "mysql", "mongodb", "smtp"],
    pattern: r"(?i)(?:postgres(?:ql)?|rediss?|amqps?|mysql|mongodb(?:\+srv)?|smtps?)://(?P<k>[^:@/\s]*):(?P<v>[^@/\s$<%*{][^@/\s]*)@",
    span: Span::Line,
    validate,
    examples,
    assignment: false,
};

fn validate(c: &Candidate<'_>) -> bool {
    // `postgres:postgres@` and `guest:guest@` are well-known local defaults, not leaks.
    decoded_len(c.value) >= 6 && !is_placeholder(c.value) && c.key != Some(c.value)
}

/// The length in chars of the password once percent-decoded: `p%40ss` is the 4-char `p@ss`.
fn decoded_len(value: &str) -> usize {
    let escapes = value
        .as_bytes()
        .windows(3)
        .filter(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
        .count();
    value.chars().count().saturating_sub(2 * escapes)
}

fn examples() -> Examples {
    let pw = fake_alnum(16, 130);
    Examples {
        positives: vec![
            cat(&[
                "DATABASE_URL=postgresql://claire_user:",
                &pw,
                "@db.internal:5432/cdb",
            ]),
            cat(&["url: postgres://app:", &pw, "@pg:5432/app"]),
            cat(&["REDIS_URL=redis://:", &pw, "@cdb_redis:6379/0"]),
            cat(&["rediss://default:", &pw, "@cache:6380"]),
            cat(&["amqps://svc:", &pw, "@mq:5671/vhost"]),
            cat(&["mysql://root:", &pw, "@mysql:3306/db"]),
            cat(&["mongodb+srv://app:", &pw, "@cluster0.mongo.internal/db"]),
            cat(&["smtps://alerts:", &pw, "@mail.internal:465"]),
        ],
        negatives: vec![
            "DATABASE_URL=postgresql://claire_user:${PW}@cdb_postgres:5432/claire".into(),
            "postgresql://user:<password>@host/db".into(),
            "redis://:%s@cdb_redis:6379".into(),
            "redis://:****@cdb_redis:6379".into(),
            "postgres://postgres:postgres@localhost/postgres".into(),
            "redis://cdb_redis:6379/0".into(),
            "postgresql://u:p%40ss@h:5432/db".into(),
            "amqp://guest:guest@localhost:5672/".into(),
            "postgresql://claire_user@cdb_postgres/claire".into(),
            "mongodb://app:$(cat \"$SECRETS_PATH/MONGO_PASSWORD\")@mongo/db".into(),
        ],
    }
}
