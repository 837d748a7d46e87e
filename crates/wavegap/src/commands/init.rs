//! `wavegap init NAME --from-csv servers.csv | --from-tags KEY=VALUE`: a new wave file from a
//! wave plan spreadsheet, or from the EC2 instances tagged for the wave.
//!
//! The CSV has a header row; `name`, `ip` and `app` are required, `role`, `os` and
//! `instance-id` optional (header names are matched without case, `_` or `-`). Tagged
//! instances give the same columns: `Name`, the private IP, the app tag (`--app-tag`, else
//! `App` or `Application`), `Role`, the OS from the platform and the instance id. Servers are
//! written as `[[apps.servers]]` under their app. The file is validated by the same loader as
//! `wavegap check` before anything is written; a mistake in a value is reported at its CSV row
//! and column, or at its instance and tag. Comments in the file say what to review.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::anyhow;
use wavegap_core::inventory::Os;
use wavegap_resolver::ec2json::{Instance, Reservation};

use crate::cli::InitArgs;
use crate::exit::{Failure, Kind, Success};

/// The columns of a server, in the order they are written.
const COLUMNS: [&str; 6] = ["name", "ip", "app", "role", "os", "instance-id"];
const REQUIRED: [&str; 3] = ["name", "ip", "app"];
/// The tags an instance's app is read from when `--app-tag` is not given, first found wins.
const APP_TAGS: [&str; 2] = ["App", "Application"];
const ROLE_TAG: &str = "Role";
/// The app of instances that carry no app tag.
const UNTAGGED: &str = "untagged";

/// One server of the new wave: where it came from (`plan.csv:3`, `instance i-0abc…`) and
/// its values by column.
struct Row {
    at: String,
    values: BTreeMap<&'static str, String>,
}

/// The servers of a new wave and what the file says about where they came from.
struct Plan {
    /// The first comment line: the command that wrote the file.
    written_by: String,
    /// Extra tables after `[log-groups]` (the `[aws]` region of tagged instances).
    aws: String,
    rows: Vec<Row>,
    /// Per app, a comment written above its `[[apps]]` table.
    app_notes: BTreeMap<String, String>,
    /// What a value is called in messages: `column `ip`` or `tag `Name``.
    field: fn(&str) -> String,
    /// Said on stderr after the file is written.
    notes: Vec<String>,
}

