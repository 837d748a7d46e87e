//! The raw aggregates of one run, saved as JSON so a report can be rendered again without
//! querying (`--from-saved`). The file says which wave and window it holds.

use std::io::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};
use wavegap_core::flow::{FlowData, TimeWindow};

use crate::RunnerError;

pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedRun {
    pub version: u32,
    pub wave: String,
    pub window: TimeWindow,
    pub data: FlowData,
}

impl SavedRun {
    pub fn new(wave: &str, window: TimeWindow, data: FlowData) -> Self {
        SavedRun { version: VERSION, wave: wave.to_owned(), window, data }
    }
}

/// Writes atomically: a temporary file in the same directory, then a rename.
pub fn save(path: &Path, run: &SavedRun) -> Result<(), RunnerError> {
    let err = |source| RunnerError::SavedWrite { path: path.to_owned(), source };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(err)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    serde_json::to_writer_pretty(&mut tmp, run).map_err(|e| err(e.into()))?;
    tmp.write_all(b"\n").map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

pub fn load(path: &Path) -> Result<SavedRun, RunnerError> {
    #[derive(Deserialize)]
    struct Header {
        version: u32,
    }
    let text =
        std::fs::read_to_string(path).map_err(|source| RunnerError::SavedRead { path: path.to_owned(), source })?;
    let header: Header =
        serde_json::from_str(&text).map_err(|source| RunnerError::SavedParse { path: path.to_owned(), source })?;
    if header.version != VERSION {
        return Err(RunnerError::SavedVersion { path: path.to_owned(), found: header.version, expected: VERSION });
    }
    serde_json::from_str(&text).map_err(|source| RunnerError::SavedParse { path: path.to_owned(), source })
}

#[cfg(test)]
mod tests {
    use wavegap_core::flow::{CoverageGap, ScanStats};

    use super::*;

    #[test]
    fn saved_runs_round_trip_and_refuse_other_versions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/flows.json");
        let data = FlowData {
            gaps: vec![CoverageGap {
                log_groups: vec!["/g".into()],
                window: TimeWindow { start: 1, end: 2 },
                reason: "Failed".into(),
            }],
            stats: ScanStats { queries: 2, bytes_scanned: 10, ..ScanStats::default() },
            ..FlowData::default()
        };
        let run = SavedRun::new("wave-3", TimeWindow { start: 0, end: 9 }, data);
        save(&path, &run).unwrap();
        assert_eq!(load(&path).unwrap(), run);
        std::fs::write(&path, r#"{"version": 9}"#).unwrap();
        assert!(matches!(load(&path), Err(RunnerError::SavedVersion { found: 9, .. })));
        std::fs::write(&path, "[").unwrap();
        assert!(matches!(load(&path), Err(RunnerError::SavedParse { .. })));
        assert!(matches!(load(&dir.path().join("none.json")), Err(RunnerError::SavedRead { .. })));
    }
}
