//! Writing so that a failed or concurrent run never leaves half of anything behind: the one
//! writer of everything wavegap writes (reports, saved flows, inventory snapshots).
//!
//! Nothing is visible until every file is on disk. [`write_atomically`] writes files into a
//! directory: each goes to a hidden temporary name beside its target (same file system, so
//! `rename` is atomic) and only when all are on disk are they renamed into place. A
//! [`Stage`] writes a whole report directory as one unit: its files are written one by one
//! as they are made, into a fresh sibling directory that, under a lock, then replaces the old
//! one in one step ([`write_report`] when the files are already in memory).

use std::fs::{self, File};
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::ReportError;
use crate::render::RenderedFile;

/// Writes `files` into `dir` (created if missing) and returns their paths.
pub fn write_atomically(dir: &Path, files: &[RenderedFile]) -> Result<Vec<PathBuf>, ReportError> {
    fs::create_dir_all(dir).map_err(write_error(dir))?;
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::with_capacity(files.len());
    let result = (|| {
        for file in files {
            let target = dir.join(&*file.name);
            let temp = dir.join(format!(".{}.tmp-{}", file.name, std::process::id()));
            staged.push((temp.clone(), target));
            write_file(&temp, &file.content)?;
        }
        rename_all(&staged)
    })();
    if result.is_err() {
        for (temp, _) in &staged {
            let _ = fs::remove_file(temp);
        }
    }
    result.map(|()| staged.into_iter().map(|(_, target)| target).collect())
}

/// Writes a whole report into `dir` as one unit and returns the paths of its files: a
/// [`Stage`] that is given every file and committed.
pub fn write_report(dir: &Path, files: &[RenderedFile]) -> Result<Vec<PathBuf>, ReportError> {
    let stage = Stage::new(dir)?;
    for file in files {
        stage.put(&file.name, &file.content)?;
    }
    stage.commit()
}

/// A report directory being written. Its files go to disk as soon as each is made, so a large
/// report never holds them all in memory, yet `dir` changes only on [`Stage::commit`], at
/// once: it always holds one run's whole report. Dropped without a commit (an error on the
/// way), the stage leaves no trace.
///
/// The files go into a fresh sibling directory, which on commit takes `dir`'s place in one
/// rename (an exchange where the file system has one). A lock (`.<name>.lock` beside `dir`)
/// makes a concurrent commit of the same report wait for this one's few milliseconds. Files
/// of the old directory that this report does not write (the saved flows a `--from-saved`
/// run read, a reader's own notes) are kept. A directory that holds more than files
/// (subdirectories, links), or that names no directory of its own (`.`), is never replaced:
/// the files are staged in a hidden directory inside it and renamed into it one by one, after
/// checking that none of their names is taken by a directory. On any error the old report is
/// left as it was, or the error says which files were replaced.
pub struct Stage {
    dir: PathBuf,
    /// Where the files are written until the commit.
    fresh: PathBuf,
    /// The lock file beside `dir` (none for `.`).
    lock: Option<PathBuf>,
    /// Where the old `dir` goes when `fresh` is a sibling that replaces it.
    old: Option<PathBuf>,
    /// The names written, in order.
    names: Mutex<Vec<String>>,
}

