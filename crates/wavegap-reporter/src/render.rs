//! Rendering the model with minijinja: built-in templates, optionally overridden per file.

use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

use crate::error::ReportError;
use crate::format;
use crate::model::ReportModel;

/// The templated outputs, by file name; `findings.json` is serialised, not templated.
pub const TEMPLATES: [(&str, &str); 4] = [
    ("report.md", include_str!("../../../templates/report.md.j2")),
    ("report.html", include_str!("../../../templates/report.html.j2")),
    ("fix.sh", include_str!("../../../templates/fix.sh.j2")),
    ("fix.tf", include_str!("../../../templates/fix.tf.j2")),
];

/// Every file of a report, in the order they are written.
pub const FILES: [&str; 5] = ["report.md", "report.html", "findings.json", "fix.sh", "fix.tf"];

/// A rendered file: its name inside the report directory and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    pub name: &'static str,
    pub content: String,
}

pub struct Renderer {
    env: Environment<'static>,
}

impl Renderer {
    /// The templates compiled into the binary.
    pub fn new() -> Result<Self, ReportError> {
        Self::build(TEMPLATES.iter().map(|(name, source)| ((*name).to_owned(), (*source).to_owned())).collect())
    }

    /// The built-in templates, with any of `report.md.j2`, `report.html.j2`, `fix.sh.j2`,
    /// `fix.tf.j2` found in `dir` taking their place.
    pub fn with_overrides(dir: &Path) -> Result<Self, ReportError> {
        if !dir.is_dir() {
            return Err(ReportError::TemplateDir { path: dir.to_owned() });
        }
        let mut sources = Vec::with_capacity(TEMPLATES.len());
        for (name, builtin) in TEMPLATES {
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
        // Everything in the HTML report is escaped unless a template says `|safe`.
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
        for (name, source) in sources {
            env.add_template_owned(name.clone(), source).map_err(|e| ReportError::template(&name, e))?;
        }
        Ok(Renderer { env })
    }

    /// Renders every file of the report in memory; nothing touches the disk.
    pub fn render_all(&self, model: &ReportModel) -> Result<Vec<RenderedFile>, ReportError> {
        let ctx = Value::from_serialize(model);
        // The files are independent: render them side by side (the HTML dominates).
        let results: Vec<Result<RenderedFile, ReportError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = FILES
                .iter()
                .map(|&name| {
                    let ctx = ctx.clone();
                    scope.spawn(move || -> Result<RenderedFile, ReportError> {
                        let content = if name == "findings.json" {
                            model.document.to_json()?
                        } else {
                            let template = self.env.get_template(name).map_err(|e| ReportError::template(name, e))?;
                            template.render(&ctx).map_err(|e| ReportError::template(name, e))?
                        };
                        Ok(RenderedFile { name, content })
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
        });
        results.into_iter().collect()
    }
}
