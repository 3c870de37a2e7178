//! The decision clock: the time written into each decision record.

/// `2026-12-02T08:00:00.123456Z` (fields written directly: this is on the
/// hot path, and a format string is parsed on every call).
pub(super) fn now() -> String {
    use chrono::{Datelike as _, Timelike as _};
    let t = chrono::Utc::now();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.timestamp_subsec_micros().min(999_999)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_clock_reads_like_rfc3339_with_microseconds() {
        let t = super::now();
        assert_eq!(t.len(), 27, "{t}");
        let parsed = chrono::DateTime::parse_from_rfc3339(&t);
        let off =
            parsed.map(|d| (chrono::Utc::now() - d.with_timezone(&chrono::Utc)).num_seconds());
        assert!(matches!(off, Ok(0..=5)), "{t}: {off:?}");
    }
}