impl Stage {
    /// Starts writing a report into `dir` (created if missing).
    pub fn new(dir: &Path) -> Result<Self, ReportError> {
        let tag = format!("{}-{}", std::process::id(), unique());
        let beside = dir.file_name().map(|name| {
            let parent = match dir.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
                _ => PathBuf::from("."),
            };
            (parent, name.to_string_lossy().into_owned())
        });
        let lock = beside.as_ref().map(|(parent, name)| parent.join(format!(".{name}.lock")));
        let (fresh, old) = match &beside {
            Some((parent, name)) if holds_only_files(dir) => {
                fs::create_dir_all(parent).map_err(write_error(parent))?;
                (parent.join(format!(".{name}.new-{tag}")), Some(parent.join(format!(".{name}.old-{tag}"))))
            }
            _ => {
                fs::create_dir_all(dir).map_err(write_error(dir))?;
                (dir.join(format!(".wavegap.new-{tag}")), None)
            }
        };
        fs::create_dir(&fresh).map_err(write_error(&fresh))?;
        Ok(Stage { dir: dir.to_owned(), fresh, lock, old, names: Mutex::default() })
    }

    /// Writes the file `name` with `content`.
    pub fn put(&self, name: &str, content: &[u8]) -> Result<(), ReportError> {
        self.write_with(name, |out| out.write_all(content))
    }

    /// Writes the file `name` with what `body` writes into it (buffered), then flushes it to
    /// disk. Files of one stage may be written from several threads at once.
    pub fn write_with(
        &self,
        name: &str,
        body: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<(), ReportError> {
        let path = self.fresh.join(name);
        File::create(&path)
            .and_then(|file| {
                let mut out = BufWriter::with_capacity(1 << 16, file);
                body(&mut out)?;
                out.into_inner().map_err(std::io::IntoInnerError::into_error)?.sync_all()
            })
            .map_err(write_error(&path))?;
        self.names.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(name.to_owned());
        Ok(())
    }

    /// Puts the written files in place and returns their paths, in the order written. What
    /// is left staged (nothing, or what an error kept from being placed) goes with the stage.
    pub fn commit(self) -> Result<Vec<PathBuf>, ReportError> {
        let names = self.names.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let paths: Vec<PathBuf> = names.iter().map(|n| self.dir.join(n)).collect();
        let _lock = match &self.lock {
            Some(path) => {
                let lock = File::options().create(true).truncate(false).write(true).open(path);
                let lock = lock.map_err(write_error(path))?;
                lock.lock().map_err(write_error(path))?;
                Some(lock)
            }
            None => None,
        };
        if let Some(old) = &self.old
            && holds_only_files(&self.dir)
        {
            keep_other_files(&self.dir, &self.fresh)?;
            File::open(&self.fresh).and_then(|d| d.sync_all()).map_err(write_error(&self.fresh))?;
            replace_dir(&self.fresh, &self.dir, old).map_err(write_error(&self.dir))?;
            let _ = fs::remove_dir_all(old);
            return Ok(paths);
        }
        if let Some(taken) = paths.iter().find(|p| p.is_dir()) {
            return Err(ReportError::Taken { path: taken.clone() });
        }
        let staged: Vec<(PathBuf, PathBuf)> =
            names.iter().map(|n| self.fresh.join(n)).zip(paths.iter().cloned()).collect();
        rename_all(&staged)?;
        Ok(paths)
    }
}

impl Drop for Stage {
    /// Removes the staged directory. After a commit that replaced `dir`, nothing is left at
    /// its path (it became `dir`).
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.fresh);
    }
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError {
    let path = path.to_owned();
    move |source| ReportError::Write { path, source }
}

/// Renames each staged file onto its target, in order; an error after the first says which
/// files were replaced and which kept.
fn rename_all(staged: &[(PathBuf, PathBuf)]) -> Result<(), ReportError> {
    for (i, (temp, target)) in staged.iter().enumerate() {
        fs::rename(temp, target).map_err(|source| {
            let name = |(_, t): &(PathBuf, PathBuf)| t.file_name().map(|n| n.to_string_lossy().into_owned());
            let replaced: Vec<String> = staged[..i].iter().filter_map(name).collect();
            if replaced.is_empty() {
                ReportError::Write { path: target.clone(), source }
            } else {
                let kept = staged[i..].iter().filter_map(name).collect();
                ReportError::Partial { path: target.clone(), replaced, kept, source }
            }
        })?;
    }
    Ok(())
}

/// Whether `dir` is missing or holds regular files only: a report directory, safe to replace.
fn holds_only_files(dir: &Path) -> bool {
    match fs::symlink_metadata(dir) {
        Err(_) => true,
        Ok(meta) if !meta.is_dir() => false,
        Ok(_) => fs::read_dir(dir).is_ok_and(|entries| {
            entries.into_iter().all(|e| e.is_ok_and(|e| e.file_type().is_ok_and(|t| t.is_file())))
        }),
    }
}

/// Writes `content` to a new file at `path` and flushes it to disk.
fn write_file(path: &Path, content: &[u8]) -> Result<(), ReportError> {
    File::create(path).and_then(|mut f| f.write_all(content).and_then(|()| f.sync_all())).map_err(write_error(path))
}

