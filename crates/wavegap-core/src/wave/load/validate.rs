//! Validation: raw structs → [`WaveConfig`], every problem a located [`WaveError`], all
//! of them collected rather than the first.

#[allow(clippy::wildcard_imports)]
use super::*;

/// The value, or `None` with the error kept in `errors`.
pub(super) fn ok<T>(errors: &mut Vec<WaveError>, result: Result<T, WaveError>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

/// A value with the file and span it came from, for errors after merging two files.
pub(super) struct At<'d, T> {
    pub(super) doc: &'d Doc<'d>,
    pub(super) key: String,
    pub(super) span: Range<usize>,
    pub(super) value: T,
}

impl<T> At<'_, T> {
    pub(super) fn error(&self, kind: K, message: impl Into<String>) -> WaveError {
        self.doc.error(kind, Some(self.span.clone()), self.key.clone(), message)
    }

    pub(super) fn sub<'s, U>(&self, key: String, spanned: &'s Spanned<U>) -> At<'_, &'s U> {
        At { doc: self.doc, key, span: spanned.span(), value: spanned.get_ref() }
    }

    /// The same place and key, holding `value` (a part of this one's value).
    pub(super) fn with<'s, U>(&self, value: &'s U) -> At<'_, &'s U> {
        At { doc: self.doc, key: self.key.clone(), span: self.span.clone(), value }
    }
}

/// The names and addresses taken so far in the wave (by its servers, then its dependencies),
/// each with where it was first taken, for "already on line N" hints.
#[derive(Default)]
pub(super) struct Taken {
    /// Name → the key of its server or dependency (`apps[0].servers[1]`) and the name's line.
    pub(super) names: HashMap<String, (String, usize)>,
    /// Server address → the key of its server, the key of the address, and its line.
    pub(super) addresses: HashMap<IpAddr, (String, String, usize)>,
}

pub(super) fn at<'d, T>(doc: &'d Doc<'d>, key: &str, v: Spanned<T>) -> At<'d, T> {
    let span = v.span();
    At { doc, key: key.to_owned(), span, value: v.into_inner() }
}

/// The validated settings `defaults.toml` may hold.
pub(super) struct Shared<'d> {
    pub(super) aws: AwsSettings,
    pub(super) networks: Networks,
    pub(super) log_groups: LogGroups,
    /// Where `[log-groups]` was, for "no log groups" errors.
    pub(super) log_groups_at: Option<(&'d Doc<'d>, Range<usize>)>,
    pub(super) ephemeral: EphemeralPolicy,
    pub(super) one_way: Vec<OneWay>,
    pub(super) ignore: Vec<IgnoreRule>,
    pub(super) query: QuerySettings,
}

pub(super) struct Loader<'d> {
    pub(super) wave: &'d Doc<'d>,
    pub(super) defaults: &'d Doc<'d>,
    pub(super) base_dir: &'d Path,
    pub(super) look: &'d dyn Fn(&Path) -> PathKind,
}

