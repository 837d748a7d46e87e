//! Rendering the model with minijinja: built-in templates, optionally overridden per file.

use std::borrow::Cow;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use minijinja::value::ArgType;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

use crate::error::ReportError;
use crate::format;
use crate::model::ReportModel;
use crate::write::Stage;

/// How an output is made.
#[derive(Debug, Clone, Copy)]
pub enum Make {
    /// A minijinja template (built in, overridable by `<file>.j2` in `--templates DIR`).
    Template(&'static str),
    /// `findings.json`, serialised with serde so it is valid JSON whatever the data holds.
    FindingsJson,
}

/// One output of a report.
#[derive(Debug, Clone, Copy)]
pub struct Format {
    /// The file name in the report directory.
    pub file: &'static str,
    pub make: Make,
    /// What it is for, as `--help` and the README say it.
    pub about: &'static str,
}

const fn template(file: &'static str, source: &'static str, about: &'static str) -> Format {
    Format { file, make: Make::Template(source), about }
}

/// Every output of a report, in the order they are written: a new output is one entry here
/// and one template in `templates/`.
pub const FORMATS: [Format; 8] = [
    template("report.md", include_str!("../../../templates/report.md.j2"), "the report for a pull request or wiki"),
    template(
        "summary.md",
        include_str!("../../../templates/summary.md.j2"),
        "a short summary for a ticket comment or $GITHUB_STEP_SUMMARY",
    ),
    template(
        "report.html",
        include_str!("../../../templates/report.html.j2"),
        "the report for a browser, with copyable fixes",
    ),
    Format {
        file: "findings.json",
        make: Make::FindingsJson,
        about: "every finding, for pipelines (docs/findings-schema.md)",
    },
    template(
        "findings.csv",
        include_str!("../../../templates/findings.csv.j2"),
        "one row per finding, for spreadsheets",
    ),
    template(
        "junit.xml",
        include_str!("../../../templates/junit.xml.j2"),
        "a test case per expected flow and per finding, for CI dashboards",
    ),
    template(
        "fix.sh",
        include_str!("../../../templates/fix.sh.j2"),
        "the proposals as AWS CLI commands (dry run by default)",
    ),
    template("fix.tf", include_str!("../../../templates/fix.tf.j2"), "the proposals as Terraform resources"),
];

/// The file names of [`FORMATS`], in order.
pub fn file_names() -> Vec<&'static str> {
    FORMATS.iter().map(|f| f.file).collect()
}

fn templates() -> impl Iterator<Item = (&'static str, &'static str)> {
    FORMATS.iter().filter_map(|f| match f.make {
        Make::Template(source) => Some((f.file, source)),
        Make::FindingsJson => None,
    })
}

/// A rendered file: its name inside the report directory and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    pub name: Cow<'static, str>,
    pub content: Vec<u8>,
}

impl RenderedFile {
    pub fn new(name: impl Into<Cow<'static, str>>, content: impl Into<Vec<u8>>) -> Self {
        RenderedFile { name: name.into(), content: content.into() }
    }

    /// The content as text (empty when it is not UTF-8, as a compressed file is not).
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.content).unwrap_or_default()
    }
}

pub struct Renderer {
    env: Environment<'static>,
}

impl Renderer {
    /// The templates compiled into the binary.
    pub fn new() -> Result<Self, ReportError> {
        Self::build(templates().map(|(name, source)| (name.to_owned(), source.to_owned())).collect())
    }

    /// The built-in templates, with any `<file>.j2` found in `dir` (`report.md.j2`,
    /// `fix.sh.j2`, …) taking its place.
    pub fn with_overrides(dir: &Path) -> Result<Self, ReportError> {
        if !dir.is_dir() {
            return Err(ReportError::TemplateDir { path: dir.to_owned() });
        }
        let mut sources = Vec::new();
        for (name, builtin) in templates() {
            let path: PathBuf = dir.join(format!("{name}.j2"));
            let source = match std::fs::read_to_string(&path) {
                Ok(s) => s,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => builtin.to_owned(),
                Err(source) => return Err(ReportError::TemplateRead { path, source }),
            };
            sources.push((name.to_owned(), source));
        }
        Self::build(sources)
    }