pub fn run(args: &InitArgs, color: bool) -> Result<Success, Failure> {
    let target = args.waves_dir.join(format!("{}.toml", args.name));
    if target.exists() && !args.force {
        return Err(config(anyhow!(
            "{} exists already\nhint: pick another name, or pass --force to replace it",
            target.display()
        )));
    }
    let plan = match (&args.from_csv, &args.from_tags) {
        (Some(csv), _) => from_csv(&args.name, csv)?,
        (None, Some(tag)) => from_tags(args, tag)?,
        (None, None) => {
            return Err(config(anyhow!("name the servers\nhint: pass --from-csv FILE or --from-tags KEY=VALUE")));
        }
    };
    let (text, origins) = wave_text(&args.name, &plan);
    if let Err(e) = crate::waves::load_text(&target, &text) {
        let crate::waves::LoadError::Invalid(invalid) = &e else { return Err(config(anyhow!("{e}"))) };
        return Err(match origins.get(&invalid.line) {
            Some((row, column)) => config(anyhow!(
                "{}: {}: {}{}",
                plan.rows[*row].at,
                (plan.field)(column),
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
    let apps = plan.rows.iter().map(|r| &r.values["app"]).collect::<std::collections::BTreeSet<_>>().len();
    for note in &plan.notes {
        eprintln!("note: {note}");
    }
    eprintln!(
        "wrote {} ({} servers in {apps} app(s)); review its [window], [networks] and log groups, then run `wavegap check {}`",
        target.display(),
        plan.rows.len(),
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

/// The servers of the CSV at `path`, with their columns named.
fn from_csv(name: &str, path: &Path) -> Result<Plan, Failure> {
    let file = std::fs::File::open(path)
        .map_err(|e| config(anyhow!("cannot read {}: {e}\nhint: pass the wave plan as CSV", path.display())))?;
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(file);
    let located = |e: &csv::Error| {
        let line = e.position().map_or_else(String::new, |p| format!(":{}", p.line()));
        config(anyhow!("{}{line}: {e}", path.display()))
    };
    let headers = reader.headers().map_err(|e| located(&e))?.clone();
    let key = |h: &str| h.to_ascii_lowercase().replace('_', "-");
    let mut columns: Vec<&'static str> = Vec::new();
    for header in &headers {
        let Some(known) = COLUMNS.iter().find(|c| **c == key(header)) else {
            return Err(config(anyhow!(
                "{}:1: unknown column `{header}`\nhint: the columns are {}",
                path.display(),
                COLUMNS.join(", ")
            )));
        };
        columns.push(known);
    }
    if let Some(missing) = REQUIRED.iter().find(|r| !columns.contains(r)) {
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
        let values: BTreeMap<&'static str, String> = columns
            .iter()
            .zip(record.iter())
            .filter(|(_, value)| !value.is_empty())
            // `Windows` in a spreadsheet is `windows` in a wave.
            .map(|(column, value)| {
                (*column, if *column == "os" { value.to_ascii_lowercase() } else { value.to_owned() })
            })
            .collect();
        if values.is_empty() {
            continue;
        }
        if let Some(missing) = REQUIRED.iter().find(|r| !values.contains_key(**r)) {
            return Err(config(anyhow!("{}:{line}: column `{missing}` is empty", path.display())));
        }
        rows.push(Row { at: format!("{}:{line}", path.display()), values });
    }
    if rows.is_empty() {
        return Err(config(anyhow!("{} has no servers (only a header row)", path.display())));
    }
    Ok(Plan {
        written_by: format!("`wavegap init {name} --from-csv {}`", path.display()),
        aws: String::new(),
        rows,
        app_notes: BTreeMap::new(),
        field: |column| format!("column `{column}`"),
        notes: Vec::new(),
    })
}

/// The servers of the EC2 instances tagged `tag` (`KEY=VALUE`), in the region and account
/// of the AWS flags and environment.
fn from_tags(args: &InitArgs, tag: &str) -> Result<Plan, Failure> {
    let Some((key, value)) = tag.split_once('=').filter(|(k, _)| !k.is_empty()) else {
        return Err(config(anyhow!(
            "--from-tags {tag:?}: expected KEY=VALUE\nhint: for example --from-tags Wave=wave-7"
        )));
    };
    let settings = args.aws.settings(&wavegap_core::wave::AwsSettings::default());
    let (reservations, region) = crate::runtime::block_on(async {
        let ctx = wavegap_resolver::AwsContext::new(&settings).await?;
        let found = wavegap_resolver::Resolver::new(&ctx).tagged_instances(key, value).await?;
        Ok::<_, wavegap_resolver::Error>((found, ctx.region().unwrap_or_default().to_owned()))
    })?
    .map_err(crate::commands::inventory::resolver_failure)?;
    if reservations.is_empty() {
        return Err(config(anyhow!(
            "no EC2 instance in {region} is tagged {key}={value}\nhint: check the tag's spelling and case, and the region (--region) and account (--profile) in use"
        )));
    }
    let accounts: std::collections::BTreeSet<&str> =
        reservations.iter().filter_map(|r| r.owner_id.as_deref()).collect();
    let accounts = accounts.into_iter().collect::<Vec<_>>().join(", ");
    let mut plan = Plan {
        written_by: format!(
            "`wavegap init {} --from-tags {key}={value}`, from the EC2 instances of account {} in {region}",
            args.name,
            if accounts.is_empty() { "?" } else { &accounts }
        ),
        aws: format!("\n[aws]\nregion = {}\n", quoted(&region)),
        rows: Vec::new(),
        app_notes: BTreeMap::new(),
        field: |column| match column {
            "ip" => "PrivateIpAddress".to_owned(),
            "os" => "Platform".to_owned(),
            "instance-id" => "InstanceId".to_owned(),
            "name" => "tag `Name`".to_owned(),
            other => format!("tag `{other}`"),
        },
        notes: Vec::new(),
    };
    let app_tags: Vec<&str> = match &args.app_tag {
        Some(tag) => vec![tag.as_str()],
        None => APP_TAGS.to_vec(),
    };
    let mut instances: Vec<&Instance> = reservations.iter().flat_map(|r: &Reservation| &r.instances).collect();
    // Apps by name, the instances without one last.
    instances.sort_by_key(|i| {
        let app = app_of(i, &app_tags);
        (app.is_none(), app, i.tag("Name"), i.instance_id.clone())
    });
    let mut untagged = 0;
    let mut no_address = Vec::new();
    for instance in instances {
        let id = instance.instance_id.clone().unwrap_or_default();
        let Some(ip) = &instance.private_ip_address else {
            no_address.push(id);
            continue;
        };
        let mut values = BTreeMap::from([("ip", ip.clone()), ("instance-id", id.clone())]);
        values.insert("name", instance.tag("Name").map_or_else(|| id.clone(), plain_name));
        let app = app_of(instance, &app_tags).map_or_else(
            || {
                untagged += 1;
                UNTAGGED.to_owned()
            },
            plain_name,
        );
        values.insert("app", app);
        if let Some(role) = tag_any_case(instance, ROLE_TAG) {
            values.insert("role", role.to_owned());
        }
        if let Some(os) = instance.os() {
            let os = match os {
                Os::Linux => "linux",
                Os::Windows => "windows",
                Os::WindowsLegacy => "windows-legacy",
            };
            values.insert("os", os.to_owned());
        }
        plan.rows.push(Row { at: format!("instance {id}"), values });
    }
    // A name two instances share is made unique by their ids.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for row in &plan.rows {
        *seen.entry(row.values["name"].clone()).or_default() += 1;
    }
    for row in &mut plan.rows {
        if seen[&row.values["name"]] > 1 {
            let unique = format!("{}-{}", row.values["name"], row.values["instance-id"]);
            row.values.insert("name", unique);
        }
    }
    if untagged > 0 {
        let tags = app_tags.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(" or ");
        plan.app_notes.insert(
            UNTAGGED.to_owned(),
            format!("# No {tags} tag on these instances: move each under its app, or tag it and run init again."),
        );
        plan.notes.push(format!("{untagged} instance(s) have no {tags} tag: they are under app `{UNTAGGED}`"));
    }
    if !no_address.is_empty() {
        plan.notes.push(format!("left out, no private IPv4 address: {}", no_address.join(", ")));
    }
    if plan.rows.is_empty() {
        return Err(config(anyhow!("none of the instances tagged {key}={value} has a private IPv4 address")));
    }
    Ok(plan)
}

fn app_of<'a>(instance: &'a Instance, tags: &[&str]) -> Option<&'a str> {
    tags.iter().find_map(|t| tag_any_case(instance, t)).filter(|v| !v.trim().is_empty())
}

/// The tag `key`, or failing that one whose key differs only in case (`app` for `App`).
fn tag_any_case<'a>(instance: &'a Instance, key: &str) -> Option<&'a str> {
    instance.tag(key).or_else(|| {
        let tag = instance.tags.iter().find(|t| t.key.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(key)))?;
        tag.value.as_deref()
    })
}

/// A tag value as a wave name: letters, digits, `.`, `_` and `-` kept, every other run of
/// characters one `-`, at most 64 characters (`CRM Web #1` is `CRM-Web-1`).
fn plain_name(text: &str) -> String {
    let mut out = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_start_matches(['.', '-']).trim_end_matches('-');
    out.chars().take(64).collect()
}

/// The wave file's text, and for each line written from a server's value, that row's index
/// and column.
fn wave_text(name: &str, plan: &Plan) -> (String, BTreeMap<usize, (usize, &'static str)>) {
    let mut out = format!(
        "# Written by {}. Review before the first report:\n\
         # - [window]: the span each report looks at;\n\
         # - [networks]: your internal ranges, and on-premises ones (a rule for an on-premises\n\
         #   client is proposed for the narrowest network holding it);\n\
         # - [log-groups]: the flow logs' log groups are discovered from the servers' ENIs, or\n\
         #   give a [source] table for flow-log files or an S3 bucket;\n\
         # - each server's role and os (os sets the client port range NACL return rules open).\n\
         name = {}\n\nsource = \"cloudwatch\"\n\n[window]\nlast = \"24h\"\n\n\
         [networks]\ninternal = [\"10.0.0.0/8\", \"172.16.0.0/12\", \"192.168.0.0/16\"]\n\
         # on-premises = [\"192.168.0.0/16\"]\n\n[log-groups]\ndiscover = true\n{}",
        plan.written_by,
        quoted(name),
        plan.aws,
    );
    // Rows under their app, apps in the order they first appear.
    let mut apps: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, row) in plan.rows.iter().enumerate() {
        let app = row.values["app"].as_str();
        let at = *index.entry(app).or_insert_with(|| {
            apps.push((app, Vec::new()));
            apps.len() - 1
        });
        apps[at].1.push(i);
    }
    let mut origins = BTreeMap::new();
    // The number of the next line written (`out` ends with a newline).
    let mut line = out.lines().count() + 1;
    for (app, servers) in apps {
        out.push('\n');
        line += 1;
        if let Some(note) = plan.app_notes.get(app) {
            let _ = writeln!(out, "{note}");
            line += note.lines().count();
        }
        let _ = write!(out, "[[apps]]\nname = {}\n", quoted(app));
        origins.insert(line + 1, (servers[0], "app"));
        line += 2;
        for i in servers {
            out.push_str("\n[[apps.servers]]\n");
            line += 2;
            for column in COLUMNS.iter().filter(|c| **c != "app") {
                if let Some(value) = plan.rows[i].values.get(column) {
                    let _ = writeln!(out, "{column} = {}", quoted(value));
                    origins.insert(line, (i, *column));
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