impl<'d> Loader<'d> {
    /// The wave's value for `key` if it has one, else the defaults' one.
    pub(super) fn pick<T>(
        &self,
        key: &str,
        wave: Option<Spanned<T>>,
        defaults: Option<Spanned<T>>,
    ) -> Option<At<'d, T>> {
        match (wave, defaults) {
            (Some(v), _) => Some(at(self.wave, key, v)),
            (None, Some(v)) => Some(at(self.defaults, key, v)),
            (None, None) => None,
        }
    }

    /// The wave's parts are checked one by one, so a file with a mistake in several parts
    /// (a bad IP address and a bad window) reports them all at once.
    pub(super) fn build(&self, raw: RawWave, defaults: RawDefaults) -> Result<WaveConfig, WaveError> {
        let mut errors = Vec::new();
        let name = ok(&mut errors, self.name(raw.name));
        // The defaults on their own first, so that a mistake there is reported against
        // defaults.toml even when this wave overrides the key.
        if let Err(e) = self.shared(RawDefaults::default(), defaults.clone()) {
            errors.push(e);
            return Err(WaveError::gather(errors).expect("one error at least"));
        }
        let wave_shared = RawDefaults {
            aws: raw.aws,
            networks: raw.networks,
            log_groups: raw.log_groups,
            ephemeral_ports: raw.ephemeral_ports,
            query: raw.query,
            ignore: raw.ignore,
            one_way: raw.one_way,
        };
        let shared = ok(&mut errors, self.shared(wave_shared, defaults));
        let source = ok(&mut errors, self.source(raw.source));
        let accounts =
            shared.as_ref().and_then(|s| ok(&mut errors, self.accounts(raw.accounts, s.log_groups.discover)));
        let account_groups = accounts.iter().flatten().any(|a| !a.log_groups.names.is_empty() || a.log_groups.discover);
        if let (Some(shared), Some(Source::CloudWatch)) = (&shared, &source)
            && shared.log_groups.names.is_empty()
            && !shared.log_groups.discover
            && !account_groups
        {
            let (d, span) = shared.log_groups_at.clone().map_or((self.wave, None), |(d, s)| (d, Some(s)));
            errors.push(
                d.error(K::Missing, span, "log-groups", "no log groups to query")
                    .expected("`names = [\"/vpc/flow-logs\"]`, `discover = true`, or both")
                    .hint(
                        "list the flow-log groups, or set `discover = true` to find them from the servers' flow logs",
                    ),
            );
        }
        let window = shared.as_ref().and_then(|s| ok(&mut errors, self.window(raw.window, &s.query)));
        let apps = shared
            .as_ref()
            .and_then(|s| ok(&mut errors, self.apps(raw.apps, &s.networks, accounts.as_deref().unwrap_or_default())));
        // Checked even when the apps are not valid, against the servers that are known then
        // (none), so that a mistake here is not hidden behind one in the apps.
        let (apps, mut taken) = apps.map_or((None, Taken::default()), |(apps, taken)| (Some(apps), taken));
        let dependencies =
            ok(&mut errors, self.dependencies(raw.dependencies.as_deref().unwrap_or_default(), &mut taken));
        if let Some(e) = WaveError::gather(errors) {
            return Err(e);
        }
        let (Some(name), Some(shared), Some(source), Some(window), Some(apps), Some(dependencies), Some(accounts)) =
            (name, shared, source, window, apps, dependencies, accounts)
        else {
            unreachable!("every part without an error has a value");
        };
        let Shared { aws, networks, log_groups, ephemeral, one_way, ignore, query, .. } = shared;
        let config = WaveConfig {
            name,
            description: raw.description.filter(|d| !d.trim().is_empty()),
            path: self.wave.path.to_path_buf(),
            window,
            aws,
            accounts,
            networks,
            log_groups,
            apps,
            expected_flows: Vec::new(),
            source,
            ephemeral,
            ignore,
            one_way,
            query,
            dependencies,
        };
        let expected_flows = raw
            .expected_flows
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, flow)| self.expected_flow(&config, i, flow))
            .collect::<Result<_, _>>()?;
        Ok(WaveConfig { expected_flows, ..config })
    }

    pub(super) fn name(&self, raw: Option<Spanned<String>>) -> Result<String, WaveError> {
        let doc = self.wave;
        if let Some(name) = raw {
            let name = at(doc, "name", name);
            check_name(&name, "wave name")?;
            return Ok(name.value);
        }
        let stem = doc.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        if !is_name(&stem) {
            return Err(doc
                .error(K::Missing, None, "name", format!("the file name `{stem}` is not a valid wave name"))
                .expected("letters, digits, `.`, `_` and `-` (at most 64)")
                .hint("rename the file, or set `name = \"wave-3\"` at the top"));
        }
        Ok(stem)
    }

    /// The settings `defaults.toml` may hold, each key from the wave if it sets it.
    pub(super) fn shared(&self, raw: RawDefaults, defaults: RawDefaults) -> Result<Shared<'d>, WaveError> {
        let query = self.query(raw.query.unwrap_or_default(), defaults.query.unwrap_or_default())?;
        let aws = self.aws(raw.aws.unwrap_or_default(), defaults.aws.unwrap_or_default())?;
        let networks = self.networks(raw.networks.unwrap_or_default(), defaults.networks.unwrap_or_default())?;
        let log_groups_at = raw.log_groups.as_ref().map(|l| (self.wave, l.span()));
        let log_groups_at = log_groups_at.or_else(|| defaults.log_groups.as_ref().map(|l| (self.defaults, l.span())));
        let log_groups = self.log_groups(
            raw.log_groups.map(Spanned::into_inner).unwrap_or_default(),
            defaults.log_groups.map(Spanned::into_inner).unwrap_or_default(),
        )?;
        let ephemeral = self.ephemeral(raw.ephemeral_ports, defaults.ephemeral_ports)?;
        let one_way = match self.pick("one-way", raw.one_way, defaults.one_way) {
            Some(list) => {
                let mut entries = Vec::new();
                for (i, entry) in list.value.iter().enumerate() {
                    let entry = Self::one_way(&list.sub(format!("one-way[{i}]"), entry))?;
                    if !entries.contains(&entry) {
                        entries.push(entry);
                    }
                }
                entries
            }
            None => default_one_way(),
        };
        let ignore = match self.pick("ignore", raw.ignore, defaults.ignore) {
            Some(list) => list
                .value
                .iter()
                .enumerate()
                .map(|(i, rule)| Self::ignore_rule(&list.sub(format!("ignore[{i}]"), rule)))
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        Ok(Shared { aws, networks, log_groups, log_groups_at, ephemeral, one_way, ignore, query })
    }

    pub(super) fn query(&self, raw: RawQuery, defaults: RawQuery) -> Result<QuerySettings, WaveError> {
        let builtin = QuerySettings::default();
        let int = |key: &str,
                   w: Option<Spanned<i64>>,
                   d: Option<Spanned<i64>>,
                   max: i64,
                   default: usize,
                   what: &str|
         -> Result<usize, WaveError> {
            match self.pick(key, w, d) {
                None => Ok(default),
                Some(v) => {
                    usize::try_from(v.value).ok().filter(|n| (1..=max).contains(&v.value) && *n > 0).ok_or_else(|| {
                        v.error(
                            K::Invalid,
                            format!("{} {} is out of range", key.rsplit('.').next().unwrap_or(key), v.value),
                        )
                        .expected(format!("a whole number from 1 to {max}"))
                        .hint(what.to_owned())
                    })
                }
            }
        };
        let chunk_size = int(
            "query.chunk-size",
            raw.chunk_size,
            defaults.chunk_size,
            50,
            builtin.chunk_size,
            "a Logs Insights query covers at most 50 log groups",
        )?;
        let max_in_flight = int(
            "query.max-in-flight",
            raw.max_in_flight,
            defaults.max_in_flight,
            100,
            builtin.max_in_flight,
            "the account runs at most 100 Logs Insights queries at once, shared with dashboards",
        )?;
        let row_limit = int(
            "query.row-limit",
            raw.row_limit,
            defaults.row_limit,
            10_000,
            builtin.row_limit,
            "Logs Insights returns at most 10,000 rows per query",
        )?;
        let price_per_gb = match self.pick("query.price-per-gb", raw.price_per_gb, defaults.price_per_gb) {
            None => builtin.price_per_gb,
            Some(v) if v.value.is_finite() && v.value >= 0.0 => v.value,
            Some(v) => {
                return Err(v
                    .error(K::Invalid, format!("price-per-gb {} is not a price", v.value))
                    .expected("dollars per GB scanned, such as 0.005"));
            }
        };
        let max_window = match self.pick("query.max-window", raw.max_window, defaults.max_window) {
            None => builtin.max_window,
            Some(v) => parse_duration_at(&v)?,
        };
        let deadline = match self.pick("query.deadline", raw.deadline, defaults.deadline) {
            None => builtin.deadline,
            Some(v) => {
                let d = parse_duration_at(&v)?;
                // Logs Insights ends a query itself after 60 minutes.
                if d > Duration::from_secs(3600) {
                    return Err(v
                        .error(K::Invalid, format!("deadline {} is longer than Logs Insights runs a query", v.value))
                        .expected("a duration up to 60m, such as 20m"));
                }
                d
            }
        };
        Ok(QuerySettings { chunk_size, max_in_flight, row_limit, price_per_gb, max_window, deadline })
    }

    pub(super) fn aws(&self, raw: RawAws, defaults: RawAws) -> Result<AwsSettings, WaveError> {
        let region = self.pick("aws.region", raw.region, defaults.region);
        if let Some(r) = &region {
            check_region(r)?;
        }
        let profile = self.pick("aws.profile", raw.profile, defaults.profile);
        if let Some(p) = &profile
            && (p.value.is_empty() || p.value.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(p
                .error(K::Invalid, format!("invalid profile name {:?}", p.value))
                .expected("a profile name from ~/.aws/config, without spaces")
                .hint("leave `profile` out to use the default credential chain"));
        }
        let role = self.pick("aws.assume-role-arn", raw.assume_role_arn, defaults.assume_role_arn);
        if let Some(r) = &role {
            check_role(r)?;
        }
        let external_id = self.pick("aws.external-id", raw.external_id, defaults.external_id);
        if let Some(e) = &external_id {
            check_external_id(e, role.is_some())?;
        }
        Ok(AwsSettings {
            region: region.map(|r| r.value),
            profile: profile.map(|p| p.value),
            assume_role_arn: role.map(|r| r.value),
            external_id: external_id.map(|e| e.value),
        })
    }

    /// The `[[accounts]]` entries: ids and names unique, each role in its own account, log
    /// groups checked as `[log-groups]` ones are. `discover` defaults to the wave's.
    pub(super) fn accounts(
        &self,
        raw: Option<Vec<Spanned<RawAccount>>>,
        wave_discover: bool,
    ) -> Result<Vec<Account>, WaveError> {
        let mut out: Vec<Account> = Vec::new();
        for (i, entry) in raw.unwrap_or_default().into_iter().enumerate() {
            let key = format!("accounts[{i}]");
            let entry = at(self.wave, &key, entry);
            let a = &entry.value;
            let id = entry.sub(format!("{key}.id"), &a.id);
            if !is_account_id(id.value) {
                return Err(id
                    .error(K::Invalid, format!("invalid account id {:?}", id.value))
                    .expected("the 12-digit AWS account id, such as \"111122223333\"")
                    .hint("`aws sts get-caller-identity` prints the id of the account you are signed in to"));
            }
            if let Some(first) = out.iter().position(|o| o.id == *id.value) {
                return Err(id
                    .error(K::Duplicate, format!("account {} is listed twice", id.value))
                    .hint(format!("it is already `accounts[{first}]`; merge the two entries")));
            }
            let name = match &a.name {
                Some(n) => {
                    let n = entry.sub(format!("{key}.name"), n);
                    check_name(&n, "account name")?;
                    if let Some(first) = out.iter().position(|o| o.name.as_deref() == Some(n.value.as_str())) {
                        return Err(n
                            .error(K::Duplicate, format!("two accounts named `{}`", n.value))
                            .hint(format!("`accounts[{first}]` has that name already; rename one")));
                    }
                    Some(n.value.clone())
                }
                None => None,
            };
            let region = a.region.as_ref().map(|r| entry.sub(format!("{key}.region"), r));
            if let Some(r) = &region {
                check_region(r)?;
            }
            let role = a.assume_role_arn.as_ref().map(|r| entry.sub(format!("{key}.assume-role-arn"), r));
            if let Some(r) = &role {
                check_role(r)?;
                let role_account = r.value.split(':').nth(4).unwrap_or_default();
                if role_account != id.value {
                    return Err(r
                        .error(K::Conflict, format!("the role is in account {role_account}, not in {}", id.value))
                        .hint(format!(
                            "name the role wavegap assumes in account {}, or correct the entry's `id`",
                            id.value
                        )));
                }
            }
            let external_id = a.external_id.as_ref().map(|e| entry.sub(format!("{key}.external-id"), e));
            if let Some(e) = &external_id {
                check_external_id(e, role.is_some())?;
            }
            let names = match &a.log_groups {
                Some(list) => Self::log_group_names(&entry.sub(format!("{key}.log-groups"), list))?,
                None => Vec::new(),
            };
            out.push(Account {
                id: id.value.clone(),
                name,
                region: region.map(|r| r.value.clone()),
                assume_role_arn: role.map(|r| r.value.clone()),
                external_id: external_id.map(|e| e.value.clone()),
                log_groups: LogGroups { names, discover: a.discover.as_ref().map_or(wave_discover, |d| *d.get_ref()) },
            });
        }
        Ok(out)
    }

    pub(super) fn networks(&self, raw: RawNetworks, defaults: RawNetworks) -> Result<Networks, WaveError> {
        let list = |key: &str, v: Option<At<'d, Vec<Spanned<String>>>>| -> Result<Option<Vec<IpNet>>, WaveError> {
            let Some(v) = v else { return Ok(None) };
            let mut nets: Vec<IpNet> = Vec::new();
            for (i, s) in v.value.iter().enumerate() {
                let at = v.sub(format!("{key}[{i}]"), s);
                let net = parse_net_at(&at)?;
                // Proposals open on-premises networks to whole populations of clients: one
                // wider than a /8 (a /32 for IPv6) is half the internet, not a data centre.
                if key == "networks.on-premises" && !crate::wave::is_sane_on_premises(net) {
                    return Err(at
                        .error(K::Invalid, format!("{net} is too wide for an on-premises network"))
                        .expected(format!(
                            "a network of /{} or narrower (IPv6: /{} or narrower)",
                            crate::wave::WIDEST_ON_PREMISES_V4,
                            crate::wave::WIDEST_ON_PREMISES_V6
                        ))
                        .hint("list the data centre's own ranges, such as \"192.168.0.0/16\""));
                }
                if !nets.contains(&net) {
                    nets.push(net);
                }
            }
            Ok(Some(nets))
        };
        let internal_at = self.pick("networks.internal", raw.internal, defaults.internal);
        let internal_span = internal_at.as_ref().map(|v| (v.doc, v.span.clone()));
        let mut internal = list("networks.internal", internal_at)?.unwrap_or_else(default_internal);
        let on_premises =
            list("networks.on-premises", self.pick("networks.on-premises", raw.on_premises, defaults.on_premises))?
                .unwrap_or_default();
        if internal.is_empty() {
            let (doc, span) = internal_span.map_or((self.wave, None), |(d, s)| (d, Some(s)));
            return Err(doc
                .error(K::Invalid, span, "networks.internal", "no internal networks")
                .expected("the CIDRs of your VPCs and data centres, such as [\"10.0.0.0/8\"]")
                .hint("leave `internal` out to use the RFC 1918 ranges"));
        }
        // On-premises networks are ours too: flows to them are never background noise.
        for net in &on_premises {
            if !internal.iter().any(|i| i.contains(net)) {
                internal.push(*net);
            }
        }
        Ok(Networks { internal, on_premises })
    }

    pub(super) fn log_groups(&self, raw: RawLogGroups, defaults: RawLogGroups) -> Result<LogGroups, WaveError> {
        let names = match self.pick("log-groups.names", raw.names, defaults.names) {
            Some(list) => Self::log_group_names(&list.with(&list.value))?,
            None => Vec::new(),
        };
        let discover = self.pick("log-groups.discover", raw.discover, defaults.discover).is_some_and(|d| d.value);
        Ok(LogGroups { names, discover })
    }

    /// A list of log group names (`log-groups.names`, an account's `log-groups`): each valid,
    /// none twice.
    pub(super) fn log_group_names(list: &At<'_, &Vec<Spanned<String>>>) -> Result<Vec<String>, WaveError> {
        let mut names: Vec<String> = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, s) in list.value.iter().enumerate() {
            let v = list.sub(format!("{}[{i}]", list.key), s);
            if let Some(bad) = log_group_problem(v.value) {
                return Err(v
                    .error(K::Invalid, format!("invalid log group name {:?}: {bad}", v.value))
                    .expected("1 to 512 characters of letters, digits and `._-/#`")
                    .hint("copy the name from `aws logs describe-log-groups` or the flow log's destination"));
            }
            if let Some(first) = seen.insert(v.value.as_str(), i) {
                return Err(v
                    .error(K::Duplicate, format!("log group `{}` is listed twice", v.value))
                    .hint(format!("it is already `{}[{first}]`; remove one", list.key)));
            }
            names.push(v.value.clone());
        }
        Ok(names)
    }

    pub(super) fn source(&self, raw: Option<Spanned<RawSource>>) -> Result<Source, WaveError> {
        let Some(raw) = raw else { return Ok(Source::CloudWatch) };
        let whole = at(self.wave, "source", raw);
        let table = match &whole.value {
            RawSource::Text(name) if name == "cloudwatch" => return Ok(Source::CloudWatch),
            RawSource::Text(name) if name == "files" || name == "s3" => {
                return Err(whole
                    .error(K::Invalid, format!("a {name} source needs to say where the flow logs are"))
                    .expected(if name == "files" {
                        "[source] files = \"flowlogs/demo\" (and optionally inventory = \"inventory/demo.json\")"
                    } else {
                        "[source] s3 = \"s3://bucket/prefix/\" (the prefix above `AWSLogs/`)"
                    }));
            }
            RawSource::Text(name) => {
                return Err(whole
                    .error(K::Invalid, format!("unknown source `{name}`"))
                    .expected("\"cloudwatch\", or a [source] table with `files` or `s3`"));
            }
            RawSource::Table(table) => table,
        };
        let kind = table.kind.as_ref().map(|k| whole.sub("source.type".to_owned(), k));
        let files = table.files.as_ref().map(|f| whole.sub("source.files".to_owned(), f));
        let s3 = table.s3.as_ref().map(|f| whole.sub("source.s3".to_owned(), f));
        let inventory = table.inventory.as_ref().map(|i| whole.sub("source.inventory".to_owned(), i));
        let kind = match &kind {
            Some(k) if ["cloudwatch", "files", "s3"].contains(&k.value.as_str()) => Some(k),
            Some(k) => {
                return Err(k
                    .error(K::Invalid, format!("unknown source type `{}`", k.value))
                    .expected("\"cloudwatch\", \"files\" or \"s3\""));
            }
            None => None,
        };
        if kind.is_some_and(|k| k.value == "cloudwatch") {
            if let Some(v) = files.as_ref().or(s3.as_ref()) {
                let key = v.key.trim_start_matches("source.");
                return Err(v.error(K::Conflict, format!("more than one source: `type = \"cloudwatch\"` and `{key}`")).hint(
                    "a wave reads from one source: remove `files`, `s3` and `inventory`, or drop `type = \"cloudwatch\"`",
                ));
            }
            if let Some(i) = &inventory {
                return Err(i
                    .error(K::Conflict, "`inventory` only goes with a files or S3 source")
                    .hint("a CloudWatch wave resolves its servers with the EC2 API: remove `inventory`"));
            }
            return Ok(Source::CloudWatch);
        }
        if let (Some(_), Some(b)) = (&files, &s3) {
            return Err(b
                .error(K::Conflict, "more than one source: `files` and `s3`")
                .hint("a wave reads from one source: keep `files` (a directory on disk) or `s3` (a bucket)"));
        }
        if let Some(k) = kind {
            let named = if files.is_some() { "files" } else { "s3" };
            if (files.is_some() || s3.is_some()) && k.value != named {
                return Err(k
                    .error(K::Conflict, format!("`type = \"{}\"` with `{named}`", k.value))
                    .hint(format!("drop `type`, or set it to \"{named}\"")));
            }
        }
        // `what` names the path for the error.
        let path = |v: &At<'_, &String>, what: &str| -> Result<PathBuf, WaveError> {
            if v.value.trim().is_empty() {
                return Err(v
                    .error(K::Invalid, "empty path")
                    .expected("a path, relative to the wave file's directory or absolute"));
            }
            let path = self.base_dir.join(v.value);
            match (self.look)(&path) {
                PathKind::Missing => Err(v
                    .error(K::Invalid, format!("`{}` does not exist", path.display()))
                    .expected(format!("{what}, relative to the wave file's directory or absolute"))),
                PathKind::Other => Err(v
                    .error(K::Invalid, format!("`{}` is not a regular file or directory", path.display()))
                    .expected(format!("{what}, not a device, FIFO or socket"))),
                PathKind::Dir | PathKind::File => Ok(path),
            }
        };
        let dir = files.map(|f| path(&f, "the flow-log files (a directory, or one file)")).transpose()?;
        let location = s3
            .map(|url| {
                S3Location::parse(url.value).map_err(|e| {
                    url.error(K::Invalid, e).expected("`s3 = \"s3://bucket/prefix/\"`: the prefix above `AWSLogs/`")
                })
            })
            .transpose()?;
        let inventory = inventory
            .map(|i| {
                path(
                    &i,
                    "the inventory snapshot (a JSON file written by `wavegap inventory`, or a directory of \
                     `aws ec2 describe-… --output json` outputs)",
                )
            })
            .transpose()?;
        match (dir, location) {
            (Some(dir), _) => Ok(Source::Files { dir, inventory }),
            (None, Some(location)) => Ok(Source::S3 { location, inventory }),
            (None, None) => Err(whole
                .error(K::Missing, "a [source] table without `files` or `s3`")
                .expected(
                    "`files = \"flowlogs/demo\"` (a directory of flow-log files) or `s3 = \"s3://bucket/prefix/\"`",
                )
                .hint("or use `source = \"cloudwatch\"` to query CloudWatch Logs")),
        }
    }

    pub(super) fn window(
        &self,
        raw: Option<Spanned<RawWindow>>,
        query: &QuerySettings,
    ) -> Result<WindowSpec, WaveError> {
        let Some(raw) = raw else {
            return Err(self
                .wave
                .error(K::Missing, None, "window", "missing [window]")
                .expected("`[window]` with `last = \"24h\"`, or `start` and `end` (RFC 3339)")
                .hint("add `[window]` and `last = \"24h\"` to look at the day before each run"));
        };
        let whole = at(self.wave, "window", raw);
        let max = query.max_window;
        let too_long = |v: &dyn Fn(K, String) -> WaveError, secs: u64| {
            v(
                K::Invalid,
                format!("window of {} is longer than the maximum of {}", format_secs(secs), format_secs(max.as_secs())),
            )
            .hint("shorten the window, or raise `max-window` under [query] (every hour scanned costs money)")
        };
        let start = whole.value.start.as_ref().map(|s| whole.sub("window.start".to_owned(), s));
        let end = whole.value.end.as_ref().map(|e| whole.sub("window.end".to_owned(), e));
        if let Some(last) = whole.value.last.as_ref().map(|l| whole.sub("window.last".to_owned(), l)) {
            if let Some(other) = start.as_ref().or(end.as_ref()) {
                return Err(other
                    .error(K::Conflict, "`last` together with `start`/`end`")
                    .hint("give either `last = \"24h\"` or both `start` and `end`"));
            }
            let d = parse_duration_at(&last)?;
            if d > max {
                return Err(too_long(&|k, m| last.error(k, m), d.as_secs()));
            }
            return Ok(WindowSpec::Last(d));
        }
        let (start, end) = match (start, end) {
            (Some(s), Some(e)) => (s, e),
            (None, None) => {
                return Err(whole
                    .error(K::Missing, "empty [window]")
                    .expected("`last = \"24h\"`, or `start` and `end` (RFC 3339)"));
            }
            (Some(_), None) => {
                return Err(whole
                    .error(K::Missing, "`start` without `end`")
                    .expected("`end = \"2026-11-21T00:00:00Z\"`"));
            }
            (None, Some(_)) => {
                return Err(whole
                    .error(K::Missing, "`end` without `start`")
                    .expected("`start = \"2026-11-20T00:00:00Z\"`"));
            }
        };
        let s = parse_time_at(&start)?;
        let e = parse_time_at(&end)?;
        if e == s {
            return Err(end
                .error(K::Invalid, "the window is empty: `end` is the same instant as `start`")
                .expected("an `end` later than `start`")
                .hint("check the dates and their UTC offsets"));
        }
        if e < s {
            return Err(end
                .error(K::Invalid, "the window ends before it starts")
                .expected("an `end` later than `start`")
                .hint("check the dates and their UTC offsets"));
        }
        let secs = u64::try_from(e - s).unwrap_or(u64::MAX);
        if secs > max.as_secs() {
            return Err(too_long(&|k, m| end.error(k, m), secs));
        }
        Ok(WindowSpec::Absolute(TimeWindow { start: s, end: e }))
    }

    pub(super) fn ephemeral(
        &self,
        raw: Option<Spanned<RawEphemeral>>,
        defaults: Option<Spanned<RawEphemeral>>,
    ) -> Result<EphemeralPolicy, WaveError> {
        let (w, d) =
            (raw.map(Spanned::into_inner).unwrap_or_default(), defaults.map(Spanned::into_inner).unwrap_or_default());
        let builtin = EphemeralPolicy::default();
        let port = |v: Option<At<'d, i64>>, default: u16| -> Result<(u16, Option<At<'d, i64>>), WaveError> {
            match v {
                None => Ok((default, None)),
                Some(v) => match u16::try_from(v.value).ok().filter(|p| *p > 0) {
                    Some(p) => Ok((p, Some(v))),
                    None => Err(v
                        .error(K::Invalid, format!("port {} is out of range", v.value))
                        .expected("a port from 1 to 65535")),
                },
            }
        };
        let (from, _) = port(self.pick("ephemeral-ports.from", w.from, d.from), builtin.from)?;
        let (to, to_at) = port(self.pick("ephemeral-ports.to", w.to, d.to), builtin.to)?;
        if from > to {
            let err = |k, m: String| match &to_at {
                Some(at) => at.error(k, m),
                None => self.wave.error(k, None, "ephemeral-ports", m),
            };
            return Err(err(K::Invalid, format!("ephemeral range {from}-{to} is empty"))
                .expected("`from` no greater than `to`, such as 1024-65535"));
        }
        Ok(EphemeralPolicy { from, to })
    }

    /// `"udp/514"`, or a table with `service` and an optional `peer` network.
    pub(super) fn one_way(entry: &At<'_, &RawOneWay>) -> Result<OneWay, WaveError> {
        match entry.value {
            RawOneWay::Text(text) => Ok(OneWay { service: parse_service_at(&entry.with(text))?, peer: None }),
            RawOneWay::Table(table) => {
                let service = parse_service_at(&entry.sub(format!("{}.service", entry.key), &table.service))?;
                let peer = table
                    .peer
                    .as_ref()
                    .map(|p| parse_net_at(&entry.sub(format!("{}.peer", entry.key), p)))
                    .transpose()?;
                Ok(OneWay { service, peer })
            }
        }
    }

    pub(super) fn ignore_rule(rule: &At<'_, &RawIgnore>) -> Result<IgnoreRule, WaveError> {
        let raw = rule.value;
        let network = parse_net_at(&rule.sub(format!("{}.network", rule.key), &raw.network))?;
        let service = raw
            .service
            .as_ref()
            .map(|s| parse_service_at(&rule.sub(format!("{}.service", rule.key), s)))
            .transpose()?;
        let reason = rule.sub(format!("{}.reason", rule.key), &raw.reason);
        if reason.value.trim().is_empty() {
            return Err(reason
                .error(K::Invalid, "empty reason")
                .hint("say why this traffic is ignored, for the next reader"));
        }
        Ok(IgnoreRule { network, service, reason: reason.value.clone() })
    }

    /// The apps and their servers, and the names and addresses the servers took (for the
    /// dependencies' checks).
    pub(super) fn apps(
        &self,
        raw: Option<Spanned<Vec<Spanned<RawApp>>>>,
        networks: &Networks,
        accounts: &[Account],
    ) -> Result<(Vec<App>, Taken), WaveError> {
        let Some(raw) = raw else {
            return Err(self
                .wave
                .error(K::Missing, None, "apps", "a wave without apps")
                .expected("at least one `[[apps]]` table with `name` and `[[apps.servers]]`")
                .hint("add `[[apps]]` with a `name`, then `[[apps.servers]]` with `name` and `ip`"));
        };
        let list = at(self.wave, "apps", raw);
        if list.value.is_empty() {
            return Err(list
                .error(K::Missing, "empty apps list")
                .expected("at least one `[[apps]]` table")
                .hint("add `[[apps]]` with a `name`, then `[[apps.servers]]` with `name` and `ip`"));
        }
        let mut app_names: HashMap<String, (usize, usize)> = HashMap::new();
        let mut taken = Taken::default();
        let mut apps = Vec::new();
        for (i, raw_app) in list.value.iter().enumerate() {
            let app_at = list.sub(format!("apps[{i}]"), raw_app);
            let app = raw_app.get_ref();
            let name = app_at.sub(format!("apps[{i}].name"), &app.name);
            check_name(&name, "app name")?;
            let line = self.wave.line(&name.span);
            if let Some((first, first_line)) = app_names.insert(name.value.clone(), (i, line)) {
                return Err(name.error(K::Duplicate, format!("two apps named `{}`", name.value)).hint(format!(
                    "`apps[{first}]` on line {first_line} has that name already; rename one or merge them"
                )));
            }
            let Some(servers) = &app.servers else {
                return Err(app_at
                    .error(K::Missing, format!("app `{}` has no servers", name.value))
                    .expected("at least one `[[apps.servers]]` with `name` and `ip` after this `[[apps]]`"));
            };
            let app_account = match &app.account {
                Some(a) => Some(account_ref(&app_at.sub(format!("apps[{i}].account"), a), accounts)?),
                None => None,
            };
            let servers_at = app_at.sub(format!("apps[{i}].servers"), servers);
            if servers_at.value.is_empty() {
                return Err(servers_at
                    .error(K::Missing, format!("app `{}` has no servers", name.value))
                    .expected("at least one `[[apps.servers]]` with `name` and `ip`"));
            }
            let mut out = Vec::new();
            for (j, raw_server) in servers_at.value.iter().enumerate() {
                let key = format!("apps[{i}].servers[{j}]");
                let s = raw_server.get_ref();
                let sname = app_at.sub(format!("{key}.name"), &s.name);
                check_name(&sname, "server name")?;
                let sline = self.wave.line(&sname.span);
                if let Some((first, first_line)) = taken.names.insert(sname.value.clone(), (key.clone(), sline)) {
                    return Err(sname
                        .error(K::Duplicate, format!("two servers named `{}`", sname.value))
                        .hint(format!("`{first}` on line {first_line} has that name already; server names are unique across the wave's apps")));
                }
                let ip = self.server_address(&app_at.sub(format!("{key}.ip"), &s.ip), &key, networks, &mut taken)?;
                let ips = s
                    .ips
                    .iter()
                    .flatten()
                    .enumerate()
                    .map(|(k, a)| {
                        self.server_address(&app_at.sub(format!("{key}.ips[{k}]"), a), &key, networks, &mut taken)
                    })
                    .collect::<Result<_, _>>()?;
                let instance_id = match &s.instance_id {
                    Some(id) => {
                        let id = app_at.sub(format!("{key}.instance-id"), id);
                        if !is_instance_id(id.value) {
                            return Err(id
                                .error(K::Invalid, format!("invalid instance id {:?}", id.value))
                                .expected("\"i-\" and 8 or 17 hexadecimal digits, such as \"i-0abc123def4567890\""));
                        }
                        Some(id.value.clone())
                    }
                    None => None,
                };
                let role = match &s.role {
                    Some(r) if r.get_ref().trim().is_empty() => {
                        return Err(app_at
                            .sub(format!("{key}.role"), r)
                            .error(K::Invalid, "empty role")
                            .expected("a role such as \"web\", \"app\" or \"db\", or no `role` key"));
                    }
                    Some(r) => Some(r.get_ref().trim().to_owned()),
                    None => None,
                };
                let os = match &s.os {
                    Some(os) => {
                        let os = app_at.sub(format!("{key}.os"), os);
                        Some(match os.value.as_str() {
                            "linux" => Os::Linux,
                            "windows" => Os::Windows,
                            "windows-legacy" => Os::WindowsLegacy,
                            other => {
                                return Err(os
                                    .error(K::Invalid, format!("unknown os `{other}`"))
                                    .expected("\"linux\", \"windows\" or \"windows-legacy\" (Windows Server 2003 and older)")
                                    .hint("the OS picks the ephemeral port range for NACL return rules; leave it out if unsure"));
                            }
                        })
                    }
                    None => None,
                };
                let account = match &s.account {
                    Some(a) => Some(account_ref(&app_at.sub(format!("{key}.account"), a), accounts)?),
                    None => app_account.clone(),
                };
                out.push(Server {
                    account,
                    name: sname.value.clone(),
                    app: name.value.clone(),
                    ip,
                    ips,
                    instance_id,
                    role,
                    os,
                    on_premises: s.on_premises.unwrap_or(false),
                });
            }
            apps.push(App {
                name: name.value.clone(),
                description: app.description.clone().filter(|d| !d.trim().is_empty()),
                servers: out,
            });
        }
        Ok((apps, taken))
    }

    /// One address of the server at `server` (its `ip` or one of its `ips`): an IP address
    /// that no other server of the wave has and the server does not list twice, inside the
    /// internal networks.
    pub(super) fn server_address(
        &self,
        v: &At<'_, &String>,
        server: &str,
        networks: &Networks,
        taken: &mut Taken,
    ) -> Result<IpAddr, WaveError> {
        let ip = parse_ip_at(v, "a server", "write the server's private IP address")?;
        let line = self.wave.line(&v.span);
        if let Some((first, first_key, first_line)) =
            taken.addresses.insert(ip, (server.to_owned(), v.key.clone(), line))
        {
            return Err(if first != server {
                v.error(K::Duplicate, format!("two servers with address {ip}")).hint(format!(
                    "`{first}` on line {first_line} has that address already; each server appears once per wave"
                ))
            } else if first_key == format!("{server}.ip") {
                v.error(K::Duplicate, format!("`ips` repeats the server's `ip` {ip}")).hint(format!(
                    "`{first_key}` on line {first_line} is that address; `ips` holds the server's other addresses"
                ))
            } else {
                v.error(K::Duplicate, format!("{ip} is listed twice in `ips`"))
                    .hint(format!("`{first_key}` on line {first_line} has that address already; remove one"))
            });
        }
        if !networks.internal.iter().any(|n| n.contains(&ip)) {
            return Err(v
                .error(K::Invalid, format!("{ip} is outside every internal network"))
                .expected(format!(
                    "an address in {}",
                    networks.internal.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                ))
                .hint("add its network to `internal` (or `on-premises`) under [networks]"));
        }
        Ok(ip)
    }

    /// Things outside the wave, named for reports: names unique across the servers and the
    /// dependencies, addresses that are no server's and unique among the dependencies.
    pub(super) fn dependencies(
        &self,
        raw: &[Spanned<RawDependency>],
        taken: &mut Taken,
    ) -> Result<Vec<Dependency>, WaveError> {
        let mut addresses: HashMap<IpAddr, (String, usize)> = HashMap::new();
        let mut out = Vec::new();
        for (i, raw_dep) in raw.iter().enumerate() {
            let key = format!("dependencies[{i}]");
            let dep_at = At { doc: self.wave, key: key.clone(), span: raw_dep.span(), value: raw_dep.get_ref() };
            let d = raw_dep.get_ref();
            let name = dep_at.sub(format!("{key}.name"), &d.name);
            check_name(&name, "dependency name")?;
            let line = self.wave.line(&name.span);
            if let Some((first, first_line)) = taken.names.insert(name.value.clone(), (key.clone(), line)) {
                let message = if first.starts_with("dependencies") {
                    format!("two dependencies named `{}`", name.value)
                } else {
                    format!("`{}` is a server of the wave already", name.value)
                };
                return Err(name.error(K::Duplicate, message).hint(format!(
                    "`{first}` on line {first_line} has that name already; names are unique across servers and dependencies"
                )));
            }
            let ip_at = dep_at.sub(format!("{key}.ip"), &d.ip);
            let ip = parse_ip_at(&ip_at, "a dependency", "write the dependency's IP address")?;
            if let Some((server, _, server_line)) = taken.addresses.get(&ip) {
                return Err(ip_at.error(K::Duplicate, format!("{ip} is an address of a server of the wave")).hint(
                    format!(
                        "`{server}` on line {server_line} has that address; a dependency is outside the wave: remove one of them"
                    ),
                ));
            }
            let ip_line = self.wave.line(&ip_at.span);
            if let Some((first, first_line)) = addresses.insert(ip, (key.clone(), ip_line)) {
                return Err(ip_at
                    .error(K::Duplicate, format!("two dependencies with address {ip}"))
                    .hint(format!("`{first}` on line {first_line} has that address already; merge them")));
            }
            out.push(Dependency {
                name: name.value.clone(),
                ip,
                note: d.note.clone().filter(|n| !n.trim().is_empty()),
            });
        }
        Ok(out)
    }

    pub(super) fn expected_flow(
        &self,
        wave: &WaveConfig,
        i: usize,
        raw: &Spanned<RawExpectedFlow>,
    ) -> Result<ExpectedFlow, WaveError> {
        let key = format!("expected-flows[{i}]");
        let flow = At { doc: self.wave, key: key.clone(), span: raw.span(), value: raw.get_ref() };
        let f = raw.get_ref();
        let endpoint = |end: &str, s: &Spanned<String>| -> Result<Endpoint, WaveError> {
            let v = flow.sub(format!("{key}.{end}"), s);
            let text = v.value.trim();
            if let Some(server) = wave.servers().find(|srv| srv.name == text) {
                return Ok(Endpoint::Server(server.name.clone()));
            }
            // A dependency stands for its address: it is never in scope, only named.
            if let Some(dep) = wave.dependencies.iter().find(|d| d.name == text) {
                return Ok(Endpoint::Network(IpNet::from(dep.ip)));
            }
            if let Ok(ip) = text.parse::<IpAddr>() {
                return Ok(match wave.server_by_ip(ip) {
                    Some(server) => Endpoint::Server(server.name.clone()),
                    None => Endpoint::Network(IpNet::from(ip)),
                });
            }
            if text.contains('/') {
                return parse_net_at(&v).map(Endpoint::Network);
            }
            let mut names: Vec<&str> = wave.servers().map(|s| s.name.as_str()).collect();
            names.sort_unstable();
            let mut dependencies: Vec<&str> = wave.dependencies.iter().map(|d| d.name.as_str()).collect();
            dependencies.sort_unstable();
            let err = v.error(K::Invalid, format!("unknown server `{text}`"));
            let (err, list) = if dependencies.is_empty() {
                (
                    err.expected("a server name of this wave, an IP address or a CIDR"),
                    format!("the wave's servers are: {}", names.join(", ")),
                )
            } else {
                (
                    err.expected("a server or dependency name of this wave, an IP address or a CIDR"),
                    format!(
                        "the wave's servers are: {}; its dependencies: {}",
                        names.join(", "),
                        dependencies.join(", ")
                    ),
                )
            };
            let every: Vec<&str> = names.iter().chain(&dependencies).copied().collect();
            Err(match closest(text, &every) {
                Some(best) => err.hint(format!("did you mean `{best}`?")),
                None => err.hint(list),
            })
        };
        let src = endpoint("from", &f.from)?;
        let dst = endpoint("to", &f.to)?;
        if matches!((&src, &dst), (Endpoint::Network(_), Endpoint::Network(_))) {
            return Err(flow
                .error(K::Invalid, "an expected flow between two networks")
                .expected("a server of this wave at one end at least")
                .hint("name the server by its `name` in `from` or `to`"));
        }
        let service = parse_service_at(&flow.sub(format!("{key}.service"), &f.service))?;
        Ok(ExpectedFlow { src, dst, protocol: service.protocol, port: service.port })
    }
}

/// The id of the account `v` names (by id or by name) among the wave's `[[accounts]]`.
fn account_ref(v: &At<'_, &String>, accounts: &[Account]) -> Result<String, WaveError> {
    let text = v.value.trim();
    if let Some(a) = accounts.iter().find(|a| a.id == text || a.name.as_deref() == Some(text)) {
        return Ok(a.id.clone());
    }
    let err = v
        .error(K::Invalid, format!("account `{text}` is not among the wave's accounts"))
        .expected("the id or name of an `[[accounts]]` entry");
    let known: Vec<&str> =
        accounts.iter().flat_map(|a| std::iter::once(a.id.as_str()).chain(a.name.as_deref())).collect();
    Err(match closest(text, &known) {
        Some(best) => err.hint(format!("did you mean `{best}`?")),
        None if known.is_empty() => {
            err.hint("list the account in `[[accounts]]` with its `id` (and `assume-role-arn`), or leave `account` out")
        }
        None => err.hint(format!("the wave's accounts are: {}", known.join(", "))),
    })
}
