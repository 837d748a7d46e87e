//! Finding flow-log files in a directory tree and reading what their names say.

use std::path::{Path, PathBuf};

/// What kind of file, from its name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum FileKind {
    /// A flow-log object as delivered to S3 (`.log` or `.log.gz`, header line first).
    S3(Option<S3Name>),
    /// A flow-log object in the S3 delivery's Parquet format (`.parquet`, one column per field).
    Parquet(Option<S3Name>),
    /// CloudWatch Logs events exported as JSON lines (`.jsonl`, `.ndjson`, optionally `.gz`).
    CloudWatchExport,
}

/// The parts of `<account>_vpcflowlogs_<region>_<flow-log-id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct S3Name {
    pub account: String,
    pub region: String,
    pub flow_log_id: String,
    /// The object's time, Unix seconds.
    pub time: i64,
}

impl FileKind {
    /// What the name of an AWS-delivered object says.
    pub(crate) fn s3_name(&self) -> Option<&S3Name> {
        match self {
            FileKind::S3(name) | FileKind::Parquet(name) => name.as_ref(),
            FileKind::CloudWatchExport => None,
        }
    }
}

pub(crate) fn kind_of(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".parquet") {
        return Some(FileKind::Parquet(parse_s3_name(name)));
    }
    let base = Path::new(lower.strip_suffix(".gz").unwrap_or(&lower));
    match base.extension()?.to_str()? {
        "log" => Some(FileKind::S3(parse_s3_name(name))),
        "jsonl" | "ndjson" => Some(FileKind::CloudWatchExport),
        _ => None,
    }
}

pub(crate) fn parse_s3_name(name: &str) -> Option<S3Name> {
    let parts: Vec<&str> = name.split('_').collect();
    if parts.len() < 6 || parts[1] != "vpcflowlogs" {
        return None;
    }
    Some(S3Name {
        account: parts[0].to_owned(),
        region: parts[2].to_owned(),
        flow_log_id: parts[3].to_owned(),
        time: parse_compact_time(parts[4])?,
    })
}

/// `20240506T0010Z` to Unix seconds.
#[allow(clippy::many_single_char_names)]
fn parse_compact_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 14 || b[8] != b'T' || b[13] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d, hh, mm) = (num(0..4)?, num(4..6)?, num(6..8)?, num(9..11)?, num(11..13)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60)
}

/// Howard Hinnant's civil-to-days algorithm.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Every flow-log file under `root` (or `root` itself), sorted by path for stable reports.
pub(crate) fn find_files(root: &Path) -> std::io::Result<Vec<(PathBuf, FileKind)>> {
    let mut out = Vec::new();
    if root.is_file() {
        // A file named explicitly is read even when its name says nothing.
        let kind = kind_of(root).unwrap_or(FileKind::S3(None));
        out.push((root.to_path_buf(), kind));
        return Ok(out);
    }
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            let ft = entry.file_type()?;
            if ft.is_dir() {
                stack.push(path);
            } else if let Some(kind) = kind_of(&path) {
                out.push((path, kind));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_object_names() {
        let n = parse_s3_name("123456789012_vpcflowlogs_us-east-1_fl-2d52a0cd7edcc9830_20240506T0010Z_56b5cd88.log.gz")
            .unwrap();
        assert_eq!(n.account, "123456789012");
        assert_eq!(n.region, "us-east-1");
        assert_eq!(n.flow_log_id, "fl-2d52a0cd7edcc9830");
        assert_eq!(n.time, 1_714_954_200);
        assert_eq!(parse_s3_name("notes.log"), None);
        assert_eq!(parse_s3_name("1_vpcflowlogs_r_fl-1_2024050T0010Z_x.log"), None);
    }

    #[test]
    fn kinds_from_names() {
        assert!(matches!(kind_of(Path::new("a/b.log")), Some(FileKind::S3(None))));
        assert!(matches!(kind_of(Path::new("a/x.jsonl.gz")), Some(FileKind::CloudWatchExport)));
        let parquet = "123456789012_vpcflowlogs_us-east-1_fl-2d52a0cd7edcc9830_20240506T0010Z_56b5cd88.log.parquet";
        assert_eq!(kind_of(Path::new(parquet)).unwrap().s3_name().unwrap().time, 1_714_954_200);
        assert!(matches!(kind_of(Path::new("out/flows.PARQUET")), Some(FileKind::Parquet(None))));
        assert_eq!(kind_of(Path::new("a/truth.json")), None);
        assert_eq!(kind_of(Path::new("a/wave.toml")), None);
    }
}
