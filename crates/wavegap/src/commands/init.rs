//! `wavegap init NAME --from-csv servers.csv`: a new wave file from a wave plan spreadsheet.
//!
//! The CSV has a header row; `name`, `ip` and `app` are required, `role`, `os` and
//! `instance-id` optional (header names are matched without case, `_` or `-`). Rows become
//! `[[apps.servers]]` under their app, apps in the order they first appear. The file written
//! is validated by the same loader as `wavegap check` before anything is written; a mistake in
//! a value is reported at its CSV row and column. Comments in the file say what to review.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::anyhow;

use crate::cli::InitArgs;
use crate::exit::{Failure, Kind, Success};

/// The CSV columns, in the order they are written.
const COLUMNS: [&str; 6] = ["name", "ip", "app", "role", "os", "instance-id"];
const REQUIRED: [&str; 3] = ["name", "ip", "app"];

/// One server of the plan, with the CSV line it came from.
struct Row {
    line: u64,
    values: BTreeMap<&'static str, String>,
}

pub fn run(args: &InitArgs, color: bool) -> Result<Success, Failure> {
    let target = args.waves_dir.join(format!("{}.toml", args.name));
    if target.exists() && !args.force {
        return Err(config(anyhow!(
            "{} exists already\nhint: pick another name, or pass --force to replace it",
            target.display()
        )));
    }
    let rows = read_csv(&args.from_csv)?;
    let (text, origins) = wave_text(&args.name, &args.from_csv, &rows);
    if let Err(e) = crate::waves::load_text(&target, &text) {
        let crate::waves::LoadError::Invalid(invalid) = &e else { return Err(config(anyhow!("{e}"))) };
        return Err(match origins.get(&invalid.line) {
            Some((row, column)) => config(anyhow!(
                "{}:{row}: column `{column}`: {}{}",
                args.from_csv.display(),
                invalid.message,
                invalid.hint.as_ref().map_or_else(String::new, |h| format!("\nhint: {h}"))
            )),
            None => config(anyhow!("{}", e.render(color).trim_end().trim_start_matches("error: "))),
        });
    }
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, &e))?;
    }
    let name = target.file_name().map_or_else(|| "wave.toml".to_owned(), |n| n.to_string_lossy().into_owned());
    let dir = target.parent().unwrap_or(Path::new("."));
    wavegap_reporter::write_atomically(dir, &[wavegap_reporter::RenderedFile::new(name, text.into_bytes())])
        .map_err(|e| Failure::new(Kind::Aws, e))?;
    let apps = rows.iter().map(|r| &r.values["app"]).collect::<std::collections::BTreeSet<_>>().len();
    eprintln!(
        "wrote {} ({} servers in {apps} app(s)); review its [window], [networks] and log groups, then run `wavegap check {}`",
        target.display(),
        rows.len(),
        args.name
    );
    Ok(Success::Ok)
}

fn config(e: anyhow::Error) -> Failure {
    Failure::new(Kind::Config, e)
}

fn io(path: &Path, e: &std::io::Error) -> Failure {
    Failure::new(Kind::Aws, anyhow!("cannot write {}: {e}", path.display()))
}