    fn build(sources: Vec<(String, String)>) -> Result<Self, ReportError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        // Everything in the HTML report is escaped unless a template says `|safe`; the XML
        // output escapes with `|xml` (HTML escaping would write `/` as `&#x2f;`).
        env.set_auto_escape_callback(|name| {
            if Path::new(name).extension().is_some_and(|e| e.eq_ignore_ascii_case("html")) {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.add_filter("md", |s: &str| format::markdown(s));
        env.add_filter("shq", |s: &str| format::shell_quote(s));
        env.add_filter("code", |s: &str| format::inline_code(s));
        env.add_filter("comment", |s: &str| format::one_line(s));
        env.add_filter("hcl", |s: &str| format::hcl_string(s));
        env.add_filter("slug", |s: &str| format::slug(s));
        // Most fields need no quoting: those come back as the very value, not a new string.
        env.add_filter("csv", |v: Value| -> Result<Value, minijinja::Error> {
            let s = <&str as ArgType>::from_value(Some(&v))?;
            Ok(match format::csv_field(s) {
                Cow::Borrowed(_) => v.clone(),
                Cow::Owned(quoted) => Value::from(quoted),
            })
        });
        env.add_filter("xml", |s: &str| format::xml(s));
        env.add_filter("count", format::count);
        for (name, source) in sources {
            env.add_template_owned(name.clone(), source).map_err(|e| ReportError::template(&name, e))?;
        }
        Ok(Renderer { env })
    }

    /// Renders every file of the report into `out`, each as soon as it is made: the files are
    /// independent, so they are rendered side by side (the HTML dominates).
    pub fn render_into(&self, model: &ReportModel, out: &dyn Output) -> Result<(), ReportError> {
        let ctx = Value::from_serialize(model);
        std::thread::scope(|scope| {
            let handles: Vec<_> = FORMATS
                .iter()
                .map(|format| {
                    let ctx = ctx.clone();
                    scope.spawn(move || self.render_one(format, model, &ctx, out))
                })
                .collect();
            handles.into_iter().try_for_each(wavegap_core::threads::joined)
        })
    }

    /// Renders every file of the report in memory, in the order of [`FORMATS`].
    pub fn render_all(&self, model: &ReportModel) -> Result<Vec<RenderedFile>, ReportError> {
        let memory = Memory::default();
        self.render_into(model, &memory)?;
        let mut files = memory.0.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        files.sort_by_key(|f| FORMATS.iter().position(|format| format.file == f.name));
        Ok(files)
    }

    fn render_one(
        &self,
        format: &Format,
        model: &ReportModel,
        ctx: &Value,
        out: &dyn Output,
    ) -> Result<(), ReportError> {
        let name = format.file;
        match format.make {
            Make::FindingsJson => out.write(name, &mut |w| model.document.write_json(w)),
            Make::Template(_) => {
                let template = self.env.get_template(name).map_err(|e| ReportError::template(name, e))?;
                let text = template.render(ctx).map_err(|e| ReportError::template(name, e))?;
                out.write(name, &mut |w| w.write_all(text.as_bytes()))
            }
        }
    }
}

/// What writes one file's bytes.
pub type Body<'a> = dyn FnMut(&mut dyn io::Write) -> io::Result<()> + 'a;

/// Where rendered files go, each as soon as it is made (from several threads at once).
pub trait Output: Sync {
    /// Writes the file `name` with what `body` writes into it.
    fn write(&self, name: &'static str, body: &mut Body<'_>) -> Result<(), ReportError>;
}

impl Output for Stage {
    fn write(&self, name: &'static str, body: &mut Body<'_>) -> Result<(), ReportError> {
        self.write_with(name, body)
    }
}

/// Files kept in memory.
#[derive(Default)]
struct Memory(Mutex<Vec<RenderedFile>>);

impl Output for Memory {
    fn write(&self, name: &'static str, body: &mut Body<'_>) -> Result<(), ReportError> {
        let mut content = Vec::new();
        body(&mut content).map_err(|source| ReportError::Write { path: name.into(), source })?;
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(RenderedFile::new(name, content));
        Ok(())
    }
}
