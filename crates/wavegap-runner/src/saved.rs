//! The raw aggregates of one run, saved so a report can be rendered again without querying
//! (`--from-saved`). The file says which wave and window it holds. A report saves them as
//! `flows.json.gz`, compact JSON compressed: the aggregates grow with the traffic, and their
//! repeated keys and addresses compress about twentyfold. [`load`] reads either form.

use std::io::{BufWriter, Read as _, Write};
use std::path::Path;

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use wavegap_core::flow::{FlowData, TimeWindow};

use crate::RunnerError;

pub const VERSION: u32 = 1;

/// The name a report saves its flows under.
pub const FILE: &str = "flows.json.gz";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedRun {
    pub version: u32,
    pub wave: String,
    pub window: TimeWindow,
    pub data: FlowData,
}

/// A run's flows as the file holds them, borrowed (saving copies nothing).
#[derive(Serialize)]
struct SavedView<'a> {
    version: u32,
    wave: &'a str,
    window: TimeWindow,
    data: &'a FlowData,
}

/// The bytes of the saved-flows file `name` for a run (see [`write`]).
pub fn encode(name: &str, wave: &str, window: TimeWindow, data: &FlowData) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Writing into memory cannot fail, and the view has only serialisable values.
    let _ = write(&mut bytes, name, wave, window, data);
    bytes
}

/// Writes the saved-flows file `name` of a run into `out`: gzip-compressed compact JSON when
/// the name ends in `.gz`, else pretty JSON with a final line break (for reading by eye).
pub fn write(out: &mut dyn Write, name: &str, wave: &str, window: TimeWindow, data: &FlowData) -> std::io::Result<()> {
    let view = SavedView { version: VERSION, wave, window, data };
    if Path::new(name).extension().is_some_and(|e| e.eq_ignore_ascii_case("gz")) {
        // The fastest level: the text is repetitive enough that more effort gains little.
        // The serialiser writes a few bytes at a time: buffered, the compressor sees blocks.
        let mut gz = BufWriter::with_capacity(1 << 16, GzEncoder::new(out, Compression::fast()));
        serde_json::to_writer(&mut gz, &view)?;
        gz.write_all(b"\n")?;
        gz.into_inner().map_err(std::io::IntoInnerError::into_error)?.finish().map(drop)
    } else {
        serde_json::to_writer_pretty(&mut *out, &view)?;
        out.write_all(b"\n")
    }
}

/// Reads saved flows, compressed or not (whatever the file is named).
pub fn load(path: &Path) -> Result<SavedRun, RunnerError> {
    #[derive(Deserialize)]
    struct Header {
        version: u32,
    }
    let read = |source| RunnerError::SavedRead { path: path.to_owned(), source };
    let mut bytes = std::fs::read(path).map_err(read)?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = Vec::new();
        MultiGzDecoder::new(bytes.as_slice()).read_to_end(&mut text).map_err(read)?;
        bytes = text;
    }
    // One parse in the usual case; only a file that does not read is asked for its version.
    let version = |found| RunnerError::SavedVersion { path: path.to_owned(), found, expected: VERSION };
    match serde_json::from_slice::<SavedRun>(&bytes) {
        Ok(run) if run.version == VERSION => Ok(run),
        Ok(run) => Err(version(run.version)),
        Err(source) => match serde_json::from_slice::<Header>(&bytes) {
            Ok(header) if header.version != VERSION => Err(version(header.version)),
            _ => Err(RunnerError::SavedParse { path: path.to_owned(), source }),
        },
    }
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
                account: None,
                log_groups: vec!["/g".into()],
                window: TimeWindow { start: 1, end: 2 },
                reason: "Failed".into(),
                unreachable: false,
                chunk: None,
            }],
            stats: ScanStats { queries: 2, bytes_scanned: 10, ..ScanStats::default() },
            ..FlowData::default()
        };
        let run = SavedRun { version: VERSION, wave: "wave-3".into(), window: TimeWindow { start: 0, end: 9 }, data };
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        for name in ["flows.json", FILE] {
            let bytes = encode(name, &run.wave, run.window, &run.data);
            assert_eq!(bytes.starts_with(&[0x1f, 0x8b]), name == FILE, "{name}");
            std::fs::write(&path, bytes).unwrap();
            assert_eq!(load(&path).unwrap(), run, "{name}");
        }
        std::fs::write(&path, r#"{"version": 9}"#).unwrap();
        assert!(matches!(load(&path), Err(RunnerError::SavedVersion { found: 9, .. })));
        std::fs::write(&path, "[").unwrap();
        assert!(matches!(load(&path), Err(RunnerError::SavedParse { .. })));
        let cut = encode(FILE, "wave-3", run.window, &run.data);
        std::fs::write(&path, &cut[..cut.len() / 2]).unwrap();
        assert!(matches!(load(&path), Err(RunnerError::SavedRead { .. })), "a cut gzip stream is a read error");
        assert!(matches!(load(&dir.path().join("none.json")), Err(RunnerError::SavedRead { .. })));
    }
}