/// The rows of the CSV at `path`, with their columns named.
fn read_csv(path: &Path) -> Result<Vec<Row>, Failure> {
    let file = std::fs::File::open(path)
        .map_err(|e| config(anyhow!("cannot read {}: {e}\nhint: pass the wave plan as CSV", path.display())))?;
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(file);
    let located = |e: &csv::Error| {
        let line = e.position().map_or_else(String::new, |p| format!(":{}", p.line()));
        config(anyhow!("{}{line}: {e}", path.display()))
    };
    let headers = reader.headers().map_err(|e| located(&e))?.clone();
    let key = |h: &str| h.to_ascii_lowercase().replace('_', "-");
    let mut columns: Vec<Option<&'static str>> = Vec::new();
    for header in &headers {
        let Some(known) = COLUMNS.iter().find(|c| **c == key(header)) else {
            return Err(config(anyhow!(
                "{}:1: unknown column `{header}`\nhint: the columns are {}",
                path.display(),
                COLUMNS.join(", ")
            )));
        };
        columns.push(Some(known));
    }
    if let Some(missing) = REQUIRED.iter().find(|r| !columns.contains(&Some(**r))) {
        return Err(config(anyhow!(
            "{}:1: no `{missing}` column\nhint: the header row names at least {}",
            path.display(),
            REQUIRED.join(", ")
        )));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| located(&e))?;
        let line = record.position().map_or(0, csv::Position::line);
        let mut values = BTreeMap::new();
        for (column, value) in columns.iter().zip(record.iter()) {
            if let Some(column) = column
                && !value.is_empty()
            {
                values.insert(*column, value.to_owned());
            }
        }
        if values.is_empty() {
            continue;
        }
        if let Some(missing) = REQUIRED.iter().find(|r| !values.contains_key(**r)) {
            return Err(config(anyhow!("{}:{line}: column `{missing}` is empty", path.display())));
        }
        rows.push(Row { line, values });
    }
    if rows.is_empty() {
        return Err(config(anyhow!("{} has no servers (only a header row)", path.display())));
    }
    Ok(rows)
}

/// The wave file's text, and for each line written from a CSV value, that row and column.
fn wave_text(name: &str, csv: &Path, rows: &[Row]) -> (String, BTreeMap<usize, (u64, &'static str)>) {
    let mut out = format!(
        "# Written by `wavegap init {name} --from-csv {csv}`. Review before the first report:\n\
         # - [window]: the span each report looks at;\n\
         # - [networks]: your internal ranges, and on-premises ones (a rule for an on-premises\n\
         #   client is proposed for the narrowest network holding it);\n\
         # - [log-groups]: the flow logs' log groups are discovered from the servers' ENIs, or\n\
         #   give a [source] table for flow-log files or an S3 bucket;\n\
         # - each server's role and os (os sets the client port range NACL return rules open).\n\
         name = {}\n\nsource = \"cloudwatch\"\n\n[window]\nlast = \"24h\"\n\n\
         [networks]\ninternal = [\"10.0.0.0/8\", \"172.16.0.0/12\", \"192.168.0.0/16\"]\n\
         # on-premises = [\"192.168.0.0/16\"]\n\n[log-groups]\ndiscover = true\n",
        quoted(name),
        csv = csv.display(),
    );
    // Rows under their app, apps in the order they first appear.
    let mut apps: Vec<(&str, Vec<&Row>)> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for row in rows {
        let app = row.values["app"].as_str();
        let i = *index.entry(app).or_insert_with(|| {
            apps.push((app, Vec::new()));
            apps.len() - 1
        });
        apps[i].1.push(row);
    }
    let mut origins = BTreeMap::new();
    // The number of the next line written (`out` ends with a newline).
    let mut line = out.lines().count() + 1;
    for (app, servers) in apps {
        let _ = write!(out, "\n[[apps]]\nname = {}\n", quoted(app));
        origins.insert(line + 2, (servers[0].line, "app"));
        line += 3;
        for row in servers {
            out.push_str("\n[[apps.servers]]\n");
            line += 2;
            for column in COLUMNS.iter().filter(|c| **c != "app") {
                if let Some(value) = row.values.get(column) {
                    // `Windows` in a spreadsheet is `windows` in a wave.
                    let value = if *column == "os" { value.to_ascii_lowercase() } else { value.clone() };
                    let _ = writeln!(out, "{column} = {}", quoted(&value));
                    origins.insert(line, (row.line, *column));
                    line += 1;
                }
            }
        }
    }
    (out, origins)
}

/// A TOML basic string: JSON's escapes are TOML's, and DEL is escaped as TOML requires.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default().replace('\u{7f}', "\\u007f")
}