/// Links (or copies) into `fresh` the files of `dir` that `fresh` does not replace.
fn keep_other_files(dir: &Path, fresh: &Path) -> Result<(), ReportError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(ReportError::Write { path: dir.to_owned(), source }),
    };
    for entry in entries.flatten() {
        let (from, to) = (entry.path(), fresh.join(entry.file_name()));
        if to.exists() {
            continue;
        }
        fs::hard_link(&from, &to)
            .or_else(|_| fs::copy(&from, &to).map(drop))
            .map_err(|source| ReportError::Write { path: from, source })?;
    }
    Ok(())
}

/// Puts `fresh` where `dir` is, moving the old `dir` (if any) to `old`.
fn replace_dir(fresh: &Path, dir: &Path, old: &Path) -> std::io::Result<()> {
    if !dir.exists() {
        return fs::rename(fresh, dir);
    }
    if exchange(fresh, dir).is_ok() {
        // `fresh` now names the old directory.
        return fs::rename(fresh, old);
    }
    fs::rename(dir, old)?;
    fs::rename(fresh, dir).inspect_err(|_| {
        let _ = fs::rename(old, dir);
    })
}

/// Swaps two directories in one step (Linux `renameat2(RENAME_EXCHANGE)`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// A number no other write of this process has used.
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &'static str, content: &str) -> RenderedFile {
        RenderedFile::new(name, content.to_owned())
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn writes_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("reports/demo");
        write_atomically(&out, &[file("report.md", "one"), file("fix.sh", "a")]).unwrap();
        write_atomically(&out, &[file("report.md", "two"), file("fix.sh", "b")]).unwrap();
        assert_eq!(fs::read_to_string(out.join("report.md")).unwrap(), "two");
        assert_eq!(names(&out).len(), 2, "no temporary files left");
    }

    #[test]
    fn a_failed_write_leaves_the_previous_report() {
        let dir = tempfile::tempdir().unwrap();
        write_atomically(dir.path(), &[file("report.md", "old")]).unwrap();
        // A directory where a temporary file must go makes the second file fail.
        fs::create_dir(dir.path().join(format!(".fix.sh.tmp-{}", std::process::id()))).unwrap();
        let err = write_atomically(dir.path(), &[file("report.md", "new"), file("fix.sh", "x")]).unwrap_err();
        assert!(err.to_string().contains("cannot write"), "{err}");
        assert_eq!(fs::read_to_string(dir.path().join("report.md")).unwrap(), "old");
        assert!(!dir.path().join(format!(".report.md.tmp-{}", std::process::id())).exists());
    }

    #[test]
    fn a_report_replaces_the_whole_directory_and_keeps_files_it_does_not_write() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("reports/demo");
        write_report(&out, &[file("report.md", "one"), file("fix.sh", "a"), file("flows.json", "saved")]).unwrap();
        fs::write(out.join("notes.txt"), "mine").unwrap();
        let paths = write_report(&out, &[file("report.md", "two"), file("fix.sh", "b")]).unwrap();
        assert_eq!(paths, [out.join("report.md"), out.join("fix.sh")]);
        assert_eq!(fs::read_to_string(out.join("report.md")).unwrap(), "two");
        assert_eq!(fs::read_to_string(out.join("fix.sh")).unwrap(), "b");
        assert_eq!(fs::read_to_string(out.join("flows.json")).unwrap(), "saved");
        assert_eq!(fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
        assert_eq!(names(&root.path().join("reports")), [".demo.lock", "demo"], "nothing staged is left");
    }

    #[test]
    fn a_directory_with_more_than_files_is_written_into_and_a_taken_name_changes_nothing() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("demo");
        write_report(&out, &[file("report.md", "old"), file("fix.sh", "old")]).unwrap();
        fs::create_dir(out.join("archive")).unwrap();
        write_report(&out, &[file("report.md", "new"), file("fix.sh", "new")]).unwrap();
        assert_eq!(names(&out), ["archive", "fix.sh", "report.md"]);
        assert_eq!(fs::read_to_string(out.join("fix.sh")).unwrap(), "new");
        // A directory where a report file goes: refused before anything is renamed.
        fs::remove_file(out.join("fix.sh")).unwrap();
        fs::create_dir(out.join("fix.sh")).unwrap();
        let err = write_report(&out, &[file("report.md", "newer"), file("fix.sh", "newer")]).unwrap_err();
        assert!(err.to_string().contains("is a directory") && err.to_string().contains("nothing was changed"), "{err}");
        assert_eq!(fs::read_to_string(out.join("report.md")).unwrap(), "new");
    }

    #[test]
    fn a_rename_that_fails_halfway_says_which_files_were_replaced_and_which_kept() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("fix.sh")).unwrap();
        fs::write(dir.path().join("fix.sh/keep"), "x").unwrap();
        let err =
            write_atomically(dir.path(), &[file("report.md", "new"), file("fix.sh", "new"), file("fix.tf", "new")])
                .unwrap_err()
                .to_string();
        assert!(err.contains("replaced: report.md") && err.contains("kept as they were: fix.sh, fix.tf"), "{err}");
    }

    #[test]
    fn a_report_that_cannot_be_staged_leaves_the_old_directory() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("demo");
        write_report(&out, &[file("report.md", "old")]).unwrap();
        // A name no file system accepts fails the staging, after the first file.
        let err = write_report(&out, &[file("report.md", "new"), file("a\0b", "x")]).unwrap_err();
        assert!(err.to_string().contains("cannot write"), "{err}");
        assert_eq!(fs::read_to_string(out.join("report.md")).unwrap(), "old");
        assert_eq!(names(root.path()), [".demo.lock", "demo"]);
    }

    #[test]
    fn a_stage_shows_nothing_until_its_commit_and_leaves_nothing_when_dropped() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("demo");
        write_report(&out, &[file("report.md", "old")]).unwrap();
        let stage = Stage::new(&out).unwrap();
        std::thread::scope(|s| {
            for name in ["report.md", "findings.json", "flows.json.gz"] {
                let stage = &stage;
                s.spawn(move || stage.write_with(name, |w| w.write_all(name.as_bytes())).unwrap());
            }
        });
        assert_eq!(fs::read_to_string(out.join("report.md")).unwrap(), "old", "not yet committed");
        assert_eq!(names(&out), ["report.md"]);
        drop(stage);
        assert_eq!(names(root.path()), [".demo.lock", "demo"], "nothing staged is left");

        let stage = Stage::new(&out).unwrap();
        stage.put("report.md", b"new").unwrap();
        stage.put("fix.sh", b"fix").unwrap();
        assert_eq!(stage.commit().unwrap(), [out.join("report.md"), out.join("fix.sh")]);
        assert_eq!(names(&out), ["fix.sh", "report.md"]);
        assert_eq!(fs::read_to_string(out.join("report.md")).unwrap(), "new");
    }

    #[test]
    fn a_directory_that_is_not_replaced_is_staged_inside_and_left_clean() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("demo");
        fs::create_dir_all(out.join("archive")).unwrap();
        let stage = Stage::new(&out).unwrap();
        stage.put("report.md", b"one").unwrap();
        assert_eq!(names(&out).len(), 2, "the archive and the hidden stage");
        drop(stage);
        assert_eq!(names(&out), ["archive"]);
        let stage = Stage::new(&out).unwrap();
        stage.put("report.md", b"two").unwrap();
        stage.commit().unwrap();
        assert_eq!(names(&out), ["archive", "report.md"]);
        assert_eq!(fs::read_to_string(out.join("report.md")).unwrap(), "two");
    }

    #[test]
    fn concurrent_reports_of_one_directory_each_land_whole() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("demo");
        std::thread::scope(|s| {
            for run in 0..16 {
                let out = &out;
                s.spawn(move || {
                    let files: Vec<RenderedFile> = ["report.md", "report.html", "findings.json", "fix.sh"]
                        .into_iter()
                        .map(|n| RenderedFile::new(n, format!("run {run}")))
                        .collect();
                    write_report(out, &files).unwrap();
                });
            }
        });
        let contents: std::collections::BTreeSet<String> =
            names(&out).iter().map(|n| fs::read_to_string(out.join(n)).unwrap()).collect();
        assert_eq!(contents.len(), 1, "one run's files: {contents:?}");
        assert_eq!(names(root.path()), [".demo.lock", "demo"]);
    }
}
