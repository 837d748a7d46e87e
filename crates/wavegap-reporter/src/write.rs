//! Writing a report so that a failed run never leaves half of one behind: the one atomic
//! writer of everything wavegap writes (reports, saved flows, inventory snapshots).
//!
//! Every file is rendered before anything is written; each is then written to a hidden
//! temporary name in the target directory (same file system, so `rename` is atomic) and only
//! when all of them are on disk are they renamed over the previous report.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::ReportError;
use crate::render::RenderedFile;

/// Writes `files` into `dir` (created if missing) and returns their paths.
pub fn write_atomically(dir: &Path, files: &[RenderedFile]) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write { path: dir.to_owned(), source })?;
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::with_capacity(files.len());
    let result = (|| {
        for file in files {
            let target = dir.join(&*file.name);
            let temp = dir.join(format!(".{}.tmp-{}", file.name, std::process::id()));
            staged.push((temp.clone(), target));
            let mut f =
                std::fs::File::create(&temp).map_err(|source| ReportError::Write { path: temp.clone(), source })?;
            f.write_all(file.content.as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(|source| ReportError::Write { path: temp.clone(), source })?;
        }
        for (temp, target) in &staged {
            std::fs::rename(temp, target).map_err(|source| ReportError::Write { path: target.clone(), source })?;
        }
        Ok(())
    })();
    if result.is_err() {
        for (temp, _) in &staged {
            let _ = std::fs::remove_file(temp);
        }
    }
    result.map(|()| staged.into_iter().map(|(_, target)| target).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &'static str, content: &str) -> RenderedFile {
        RenderedFile::new(name, content.to_owned())
    }

    #[test]
    fn writes_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("reports/demo");
        write_atomically(&out, &[file("report.md", "one"), file("fix.sh", "a")]).unwrap();
        write_atomically(&out, &[file("report.md", "two"), file("fix.sh", "b")]).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("report.md")).unwrap(), "two");
        let names: Vec<String> =
            std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(names.len(), 2, "no temporary files left: {names:?}");
    }

    #[test]
    fn a_failed_write_leaves_the_previous_report() {
        let dir = tempfile::tempdir().unwrap();
        write_atomically(dir.path(), &[file("report.md", "old")]).unwrap();
        // A directory where a temporary file must go makes the second file fail.
        std::fs::create_dir(dir.path().join(format!(".fix.sh.tmp-{}", std::process::id()))).unwrap();
        let err = write_atomically(dir.path(), &[file("report.md", "new"), file("fix.sh", "x")]).unwrap_err();
        assert!(err.to_string().contains("cannot write"), "{err}");
        assert_eq!(std::fs::read_to_string(dir.path().join("report.md")).unwrap(), "old");
        assert!(!dir.path().join(format!(".report.md.tmp-{}", std::process::id())).exists());
    }
}
