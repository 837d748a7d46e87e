//! Writing so that a failed or concurrent run never leaves half of anything behind: the one
//! writer of everything wavegap writes (reports, saved flows, inventory snapshots).
//!
//! Every file is rendered before anything is written. [`write_atomically`] writes files into
//! a directory: each goes to a hidden temporary name beside its target (same file system, so
//! `rename` is atomic) and only when all are on disk are they renamed into place.
//! [`write_report`] writes a whole report directory as one unit: under a lock on the
//! directory, into a fresh sibling directory that then replaces the old one in one step.

use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::ReportError;
use crate::render::RenderedFile;

/// Writes `files` into `dir` (created if missing) and returns their paths.
pub fn write_atomically(dir: &Path, files: &[RenderedFile]) -> Result<Vec<PathBuf>, ReportError> {
    fs::create_dir_all(dir).map_err(|source| ReportError::Write { path: dir.to_owned(), source })?;
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::with_capacity(files.len());
    let result = (|| {
        for file in files {
            let target = dir.join(&*file.name);
            let temp = dir.join(format!(".{}.tmp-{}", file.name, std::process::id()));
            staged.push((temp.clone(), target));
            write_file(&temp, &file.content)?;
        }
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
    })();
    if result.is_err() {
        for (temp, _) in &staged {
            let _ = fs::remove_file(temp);
        }
    }
    result.map(|()| staged.into_iter().map(|(_, target)| target).collect())
}

/// Writes a whole report into `dir` as one unit and returns the paths of its files.
///
/// A lock (`.<name>.lock` beside `dir`) makes a concurrent run of the same report wait for
/// this one's few milliseconds of writing. The files go into a fresh sibling directory, which
/// then takes `dir`'s place in one rename (an exchange where the file system has one), so
/// `dir` always holds one run's whole report. Files of the old directory that this report
/// does not write (the saved flows a `--from-saved` run read, a reader's own notes) are kept.
/// A directory that holds more than files (subdirectories, links), or that names no
/// directory of its own (`.`), is never replaced: the files are renamed into it one by one,
/// after checking that none of their names is taken by a directory. On any error the old
/// report is left as it was, or the error says which files were replaced.
pub fn write_report(dir: &Path, files: &[RenderedFile]) -> Result<Vec<PathBuf>, ReportError> {
    let write_err = |path: &Path| {
        let path = path.to_owned();
        move |source| ReportError::Write { path, source }
    };
    let name = match dir.file_name() {
        Some(name) => name.to_string_lossy().into_owned(),
        None => return write_atomically(dir, files),
    };
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(write_err(&parent))?;
    let lock_path = parent.join(format!(".{name}.lock"));
    let lock =
        File::options().create(true).truncate(false).write(true).open(&lock_path).map_err(write_err(&lock_path))?;
    lock.lock().map_err(write_err(&lock_path))?;
    if !holds_only_files(dir) {
        if let Some(taken) = files.iter().map(|f| dir.join(&*f.name)).find(|p| p.is_dir()) {
            return Err(ReportError::Taken { path: taken });
        }
        return write_atomically(dir, files);
    }

    let tag = format!("{}-{}", std::process::id(), unique());
    let fresh = parent.join(format!(".{name}.new-{tag}"));
    let staged = (|| {
        fs::create_dir(&fresh).map_err(write_err(&fresh))?;
        for file in files {
            write_file(&fresh.join(&*file.name), &file.content)?;
        }
        keep_other_files(dir, &fresh, files)?;
        File::open(&fresh).and_then(|d| d.sync_all()).map_err(write_err(&fresh))
    })();
    if let Err(e) = staged {
        let _ = fs::remove_dir_all(&fresh);
        return Err(e);
    }
    let old = parent.join(format!(".{name}.old-{tag}"));
    if let Err(source) = replace_dir(&fresh, dir, &old) {
        let _ = fs::remove_dir_all(&fresh);
        return Err(ReportError::Write { path: dir.to_owned(), source });
    }
    let _ = fs::remove_dir_all(&old);
    drop(lock);
    Ok(files.iter().map(|f| dir.join(&*f.name)).collect())
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
    File::create(path)
        .and_then(|mut f| f.write_all(content).and_then(|()| f.sync_all()))
        .map_err(|source| ReportError::Write { path: path.to_owned(), source })
}

/// Links (or copies) into `fresh` the files of `dir` that `files` does not replace.
fn keep_other_files(dir: &Path, fresh: &Path, files: &[RenderedFile]) -> Result<(), ReportError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(ReportError::Write { path: dir.to_owned(), source }),
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if files.iter().any(|f| name == *f.name) {
            continue;
        }
        let (from, to) = (entry.path(), fresh.join(&name));
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
