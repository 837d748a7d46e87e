//! Finding and reading wave files: the one place that knows the waves directory's layout.
//!
//! A wave named on the command line is `<waves-dir>/<name>.toml`, unless the argument holds
//! a `/` or ends in `.toml`, in which case it is a path. The shared settings are read from
//! `defaults.toml` next to the wave file, and relative paths inside the wave resolve against
//! the wave file's directory.

use std::io;
use std::path::{Path, PathBuf};

use wavegap_core::wave::{self, PathKind, WaveConfig, WaveError, WaveFile};

/// The file that holds the settings every wave in a directory shares.
pub const DEFAULTS_FILE: &str = "defaults.toml";

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} holds the settings every wave shares, not a wave", path.display())]
    NotAWave { path: PathBuf },
    #[error(transparent)]
    Invalid(#[from] WaveError),
}

impl LoadError {
    /// The error for a terminal: a source excerpt for invalid waves, with hints.
    pub fn render(&self, color: bool) -> String {
        match self {
            LoadError::Invalid(e) => e.render(color),
            LoadError::Read { path, source } if source.kind() == io::ErrorKind::NotFound => format!(
                "error: no wave file {}\n  = hint: name a wave in the waves directory (`wave-3`) or give a path; \
                 `wavegap check` lists them all\n",
                path.display()
            ),
            LoadError::NotAWave { .. } => {
                format!("error: {self}\n  = hint: `wavegap check` validates it along with every wave\n")
            }
            LoadError::Read { .. } => format!("error: {self}\n"),
        }
    }
}

/// The file a command-line argument names: a path if it looks like one, else a wave name.
pub fn locate(arg: &str, waves_dir: &Path) -> PathBuf {
    let is_path = arg.contains('/')
        || arg.contains(std::path::MAIN_SEPARATOR)
        || Path::new(arg).extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    if is_path { PathBuf::from(arg) } else { waves_dir.join(format!("{arg}.toml")) }
}

/// Every wave file in `waves_dir`: `*.toml` except `defaults.toml`, sorted by name.
pub fn all(waves_dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut waves = Vec::new();
    for entry in std::fs::read_dir(waves_dir)? {
        let path = entry?.path();
        let is_toml = path.extension().is_some_and(|e| e == "toml");
        let is_defaults = path.file_name().is_some_and(|n| n == DEFAULTS_FILE);
        if is_toml && !is_defaults && path.is_file() {
            waves.push(path);
        }
    }
    waves.sort();
    Ok(waves)
}

/// The other wave files of `waves_dir` whose wave has the name `name` (files that do not
/// load are not counted: `check` reports them).
pub fn others_named(name: &str, path: &Path, waves_dir: &Path) -> Vec<PathBuf> {
    let this = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    all(waves_dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()) != this)
        .filter(|p| load(p).is_ok_and(|w| w.name == name))
        .collect()
}

/// Reads and validates the wave at `path`, with the `defaults.toml` beside it if there is one.
pub fn load(path: &Path) -> Result<WaveConfig, LoadError> {
    if path.file_name().is_some_and(|n| n == DEFAULTS_FILE) {
        return Err(LoadError::NotAWave { path: path.to_path_buf() });
    }
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read { path: path.to_path_buf(), source })?;
    load_text(path, &text)
}

/// Validates `text` as the wave file at `path` would be (with the `defaults.toml` beside it).
pub fn load_text(path: &Path, text: &str) -> Result<WaveConfig, LoadError> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|source| LoadError::Read { path: path.to_path_buf(), source })
    };
    let dir = path.parent().unwrap_or(Path::new(""));
    let defaults_path = dir.join(DEFAULTS_FILE);
    let defaults_text = if defaults_path.is_file() { Some(read(&defaults_path)?) } else { None };
    let defaults = defaults_text.as_deref().map(|text| WaveFile { path: &defaults_path, text });
    tracing::debug!(wave = %path.display(), defaults = defaults.is_some(), "loading wave");
    let look = |path: &Path| match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => PathKind::Dir,
        Ok(m) if m.is_file() => PathKind::File,
        Ok(_) => PathKind::Other,
        Err(_) => PathKind::Missing,
    };
    Ok(wave::load(WaveFile { path, text }, defaults, dir, &look)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        let dir = Path::new("waves");
        for (arg, expected) in [
            ("wave-3", "waves/wave-3.toml"),
            ("demo", "waves/demo.toml"),
            ("wave-3.toml", "wave-3.toml"),
            ("other/wave-3", "other/wave-3"),
            ("./wave", "./wave"),
            ("/abs/w.toml", "/abs/w.toml"),
        ] {
            assert_eq!(locate(arg, dir), PathBuf::from(expected), "{arg}");
        }
    }
}
