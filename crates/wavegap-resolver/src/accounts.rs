//! Waves across accounts: one [`AwsContext`] per `[[accounts]]` entry (the wave's credentials,
//! the account's region and role), the servers resolved in their accounts, and one inventory
//! merged over all of them, so peerings, shared (RAM) subnets and security groups referenced
//! across accounts are evaluated as in one account.

use wavegap_core::resolution::Resolution;
use wavegap_core::wave::{Account, Server, WaveConfig};

use crate::aws::{AwsContext, ClientSettings};
use crate::ec2json::Snapshot;
use crate::error::Error;
use crate::resolve::{Resolved, Resolver};

/// The clients of every account a wave spans.
#[derive(Debug, Clone)]
pub struct WaveContexts {
    /// The wave's own account (`[aws]`): its S3 bucket, the log groups `[log-groups]` lists,
    /// and every server of a wave without `[[accounts]]`.
    pub wave: AwsContext,
    /// One per `[[accounts]]` entry, in the wave's order.
    pub accounts: Vec<(Account, AwsContext)>,
}

impl WaveContexts {
    /// The wave's context, and one per account with `settings` (the wave's and the command
    /// line's) under the account's region and role. Credentials are checked per account at the
    /// first call ([`WaveContexts::resolve`]).
    pub async fn new(settings: &ClientSettings, wave: &WaveConfig) -> Result<Self, Error> {
        let own = AwsContext::new(settings).await?;
        let mut accounts = Vec::new();
        for account in &wave.accounts {
            let ctx = AwsContext::new(&settings.for_account(account)).await.map_err(|e| in_account(account, e))?;
            accounts.push((account.clone(), ctx));
        }
        Ok(WaveContexts { wave: own, accounts })
    }

    /// Resolves the wave: in its own account, or in each of its accounts the servers placed
    /// there and those placed nowhere, after checking that each account's credentials are of
    /// that account. The snapshots are merged into one inventory (an element two accounts
    /// both see counts once).
    pub async fn resolve(&self, wave: &WaveConfig) -> Result<Resolved, Error> {
        if self.accounts.is_empty() {
            return Resolver::new(&self.wave).resolve(wave).await;
        }
        let queries_logs = !wave.source.reads_objects();
        // The accounts are resolved side by side; their snapshots are merged in wave order.
        let mut tasks = tokio::task::JoinSet::new();
        for (i, (account, ctx)) in self.accounts.iter().enumerate() {
            let in_this = |s: &&Server| !s.on_premises && s.account.as_ref().is_none_or(|a| *a == account.id);
            let servers: Vec<Server> = wave.servers().filter(in_this).cloned().collect();
            let (account, ctx) = (account.clone(), ctx.clone());
            tasks.spawn(async move {
                let found = async {
                    ctx.check_account(&account.id).await?;
                    let resolver = Resolver::new(&ctx);
                    let part = resolver.snapshot(&servers.iter().collect::<Vec<_>>()).await?;
                    if queries_logs {
                        resolver.check_log_groups(&account.log_groups.names).await?;
                    }
                    Ok::<_, Error>(part)
                };
                (i, found.await.map_err(|e| in_account(&account, e)))
            });
        }
        let mut parts: Vec<(usize, Snapshot)> = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (i, part) = joined.map_err(|e| Error::Other { action: "resolve", detail: e.to_string() })?;
            parts.push((i, part?));
        }
        parts.sort_by_key(|(i, _)| *i);
        let mut snapshot = Snapshot::default();
        for (_, part) in parts {
            snapshot.merge(part);
        }
        if queries_logs {
            Resolver::new(&self.wave).check_log_groups(&wave.log_groups.names).await?;
        }
        snapshot.normalize();
        let inventory = snapshot.to_inventory()?;
        Ok(Resolved { snapshot, resolution: Resolution::new(wave, inventory) })
    }
}

fn in_account(account: &Account, e: Error) -> Error {
    Error::InAccount { account: account.label(), problem: Box::new(e) }
}
