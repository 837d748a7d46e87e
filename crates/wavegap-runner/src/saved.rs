//! The raw aggregates of one run, saved as JSON so a report can be rendered again without
//! querying (`--from-saved`). The file says which wave and window it holds.

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

    /// The file's text (pretty JSON and a final line break), for the one atomic writer.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_else(|_| String::from("{}"));
        text.push('\n');
        text
    }
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
                unreachable: false,
            }],
            stats: ScanStats { queries: 2, bytes_scanned: 10, ..ScanStats::default() },
            ..FlowData::default()
        };
        let run = SavedRun::new("wave-3", TimeWindow { start: 0, end: 9 }, data);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, run.to_json()).unwrap();
        assert_eq!(load(&path).unwrap(), run);
        std::fs::write(&path, r#"{"version": 9}"#).unwrap();
        assert!(matches!(load(&path), Err(RunnerError::SavedVersion { found: 9, .. })));
        std::fs::write(&path, "[").unwrap();
        assert!(matches!(load(&path), Err(RunnerError::SavedParse { .. })));
        assert!(matches!(load(&dir.path().join("none.json")), Err(RunnerError::SavedRead { .. })));
    }
}
